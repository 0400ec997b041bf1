"""The core's own plugins, for when fapilog runs from a source tree without installed metadata.

Installed, the core declares its built-ins as entry points in ``pyproject.toml`` and they are discovered like
any third-party plugin. Run from a checkout (``PYTHONPATH=src``) there is no ``fapilog`` distribution to read,
so discovery falls back to this table. It holds the same data as ``[project.entry-points."fapilog.plugins"]``;
a test keeps the two in step.

A built-in that needs an optional extra names it, so a missing dependency becomes
``pip install 'fapilog[aws]'`` rather than a bare ``ModuleNotFoundError``::

    BuiltinPlugin("cloudwatch", "fapilog.plugins.sinks.cloudwatch:CloudWatchSink", extra="aws"),
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

__all__ = ["BUILTIN_PLUGINS", "EXTRA_REQUIREMENTS", "BuiltinPlugin"]


@dataclasses.dataclass(frozen=True)
class BuiltinPlugin:
    """One row of the table: the configured ``name``, its ``"module:Class"`` target, and an optional extra."""

    name: str
    target: str
    extra: str | None = None


BUILTIN_PLUGINS: tuple[BuiltinPlugin, ...] = (
    BuiltinPlugin("stdout", "fapilog.plugins.sinks.stream:StdoutSink"),
    BuiltinPlugin("stderr", "fapilog.plugins.sinks.stream:StderrSink"),
    BuiltinPlugin("file", "fapilog.plugins.sinks.file:FileSink"),
    BuiltinPlugin("memory", "fapilog.plugins.sinks.memory:MemorySink"),
    BuiltinPlugin("http", "fapilog.plugins.sinks.http:HttpSink", extra="http"),
    BuiltinPlugin("otlp", "fapilog.plugins.sinks.otlp:OtlpSink", extra="otlp"),
    BuiltinPlugin("loki", "fapilog.plugins.sinks.loki:LokiSink", extra="loki"),
    BuiltinPlugin("cloudwatch", "fapilog.plugins.sinks.cloudwatch:CloudWatchSink", extra="aws"),
    BuiltinPlugin("level", "fapilog.plugins.filters.level:LevelFilter"),
    BuiltinPlugin("sampling", "fapilog.plugins.filters.sampling:SamplingFilter"),
    BuiltinPlugin("rate_limit", "fapilog.plugins.filters.rate_limit:RateLimitFilter"),
    BuiltinPlugin("first_occurrence", "fapilog.plugins.filters.first_occurrence:FirstOccurrenceFilter"),
    BuiltinPlugin("adaptive_sampling", "fapilog.plugins.filters.adaptive_sampling:AdaptiveSamplingFilter"),
    BuiltinPlugin("runtime", "fapilog.plugins.enrichers.runtime:RuntimeEnricher"),
    BuiltinPlugin("context", "fapilog.plugins.enrichers.context:ContextEnricher"),
    BuiltinPlugin("kubernetes", "fapilog.plugins.enrichers.kubernetes:KubernetesEnricher"),
    BuiltinPlugin("otel", "fapilog.plugins.enrichers.otel:OtelEnricher"),
    BuiltinPlugin("secrets", "fapilog.plugins.redactors.secrets:SecretsRedactor"),
    BuiltinPlugin("field_mask", "fapilog.plugins.redactors.field_mask:FieldMaskRedactor"),
    BuiltinPlugin("regex_mask", "fapilog.plugins.redactors.regex_mask:RegexMaskRedactor"),
    BuiltinPlugin("url_credentials", "fapilog.plugins.redactors.url_credentials:UrlCredentialsRedactor"),
    BuiltinPlugin("preset", "fapilog.plugins.redactors.presets:PresetRedactor"),
    BuiltinPlugin("exception", "fapilog.plugins.processors.exception:ExceptionProcessor"),
    BuiltinPlugin("shape", "fapilog.plugins.processors.shape:ShapeProcessor"),
    BuiltinPlugin("size_guard", "fapilog.plugins.processors.size_guard:SizeGuardProcessor"),
)
"""Built-in plugins in entry-point order (same as ``pyproject.toml``)."""

EXTRA_REQUIREMENTS: Mapping[str, tuple[str, ...]] = {
    "aws": ("boto3>=1.34", "botocore>=1.34"),
    "loki": ("httpx>=0.27", "cramjam>=2.8"),
    "otlp": ("httpx>=0.27", "opentelemetry-proto>=1.24", "protobuf>=5.0"),
}
"""What each extra a built-in may name installs (same as ``[project.optional-dependencies]``), used to tell
whether such a plugin is available without importing it."""
