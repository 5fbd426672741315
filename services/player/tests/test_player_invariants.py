"""Money invariant M1 (spec poker §1) under random command sequences, and rebuild == live state."""

from __future__ import annotations

import datetime as dt

from hypothesis import event, given, settings
from hypothesis import strategies as st

from angzarr_client import CommandRejectedError, decode_event, pack
from angzarr_client.testing import build_event_book, uuid_for
from player import Player
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import HUMAN, Currency

A = uuid_for("player alice")
TABLES = [uuid_for(f"table {n}").bytes for n in range(2)]
HAND = uuid_for("hand").bytes
FIXED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

# Mostly amounts that can succeed, plus the edges (zero, negative, more than the player has).
amounts = st.one_of(st.integers(min_value=1, max_value=400), st.integers(min_value=-50, max_value=1500))
tables = st.sampled_from(TABLES)
commands = st.one_of(
    st.builds(lambda a: pb.DepositFunds(amount=Currency(amount=a)), amounts),
    st.builds(lambda a: pb.WithdrawFunds(amount=Currency(amount=a)), amounts),
    st.builds(lambda a, t: pb.ReserveFunds(amount=Currency(amount=a), table_root=t), amounts, tables),
    st.builds(lambda t: pb.ReleaseFunds(table_root=t), tables),
    st.builds(
        lambda a, t: pb.TransferFunds(amount=Currency(amount=a), table_root=t, hand_root=HAND),
        st.one_of(st.integers(min_value=-200, max_value=200), st.integers(min_value=-800, max_value=800)), tables,
    ),
    st.builds(lambda t: pb.SitOut(table_root=t), tables),
    st.builds(lambda t: pb.SitIn(table_root=t), tables),
)


def check_m1(p: Player, deposits: int, withdrawals: int, transfers: int) -> None:
    state = p.state
    assert state.bankroll.amount == deposits - withdrawals + transfers
    assert 0 <= state.reserved_funds.amount <= state.bankroll.amount
    assert all(chips >= 0 for chips in state.table_reservations.values())
    assert state.reserved_funds.amount == sum(state.table_reservations.values())
    assert set(state.sitting_out_tables) <= set(state.table_reservations)


@settings(max_examples=200, deadline=None)
@given(st.lists(commands, min_size=10, max_size=40), st.data())
def test_m1_holds_after_every_command_and_rebuild_equals_live_state(sequence, data):
    live = Player(build_event_book([], domain="player", root=A))
    live.clock = lambda: FIXED
    live.register(pb.RegisterPlayer(display_name="Alice", email="alice@example.com", player_type=HUMAN))
    live.deposit(pb.DepositFunds(amount=Currency(amount=1000)))
    deposits, withdrawals, transfers = 1000, 0, 0
    for command in sequence:
        before = len(live.new_events)
        try:
            live.dispatch(pack(command))
        except CommandRejectedError:
            assert len(live.new_events) == before, "a rejection emits nothing"
            continue
        page = live.new_events[-1]
        if (deposited := decode_event(page, pb.FundsDeposited)) is not None:
            deposits += deposited.amount.amount
        elif (withdrawn := decode_event(page, pb.FundsWithdrawn)) is not None:
            withdrawals += withdrawn.amount.amount
        elif (transferred := decode_event(page, pb.FundsTransferred)) is not None:
            transfers += transferred.amount.amount
        check_m1(live, deposits, withdrawals, transfers)

    event(f"settled a hand: {transfers != 0}, tables reserved: {len(live.state.table_reservations)}")
    pages = list(live.new_events)
    rebuilt = Player(build_event_book(pages, domain="player", root=A))
    assert rebuilt.state == live.state
    # A snapshot at any point plus the events after it gives the same state too.
    cut = data.draw(st.integers(min_value=0, max_value=len(pages) - 1))
    at_cut = Player(build_event_book(pages[: cut + 1], domain="player", root=A)).state
    resumed = Player(build_event_book(pages[cut + 1:], domain="player", root=A, start_sequence=cut + 1,
                                      snapshot=(cut, at_cut)))
    assert resumed.state == live.state
