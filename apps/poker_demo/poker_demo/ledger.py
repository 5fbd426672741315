"""A player's money as a client reads it from the player's events (spec poker §1, §2).

The player events carry absolute values (``new_balance``, ``new_reserved_balance``), so the latest one
gives the current bankroll and reservation total; the per-table reservations and the running sums of
deposits, withdrawals and transfers are folded from the amounts. The sums let a reader check M1 (bankroll =
deposits − withdrawals + transfers) against the absolute values the player aggregate recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from poker_contracts import player_pb2


@dataclass(slots=True)
class PlayerLedger:
    """Money of one player, folded from its events in order."""

    display_name: str = ""
    bankroll: int = 0
    reserved: int = 0
    table_reservations: dict[bytes, int] = field(default_factory=dict)
    deposits: int = 0
    withdrawals: int = 0
    transfers: int = 0

    @property
    def available(self) -> int:
        return self.bankroll - self.reserved

    def apply(self, event: Message) -> None:
        """Fold one player event; other events are ignored."""
        if isinstance(event, player_pb2.PlayerRegistered):
            self.display_name = event.display_name
        elif isinstance(event, player_pb2.FundsDeposited):
            self.deposits += event.amount.amount
            self.bankroll = event.new_balance.amount
        elif isinstance(event, player_pb2.FundsWithdrawn):
            self.withdrawals += event.amount.amount
            self.bankroll = event.new_balance.amount
        elif isinstance(event, player_pb2.FundsReserved):
            self.table_reservations[bytes(event.table_root)] = event.amount.amount
            self.reserved = event.new_reserved_balance.amount
        elif isinstance(event, player_pb2.FundsReleased):
            self.table_reservations.pop(bytes(event.table_root), None)
            self.reserved = event.new_reserved_balance.amount
        elif isinstance(event, player_pb2.FundsTransferred):
            table = bytes(event.table_root)
            self.table_reservations[table] = self.table_reservations.get(table, 0) + event.amount.amount
            self.transfers += event.amount.amount
            self.bankroll = event.new_balance.amount
            self.reserved = event.new_reserved_balance.amount

    @classmethod
    def of(cls, events: Iterable[Message]) -> PlayerLedger:
        """The ledger after ``events`` (in order)."""
        ledger = cls()
        for event in events:
            ledger.apply(event)
        return ledger
