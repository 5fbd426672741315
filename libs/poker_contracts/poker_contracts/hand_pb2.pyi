import datetime

from poker_contracts import poker_types_pb2 as _poker_types_pb2
from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DealCards(_message.Message):
    __slots__ = ("table_root", "hand_number", "game_variant", "players", "dealer_position", "small_blind", "big_blind", "deck_seed", "action_timeout_seconds")
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    DEALER_POSITION_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    DECK_SEED_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    hand_number: int
    game_variant: _poker_types_pb2.GameVariant
    players: _containers.RepeatedCompositeFieldContainer[PlayerInHand]
    dealer_position: int
    small_blind: int
    big_blind: int
    deck_seed: bytes
    action_timeout_seconds: int
    def __init__(self, table_root: _Optional[bytes] = ..., hand_number: _Optional[int] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., players: _Optional[_Iterable[_Union[PlayerInHand, _Mapping]]] = ..., dealer_position: _Optional[int] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., deck_seed: _Optional[bytes] = ..., action_timeout_seconds: _Optional[int] = ...) -> None: ...

class PlayerInHand(_message.Message):
    __slots__ = ("player_root", "position", "stack")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    position: int
    stack: int
    def __init__(self, player_root: _Optional[bytes] = ..., position: _Optional[int] = ..., stack: _Optional[int] = ...) -> None: ...

