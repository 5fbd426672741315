"""Starting, watching and stopping the business service processes of standalone mode (§10.1, §10.2).

Services start in configuration order; each must answer ``SERVING`` on ``grpc.health.v1`` within the
start timeout, else startup fails showing its last stderr lines. An exited service is restarted after
a backoff (0.5 s doubling to 30 s, back to 0.5 s once a run stayed healthy for 60 s); while it is down
the runtime is told through ``on_availability`` so its domain answers ``UNAVAILABLE``. Each service runs
in its own process group so stopping it also stops whatever it spawned. Its output is re-logged line by
line with the service name.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_coordinator.config import grpc_target

log = structlog.get_logger("angzarr.supervisor")

STDERR_TAIL_LINES = 20

AvailabilityCallback = Callable[[str, bool], Awaitable[None] | None]


class ServiceStartError(Exception):
    """A service did not become healthy; ``stderr_tail`` holds its last stderr lines."""

    def __init__(self, service: str, reason: str, stderr_tail: Sequence[str] = ()) -> None:
        self.service, self.reason, self.stderr_tail = service, reason, list(stderr_tail)
        tail = "\n".join(f"    {line}" for line in self.stderr_tail) or "    (no output on stderr)"
        super().__init__(f"service '{service}' {reason}; its last stderr lines:\n{tail}")


@dataclass(slots=True)
class Backoff:
    """Restart delays: ``initial`` doubling up to ``maximum``; a run healthy for ``reset_after``
    seconds starts the sequence again."""

    initial: float = 0.5
    maximum: float = 30.0
    reset_after: float = 60.0
    _next: float = 0.0

    def next_delay(self, healthy_for: float) -> float:
        """The delay before the next start, given how long the run that just ended was healthy."""
        if self._next == 0.0 or healthy_for >= self.reset_after:
            self._next = self.initial
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay


@dataclass(frozen=True, slots=True)
class ServiceLaunch:
    """How to start one service and where it answers."""

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    endpoint: str
    working_dir: str | None = None


def _json_object(line: str) -> dict | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ServiceProcess:
    """One run of a service: the child process, its re-logged output and its stderr tail."""

    def __init__(self, launch: ServiceLaunch) -> None:
        self.launch = launch
        self.process: asyncio.subprocess.Process | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._relays: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def spawn(self) -> None:
        """Start the process in a new process group. Raises ``ServiceStartError`` if it cannot run."""
        launch = self.launch
        try:
            self.process = await asyncio.create_subprocess_exec(
                *launch.command,
                cwd=launch.working_dir,
                env=dict(launch.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # own process group: signals reach its children too
            )
        except OSError as e:
            raise ServiceStartError(launch.name, f"could not be started ({' '.join(launch.command)}): "
                                                 f"{e.strerror or e}") from None
        assert self.process.stdout is not None and self.process.stderr is not None
        self._relays = [
            asyncio.create_task(self._relay(self.process.stdout, "stdout")),
            asyncio.create_task(self._relay(self.process.stderr, "stderr")),
        ]
        log.info("service_started", service=launch.name, pid=self.process.pid)

    async def _relay(self, stream: asyncio.StreamReader, name: str) -> None:
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                # A line longer than the reader's limit: drop what is buffered and carry on.
                raw = await stream.read(64 * 1024)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if name == "stderr":
                self.stderr_tail.append(line)
            structured = _json_object(line)
            if structured is not None:  # a structured log line stays structured, not an escaped string
                log.info("service_output", service=self.launch.name, stream=name, child=structured)
            else:
                log.info("service_output", service=self.launch.name, stream=name, line=line)

    async def wait_serving(self, timeout: float) -> None:
        """Poll health (service ``""``) until ``SERVING``. Raises ``ServiceStartError`` if the process
        exits first or ``timeout`` passes."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        # Short reconnect backoff: the socket appears a moment after the process starts. gRPC takes the
        # "min" backoff as the time one connection attempt may take: it stays long, or a service slow
        # to finish its handshake on a loaded machine would never be seen serving.
        channel = grpc.aio.insecure_channel(
            grpc_target(self.launch.endpoint),
            options=[("grpc.initial_reconnect_backoff_ms", 50), ("grpc.min_reconnect_backoff_ms", 5000),
                     ("grpc.max_reconnect_backoff_ms", 200)],
        )
        stub = health_pb2_grpc.HealthStub(channel)
        last = "no answer"
        try:
            while True:
                if self.process.returncode is not None:
                    await self.drain_output()
                    raise ServiceStartError(
                        self.launch.name, f"exited with code {self.process.returncode} before it was healthy",
                        self.stderr_tail,
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServiceStartError(
                        self.launch.name,
                        f"was not SERVING on {self.launch.endpoint} within {timeout:g} s (last: {last})",
                        self.stderr_tail,
                    )
                try:
                    reply = await stub.Check(health_pb2.HealthCheckRequest(service=""),
                                             timeout=min(1.0, max(remaining, 0.05)))
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                    last = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                except grpc.aio.AioRpcError as e:
                    last = f"{e.code().name}"
                await asyncio.sleep(0.1)
        finally:
            await channel.close()

    async def drain_output(self) -> None:
        """Wait for the output relays to reach the end of the child's pipes."""
        if self._relays:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._relays, return_exceptions=True), 2.0)

    async def wait_exit(self) -> int | None:
        """Wait for the process to exit; None if it never started."""
        return None if self.process is None else await self.process.wait()

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process group (the service and whatever it spawned)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    async def terminate(self, timeout: float) -> int | None:
        """SIGTERM, then SIGKILL to the whole group after ``timeout``; return the exit code."""
        proc = self.process
        if proc is None:
            return None
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                log.warning("service_killed", service=self.launch.name, after_seconds=timeout)
        # Leftover children of the group, or the service itself if it ignored SIGTERM.
        self.signal_group(signal.SIGKILL)
        await proc.wait()
        await self.drain_output()
        return proc.returncode


