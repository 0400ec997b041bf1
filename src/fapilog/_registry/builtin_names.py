"""The core's own plugins, for when fapilog runs from a source tree without installed metadata.

Installed, the core declares its built-ins as entry points in ``pyproject.toml`` and they are discovered like
any third-party plugin. Run from a checkout (``PYTHONPATH=src``) there is no ``fapilog`` distribution to read,
so discovery falls back to this table. It holds the same data as ``[project.entry-points."fapilog.plugins"]``;
a test keeps the two in step.

A built-in that needs an optional extra names it, so a missing dependency becomes
``pip install 'fapilog[aws]'`` rather than a bare ``ModuleNotFoundError``::

    BuiltinPlugin("cloudwatch", "fapilog.builtins.sinks.cloudwatch:CloudWatchSink", extra="aws"),
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["BUILTIN_PLUGINS", "EXTRA_REQUIREMENTS", "BuiltinPlugin"]


class BuiltinPlugin(NamedTuple):
    """One row of the table: the configured ``name``, its ``"module:Class"`` target, and an optional extra."""

    name: str
    target: str
    extra: str | None = None


BUILTIN_PLUGINS: tuple[BuiltinPlugin, ...] = (
    BuiltinPlugin("stdout", "fapilog.builtins.sinks.stream:StdoutSink"),
    BuiltinPlugin("stderr", "fapilog.builtins.sinks.stream:StderrSink"),
    BuiltinPlugin("file", "fapilog.builtins.sinks.file:FileSink"),
    BuiltinPlugin("memory", "fapilog.builtins.sinks.memory:MemorySink"),
    BuiltinPlugin("http", "fapilog.builtins.sinks.http:HttpSink", extra="http"),
    BuiltinPlugin("otlp", "fapilog.builtins.sinks.otlp:OtlpSink", extra="otlp"),
    BuiltinPlugin("loki", "fapilog.builtins.sinks.loki:LokiSink", extra="loki"),
    BuiltinPlugin("cloudwatch", "fapilog.builtins.sinks.cloudwatch:CloudWatchSink", extra="aws"),
    BuiltinPlugin("level", "fapilog.builtins.filters.level:LevelFilter"),
    BuiltinPlugin("sampling", "fapilog.builtins.filters.sampling:SamplingFilter"),
    BuiltinPlugin("rate_limit", "fapilog.builtins.filters.rate_limit:RateLimitFilter"),
    BuiltinPlugin("first_occurrence", "fapilog.builtins.filters.first_occurrence:FirstOccurrenceFilter"),
    BuiltinPlugin("adaptive_sampling", "fapilog.builtins.filters.adaptive_sampling:AdaptiveSamplingFilter"),
    BuiltinPlugin("runtime", "fapilog.builtins.enrichers.runtime:RuntimeEnricher"),
    BuiltinPlugin("context", "fapilog.builtins.enrichers.context:ContextEnricher"),
    BuiltinPlugin("kubernetes", "fapilog.builtins.enrichers.kubernetes:KubernetesEnricher"),
    BuiltinPlugin("otel", "fapilog.builtins.enrichers.otel:OtelEnricher"),
    BuiltinPlugin("secrets", "fapilog.builtins.redactors.secrets:SecretsRedactor"),
    BuiltinPlugin("field_mask", "fapilog.builtins.redactors.field_mask:FieldMaskRedactor"),
    BuiltinPlugin("regex_mask", "fapilog.builtins.redactors.regex_mask:RegexMaskRedactor"),
    BuiltinPlugin("url_credentials", "fapilog.builtins.redactors.url_credentials:UrlCredentialsRedactor"),
    BuiltinPlugin("preset", "fapilog.builtins.redactors.presets:PresetRedactor"),
    BuiltinPlugin("exception", "fapilog.builtins.processors.exception:ExceptionProcessor"),
    BuiltinPlugin("shape", "fapilog.builtins.processors.shape:ShapeProcessor"),
    BuiltinPlugin("size_guard", "fapilog.builtins.processors.size_guard:SizeGuardProcessor"),
)
"""Built-in plugins in entry-point order (same as ``pyproject.toml``)."""

EXTRA_REQUIREMENTS: Mapping[str, tuple[str, ...]] = {
    "aws": ("boto3>=1.34", "botocore>=1.34"),
    "loki": ("httpx>=0.27", "cramjam>=2.8"),
    "otlp": ("httpx>=0.27", "opentelemetry-proto>=1.24", "protobuf>=5.0"),
}
"""What each extra a built-in may name installs (same as ``[project.optional-dependencies]``), used to tell
whether such a plugin is available without importing it."""
