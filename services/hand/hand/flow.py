"""``hand-flow``: the process manager that drives a hand from the deal to the award (spec poker §6).

For every hand event it consumes, the PM records a process event ``HandFlowEvent{hand_root, event}``.
Its state is one *replica* per hand root: the hand's own state, rebuilt from those events with the
hand aggregate's appliers (:mod:`hand.state`), dropped once the hand is complete. Once per trigger
book, when the book's last hand event has been recorded, the decision table below compares the
replica before and after the book and answers with commands:

| After applying the event book                          | Command                                        |
|--------------------------------------------------------|------------------------------------------------|
| ``CardsDealt``                                         | ``PostBlind{SB player, "small", small_blind}``  |
| ``BlindPosted`` small                                  | ``PostBlind{BB player, "big", big_blind}``      |
| status betting or drawing with a *new* turn            | ``RequestAction`` → player at ``action_on``     |
| ``BettingRoundComplete``, live = 1                     | ``AwardPot{}``                                  |
| ``BettingRoundComplete``, next street due (board game) | ``DealCommunityCards{3 / 1 / 1}``               |
| ``ShowdownStarted`` / ``CardsRevealed`` / ``CardsMucked`` | ``RevealCards{next to show}``, else ``AwardPot{}`` |
| ``HandComplete``                                       | none (the hand-saga ends the hand at the table) |

A *new turn* means (status, action_on, turn_started_at) differs before and after the book. Commands
inherit the trigger's correlation id and go to the hand root, except ``RequestAction`` (player domain).
The decision functions are pure; :class:`HandFlow` wraps them in the library's ``ProcessManager``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client import ProcessManager, ProcessManagerContext, applies, handles
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import type_name_from_url
from poker_contracts import hand_pb2 as pb
from poker_contracts import player_pb2
from poker_contracts.poker_types_pb2 import DRAW

from .betting import all_in_level, may_raise, min_to, owed, pot_max, pot_total
from .games import NEXT_STREET, game_of
from .state import apply_event, player_at
from .status import AWARDING, BETTING, BLINDS, COMPLETE, DEALING, DRAWING, SHOWDOWN

HAND = "hand"
PLAYER = "player"

_CARDS_DEALT = pb.CardsDealt.DESCRIPTOR.full_name
_BLIND_POSTED = pb.BlindPosted.DESCRIPTOR.full_name
_ROUND_COMPLETE = pb.BettingRoundComplete.DESCRIPTOR.full_name
_SHOWDOWN_EVENTS = frozenset(
    cls.DESCRIPTOR.full_name for cls in (pb.ShowdownStarted, pb.CardsRevealed, pb.CardsMucked)
)


class FlowCommand(NamedTuple):
    """A command the flow wants sent: target domain, target root and the command message."""

    domain: str
    root: bytes
    command: Message


# -- pure decisions -------------------------------------------------------------------------------


def turn_of(state: pb.HandState | None) -> tuple[str, int, int, int]:
    """What identifies a turn: (status, action_on, turn_started_at seconds, nanos)."""
    if state is None:
        return ("", -1, 0, 0)
    return (state.status, state.action_on_position, state.turn_started_at.seconds, state.turn_started_at.nanos)


def is_new_turn(before: pb.HandState | None, after: pb.HandState) -> bool:
    """A player must act (bet or draw) and the turn differs from the one before the book."""
    return after.status in (BETTING, DRAWING) and after.action_on_position >= 0 and turn_of(before) != turn_of(after)


def deadline_of(state: pb.HandState) -> Timestamp:
    """When the current turn expires: ``turn_started_at + action_timeout_seconds``."""
    return Timestamp(
        seconds=state.turn_started_at.seconds + state.action_timeout_seconds, nanos=state.turn_started_at.nanos
    )


def action_request(hand_root: bytes, state: pb.HandState) -> player_pb2.RequestAction:
    """The ``RequestAction`` for the player at ``action_on`` (spec §6 "RequestAction fields").

    Raises:
        ValueError: nobody sits at ``action_on_position``.
    """
    player = player_at(state, state.action_on_position)
    if player is None:
        raise ValueError(f"hand {state.hand_id}: no player at action_on position {state.action_on_position}")
    request = player_pb2.RequestAction(
        hand_root=hand_root,
        table_root=state.table_root,
        hole_cards=player.hole_cards,
        community_cards=state.community_cards,
        pot_size=pot_total(state),
        phase=state.current_phase,
        timeout_seconds=state.action_timeout_seconds,
        deadline=deadline_of(state),
    )
    if state.status == DRAWING:
        # A draw is not a bet: every amount stays 0.
        request.is_draw = True
        request.phase = DRAW
        return request
    request.amount_to_call = min(owed(state, player), player.stack)
    if may_raise(state, player):
        level = all_in_level(player)
        request.min_raise = min(min_to(state), level)
        game = game_of(state.game_variant)
        request.max_raise = min(pot_max(state, player), level) if game is not None and game.pot_limit else level
    return request


def next_to_show(state: pb.HandState) -> bytes | None:
    """The reveal cursor: the first player in ``show_order`` who has neither shown nor mucked."""
    players = {p.player_root: p for p in state.players}
    for root in state.show_order:
        player = players.get(root)
        if player is not None and not player.has_shown and not player.has_mucked:
            return root
    return None


def next_commands(
    hand_root: bytes, before: pb.HandState | None, after: pb.HandState | None, event_types: Iterable[str]
) -> list[FlowCommand]:
    """The decision table of spec §6 for one trigger book.

    ``before``/``after`` are the hand's replica before and after applying the book (``None`` for no
    replica: not dealt yet, or complete and dropped); ``event_types`` are the full names of the
    book's hand events.
    """
    if after is None or after.status == COMPLETE:
        return []
    types = set(event_types)
    out: list[FlowCommand] = []
    if after.status == BLINDS:
        if _CARDS_DEALT in types:
            out.append(_post_blind(hand_root, after, after.small_blind_position, "small", after.small_blind))
        elif _BLIND_POSTED in types:
            out.append(_post_blind(hand_root, after, after.big_blind_position, "big", after.big_blind))
    if is_new_turn(before, after):
        request = action_request(hand_root, after)
        out.append(FlowCommand(PLAYER, player_at(after, after.action_on_position).player_root, request))
    if _ROUND_COMPLETE in types:
        if after.status == AWARDING:
            out.append(FlowCommand(HAND, hand_root, pb.AwardPot()))
        elif after.status == DEALING and after.current_phase in NEXT_STREET:
            _, count = NEXT_STREET[after.current_phase]
            out.append(FlowCommand(HAND, hand_root, pb.DealCommunityCards(count=count)))
    if after.status == SHOWDOWN and types & _SHOWDOWN_EVENTS:
        shower = next_to_show(after)
        if shower is not None:
            out.append(FlowCommand(HAND, hand_root, pb.RevealCards(player_root=shower, muck=False)))
        else:
            out.append(FlowCommand(HAND, hand_root, pb.AwardPot()))
    return out


def _post_blind(hand_root: bytes, state: pb.HandState, position: int, blind_type: str, amount: int) -> FlowCommand:
    player = player_at(state, position)
    if player is None:
        raise ValueError(f"hand {state.hand_id}: no player at the {blind_type} blind position {position}")
    return FlowCommand(HAND, hand_root, pb.PostBlind(player_root=player.player_root, blind_type=blind_type,
                                                     amount=amount))


# -- the process manager --------------------------------------------------------------------------


@dataclass
class HandReplicas:
    """The PM's state: one replica of the hand state per hand root still in play."""

    hands: dict[bytes, pb.HandState] = field(default_factory=dict)

    def replica(self, hand_root: bytes) -> pb.HandState | None:
        """A copy of the replica of ``hand_root``, or ``None`` if there is none."""
        found = self.hands.get(hand_root)
        if found is None:
            return None
        copy = pb.HandState()
        copy.CopyFrom(found)
        return copy


