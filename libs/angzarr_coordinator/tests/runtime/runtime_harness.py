"""Harness of the runtime and CLI tests: a real ``angzarr standalone`` process in a short temp dir.

Unix socket paths must stay under 104 bytes, hence ``mkdtemp(dir="/tmp")``. Output goes to files so a
chatty child never blocks on a full pipe; tests read the JSON log lines from there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

ECHO_SERVICE = Path(__file__).with_name("echo_service.py")
ANGZARR = Path(sys.executable).with_name("angzarr")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def echo_service(name: str, **extra) -> dict:
    """A service entry running the echo service with a command handler for domain ``name``."""
    entry = {"name": name, "command": [sys.executable, str(ECHO_SERVICE)], "hosts": {"command_handler": {"domain": name}}}
    entry.update(extra)
    return entry


class Standalone:
    """One ``angzarr standalone`` process and its directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uds_base = root / "s"
        self.state = root / "state"
        self.state.mkdir()
        self.db = root / "data" / "angzarr.db"
        self.config_path = root / "standalone.yaml"
        self.stdout_path = root / "stdout.log"
        self.stderr_path = root / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.tcp: str | None = None

    def write_config(self, services: list[dict], *, tcp: bool = False, extra: dict | None = None) -> Path:
        config: dict = {
            "version": 1,
            "storage": {"sqlite": {"path": "./data/angzarr.db"}},
            "listen": {"uds_base": str(self.uds_base)},
            "services": services,
        }
        if tcp:
            self.tcp = f"127.0.0.1:{free_port()}"
            config["listen"]["tcp"] = self.tcp
        config.update(extra or {})
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        return self.config_path

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANGZARR_", "LOG_"))}
        env.update(ECHO_STATE_DIR=str(self.state), ANGZARR_LOG_FORMAT="json", OTEL_SDK_DISABLED="true")
        env.pop("ANGZARR_UDS_BASE", None)
        env.update(overrides)
        return env

    def start(self, *args: str, unset: tuple[str, ...] = (), **env: str) -> subprocess.Popen:
        full = self.env(**env)
        for name in unset:
            full.pop(name, None)
        self.proc = subprocess.Popen(
            [str(ANGZARR), "standalone", "-c", str(self.config_path), *args],
            cwd=self.root,
            env=full,
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
            start_new_session=True,
        )
        return self.proc

    def socket(self, service: str) -> Path:
        return self.uds_base / f"ch-{service}.sock"

    def target(self, service: str) -> str:
        return f"unix:{self.socket(service)}"

    def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        """Wait until the listener of ``service`` answers SERVING for ``""``; fail with the logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"standalone exited with {self.proc.returncode}:\n{self.logs()}")
            if self.socket(service).exists() and health_status(self.target(service)) == "SERVING":
                return
            time.sleep(0.05)
        pytest.fail(f"standalone not ready within {timeout} s:\n{self.logs()}")

    def wait_exit(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"standalone did not exit within {timeout} s:\n{self.logs()}")

    def terminate(self, sig: signal.Signals = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def logs(self) -> str:
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return f"--- stdout\n{out[-6000:]}\n--- stderr\n{err[-4000:]}"

    def events(self, name: str | None = None) -> list[dict]:
        """The JSON log lines of stdout (optionally only those with ``event == name``)."""
        out = []
        for line in self.stdout_path.read_text(errors="replace").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and (name is None or item.get("event") == name):
                out.append(item)
        return out

    def wait_event(self, name: str, count: int = 1, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        pytest.fail(f"no {count} '{name}' log line(s) within {timeout} s:\n{self.logs()}")

    def service_pid(self, domain: str) -> int:
        return int((self.state / f"{domain}.pid").read_text())

    def wait_restarted(self, domain: str, old_pid: int, timeout: float = 60.0) -> int:
        """Wait until ``domain``'s service runs again under a new pid and answers health."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.service_pid(domain)
            if pid != old_pid and health_status(self.target(domain), domain) == "SERVING":
                return pid
            time.sleep(0.05)
        pytest.fail(f"{domain} not restarted within {timeout} s:\n{self.logs()}")

    def service_env(self, domain: str) -> dict[str, str]:
        return json.loads((self.state / f"{domain}.env.json").read_text())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def health_status(target: str, service: str = "") -> str:
    """The health status name of ``service`` at ``target``, or the gRPC error code name."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError as e:
            return e.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def make_standalone() -> Standalone:
    return Standalone(Path(tempfile.mkdtemp(dir="/tmp", prefix="az")))


def cleanup_standalone(sa: Standalone) -> None:
    sa.kill()
    for pidfile in sa.state.glob("*.pid"):
        pid = int(pidfile.read_text())
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(sa.root, ignore_errors=True)
