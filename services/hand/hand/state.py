"""How hand events change ``HandState`` (spec §4.1, §4.4 appliers).

The appliers are plain functions ``(state, event) -> None`` so that anything holding a ``HandState`` can
rebuild a hand with them: the :class:`hand.aggregate.Hand` command handler binds them with ``@applies``,
and the hand-flow process manager rebuilds its replicas with :func:`apply_event` / :func:`rebuild`.
Appliers never shuffle or decide; they only record what the event says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from google.protobuf.any_pb2 import Any
from google.protobuf.message import Message

from angzarr_client.typeurl import type_name_from_url
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import ALL_IN, BET, CALL, DRAW, FOLD, PREFLOP, RAISE, SHOWDOWN

from .betting import clockwise_after, first_actor_after, is_live, live_players, next_to_act
from .games import game_of
from .showdown import refresh_pots
from .status import AWARDING, BETTING, BLINDS, COMPLETE, DEALING, DRAWING
from .status import SHOWDOWN as SHOWDOWN_STATUS

DEFAULT_ACTION_TIMEOUT_SECONDS = 30


def find_player(state: pb.HandState, player_root: bytes) -> pb.PlayerHandState | None:
    """The participant with this root, or ``None``."""
    return next((p for p in state.players if p.player_root == player_root), None)


def player_at(state: pb.HandState, position: int) -> pb.PlayerHandState | None:
    """The participant in this seat, or ``None``."""
    return next((p for p in state.players if p.position == position), None)


def _player(state: pb.HandState, player_root: bytes) -> pb.PlayerHandState:
    player = find_player(state, player_root)
    if player is None:
        raise ValueError(f"event names player {player_root.hex()} who is not in hand {state.hand_id}")
    return player


def apply_cards_dealt(state: pb.HandState, event: pb.CardsDealt) -> None:
    """Everything comes from the event; the hand waits for its blinds, preflop."""
    state.Clear()
    state.hand_id = f"{event.table_root.hex()}_{event.hand_number}"
    state.table_root = event.table_root
    state.hand_number = event.hand_number
    state.game_variant = event.game_variant
    state.remaining_deck.extend(event.remaining_deck)
    hole = {pc.player_root: pc.cards for pc in event.player_cards}
    for seat in sorted(event.players, key=lambda p: p.position):
        player = state.players.add(player_root=seat.player_root, position=seat.position, stack=seat.stack)
        player.hole_cards.extend(hole.get(seat.player_root, []))
    state.current_phase = PREFLOP
    state.action_on_position = -1
    state.dealer_position = event.dealer_position
    state.small_blind_position = event.small_blind_position
    state.big_blind_position = event.big_blind_position
    state.status = BLINDS
    state.small_blind = event.small_blind
    state.big_blind = event.big_blind
    state.min_raise = event.big_blind
    state.action_timeout_seconds = event.action_timeout_seconds or DEFAULT_ACTION_TIMEOUT_SECONDS
    state.deck_seed = event.deck_seed
    state.correlation_id = event.correlation_id


def apply_blind_posted(state: pb.HandState, event: pb.BlindPosted) -> None:
    """The blind goes in; after the big blind, betting starts with the first actor after the BB."""
    player = _player(state, event.player_root)
    player.stack = event.player_stack
    player.bet_this_round = event.amount
    player.total_invested += event.amount
    player.is_all_in = player.stack == 0
    if event.blind_type == "big":
        # Even a short big blind sets the full level to call and the minimum raise.
        state.current_bet = state.big_blind
        state.min_raise = state.big_blind
        state.status = BETTING
        state.action_on_position = first_actor_after(state, state.big_blind_position)
        state.turn_started_at.CopyFrom(event.posted_at)
    refresh_pots(state)


def apply_action_taken(state: pb.HandState, event: pb.ActionTaken) -> None:
    """Chips move, the bet level and minimum raise update, and the turn passes on."""
    player = _player(state, event.player_root)
    player.total_invested += player.stack - event.player_stack
    player.stack = event.player_stack
    if event.action in (BET, RAISE, ALL_IN):
        player.bet_this_round = event.amount
    elif event.action == CALL:
        player.bet_this_round += event.amount
    player.has_acted = True
    player.acted_this_round = True
    if event.action == FOLD:
        player.has_folded = True
    player.is_all_in = player.stack == 0
    if player.bet_this_round > state.current_bet:
        increment = player.bet_this_round - state.current_bet
        state.current_bet = player.bet_this_round
        # Only a full raise moves the minimum raise; a short all-in leaves it.
        if increment >= state.min_raise:
            state.min_raise = increment
        for other in state.players:
            if other.player_root != player.player_root and is_live(other) and not other.is_all_in:
                other.has_acted = False
    player.acted_level = state.current_bet
    state.action_on_position = next_to_act(state, player.position)
    state.turn_started_at.CopyFrom(event.action_at)
    refresh_pots(state)


def apply_betting_round_complete(state: pb.HandState, event: pb.BettingRoundComplete) -> None:
    """Round bets are cleared; the hand moves on to awarding, the draw, showdown or the next street."""
    for player in state.players:
        player.bet_this_round = 0
        player.has_acted = False
        player.acted_this_round = False
        player.acted_level = 0
    state.current_bet = 0
    state.min_raise = state.big_blind
    state.action_on_position = -1
    game = game_of(state.game_variant)
    if len(live_players(state)) <= 1:
        state.status = AWARDING
    elif game is not None and not game.has_board and event.completed_phase == PREFLOP:
        state.status = DRAWING
        state.current_phase = DRAW
        # Everyone live draws, all-in players included.
        drawer = next((p for p in clockwise_after(state, state.dealer_position) if is_live(p)), None)
        state.action_on_position = drawer.position if drawer is not None else -1
        state.turn_started_at.CopyFrom(event.completed_at)
    elif game is not None and event.completed_phase == game.last_round:
        state.status = SHOWDOWN_STATUS
    else:
        state.status = DEALING
    refresh_pots(state)


def apply_community_cards_dealt(state: pb.HandState, event: pb.CommunityCardsDealt) -> None:
    """Board cards come off the deck front; betting starts with the first actor after the button."""
    state.community_cards.extend(event.cards)
    del state.remaining_deck[: len(event.cards)]
    state.current_phase = event.phase
    state.status = BETTING
    state.action_on_position = first_actor_after(state, state.dealer_position)
    state.turn_started_at.CopyFrom(event.dealt_at)


def apply_draw_completed(state: pb.HandState, event: pb.DrawCompleted) -> None:
    """Replacements go in place; the next live player draws, else the DRAW betting round opens."""
    player = _player(state, event.player_root)
    for index, card in zip(sorted(event.card_indices), event.new_cards, strict=True):
        player.hole_cards[index].CopyFrom(card)
    del state.remaining_deck[: len(event.new_cards)]
    player.has_drawn = True
    drawer = next(
        (p for p in clockwise_after(state, player.position) if is_live(p) and not p.has_drawn), None
    )
    if drawer is not None:
        state.action_on_position = drawer.position
    else:
        state.status = BETTING
        state.current_phase = DRAW
        state.action_on_position = first_actor_after(state, state.dealer_position)
    state.turn_started_at.CopyFrom(event.drawn_at)


def apply_showdown_started(state: pb.HandState, event: pb.ShowdownStarted) -> None:
    state.status = SHOWDOWN_STATUS
    state.current_phase = SHOWDOWN
    state.action_on_position = -1
    del state.show_order[:]
    state.show_order.extend(event.players_to_show)


def apply_cards_revealed(state: pb.HandState, event: pb.CardsRevealed) -> None:
    _player(state, event.player_root).has_shown = True


def apply_cards_mucked(state: pb.HandState, event: pb.CardsMucked) -> None:
    _player(state, event.player_root).has_mucked = True
    refresh_pots(state)


def apply_pot_awarded(state: pb.HandState, event: pb.PotAwarded) -> None:
    """The pot moves into the winners' stacks.

    The investments are cleared with it, so that stacks plus pot total still equal the starting
    stacks (M4), and a winner who was all-in holds chips again.
    """
    for winner in event.winners:
        _player(state, winner.player_root).stack += winner.amount
    for player in state.players:
        player.total_invested = 0
        player.bet_this_round = 0
        player.is_all_in = player.stack == 0
    del state.pots[:]


def apply_hand_complete(state: pb.HandState, event: pb.HandComplete) -> None:
    state.status = COMPLETE
    state.action_on_position = -1


def apply_player_timed_out(state: pb.HandState, event: pb.PlayerTimedOut) -> None:
    """Nothing: the action that follows it records the outcome."""


Applier = Callable[[pb.HandState, Message], None]

# Event class → applier; the one table both the aggregate and the hand-flow PM rebuild with.
APPLIERS: dict[type[Message], Applier] = {
    pb.CardsDealt: apply_cards_dealt,
    pb.BlindPosted: apply_blind_posted,
    pb.ActionTaken: apply_action_taken,
    pb.BettingRoundComplete: apply_betting_round_complete,
    pb.CommunityCardsDealt: apply_community_cards_dealt,
    pb.DrawCompleted: apply_draw_completed,
    pb.ShowdownStarted: apply_showdown_started,
    pb.CardsRevealed: apply_cards_revealed,
    pb.CardsMucked: apply_cards_mucked,
    pb.PotAwarded: apply_pot_awarded,
    pb.HandComplete: apply_hand_complete,
    pb.PlayerTimedOut: apply_player_timed_out,
}

_BY_NAME: dict[str, type[Message]] = {cls.DESCRIPTOR.full_name: cls for cls in APPLIERS}


def apply_event(state: pb.HandState, event: Message | Any) -> bool:
    """Apply one hand event (a message or a packed ``Any``) to ``state``.

    Returns ``False`` and leaves the state alone for a type that is not a hand event.
    Raises ``google.protobuf.message.DecodeError`` for corrupt bytes, and ``ValueError`` for an event
    that names a player who is not in the hand.
    """
    if isinstance(event, Any):
        cls = _BY_NAME.get(type_name_from_url(event.type_url))
        if cls is None:
            return False
        message = cls()
        message.ParseFromString(event.value)
        event = message
    applier = APPLIERS.get(type(event))
    if applier is None:
        return False
    applier(state, event)
    return True


def rebuild(events: Iterable[Message | Any], state: pb.HandState | None = None) -> pb.HandState:
    """A ``HandState`` built by applying ``events`` in order (to a copy of ``state`` if given)."""
    built = pb.HandState()
    if state is not None:
        built.CopyFrom(state)
    for event in events:
        apply_event(built, event)
    return built
