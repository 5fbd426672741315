"""Interoperability fixtures.

* ``published_python`` / ``run_published``: the published ``angzarr-client`` 0.3.1, the wire-protocol
  reference peer, installed from the package index into ``<repo>/.tools/interop-venv`` (gitignored,
  reused when present) and only ever run in a subprocess of that environment: it is never imported into
  ours and never vendored.
* ``player_coordinator``: a real ``angzarr standalone`` process serving the player domain (the player
  aggregate served by this library) on a Unix socket and on TCP.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import yaml

from angzarr_client import NoRetry, QueryClient
from angzarr_client.books import new_cover
from angzarr_client.errors import GRPCError
from angzarr_client.proto.angzarr import types_pb2

PUBLISHED = "angzarr-client==0.3.1"
REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".tools" / "interop-venv"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    try:
        probe = subprocess.run(
            [str(python), "-I", "-c", "import importlib.metadata as m; print(m.version('angzarr-client'))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def _usable(python: Path) -> bool:
    try:
        return (
            subprocess.run([str(python), "-I", "-c", "pass"], capture_output=True, timeout=60).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _run(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"{what} failed: {exc}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}). This test needs the package index to install "
            f"{PUBLISHED}; check network access or pre-create {VENV}.\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def published_python() -> Path:
    """The Python of a virtual environment holding the published ``angzarr-client`` 0.3.1.

    Fails (never skips) with a clear message when the package cannot be installed.
    """
    python = _venv_python(VENV)
    if _installed_version(python) == "0.3.1":
        return python
    VENV.parent.mkdir(parents=True, exist_ok=True)
    # Concurrent test runs share the environment: one builds it while the others wait.
    with (VENV.parent / "interop-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _build_venv(python)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_venv(python: Path) -> Path:
    if _installed_version(python) == "0.3.1":
        return python
    if VENV.exists() and not _usable(python):
        shutil.rmtree(VENV)  # a stale environment (e.g. its Python moved): rebuild it
    uv = shutil.which("uv")
    if uv:
        if not python.exists():
            _run([uv, "venv", "--quiet", "--python", sys.executable, str(VENV)], f"creating {VENV}")
        _run([uv, "pip", "install", "--quiet", "--python", str(python), PUBLISHED], f"installing {PUBLISHED}")
    else:
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(VENV)], f"creating {VENV}")
        _run([str(python), "-m", "pip", "install", "--quiet", PUBLISHED], f"installing {PUBLISHED}")
    version = _installed_version(python)
    if version != "0.3.1":
        pytest.fail(f"{VENV} should hold angzarr-client 0.3.1, found {version!r}", pytrace=False)
    return python


@pytest.fixture(scope="session")
def run_published(published_python):
    """Run ``tests/interop/published_side.py`` in the published environment: JSON in, JSON out."""
    script = Path(__file__).with_name("published_side.py")

    def run(request: dict) -> dict:
        # -I: isolated mode, so neither this repository nor PYTHONPATH can shadow the published package.
        done = subprocess.run(
            [str(published_python), "-I", str(script)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=str(VENV),
        )
        if done.returncode != 0:
            raise AssertionError(f"published side failed (exit {done.returncode}):\n{done.stderr}")
        return json.loads(done.stdout)

    return run


ANGZARR = Path(sys.executable).with_name("angzarr")


@dataclass(frozen=True)
class RunningCoordinator:
    """Where a standalone coordinator for the player domain listens."""

    socket_path: str
    tcp: str
    root: Path

    def logs(self) -> str:
        path = self.root / "standalone.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(endpoint: str, proc: subprocess.Popen, logs) -> None:
    """Poll with a query until the player coordinator answers (bounded; fails with the logs)."""
    probe = types_pb2.Query(cover=new_cover("player", uuid.uuid4()))
    for _ in range(600):
        if proc.poll() is not None:
            pytest.fail(f"angzarr standalone exited with {proc.returncode}:\n{logs()}")
        if not endpoint.startswith("/") or os.path.exists(endpoint):
            try:
                with QueryClient(endpoint, retry=NoRetry(), default_timeout=2) as client:
                    client.get_event_book(probe)
                return
            except GRPCError as exc:
                if exc.code != grpc.StatusCode.UNAVAILABLE:
                    raise
        time.sleep(0.1)
    pytest.fail(f"angzarr standalone not serving the player domain at {endpoint} within 60 s:\n{logs()}")


@contextlib.contextmanager
def _player_standalone(service: dict, prefix: str):
    """``angzarr standalone`` whose only service, ``player``, is ``service`` (a config entry without its
    name and hosts), in a short temp directory; yields once both listeners answer queries."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))  # Unix socket paths must stay short
    uds_base = root / "s"
    tcp = f"127.0.0.1:{_free_port()}"
    config = {
        "version": 1,
        "storage": {"sqlite": {"path": "./data/angzarr.db"}},
        "listen": {"uds_base": str(uds_base), "tcp": tcp},
        "services": [{"name": "player", **service, "hosts": {"command_handler": {"domain": "player"}}}],
    }
    (root / "standalone.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANGZARR_", "LOG_"))}
    env["OTEL_SDK_DISABLED"] = "true"
    log = (root / "standalone.log").open("wb")
    proc = subprocess.Popen(
        [str(ANGZARR), "standalone", "-c", str(root / "standalone.yaml")],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = RunningCoordinator(str(uds_base / "ch-player.sock"), tcp, root)
    try:
        _wait_until_serving(running.socket_path, proc, running.logs)
        _wait_until_serving(running.tcp, proc, running.logs)
        yield running
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def player_standalone():
    """The ``_player_standalone`` context manager, for tests that host their own player service."""
    return _player_standalone


@pytest.fixture(scope="module")
def player_coordinator():
    """``angzarr standalone`` with the player service (``python -m player``), in a short temp directory."""
    with _player_standalone({"command": [sys.executable, "-m", "player"]}, "azi") as running:
        yield running
