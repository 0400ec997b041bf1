"""Turning a plugin's configured settings into constructor keyword arguments, with errors that name the field.

A plugin's ``config_model`` (pydantic model or dataclass) validates first; the validated values are then
passed to the plugin's constructor as keyword arguments, one per field. Fields are passed as validated
objects (a nested model stays a model, a ``Path`` stays a ``Path``) rather than through ``model_dump()``,
which would turn nested models back into dicts the constructor would have to re-validate.

Unknown keys are refused even when the model would ignore them: a silently ignored ``max_byte`` typo is the
most common way a logging setup goes quietly wrong.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Mapping
from typing import Any

from fapilog.errors import ConfigError, PluginLoadError, PluginValidationError
from fapilog.plugins.metadata import _is_pydantic_model
from fapilog.settings import coerce_setting as _coerce

__all__ = ["instantiate", "validate_settings"]


def _unknown(plugin: str, key: str, accepted: list[str]) -> ConfigError:
    listed = ", ".join(accepted) or "(none: this plugin takes no settings)"
    return ConfigError(f"plugin {plugin!r}: field {key!r}: unknown setting; accepted fields: {listed}", field=key)


def _from_pydantic(plugin: str, model: type[Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    from pydantic import ValidationError

    accepted: list[str] = []
    for field_name, info in model.model_fields.items():
        accepted.append(field_name)
        if isinstance(info.alias, str):
            accepted.append(info.alias)
    if model.model_config.get("extra") != "allow":
        for key in settings:
            if key not in accepted:
                raise _unknown(plugin, key, accepted)
    try:
        validated = model.model_validate(dict(settings))
    except ValidationError as exc:
        problems = [(".".join(str(part) for part in err["loc"]), err["msg"]) for err in exc.errors()]
        detail = "; ".join(f"field {loc!r}: {msg}" for loc, msg in problems)
        raise ConfigError(f"plugin {plugin!r}: {detail}", field=problems[0][0] if problems else None) from exc
    kwargs = {field_name: getattr(validated, field_name) for field_name in model.model_fields}
    kwargs.update(validated.model_extra or {})
    return kwargs


def _from_dataclass(plugin: str, model: type[Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    fields = [f for f in dataclasses.fields(model) if f.init]
    accepted = [f.name for f in fields]
    for key in settings:
        if key not in accepted:
            raise _unknown(plugin, key, accepted)
    for f in fields:
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in settings:
            raise ConfigError(f"plugin {plugin!r}: field {f.name!r}: required setting is missing", field=f.name)
    values = dict(settings)
    hints = _hints(model)
    for name, value in settings.items():
        hint = hints.get(name)
        if hint is not None and _is_simple(hint):
            try:  # the plugin's own convention for its fields' paths: "<plugin>.<field>" (level.level)
                values[name] = _coerce(value, hint, f"{plugin}.{name}")
            except ConfigError as exc:
                raise ConfigError(f"plugin {plugin!r}: {exc}", field=name, code=exc.code) from exc
    try:
        validated = model(**values)
    except ConfigError as exc:  # the dataclass's own checks, naming their field
        raise ConfigError(f"plugin {plugin!r}: {exc}", field=exc.field, code=exc.code) from exc
    except (TypeError, ValueError) as exc:  # raised by the dataclass's own __post_init__ checks
        raise ConfigError(f"plugin {plugin!r}: invalid settings: {exc}") from exc
    return {name: getattr(validated, name) for name in accepted}


def _hints(model: type[Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(model)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the model's own checks are all there is
        return {}


_SIMPLE = (int, float, bool, str, type(None))


def _is_simple(hint: Any) -> bool:
    """Whether ``hint`` is built only of int, float, bool, str, None and literals: those the core's own settings
    parser checks and converts (``"5"`` from an environment variable is 5; ``"lots"`` is an error)."""
    if hint in _SIMPLE:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        return all(arg in _SIMPLE for arg in typing.get_args(hint))
    return False


def validate_settings(plugin: str, model: type[Any] | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``settings`` with ``model`` (pydantic or dataclass) and return constructor kwargs.

    With no model the settings are returned unchanged; the constructor's signature is the contract then.
    Raises :class:`~fapilog.errors.ConfigError` naming the plugin and the first offending field.
    """
    if model is None:
        return dict(settings)
    if _is_pydantic_model(model):
        return _from_pydantic(plugin, model, settings)
    return _from_dataclass(plugin, model, settings)


def _describe(signature: inspect.Signature) -> str:
    shown: list[str] = []
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            shown.append(f"**{p.name}")
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and (p.default is p.empty or not callable(p.default)):
            # (a parameter defaulting to a function, such as a test clock, is a code hook, not a setting)
            shown.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(shown) or "(none)"


def _check_call(plugin: str, cls: type[Any], kwargs: Mapping[str, Any], *, from_model: bool) -> str:
    """Check ``cls(**kwargs)`` would bind, before calling it; returns the accepted parameters for messages."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # some extension types have no introspectable signature
        return "(unknown)"
    accepted = _describe(signature)
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    problem: tuple[str, str] | None = None
    for key in kwargs:
        if not takes_any and (key not in params or params[key].kind is params[key].POSITIONAL_ONLY):
            problem = (key, "unknown setting")
            break
    if problem is None:
        for p in params.values():
            fillable = p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
            if fillable and p.default is p.empty and p.name not in kwargs:
                problem = (p.name, "required setting is missing")
                break
    if problem is None:
        return accepted
    if from_model:
        raise PluginValidationError(
            f"plugin {plugin!r}: its config_model does not match its constructor (parameter "
            f"{problem[0]!r}: {problem[1]}); constructor accepts: {accepted}. This is a bug in the plugin.",
            plugin=plugin,
        )
    raise ConfigError(
        f"plugin {plugin!r}: field {problem[0]!r}: {problem[1]}; accepted parameters: {accepted}",
        field=problem[0],
    )


def instantiate(plugin: str, cls: type[Any], model: type[Any] | None, settings: Mapping[str, Any]) -> object:
    """Validate ``settings`` and construct ``cls`` with them.

    Settings problems are :class:`~fapilog.errors.ConfigError`; a ``TypeError``/``ValueError`` from the
    constructor is treated as one too (it is almost always a wrong value), anything else is a
    :class:`~fapilog.errors.PluginLoadError`. The original exception is always chained.
    """
    kwargs = validate_settings(plugin, model, settings)
    accepted = _check_call(plugin, cls, kwargs, from_model=model is not None)
    try:
        return cls(**kwargs)
    except ConfigError as exc:  # the plugin's own check, naming its field
        raise ConfigError(f"plugin {plugin!r}: {exc}; accepted parameters: {accepted}", field=exc.field,
                          code=exc.code) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"plugin {plugin!r}: invalid settings: {type(exc).__name__}: {exc}; accepted parameters: {accepted}"
        ) from exc
    except Exception as exc:
        raise PluginLoadError(
            f"plugin {plugin!r}: creating {cls.__qualname__} failed: {type(exc).__name__}: {exc} "
            "(the cause is chained below)",
            plugin=plugin,
        ) from exc
