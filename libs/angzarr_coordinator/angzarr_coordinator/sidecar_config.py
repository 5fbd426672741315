"""The sidecar's configuration: environment variables, optionally defaulted by ``-c coordinator.yaml``
(spec/coordinator.md §10.4).

| variable | default | meaning |
|---|---|---|
| ``DOMAIN`` | required | the service this sidecar fronts (its name and its domain) |
| ``ANGZARR_TOPOLOGY`` | ``/etc/angzarr/topology.yaml`` | ``services`` of standalone.yaml minus ``command`` (``angzarr topology export``) |
| ``TRANSPORT_TYPE``, ``PORT``, ``UDS_PATH``, ``UDS_BASE_PATH``, ``SERVICE_NAME`` | ``tcp``, ``50052``, —, ``/tmp/angzarr``, ``business`` | the business container, reached with the values it is started with |
| ``DATABASE_URL`` | required | the PostgreSQL event store |
| ``ANGZARR_PORT``, ``ANGZARR_BIND_HOST`` | ``1310``, ``0.0.0.0`` | coordinator services, queries, streams and health |
| ``ANGZARR_NAMESPACE``, ``ANGZARR_CH_PORT``, ``ANGZARR_ENDPOINT_<DOMAIN>`` | ``angzarr``, ``1310`` | peers |
| ``ANGZARR_DRAIN_SECONDS``, ``ANGZARR_MIGRATE`` | ``20``, ``1`` | drain time on SIGTERM; migrate the schema at start |

The ``-c`` file is a YAML mapping of the same names; a variable set in the environment wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from angzarr_coordinator.config import (
    DEFAULT_UDS_BASE,
    ConfigError,
    _limits,
    _Problems,
    parse_topology,
    service_endpoint,
)
from angzarr_coordinator.peers import PeerEndpoints
from angzarr_coordinator.topology import Limits, Topology

DEFAULT_TOPOLOGY = "/etc/angzarr/topology.yaml"
_KEYS = ("DOMAIN", "ANGZARR_TOPOLOGY", "TRANSPORT_TYPE", "PORT", "UDS_PATH", "UDS_BASE_PATH", "SERVICE_NAME",
         "DATABASE_URL", "ANGZARR_PORT", "ANGZARR_BIND_HOST", "ANGZARR_NAMESPACE", "ANGZARR_CH_PORT",
         "ANGZARR_DRAIN_SECONDS", "ANGZARR_MIGRATE")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class SidecarConfig:
    domain: str
    topology: Topology  # the own service's endpoint is the business container's
    business_endpoint: str
    database_url: str
    peers: PeerEndpoints
    port: int = 1310
    bind_host: str = "0.0.0.0"
    drain_seconds: float = 20.0
    migrate: bool = True
    limits: Limits = Limits()

    @property
    def listen_address(self) -> str:
        host = self.bind_host
        return f"[{host}]:{self.port}" if ":" in host and not host.startswith("[") else f"{host}:{self.port}"


def _port(p: _Problems, value: str, name: str) -> int:
    if value.strip().isdigit() and 0 <= int(value) <= 65535:
        return int(value)
    p.add(name, f"expected a port 0-65535, got {value!r}")
    return 0


def _file_values(path: str) -> dict[str, str]:
    """The ``-c`` file's values. Raises ``ConfigError``."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(path, [f"cannot read the file: {e.strerror or e}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError(path, [f"not valid YAML: {e}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, ["expected a mapping of variable names (DOMAIN, DATABASE_URL, ...) to values"])
    problems = [f"unknown key '{k}'; allowed: {', '.join(_KEYS)} and ANGZARR_ENDPOINT_<DOMAIN>"
                for k in data if k not in _KEYS and not str(k).startswith("ANGZARR_ENDPOINT_")]
    if problems:
        raise ConfigError(path, problems)
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}


