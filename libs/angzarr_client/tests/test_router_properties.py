"""Properties of routing: router dispatch equals direct calls; pattern tables follow rule R1."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from angzarr_client import CommandRejectedError, type_matches
from angzarr_client.handlers import CommandHandler, applies, handles
from angzarr_client.handlers.type_table import TypeTable
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.router import Router
from angzarr_client.testing import build_contextual_command
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import Currency


class Wallet(CommandHandler[pb.PlayerState]):
    domain = "player"
    snapshot_every = 4

    @handles(pb.DepositFunds)
    def deposit(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        return pb.FundsDeposited(
            amount=cmd.amount, new_balance=Currency(amount=self.state.bankroll.amount + cmd.amount.amount)
        )

    @handles(pb.WithdrawFunds)
    def withdraw(self, cmd: pb.WithdrawFunds) -> pb.FundsWithdrawn:
        if cmd.amount.amount > self.state.bankroll.amount:
            raise CommandRejectedError("insufficient funds")
        return pb.FundsWithdrawn(
            amount=cmd.amount, new_balance=Currency(amount=self.state.bankroll.amount - cmd.amount.amount)
        )

    @applies(pb.FundsDeposited)
    def apply_deposit(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsWithdrawn)
    def apply_withdraw(self, state: pb.PlayerState, event: pb.FundsWithdrawn) -> None:
        state.bankroll.CopyFrom(event.new_balance)


commands = st.lists(
    st.tuples(st.sampled_from([pb.DepositFunds, pb.WithdrawFunds]), st.integers(min_value=0, max_value=50)),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(commands)
def test_router_dispatch_one_command_at_a_time_equals_direct_calls(script):
    router = Router("player").with_handler(Wallet).build()
    history = types_pb2.EventBook(cover=types_pb2.Cover(domain="player"))
    direct = Wallet()
    for command_type, amount in script:
        command = command_type(amount=Currency(amount=amount))
        method = direct.deposit if command_type is pb.DepositFunds else direct.withdraw
        try:
            method(command)
            direct_ok = True
        except CommandRejectedError:
            direct_ok = False
        try:
            response = router.dispatch(build_contextual_command(command, history, domain="player"))
            routed_ok = True
        except CommandRejectedError:
            routed_ok = False
        assert routed_ok == direct_ok
        if routed_ok:
            assert [p.header.sequence for p in response.events.pages] == [len(history.pages)]
            history.pages.extend(response.events.pages)
            if response.events.HasField("snapshot"):
                assert response.events.snapshot.sequence == len(history.pages) - 1
    assert [p.event for p in history.pages] == [p.event for p in direct.new_events]
    assert Wallet(history).state == direct.state


names = st.lists(
    st.sampled_from(["a", "b", "ab", "Value", "Int32Value", "UInt32Value", "v1", "x_y"]),
    min_size=1,
    max_size=4,
).map(".".join)


@given(st.lists(names, min_size=1, max_size=6, unique=True), names)
def test_type_table_returns_the_longest_matching_pattern(patterns, full):
    table: TypeTable[str] = TypeTable("command")
    for pattern in patterns:
        table.add(pattern, pattern)
    found = table.lookup("type.googleapis.com/" + full)
    matching = [p for p in patterns if type_matches(full, p)]
    if not matching:
        assert found is None
    else:
        assert found is not None and found[0] == max(matching, key=len)
        assert full == found[0] or full.endswith("." + found[0])
