"""Plugins in the running pipeline: configuration by name, switches, dependencies, reload, health, diagnostics."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

import fapilog
from fapilog._registry.registry import default_registry
from fapilog.plugins.metadata import PluginHealth, PluginMetadata


@dataclasses.dataclass
class CountingConfig:
    label: str = "a"


class CountingSink:
    """Every instance appends (label, seq) to a shared list, so a test can see which instance got what."""

    metadata = PluginMetadata(name="counting", version="1.0", kind="sink", config_model=CountingConfig)
    delivered: ClassVar[list[tuple[str, int]]] = []
    events: ClassVar[list[str]] = []

    def __init__(self, label: str = "a") -> None:
        self.label = label

    async def start(self) -> None:
        CountingSink.events.append(f"start {self.label}")

    async def stop(self) -> None:
        CountingSink.events.append(f"stop {self.label}")

    async def flush(self) -> None:
        CountingSink.events.append(f"flush {self.label}")

    async def write_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        await asyncio.sleep(0)  # a real suspension point: the reload must wait for in-flight batches
        CountingSink.delivered.extend((self.label, r["seq"]) for r in records)

    async def write(self, record: Mapping[str, Any]) -> None:
        await self.write_batch([record])


class TagEnricher:
    metadata = PluginMetadata(name="tag", version="2.1", kind="enricher")

    def __init__(self, value: str = "x") -> None:
        self.value = value

    async def enrich(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"tag": self.value}


class NeedsTag:
    """A processor that declares it needs the tag enricher (>=2.0) started before it."""

    metadata = PluginMetadata(name="needs-tag", version="1.0", kind="processor", requires=("tag>=2.0",))
    order: ClassVar[list[str]] = []

    async def start(self) -> None:
        NeedsTag.order.append("needs-tag")

    async def process(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record


class SlowHealth:
    metadata = PluginMetadata(name="slow-health", version="1.0", kind="sink")

    async def write(self, record: Mapping[str, Any]) -> None:
        """Accepts everything."""

    async def health_check(self) -> PluginHealth:
        await asyncio.sleep(30)
        return PluginHealth("healthy")


class BrokenHealth:
    metadata = PluginMetadata(name="broken-health", version="1.0", kind="sink")

    async def write(self, record: Mapping[str, Any]) -> None:
        """Accepts everything."""

    async def health_check(self) -> PluginHealth:
        raise OSError("disk gone")


class StuckSink:
    """A sink whose writes wait (on a helper thread) until ``release`` is set; every instance is kept."""

    metadata = PluginMetadata(name="stuck", version="1.0", kind="sink")
    release = threading.Event()
    instances: ClassVar[list[StuckSink]] = []

    def __init__(self) -> None:
        self.written: list[str] = []
        self.stopped = False
        StuckSink.instances.append(self)

    async def stop(self) -> None:
        self.stopped = True

    async def write(self, record: Mapping[str, Any]) -> None:
        await asyncio.to_thread(StuckSink.release.wait, 30.0)
        self.written.append(record["message"])


class BlockingSink:
    """A sink that runs on the worker's own loop and blocks it (a synchronous wait) until ``release`` is set."""

    metadata = PluginMetadata(name="blocking", version="1.0", kind="sink")
    runs_on_worker_loop = True
    release = threading.Event()

    async def write(self, record: Mapping[str, Any]) -> None:
        BlockingSink.release.wait(30.0)


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry = default_registry()
    classes = (CountingSink, TagEnricher, NeedsTag, SlowHealth, BrokenHealth, StuckSink, BlockingSink)
    for cls in classes:
        registry.register(cls)
    CountingSink.delivered.clear()
    CountingSink.events.clear()
    StuckSink.instances.clear()
    StuckSink.release.clear()
    BlockingSink.release.clear()
    NeedsTag.order.clear()
    yield
    StuckSink.release.set()
    BlockingSink.release.set()
    fapilog.shutdown(1.0)
    for cls in classes:
        registry.unregister(cls.metadata.name)