class Supervisor:
    """Runs the services of a topology and keeps them running until ``stop``."""

    def __init__(
        self,
        launches: Sequence[ServiceLaunch],
        on_availability: AvailabilityCallback | None = None,
        *,
        start_timeout: float = 30.0,
        backoff: Callable[[], Backoff] = Backoff,
    ) -> None:
        self._launches = list(launches)
        self._on_availability = on_availability
        self._start_timeout = start_timeout
        self._backoff = backoff
        self._running: dict[str, ServiceProcess] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False
        self.restarts: dict[str, int] = {launch.name: 0 for launch in launches}

    def process(self, name: str) -> ServiceProcess | None:
        """The current run of service ``name``."""
        return self._running.get(name)

    async def start(self) -> None:
        """Start every service in order, each healthy before the next. On failure the ones already
        started are stopped and ``ServiceStartError`` is raised."""
        try:
            for launch in self._launches:
                proc = ServiceProcess(launch)
                self._running[launch.name] = proc
                await proc.spawn()
                try:
                    await proc.wait_serving(self._start_timeout)
                except ServiceStartError:
                    await proc.terminate(0.5)
                    raise
                log.info("service_serving", service=launch.name, endpoint=launch.endpoint)
        except BaseException:
            await self.stop(term_timeout=5.0)
            raise
        self._watchers = [asyncio.create_task(self._watch(launch)) for launch in self._launches]

    async def _notify(self, name: str, available: bool) -> None:
        if self._on_availability is None:
            return
        result = self._on_availability(name, available)
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            await result

    async def _watch(self, launch: ServiceLaunch) -> None:
        backoff = self._backoff()
        healthy_since: float | None = time.monotonic()
        while not self._stopping:
            proc = self._running[launch.name]
            code = await proc.wait_exit()
            if self._stopping:
                return
            if healthy_since is not None:
                await self._notify(launch.name, False)
            healthy_for = time.monotonic() - healthy_since if healthy_since is not None else 0.0
            healthy_since = None
            await proc.terminate(0.1)  # reap whatever is left of its process group
            delay = backoff.next_delay(healthy_for)
            log.warning("service_exited", service=launch.name, exit_code=code, restart_in_seconds=delay,
                        stderr_tail=list(proc.stderr_tail)[-5:])
            await asyncio.sleep(delay)
            if self._stopping:
                return
            fresh = ServiceProcess(launch)
            self._running[launch.name] = fresh
            self.restarts[launch.name] += 1
            try:
                await fresh.spawn()
                await fresh.wait_serving(self._start_timeout)
            except ServiceStartError as e:
                log.error("service_restart_failed", service=launch.name, reason=e.reason,
                          stderr_tail=e.stderr_tail[-5:])
                await fresh.terminate(1.0)  # unhealthy but running: stop it; the loop backs off again
                continue
            if self._stopping:
                return
            healthy_since = time.monotonic()
            await self._notify(launch.name, True)
            log.info("service_restarted", service=launch.name, restarts=self.restarts[launch.name])

    async def _stop_watchers(self) -> None:
        self._stopping = True
        current = asyncio.current_task()
        for task in self._watchers:
            if task is not current:
                task.cancel()
        for task in self._watchers:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._watchers = []

    async def stop(self, term_timeout: float = 5.0) -> None:
        """Stop the services in reverse order: SIGTERM, SIGKILL to the process group after
        ``term_timeout``."""
        await self._stop_watchers()
        for launch in reversed(self._launches):
            proc = self._running.get(launch.name)
            if proc is None or proc.process is None:
                continue
            code = await proc.terminate(term_timeout)
            log.info("service_stopped", service=launch.name, exit_code=code)

    async def kill(self) -> None:
        """SIGKILL every service's process group at once (a second shutdown signal)."""
        self._stopping = True
        for proc in self._running.values():
            proc.signal_group(signal.SIGKILL)
        await self._stop_watchers()
        for proc in self._running.values():
            if proc.process is not None:
                await proc.process.wait()
                await proc.drain_output()
