"""A command handler served by the published ``angzarr-client`` 0.3.1 (see ``test_published_handler.py``).

Runs only inside the published package's virtual environment (``.tools/interop-venv``), started by
``angzarr standalone`` from its config's ``command:``. Written against the package's public API alone:
its ``CommandHandler`` base with ``@handles`` / ``@applies``, its ``CommandRejectedError``, its bundled
``examples`` poker messages and its ``run_command_handler_server``, which reads the transport variables
(``TRANSPORT_TYPE``, ``UDS_BASE_PATH``, ``SERVICE_NAME``, ``DOMAIN``) the standalone runtime sets.

The aggregate is a small player wallet: register once, then deposit positive amounts.

No ``from __future__ import annotations`` here: the package checks handler type hints at class creation.
"""

import sys
from dataclasses import dataclass

from angzarr_client import CommandHandler, CommandRejectedError, applies, handles, run_command_handler_server
from angzarr_client.proto.examples import player_pb2, poker_types_pb2


@dataclass
class Wallet:
    registered: bool = False
    display_name: str = ""
    balance: int = 0


class PlayerWallet(CommandHandler[Wallet]):
    domain = "player"

    def _create_empty_state(self) -> Wallet:
        return Wallet()

    @applies(player_pb2.PlayerRegistered)
    def apply_registered(self, state: Wallet, event: player_pb2.PlayerRegistered):
        state.registered = True
        state.display_name = event.display_name

    @applies(player_pb2.FundsDeposited)
    def apply_deposited(self, state: Wallet, event: player_pb2.FundsDeposited):
        state.balance = event.new_balance.amount

    @handles(player_pb2.RegisterPlayer)
    def register(self, cmd: player_pb2.RegisterPlayer) -> player_pb2.PlayerRegistered:
        if self.state.registered:
            raise CommandRejectedError(f"player '{self.state.display_name}' is already registered")
        return player_pb2.PlayerRegistered(
            display_name=cmd.display_name, email=cmd.email, player_type=cmd.player_type
        )

    @handles(player_pb2.DepositFunds)
    def deposit(self, cmd: player_pb2.DepositFunds) -> player_pb2.FundsDeposited:
        if not self.state.registered:
            raise CommandRejectedError("deposit refused: player is not registered")
        if cmd.amount.amount <= 0:
            raise CommandRejectedError(f"deposit refused: amount must be positive, got {cmd.amount.amount}")
        balance = self.state.balance + cmd.amount.amount
        return player_pb2.FundsDeposited(
            amount=cmd.amount,
            new_balance=poker_types_pb2.Currency(amount=balance, currency_code=cmd.amount.currency_code),
        )


if __name__ == "__main__":
    run_command_handler_server(PlayerWallet, "50399")
    sys.exit(0)