def test_plugins_configured_by_name_get_their_settings() -> None:
    """plugins.settings feeds a plugin configured by name; a table in the stage list wins over it."""
    fapilog.configure(
        sinks=["counting"],
        enrichers=[{"type": "tag", "value": "from-table"}],
        plugins={"settings": {"counting": {"label": "from-settings"}, "tag": {"value": "from-settings"}}},
    )
    fapilog.get_logger("p").info("m")
    assert fapilog.flush(5.0)
    assert CountingSink.delivered == [("from-settings", 0)]


def test_config_model_errors_name_plugin_and_field() -> None:
    """A setting the plugin's config model does not accept is a ConfigError naming plugin and field."""
    with pytest.raises(fapilog.ConfigError) as info:
        fapilog.configure(sinks=[{"type": "counting", "lable": "typo"}])
    assert "sinks[0]" in str(info.value) and "counting" in str(info.value) and "lable" in str(info.value)


def test_disabled_plugins_are_skipped_and_denied_ones_refused() -> None:
    """A disabled plugin is left out; a denied or not-allowed one is a ConfigError naming it."""
    fapilog.configure(sinks=["counting", "memory"], plugins={"disabled": ["counting"]})
    assert set(fapilog.stats()["sinks"]) == {"memory"}
    with pytest.raises(fapilog.ConfigError, match=r"'counting' is listed in plugins\.deny"):
        fapilog.configure(sinks=["counting"], plugins={"deny": ["counting"]})
    with pytest.raises(fapilog.ConfigError, match=r"'counting' is not in plugins\.allow"):
        fapilog.configure(sinks=["counting"], plugins={"allow": ["memory"]})


def test_unknown_plugin_error_suggests_what_to_install() -> None:
    """A configured plugin nobody provides fails configure() saying to install what provides it, naming no
    made-up package."""
    with pytest.raises(fapilog.PluginNotFoundError) as info:
        fapilog.configure(sinks=["kafka"])
    assert "sinks[0]" in str(info.value) and "install that package" in str(info.value)
    assert "fapilog-kafka" not in str(info.value)


def test_dependencies_start_first_and_missing_ones_are_errors() -> None:
    """A plugin's requirement is started before it; without it configure() names the missing plugin."""
    fapilog.configure(sinks=["memory"], processors=["needs-tag"], enrichers=["tag"])
    assert NeedsTag.order == ["needs-tag"]
    starts = [i.name for i in default_registry().instances() if i.state == "started"]
    assert starts.index("tag") < starts.index("needs-tag")
    fapilog.shutdown(1.0)
    with pytest.raises(fapilog.PluginError, match="tag"):
        fapilog.configure(sinks=["memory"], processors=["needs-tag"])


def test_reload_under_load_loses_and_duplicates_nothing() -> None:
    """While 4 threads log, two reloads swap the sink instance; every seq arrives exactly once, in order."""
    fapilog.configure(sinks=[{"type": "counting", "label": "a"}], queue={"capacity": 200_000})
    log = fapilog.get_logger("load")
    go = threading.Event()

    def produce() -> None:
        go.wait()
        for i in range(5_000):
            log.info("e", i=i)

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for t in threads:
        t.start()
    go.set()
    fapilog.reload_plugin("counting", label="b")
    fapilog.reload_plugin("counting", label="c")
    for t in threads:
        t.join()
    assert fapilog.flush(30.0)
    seqs = [seq for _, seq in CountingSink.delivered]
    assert seqs == list(range(20_000))
    labels = [label for label, _ in CountingSink.delivered]
    assert labels == sorted(labels)  # all of a, then all of b, then all of c: a clean hand-over
    assert CountingSink.events[:2] == ["start a", "start b"]
    assert CountingSink.events.index("flush a") < CountingSink.events.index("stop a")
    assert "stop b" in CountingSink.events


