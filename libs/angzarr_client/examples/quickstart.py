"""Quickstart: write an aggregate, unit-test it, serve it over gRPC, and send it a command.

Run it with ``make run`` (or ``uv run python libs/angzarr_client/examples/quickstart.py``).
Nothing else needs to be running: the aggregate is served on a Unix socket in a temporary directory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import grpc

from angzarr_client import (
    CommandHandler,
    CommandHandlerGrpc,
    CommandRejectedError,
    applies,
    configure_logging,
    create_server,
    handles,
    now,
    unpack,
)
from angzarr_client.proto.angzarr import command_handler_pb2_grpc
from angzarr_client.testing import build_contextual_command, build_event_book, uuid_for
from poker_contracts import player_pb2 as pb
from poker_contracts.poker_types_pb2 import Currency


# 1. An aggregate is a class: commands in (@handles), events out, state rebuilt from events (@applies).
class Wallet(CommandHandler[pb.PlayerState]):
    domain = "player"

    @handles(pb.RegisterPlayer)
    def handle_register_player(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if self.exists:
            raise CommandRejectedError("player already registered")
        if not cmd.display_name:
            raise CommandRejectedError.invalid_argument("display_name is required")
        return pb.PlayerRegistered(display_name=cmd.display_name, registered_at=now())

    @handles(pb.DepositFunds)
    def handle_deposit_funds(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        if not self.exists:
            raise CommandRejectedError("register the player first")
        if cmd.amount.amount <= 0:
            raise CommandRejectedError.invalid_argument("amount must be positive")
        balance = Currency(amount=self.state.bankroll.amount + cmd.amount.amount)
        return pb.FundsDeposited(amount=cmd.amount, new_balance=balance, deposited_at=now())

    @handles(pb.WithdrawFunds)
    def handle_withdraw_funds(self, cmd: pb.WithdrawFunds) -> pb.FundsWithdrawn:
        if cmd.amount.amount > self.state.bankroll.amount:
            raise CommandRejectedError(
                f"insufficient funds: balance {self.state.bankroll.amount}, asked {cmd.amount.amount}"
            )
        balance = Currency(amount=self.state.bankroll.amount - cmd.amount.amount)
        return pb.FundsWithdrawn(amount=cmd.amount, new_balance=balance, withdrawn_at=now())

    @applies(pb.PlayerRegistered)
    def apply_player_registered(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.display_name = event.display_name

    @applies(pb.FundsDeposited)
    def apply_funds_deposited(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsWithdrawn)
    def apply_funds_withdrawn(self, state: pb.PlayerState, event: pb.FundsWithdrawn) -> None:
        state.bankroll.CopyFrom(event.new_balance)


def money(amount: int) -> Currency:
    return Currency(amount=amount, currency_code="CHIPS")


def unit_call() -> None:
    """2. Unit-test style: construct on a history, call a handler method, look at the result."""
    print("== 1. Calling the aggregate directly (no server, no database)")
    history = build_event_book([pb.PlayerRegistered(display_name="alice")], domain="player")
    wallet = Wallet(history)
    event = wallet.handle_deposit_funds(pb.DepositFunds(amount=money(500)))
    print(f"   alice deposits 500 -> FundsDeposited, new balance {event.new_balance.amount}")
    print(
        f"   the event was recorded at sequence {wallet.new_events[0].header.sequence} (history had 1 event)"
    )
    try:
        wallet.handle_withdraw_funds(pb.WithdrawFunds(amount=money(9000)))
    except CommandRejectedError as rejection:
        print(f"   alice withdraws 9000 -> rejected: {rejection}")


def over_grpc(socket_path: str) -> None:
    """3. Serve the same class over gRPC and send it a ContextualCommand, as the coordinator would."""
    print("== 2. Serving the aggregate over gRPC")
    server = create_server(
        command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server,
        CommandHandlerGrpc(Wallet),
        service_name="wallet",
        domain="player",
        environ={"TRANSPORT_TYPE": "uds", "UDS_PATH": socket_path},
    )
    server.start()  # serves from gRPC's own worker threads; this thread stays free
    print(f"   listening on {server.address}")
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = command_handler_pb2_grpc.CommandHandlerServiceStub(channel)
            bob = uuid_for("bob")
            history = build_event_book(
                [pb.PlayerRegistered(display_name="bob"), pb.FundsDeposited(new_balance=money(100))],
                domain="player",
                root=bob,
            )
            request = build_contextual_command(
                pb.DepositFunds(amount=money(50)),
                history,
                domain="player",
                root=bob,
                correlation_id="quickstart-1",
            )
            response = stub.Handle(request, timeout=10)
            for page in response.events.pages:
                deposited = unpack(page.event, pb.FundsDeposited)
                print(
                    f"   bob deposits 50 -> event #{page.header.sequence}: FundsDeposited, "
                    f"new balance {deposited.new_balance.amount}"
                )
            overdraw = build_contextual_command(
                pb.WithdrawFunds(amount=money(1000)),
                history,
                domain="player",
                root=bob,
                correlation_id="quickstart-2",
            )
            try:
                stub.Handle(overdraw, timeout=10)
            except grpc.RpcError as error:
                print(f"   bob withdraws 1000 -> {error.code().name}: {error.details()}")
    finally:
        server.stop(grace=1)
        print(f"   server stopped; socket removed: {not Path(socket_path).exists()}")


def main() -> int:
    configure_logging(json=False)  # the server's own log lines, readable on a terminal
    unit_call()
    with tempfile.TemporaryDirectory(prefix="angzarr-quickstart-") as directory:
        over_grpc(str(Path(directory) / "wallet.sock"))
    print("== Done. Next: see services/ for the poker bounded contexts built the same way.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
