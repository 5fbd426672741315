"""The player aggregate: registration, bankroll and per-table reservations (spec poker §2).

Money model: the *bankroll* is every chip the player owns, chips on tables included; *reserved* is the
sum of the per-table reservations; *available* = bankroll − reserved is all that withdrawals and new
reservations may use. Sitting down is two-phase: ``ReserveFunds`` here, then the table saga's
``JoinTable``; if the table refuses, :meth:`Player.join_refused` releases the reservation again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client import (
    CommandHandler,
    CommandRejectedError,
    CompensationContext,
    applies,
    handles,
    rejected,
)
from angzarr_client.timestamps import to_timestamp
from player.chips import check_currency, chips
from poker_contracts import player_pb2 as pb
from poker_contracts import table_pb2
from poker_contracts.poker_types_pb2 import AI, BETTING_PHASE_UNSPECIFIED, HUMAN

invalid = CommandRejectedError.invalid_argument
refused = CommandRejectedError.precondition_failed

ROOT_SIZE = 16


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime (the default clock)."""
    return dt.datetime.now(dt.UTC)


def table_key(root: bytes, field: str = "table_root") -> str:
    """The hex key of a table root, as ``PlayerState.table_reservations`` is keyed.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT when the root is empty or not 16 bytes.
    """
    if not root:
        raise invalid(f"{field} is required")
    if len(root) != ROOT_SIZE:
        raise invalid(f"{field} must be a {ROOT_SIZE}-byte root, got {len(root)} bytes")
    return root.hex()


