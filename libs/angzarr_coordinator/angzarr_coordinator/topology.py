"""The topology: which services exist, what each hosts, which domains each component listens to.

One description drives standalone.yaml, the sidecar's topology file, compose.yaml and Kubernetes.
Parsing from YAML lives in ``config``; this module holds the model the runtime works with.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Limits:
    """Request limits and pipeline bounds (spec/coordinator.md §2, §3, §6); YAML key ``limits``."""

    max_pages_per_book: int = 100
    max_payload_bytes: int = 256 * 1024
    max_query_sequences: int = 10_000
    max_message_bytes: int = 64 * 1024 * 1024
    max_streams: int = 1024
    handler_timeout: float = 10.0
    commutative_max_attempts: int = 5
    snapshot_every: int = 16
    cascade_max_depth: int = 8
    cascade_max_commits: int = 1000
    delivery_max_attempts: int = 5
    dispatch_max_attempts: int = 10
    cache_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CommandHandlerSpec:
    domain: str
    upcaster: bool | str = False  # True = the business endpoint; a string = another endpoint
    snapshots_read: bool = True
    snapshots_replay_when_oversized: bool = False  # YAML snapshots.replay_when_oversized (§7)


@dataclass(frozen=True, slots=True)
class ReactorSpec:
    """A saga or process manager: listens to domains, emits commands (and facts) to domains."""

    name: str
    listen: tuple[str, ...]
    emits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProjectorSpec:
    name: str
    listen: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One business service process and the components its gRPC server hosts."""

    name: str
    endpoint: str  # how the coordinator reaches the business server (UDS path or host:port)
    command: tuple[str, ...] = ()
    working_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    transport: str = "uds"
    port: int | None = None
    command_handler: CommandHandlerSpec | None = None
    saga: ReactorSpec | None = None
    process_manager: ReactorSpec | None = None
    projector: ProjectorSpec | None = None


@dataclass(frozen=True, slots=True)
class Topology:
    services: tuple[ServiceSpec, ...]

    @property
    def aggregate_domains(self) -> tuple[str, ...]:
        return tuple(s.command_handler.domain for s in self.services if s.command_handler)

    @property
    def process_manager_domains(self) -> tuple[str, ...]:
        return tuple(s.process_manager.name for s in self.services if s.process_manager)

    @property
    def known_domains(self) -> tuple[str, ...]:
        """Domains commands and queries may name: aggregates and process-manager state streams."""
        return self.aggregate_domains + self.process_manager_domains

    def service_for_domain(self, domain: str) -> ServiceSpec | None:
        for s in self.services:
            if s.command_handler and s.command_handler.domain == domain:
                return s
        return None

    def sagas(self) -> list[tuple[ServiceSpec, ReactorSpec]]:
        return [(s, s.saga) for s in self.services if s.saga]

    def process_managers(self) -> list[tuple[ServiceSpec, ReactorSpec]]:
        return [(s, s.process_manager) for s in self.services if s.process_manager]

    def projectors(self) -> list[tuple[ServiceSpec, ProjectorSpec]]:
        return [(s, s.projector) for s in self.services if s.projector]
