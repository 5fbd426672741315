"""The ``Hand`` command handler: one hand of poker from the deal to the award (spec §4).

Each ``@handles`` method checks in the order of spec §4.3/§4.4, then emits its event. Commands that
can end a betting round append the follow-ups (``BettingRoundComplete``, ``ShowdownStarted``) in the
same response. State changes live in :mod:`hand.state`, betting rules in :mod:`hand.betting`, pots and
rankings in :mod:`hand.showdown`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client.errors import CommandRejectedError
from angzarr_client.handlers import CommandHandler, applies, handles
from angzarr_client.proto.angzarr.types_pb2 import EventBook
from angzarr_client.timestamps import from_timestamp, to_timestamp
from poker_contracts import hand_pb2 as pb
from poker_contracts.poker_types_pb2 import ALL_IN, CHECK, FOLD

from . import state as applier
from .betting import (
    Decision,
    clockwise_after,
    decide,
    is_live,
    live_players,
    owed,
    pot_total,
    round_over,
)
from .dealing import deal, validate_deal
from .games import NEXT_STREET, game_of
from .showdown import compute_awards, may_muck, next_to_show, ranking
from .state import find_player, player_at
from .status import AWARDING, BETTING, BLINDS, COMPLETE, DEALING, DRAWING
from .status import SHOWDOWN as SHOWDOWN_STATUS

BLIND_TYPES = ("small", "big")
MAX_DRAW = 5


def utc_now() -> dt.datetime:
    """The default clock: the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def _failed(message: str) -> CommandRejectedError:
    return CommandRejectedError.precondition_failed(message)


def _invalid(message: str) -> CommandRejectedError:
    return CommandRejectedError.invalid_argument(message)


