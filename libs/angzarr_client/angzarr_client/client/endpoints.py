"""Endpoints, transport modes and channel construction (spec §6.1).

Building a channel does no network I/O: gRPC channels are lazy and connect on the first call.
"""

from __future__ import annotations

import enum
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import grpc

from ..errors import InvalidArgumentError, TransportError

__all__ = [
    "ACCEPTED_ENDPOINT_FORMS",
    "DEFAULT_CHANNEL_OPTIONS",
    "Endpoint",
    "TransportMode",
    "parse_endpoint",
    "create_channel",
    "resolve_ch_endpoint",
]

ACCEPTED_ENDPOINT_FORMS = (
    "host:port, [v6]:port, dns:///host:port, http://host:port (insecure TCP); "
    "https://host[:port] (TLS, port 443 by default); "
    "/abs.sock, ./rel.sock, ../rel.sock, unix:path, unix-abstract:name (Unix socket)"
)

_MIB = 1024 * 1024
DEFAULT_CHANNEL_OPTIONS: dict[str, int] = {
    # Keepalive pings only while calls are active; servers accept pings every >= 10 s.
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 0,
    "grpc.max_send_message_length": 64 * _MIB,
    "grpc.max_receive_message_length": 64 * _MIB,
}

_HOST = r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\])"
_HOST_PORT = re.compile(rf"^(?P<host>{_HOST}):(?P<port>\d{{1,5}})$")
_HOST_OPT_PORT = re.compile(rf"^(?P<host>{_HOST})(?::(?P<port>\d{{1,5}}))?/?$")


@dataclass(frozen=True)
class Endpoint:
    """A parsed endpoint: the gRPC target, whether it uses TLS, and the text the user gave."""

    target: str
    secure: bool
    text: str

    @property
    def is_unix(self) -> bool:
        return self.target.startswith(("unix:", "unix-abstract:"))


def _invalid(endpoint: object, why: str = "") -> InvalidArgumentError:
    reason = f" ({why})" if why else ""
    return InvalidArgumentError(
        f"invalid endpoint {endpoint!r}{reason}; accepted forms: {ACCEPTED_ENDPOINT_FORMS}"
    )


def _check_port(endpoint: str, port: str | None, default: int | None = None) -> int:
    if port is None:
        if default is None:
            raise _invalid(endpoint, "a port is required")
        return default
    value = int(port)
    if not 1 <= value <= 65535:
        raise _invalid(endpoint, f"port {value} is outside 1-65535")
    return value


def parse_endpoint(endpoint: str) -> Endpoint:
    """Parse an endpoint into a gRPC target.

    Raises:
        InvalidArgumentError: the endpoint is empty or not one of the accepted forms (listed in the
            message).
    """
    if not isinstance(endpoint, str):
        raise _invalid(endpoint, f"expected a string, got {type(endpoint).__name__}")
    text = endpoint.strip()
    if not text:
        raise _invalid(endpoint, "empty")
    if text.startswith(("unix:", "unix-abstract:")):
        path = text.split(":", 1)[1]
        if not path or path.strip("/") == "":
            raise _invalid(endpoint, "no socket path")
        return Endpoint(text, False, endpoint)
    if text.startswith(("/", "./", "../")):
        return Endpoint("unix:" + text, False, endpoint)
    if text.startswith("dns:"):
        rest = text[len("dns:") :]
        authority_less = rest[3:] if rest.startswith("///") else rest
        if authority_less.startswith("//"):
            # dns://authority/host:port: keep the authority, validate the host part.
            authority_less = authority_less[2:].split("/", 1)[-1]
        match = _HOST_PORT.match(authority_less)
        if match is None:
            raise _invalid(endpoint, "expected dns:///host:port")
        _check_port(endpoint, match["port"])
        return Endpoint(text, False, endpoint)
    scheme, sep, rest = text.partition("://")
    if sep:
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            raise _invalid(endpoint, f"unsupported scheme {scheme!r}")
        match = _HOST_OPT_PORT.match(rest)
        if match is None:
            raise _invalid(endpoint, "expected host[:port] after the scheme")
        port = _check_port(endpoint, match["port"], 443 if scheme == "https" else 80)
        return Endpoint(f"{match['host']}:{port}", scheme == "https", endpoint)
    match = _HOST_PORT.match(text)
    if match is None:
        raise _invalid(endpoint)
    _check_port(endpoint, match["port"])
    return Endpoint(text, False, endpoint)


def _merged_options(channel_options: Mapping[str, object] | Sequence[tuple[str, object]] | None):
    options = dict(DEFAULT_CHANNEL_OPTIONS)
    if channel_options is None:
        return list(options.items())
    try:
        overrides = dict(channel_options)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            "channel_options must be a mapping or a sequence of (name, value) pairs"
        ) from None
    for key in overrides:
        if not isinstance(key, str):
            raise InvalidArgumentError(f"channel option names must be strings, got {key!r}")
    options.update(overrides)
    return list(options.items())


