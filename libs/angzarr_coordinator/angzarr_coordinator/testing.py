"""``angzarr standalone`` as a real process for a service's tests: a private directory, a config written
there, the coordinator sockets under ``<root>/s``, and a wait until each domain's coordinator is SERVING."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["StandaloneProcess"]

ANGZARR = Path(sys.executable).with_name("angzarr")
# Variables of the test runner's own environment that would change how the runtime logs or traces.
CLEARED_ENV_PREFIXES = ("OTEL_", "ANGZARR_", "LOG_")


class StandaloneProcess:
    """``angzarr standalone -c <root>/standalone.yaml`` in its own session; its output in ``<root>/<output>``.

    Point the config's ``listen.uds_base`` at ``.uds``; ``endpoint(domain)`` is then that domain's
    coordinator socket.
    """

    def __init__(self, root: Path, *, output: str = "output.log", wait_seconds: float = 60.0) -> None:
        self.root = root
        self.uds = root / "s"
        self.config = root / "standalone.yaml"
        self.output = root / output
        self.wait_seconds = wait_seconds
        self.proc: subprocess.Popen | None = None

    def start(
        self, config: dict[str, Any], domains: Iterable[str], *, clear_env: tuple[str, ...] = CLEARED_ENV_PREFIXES
    ) -> None:
        """Write ``config``, start the runtime (without variables starting with ``clear_env``) and wait
        until the coordinator of every one of ``domains`` reports SERVING.

        Raises:
            AssertionError: the runtime exited, or a coordinator did not serve within ``wait_seconds``.
        """
        self.config.write_text(yaml.safe_dump(config, sort_keys=False))
        env = {k: v for k, v in os.environ.items() if not k.startswith(clear_env)}
        env.update(ANGZARR_LOG_FORMAT="json", OTEL_SDK_DISABLED="true")
        self.proc = subprocess.Popen([str(ANGZARR), "standalone", "-c", str(self.config)], cwd=self.root, env=env,
                                     stdout=self.output.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        for domain in domains:
            self.wait_serving(domain)

    def endpoint(self, domain: str) -> str:
        return str(self.uds / f"ch-{domain}.sock")

    def wait_serving(self, domain: str) -> None:
        """Poll the health of ``domain``'s coordinator socket until it is SERVING.

        Raises:
            AssertionError: the runtime exited, or ``wait_seconds`` passed; the message holds its output.
        """
        socket = Path(self.endpoint(domain))
        give_up = time.monotonic() + self.wait_seconds
        while time.monotonic() < give_up:
            if self.proc.poll() is not None:
                raise AssertionError(f"angzarr standalone exited with {self.proc.returncode}:\n{self.logs()}")
            if socket.exists():
                with grpc.insecure_channel(f"unix:{socket}") as channel:
                    try:
                        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
                        if reply.status == health_pb2.HealthCheckResponse.SERVING:
                            return
                    except grpc.RpcError:
                        pass
            time.sleep(0.1)
        raise AssertionError(f"ch-{domain} is not serving:\n{self.logs()}")

    def logs(self) -> str:
        """The last 8000 characters of the runtime's output."""
        return self.output.read_text(errors="replace")[-8000:] if self.output.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the whole session after 30 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
