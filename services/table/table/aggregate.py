"""The table aggregate: seats, buy-ins, and the start and settlement of hands (spec poker §3).

A seat's stack is the player's reservation for this table: chips arrive with ``JoinTable`` (sent by the
table saga after ``FundsReserved``), change only when a hand ends (``HandEnded.stack_changes``), and leave
with ``PlayerLeft``. The hand itself is played in the ``hand`` context.
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
    handles_fact,
    rejected,
)
from angzarr_client.timestamps import to_timestamp
from poker_contracts import hand_pb2
from poker_contracts import table_pb2 as pb
from poker_contracts.poker_types_pb2 import Currency, Seat
from poker_rules.deck import derive_deck_seed
from poker_rules.roots import ROOT_SIZE, hand_root, hex_key
from table.rotation import blind_seats, button_seat
from table.settings import table_created

invalid = CommandRejectedError.invalid_argument
refused = CommandRejectedError.precondition_failed

WAITING, IN_HAND = "waiting", "in_hand"
ANY_SEAT = -1


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime (the default clock)."""
    return dt.datetime.now(dt.UTC)


def player_root_of(root: bytes) -> bytes:
    """A command's ``player_root``, checked.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT when it is empty or not 16 bytes.
    """
    if not root:
        raise invalid("player_root is required")
    if len(root) != ROOT_SIZE:
        raise invalid(f"player_root must be a {ROOT_SIZE}-byte root, got {len(root)} bytes")
    return root