def read_topology_file(path: str | Path, environ: Mapping[str, str] | None = None) -> tuple[Topology, Limits]:
    """Read a sidecar topology file (``services`` without ``command``, optional ``limits``).

    Raises ``ConfigError`` listing every problem.
    """
    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(str(source), [f"cannot read the topology file: {e.strerror or e}; "
                                        "set ANGZARR_TOPOLOGY (see 'angzarr topology export')"]) from None
    except yaml.YAMLError as e:
        raise ConfigError(str(source), [f"not valid YAML: {e}"]) from None
    p = _Problems()
    top = p.mapping(data, "", ("version", "services", "limits"))
    if top is None:
        raise ConfigError(str(source), p.items)
    if top.get("version", 1) != 1:
        p.add("version", f"unsupported version {top.get('version')!r}; this angzarr reads version 1")
    topology = parse_topology(top.get("services"), base_dir=source.parent.absolute(), uds_base=Path(DEFAULT_UDS_BASE),
                              environ=dict(environ or {}), require_command=False, problems=p)
    limits = _limits(p, top.get("limits"))
    if p.items:
        raise ConfigError(str(source), p.items)
    return topology, limits


def sidecar_config(environ: Mapping[str, str] | None = None, config_file: str | None = None) -> SidecarConfig:
    """The sidecar's configuration from ``environ`` (default ``os.environ``) over ``config_file``.

    Raises ``ConfigError`` listing every problem.
    """
    env: dict[str, str] = _file_values(config_file) if config_file else {}
    env.update({k: v for k, v in (os.environ if environ is None else environ).items() if v != ""})
    source = config_file or "environment"
    p = _Problems()
    domain = env.get("DOMAIN", "").strip()
    if not domain:
        p.add("DOMAIN", "required: the name of the service (and domain) this sidecar fronts")
    database_url = env.get("DATABASE_URL", "").strip()
    if not database_url:
        p.add("DATABASE_URL", "required: the PostgreSQL event store, e.g. postgresql://angzarr@db:5432/angzarr")
    elif not database_url.startswith(("postgres://", "postgresql://")):
        p.add("DATABASE_URL", "a sidecar stores events in PostgreSQL: expected a postgres:// or postgresql:// URL")
    transport = env.get("TRANSPORT_TYPE", "tcp").strip().lower()
    if transport not in ("tcp", "uds"):
        p.add("TRANSPORT_TYPE", f"expected tcp or uds, got {env['TRANSPORT_TYPE']!r}")
    if transport == "tcp":
        _port(p, env.get("PORT", "50052"), "PORT")
    port = _port(p, env.get("ANGZARR_PORT", "1310"), "ANGZARR_PORT")
    ch_port = _port(p, env.get("ANGZARR_CH_PORT", "1310"), "ANGZARR_CH_PORT")
    try:
        drain = float(env.get("ANGZARR_DRAIN_SECONDS", "20"))
        if drain < 0:
            raise ValueError
    except ValueError:
        p.add("ANGZARR_DRAIN_SECONDS", f"expected seconds >= 0, got {env['ANGZARR_DRAIN_SECONDS']!r}")
        drain = 20.0
    migrate_text = env.get("ANGZARR_MIGRATE", "1").strip().lower()
    if migrate_text not in _TRUE + _FALSE:
        p.add("ANGZARR_MIGRATE", f"expected 1 or 0, got {env['ANGZARR_MIGRATE']!r}")
    peers = None
    try:
        peers = PeerEndpoints(env.get("ANGZARR_NAMESPACE", "angzarr").strip(), ch_port or 1310, env)
    except Exception as e:  # noqa: BLE001 - InvalidArgumentError from the client library: report it
        p.add("ANGZARR_NAMESPACE", str(e))
    if p.items:
        raise ConfigError(source, p.items)

    topology, limits = read_topology_file(env.get("ANGZARR_TOPOLOGY") or DEFAULT_TOPOLOGY, env)
    own = next((s for s in topology.services if s.name == domain), None)
    if own is None:
        names = ", ".join(s.name for s in topology.services)
        raise ConfigError(source, [f"DOMAIN: the topology has no service '{domain}' (services: {names})"])
    business = service_endpoint({**env, "DOMAIN": domain, "TRANSPORT_TYPE": transport})
    services = tuple(replace(s, endpoint=business) if s is own else s for s in topology.services)
    return SidecarConfig(
        domain=domain,
        topology=Topology(services),
        business_endpoint=business,
        database_url=database_url,
        peers=peers,
        port=port,
        bind_host=env.get("ANGZARR_BIND_HOST", "0.0.0.0").strip() or "0.0.0.0",
        drain_seconds=drain,
        migrate=migrate_text in _TRUE,
        limits=limits,
    )