def test_reload_with_bad_settings_keeps_the_old_instance() -> None:
    """A reload whose settings fail validation raises and leaves the running instance in place."""
    fapilog.configure(sinks=["counting"])
    with pytest.raises(fapilog.ConfigError):
        fapilog.reload_plugin("counting", lable="oops")
    fapilog.get_logger("p").info("still delivered")
    assert fapilog.flush(5.0)
    assert CountingSink.delivered == [("a", 0)]


def test_load_and_unload_on_a_running_pipeline() -> None:
    """load_plugin adds a sink that gets later events; unload_plugin delivers what it holds then stops it."""
    fapilog.configure(sinks=["memory"])
    log = fapilog.get_logger("p")
    log.info("before")
    assert fapilog.load_plugin("sink", {"type": "counting", "label": "late"}) == "counting"
    log.info("during")
    fapilog.unload_plugin("counting")
    log.info("after")
    assert fapilog.flush(5.0)
    assert CountingSink.delivered == [("late", 1)]
    assert CountingSink.events == ["start late", "flush late", "stop late"]
    with pytest.raises(fapilog.PluginNotFoundError, match="running: memory"):
        fapilog.unload_plugin("counting")


def test_health_reports_timeouts_and_exceptions_as_unhealthy() -> None:
    """health() bounds each check; a hanging check and a raising one are unhealthy with the reason."""
    fapilog.configure(sinks=["memory", "slow-health", "broken-health"])
    report = fapilog.health(timeout=0.2)
    assert report["memory"].status == "healthy"
    assert report["slow-health"].status == "unhealthy" and "timed out" in report["slow-health"].detail
    assert report["broken-health"].status == "unhealthy" and "OSError: disk gone" in report["broken-health"].detail
    async_report = asyncio.run(fapilog.ahealth(timeout=0.2))
    assert async_report["broken-health"].status == "unhealthy"


def test_debug_plugins_shows_running_plugins_with_state_health_and_times() -> None:
    """debug_plugins() prints and returns rows with state, health and start time for running plugins."""
    fapilog.configure(sinks=["memory", "broken-health"])
    out = io.StringIO()
    rows = {row["name"]: row for row in fapilog.debug_plugins(out, health_timeout=0.5)}
    assert rows["memory"]["state"] == "started" and rows["memory"]["health"] == "healthy"
    assert rows["memory"]["distribution"] == "fapilog" and rows["memory"]["start_ms"] is not None
    assert rows["broken-health"]["health"] == "unhealthy"
    # Listed though not running: "discovered", or "stopped" when an earlier test in this process ran it, "loaded"
    # when one imported it without running it (a configure() refused after the lookup), or "failed" when one
    # configured it with bad settings.
    assert rows["file"]["state"] in ("discovered", "loaded", "stopped", "failed")
    assert rows["file"].get("health", "-") == "-"
    text = out.getvalue()
    assert "HEALTH" in text and "broken-health" in text and "disk gone" in text


def test_load_plugin_honours_the_switches() -> None:
    """load_plugin refuses a denied plugin and a disabled one, like configure() does."""
    fapilog.configure(sinks=["memory"], plugins={"deny": ["counting"], "disabled": ["tag"]})
    with pytest.raises(fapilog.ConfigError, match=r"plugins\.deny"):
        fapilog.load_plugin("sink", "counting")
    with pytest.raises(fapilog.ConfigError, match=r"plugins\.disabled"):
        fapilog.load_plugin("enricher", "tag")
    rows = {row["name"]: row for row in fapilog.debug_plugins(io.StringIO(), health_timeout=0.2)}
    assert rows["tag"]["state"] == "disabled"


