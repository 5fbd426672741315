"""``standalone.yaml``: parsing and validation into a ``StandaloneConfig`` (spec/coordinator.md §10.1).

Every problem found is collected with its location, so ``angzarr standalone --check`` reports them all
at once: unknown keys, wrong types, duplicate names, domains nothing serves, two components of one kind
in a service. Relative paths (the database, a service's ``working_dir``) are relative to the directory
of the configuration file.

The environment a service is started with, and the endpoint the coordinator reaches it at, are computed
here (``service_environment``, ``service_endpoint``) so the supervisor and the topology agree on them.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from angzarr_coordinator.topology import (
    CommandHandlerSpec,
    Limits,
    ProjectorSpec,
    ReactorSpec,
    ServiceSpec,
    Topology,
)

DEFAULT_UDS_BASE = "/tmp/angzarr"
MAX_SOCKET_PATH = 104  # bytes, the smallest limit of the platforms we run on (macOS)
DOMAIN_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]{0,63}$")
_SYNCHRONOUS = ("full", "normal")
_TRANSPORTS = ("uds", "tcp")
_COMPONENT_KINDS = ("command_handler", "saga", "process_manager", "projector")


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason, each with its location."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):\n{listing}")


@dataclass(frozen=True, slots=True)
class SqliteStorage:
    path: Path
    synchronous: str = "full"


@dataclass(frozen=True, slots=True)
class ListenConfig:
    uds_base: Path
    tcp: str | None = None

    def client_socket(self, service: str) -> Path:
        """The client endpoint of one service: ``<uds_base>/ch-<service>.sock``."""
        return self.uds_base / f"ch-{service}.sock"


@dataclass(frozen=True, slots=True)
class StandaloneConfig:
    source: Path
    storage: SqliteStorage
    listen: ListenConfig
    topology: Topology
    limits: Limits = field(default_factory=Limits)
    decode_modules: tuple[str, ...] = ()


# -- YAML with duplicate-key detection ----------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers keys given twice (PyYAML would silently keep the last)."""

    duplicates: list[tuple[str, int]]
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    result = _Mapping()
    result.duplicates = []
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            result.duplicates.append((str(key), key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# -- validation helpers --------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)

    def mapping(
        self, value: Any, where: str, allowed: tuple[str, ...], duplicate: str = "key '{key}' is given twice"
    ) -> Mapping[str, Any] | None:
        """``value`` as a mapping with only ``allowed`` keys (problems recorded), else None.
        ``duplicate`` words the problem of a key given twice."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, f"expected a mapping, got {_kind(value)}")
            return None
        for key, line in getattr(value, "duplicates", ()):
            self.add(where, duplicate.format(key=key) + f" (line {line})")
        for key in value:
            if key not in allowed:
                self.add(where, f"unknown key '{key}'; allowed: {', '.join(allowed)}")
        return value


def _kind(value: Any) -> str:
    """How a value reads in a message: ``a mapping``, ``a list``, ``42``."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _string(p: _Problems, value: Any, where: str) -> str | None:
    if isinstance(value, str) and value:
        return value
    p.add(where, f"expected a non-empty string, got {_kind(value)}")
    return None


def _bool(p: _Problems, value: Any, where: str) -> bool | None:
    if isinstance(value, bool):
        return value
    p.add(where, f"expected true or false, got {_kind(value)}")
    return None


def _name(p: _Problems, value: Any, where: str) -> str | None:
    text = _string(p, value, where)
    if text is not None and not DOMAIN_PATTERN.match(text):
        p.add(where, f"'{text}' is not a valid name: use lower-case letters, digits, '_' and '-' "
                     "(at most 64, starting with a letter or '_')")
        return None
    return text


def _domain_list(p: _Problems, value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        p.add(where, f"expected a list of domains, got {_kind(value)}")
        return ()
    out = []
    for i, item in enumerate(value):
        name = _name(p, item, _join(where, i))
        if name is not None:
            out.append(name)
    return tuple(out)


# -- sections ----------------------------------------------------------------------------------------


def _storage(p: _Problems, value: Any, base_dir: Path) -> SqliteStorage | None:
    section = p.mapping(value, "storage", ("sqlite",))
    if section is None:
        return None
    if "sqlite" not in section:
        p.add("storage", "missing 'sqlite: {path: ...}' (standalone mode stores events in one SQLite file)")
        return None
    sqlite = p.mapping(section["sqlite"], "storage.sqlite", ("path", "synchronous"))
    if sqlite is None:
        return None
    path = _string(p, sqlite.get("path"), "storage.sqlite.path")
    synchronous = sqlite.get("synchronous", "full")
    if not isinstance(synchronous, str) or synchronous.lower() not in _SYNCHRONOUS:
        p.add("storage.sqlite.synchronous", f"expected one of {', '.join(_SYNCHRONOUS)}, got {synchronous!r}")
        return None
    if path is None:
        return None
    return SqliteStorage(path=(base_dir / Path(path).expanduser()).resolve(), synchronous=synchronous.lower())


def _listen(p: _Problems, value: Any, environ: Mapping[str, str]) -> ListenConfig | None:
    section = p.mapping(value, "listen", ("uds_base", "tcp"))
    if section is None:
        return None
    # The environment wins, so a user can move the sockets without editing the file (§10.3).
    uds_base = environ.get("ANGZARR_UDS_BASE") or section.get("uds_base") or DEFAULT_UDS_BASE
    if not isinstance(uds_base, str):
        p.add("listen.uds_base", f"expected a directory path, got {_kind(uds_base)}")
        return None
    tcp = section.get("tcp")
    if tcp is not None:
        tcp = _tcp_address(p, tcp, "listen.tcp")
    return ListenConfig(uds_base=Path(uds_base).expanduser().absolute(), tcp=tcp)


def _tcp_address(p: _Problems, value: Any, where: str) -> str | None:
    if isinstance(value, str):
        host, sep, port = value.rpartition(":")
        if sep and host and port.isdigit() and 0 <= int(port) <= 65535:
            return value
    p.add(where, f"expected 'host:port' (e.g. 127.0.0.1:1310), got {value!r}")
    return None


def _limits(p: _Problems, value: Any) -> Limits:
    names = tuple(f.name for f in fields(Limits))
    section = p.mapping(value, "limits", (*names, "cascade"))
    if not section:
        return Limits()
    values: dict[str, Any] = {}
    flat = dict(section)
    cascade = flat.pop("cascade", None)
    if cascade is not None:
        nested = p.mapping(cascade, "limits.cascade", ("max_depth", "max_commits"))
        for key, item in (nested or {}).items():
            if key in ("max_depth", "max_commits"):
                flat[f"cascade_{key}"] = item
    defaults = Limits()
    for key, item in flat.items():
        if key not in names:
            continue
        default = getattr(defaults, key)
        ok_type = (int, float) if isinstance(default, float) else (int,)
        if isinstance(item, bool) or not isinstance(item, ok_type) or item <= 0:
            p.add(_join("limits", key), f"expected a positive number, got {item!r}")
            continue
        values[key] = type(default)(item)
    return Limits(**values)


def _decode(p: _Problems, value: Any) -> tuple[str, ...]:
    section = p.mapping(value, "decode", ("modules",))
    if not section:
        return ()
    modules = section.get("modules") or []
    if not isinstance(modules, list) or not all(isinstance(m, str) and m for m in modules):
        p.add("decode.modules", "expected a list of importable module names (e.g. poker_contracts.table_pb2)")
        return ()
    return tuple(modules)


def _command(p: _Problems, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return tuple(shlex.split(value))
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    p.add(where, "expected the command to start, as a list (e.g. [python, -m, player.main]) or a string")
    return ()


def _env(p: _Problems, value: Any, where: str) -> dict[str, str]:
    section = p.mapping(value, where, tuple(value) if isinstance(value, dict) else ())
    out: dict[str, str] = {}
    for key, item in (section or {}).items():
        if not isinstance(key, str) or not key:
            p.add(where, f"variable names must be strings, got {key!r}")
        elif isinstance(item, dict | list) or item is None:
            p.add(_join(where, key), f"expected a scalar value, got {_kind(item)}")
        elif isinstance(item, bool):
            out[key] = "true" if item else "false"
        else:
            out[key] = str(item)
    return out


def _command_handler(p: _Problems, value: Any, where: str) -> CommandHandlerSpec | None:
    section = p.mapping(value, where, ("domain", "upcaster", "snapshots"))
    if section is None:
        return None
    domain = _name(p, section.get("domain"), _join(where, "domain"))
    upcaster: bool | str = False
    raw = section.get("upcaster", False)
    if isinstance(raw, bool):
        upcaster = raw
    else:
        up = p.mapping(raw, _join(where, "upcaster"), ("endpoint",))
        endpoint = _string(p, (up or {}).get("endpoint"), _join(where, "upcaster.endpoint")) if up else None
        upcaster = endpoint or False
    snaps = p.mapping(section.get("snapshots"), _join(where, "snapshots"), ("read", "replay_when_oversized"))
    read = _bool(p, snaps.get("read", True), _join(where, "snapshots.read")) if snaps else True
    oversized = (
        _bool(p, snaps.get("replay_when_oversized", False), _join(where, "snapshots.replay_when_oversized"))
        if snaps
        else False
    )
    if domain is None:
        return None
    return CommandHandlerSpec(
        domain=domain,
        upcaster=upcaster,
        snapshots_read=bool(read) if read is not None else True,
        snapshots_replay_when_oversized=bool(oversized),
    )


def _reactor(p: _Problems, value: Any, where: str) -> ReactorSpec | None:
    section = p.mapping(value, where, ("name", "listen", "emits"))
    if section is None:
        return None
    name = _name(p, section.get("name"), _join(where, "name"))
    listen = _domain_list(p, section.get("listen"), _join(where, "listen"))
    if not listen and name is not None:
        p.add(_join(where, "listen"), "must name at least one domain")
    emits = _domain_list(p, section.get("emits"), _join(where, "emits"))
    return ReactorSpec(name=name, listen=listen, emits=emits) if name else None


def _projector(p: _Problems, value: Any, where: str) -> ProjectorSpec | None:
    section = p.mapping(value, where, ("name", "listen"))
    if section is None:
        return None
    name = _name(p, section.get("name"), _join(where, "name"))
    listen = _domain_list(p, section.get("listen"), _join(where, "listen"))
    if not listen and name is not None:
        p.add(_join(where, "listen"), "must name at least one domain")
    return ProjectorSpec(name=name, listen=listen) if name else None


def _service(
    p: _Problems,
    value: Any,
    where: str,
    *,
    base_dir: Path,
    uds_base: Path,
    environ: Mapping[str, str],
    require_command: bool,
) -> ServiceSpec | None:
    allowed = ("name", "command", "working_dir", "env", "transport", "port", "hosts")
    section = p.mapping(value, where, allowed)
    if section is None:
        return None
    name = _name(p, section.get("name"), _join(where, "name"))
    label = f"{where} ({name})" if name else where
    command: tuple[str, ...] = ()
    if "command" in section or require_command:
        command = _command(p, section.get("command"), f"{label}.command")
    working_dir = None
    if section.get("working_dir") is not None:
        wd = _string(p, section["working_dir"], f"{label}.working_dir")
        working_dir = str((base_dir / Path(wd).expanduser()).resolve()) if wd else None
    env = _env(p, section.get("env"), f"{label}.env") if section.get("env") is not None else {}
    transport = section.get("transport", "uds")
    if transport not in _TRANSPORTS:
        p.add(f"{label}.transport", f"expected uds or tcp, got {transport!r}")
        transport = "uds"
    port = section.get("port")
    if transport == "tcp":
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            p.add(f"{label}.port", f"transport tcp needs a port between 1 and 65535, got {port!r}")
            port = None
    elif port is not None:
        p.add(f"{label}.port", "a port is only used with 'transport: tcp'")
        port = None

    hosts_where = f"{label}.hosts"
    hosts = p.mapping(
        section.get("hosts"),
        hosts_where,
        _COMPONENT_KINDS,
        duplicate="hosts two {key} components; a service hosts at most one component of each kind "
        "(split it into two services)",
    )
    if hosts is not None and not hosts:
        p.add(hosts_where, "hosts nothing; name at least one of " + ", ".join(_COMPONENT_KINDS))
    hosts = hosts or {}
    ch = _command_handler(p, hosts["command_handler"], f"{hosts_where}.command_handler") \
        if "command_handler" in hosts else None
    saga = _reactor(p, hosts["saga"], f"{hosts_where}.saga") if "saga" in hosts else None
    pm = _reactor(p, hosts["process_manager"], f"{hosts_where}.process_manager") \
        if "process_manager" in hosts else None
    projector = _projector(p, hosts["projector"], f"{hosts_where}.projector") if "projector" in hosts else None
    if name is None:
        return None
    spec = ServiceSpec(
        name=name,
        endpoint="",
        command=command,
        working_dir=working_dir,
        env=env,
        transport=transport,
        port=port,
        command_handler=ch,
        saga=saga,
        process_manager=pm,
        projector=projector,
    )
    return replace(spec, endpoint=service_endpoint(service_environment(spec, uds_base, environ)))


def _check_names(p: _Problems, services: list[ServiceSpec]) -> None:
    """Duplicate names, and domains that no service serves."""
    seen_services: set[str] = set()
    owners: dict[str, str] = {}  # a name used as a domain or subscriber -> what uses it
    for s in services:
        if s.name in seen_services:
            p.add(f"service '{s.name}'", "the name is used by two services")
        seen_services.add(s.name)
        claims: list[tuple[str, str]] = []
        if s.command_handler:
            claims.append((s.command_handler.domain, f"command handler of service '{s.name}'"))
        if s.saga:
            claims.append((s.saga.name, f"saga of service '{s.name}'"))
        if s.process_manager:
            claims.append((s.process_manager.name, f"process manager of service '{s.name}'"))
        if s.projector:
            claims.append((s.projector.name, f"projector of service '{s.name}'"))
        for claimed, what in claims:
            if claimed in owners:
                p.add(what, f"'{claimed}' is already used by the {owners[claimed]}; domains and "
                            "component names must be unique")
            else:
                owners[claimed] = what

    topology = Topology(tuple(services))
    known = set(topology.known_domains)
    served = ", ".join(sorted(known)) or "none"
    for s in services:
        for kind, spec in (("saga", s.saga), ("process_manager", s.process_manager), ("projector", s.projector)):
            if spec is None:
                continue
            lists = [("listen", spec.listen)]
            if isinstance(spec, ReactorSpec):
                lists.append(("emits", spec.emits))
            for key, domains in lists:
                for d in domains:
                    if d not in known:
                        p.add(f"service '{s.name}'.hosts.{kind}.{key}",
                              f"unknown domain '{d}'; served: {served}")


def _check_socket_paths(p: _Problems, listen: ListenConfig, topology: Topology) -> None:
    """Unix socket paths are limited (108 bytes on Linux, 104 on macOS); say so before bind fails."""
    paths = [str(listen.client_socket(s.name)) for s in topology.services]
    paths += [s.endpoint for s in topology.services if s.transport == "uds"]
    for path in paths:
        size = len(path.encode())
        if size >= MAX_SOCKET_PATH:
            p.add("listen.uds_base", f"socket path {path} is {size} bytes; Unix socket paths must be under "
                                     f"{MAX_SOCKET_PATH}: set ANGZARR_UDS_BASE to a shorter directory")
            return


# -- public API ----------------------------------------------------------------------------------------


def service_environment(
    spec: ServiceSpec, uds_base: Path | str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a service process is started with (§10.1): the parent's, the runtime's
    variables, the library's server variables, then the service's own ``env``."""
    env = dict(os.environ if environ is None else environ)
    env.update(
        ANGZARR_MODE="standalone",
        ANGZARR_UDS_BASE=str(uds_base),
        OTEL_SERVICE_NAME=spec.name,
        DOMAIN=spec.name,
        SERVICE_NAME="business",
    )
    if spec.transport == "tcp":
        env.update(TRANSPORT_TYPE="tcp", PORT=str(spec.port), BIND_HOST="127.0.0.1")
        for stale in ("UDS_PATH", "UDS_BASE_PATH"):
            env.pop(stale, None)
    else:
        env.update(TRANSPORT_TYPE="uds", UDS_BASE_PATH=str(uds_base))
        env.pop("UDS_PATH", None)  # inherited from our parent it would make every service share one path
    env.update(spec.env)
    return env


def service_endpoint(env: Mapping[str, str]) -> str:
    """Where the coordinator reaches a service started with ``env``: a Unix socket path or host:port."""
    if env.get("TRANSPORT_TYPE", "tcp").strip().lower() == "tcp":
        return f"127.0.0.1:{env.get('PORT', '50052')}"
    if env.get("UDS_PATH"):
        return env["UDS_PATH"]
    base = env.get("UDS_BASE_PATH") or DEFAULT_UDS_BASE
    return f"{base}/{env.get('SERVICE_NAME') or 'business'}-{env.get('DOMAIN', '')}.sock"


def grpc_target(endpoint: str) -> str:
    """A gRPC channel target for an endpoint as ``service_endpoint`` gives it."""
    return f"unix:{endpoint}" if endpoint.startswith("/") else endpoint


def parse_topology(
    services: Any,
    *,
    base_dir: Path,
    uds_base: Path,
    environ: Mapping[str, str] | None = None,
    require_command: bool = True,
    problems: _Problems | None = None,
) -> Topology:
    """The ``services`` list as a ``Topology``. ``require_command=False`` reads the sidecar's topology
    file (§10.4: standalone's services minus ``command``). Raises ``ConfigError``."""
    own = problems is None
    p = problems or _Problems()
    environ = os.environ if environ is None else environ
    out: list[ServiceSpec] = []
    if not isinstance(services, list) or not services:
        p.add("services", "expected a non-empty list of services")
    else:
        for i, item in enumerate(services):
            spec = _service(p, item, f"services[{i}]", base_dir=base_dir, uds_base=uds_base,
                            environ=environ, require_command=require_command)
            if spec is not None:
                out.append(spec)
        _check_names(p, out)
    if own and p.items:
        raise ConfigError("topology", p.items)
    return Topology(tuple(out))


def parse_config(
    data: Any, *, source: Path, environ: Mapping[str, str] | None = None
) -> StandaloneConfig:
    """Validate parsed YAML. Raises ``ConfigError`` listing every problem."""
    environ = os.environ if environ is None else environ
    p = _Problems()
    base_dir = source.parent.absolute()
    top = p.mapping(data, "", ("version", "storage", "listen", "services", "limits", "decode"))
    if top is None:
        raise ConfigError(str(source), p.items)
    version = top.get("version", 1)
    if version != 1:
        p.add("version", f"unsupported version {version!r}; this angzarr reads version 1")
    storage = _storage(p, top.get("storage"), base_dir)
    if "storage" not in top:
        p.add("storage", "missing; e.g. storage: {sqlite: {path: ./data/angzarr.db}}")
    listen = _listen(p, top.get("listen"), environ)
    uds_base = listen.uds_base if listen else Path(DEFAULT_UDS_BASE)
    topology = parse_topology(top.get("services"), base_dir=base_dir, uds_base=uds_base, environ=environ,
                              problems=p)
    if listen is not None:
        _check_socket_paths(p, listen, topology)
    limits = _limits(p, top.get("limits"))
    decode = _decode(p, top.get("decode"))
    if p.items or storage is None or listen is None:
        raise ConfigError(str(source), p.items or ["invalid configuration"])
    return StandaloneConfig(source=source, storage=storage, listen=listen, topology=topology,
                            limits=limits, decode_modules=decode)


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> StandaloneConfig:
    """Read and validate a standalone configuration file. Raises ``ConfigError``."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(source), [f"cannot read the file: {e.strerror or e}"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        reason = getattr(e, "problem", None) or str(e)
        raise ConfigError(str(source), [f"{where}: not valid YAML: {reason}"]) from None
    return parse_config(data, source=source, environ=environ)