class TurnListener(Protocol):
    """Told about every ``RequestAction`` the flow sends (the action clock's deadline hints)."""

    def turn_started(self, hand_root: bytes, state: pb.HandState) -> None: ...


# The hand events the flow consumes: each one is recorded as a HandFlowEvent.
HAND_EVENTS: tuple[type[Message], ...] = (
    pb.CardsDealt, pb.BlindPosted, pb.ActionTaken, pb.BettingRoundComplete, pb.CommunityCardsDealt,
    pb.DrawCompleted, pb.ShowdownStarted, pb.CardsRevealed, pb.CardsMucked, pb.PotAwarded, pb.HandComplete,
    pb.PlayerTimedOut,
)
_HAND_EVENT_NAMES = frozenset(cls.DESCRIPTOR.full_name for cls in HAND_EVENTS)


class HandFlow(ProcessManager[HandReplicas]):
    """The ``hand-flow`` process manager (spec §6).

    ``turn_listener`` (optional) is told about each turn for which a ``RequestAction`` goes out;
    the hand service passes its action clock. The PM is copied per request, which keeps it.
    """

    name = "hand-flow"
    input_domain = HAND
    output_domain = HAND

    def __init__(self, event_book: types_pb2.EventBook | None = None, *,
                 turn_listener: TurnListener | None = None) -> None:
        super().__init__(event_book)
        self.turn_listener = turn_listener

    def _bind_history(self, event_book: types_pb2.EventBook | None) -> None:
        super()._bind_history(event_book)
        # Per trigger book: the sequence of the book being handled and the replica before it.
        self._book_key: tuple[bytes, int] | None = None
        self._before: pb.HandState | None = None

    @applies(pb.HandFlowEvent)
    def apply_hand_flow_event(self, state: HandReplicas, event: pb.HandFlowEvent) -> None:
        replica = state.hands.setdefault(event.hand_root, pb.HandState())
        apply_event(replica, event.event)
        if replica.status == COMPLETE:
            del state.hands[event.hand_root]

    def _consume(self, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        """Record the page as a process event; on the book's last hand event, decide."""
        hand_root = ctx.root.bytes
        pages = [p for p in ctx.source.pages if p.WhichOneof("payload") == "event"
                 and type_name_from_url(p.event.type_url) in _HAND_EVENT_NAMES]
        key = (hand_root, pages[0].header.sequence if pages else -1)
        if self._book_key != key:
            self._book_key = key
            self._before = self.state.replica(hand_root)
        self.emit(pb.HandFlowEvent(hand_root=hand_root, event=ctx.page.event))
        if not pages or ctx.page.header.sequence != pages[-1].header.sequence:
            return []
        after = self.state.replica(hand_root)
        types = [type_name_from_url(p.event.type_url) for p in pages]
        commands = next_commands(hand_root, self._before, after, types)
        requested = any(isinstance(c.command, player_pb2.RequestAction) for c in commands)
        if requested and self.turn_listener is not None and after is not None:
            self.turn_listener.turn_started(hand_root, after)
        return [ctx.command(c.command, root=c.root, domain=c.domain) for c in commands]

    @handles(pb.CardsDealt)
    def on_cards_dealt(self, event: pb.CardsDealt, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.BlindPosted)
    def on_blind_posted(self, event: pb.BlindPosted, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.ActionTaken)
    def on_action_taken(self, event: pb.ActionTaken, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.BettingRoundComplete)
    def on_betting_round_complete(self, event: pb.BettingRoundComplete,
                                  ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.CommunityCardsDealt)
    def on_community_cards_dealt(self, event: pb.CommunityCardsDealt,
                                 ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.DrawCompleted)
    def on_draw_completed(self, event: pb.DrawCompleted, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.ShowdownStarted)
    def on_showdown_started(self, event: pb.ShowdownStarted,
                            ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.CardsRevealed)
    def on_cards_revealed(self, event: pb.CardsRevealed, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.CardsMucked)
    def on_cards_mucked(self, event: pb.CardsMucked, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.PotAwarded)
    def on_pot_awarded(self, event: pb.PotAwarded, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.HandComplete)
    def on_hand_complete(self, event: pb.HandComplete, ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

    @handles(pb.PlayerTimedOut)
    def on_player_timed_out(self, event: pb.PlayerTimedOut,
                            ctx: ProcessManagerContext) -> list[types_pb2.CommandBook]:
        return self._consume(ctx)

