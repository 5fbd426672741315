"""Endpoint parsing, channels, transport modes and endpoint resolution (contract items 1-4, 7-11)."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client import NoRetry
from angzarr_client.client import (
    DEFAULT_CHANNEL_OPTIONS,
    Client,
    CommandHandlerClient,
    DomainClient,
    QueryClient,
    SpeculativeClient,
    TransportMode,
    parse_endpoint,
    resolve_ch_endpoint,
)
from angzarr_client.client.endpoints import _merged_options, create_channel
from angzarr_client.errors import GRPCError, InvalidArgumentError, TransportError
from angzarr_client.proto.angzarr import types_pb2

ALL_CLIENTS = [QueryClient, CommandHandlerClient, SpeculativeClient, Client, DomainClient]
ENV_VARS = ("ANGZARR_MODE", "ANGZARR_UDS_BASE", "ANGZARR_NAMESPACE", "ANGZARR_CH_PORT")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _query():
    import uuid

    from angzarr_client.books import new_cover

    return types_pb2.Query(cover=new_cover("player", uuid.uuid4()))


# -- item 1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLIENTS)
def test_connect_does_no_io(cls, closed_port_endpoint):
    client = cls.connect(closed_port_endpoint)  # nothing listens: still succeeds
    client.close()
    cls.connect("/nonexistent/dir/ch.sock").close()


def test_call_to_closed_port_is_unavailable_and_names_endpoint(closed_port_endpoint):
    client = QueryClient.connect(closed_port_endpoint, retry=NoRetry())
    with pytest.raises(GRPCError) as info:
        client.get_event_book(_query(), timeout=5)
    error = info.value
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert error.is_retryable() and error.is_connection_error()
    assert closed_port_endpoint in str(error)
    assert error.endpoint == closed_port_endpoint
    assert "/angzarr.EventQueryService/GetEventBook" in str(error)


def test_call_to_missing_socket_is_unavailable(tmp_path):
    path = str(tmp_path / "nobody.sock")
    client = CommandHandlerClient(path, retry=NoRetry())
    book = types_pb2.CommandBook(cover=types_pb2.Cover(domain="player"))
    book.pages.add().command.type_url = "type.googleapis.com/examples.X"
    with pytest.raises(GRPCError) as info:
        client.handle(book, timeout=5)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert path in str(info.value)


# -- item 2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "target", "secure"),
    [
        ("h:1", "h:1", False),
        ("localhost:1310", "localhost:1310", False),
        ("[::1]:50051", "[::1]:50051", False),
        ("dns:///ch-player.angzarr.svc:1310", "dns:///ch-player.angzarr.svc:1310", False),
        ("http://h:1", "h:1", False),
        ("HTTP://h:1/", "h:1", False),
        ("https://h", "h:443", True),
        ("https://h:8443", "h:8443", True),
        ("/a.sock", "unix:/a.sock", False),
        ("./a.sock", "unix:./a.sock", False),
        ("../run/a.sock", "unix:../run/a.sock", False),
        ("unix:///a.sock", "unix:///a.sock", False),
        ("unix:relative.sock", "unix:relative.sock", False),
        ("unix-abstract:angzarr", "unix-abstract:angzarr", False),
    ],
)
def test_endpoint_forms(endpoint, target, secure):
    parsed = parse_endpoint(endpoint)
    assert (parsed.target, parsed.secure) == (target, secure)
    assert parsed.is_unix == target.startswith("unix")


def test_https_speaks_tls_and_http_does_not(tcp_coordinator):
    """The scripted server speaks plaintext: a TLS handshake to it fails, plaintext works."""
    port = tcp_coordinator.endpoint.rsplit(":", 1)[1]
    QueryClient(f"http://127.0.0.1:{port}").get_event_book(_query())
    with pytest.raises(GRPCError) as info:
        QueryClient(f"https://127.0.0.1:{port}", retry=NoRetry()).get_event_book(_query(), timeout=5)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 1


def test_endpoint_clients_build_channels_of_the_right_kind():
    assert QueryClient("https://h").channel is not None
    assert QueryClient("http://h:1").channel is not None
    assert QueryClient("unix:///a.sock").channel is not None


# -- item 3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "   ",
        "not a valid endpoint",
        "ftp://h:1",
        "h",
        "h:0",
        "h:70000",
        "h:port",
        "https://",
        "unix:",
        "dns:///nohost",
        "http://h:1/path",
        42,
        None,
    ],
)
@pytest.mark.parametrize("cls", ALL_CLIENTS)
def test_bad_endpoints_raise_at_once(cls, endpoint):
    with pytest.raises(InvalidArgumentError) as info:
        cls(endpoint)
    if isinstance(endpoint, str) and endpoint.strip():
        assert "accepted forms" in str(info.value)


def test_bad_endpoint_message_lists_forms():
    with pytest.raises(InvalidArgumentError) as info:
        QueryClient.connect("ftp://h:1")
    text = str(info.value)
    for form in ("host:port", "https://", "unix:", "/abs.sock"):
        assert form in text


# -- item 4 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_from_env_default_when_unset_or_blank(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("MY_CH_ENDPOINT", raising=False)
    else:
        monkeypatch.setenv("MY_CH_ENDPOINT", value)
    client = QueryClient.from_env("MY_CH_ENDPOINT", "localhost:1310")
    assert client.endpoint == "localhost:1310"


def test_from_env_uses_variable(monkeypatch):
    monkeypatch.setenv("MY_CH_ENDPOINT", "other:9")
    assert DomainClient.from_env("MY_CH_ENDPOINT", "localhost:1310").endpoint == "other:9"
    monkeypatch.setenv("MY_CH_ENDPOINT", "not valid")
    with pytest.raises(InvalidArgumentError):
        DomainClient.from_env("MY_CH_ENDPOINT", "localhost:1310")


# -- items 7-10 -------------------------------------------------------------------------------


def test_resolve_standalone():
    assert resolve_ch_endpoint("player", TransportMode.STANDALONE) == "/tmp/angzarr/ch-player.sock"
    assert resolve_ch_endpoint("player", "standalone", uds_base="/run/az/") == "/run/az/ch-player.sock"
    assert resolve_ch_endpoint("player", "standalone", uds_base="rel") == "./rel/ch-player.sock"


def test_resolve_distributed_default():
    assert resolve_ch_endpoint("player") == "ch-player.angzarr.svc:1310"


def test_resolve_environment_applies_and_keywords_win(monkeypatch):
    monkeypatch.setenv("ANGZARR_UDS_BASE", "/var/run/az")
    monkeypatch.setenv("ANGZARR_NAMESPACE", "poker")
    monkeypatch.setenv("ANGZARR_CH_PORT", "2000")
    assert resolve_ch_endpoint("hand", "standalone") == "/var/run/az/ch-hand.sock"
    assert resolve_ch_endpoint("hand") == "ch-hand.poker.svc:2000"
    assert resolve_ch_endpoint("hand", "standalone", uds_base="/x") == "/x/ch-hand.sock"
    assert resolve_ch_endpoint("hand", namespace="prod", port=3000) == "ch-hand.prod.svc:3000"
    monkeypatch.setenv("ANGZARR_MODE", "standalone")
    assert resolve_ch_endpoint("hand") == "/var/run/az/ch-hand.sock"
    assert resolve_ch_endpoint("hand", TransportMode.DISTRIBUTED) == "ch-hand.poker.svc:2000"


def test_resolve_blank_variables_count_as_unset(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.setenv(name, "  ")
    assert resolve_ch_endpoint("player") == "ch-player.angzarr.svc:1310"


def test_resolve_never_writes_environment(monkeypatch):
    import os

    before = dict(os.environ)
    resolve_ch_endpoint("player", "standalone")
    resolve_ch_endpoint("player")
    assert dict(os.environ) == before


def test_mode_parsing(monkeypatch):
    monkeypatch.setenv("ANGZARR_MODE", " Standalone ")
    assert resolve_ch_endpoint("player") == "/tmp/angzarr/ch-player.sock"
    assert TransportMode.parse("DISTRIBUTED") is TransportMode.DISTRIBUTED
    monkeypatch.setenv("ANGZARR_MODE", "bogus")
    with pytest.raises(InvalidArgumentError) as info:
        resolve_ch_endpoint("player")
    assert "standalone" in str(info.value) and "distributed" in str(info.value)
    with pytest.raises(InvalidArgumentError):
        TransportMode.parse("bogus")


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "1.5"])
def test_bad_port_variable(monkeypatch, port):
    monkeypatch.setenv("ANGZARR_CH_PORT", port)
    with pytest.raises(InvalidArgumentError, match="ANGZARR_CH_PORT"):
        resolve_ch_endpoint("player")


@pytest.mark.parametrize("port", [0, 65536, "x", True])
def test_bad_port_argument(port):
    with pytest.raises(InvalidArgumentError):
        resolve_ch_endpoint("player", port=port)


def test_empty_domain_raises():
    with pytest.raises(InvalidArgumentError):
        resolve_ch_endpoint("")
    with pytest.raises(InvalidArgumentError):
        DomainClient.for_domain("")


# -- item 11 ----------------------------------------------------------------------------------


def test_domain_client_is_connect(tcp_coordinator):
    a = DomainClient(tcp_coordinator.endpoint)
    b = DomainClient.connect(tcp_coordinator.endpoint)
    assert type(a) is type(b) and a.endpoint == b.endpoint
    a.get_event_book(_query())
    b.get_event_book(_query())
    assert len(tcp_coordinator.calls_to("GetEventBook")) == 2


def test_for_domain_dials_resolved_endpoint(monkeypatch, uds_coordinator):
    import os

    # Serve the scripted coordinator where standalone mode expects the player coordinator.
    base = os.path.dirname(uds_coordinator.socket_path)
    os.symlink(uds_coordinator.socket_path, os.path.join(base, "ch-player.sock"))
    monkeypatch.setenv("ANGZARR_UDS_BASE", base)
    client = DomainClient.for_domain("player", TransportMode.STANDALONE)
    assert client.domain == "player"
    assert client.endpoint == os.path.join(base, "ch-player.sock")
    client.get_event_book(_query())
    assert len(uds_coordinator.calls_to("GetEventBook")) == 1
    distributed = DomainClient.for_domain("table", namespace="poker")
    assert distributed.endpoint == "ch-table.poker.svc:1310"


# -- channel options ----------------------------------------------------------------------------


def test_channel_option_defaults_and_overrides():
    merged = dict(_merged_options(None))
    assert merged["grpc.keepalive_time_ms"] == 30_000
    assert merged["grpc.max_receive_message_length"] == 64 * 1024 * 1024
    assert merged == DEFAULT_CHANNEL_OPTIONS
    overridden = dict(_merged_options({"grpc.max_receive_message_length": 1024, "grpc.enable_retries": 0}))
    assert overridden["grpc.max_receive_message_length"] == 1024
    assert overridden["grpc.enable_retries"] == 0
    assert overridden["grpc.keepalive_time_ms"] == 30_000
    with pytest.raises(InvalidArgumentError):
        QueryClient("h:1", channel_options=42)


def test_small_receive_limit_applies(tcp_coordinator):
    big = types_pb2.EventBook(cover=types_pb2.Cover(domain="x" * 4096))
    tcp_coordinator.reply("GetEventBook", big)
    client = QueryClient(
        tcp_coordinator.endpoint, retry=NoRetry(), channel_options={"grpc.max_receive_message_length": 1024}
    )
    with pytest.raises(GRPCError) as info:
        client.get_event_book(_query())
    assert info.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED


# -- properties and transport errors ----------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(st.lists(_LABEL, min_size=1, max_size=4).map(".".join), st.integers(1, 65535))
def test_every_host_and_port_parses_as_insecure_tcp(host, port):
    parsed = parse_endpoint(f"{host}:{port}")
    assert (parsed.target, parsed.secure, parsed.is_unix) == (f"{host}:{port}", False, False)
    assert parse_endpoint(f"https://{host}").target == f"{host}:443"


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_invalid_argument(text):
    try:
        parsed = parse_endpoint(text)
    except InvalidArgumentError:
        return
    assert parsed.target and parsed.text == text


def test_channel_that_cannot_be_built_is_a_transport_error():
    with pytest.raises(TransportError) as info:
        create_channel("https://h", credentials="not credentials")
    assert info.value.is_connection_error() and info.value.code is None