class Player(CommandHandler[pb.PlayerState]):
    """A poker player's identity and money. Checks run in the order the spec lists them."""

    domain = "player"
    snapshot_every = 50
    # Tests replace it per instance: ``player.clock = lambda: FIXED``.
    clock: Callable[[], dt.datetime] = staticmethod(utc_now)

    # -- commands ------------------------------------------------------------------------------

    @handles(pb.RegisterPlayer)
    def register(self, cmd: pb.RegisterPlayer) -> pb.PlayerRegistered:
        if self.registered:
            raise refused("Player already exists: register under a new root")
        if not cmd.display_name.strip():
            raise invalid("display_name is required")
        if not cmd.email.strip():
            raise invalid("email is required")
        if cmd.player_type not in (HUMAN, AI):
            raise invalid("player_type must be HUMAN or AI")
        return pb.PlayerRegistered(
            display_name=cmd.display_name, email=cmd.email, player_type=cmd.player_type,
            ai_model_id=cmd.ai_model_id, registered_at=self._now(),
        )

    @handles(pb.DepositFunds)
    def deposit(self, cmd: pb.DepositFunds) -> pb.FundsDeposited:
        self._require_registered()
        amount = self._positive_amount(cmd)
        return pb.FundsDeposited(
            amount=chips(amount), new_balance=chips(self.bankroll_chips + amount), deposited_at=self._now()
        )

    @handles(pb.WithdrawFunds)
    def withdraw(self, cmd: pb.WithdrawFunds) -> pb.FundsWithdrawn:
        self._require_registered()
        amount = self._positive_amount(cmd)
        if amount > self.available_chips:
            raise refused(f"insufficient available funds: {self.available_chips} available, {amount} asked")
        return pb.FundsWithdrawn(
            amount=chips(amount), new_balance=chips(self.bankroll_chips - amount), withdrawn_at=self._now()
        )

    @handles(pb.ReserveFunds)
    def reserve(self, cmd: pb.ReserveFunds) -> pb.FundsReserved:
        self._require_registered()
        amount = self._positive_amount(cmd)
        table = table_key(cmd.table_root)
        if table in self.state.table_reservations:
            raise refused("Funds are already reserved for this table: leave it before reserving again")
        if amount > self.available_chips:
            raise refused(f"insufficient available funds: {self.available_chips} available, {amount} asked")
        event = pb.FundsReserved(
            amount=chips(amount), table_root=cmd.table_root,
            new_available_balance=chips(self.available_chips - amount),
            new_reserved_balance=chips(self.reserved_chips + amount), reserved_at=self._now(),
        )
        if cmd.HasField("preferred_seat"):
            event.preferred_seat = cmd.preferred_seat
        return event

    @handles(pb.ReleaseFunds)
    def release(self, cmd: pb.ReleaseFunds) -> pb.FundsReleased:
        self._require_registered()
        table = table_key(cmd.table_root)
        if table not in self.state.table_reservations:
            raise refused("No funds reserved for this table: nothing to release")
        return self._released(cmd.table_root)

    @handles(pb.TransferFunds)
    def transfer(self, cmd: pb.TransferFunds) -> pb.FundsTransferred:
        self._require_registered()
        if not cmd.HasField("amount") or cmd.amount.amount == 0:
            raise invalid("amount must be non-zero: positive credits, negative debits")
        check_currency(cmd.amount)
        table = table_key(cmd.table_root)
        if not cmd.hand_root:
            raise invalid("hand_root is required")
        if table not in self.state.table_reservations:
            raise refused("No funds reserved for this table: settle only at a table the player joined")
        amount, reservation = cmd.amount.amount, self.state.table_reservations[table]
        if -amount > reservation:
            raise refused(f"insufficient reserved funds: {reservation} at this table, debit of {-amount}")
        return pb.FundsTransferred(
            from_player_root=cmd.from_player_root, to_player_root=self._own_root(), amount=chips(amount),
            hand_root=cmd.hand_root, reason=cmd.reason, new_balance=chips(self.bankroll_chips + amount),
            transferred_at=self._now(), table_root=cmd.table_root,
            new_reserved_balance=chips(self.reserved_chips + amount),
            new_available_balance=chips(self.available_chips),
        )

    @handles(pb.SitOut)
    def sit_out(self, cmd: pb.SitOut) -> pb.PlayerSittingOut:
        self._require_registered()
        table = self._seated_table(cmd.table_root)
        if table in self.state.sitting_out_tables:
            raise refused("Player is already sitting out at this table: send SitIn to return")
        return pb.PlayerSittingOut(table_root=cmd.table_root, sat_out_at=self._now())

    @handles(pb.SitIn)
    def sit_in(self, cmd: pb.SitIn) -> pb.PlayerReturningToPlay:
        self._require_registered()
        table = self._seated_table(cmd.table_root)
        if table not in self.state.sitting_out_tables:
            raise refused("Player is not sitting out at this table: nothing to return from")
        return pb.PlayerReturningToPlay(table_root=cmd.table_root, sat_in_at=self._now())

    @handles(pb.RequestAction)
    def request_action(self, cmd: pb.RequestAction) -> pb.ActionRequested:
        self._require_registered()
        if not cmd.hand_root:
            raise invalid("hand_root is required")
        table = table_key(cmd.table_root)
        if cmd.phase == BETTING_PHASE_UNSPECIFIED:
            raise invalid("phase is required")
        if not cmd.HasField("deadline") and cmd.timeout_seconds <= 0:
            raise invalid("timeout_seconds must be positive when no deadline is given")
        if table not in self.state.table_reservations:
            raise refused("Player is not at this table: no reservation backs a seat there")
        deadline = cmd.deadline if cmd.HasField("deadline") else to_timestamp(
            self.clock() + dt.timedelta(seconds=cmd.timeout_seconds)
        )
        return pb.ActionRequested(
            hand_root=cmd.hand_root, table_root=cmd.table_root, player_root=self._own_root(),
            player_type=self.state.player_type, amount_to_call=cmd.amount_to_call, min_raise=cmd.min_raise,
            max_raise=cmd.max_raise, hole_cards=cmd.hole_cards, community_cards=cmd.community_cards,
            pot_size=cmd.pot_size, phase=cmd.phase, deadline=deadline, is_draw=cmd.is_draw,
        )

    # -- compensation --------------------------------------------------------------------------

    @rejected("table", table_pb2.JoinTable)
    def join_refused(self, ctx: CompensationContext) -> pb.FundsReleased | None:
        """The table refused the seat: give the reservation back, unless it already backs a seat."""
        table_root = ctx.rejected_command.cover.root.value
        if "already seated" in ctx.rejection_reason.lower():
            return None
        if table_root.hex() not in self.state.table_reservations:
            return None
        return self._released(table_root)

    # -- appliers: absolute values from the events ---------------------------------------------

    @applies(pb.PlayerRegistered)
    def apply_registered(self, state: pb.PlayerState, event: pb.PlayerRegistered) -> None:
        state.player_id = "player_" + event.email
        state.display_name = event.display_name
        state.email = event.email
        state.player_type = event.player_type
        state.ai_model_id = event.ai_model_id
        state.status = "active"
        state.bankroll.CopyFrom(chips(0))
        state.reserved_funds.CopyFrom(chips(0))

    @applies(pb.FundsDeposited)
    def apply_deposited(self, state: pb.PlayerState, event: pb.FundsDeposited) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsWithdrawn)
    def apply_withdrawn(self, state: pb.PlayerState, event: pb.FundsWithdrawn) -> None:
        state.bankroll.CopyFrom(event.new_balance)

    @applies(pb.FundsReserved)
    def apply_reserved(self, state: pb.PlayerState, event: pb.FundsReserved) -> None:
        state.table_reservations[event.table_root.hex()] = event.amount.amount
        state.reserved_funds.CopyFrom(event.new_reserved_balance)

    @applies(pb.FundsReleased)
    def apply_released(self, state: pb.PlayerState, event: pb.FundsReleased) -> None:
        table = event.table_root.hex()
        state.table_reservations.pop(table, None)
        _discard(state.sitting_out_tables, table)
        state.reserved_funds.CopyFrom(event.new_reserved_balance)

    @applies(pb.FundsTransferred)
    def apply_transferred(self, state: pb.PlayerState, event: pb.FundsTransferred) -> None:
        state.bankroll.CopyFrom(event.new_balance)
        state.table_reservations[event.table_root.hex()] += event.amount.amount
        state.reserved_funds.CopyFrom(event.new_reserved_balance)

    @applies(pb.PlayerSittingOut)
    def apply_sitting_out(self, state: pb.PlayerState, event: pb.PlayerSittingOut) -> None:
        if event.table_root.hex() not in state.sitting_out_tables:
            state.sitting_out_tables.append(event.table_root.hex())

    @applies(pb.PlayerReturningToPlay)
    def apply_returning(self, state: pb.PlayerState, event: pb.PlayerReturningToPlay) -> None:
        _discard(state.sitting_out_tables, event.table_root.hex())

    # -- derived figures -----------------------------------------------------------------------

    @property
    def registered(self) -> bool:
        return bool(self.state.player_id)

    @property
    def bankroll_chips(self) -> int:
        return self.state.bankroll.amount

    @property
    def reserved_chips(self) -> int:
        return self.state.reserved_funds.amount

    @property
    def available_chips(self) -> int:
        return self.bankroll_chips - self.reserved_chips

    # -- shared steps --------------------------------------------------------------------------

    def _require_registered(self) -> None:
        if not self.registered:
            raise refused("Player does not exist: send RegisterPlayer first")

    @staticmethod
    def _positive_amount(cmd: pb.DepositFunds | pb.WithdrawFunds | pb.ReserveFunds) -> int:
        if not cmd.HasField("amount") or cmd.amount.amount <= 0:
            raise invalid("amount must be positive")
        check_currency(cmd.amount)
        return cmd.amount.amount

    def _seated_table(self, table_root: bytes) -> str:
        table = table_key(table_root)
        if table not in self.state.table_reservations:
            raise refused("Player is not at this table: reserve funds and join it first")
        return table

    def _released(self, table_root: bytes) -> pb.FundsReleased:
        """The release of the whole reservation for ``table_root`` (it may hold 0 chips)."""
        amount = self.state.table_reservations[table_root.hex()]
        return pb.FundsReleased(
            amount=chips(amount), table_root=table_root,
            new_available_balance=chips(self.available_chips + amount),
            new_reserved_balance=chips(self.reserved_chips - amount), released_at=self._now(),
        )

    def _own_root(self) -> bytes:
        return self.root.bytes if self.root is not None else b""

    def _now(self) -> Timestamp:
        return to_timestamp(self.clock())


def _discard(values: list[str], value: str) -> None:
    if value in values:
        values.remove(value)
