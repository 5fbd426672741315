"""``python -m hand`` serves the Hand aggregate over gRPC on a Unix socket or TCP (client-library §15)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from hand_harness import CID, HAND_ROOT, P1, P2, SEED, cards, deal_cards, decode

from angzarr_client.proto.angzarr import command_handler_pb2_grpc, types_pb2
from angzarr_client.testing import build_contextual_command, serving_module
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import CALL

STARTUP_LIMIT_SECONDS = 30


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module", params=["uds", "tcp"])
def hand_channel(request, tmp_path_factory) -> Iterator[grpc.Channel]:
    """A channel to a ``python -m hand`` subprocess on a Unix socket in a temp dir, or on a TCP port."""
    base = tmp_path_factory.mktemp("uds")
    env = {**os.environ, "TRANSPORT_TYPE": request.param, "UDS_BASE_PATH": str(base), "SERVICE_NAME": "business",
           "DOMAIN": "hand", "LOG_FORMAT": "json", "HAND_LOG_FILE": str(base / "hand_log.txt")}
    env.pop("UDS_PATH", None)
    env.pop("HAND_LOG_DB", None)
    socket_path = Path(base) / "business-hand.sock"
    if request.param == "tcp":
        port = free_tcp_port()
        env.update(PORT=str(port), BIND_HOST="127.0.0.1")
        target = f"127.0.0.1:{port}"
    else:
        target = f"unix://{socket_path}"
    with serving_module("hand", target, env, startup_limit_seconds=STARTUP_LIMIT_SECONDS,
                        stop_timeout_seconds=15) as served:
        yield served.channel
    assert served.process.returncode == 0, served.output
    # A graceful stop removes the socket.
    assert not socket_path.exists(), served.output


def handle(channel: grpc.Channel, command, prior=None) -> types_pb2.EventBook:
    stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
    request = build_contextual_command(command, prior, domain="hand", root=HAND_ROOT, correlation_id=CID)
    return stub.Handle(request, timeout=10).events


def test_deal_cards_over_grpc(hand_channel: grpc.Channel) -> None:
    book = handle(hand_channel, deal_cards([(P1, 0, 500), (P2, 1, 500)]))
    [event] = [decode(page.event) for page in book.pages]
    assert isinstance(event, pb.CardsDealt)
    assert [cards(pc.cards) for pc in event.player_cards] == ["3s 4c", "6c 7h"]
    assert event.deck_seed == SEED and event.correlation_id == CID
    assert book.cover.domain == "hand" and book.pages[0].header.sequence == 0


def test_follow_up_command_and_rejection_over_the_wire(hand_channel: grpc.Channel) -> None:
    dealt = [decode(p.event) for p in handle(hand_channel, deal_cards([(P1, 0, 500), (P2, 1, 500)])).pages]
    book = handle(hand_channel, pb.PostBlind(player_root=P1, blind_type="small", amount=5), prior=dealt)
    [blind] = [decode(page.event) for page in book.pages]
    assert (blind.amount, blind.player_stack, blind.pot_total) == (5, 495, 5)
    assert book.pages[0].header.sequence == 1
    with pytest.raises(grpc.RpcError) as info:
        handle(hand_channel, pb.PlayerAction(player_root=P1, action=CALL))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "does not exist" in info.value.details()
