"""Service supervision (spec/coordinator.md §10.2) on real child processes serving health over UDS."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_harness import ECHO_SERVICE, pid_alive

from angzarr_coordinator.supervisor import Backoff, ServiceLaunch, ServiceStartError, Supervisor


def test_backoff_doubles_to_thirty_seconds_and_resets_after_a_healthy_minute():
    b = Backoff()
    assert [b.next_delay(1.0) for _ in range(9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert b.next_delay(60.0) == 0.5
    assert b.next_delay(59.9) == 1.0


@given(st.lists(st.floats(min_value=0, max_value=200, allow_nan=False), min_size=1, max_size=40))
def test_backoff_stays_within_bounds(runs):
    b = Backoff()
    previous = None
    for healthy_for in runs:
        delay = b.next_delay(healthy_for)
        assert 0.5 <= delay <= 30.0
        if healthy_for >= 60.0 or previous is None:
            assert delay == 0.5
        else:
            assert delay == min(previous * 2, 30.0)
        previous = delay


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="azv"))
    yield path
    for pidfile in path.glob("*.pid"):
        pid = int(pidfile.read_text())
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def launch(workdir: Path, name: str, **env: str) -> ServiceLaunch:
    full = dict(os.environ, TRANSPORT_TYPE="uds", UDS_BASE_PATH=str(workdir), SERVICE_NAME="business",
                DOMAIN=name, ECHO_STATE_DIR=str(workdir), **env)
    return ServiceLaunch(name, (sys.executable, str(ECHO_SERVICE)), full, f"{workdir}/business-{name}.sock")


async def wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_start_restart_and_stop(workdir):
    events: list[tuple[str, bool]] = []
    sup = Supervisor([launch(workdir, "a"), launch(workdir, "b")], lambda n, ok: events.append((n, ok)),
                     backoff=lambda: Backoff(initial=0.05))
    await sup.start()
    try:
        first = sup.process("a").pid
        assert pid_alive(first) and pid_alive(sup.process("b").pid)
        assert list(sup.process("a").stderr_tail) == ["echo a: a line on stderr"]

        os.kill(first, signal.SIGKILL)
        await wait_for(lambda: events == [("a", False), ("a", True)], "restart of a")
        assert sup.restarts == {"a": 1, "b": 0}
        assert sup.process("a").pid != first
    finally:
        await sup.stop(term_timeout=5.0)
    assert not pid_alive(sup.process("a").pid) and not pid_alive(sup.process("b").pid)
    assert sup.process("a").process.returncode == 0  # stopped by SIGTERM, exited cleanly


async def test_a_service_failing_at_start_reports_its_stderr_and_stops_the_others(workdir):
    sup = Supervisor([launch(workdir, "a"), launch(workdir, "b", ECHO_FAIL_AT_START="bad config")])
    with pytest.raises(ServiceStartError) as info:
        await sup.start()
    assert info.value.service == "b"
    assert "exited with code 3 before it was healthy" in str(info.value)
    assert info.value.stderr_tail == ["echo b: refusing to start: bad config"]
    assert not pid_alive(int((workdir / "a.pid").read_text()))


async def test_a_service_not_serving_in_time_fails_start(workdir):
    silent = ServiceLaunch("s", (sys.executable, "-c", "import sys,time; print('waiting', file=sys.stderr, "
                                "flush=True); time.sleep(60)"), dict(os.environ), f"{workdir}/none.sock")
    sup = Supervisor([silent], start_timeout=0.5)
    with pytest.raises(ServiceStartError) as info:
        await sup.start()
    assert "was not SERVING on" in info.value.reason and "within 0.5 s" in info.value.reason
    assert info.value.stderr_tail == ["waiting"]


async def test_a_missing_executable_is_a_start_error(workdir):
    sup = Supervisor([ServiceLaunch("x", (str(workdir / "nope"),), dict(os.environ), f"{workdir}/x.sock")])
    with pytest.raises(ServiceStartError, match="could not be started"):
        await sup.start()


async def test_sigterm_ignored_means_sigkill_to_the_group_and_kill_is_immediate(workdir):
    sup = Supervisor([launch(workdir, "a", ECHO_IGNORE_SIGTERM="1"), launch(workdir, "b", ECHO_IGNORE_SIGTERM="1")])
    await sup.start()
    a, b = sup.process("a"), sup.process("b")
    await a.terminate(0.3)
    assert a.process.returncode == -signal.SIGKILL
    await sup.kill()
    assert b.process.returncode == -signal.SIGKILL
    assert not pid_alive(b.pid)