class PostBlind(_message.Message):
    __slots__ = ("player_root", "blind_type", "amount")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    BLIND_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    blind_type: str
    amount: int
    def __init__(self, player_root: _Optional[bytes] = ..., blind_type: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class PlayerAction(_message.Message):
    __slots__ = ("player_root", "action", "amount")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    action: _poker_types_pb2.ActionType
    amount: int
    def __init__(self, player_root: _Optional[bytes] = ..., action: _Optional[_Union[_poker_types_pb2.ActionType, str]] = ..., amount: _Optional[int] = ...) -> None: ...

class DealCommunityCards(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class RequestDraw(_message.Message):
    __slots__ = ("player_root", "card_indices")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    CARD_INDICES_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    card_indices: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, player_root: _Optional[bytes] = ..., card_indices: _Optional[_Iterable[int]] = ...) -> None: ...

class RevealCards(_message.Message):
    __slots__ = ("player_root", "muck")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    MUCK_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    muck: bool
    def __init__(self, player_root: _Optional[bytes] = ..., muck: _Optional[bool] = ...) -> None: ...

class AwardPot(_message.Message):
    __slots__ = ("awards",)
    AWARDS_FIELD_NUMBER: _ClassVar[int]
    awards: _containers.RepeatedCompositeFieldContainer[PotAward]
    def __init__(self, awards: _Optional[_Iterable[_Union[PotAward, _Mapping]]] = ...) -> None: ...

class PotAward(_message.Message):
    __slots__ = ("player_root", "amount", "pot_type")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POT_TYPE_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    amount: int
    pot_type: str
    def __init__(self, player_root: _Optional[bytes] = ..., amount: _Optional[int] = ..., pot_type: _Optional[str] = ...) -> None: ...

class CardsDealt(_message.Message):
    __slots__ = ("table_root", "hand_number", "game_variant", "player_cards", "dealer_position", "players", "dealt_at", "remaining_deck", "small_blind", "big_blind", "small_blind_position", "big_blind_position", "deck_seed", "action_timeout_seconds", "correlation_id")
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_CARDS_FIELD_NUMBER: _ClassVar[int]
    DEALER_POSITION_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    DEALT_AT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_DECK_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    DECK_SEED_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    hand_number: int
    game_variant: _poker_types_pb2.GameVariant
    player_cards: _containers.RepeatedCompositeFieldContainer[PlayerHoleCards]
    dealer_position: int
    players: _containers.RepeatedCompositeFieldContainer[PlayerInHand]
    dealt_at: _timestamp_pb2.Timestamp
    remaining_deck: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    small_blind: int
    big_blind: int
    small_blind_position: int
    big_blind_position: int
    deck_seed: bytes
    action_timeout_seconds: int
    correlation_id: str
    def __init__(self, table_root: _Optional[bytes] = ..., hand_number: _Optional[int] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., player_cards: _Optional[_Iterable[_Union[PlayerHoleCards, _Mapping]]] = ..., dealer_position: _Optional[int] = ..., players: _Optional[_Iterable[_Union[PlayerInHand, _Mapping]]] = ..., dealt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining_deck: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., small_blind_position: _Optional[int] = ..., big_blind_position: _Optional[int] = ..., deck_seed: _Optional[bytes] = ..., action_timeout_seconds: _Optional[int] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class PlayerHoleCards(_message.Message):
    __slots__ = ("player_root", "cards")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    CARDS_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    def __init__(self, player_root: _Optional[bytes] = ..., cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ...) -> None: ...

class BlindPosted(_message.Message):
    __slots__ = ("player_root", "blind_type", "amount", "player_stack", "pot_total", "posted_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    BLIND_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_STACK_FIELD_NUMBER: _ClassVar[int]
    POT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    POSTED_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    blind_type: str
    amount: int
    player_stack: int
    pot_total: int
    posted_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., blind_type: _Optional[str] = ..., amount: _Optional[int] = ..., player_stack: _Optional[int] = ..., pot_total: _Optional[int] = ..., posted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ActionTaken(_message.Message):
    __slots__ = ("player_root", "action", "amount", "player_stack", "pot_total", "amount_to_call", "action_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_STACK_FIELD_NUMBER: _ClassVar[int]
    POT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TO_CALL_FIELD_NUMBER: _ClassVar[int]
    ACTION_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    action: _poker_types_pb2.ActionType
    amount: int
    player_stack: int
    pot_total: int
    amount_to_call: int
    action_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., action: _Optional[_Union[_poker_types_pb2.ActionType, str]] = ..., amount: _Optional[int] = ..., player_stack: _Optional[int] = ..., pot_total: _Optional[int] = ..., amount_to_call: _Optional[int] = ..., action_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BettingRoundComplete(_message.Message):
    __slots__ = ("completed_phase", "pot_total", "stacks", "completed_at")
    COMPLETED_PHASE_FIELD_NUMBER: _ClassVar[int]
    POT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    STACKS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    completed_phase: _poker_types_pb2.BettingPhase
    pot_total: int
    stacks: _containers.RepeatedCompositeFieldContainer[PlayerStackSnapshot]
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, completed_phase: _Optional[_Union[_poker_types_pb2.BettingPhase, str]] = ..., pot_total: _Optional[int] = ..., stacks: _Optional[_Iterable[_Union[PlayerStackSnapshot, _Mapping]]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerStackSnapshot(_message.Message):
    __slots__ = ("player_root", "stack", "is_all_in", "has_folded", "position")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    IS_ALL_IN_FIELD_NUMBER: _ClassVar[int]
    HAS_FOLDED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    stack: int
    is_all_in: bool
    has_folded: bool
    position: int
    def __init__(self, player_root: _Optional[bytes] = ..., stack: _Optional[int] = ..., is_all_in: _Optional[bool] = ..., has_folded: _Optional[bool] = ..., position: _Optional[int] = ...) -> None: ...

class CommunityCardsDealt(_message.Message):
    __slots__ = ("cards", "phase", "all_community_cards", "dealt_at")
    CARDS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ALL_COMMUNITY_CARDS_FIELD_NUMBER: _ClassVar[int]
    DEALT_AT_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    phase: _poker_types_pb2.BettingPhase
    all_community_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    dealt_at: _timestamp_pb2.Timestamp
    def __init__(self, cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., phase: _Optional[_Union[_poker_types_pb2.BettingPhase, str]] = ..., all_community_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., dealt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DrawCompleted(_message.Message):
    __slots__ = ("player_root", "cards_discarded", "cards_drawn", "new_cards", "drawn_at", "card_indices", "discarded_cards")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    CARDS_DISCARDED_FIELD_NUMBER: _ClassVar[int]
    CARDS_DRAWN_FIELD_NUMBER: _ClassVar[int]
    NEW_CARDS_FIELD_NUMBER: _ClassVar[int]
    DRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    CARD_INDICES_FIELD_NUMBER: _ClassVar[int]
    DISCARDED_CARDS_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    cards_discarded: int
    cards_drawn: int
    new_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    drawn_at: _timestamp_pb2.Timestamp
    card_indices: _containers.RepeatedScalarFieldContainer[int]
    discarded_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    def __init__(self, player_root: _Optional[bytes] = ..., cards_discarded: _Optional[int] = ..., cards_drawn: _Optional[int] = ..., new_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., drawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., card_indices: _Optional[_Iterable[int]] = ..., discarded_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ...) -> None: ...

class CardsRevealed(_message.Message):
    __slots__ = ("player_root", "cards", "ranking", "revealed_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    CARDS_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    REVEALED_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    ranking: _poker_types_pb2.HandRanking
    revealed_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., ranking: _Optional[_Union[_poker_types_pb2.HandRanking, _Mapping]] = ..., revealed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CardsMucked(_message.Message):
    __slots__ = ("player_root", "mucked_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    MUCKED_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    mucked_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., mucked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShowdownStarted(_message.Message):
    __slots__ = ("players_to_show", "started_at")
    PLAYERS_TO_SHOW_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    players_to_show: _containers.RepeatedScalarFieldContainer[bytes]
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, players_to_show: _Optional[_Iterable[bytes]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PotAwarded(_message.Message):
    __slots__ = ("winners", "awarded_at")
    WINNERS_FIELD_NUMBER: _ClassVar[int]
    AWARDED_AT_FIELD_NUMBER: _ClassVar[int]
    winners: _containers.RepeatedCompositeFieldContainer[PotWinner]
    awarded_at: _timestamp_pb2.Timestamp
    def __init__(self, winners: _Optional[_Iterable[_Union[PotWinner, _Mapping]]] = ..., awarded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PotWinner(_message.Message):
    __slots__ = ("player_root", "amount", "pot_type", "winning_hand")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WINNING_HAND_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    amount: int
    pot_type: str
    winning_hand: _poker_types_pb2.HandRanking
    def __init__(self, player_root: _Optional[bytes] = ..., amount: _Optional[int] = ..., pot_type: _Optional[str] = ..., winning_hand: _Optional[_Union[_poker_types_pb2.HandRanking, _Mapping]] = ...) -> None: ...

class HandComplete(_message.Message):
    __slots__ = ("table_root", "hand_number", "winners", "final_stacks", "completed_at")
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    WINNERS_FIELD_NUMBER: _ClassVar[int]
    FINAL_STACKS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    hand_number: int
    winners: _containers.RepeatedCompositeFieldContainer[PotWinner]
    final_stacks: _containers.RepeatedCompositeFieldContainer[PlayerStackSnapshot]
    completed_at: _timestamp_pb2.Timestamp
    def __init__(self, table_root: _Optional[bytes] = ..., hand_number: _Optional[int] = ..., winners: _Optional[_Iterable[_Union[PotWinner, _Mapping]]] = ..., final_stacks: _Optional[_Iterable[_Union[PlayerStackSnapshot, _Mapping]]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerTimedOut(_message.Message):
    __slots__ = ("player_root", "default_action", "timed_out_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ACTION_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    default_action: _poker_types_pb2.ActionType
    timed_out_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., default_action: _Optional[_Union[_poker_types_pb2.ActionType, str]] = ..., timed_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HandState(_message.Message):
    __slots__ = ("hand_id", "table_root", "hand_number", "game_variant", "remaining_deck", "players", "community_cards", "current_phase", "action_on_position", "current_bet", "min_raise", "pots", "dealer_position", "small_blind_position", "big_blind_position", "status", "small_blind", "big_blind", "action_timeout_seconds", "turn_started_at", "deck_seed", "show_order", "correlation_id")
    HAND_ID_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_DECK_FIELD_NUMBER: _ClassVar[int]
    PLAYERS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_CARDS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PHASE_FIELD_NUMBER: _ClassVar[int]
    ACTION_ON_POSITION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_BET_FIELD_NUMBER: _ClassVar[int]
    MIN_RAISE_FIELD_NUMBER: _ClassVar[int]
    POTS_FIELD_NUMBER: _ClassVar[int]
    DEALER_POSITION_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TURN_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECK_SEED_FIELD_NUMBER: _ClassVar[int]
    SHOW_ORDER_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    hand_id: str
    table_root: bytes
    hand_number: int
    game_variant: _poker_types_pb2.GameVariant
    remaining_deck: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    players: _containers.RepeatedCompositeFieldContainer[PlayerHandState]
    community_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    current_phase: _poker_types_pb2.BettingPhase
    action_on_position: int
    current_bet: int
    min_raise: int
    pots: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Pot]
    dealer_position: int
    small_blind_position: int
    big_blind_position: int
    status: str
    small_blind: int
    big_blind: int
    action_timeout_seconds: int
    turn_started_at: _timestamp_pb2.Timestamp
    deck_seed: bytes
    show_order: _containers.RepeatedScalarFieldContainer[bytes]
    correlation_id: str
    def __init__(self, hand_id: _Optional[str] = ..., table_root: _Optional[bytes] = ..., hand_number: _Optional[int] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., remaining_deck: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., players: _Optional[_Iterable[_Union[PlayerHandState, _Mapping]]] = ..., community_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., current_phase: _Optional[_Union[_poker_types_pb2.BettingPhase, str]] = ..., action_on_position: _Optional[int] = ..., current_bet: _Optional[int] = ..., min_raise: _Optional[int] = ..., pots: _Optional[_Iterable[_Union[_poker_types_pb2.Pot, _Mapping]]] = ..., dealer_position: _Optional[int] = ..., small_blind_position: _Optional[int] = ..., big_blind_position: _Optional[int] = ..., status: _Optional[str] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., action_timeout_seconds: _Optional[int] = ..., turn_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deck_seed: _Optional[bytes] = ..., show_order: _Optional[_Iterable[bytes]] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class PlayerHandState(_message.Message):
    __slots__ = ("player_root", "position", "hole_cards", "stack", "bet_this_round", "total_invested", "has_acted", "has_folded", "is_all_in", "acted_this_round", "acted_level", "has_drawn", "has_shown", "has_mucked")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    HOLE_CARDS_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    BET_THIS_ROUND_FIELD_NUMBER: _ClassVar[int]
    TOTAL_INVESTED_FIELD_NUMBER: _ClassVar[int]
    HAS_ACTED_FIELD_NUMBER: _ClassVar[int]
    HAS_FOLDED_FIELD_NUMBER: _ClassVar[int]
    IS_ALL_IN_FIELD_NUMBER: _ClassVar[int]
    ACTED_THIS_ROUND_FIELD_NUMBER: _ClassVar[int]
    ACTED_LEVEL_FIELD_NUMBER: _ClassVar[int]
    HAS_DRAWN_FIELD_NUMBER: _ClassVar[int]
    HAS_SHOWN_FIELD_NUMBER: _ClassVar[int]
    HAS_MUCKED_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    position: int
    hole_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    stack: int
    bet_this_round: int
    total_invested: int
    has_acted: bool
    has_folded: bool
    is_all_in: bool
    acted_this_round: bool
    acted_level: int
    has_drawn: bool
    has_shown: bool
    has_mucked: bool
    def __init__(self, player_root: _Optional[bytes] = ..., position: _Optional[int] = ..., hole_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., stack: _Optional[int] = ..., bet_this_round: _Optional[int] = ..., total_invested: _Optional[int] = ..., has_acted: _Optional[bool] = ..., has_folded: _Optional[bool] = ..., is_all_in: _Optional[bool] = ..., acted_this_round: _Optional[bool] = ..., acted_level: _Optional[int] = ..., has_drawn: _Optional[bool] = ..., has_shown: _Optional[bool] = ..., has_mucked: _Optional[bool] = ...) -> None: ...

class TimeOutPlayer(_message.Message):
    __slots__ = ("player_root",)
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    def __init__(self, player_root: _Optional[bytes] = ...) -> None: ...

class HandFlowEvent(_message.Message):
    __slots__ = ("hand_root", "event")
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    event: _any_pb2.Any
    def __init__(self, hand_root: _Optional[bytes] = ..., event: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...
