"""``kubernetes`` enricher: the pod's identity, from environment variables set by the Downward API.

Kubernetes does not tell a container its pod name or namespace unless the pod spec asks for it, so expose
them as environment variables (``fieldRef``), under the default names or your own::

    env:
      - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
      - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
      - {name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
      - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
      - {name: CONTAINER_NAME, value: api}  # the Downward API has no field for the container's own name

The variables are read once, when the enricher starts; a variable that is unset or empty is left out. The
fields go under ``k8s`` (``{"k8s": {"pod_name": ..., "namespace": ...}}``) or, with ``prefix=None``, at the
top level. Outside Kubernetes nothing is set and nothing is added.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Annotated, Any

from fapilog._version import __version__
from fapilog.plugins.constraints import NonEmpty, setting_error, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata

__all__ = ["KubernetesEnricher", "KubernetesSettings"]

_NAME = "kubernetes"
_NOTHING: Mapping[str, Any] = MappingProxyType({})
_Variable = Annotated[str, NonEmpty]
"""The name of an environment variable."""
_FIELDS = ("pod_name", "namespace", "node_name", "pod_ip", "container_name")


@dataclasses.dataclass(frozen=True)
class KubernetesSettings:
    """Settings of the ``kubernetes`` enricher: the environment variable behind each field, and the nesting."""

    pod_name_var: _Variable = "POD_NAME"
    """Environment variable holding the pod name (added as ``pod_name``)."""
    namespace_var: _Variable = "POD_NAMESPACE"
    """Environment variable holding the namespace (added as ``namespace``)."""
    node_name_var: _Variable = "NODE_NAME"
    """Environment variable holding the node name (added as ``node_name``)."""
    pod_ip_var: _Variable = "POD_IP"
    """Environment variable holding the pod IP (added as ``pod_ip``)."""
    container_name_var: _Variable = "CONTAINER_NAME"
    """Environment variable holding the container name (added as ``container_name``)."""
    extra_vars: Mapping[str, _Variable] = dataclasses.field(default_factory=dict)
    """More fields: field name → environment variable (e.g. ``{"pod_uid": "POD_UID"}``)."""
    prefix: Annotated[str, NonEmpty] | None = "k8s"
    """The field the values are nested under; ``None`` puts them at the top level."""

    def __post_init__(self) -> None:
        if "" in self.extra_vars:
            raise setting_error("extra_vars", "expected a table of field name -> environment variable name, got "
                                              f"{dict(self.extra_vars)!r}", root=_NAME, code="FL-STG-002")


class KubernetesEnricher:
    """Adds the pod name, namespace, node, pod IP and container name found in the environment at start."""

    metadata = PluginMetadata(
        name=_NAME,
        version=__version__,
        kind="enricher",
        description="Adds Kubernetes pod, namespace, node, IP and container from Downward API variables.",
        config_model=KubernetesSettings,
    )

    def __init__(self, settings: KubernetesSettings | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model) or the same fields as keywords."""
        self.settings = settings_from(KubernetesSettings, settings, root=_NAME, **values)
        self._fields: Mapping[str, Any] = _NOTHING

    @property
    def fields(self) -> Mapping[str, Any]:
        """What each event receives (empty before :meth:`start` and outside Kubernetes)."""
        return self._fields

    async def start(self) -> None:
        """Read the environment variables, once."""
        names = {field: getattr(self.settings, f"{field}_var") for field in _FIELDS}
        names.update(self.settings.extra_vars)
        found = {field: os.environ[var] for field, var in names.items() if os.environ.get(var)}
        prefix = self.settings.prefix
        fields = found if prefix is None or not found else {prefix: found}
        self._fields = MappingProxyType(fields) if fields else _NOTHING

    async def stop(self) -> None:
        """Nothing to close."""

    async def health_check(self) -> PluginHealth:
        """Degraded when none of the variables is set: the pod spec probably lacks the Downward API entries."""
        if self._fields:
            return PluginHealth("healthy", f"adding {', '.join(sorted(self._flat()))}")
        return PluginHealth("degraded", f"none of {self.settings.pod_name_var}, {self.settings.namespace_var}, ... "
                                        "is set; add them to the pod spec with the Downward API", code="FL-HLT-003")

    def _flat(self) -> Mapping[str, Any]:
        prefix = self.settings.prefix
        inner = self._fields.get(prefix) if prefix is not None else None
        return inner if isinstance(inner, Mapping) else self._fields

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The Kubernetes fields (the core keeps any the record already has)."""
        return self._fields

    async def enrich_batch(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The same mapping for every record of the batch."""
        return [self._fields] * len(records)