def system_root_certificates() -> bytes | None:
    """The operating system's CA bundle (as OpenSSL finds it), or ``None`` to use gRPC's own roots.

    Raises:
        TransportError: the bundle exists but cannot be read.
    """
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    return handle.read()
            except OSError as exc:
                raise TransportError(f"cannot read the system CA bundle {candidate}", cause=exc) from exc
    return None


def create_channel(
    endpoint: str | Endpoint,
    *,
    channel_options: Mapping[str, object] | Sequence[tuple[str, object]] | None = None,
    credentials: grpc.ChannelCredentials | None = None,
) -> grpc.Channel:
    """A lazy channel to ``endpoint`` (no network I/O).

    ``https://`` endpoints use TLS with the system root certificates unless ``credentials`` is given.

    Raises:
        InvalidArgumentError: a bad endpoint or option.
        TransportError: gRPC could not build the channel or its credentials.
    """
    parsed = endpoint if isinstance(endpoint, Endpoint) else parse_endpoint(endpoint)
    options = _merged_options(channel_options)
    try:
        if parsed.secure or credentials is not None:
            if credentials is None:
                credentials = grpc.ssl_channel_credentials(root_certificates=system_root_certificates())
            creds = credentials
            return grpc.secure_channel(parsed.target, creds, options=options)
        return grpc.insecure_channel(parsed.target, options=options)
    except TransportError:
        raise
    except Exception as exc:
        raise TransportError(f"cannot build a channel to {parsed.text!r}", cause=exc) from exc


class TransportMode(enum.Enum):
    """How clients reach coordinators: Unix sockets on one machine, or cluster DNS."""

    STANDALONE = "standalone"
    DISTRIBUTED = "distributed"

    @classmethod
    def parse(cls, text: str | TransportMode) -> TransportMode:
        """Parse a mode name, ignoring case and surrounding space.

        Raises:
            InvalidArgumentError: the text names neither mode.
        """
        if isinstance(text, cls):
            return text
        if isinstance(text, str):
            wanted = text.strip().lower()
            for mode in cls:
                if mode.value == wanted:
                    return mode
        raise InvalidArgumentError(
            f"unknown transport mode {text!r}; expected {cls.STANDALONE.value!r} or {cls.DISTRIBUTED.value!r}"
        )


def _env(name: str) -> str | None:
    """An environment variable's value, or ``None`` when unset or blank (R6)."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _parse_port(value: object, source: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{source} must be an integer port 1-65535, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise InvalidArgumentError(f"{source} must be an integer port 1-65535, got {value!r}")
        value = int(text)
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidArgumentError(f"{source} must be an integer port 1-65535, got {value!r}")
    return value


def resolve_ch_endpoint(
    domain: str,
    mode: TransportMode | str | None = None,
    *,
    uds_base: str | None = None,
    namespace: str | None = None,
    port: int | None = None,
) -> str:
    """The command-handler coordinator endpoint for ``domain``.

    Standalone: ``<uds_base>/ch-<domain>.sock``; distributed: ``ch-<domain>.<namespace>.svc:<port>``.
    Each input falls back to ``ANGZARR_MODE``, ``ANGZARR_UDS_BASE``, ``ANGZARR_NAMESPACE`` and
    ``ANGZARR_CH_PORT`` (blank counts as unset), then to ``distributed``, ``/tmp/angzarr``, ``angzarr``
    and ``1310``.

    Raises:
        InvalidArgumentError: empty domain, unknown mode, or a port that is not an integer 1-65535.
    """
    if not isinstance(domain, str) or not domain.strip():
        raise InvalidArgumentError("resolve_ch_endpoint needs a non-empty domain")
    if mode is None:
        env_mode = _env("ANGZARR_MODE")
        resolved = TransportMode.parse(env_mode) if env_mode is not None else TransportMode.DISTRIBUTED
    else:
        resolved = TransportMode.parse(mode)
    if resolved is TransportMode.STANDALONE:
        base = uds_base if uds_base is not None else (_env("ANGZARR_UDS_BASE") or "/tmp/angzarr")
        if not isinstance(base, str) or not base:
            raise InvalidArgumentError(f"uds_base must be a non-empty path, got {base!r}")
        path = os.path.join(base, f"ch-{domain}.sock")
        # Keep relative bases recognisable as socket paths by parse_endpoint.
        return path if path.startswith(("/", "./", "../")) else "./" + path
    ns = namespace if namespace is not None else (_env("ANGZARR_NAMESPACE") or "angzarr")
    if not isinstance(ns, str) or not ns:
        raise InvalidArgumentError(f"namespace must be a non-empty name, got {ns!r}")
    if port is not None:
        resolved_port = _parse_port(port, "port")
    else:
        env_port = _env("ANGZARR_CH_PORT")
        resolved_port = _parse_port(env_port, "ANGZARR_CH_PORT") if env_port is not None else 1310
    return f"ch-{domain}.{ns}.svc:{resolved_port}"
