"""Run a service's ``python -m <package>`` as a real process for tests, and wait until it reports SERVING."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["ServedModule", "serving_module", "wait_until_serving"]


@dataclass
class ServedModule:
    """A ``python -m`` process and a channel to it; ``output`` is filled in once the process has stopped."""

    process: subprocess.Popen
    channel: grpc.Channel
    output: str = ""


def wait_until_serving(
    channel: grpc.Channel, process: subprocess.Popen, *, what: str, limit_seconds: float = 30.0
) -> None:
    """Poll the overall health status on ``channel`` until it is SERVING.

    Raises:
        AssertionError: ``process`` exited first (its output is in the message), or ``limit_seconds``
            passed without SERVING.
    """
    health = health_pb2_grpc.HealthStub(channel)
    give_up = time.monotonic() + limit_seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited early: {process.stdout.read().decode(errors='replace')}")
        try:
            reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > give_up:
            raise AssertionError(f"{what} did not report SERVING")
        time.sleep(0.1)


@contextmanager
def serving_module(
    module: str,
    target: str,
    env: Mapping[str, str],
    *,
    cwd: str | Path | None = None,
    startup_limit_seconds: float = 30.0,
    stop_timeout_seconds: float = 30.0,
) -> Iterator[ServedModule]:
    """Start ``python -m module`` with ``env``, dial ``target`` and yield once it reports SERVING.

    On exit the channel is closed and the process gets SIGTERM; its exit code is
    ``served.process.returncode`` and its combined stdout/stderr ``served.output``, for the
    caller to assert on.

    Raises:
        AssertionError: the process exited or did not report SERVING in time (see ``wait_until_serving``).
        subprocess.TimeoutExpired: the process did not stop within ``stop_timeout_seconds``.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", module], env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    served = ServedModule(process=process, channel=grpc.insecure_channel(target))
    try:
        wait_until_serving(served.channel, process, what=f"python -m {module}", limit_seconds=startup_limit_seconds)
        yield served
    finally:
        served.channel.close()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=stop_timeout_seconds)
        served.output = output.decode(errors="replace")
