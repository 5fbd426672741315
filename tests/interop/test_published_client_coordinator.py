"""Item 76: the published ``angzarr-client`` 0.3.1 ``CommandHandlerClient.handle`` drives our coordinator
(``angzarr standalone``), which calls the player aggregate served by this library (``python -m player``);
its ``QueryClient`` reads back what our client wrote.
"""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from angzarr_client import CommandHandlerClient, QueryClient
from angzarr_client.books import new_cover
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.typeurl import pack, unpack
from poker_contracts import player_pb2, poker_types_pb2

pytestmark = pytest.mark.network

_spec = importlib.util.spec_from_file_location(
    "interop_published_side_76", Path(__file__).with_name("published_side.py")
)
published_side = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(published_side)


def _register_book(root: uuid.UUID, name: str) -> types_pb2.CommandBook:
    book = types_pb2.CommandBook(cover=new_cover("player", root, f"interop-{name}"))
    page = book.pages.add()
    page.header.sequence = 0
    page.command.CopyFrom(
        pack(
            player_pb2.RegisterPlayer(
                display_name=name, email=f"{name}@example.com", player_type=poker_types_pb2.HUMAN
            )
        )
    )
    return book


def test_published_client_handles_a_command_through_our_coordinator(player_coordinator, run_published):
    standalone = player_coordinator.socket_path
    root = uuid.uuid4()
    book = _register_book(root, "alice")
    reply = run_published(
        {
            "handle": [
                {"endpoint": standalone, "book": published_side.to_fields(book)},
                {
                    "endpoint": standalone,
                    "book": published_side.to_fields(_register_book(root, "alice-again")),
                },
            ]
        }
    )
    first, second = reply["handled"]

    assert "response" in first, first
    response = command_handler_pb2.CommandResponse.FromString(bytes.fromhex(first["response"]))
    assert [p.header.sequence for p in response.events.pages] == [0]
    registered = unpack(response.events.pages[0].event, player_pb2.PlayerRegistered)
    assert registered.display_name == "alice"
    assert uuid.UUID(bytes=response.events.cover.root.value) == root

    # A second registration is a business rejection; the published client sees its gRPC code.
    assert second.get("error", {}).get("code") == "FAILED_PRECONDITION", second

    # What the published client committed is what our client reads back.
    with QueryClient(standalone) as client:
        stored = client.get_event_book(types_pb2.Query(cover=new_cover("player", root)))
    assert [p.header.sequence for p in stored.pages] == [0]
    assert unpack(stored.pages[0].event, player_pb2.PlayerRegistered).display_name == "alice"


def test_published_query_client_reads_what_we_wrote(player_coordinator, run_published):
    root = uuid.uuid4()
    with CommandHandlerClient(player_coordinator.tcp) as ours:
        ours.handle(_register_book(root, "zoe"))
    query = types_pb2.Query(cover=new_cover("player", root))
    by_correlation = types_pb2.Query(cover=types_pb2.Cover(domain="player", correlation_id="interop-zoe"))
    reply = run_published(
        {
            "query": [
                {"endpoint": player_coordinator.socket_path, "query": published_side.to_fields(query)},
                {"endpoint": player_coordinator.tcp, "query": published_side.to_fields(by_correlation)},
            ]
        }
    )
    by_root, by_cid = reply["queried"]
    assert "book" in by_root, by_root
    stored = types_pb2.EventBook.FromString(bytes.fromhex(by_root["book"]))
    assert [p.header.sequence for p in stored.pages] == [0]
    assert unpack(stored.pages[0].event, player_pb2.PlayerRegistered).display_name == "zoe"
    assert [types_pb2.EventBook.FromString(bytes.fromhex(b)) for b in by_root["books"]] == [stored]
    assert "books" in by_cid, by_cid
    (found,) = [types_pb2.EventBook.FromString(bytes.fromhex(b)) for b in by_cid["books"]]
    assert found.cover.root.value == root.bytes
