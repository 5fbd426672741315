"""The Hand aggregate behind the library router: the command's cover decides the correlation id."""

from __future__ import annotations

import datetime as dt

import pytest
from hand_harness import CID, HAND_ROOT, P1, P2, T0, deal_cards, decode

from angzarr_client.errors import CommandRejectedError
from angzarr_client.router import Router
from angzarr_client.testing import build_contextual_command
from hand.aggregate import Hand
from poker_contracts import hand_pb2 as pb


def dispatch(router, command, prior=None, correlation_id=CID) -> list:
    request = build_contextual_command(command, prior, domain="hand", root=HAND_ROOT, correlation_id=correlation_id)
    return [decode(page.event) for page in router.dispatch(request).events.pages]


def test_router_copies_the_command_correlation_id_and_enforces_it() -> None:
    router = Router("hand").with_handler(Hand).build()
    assert router.domain == "hand"
    [dealt] = dispatch(router, deal_cards([(P1, 0, 500), (P2, 1, 500)]), correlation_id="from-start-hand")
    assert dealt.correlation_id == "from-start-hand"
    blind = pb.PostBlind(player_root=P1, blind_type="small", amount=5)
    with pytest.raises(CommandRejectedError, match="correlation id"):
        dispatch(router, blind, prior=[dealt], correlation_id="someone-else")
    [posted] = dispatch(router, blind, prior=[dealt], correlation_id="from-start-hand")
    assert posted.amount == 5


def test_an_injected_clock_survives_the_router_copy() -> None:
    later = T0 + dt.timedelta(hours=1)
    router = Router("hand").with_handler(Hand(clock=lambda: later)).build()
    [dealt] = dispatch(router, deal_cards([(P1, 0, 500), (P2, 1, 500)]))
    assert dealt.dealt_at.ToDatetime(tzinfo=dt.UTC) == later
