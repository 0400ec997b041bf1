"""The built-in ``kubernetes`` enricher: pod identity from Downward API environment variables."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import fapilog
from fapilog._kit.record import EventRecord
from fapilog._registry.registry import PluginRegistry
from fapilog.builtins.enrichers.kubernetes import KubernetesEnricher
from fapilog.builtins.sinks.memory import MemorySink
from fapilog.errors import ConfigError

DEFAULT_VARS = ("POD_NAME", "POD_NAMESPACE", "NODE_NAME", "POD_IP", "CONTAINER_NAME", "MY_POD", "POD_UID")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DEFAULT_VARS:
        monkeypatch.delenv(name, raising=False)


def started(**options: Any) -> KubernetesEnricher:
    enricher = KubernetesEnricher(**options)
    asyncio.run(enricher.start())
    return enricher


def test_reads_the_default_variables_under_k8s(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set variables appear under 'k8s'; unset or empty ones are left out."""
    monkeypatch.setenv("POD_NAME", "api-7d9f")
    monkeypatch.setenv("POD_NAMESPACE", "shop")
    monkeypatch.setenv("POD_IP", "")
    fields = asyncio.run(started().enrich(EventRecord(message="m")))
    assert fields == {"k8s": {"pod_name": "api-7d9f", "namespace": "shop"}}


def test_custom_names_extra_variables_and_no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variable names are configurable, extra_vars add fields, prefix=None puts them at the top level."""
    monkeypatch.setenv("MY_POD", "api-1")
    monkeypatch.setenv("POD_UID", "0d5e")
    monkeypatch.setenv("NODE_NAME", "node-3")
    enricher = started(pod_name_var="MY_POD", extra_vars={"pod_uid": "POD_UID"}, prefix=None)
    assert enricher.fields == {"pod_name": "api-1", "node_name": "node-3", "pod_uid": "0d5e"}


def test_variables_are_read_once_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing the environment after start() changes nothing."""
    monkeypatch.setenv("POD_NAME", "before")
    enricher = started()
    monkeypatch.setenv("POD_NAME", "after")
    assert asyncio.run(enricher.enrich_batch([EventRecord(), EventRecord()])) == [{"k8s": {"pod_name": "before"}}] * 2


def test_outside_kubernetes_nothing_is_added_and_health_says_why() -> None:
    """No variable set: an empty mapping, and a degraded health check naming the Downward API."""
    enricher = started()
    assert asyncio.run(enricher.enrich(EventRecord())) == {}
    health = asyncio.run(enricher.health_check())
    assert health.status == "degraded" and "Downward API" in health.detail


@pytest.mark.parametrize(
    ("options", "start"),
    [
        ({"pod_name_var": ""}, "kubernetes.pod_name_var: must not be empty"),
        ({"extra_vars": {"uid": 3}}, "kubernetes.extra_vars.uid: must be text"),
        ({"prefix": ""}, "kubernetes.prefix:"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], start: str) -> None:
    """Invalid settings raise ConfigError starting with '<plugin>.<field>:'."""
    with pytest.raises(ConfigError) as caught:
        KubernetesEnricher(**options)
    assert str(caught.value).startswith(start)


def test_settings_by_table_reach_the_constructor() -> None:
    """The registry validates a table with the config model and builds the enricher from it."""
    registry = PluginRegistry([KubernetesEnricher], entry_points=False)
    _, instance = registry.create("enricher", {"type": "kubernetes", "prefix": "kube"})
    assert isinstance(instance, KubernetesEnricher) and instance.settings.prefix == "kube"


def test_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the pipeline every event carries the pod identity."""
    monkeypatch.setenv("POD_NAME", "api-7d9f")
    sink = MemorySink()
    fapilog.configure(sinks=[sink], enrichers=[KubernetesEnricher()])
    fapilog.get_logger("e2e").info("hello")
    assert fapilog.flush(5.0)
    assert sink.records[0]["k8s"] == {"pod_name": "api-7d9f"}