class Hand(CommandHandler[pb.HandState]):
    """One hand: deal, blinds, betting, board or draw, showdown, awards.

    ``clock`` is the source of "now" (a callable returning an aware UTC datetime); tests and the
    action clock replace it to control timestamps and deadlines.
    """

    domain = "hand"
    snapshot_every = 25

    def __init__(
        self, event_book: EventBook | None = None, *, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        super().__init__(event_book)
        self.clock = clock or utc_now

    # -- commands ---------------------------------------------------------------------------------

    @handles(pb.DealCards)
    def deal_cards(self, cmd: pb.DealCards) -> pb.CardsDealt:
        if self.exists:
            raise _failed("Cards are already dealt for this hand")
        game = validate_deal(cmd)
        return deal(cmd, game, correlation_id=self.correlation_id, dealt_at=self._now())

    @handles(pb.PostBlind)
    def post_blind(self, cmd: pb.PostBlind) -> None:
        state = self._require_hand()
        _require_root(cmd.player_root)
        if cmd.blind_type not in BLIND_TYPES:
            raise _invalid(f"blind_type must be 'small' or 'big', got {cmd.blind_type!r}")
        if cmd.amount <= 0:
            raise _invalid(f"blind amount must be positive, got {cmd.amount}")
        if state.status != BLINDS:
            raise _failed("Blinds are already posted")
        player = self._require_player(cmd.player_root)
        small_blind_player = player_at(state, state.small_blind_position)
        small_posted = small_blind_player is not None and small_blind_player.total_invested > 0
        if cmd.blind_type == "big" and not small_posted:
            raise _failed("The small blind must be posted first")
        if cmd.blind_type == "small" and small_posted:
            raise _failed("The small blind is already posted")
        seat = state.small_blind_position if cmd.blind_type == "small" else state.big_blind_position
        if player.position != seat:
            raise _failed(f"Seat {player.position} is not the {cmd.blind_type} blind (seat {seat} is)")
        configured = state.small_blind if cmd.blind_type == "small" else state.big_blind
        if cmd.amount != configured:
            raise _failed(f"The {cmd.blind_type} blind must be {configured}")
        posted = min(cmd.amount, player.stack)
        now = self._now()
        self.emit(
            pb.BlindPosted(
                player_root=cmd.player_root,
                blind_type=cmd.blind_type,
                amount=posted,
                player_stack=player.stack - posted,
                pot_total=pot_total(state) + posted,
                posted_at=now,
            )
        )
        self._close_round_if_over(now)

    @handles(pb.PlayerAction)
    def player_action(self, cmd: pb.PlayerAction) -> None:
        state = self._require_hand()
        _require_root(cmd.player_root)
        if not FOLD <= cmd.action <= ALL_IN:
            raise _invalid(f"Invalid action {cmd.action}: use FOLD, CHECK, CALL, BET, RAISE or ALL_IN")
        if cmd.amount < 0:
            raise _invalid(f"amount must not be negative, got {cmd.amount}")
        if state.status != BETTING:
            raise _failed(f"Not in betting phase (the hand is {state.status})")
        player = self._require_player(cmd.player_root)
        if player.is_all_in:
            raise _failed("Player is all-in and cannot act")
        self._require_turn(player)
        self._act(player, decide(state, player, cmd.action, cmd.amount), self._now())

    @handles(pb.DealCommunityCards)
    def deal_community_cards(self, cmd: pb.DealCommunityCards) -> None:
        state = self._require_hand()
        if cmd.count <= 0:
            raise _invalid(f"count must be positive, got {cmd.count}")
        game = game_of(state.game_variant)
        if game is None or not game.has_board:
            raise _invalid("Five-card draw has no community cards")
        if state.status == COMPLETE:
            raise _failed("The hand is complete")
        if state.status != DEALING or state.current_phase not in NEXT_STREET:
            raise _failed("Betting round is not complete: finish the betting first")
        street, expected = NEXT_STREET[state.current_phase]
        if cmd.count != expected:
            raise _failed(f"Expected {expected} cards for the next street, got {cmd.count}")
        cards = list(state.remaining_deck[:expected])
        now = self._now()
        self.emit(
            pb.CommunityCardsDealt(
                cards=cards,
                phase=street,
                all_community_cards=[*state.community_cards, *cards],
                dealt_at=now,
            )
        )
        self._close_round_if_over(now)

    @handles(pb.RequestDraw)
    def request_draw(self, cmd: pb.RequestDraw) -> None:
        state = self._require_hand()
        _require_root(cmd.player_root)
        game = game_of(state.game_variant)
        if game is None or game.has_board:
            raise _invalid("Drawing is not supported in this game: only five-card draw draws")
        indices = list(cmd.card_indices)
        if len(indices) > MAX_DRAW:
            raise _invalid(f"Cannot discard more than {MAX_DRAW} cards, got {len(indices)}")
        bad = [i for i in indices if not 0 <= i < MAX_DRAW]
        if bad:
            raise _invalid(f"Invalid card index {bad[0]}: use 0..{MAX_DRAW - 1}")
        if len(set(indices)) != len(indices):
            raise _invalid(f"card_indices has a duplicate index: {indices}")
        if state.status != DRAWING:
            raise _failed(f"Not in the draw (the hand is {state.status})")
        player = self._require_player(cmd.player_root)
        self._require_turn(player)
        self._draw(player, indices, self._now())

    @handles(pb.RevealCards)
    def reveal_cards(self, cmd: pb.RevealCards) -> pb.CardsRevealed | pb.CardsMucked:
        state = self._require_hand()
        _require_root(cmd.player_root)
        if state.status != SHOWDOWN_STATUS:
            raise _failed(f"Not in showdown (the hand is {state.status})")
        player = self._require_player(cmd.player_root)
        if player.has_shown or player.has_mucked:
            raise _failed("Player has already shown or mucked")
        if cmd.player_root != next_to_show(state):
            raise _failed("Not your turn to show: players show in showdown order")
        if cmd.muck:
            if not may_muck(state, player):
                raise _failed("Cannot muck: no other hand is shown for a pot you contest; show instead")
            return pb.CardsMucked(player_root=cmd.player_root, mucked_at=self._now())
        return pb.CardsRevealed(
            player_root=cmd.player_root,
            cards=player.hole_cards,
            ranking=ranking(state, player),
            revealed_at=self._now(),
        )

    @handles(pb.AwardPot)
    def award_pot(self, cmd: pb.AwardPot) -> None:
        state = self._require_hand()
        if state.status == COMPLETE:
            raise _failed("The hand is already complete")
        for award in cmd.awards:
            _require_root(award.player_root)
            if award.amount <= 0:
                raise _invalid(f"award amount must be positive, got {award.amount}")
        if state.status not in (SHOWDOWN_STATUS, AWARDING):
            raise _failed(f"Pots are not ready to award (the hand is {state.status})")
        if next_to_show(state):
            raise _failed("Some players are still to show")
        winners = compute_awards(state)
        if cmd.awards:
            _check_explicit_awards(state, cmd.awards, winners)
        now = self._now()
        self.emit(pb.PotAwarded(winners=winners, awarded_at=now))
        self.emit(
            pb.HandComplete(
                table_root=state.table_root,
                hand_number=state.hand_number,
                winners=winners,
                final_stacks=[_snapshot(p) for p in state.players],
                completed_at=now,
            )
        )

    @handles(pb.TimeOutPlayer)
    def time_out_player(self, cmd: pb.TimeOutPlayer) -> None:
        state = self._require_hand()
        _require_root(cmd.player_root)
        if state.status not in (BETTING, DRAWING):
            raise _failed(f"No action is pending (the hand is {state.status})")
        player = self._require_turn_of(cmd.player_root)
        now = self._now()
        deadline = from_timestamp(state.turn_started_at) + dt.timedelta(seconds=state.action_timeout_seconds)
        if from_timestamp(now) < deadline:
            raise _failed(f"The turn has not expired: the deadline is {deadline.isoformat()}")
        if state.status == DRAWING:
            self.emit(pb.PlayerTimedOut(player_root=cmd.player_root, default_action=CHECK, timed_out_at=now))
            self._draw(player, [], now)
            return
        default = CHECK if owed(state, player) == 0 else FOLD
        self.emit(pb.PlayerTimedOut(player_root=cmd.player_root, default_action=default, timed_out_at=now))
        self._act(player, decide(state, player, default, 0), now)

    # -- decisions shared by several commands -----------------------------------------------------

    def _act(self, player: pb.PlayerHandState, decision: Decision, now: Timestamp) -> None:
        """Record a legal betting action, then close the round if it ended."""
        state = self.state
        self.emit(
            pb.ActionTaken(
                player_root=player.player_root,
                action=decision.action,
                amount=decision.amount,
                player_stack=player.stack - decision.chips,
                pot_total=pot_total(state) + decision.chips,
                amount_to_call=max(state.current_bet, player.bet_this_round + decision.chips),
                action_at=now,
            )
        )
        self._close_round_if_over(now)

    def _draw(self, player: pb.PlayerHandState, indices: list[int], now: Timestamp) -> None:
        """Replace the chosen cards from the deck front; the betting may then open (and close at once)."""
        chosen = sorted(indices)
        self.emit(
            pb.DrawCompleted(
                player_root=player.player_root,
                cards_discarded=len(chosen),
                cards_drawn=len(chosen),
                new_cards=list(self.state.remaining_deck[: len(chosen)]),
                drawn_at=now,
                card_indices=chosen,
                discarded_cards=[player.hole_cards[i] for i in chosen],
            )
        )
        self._close_round_if_over(now)

    def _close_round_if_over(self, now: Timestamp) -> None:
        """Append ``BettingRoundComplete`` (and ``ShowdownStarted`` after the last round) when due."""
        state = self.state
        if state.status != BETTING or not round_over(state):
            return
        phase = state.current_phase
        self.emit(
            pb.BettingRoundComplete(
                completed_phase=phase,
                pot_total=pot_total(state),
                stacks=[_snapshot(p) for p in state.players],
                completed_at=now,
            )
        )
        game = game_of(state.game_variant)
        if game is not None and phase == game.last_round and len(live_players(state)) >= 2:
            order = [p.player_root for p in clockwise_after(state, state.dealer_position) if is_live(p)]
            self.emit(pb.ShowdownStarted(players_to_show=order, started_at=now))

    # -- guards -----------------------------------------------------------------------------------

    def _require_hand(self) -> pb.HandState:
        """The state of a dealt hand, when the command comes under the hand's correlation id."""
        if not self.exists:
            raise _failed("Hand does not exist: deal cards first")
        state = self.state
        if self.correlation_id != state.correlation_id:
            raise _failed(
                f"Wrong correlation id {self.correlation_id!r}: this hand runs under {state.correlation_id!r}"
            )
        return state

    def _require_player(self, player_root: bytes) -> pb.PlayerHandState:
        player = find_player(self.state, player_root)
        if player is None:
            raise _failed(f"Player {player_root.hex()} is not in hand")
        if player.has_folded:
            raise _failed("Player has folded")
        return player

    def _require_turn(self, player: pb.PlayerHandState) -> None:
        if player.position != self.state.action_on_position:
            raise _failed(f"Not your turn: seat {self.state.action_on_position} is to act")

    def _require_turn_of(self, player_root: bytes) -> pb.PlayerHandState:
        player = player_at(self.state, self.state.action_on_position)
        if player is None or player.player_root != player_root:
            raise _failed(f"Not your turn: seat {self.state.action_on_position} is to act")
        return player

    def _now(self) -> Timestamp:
        moment = self.clock()
        if isinstance(moment, Timestamp):
            return moment
        return to_timestamp(moment)

    # -- appliers (shared with the hand-flow process manager through hand.state) ------------------

    @applies(pb.CardsDealt)
    def apply_cards_dealt(self, state: pb.HandState, event: pb.CardsDealt) -> None:
        applier.apply_cards_dealt(state, event)

    @applies(pb.BlindPosted)
    def apply_blind_posted(self, state: pb.HandState, event: pb.BlindPosted) -> None:
        applier.apply_blind_posted(state, event)

    @applies(pb.ActionTaken)
    def apply_action_taken(self, state: pb.HandState, event: pb.ActionTaken) -> None:
        applier.apply_action_taken(state, event)

    @applies(pb.BettingRoundComplete)
    def apply_betting_round_complete(self, state: pb.HandState, event: pb.BettingRoundComplete) -> None:
        applier.apply_betting_round_complete(state, event)

    @applies(pb.CommunityCardsDealt)
    def apply_community_cards_dealt(self, state: pb.HandState, event: pb.CommunityCardsDealt) -> None:
        applier.apply_community_cards_dealt(state, event)

    @applies(pb.DrawCompleted)
    def apply_draw_completed(self, state: pb.HandState, event: pb.DrawCompleted) -> None:
        applier.apply_draw_completed(state, event)

    @applies(pb.ShowdownStarted)
    def apply_showdown_started(self, state: pb.HandState, event: pb.ShowdownStarted) -> None:
        applier.apply_showdown_started(state, event)

    @applies(pb.CardsRevealed)
    def apply_cards_revealed(self, state: pb.HandState, event: pb.CardsRevealed) -> None:
        applier.apply_cards_revealed(state, event)

    @applies(pb.CardsMucked)
    def apply_cards_mucked(self, state: pb.HandState, event: pb.CardsMucked) -> None:
        applier.apply_cards_mucked(state, event)

    @applies(pb.PotAwarded)
    def apply_pot_awarded(self, state: pb.HandState, event: pb.PotAwarded) -> None:
        applier.apply_pot_awarded(state, event)

    @applies(pb.HandComplete)
    def apply_hand_complete(self, state: pb.HandState, event: pb.HandComplete) -> None:
        applier.apply_hand_complete(state, event)

    @applies(pb.PlayerTimedOut)
    def apply_player_timed_out(self, state: pb.HandState, event: pb.PlayerTimedOut) -> None:
        applier.apply_player_timed_out(state, event)


def _require_root(player_root: bytes) -> None:
    if not player_root:
        raise _invalid("player_root is required")


def _snapshot(player: pb.PlayerHandState) -> pb.PlayerStackSnapshot:
    return pb.PlayerStackSnapshot(
        player_root=player.player_root,
        stack=player.stack,
        is_all_in=player.is_all_in,
        has_folded=player.has_folded,
        position=player.position,
    )


def _check_explicit_awards(
    state: pb.HandState, awards: list[pb.PotAward], computed: list[pb.PotWinner]
) -> None:
    """An explicit award list must name eligible players, total the pot and match the rules' result."""
    for award in awards:
        player = find_player(state, award.player_root)
        if player is None:
            raise _failed(f"Award names player {award.player_root.hex()} who is not in hand")
        if player.has_folded or player.has_mucked:
            raise _failed("Folded player cannot win pot")
    total = pot_total(state)
    if sum(a.amount for a in awards) != total:
        raise _failed(f"Awards must total the pot of {total}")
    given = sorted((a.player_root, a.amount, a.pot_type or "main") for a in awards)
    expected = sorted((w.player_root, w.amount, w.pot_type) for w in computed)
    if given != expected:
        raise _failed("Awards do not match the showdown result; send AwardPot{} to let the hand decide")
