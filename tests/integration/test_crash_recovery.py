"""A consumer process killed or stopped mid-handler: its work lands exactly once."""

import asyncio
import signal
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from assistant_runtime.runtime import STOP_MARGIN_S, ServiceRuntime
from assistant_schemas.topics import Topic
from conftest import applied_counts, is_ready, probe_settings, wait_until, write_to_outbox
from messaging_probe import probe
from service_process import ServiceProcess, free_port

LaunchProbe = Callable[[], ServiceProcess]


@pytest.fixture
def probe_process(
    service_name: str, probe_topic: Topic, probe_schema: str
) -> Iterator[LaunchProbe]:
    started: list[ServiceProcess] = []

    def launch() -> ServiceProcess:
        port = free_port()
        process = ServiceProcess(
            "messaging_probe",
            port,
            {
                "PROBE_SERVICE": service_name,
                "PROBE_TOPIC": probe_topic.name,
                "PROBE_HTTP_PORT": str(port),
                "PROBE_SHUTDOWN_GRACE_S": "20",
            },
        )
        started.append(process)
        process.wait_ready()
        return process

    yield launch
    for process in started:
        process.stop()


async def test_sigkill_mid_handler_applies_the_event_exactly_once_after_restart(
    engine: AsyncEngine, probe_topic: Topic, probe_process: LaunchProbe
) -> None:
    first = probe_process()
    user = probe.usage_event().user_id
    before = [probe.usage_event("ok", user) for _ in range(5)]
    slow = probe.usage_event("sleep:2", user)
    after = [probe.usage_event("ok", user) for _ in range(5)]
    await write_to_outbox(engine, before, probe_topic)
    await write_to_outbox(engine, [slow, *after], probe_topic)

    await asyncio.to_thread(first.wait_for_line, ["probe handling", str(slow.event_id)])
    first.kill()
    # The killed transaction rolled back: nothing of the slow event is visible.
    assert (await applied_counts(engine, [slow.event_id]))[slow.event_id] == 0

    probe_process()
    ids = [e.event_id for e in (*before, slow, *after)]

    async def all_applied() -> bool:
        return all(n >= 1 for n in (await applied_counts(engine, ids)).values())

    await wait_until(all_applied, timeout=60, what="every event applied after the restart")
    await asyncio.sleep(2)  # give any duplicate delivery time to show up
    assert set((await applied_counts(engine, ids)).values()) == {1}


async def test_sigterm_finishes_the_in_flight_handler_and_commits_it(
    engine: AsyncEngine, probe_topic: Topic, probe_process: LaunchProbe
) -> None:
    first = probe_process()
    slow = probe.usage_event("sleep:2")
    await write_to_outbox(engine, [slow], probe_topic)
    await asyncio.to_thread(first.wait_for_line, ["probe handling", str(slow.event_id)])

    exit_code = await asyncio.to_thread(first.terminate)

    # uvicorn re-raises the signal once its graceful shutdown is done, hence -SIGTERM.
    assert exit_code in (0, -signal.SIGTERM)
    assert any('"service stopped"' in line for line in first.output), "shutdown was not graceful"
    assert (await applied_counts(engine, [slow.event_id]))[slow.event_id] == 1
    # Its offset was committed too: a new instance does not apply it again.
    probe_process()
    marker = probe.usage_event("ok", slow.user_id)
    await write_to_outbox(engine, [marker], probe_topic)

    async def marker_applied() -> bool:
        return (await applied_counts(engine, [marker.event_id]))[marker.event_id] == 1

    await wait_until(marker_applied, timeout=30, what="a later event on the same partition")
    assert (await applied_counts(engine, [slow.event_id]))[slow.event_id] == 1


class NeverStops:
    """A part whose stop waits forever, as a client blocked on an unanswering peer would."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await asyncio.Event().wait()


async def test_a_part_that_never_stops_does_not_keep_the_service_from_stopping(
    service_name: str, probe_topic: Topic
) -> None:
    runtime = ServiceRuntime(
        probe.definition(service_name, probe_topic), probe_settings(shutdown_grace_s=1)
    )
    runtime.components.append(NeverStops())
    await runtime.start()
    await wait_until(lambda: is_ready(runtime), timeout=30, what="probe ready")
    started = asyncio.get_running_loop().time()
    with capture_logs() as logs:
        await asyncio.wait_for(runtime.stop(), timeout=20)
    took = asyncio.get_running_loop().time() - started
    assert 1 + STOP_MARGIN_S <= took < 1 + STOP_MARGIN_S + 8  # waited its budget, then went on
    [late] = [entry for entry in logs if entry["log_level"] == "error"]
    assert late["part"] == "NeverStops"
    assert logs[-1]["event"] == "service stopped"  # the parts after it were stopped all the same
