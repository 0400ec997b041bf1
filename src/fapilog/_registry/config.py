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
import typing
from collections.abc import Mapping
from typing import Any

from fapilog._coercion import build, fields_of
from fapilog._constraints import setting_error
from fapilog.errors import ConfigError, FapilogError, PluginLoadError, PluginValidationError
from fapilog.plugins.metadata import _is_pydantic_model

__all__ = ["in_plugin", "instantiate", "validate_settings"]


def _unknown(plugin: str, key: str, accepted: list[str]) -> ConfigError:
    listed = ", ".join(accepted) or "(none: this plugin takes no settings)"
    return setting_error(key, f"unknown setting; accepted fields: {listed}", shown=f"plugin {plugin!r}: field {key!r}")


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
        raise ConfigError(f"plugin {plugin!r}: {detail}", field=problems[0][0] if problems else None,
                          code="FL-CFG-001") from exc
    except FapilogError:
        raise  # the plugin's own error class: the builder puts the location in front, keeping its code
    except Exception as exc:  # a validator raising what pydantic passes through (a KeyError): a bug in the plugin
        raise _model_failed(plugin, model, exc) from exc
    kwargs = {field_name: getattr(validated, field_name) for field_name in model.model_fields}
    kwargs.update(validated.model_extra or {})
    return kwargs


def _from_dataclass(plugin: str, model: type[Any], settings: Mapping[str, Any]) -> Any:
    """The validated model instance: the engine checks every field against its annotation and constraints."""
    try:
        return build(model, settings, root=plugin)
    except ConfigError:
        raise  # already names the plugin and the field
    except FapilogError:
        raise  # the plugin's own error class: the builder puts the location in front, keeping its code
    except (TypeError, ValueError) as exc:  # raised by the dataclass's own __post_init__ checks
        raise ConfigError(f"plugin {plugin!r}: invalid settings: {exc}", code="FL-CFG-001") from exc
    except Exception as exc:  # any other failure of the model's own code is a bug in the plugin, as in its constructor
        raise _model_failed(plugin, model, exc) from exc


def _model_failed(plugin: str, model: type[Any], exc: Exception) -> PluginLoadError:
    return PluginLoadError(
        f"plugin {plugin!r}: checking its settings with {model.__qualname__} failed: {type(exc).__name__}: {exc} "
        "(the cause is chained below)",
        plugin=plugin,
        code="FL-IMP-006",
    )


def validate_settings(plugin: str, model: type[Any] | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``settings`` with ``model`` (pydantic or dataclass) and return constructor kwargs.

    With no model the settings are returned unchanged; the constructor's signature is the contract then.
    Raises :class:`~fapilog.errors.ConfigError` naming the plugin and the first offending field.
    """
    if model is None:
        return dict(settings)
    if _is_pydantic_model(model):
        return _from_pydantic(plugin, model, settings)
    validated = _from_dataclass(plugin, model, settings)
    return {name: getattr(validated, name) for name, _, _ in fields_of(model)}


def _takes_model(cls: type[Any], model: type[Any]) -> bool:
    """Whether ``cls``'s constructor takes the validated model itself: its first parameter is annotated with
    the model (``def __init__(self, settings: RateLimitSettings | None = None, /, ...)``)."""
    init = cls.__init__
    try:
        first = next(iter(inspect.signature(cls).parameters.values()), None)
        hints = typing.get_type_hints(init)
    except (TypeError, ValueError, NameError):
        return False
    if first is None or first.kind not in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD):
        return False
    hint = hints.get(first.name)
    return hint is model or model in typing.get_args(hint)


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
            code="FL-VAL-002",
        )
    raise ConfigError(
        f"plugin {plugin!r}: field {problem[0]!r}: {problem[1]}; accepted parameters: {accepted}",
        field=problem[0],
        code="FL-CFG-001",
    )


def in_plugin(exc: ConfigError, plugin: str, accepted: str | None = None) -> ConfigError:
    """``exc`` (raised by a plugin's own code) as the user sees it: behind ``plugin 'name': `` unless its message
    already names the plugin (``rate_limit.rate: ...``), with ``.field`` kept."""
    text = str(exc)
    named = text.startswith((f"{plugin}.", f"{plugin}:", f"plugin {plugin!r}"))
    message = text if named else f"plugin {plugin!r}: {text}"
    if accepted is not None and not named:
        message += f"; accepted parameters: {accepted}"
    return ConfigError(message, field=exc.field, code=exc.code)


def instantiate(plugin: str, cls: type[Any], model: type[Any] | None, settings: Mapping[str, Any]) -> object:
    """Validate ``settings`` and construct ``cls`` with them.

    A dataclass ``config_model`` is checked by the validation engine; a constructor whose first parameter is
    annotated with that model receives the validated model, any other gets its fields as keyword arguments.
    Settings problems are :class:`~fapilog.errors.ConfigError`; a ``TypeError``/``ValueError`` from the
    constructor is treated as one too (it is almost always a wrong value), anything else is a
    :class:`~fapilog.errors.PluginLoadError`. The original exception is always chained.
    """
    dataclass_model = model if model is not None and dataclasses.is_dataclass(model) else None
    if dataclass_model is not None and _takes_model(cls, dataclass_model):
        validated = _from_dataclass(plugin, dataclass_model, settings)
        accepted = ", ".join(name for name, _, _ in fields_of(dataclass_model))

        def construct() -> object:
            return cls(validated)
    else:
        kwargs = validate_settings(plugin, model, settings)
        accepted = _check_call(plugin, cls, kwargs, from_model=model is not None)
        if dataclass_model is not None:  # the settings, not the constructor's code hooks (a test clock)
            accepted = ", ".join(name for name, _, _ in fields_of(dataclass_model))

        def construct() -> object:
            return cls(**kwargs)
    try:
        return construct()
    except ConfigError as exc:  # the plugin's own check, naming its field
        raise in_plugin(exc, plugin, accepted) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"plugin {plugin!r}: invalid settings: {type(exc).__name__}: {exc}; accepted parameters: {accepted}",
            code="FL-CFG-001",
        ) from exc
    except Exception as exc:
        raise PluginLoadError(
            f"plugin {plugin!r}: creating {cls.__qualname__} failed: {type(exc).__name__}: {exc} "
            "(the cause is chained below)",
            plugin=plugin,
            code="FL-IMP-006",
        ) from exc