class Table(CommandHandler[pb.TableState]):
    """A poker table. Checks run in the order the spec lists them."""

    domain = "table"
    snapshot_every = 50
    # Tests replace it per instance: ``table.clock = lambda: FIXED``.
    clock: Callable[[], dt.datetime] = staticmethod(utc_now)

    # -- commands ------------------------------------------------------------------------------

    @handles(pb.CreateTable)
    def create(self, cmd: pb.CreateTable) -> pb.TableCreated:
        if self.created:
            raise refused("Table already exists: create it under a new root")
        return table_created(cmd, created_at=self._now())

    @handles(pb.JoinTable)
    def join(self, cmd: pb.JoinTable) -> pb.PlayerJoined:
        self._require_created()
        player_root = player_root_of(cmd.player_root)
        state = self.state
        if cmd.buy_in_amount <= 0:
            raise invalid("buy_in_amount must be positive")
        if not ANY_SEAT <= cmd.preferred_seat < state.max_players:
            raise invalid(f"preferred_seat must be -1 (any seat) or 0..{state.max_players - 1}")
        if cmd.buy_in_amount < state.min_buy_in:
            raise invalid(f"Buy-in must be at least {state.min_buy_in}")
        if cmd.buy_in_amount > state.max_buy_in:
            raise invalid(f"Buy-in cannot exceed {state.max_buy_in}")
        if self._seat_of(player_root) is not None:
            raise refused("Player is already seated at this table")
        taken = {seat.position for seat in state.seats}
        if len(taken) >= state.max_players:
            raise refused("Table is full: try another table")
        if cmd.preferred_seat in taken:
            raise refused(f"Seat {cmd.preferred_seat} is occupied: choose another seat, or -1 for any")
        seat = cmd.preferred_seat
        if seat == ANY_SEAT:
            seat = min(set(range(state.max_players)) - taken)
        return pb.PlayerJoined(
            player_root=player_root, seat_position=seat, buy_in_amount=cmd.buy_in_amount,
            stack=cmd.buy_in_amount, joined_at=self._now(),
        )

    @handles(pb.LeaveTable)
    def leave(self, cmd: pb.LeaveTable) -> pb.PlayerLeft:
        self._require_created()
        seat = self._seat_of(player_root_of(cmd.player_root))
        if seat is None:
            raise refused("Player is not seated at this table")
        if self.state.status == IN_HAND and any(p.player_root == seat.player_root for p in self.state.hand_players):
            raise refused("Player cannot leave during a hand: leave once it has ended")
        return pb.PlayerLeft(
            player_root=seat.player_root, seat_position=seat.position, chips_cashed_out=seat.stack.amount,
            left_at=self._now(),
        )

    @handles(pb.StartHand)
    def start_hand(self, cmd: pb.StartHand) -> pb.HandStarted:
        self._require_created()
        state = self.state
        if state.status == IN_HAND:
            raise refused("A hand is already in progress: wait for it to end")
        playing = [seat for seat in state.seats if seat.stack.amount > 0 and not seat.is_sitting_out]
        if len(playing) < 2:
            raise refused("Not enough players: a hand needs 2 seated players with chips who are not sitting out")
        positions = [seat.position for seat in playing]
        button = button_seat(positions, state.dealer_position if state.hand_count else None)
        small, big = blind_seats(positions, button)
        number, table_root = state.hand_count + 1, self._own_root()
        return pb.HandStarted(
            hand_root=hand_root(table_root, number), hand_number=number, dealer_position=button,
            small_blind_position=small, big_blind_position=big,
            active_players=[
                pb.SeatSnapshot(position=s.position, player_root=s.player_root, stack=s.stack.amount)
                for s in playing
            ],
            game_variant=state.game_variant, small_blind=state.small_blind, big_blind=state.big_blind,
            started_at=self._now(), deck_seed=cmd.deck_seed or derive_deck_seed(table_root, number),
            action_timeout_seconds=state.action_timeout_seconds,
        )

    @handles(pb.EndHand)
    def end_hand(self, cmd: pb.EndHand) -> tuple[pb.HandEnded | pb.PlayerLeft, ...]:
        self._require_created()
        if not cmd.hand_root:
            raise invalid("hand_root is required")
        roots = [r.winner_root for r in cmd.results] + [s.player_root for s in cmd.final_stacks]
        if any(len(root) != ROOT_SIZE for root in roots):
            raise invalid(f"every result and final stack needs a {ROOT_SIZE}-byte player root")
        if any(s.stack < 0 for s in cmd.final_stacks):
            raise invalid("final stacks must not be negative")
        if self.state.status != IN_HAND:
            raise refused("No hand in progress: nothing to end")
        if cmd.hand_root != self.state.current_hand_root:
            raise refused("Hand root mismatch: this EndHand is for another hand than the running one")
        starting = {hex_key(p.player_root): p.stack for p in self.state.hand_players}
        changes = self._stack_changes(cmd, starting)
        if sum(changes.values()) != 0:
            raise refused(f"Stack changes do not balance: they sum to {sum(changes.values())}, not 0")
        if any(starting[key] + change < 0 for key, change in changes.items()):
            raise refused("results would leave a participant with a negative stack")
        ended = pb.HandEnded(
            hand_root=cmd.hand_root, results=cmd.results, stack_changes=changes, ended_at=self._now()
        )
        busted = [
            pb.PlayerLeft(player_root=p.player_root, seat_position=p.position, chips_cashed_out=0,
                          left_at=ended.ended_at)
            for p in sorted(self.state.hand_players, key=lambda p: p.position)
            if p.stack + changes[hex_key(p.player_root)] == 0
        ]
        return (ended, *busted)

    @handles(pb.AddChips)
    def add_chips(self, cmd: pb.AddChips) -> None:
        self._require_created()
        raise refused("AddChips is not supported: top-ups would bypass the reservation; leave and re-join")

    # -- facts from the player context (never refused) -----------------------------------------

    @handles_fact(pb.PlayerSatOut)
    def player_sat_out(self, fact: pb.PlayerSatOut) -> None:
        seat = self._seat_of(fact.player_root)
        if seat is not None:
            seat.is_sitting_out = True

    @handles_fact(pb.PlayerSatIn)
    def player_sat_in(self, fact: pb.PlayerSatIn) -> None:
        seat = self._seat_of(fact.player_root)
        if seat is not None:
            seat.is_sitting_out = False

    # -- compensation --------------------------------------------------------------------------

    @rejected("hand", hand_pb2.DealCards)
    def deal_refused(self, ctx: CompensationContext) -> pb.HandEnded | None:
        """The hand context refused to deal the running hand: abort it with no chips moved."""
        hand = ctx.rejected_command.cover.root.value
        if self.state.status != IN_HAND or hand != self.state.current_hand_root:
            return None
        return pb.HandEnded(
            hand_root=hand, stack_changes={hex_key(p.player_root): 0 for p in self.state.hand_players},
            ended_at=self._now(),
        )

    # -- appliers ------------------------------------------------------------------------------

    @applies(pb.TableCreated)
    def apply_created(self, state: pb.TableState, event: pb.TableCreated) -> None:
        state.table_id = "table_" + event.table_name
        state.table_name = event.table_name
        state.game_variant = event.game_variant
        state.small_blind = event.small_blind
        state.big_blind = event.big_blind
        state.min_buy_in = event.min_buy_in
        state.max_buy_in = event.max_buy_in
        state.max_players = event.max_players
        state.action_timeout_seconds = event.action_timeout_seconds
        state.status = WAITING

    @applies(pb.PlayerJoined)
    def apply_joined(self, state: pb.TableState, event: pb.PlayerJoined) -> None:
        seats = [*state.seats, Seat(
            position=event.seat_position, player_root=event.player_root,
            stack=Currency(amount=event.stack, currency_code="CHIPS"), is_active=True,
        )]
        _replace_seats(state, sorted(seats, key=lambda s: s.position))

    @applies(pb.PlayerLeft)
    def apply_left(self, state: pb.TableState, event: pb.PlayerLeft) -> None:
        _replace_seats(state, [s for s in state.seats if s.player_root != event.player_root])

    @applies(pb.HandStarted)
    def apply_hand_started(self, state: pb.TableState, event: pb.HandStarted) -> None:
        state.hand_count = event.hand_number
        state.current_hand_root = event.hand_root
        state.dealer_position = event.dealer_position
        del state.hand_players[:]
        state.hand_players.extend(event.active_players)
        state.status = IN_HAND

    @applies(pb.HandEnded)
    def apply_hand_ended(self, state: pb.TableState, event: pb.HandEnded) -> None:
        for seat in state.seats:
            seat.stack.amount += event.stack_changes.get(seat.player_root.hex(), 0)
        state.current_hand_root = b""
        del state.hand_players[:]
        state.status = WAITING

    @applies(pb.ChipsAdded)
    def apply_chips_added(self, state: pb.TableState, event: pb.ChipsAdded) -> None:
        for seat in state.seats:
            if seat.player_root == event.player_root:
                seat.stack.amount = event.new_stack

    # -- shared steps --------------------------------------------------------------------------

    @property
    def created(self) -> bool:
        return bool(self.state.table_id)

    def _require_created(self) -> None:
        if not self.created:
            raise refused("Table does not exist: send CreateTable first")

    def _seat_of(self, player_root: bytes) -> Seat | None:
        return next((seat for seat in self.state.seats if seat.player_root == player_root), None)

    @staticmethod
    def _stack_changes(cmd: pb.EndHand, starting: dict[str, int]) -> dict[str, int]:
        """Net change per participant (hex key), zeros included.

        Raises:
            CommandRejectedError: FAILED_PRECONDITION when the final stacks do not name exactly the
                participants, or a result names someone else.
        """
        if cmd.final_stacks:
            finals = {hex_key(s.player_root): s.stack for s in cmd.final_stacks}
            if len(finals) != len(cmd.final_stacks) or finals.keys() != starting.keys():
                raise refused("final_stacks must name every participant of the hand exactly once")
            return {key: finals[key] - stack for key, stack in starting.items()}
        # Legacy form: each result's amount is its winner's net change; everyone else changed by 0.
        changes = dict.fromkeys(starting, 0)
        for result in cmd.results:
            key = hex_key(result.winner_root)
            if key not in changes:
                raise refused("every result must name a participant of the hand")
            changes[key] += result.amount
        return changes

    def _own_root(self) -> bytes:
        return self.root.bytes if self.root is not None else b""

    def _now(self) -> Timestamp:
        return to_timestamp(self.clock())


def _replace_seats(state: pb.TableState, seats: list[Seat]) -> None:
    # Copy first: clearing the repeated field would otherwise take the listed messages with it.
    copies = [Seat.FromString(s.SerializeToString()) for s in seats]
    del state.seats[:]
    state.seats.extend(copies)


