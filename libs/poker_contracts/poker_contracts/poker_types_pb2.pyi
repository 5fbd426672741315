from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Suit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUIT_UNSPECIFIED: _ClassVar[Suit]
    CLUBS: _ClassVar[Suit]
    DIAMONDS: _ClassVar[Suit]
    HEARTS: _ClassVar[Suit]
    SPADES: _ClassVar[Suit]

class Rank(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RANK_UNSPECIFIED: _ClassVar[Rank]
    TWO: _ClassVar[Rank]
    THREE: _ClassVar[Rank]
    FOUR: _ClassVar[Rank]
    FIVE: _ClassVar[Rank]
    SIX: _ClassVar[Rank]
    SEVEN: _ClassVar[Rank]
    EIGHT: _ClassVar[Rank]
    NINE: _ClassVar[Rank]
    TEN: _ClassVar[Rank]
    JACK: _ClassVar[Rank]
    QUEEN: _ClassVar[Rank]
    KING: _ClassVar[Rank]
    ACE: _ClassVar[Rank]

class HandRankType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HAND_RANK_UNSPECIFIED: _ClassVar[HandRankType]
    HIGH_CARD: _ClassVar[HandRankType]
    PAIR: _ClassVar[HandRankType]
    TWO_PAIR: _ClassVar[HandRankType]
    THREE_OF_A_KIND: _ClassVar[HandRankType]
    STRAIGHT: _ClassVar[HandRankType]
    FLUSH: _ClassVar[HandRankType]
    FULL_HOUSE: _ClassVar[HandRankType]
    FOUR_OF_A_KIND: _ClassVar[HandRankType]
    STRAIGHT_FLUSH: _ClassVar[HandRankType]
    ROYAL_FLUSH: _ClassVar[HandRankType]

class GameVariant(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GAME_VARIANT_UNSPECIFIED: _ClassVar[GameVariant]
    TEXAS_HOLDEM: _ClassVar[GameVariant]
    OMAHA: _ClassVar[GameVariant]
    FIVE_CARD_DRAW: _ClassVar[GameVariant]
    SEVEN_CARD_STUD: _ClassVar[GameVariant]

class BettingPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BETTING_PHASE_UNSPECIFIED: _ClassVar[BettingPhase]
    PREFLOP: _ClassVar[BettingPhase]
    FLOP: _ClassVar[BettingPhase]
    TURN: _ClassVar[BettingPhase]
    RIVER: _ClassVar[BettingPhase]
    DRAW: _ClassVar[BettingPhase]
    SHOWDOWN: _ClassVar[BettingPhase]

class ActionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_UNSPECIFIED: _ClassVar[ActionType]
    FOLD: _ClassVar[ActionType]
    CHECK: _ClassVar[ActionType]
    CALL: _ClassVar[ActionType]
    BET: _ClassVar[ActionType]
    RAISE: _ClassVar[ActionType]
    ALL_IN: _ClassVar[ActionType]

class PlayerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAYER_TYPE_UNSPECIFIED: _ClassVar[PlayerType]
    HUMAN: _ClassVar[PlayerType]
    AI: _ClassVar[PlayerType]
SUIT_UNSPECIFIED: Suit
CLUBS: Suit
DIAMONDS: Suit
HEARTS: Suit
SPADES: Suit
RANK_UNSPECIFIED: Rank
TWO: Rank
THREE: Rank
FOUR: Rank
FIVE: Rank
SIX: Rank
SEVEN: Rank
EIGHT: Rank
NINE: Rank
TEN: Rank
JACK: Rank
QUEEN: Rank
KING: Rank
ACE: Rank
HAND_RANK_UNSPECIFIED: HandRankType
HIGH_CARD: HandRankType
PAIR: HandRankType
TWO_PAIR: HandRankType
THREE_OF_A_KIND: HandRankType
STRAIGHT: HandRankType
FLUSH: HandRankType
FULL_HOUSE: HandRankType
FOUR_OF_A_KIND: HandRankType
STRAIGHT_FLUSH: HandRankType
ROYAL_FLUSH: HandRankType
GAME_VARIANT_UNSPECIFIED: GameVariant
TEXAS_HOLDEM: GameVariant
OMAHA: GameVariant
FIVE_CARD_DRAW: GameVariant
SEVEN_CARD_STUD: GameVariant
BETTING_PHASE_UNSPECIFIED: BettingPhase
PREFLOP: BettingPhase
FLOP: BettingPhase
TURN: BettingPhase
RIVER: BettingPhase
DRAW: BettingPhase
SHOWDOWN: BettingPhase
ACTION_UNSPECIFIED: ActionType
FOLD: ActionType
CHECK: ActionType
CALL: ActionType
BET: ActionType
RAISE: ActionType
ALL_IN: ActionType
PLAYER_TYPE_UNSPECIFIED: PlayerType
HUMAN: PlayerType
AI: PlayerType

class Card(_message.Message):
    __slots__ = ("suit", "rank")
    SUIT_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    suit: Suit
    rank: Rank
    def __init__(self, suit: _Optional[_Union[Suit, str]] = ..., rank: _Optional[_Union[Rank, str]] = ...) -> None: ...

class HandRanking(_message.Message):
    __slots__ = ("rank_type", "kickers", "score")
    RANK_TYPE_FIELD_NUMBER: _ClassVar[int]
    KICKERS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    rank_type: HandRankType
    kickers: _containers.RepeatedScalarFieldContainer[Rank]
    score: int
    def __init__(self, rank_type: _Optional[_Union[HandRankType, str]] = ..., kickers: _Optional[_Iterable[_Union[Rank, str]]] = ..., score: _Optional[int] = ...) -> None: ...

class Currency(_message.Message):
    __slots__ = ("amount", "currency_code")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    amount: int
    currency_code: str
    def __init__(self, amount: _Optional[int] = ..., currency_code: _Optional[str] = ...) -> None: ...

class Seat(_message.Message):
    __slots__ = ("position", "player_root", "stack", "is_active", "is_sitting_out")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    IS_SITTING_OUT_FIELD_NUMBER: _ClassVar[int]
    position: int
    player_root: bytes
    stack: Currency
    is_active: bool
    is_sitting_out: bool
    def __init__(self, position: _Optional[int] = ..., player_root: _Optional[bytes] = ..., stack: _Optional[_Union[Currency, _Mapping]] = ..., is_active: _Optional[bool] = ..., is_sitting_out: _Optional[bool] = ...) -> None: ...

class Pot(_message.Message):
    __slots__ = ("amount", "eligible_players", "pot_type")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    POT_TYPE_FIELD_NUMBER: _ClassVar[int]
    amount: int
    eligible_players: _containers.RepeatedScalarFieldContainer[bytes]
    pot_type: str
    def __init__(self, amount: _Optional[int] = ..., eligible_players: _Optional[_Iterable[bytes]] = ..., pot_type: _Optional[str] = ...) -> None: ...