def test_a_second_instance_goes_by_its_own_name() -> None:
    """{"type": "memory", "name": "audit"} runs, reports and reloads as 'audit'."""
    fapilog.configure(sinks=["memory", {"type": "memory", "name": "audit"}])
    fapilog.get_logger("p").info("both")
    assert fapilog.flush(5.0)
    assert set(fapilog.stats()["sinks"]) == {"memory", "audit"}
    fapilog.reload_plugin("audit", max_records=10)
    fapilog.get_logger("p").info("after reload")
    assert fapilog.flush(5.0)
    assert fapilog.stats()["sinks"]["audit"]["delivered"] == 2


def test_a_plugin_whose_start_outlasts_the_timeout_is_refused_and_never_added() -> None:
    """load_plugin(timeout=...) of a sink whose start() hangs raises a coded PluginLoadError, stops the
    instance, and the pipeline never runs it (before: a bare TimeoutError, and the sink was added later)."""

    class Slow:
        metadata = PluginMetadata(name="slow", version="1.0.0", kind="sink")

        def __init__(self) -> None:
            self.stopped = threading.Event()

        async def start(self) -> None:
            await asyncio.sleep(1.0)

        async def stop(self) -> None:
            self.stopped.set()

        async def write(self, record: Mapping[str, Any]) -> None:
            """Never reached: the sink is not added."""

    fapilog.configure(sinks=["memory"])
    slow = Slow()
    with pytest.raises(fapilog.PluginLoadError) as raised:
        fapilog.load_plugin("sink", slow, timeout=0.2)
    assert raised.value.code == "FL-RUN-001" and "did not finish within 0.2s" in str(raised.value)
    assert slow.stopped.wait(5.0)
    fapilog.get_logger("t").info("after")
    assert fapilog.flush(5.0).ok
    assert list(fapilog.stats()["sinks"]) == ["memory"]


def _sink_busy(name: str) -> bool:
    counts = fapilog.stats()["sinks"][name]
    return counts["in_flight"] + counts["buffered"] > 0


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_reload_of_a_sink_that_cannot_drain_in_time_raises_a_coded_timeout_and_keeps_the_old_instance() -> None:
    """reload_plugin() past its timeout raises PluginTimeoutError (FL-RUN-011, also a TimeoutError) naming the
    plugin and the step; the new instance is stopped and the old one keeps delivering."""
    fapilog.configure(sinks=["stuck"], sink_defaults={"write_timeout": 300.0})
    log = fapilog.get_logger("r")
    log.info("held")
    assert _wait_for(lambda: _sink_busy("stuck"))
    with pytest.raises(fapilog.PluginTimeoutError) as raised:
        fapilog.reload_plugin("stuck", timeout=0.3)
    error = raised.value
    assert isinstance(error, TimeoutError) and error.code == "FL-RUN-011" and error.plugin == "stuck"
    assert "reload_plugin('stuck')" in str(error) and "did not finish writing" in str(error)
    assert "larger timeout" in str(error)
    old, fresh = StuckSink.instances
    assert fresh.stopped and not old.stopped
    StuckSink.release.set()
    log.info("after")
    assert fapilog.flush(5.0)
    assert old.written == ["held", "after"] and fresh.written == []


def test_unload_of_a_sink_that_cannot_drain_in_time_raises_a_coded_timeout_and_keeps_it() -> None:
    """unload_plugin() past its timeout raises PluginTimeoutError and leaves the sink running, nothing lost."""
    fapilog.configure(sinks=["stuck"], sink_defaults={"write_timeout": 300.0})
    log = fapilog.get_logger("u")
    log.info("held")
    assert _wait_for(lambda: _sink_busy("stuck"))
    with pytest.raises(fapilog.PluginTimeoutError, match=r"unload_plugin\('stuck'\).*it keeps running"):
        fapilog.unload_plugin("stuck", timeout=0.3)
    StuckSink.release.set()
    log.info("after")
    assert fapilog.flush(5.0)
    (sink,) = StuckSink.instances
    assert sink.written == ["held", "after"] and not sink.stopped


