"""The built-in ``cloudwatch`` sink: batches of records sent to AWS CloudWatch Logs (``pip install 'fapilog[aws]'``).

The sink turns one batch into PutLogEvents requests that honour every documented limit
(:mod:`fapilog.builtins.sinks._cloudwatch_batches`) and the answers into the core's outcomes
(:mod:`fapilog.builtins.sinks._cloudwatch_errors`); retries, backoff, the circuit breaker, the fallback and the
counters are the core's.

Where boto3 runs: boto3 is synchronous. The sink does not declare ``runs_on_worker_loop``, so the core calls it
on the sink's own thread and event loop (:mod:`fapilog._engine.sink_thread`): a slow or hanging AWS call blocks
only that thread, ``write_timeout`` still bounds it, and the exit drain needs no new thread. botocore's own
retries are off (one attempt per call): the core retries, so throttling is counted and opens the circuit.

Sequence tokens are not tracked: CloudWatch Logs ignores them and accepts parallel puts to one stream.
The group and stream are created lazily, on the first write to a stream name (never in a constructor).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fapilog._engine.notices import warn
from fapilog._version import __version__
from fapilog.builtins.sinks._cloudwatch_batches import (
    DEFAULT_MAX_EVENT_BYTES,
    EVENT_OVERHEAD,
    MAX_REQUEST_BYTES,
    Event,
    Oversize,
    Planned,
    plan_requests,
    to_events,
)
from fapilog.builtins.sinks._cloudwatch_errors import ALREADY_DONE, classify, error_code
from fapilog.errors import ConfigError
from fapilog.plugins.constraints import Range, setting_error, settings_from
from fapilog.plugins.metadata import PluginHealth, PluginMetadata
from fapilog.plugins.outcomes import BatchResult, PermanentSinkError, RetryableSinkError

__all__ = ["CloudWatchSink", "CloudWatchSinkSettings"]

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
"""The values PutRetentionPolicy accepts."""
_MIN_EVENT_BYTES = 1024
_CODE = "FL-SNK-006"
_REJECTED = (("expiredLogEventEndIndex", "expired"), ("tooOldLogEventEndIndex", "too_old"))


@dataclasses.dataclass(frozen=True)
class CloudWatchSinkSettings:
    """Settings of the ``cloudwatch`` sink (batching and retries are its ``delivery`` table, like any sink's).

    ``log_group``: the log group (created on first use when ``create_group``).
    ``log_stream``: the stream name template: ``{host}`` (host name), ``{pid}`` (process id), ``{date}``
    (UTC ``YYYY-MM-DD``, so a long-running process starts a new stream each day). Forked workers get their
    own stream through ``{pid}``.
    ``region``: the AWS region; ``None`` uses the standard chain (``AWS_REGION``, ``AWS_DEFAULT_REGION``,
    the profile).
    ``endpoint_url``: another endpoint (an emulator such as moto, a VPC endpoint); ``None`` for AWS itself.
    ``create_group`` / ``create_stream``: create the group / stream when missing (needs
    ``logs:CreateLogGroup`` / ``logs:CreateLogStream``).
    ``retention_days``: retention set on a group this sink creates (one of the values CloudWatch accepts).
    ``max_event_bytes``: the largest event sent, in UTF-8 bytes (default 256 KiB minus the 26 bytes of
    overhead; CloudWatch now documents 1 MB).
    ``oversize``: what happens to a larger record: ``"truncate"`` (one event holding the head of the record and a
    ``fapilog_truncated`` marker) or ``"split"`` (several events with a ``fapilog_part`` marker).
    ``timeout``: seconds to connect and to read one answer (below ``delivery.write_timeout``).
    ``name``: the name this sink runs under in ``stats()`` and diagnostics.
    """

    log_group: str
    log_stream: str = "{host}/{pid}/{date}"
    region: str | None = None
    endpoint_url: str | None = None
    create_group: bool = True
    create_stream: bool = True
    retention_days: int | None = None
    max_event_bytes: Annotated[int, Range(ge=_MIN_EVENT_BYTES, le=MAX_REQUEST_BYTES - EVENT_OVERHEAD)] = (
        DEFAULT_MAX_EVENT_BYTES)
    oversize: Literal["truncate", "split"] = "truncate"
    timeout: Annotated[float, Range(gt=0, le=600)] = 5.0
    name: str = "cloudwatch"

    def __post_init__(self) -> None:
        # What the annotations cannot say: AWS's name limits, the stream template, the retention values
        # CloudWatch accepts, the endpoint's scheme.
        _check_text(self.log_group, "log_group", 512)
        _check_template(self.log_stream)
        if self.region is not None:
            _check_text(self.region, "region", 64)
        if self.endpoint_url is not None and not self.endpoint_url.startswith(("http://", "https://")):
            raise setting_error("endpoint_url", "expected an http:// or https:// URL, or None", code=_CODE)
        if self.retention_days is not None and self.retention_days not in RETENTION_DAYS:
            raise setting_error("retention_days", f"expected one of {', '.join(map(str, RETENTION_DAYS))} (what "
                                                  f"CloudWatch accepts), got {self.retention_days!r}", code=_CODE)


class CloudWatchSink:
    """Sends each batch to one CloudWatch Logs stream with PutLogEvents, within every API limit.

    >>> sink = CloudWatchSink("/my-app/prod", region="eu-west-1", retention_days=30)
    """

    delivery_defaults: Mapping[str, Any] = {"batch_size": 10_000, "batch_max_bytes": 1_000_000,
                                            "batch_max_age": 1.0}
    """One request's worth (10,000 events or about 1 MB), sent at least every second; the user's ``delivery``
    wins, and the sink still cuts a batch into as many requests as the limits need."""
    metadata = PluginMetadata(
        name="cloudwatch",
        version=__version__,
        kind="sink",
        description="Batches of JSON records sent to AWS CloudWatch Logs (PutLogEvents), within every API limit.",
        homepage="https://github.com/fapilog/fapilog/blob/main/docs/sinks/cloudwatch.md",
        config_model=CloudWatchSinkSettings,
    )

    def __init__(self, settings: CloudWatchSinkSettings | str | None = None, /, **values: Any) -> None:
        """``settings`` (the registry passes the validated model), or the log group, with the other fields as
        keywords: ``CloudWatchSink("/my-app/prod", region="eu-west-1")``."""
        if settings is not None and not isinstance(settings, CloudWatchSinkSettings):
            values = {"log_group": settings, **values}
            settings = None
        self.settings = settings = settings_from(CloudWatchSinkSettings, settings, root="cloudwatch", **values)
        self.name = settings.name
        self.log_group = settings.log_group
        self.log_stream = settings.log_stream
        self.region = settings.region
        self.endpoint_url = settings.endpoint_url
        self.create_group = settings.create_group
        self.create_stream = settings.create_stream
        self.retention_days = settings.retention_days
        self.max_event_bytes = settings.max_event_bytes
        self.oversize: Oversize = settings.oversize
        self.timeout = settings.timeout
        self.counters: dict[str, Any] = {"requests": 0, "events_sent": 0, "truncated": 0, "split": 0,
                                         "extra_requests": {}, "streams_created": 0, "groups_created": 0,
                                         "recreated": 0}
        """What the sink did to honour the limits and keep the stream there (``stats()`` counts the records)."""
        self.last_error: str | None = None
        self._client: Any = None
        self._ready: set[str] = set()

    @property
    def client(self) -> Any:
        """The boto3 ``logs`` client created by ``start()`` (None before), e.g. to register botocore event hooks."""
        return self._client

    def __repr__(self) -> str:
        return f"CloudWatchSink(log_group={self.log_group!r}, log_stream={self.log_stream!r}, name={self.name!r})"

    async def start(self) -> None:
        """Create the one boto3 client of this sink (credentials from the standard chain only)."""
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import NoRegionError
        except ImportError as exc:
            raise ConfigError("cloudwatch sink: boto3 is not installed; run: pip install 'fapilog[aws]'",
                              field="type", code="FL-SNK-007") from exc
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=self.timeout, read_timeout=self.timeout,
                        user_agent_extra=f"fapilog/{__version__}")
        try:
            # AWS_REGION (set by Lambda and most AWS SDKs) first: botocore itself reads only AWS_DEFAULT_REGION
            region = self.region or os.environ.get("AWS_REGION") or None
            self._client = boto3.session.Session().client("logs", region_name=region,
                                                          endpoint_url=self.endpoint_url, config=config)
        except NoRegionError as exc:
            raise ConfigError("cloudwatch sink: region: no AWS region configured; set region or AWS_REGION",
                              field="region", code="FL-SNK-008") from exc
        self._ready = set()

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def write(self, record: Mapping[str, Any]) -> None:
        result = await self.write_batch([record])
        if result is not None and result.rejected:
            raise PermanentSinkError(f"cloudwatch sink {self.name!r}: the event was rejected",
                                     reason=next(iter(result.rejected.values())))

    def stream_name(self) -> str:
        """The stream this process writes to now (the template filled in)."""
        return self.log_stream.format(host=socket.gethostname(), pid=os.getpid(),
                                      date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"))

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> BatchResult | None:
        if self._client is None:
            raise RetryableSinkError(f"cloudwatch sink {self.name!r}: not started", reason="not_started")
        planned = Planned([])
        plan_requests(to_events(records, self.max_event_bytes, self.oversize, planned), planned)
        self._count_changes(planned)
        stream = self.stream_name()
        if stream not in self._ready:
            try:
                self._ensure(stream)
            except PermanentSinkError as exc:
                self._report(exc)
                raise
            except RetryableSinkError as exc:
                self.last_error = str(exc)
                raise
        # A record is accepted once every event made from it was; refused as soon as one of them was.
        pending = _parts_per_record(planned.requests)
        accepted: set[int] = set()
        rejected: dict[int, str] = {}
        for request in planned.requests:
            try:
                refused = self._put(stream, request)
            except RetryableSinkError as exc:
                self.last_error = str(exc)
                if accepted or rejected:
                    raise RetryableSinkError(str(exc), reason=exc.reason, retry_after=exc.retry_after,
                                             accepted=accepted - set(rejected), rejected=rejected) from exc
                raise
            except PermanentSinkError as exc:
                self._report(exc)
                refused = dict.fromkeys(range(len(request)), exc.reason)
            for position, event in enumerate(request):
                reason = refused.get(position)
                if reason is not None:
                    rejected.setdefault(event.index, reason)
                pending[event.index] -= 1
                if pending[event.index] == 0 and event.index not in rejected:
                    accepted.add(event.index)
        return BatchResult(rejected=rejected) if rejected else None

    async def health_check(self) -> PluginHealth:
        """Degraded after an error until the next successful request; the counters are in the detail."""
        detail = f"counters={self.counters}"
        if self.last_error:
            return PluginHealth("degraded", f"the last CloudWatch request failed: {self.last_error}; {detail}",
                                code="FL-HLT-007")
        return PluginHealth("healthy", detail)

    def _put(self, stream: str, request: list[Event], *, again: bool = True) -> dict[int, str]:
        """One PutLogEvents call; the positions CloudWatch refused, by reason."""
        events = [{"timestamp": event.timestamp, "message": event.message} for event in request]
        try:
            answer = self._client.put_log_events(logGroupName=self.log_group, logStreamName=stream,
                                                 logEvents=events)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException" and again:
                # Someone deleted the stream (or group): create it once more, then send once more.
                self.counters["recreated"] += 1
                warn(f"cloudwatch-recreate:{self.name}", f"cloudwatch sink {self.name!r}: {self.log_group}/{stream}"
                     " no longer exists; creating it again", code="FL-LOG-013")
                self._ready.discard(stream)
                self._ensure(stream)
                return self._put(stream, request, again=False)
            raise classify(exc, "PutLogEvents", f"{self.log_group}/{stream}", self.name) from exc
        self.counters["requests"] += 1
        self.counters["events_sent"] += len(events)
        self.last_error = None
        return _refused(answer.get("rejectedLogEventsInfo"), len(request))

    def _ensure(self, stream: str) -> None:
        """Create the stream (and its group when missing); an existing one, or a race lost, is success."""
        if self.create_stream:
            try:
                self._create("CreateLogStream", stream, logGroupName=self.log_group, logStreamName=stream)
            except _GroupMissing:
                if not self.create_group:
                    raise PermanentSinkError(
                        f"cloudwatch sink {self.name!r}: the log group {self.log_group!r} does not exist and "
                        "create_group is false; create it or set create_group=true", reason="no_log_group") from None
                if self._create("CreateLogGroup", stream, logGroupName=self.log_group):
                    self.counters["groups_created"] += 1
                    if self.retention_days is not None:
                        self._call("PutRetentionPolicy", stream, logGroupName=self.log_group,
                                   retentionInDays=self.retention_days)
                self._create("CreateLogStream", stream, logGroupName=self.log_group, logStreamName=stream)
        self._ready.add(stream)

    def _create(self, action: str, stream: str, **params: Any) -> bool:
        """``action``; False when the resource was already there."""
        try:
            self._call(action, stream, **params)
        except _Answered as answered:
            code = error_code(answered.exc)
            if code in ALREADY_DONE:
                return False
            if code == "ResourceNotFoundException" and action == "CreateLogStream":
                raise _GroupMissing from answered.exc
            raise classify(answered.exc, action, f"{self.log_group}/{stream}", self.name) from answered.exc
        if action == "CreateLogStream":
            self.counters["streams_created"] += 1
        return True

    def _call(self, action: str, stream: str, **params: Any) -> None:
        method = getattr(self._client, _snake(action))
        try:
            method(**params)
        except Exception as exc:
            if error_code(exc):
                raise _Answered(exc) from exc
            raise classify(exc, action, f"{self.log_group}/{stream}", self.name) from exc

    def _count_changes(self, planned: Planned) -> None:
        counters = self.counters
        counters["truncated"] += planned.truncated
        counters["split"] += planned.split
        for reason, count in planned.cuts.items():
            counters["extra_requests"][reason] = counters["extra_requests"].get(reason, 0) + count
        changed = planned.truncated + planned.split
        if changed:
            how = "truncated" if self.oversize == "truncate" else "split into several events"
            warn(f"cloudwatch-oversize:{self.name}",
                 f"cloudwatch sink {self.name!r}: {changed} event(s) larger than max_event_bytes="
                 f"{self.max_event_bytes} were {how}; {counters['truncated'] + counters['split']} so far "
                 "(see docs/sinks/cloudwatch.md#oversize-events)", code="FL-LOG-012")

    def _report(self, exc: PermanentSinkError) -> None:
        self.last_error = str(exc)
        warn(f"cloudwatch-refused:{self.name}:{exc}", f"{exc} (its events are counted as rejected: {exc.reason})",
             code="FL-LOG-014")


class _Answered(Exception):
    """AWS answered an API call with an error code (decided by the caller)."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(str(exc))
        self.exc = exc


class _GroupMissing(Exception):
    """CreateLogStream found no log group."""


def _snake(action: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")


def _refused(info: Any, size: int) -> dict[int, str]:
    """Positions of a request CloudWatch refused, from ``rejectedLogEventsInfo``, by reason."""
    if not isinstance(info, dict):
        return {}
    refused: dict[int, str] = {}
    for key, reason in _REJECTED:
        end = info.get(key)
        if isinstance(end, int):
            for position in range(min(end, size)):  # the end index is exclusive
                refused.setdefault(position, reason)
    start = info.get("tooNewLogEventStartIndex")
    if isinstance(start, int):
        for position in range(max(start, 0), size):
            refused.setdefault(position, "too_new")
    return refused


def _parts_per_record(requests: list[list[Event]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for request in requests:
        for event in request:
            counts[event.index] = counts.get(event.index, 0) + 1
    return counts


def _check_text(value: str, field: str, limit: int) -> None:
    if not value.strip() or len(value) > limit:
        raise setting_error(field, f"expected a non-empty text of at most {limit} characters", code=_CODE)


def _check_template(text: str) -> None:
    _check_text(text, "log_stream", 512)
    try:
        filled = text.format(host="h", pid=1, date="2026-01-01")
    except (KeyError, IndexError, ValueError) as exc:
        raise setting_error("log_stream", f"{text!r} may use only {{host}}, {{pid}} and {{date}} "
                                          f"({type(exc).__name__}: {exc})", code=_CODE) from exc
    if ":" in filled or "*" in filled:
        raise setting_error("log_stream", "a stream name may not contain ':' or '*'", code=_CODE)
