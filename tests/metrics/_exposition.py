"""Helpers for the metrics tests: scrape a registry and read samples back with prometheus_client's parser."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families


def scrape(registry: CollectorRegistry) -> str:
    """The text exposition of ``registry``, as Prometheus receives it."""
    return generate_latest(registry).decode("utf-8")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, parsed: (name, labels) -> value."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(parsed: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: Any) -> float:
    """One sample's value; KeyError naming the sample when it is missing."""
    key = (name, frozenset((k, str(v)) for k, v in labels.items()))
    if key not in parsed:
        raise KeyError(f"no sample {name}{labels}")
    return parsed[key]


def family_types(text: str) -> dict[str, str]:
    """Family name -> type, as the parser reads them."""
    return {family.name: family.type for family in text_string_to_metric_families(text)}