def test_a_plugin_call_the_blocked_worker_cannot_answer_raises_a_coded_timeout() -> None:
    """load_plugin() while plugin code blocks the worker's loop raises PluginTimeoutError saying so, not a bare
    TimeoutError; once the loop is free the pipeline works again."""
    fapilog.configure(sinks=["blocking", "memory"])
    fapilog.get_logger("b").info("blocks the loop")
    with pytest.raises(fapilog.PluginTimeoutError) as raised:
        fapilog.load_plugin("enricher", {"type": "tag", "value": "late"}, timeout=0.1)
    assert raised.value.code == "FL-RUN-011" and "blocking the worker's event loop" in str(raised.value)
    assert raised.value.plugin == "tag"
    BlockingSink.release.set()
    fapilog.get_logger("b").info("free again")
    assert fapilog.flush(5.0)


def test_events_a_dying_worker_had_taken_but_not_processed_reach_the_next_pipeline() -> None:
    """A worker that dies holding a batch it never processed (waiting for a reload's batch lock) gives it back:
    the restarted pipeline delivers it, in order, and the reload that was cut short says so (FL-RUN-005)."""
    from fapilog._engine import state

    # A write timeout far beyond the test: on a loaded machine the stuck write must not time out (and let the
    # reload finish) before the worker is killed.
    fapilog.configure(sinks=["stuck"], sink_defaults={"write_timeout": 300.0})
    log = fapilog.get_logger("d")
    log.info("in the sink")
    assert _wait_for(lambda: _sink_busy("stuck"))
    outcome: list[BaseException] = []

    def reload() -> None:
        try:
            fapilog.reload_plugin("stuck", timeout=30.0)
        except fapilog.PluginError as exc:
            outcome.append(exc)

    reloading = threading.Thread(target=reload)
    reloading.start()
    assert _wait_for(lambda: len(StuckSink.instances) == 2)  # the swap holds the batch lock, draining the old sink
    for i in range(3):
        log.info("taken", i=i)
    runtime = state._runtime
    assert runtime is not None and runtime.worker is not None and runtime.worker.loop is not None
    worker = runtime.worker
    # The worker takes a batch and waits for the lock with it. It may wake between two of the calls (a loaded
    # machine) and take only the first: what it holds and what is still queued are then delivered, in order.
    assert _wait_for(lambda: len(worker.holding) >= 1
                     and len(worker.holding) + fapilog.stats()["queue"]["depth"] == 3)

    def die() -> None:
        raise SystemExit("killed on purpose by the test")

    runtime.worker.loop.call_soon_threadsafe(die)
    assert runtime.worker.finished.wait(10)
    reloading.join(10)
    assert [getattr(exc, "code", None) for exc in outcome] == ["FL-RUN-005"]
    assert "stopped before the change finished" in str(outcome[0])
    StuckSink.release.set()
    log.info("after")
    assert fapilog.flush(10.0)
    successor = StuckSink.instances[-1]
    assert successor.written == ["taken", "taken", "taken", "after"]
    stats = fapilog.stats()
    counts = stats["sinks"]["stuck"]
    assert stats["restarts"] == 1 and stats["submitted"] == 5
    assert counts["delivered"] == 4 and counts["errors"] == {"worker_died": 1}


def test_a_reloaded_stream_sink_keeps_the_format_its_plugin_settings_chose(capfd: pytest.CaptureFixture[str]) -> None:
    """plugins.settings.stdout.format wins over the global format for a reloaded sink as for the built one."""
    fapilog.configure(sinks=["stdout"], plugins={"settings": {"stdout": {"format": "console", "colour": False}}})
    log = fapilog.get_logger("reloaded")
    log.info("before")
    assert fapilog.flush(10.0).ok
    fapilog.reload_plugin("stdout")
    log.info("after")
    assert fapilog.flush(10.0).ok
    lines = capfd.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["INFO     reloaded: before", "INFO     reloaded: after"]
