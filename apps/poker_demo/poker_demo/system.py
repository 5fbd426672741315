"""Running ``angzarr standalone`` for the demo and the end-to-end tests: start it in a directory of its
own, wait until every client endpoint answers, find its service processes, stop it cleanly.

The configuration file is copied into the run directory, so its relative paths (the SQLite database, the
services' working directory, the hand log) all land there and each run is a separate system. The client
sockets go to ``uds_base`` (a short directory: Unix socket paths must stay under 104 bytes). The runtime
logs JSON lines to ``<run dir>/standalone.log``; the supervisor's ``service_started`` lines give the
current pid of each business service.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from angzarr_coordinator.config import ConfigError, load_config

LOG_FILE = "standalone.log"
CONFIG_FILE = "standalone.yaml"


class SystemStartError(Exception):
    """The standalone system did not come up; the message carries the end of its log."""


def short_socket_dir(prefix: str = "azp-") -> Path:
    """A new private (0700) directory directly under ``/tmp``, short enough for Unix socket paths."""
    base = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def _angzarr_executable() -> str:
    """The ``angzarr`` CLI installed beside this interpreter, else the one on ``PATH``.

    Raises:
        SystemStartError: there is none.
    """
    beside = Path(sys.executable).with_name("angzarr")
    if beside.exists():
        return str(beside)
    found = shutil.which("angzarr")
    if found is None:
        raise SystemStartError("the 'angzarr' command is not installed: run 'make sync' (uv sync --all-packages)")
    return found


class StandaloneSystem:
    """One ``angzarr standalone`` process running ``config`` in ``run_dir``.

    Use as a context manager, or call ``start()`` and ``stop()``. ``environ`` is the base environment of
    the process (default: ours); ``ANGZARR_UDS_BASE`` is set to ``uds_base`` and this interpreter's
    directory is put first on ``PATH``, so the services' ``python`` is the one the system is installed in.
    """

    def __init__(
        self,
        config: str | Path,
        run_dir: str | Path,
        *,
        uds_base: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.template = Path(config)
        self.run_dir = Path(run_dir).absolute()
        self._own_uds_base = uds_base is None  # ours to remove again once the system has stopped
        self.uds_base = Path(uds_base).absolute() if uds_base else short_socket_dir()
        self._environ = dict(os.environ if environ is None else environ)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None
        self.services: tuple[str, ...] = ()

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.run_dir / CONFIG_FILE

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG_FILE

    def client_socket(self, service: str) -> Path:
        """The client endpoint of ``service``: ``<uds_base>/ch-<service>.sock``."""
        return self.uds_base / f"ch-{service}.sock"

    def client_env(self) -> dict[str, str]:
        """The variables a client needs so ``resolve_ch_endpoint`` finds this system."""
        return {"ANGZARR_MODE": "standalone", "ANGZARR_UDS_BASE": str(self.uds_base)}

    # -- start ---------------------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> None:
        """Start the system and wait until every service's client endpoint reports ``SERVING``.

        Raises:
            SystemStartError: the configuration is invalid (a socket path too long among the reasons), the
                process exited or did not become ready within ``timeout`` seconds (it is stopped again).
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.template, self.config_path)
        env = dict(self._environ)
        env["ANGZARR_UDS_BASE"] = str(self.uds_base)
        env["ANGZARR_LOG_FORMAT"] = "json"  # the log is read back for the services' pids
        env.setdefault("OTEL_SDK_DISABLED", "true")
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        try:
            config = load_config(self.config_path, environ=env)
        except ConfigError as e:
            raise SystemStartError(str(e)) from None
        self.services = tuple(s.name for s in config.topology.services)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [_angzarr_executable(), "standalone", "-c", str(self.config_path)],
            cwd=self.run_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our terminal's Ctrl-C reaches the demo, which stops the system itself
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        while pending:
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process else None
                raise SystemStartError(f"angzarr standalone exited with code {code}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise SystemStartError(f"angzarr standalone not ready within {timeout:.0f} s (waiting for "
                                       f"{', '.join(pending)}):\n{self.log_tail()}")
            if self._serving(pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.1)

    def _serving(self, service: str) -> bool:
        path = self.client_socket(service)
        if not path.exists():
            return False
        with grpc.insecure_channel(f"unix:{path}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            except grpc.RpcError:
                return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    # -- observe -------------------------------------------------------------------------------------
    def log_records(self) -> list[dict]:
        """The runtime's JSON log lines so far (lines that are not JSON are skipped)."""
        if not self.log_path.exists():
            return []
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def service_pids(self) -> dict[str, int]:
        """The pid of the latest start of each business service, from the supervisor's log."""
        pids: dict[str, int] = {}
        for record in self.log_records():
            if record.get("event") == "service_started" and isinstance(record.get("pid"), int):
                pids[str(record.get("service"))] = record["pid"]
        return pids

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the runtime's log."""
        if self._log is not None:
            with contextlib.suppress(ValueError):
                self._log.flush()
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- stop ----------------------------------------------------------------------------------------
    def stop(self, timeout: float = 60.0) -> int | None:
        """Shut the system down with SIGTERM (graceful: services stopped, store closed, sockets removed)
        and return its exit code; after ``timeout`` seconds its whole process group is killed."""
        proc = self.process
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    # Each service leads its own process group, so it is killed apart from the runtime's.
                    for pid in [proc.pid, *self.service_pids().values()]:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(pid, signal.SIGKILL)
                    proc.wait(10)
            code = proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_uds_base and not self.running:
            shutil.rmtree(self.uds_base, ignore_errors=True)
        return code

    def __enter__(self) -> StandaloneSystem:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
