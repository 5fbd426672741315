"""SIMPLE and CASCADE across sidecars (spec/coordinator.md §3.5): a command on the player sidecar runs the
hand-log projector hosted by the hand sidecar (``HandleSync``) and the table-saga hosted by the table
sidecar (``Execute``), and the response carries what they produced; an unreachable sidecar is a
``CascadeError``, never a failed command."""

from __future__ import annotations

import signal
import uuid

import pytest
from poker_checks import read_history

from angzarr_client import DomainClient
from angzarr_client.proto.angzarr import types_pb2
from poker_contracts import player_pb2, poker_types_pb2, table_pb2
from poker_demo import GameSettings, PokerClients, PokerGame, book_events
from poker_demo.game import VARIANTS

SIMPLE, CASCADE = types_pb2.SYNC_MODE_SIMPLE, types_pb2.SYNC_MODE_CASCADE


def _chips(amount: int) -> poker_types_pb2.Currency:
    return poker_types_pb2.Currency(amount=amount, currency_code="CHIPS")


@pytest.mark.postgres
@pytest.mark.slow
def test_sync_modes_reach_components_on_other_sidecars(start_distributed):
    system = start_distributed()
    clients = PokerClients(*(DomainClient(system.endpoint(d)) for d in ("player", "table", "hand")))
    with clients:
        settings = GameSettings(variant=VARIANTS["holdem"], players=2, hands=1, seed="dist-cascade", step_timeout=60)
        game = PokerGame(clients, settings)
        game.setup()  # the table and two seated players, all ASYNC
        newcomer = uuid.uuid4().bytes
        game.send("player", newcomer, player_pb2.RegisterPlayer(
            display_name="Nia", email="nia@example.com", player_type=poker_types_pb2.HUMAN))

        # SIMPLE: the hand-log projector (hand sidecar) has handled the deposit when the call returns.
        deposit = clients.player.command("player", newcomer).with_command(player_pb2.DepositFunds(amount=_chips(900)))
        simple = deposit.execute(SIMPLE, timeout=60)
        assert list(simple.cascade_errors) == []
        assert [p.projector for p in simple.projections] == ["hand-log"]
        assert simple.projections[0].cover.root.value == newcomer

        # CASCADE: the table-saga (table sidecar) seats the newcomer before the call returns.
        cid = str(uuid.uuid4())
        reserve = clients.player.command("player", newcomer).with_correlation_id(cid).with_command(
            player_pb2.ReserveFunds(amount=_chips(settings.buy_in), table_root=game.table_root))
        cascade = reserve.execute(CASCADE, timeout=60)
        assert list(cascade.cascade_errors) == []
        assert "hand-log" in [p.projector for p in cascade.projections]
        table_book = clients.table.query("table", game.table_root).get_event_book(timeout=30)
        joined = [e.message for e in book_events(table_book) if isinstance(e.message, table_pb2.PlayerJoined)]
        assert newcomer in [bytes(j.player_root) for j in joined], "CASCADE returned before the saga seated Nia"
        stored = {(b.cover.domain, bytes(b.cover.root.value)) for b in read_history(clients, game).books.values()}
        for book in cascade.cascade_books:  # whatever the peers reported is stored
            assert (book.cover.domain, bytes(book.cover.root.value)) in stored | {("player", newcomer)}

        # The hand sidecar is gone: the deposit still commits; the projector's absence is reported.
        hand = system.sidecars["hand"].process
        hand.send_signal(signal.SIGTERM)
        assert hand.wait(30) == 0
        degraded = deposit.execute(SIMPLE, timeout=60)
        assert len(degraded.events.pages) == 1
        [error] = degraded.cascade_errors
        assert (error.component_name, error.component_type) == ("hand-log", "projector")
        assert error.error_message.startswith("UNAVAILABLE") and "'hand'" in error.error_message
