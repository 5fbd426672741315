"""The distributed poker topology as local processes: per service its business process and an
``angzarr coordinator`` sidecar, all sidecars on one PostgreSQL database, TCP everywhere.

What compose.yaml and Kubernetes do with containers, done with processes: each business service listens
on ``127.0.0.1:<port>`` (its sidecar's "localhost"), each sidecar on its own port, and the peers are
found through ``ANGZARR_ENDPOINT_<DOMAIN>`` overrides instead of ``ch-<domain>.<ns>.svc`` names. The
sidecar topology file is the one ``angzarr topology export`` generates from standalone.yaml.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
STANDALONE = REPO / "standalone.yaml"
DOMAINS = ("player", "table", "hand")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _executable(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def health_status(address: str, service: str = "", timeout: float = 1.0) -> int | None:
    """The health status an endpoint reports, None when it does not answer."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                              timeout=timeout)
        except grpc.RpcError:
            return None
        return reply.status


SERVING = health_pb2.HealthCheckResponse.SERVING


def dead_letters(database_url: str) -> list[tuple]:
    """(id, status) of every dead letter in the shared store."""
    async def read() -> list[tuple]:
        conn = await asyncpg.connect(database_url)
        try:
            return [tuple(r) for r in await conn.fetch("SELECT id, status FROM dead_letters")]
        finally:
            await conn.close()

    return asyncio.run(read())


@dataclass
class Proc:
    name: str
    process: subprocess.Popen
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class DistributedSystem:
    """Start with ``start()``; ``stop()`` sends SIGTERM to the sidecars, then to the services."""

    database_url: str
    run_dir: Path
    business_ports: dict[str, int] = field(default_factory=dict)
    sidecar_ports: dict[str, int] = field(default_factory=dict)
    services: dict[str, Proc] = field(default_factory=dict)
    sidecars: dict[str, Proc] = field(default_factory=dict)
    socket_dir: Path | None = None  # set: business services on Unix sockets there (a shared volume in a pod)

    @property
    def topology_file(self) -> Path:
        return self.run_dir / "topology.yaml"

    @property
    def hand_log(self) -> Path:
        return self.run_dir / "hand_log.txt"

    def endpoint(self, domain: str) -> str:
        return f"127.0.0.1:{self.sidecar_ports[domain]}"

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OTEL_", "ANGZARR_", "LOG_", "HAND_LOG_", "UDS_", "DOMAIN", "PORT",
                                    "TRANSPORT_TYPE", "SERVICE_NAME", "DATABASE_URL"))}
        env.update(OTEL_SDK_DISABLED="true", ANGZARR_MODE="distributed", LOG_FORMAT="json")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def sidecar_env(self, domain: str) -> dict[str, str]:
        """The sidecar's environment, as a Deployment or compose.yaml sets it."""
        env = self._base_env()
        env.update(
            DOMAIN=domain, ANGZARR_TOPOLOGY=str(self.topology_file), DATABASE_URL=self.database_url,
            ANGZARR_PORT=str(self.sidecar_ports[domain]), ANGZARR_BIND_HOST="127.0.0.1",
            ANGZARR_DRAIN_SECONDS="5", **self._business_transport(domain),
        )
        for peer in DOMAINS:
            env[f"ANGZARR_ENDPOINT_{peer.upper()}"] = self.endpoint(peer)
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        log = self.run_dir / f"{name}.log"
        out = log.open("ab")
        process = subprocess.Popen(cmd, env=env, cwd=self.run_dir, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        out.close()
        return Proc(name, process, log)

    def _business_transport(self, domain: str) -> dict[str, str]:
        """The library's server variables (spec client §15), set alike for a service and its sidecar."""
        if self.socket_dir is not None:
            return {"TRANSPORT_TYPE": "uds", "UDS_BASE_PATH": str(self.socket_dir), "SERVICE_NAME": "business"}
        return {"TRANSPORT_TYPE": "tcp", "PORT": str(self.business_ports[domain]), "SERVICE_NAME": "business"}

    def start_service(self, domain: str) -> None:
        env = self._base_env()
        env.update(DOMAIN=domain, BIND_HOST="127.0.0.1", **self._business_transport(domain),
                   HAND_LOG_FILE=str(self.hand_log), HAND_LOG_DB=str(self.run_dir / "hand_log.db"))
        self.services[domain] = self._spawn(f"business-{domain}", [sys.executable, "-m", domain], env)

    def start_sidecar(self, domain: str) -> None:
        self.sidecars[domain] = self._spawn(f"sidecar-{domain}", [_executable("angzarr"), "coordinator"],
                                            self.sidecar_env(domain))

    def start_replica(self, domain: str) -> tuple[Proc, str]:
        """A second sidecar for ``domain`` (same business service, its own port); stopped by ``stop``."""
        port = free_port()
        env = {**self.sidecar_env(domain), "ANGZARR_PORT": str(port)}
        proc = self._spawn(f"sidecar-{domain}-replica", [_executable("angzarr"), "coordinator"], env)
        self.sidecars[f"{domain}-replica"] = proc
        return proc, f"127.0.0.1:{port}"

    def start(self, timeout: float = 60.0) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        exported = subprocess.run([_executable("angzarr"), "topology", "export", "-c", str(STANDALONE),
                                   "-o", str(self.topology_file)], capture_output=True, text=True, timeout=60)
        assert exported.returncode == 0, f"angzarr topology export failed: {exported.stderr}"
        for domain in DOMAINS:
            self.business_ports[domain] = free_port()
            self.sidecar_ports[domain] = free_port()
        for domain in DOMAINS:
            self.start_service(domain)
        for domain in DOMAINS:
            self.start_sidecar(domain)
        self.wait_serving(timeout)

    def wait_serving(self, timeout: float = 60.0) -> None:
        """Until every sidecar reports SERVING (store and business service answer)."""
        deadline = time.monotonic() + timeout
        for domain in DOMAINS:
            while health_status(self.endpoint(domain)) != SERVING:
                proc = self.sidecars[domain]
                if proc.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sidecar {domain} is not serving (exit {proc.process.poll()}):\n"
                                       f"{proc.tail()}\n--- business ---\n{self.services[domain].tail()}")
                time.sleep(0.1)

    @staticmethod
    def _terminate(proc: Proc, timeout: float, *, signalled: bool = False) -> int | None:
        if not signalled and proc.process.poll() is None:
            proc.process.send_signal(signal.SIGTERM)
        try:
            return proc.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait()
            return None

    def stop_sidecars(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every sidecar; their exit codes (None: had to be killed)."""
        for proc in self.sidecars.values():
            if proc.process.poll() is None:
                proc.process.send_signal(signal.SIGTERM)
        return {domain: self._terminate(proc, timeout, signalled=True) for domain, proc in self.sidecars.items()}

    def stop(self) -> dict[str, int | None]:
        codes = {d: p.process.returncode for d, p in self.sidecars.items()}
        if any(p.process.poll() is None for p in self.sidecars.values()):
            codes = self.stop_sidecars()
        for proc in self.services.values():
            self._terminate(proc, 15.0)
        return codes
