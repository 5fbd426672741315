import datetime

from poker_contracts import poker_types_pb2 as _poker_types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateTable(_message.Message):
    __slots__ = ("table_name", "game_variant", "small_blind", "big_blind", "min_buy_in", "max_buy_in", "max_players", "action_timeout_seconds")
    TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    MIN_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    table_name: str
    game_variant: _poker_types_pb2.GameVariant
    small_blind: int
    big_blind: int
    min_buy_in: int
    max_buy_in: int
    max_players: int
    action_timeout_seconds: int
    def __init__(self, table_name: _Optional[str] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., min_buy_in: _Optional[int] = ..., max_buy_in: _Optional[int] = ..., max_players: _Optional[int] = ..., action_timeout_seconds: _Optional[int] = ...) -> None: ...

class JoinTable(_message.Message):
    __slots__ = ("player_root", "preferred_seat", "buy_in_amount")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_SEAT_FIELD_NUMBER: _ClassVar[int]
    BUY_IN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    preferred_seat: int
    buy_in_amount: int
    def __init__(self, player_root: _Optional[bytes] = ..., preferred_seat: _Optional[int] = ..., buy_in_amount: _Optional[int] = ...) -> None: ...

class LeaveTable(_message.Message):
    __slots__ = ("player_root",)
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    def __init__(self, player_root: _Optional[bytes] = ...) -> None: ...

class StartHand(_message.Message):
    __slots__ = ("deck_seed",)
    DECK_SEED_FIELD_NUMBER: _ClassVar[int]
    deck_seed: bytes
    def __init__(self, deck_seed: _Optional[bytes] = ...) -> None: ...

class EndHand(_message.Message):
    __slots__ = ("hand_root", "results", "final_stacks")
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FINAL_STACKS_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    results: _containers.RepeatedCompositeFieldContainer[PotResult]
    final_stacks: _containers.RepeatedCompositeFieldContainer[SeatSnapshot]
    def __init__(self, hand_root: _Optional[bytes] = ..., results: _Optional[_Iterable[_Union[PotResult, _Mapping]]] = ..., final_stacks: _Optional[_Iterable[_Union[SeatSnapshot, _Mapping]]] = ...) -> None: ...

class PotResult(_message.Message):
    __slots__ = ("winner_root", "amount", "pot_type", "winning_hand")
    WINNER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POT_TYPE_FIELD_NUMBER: _ClassVar[int]
    WINNING_HAND_FIELD_NUMBER: _ClassVar[int]
    winner_root: bytes
    amount: int
    pot_type: str
    winning_hand: _poker_types_pb2.HandRanking
    def __init__(self, winner_root: _Optional[bytes] = ..., amount: _Optional[int] = ..., pot_type: _Optional[str] = ..., winning_hand: _Optional[_Union[_poker_types_pb2.HandRanking, _Mapping]] = ...) -> None: ...

class AddChips(_message.Message):
    __slots__ = ("player_root", "amount")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    amount: int
    def __init__(self, player_root: _Optional[bytes] = ..., amount: _Optional[int] = ...) -> None: ...

class TableCreated(_message.Message):
    __slots__ = ("table_name", "game_variant", "small_blind", "big_blind", "min_buy_in", "max_buy_in", "max_players", "action_timeout_seconds", "created_at")
    TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    MIN_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    table_name: str
    game_variant: _poker_types_pb2.GameVariant
    small_blind: int
    big_blind: int
    min_buy_in: int
    max_buy_in: int
    max_players: int
    action_timeout_seconds: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, table_name: _Optional[str] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., min_buy_in: _Optional[int] = ..., max_buy_in: _Optional[int] = ..., max_players: _Optional[int] = ..., action_timeout_seconds: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerJoined(_message.Message):
    __slots__ = ("player_root", "seat_position", "buy_in_amount", "stack", "joined_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    SEAT_POSITION_FIELD_NUMBER: _ClassVar[int]
    BUY_IN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    seat_position: int
    buy_in_amount: int
    stack: int
    joined_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., seat_position: _Optional[int] = ..., buy_in_amount: _Optional[int] = ..., stack: _Optional[int] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerLeft(_message.Message):
    __slots__ = ("player_root", "seat_position", "chips_cashed_out", "left_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    SEAT_POSITION_FIELD_NUMBER: _ClassVar[int]
    CHIPS_CASHED_OUT_FIELD_NUMBER: _ClassVar[int]
    LEFT_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    seat_position: int
    chips_cashed_out: int
    left_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., seat_position: _Optional[int] = ..., chips_cashed_out: _Optional[int] = ..., left_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerSatOut(_message.Message):
    __slots__ = ("player_root", "sat_out_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    SAT_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    sat_out_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., sat_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerSatIn(_message.Message):
    __slots__ = ("player_root", "sat_in_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    SAT_IN_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    sat_in_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., sat_in_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HandStarted(_message.Message):
    __slots__ = ("hand_root", "hand_number", "dealer_position", "small_blind_position", "big_blind_position", "active_players", "game_variant", "small_blind", "big_blind", "started_at", "deck_seed", "action_timeout_seconds")
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DEALER_POSITION_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_POSITION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECK_SEED_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    hand_number: int
    dealer_position: int
    small_blind_position: int
    big_blind_position: int
    active_players: _containers.RepeatedCompositeFieldContainer[SeatSnapshot]
    game_variant: _poker_types_pb2.GameVariant
    small_blind: int
    big_blind: int
    started_at: _timestamp_pb2.Timestamp
    deck_seed: bytes
    action_timeout_seconds: int
    def __init__(self, hand_root: _Optional[bytes] = ..., hand_number: _Optional[int] = ..., dealer_position: _Optional[int] = ..., small_blind_position: _Optional[int] = ..., big_blind_position: _Optional[int] = ..., active_players: _Optional[_Iterable[_Union[SeatSnapshot, _Mapping]]] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deck_seed: _Optional[bytes] = ..., action_timeout_seconds: _Optional[int] = ...) -> None: ...

class SeatSnapshot(_message.Message):
    __slots__ = ("position", "player_root", "stack")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    position: int
    player_root: bytes
    stack: int
    def __init__(self, position: _Optional[int] = ..., player_root: _Optional[bytes] = ..., stack: _Optional[int] = ...) -> None: ...

class HandEnded(_message.Message):
    __slots__ = ("hand_root", "results", "stack_changes", "ended_at")
    class StackChangesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    STACK_CHANGES_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    results: _containers.RepeatedCompositeFieldContainer[PotResult]
    stack_changes: _containers.ScalarMap[str, int]
    ended_at: _timestamp_pb2.Timestamp
    def __init__(self, hand_root: _Optional[bytes] = ..., results: _Optional[_Iterable[_Union[PotResult, _Mapping]]] = ..., stack_changes: _Optional[_Mapping[str, int]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChipsAdded(_message.Message):
    __slots__ = ("player_root", "amount", "new_stack", "added_at")
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NEW_STACK_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_FIELD_NUMBER: _ClassVar[int]
    player_root: bytes
    amount: int
    new_stack: int
    added_at: _timestamp_pb2.Timestamp
    def __init__(self, player_root: _Optional[bytes] = ..., amount: _Optional[int] = ..., new_stack: _Optional[int] = ..., added_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TableState(_message.Message):
    __slots__ = ("table_id", "table_name", "game_variant", "small_blind", "big_blind", "min_buy_in", "max_buy_in", "max_players", "action_timeout_seconds", "seats", "dealer_position", "hand_count", "current_hand_root", "status", "hand_players")
    TABLE_ID_FIELD_NUMBER: _ClassVar[int]
    TABLE_NAME_FIELD_NUMBER: _ClassVar[int]
    GAME_VARIANT_FIELD_NUMBER: _ClassVar[int]
    SMALL_BLIND_FIELD_NUMBER: _ClassVar[int]
    BIG_BLIND_FIELD_NUMBER: _ClassVar[int]
    MIN_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_BUY_IN_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    ACTION_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    DEALER_POSITION_FIELD_NUMBER: _ClassVar[int]
    HAND_COUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HAND_PLAYERS_FIELD_NUMBER: _ClassVar[int]
    table_id: str
    table_name: str
    game_variant: _poker_types_pb2.GameVariant
    small_blind: int
    big_blind: int
    min_buy_in: int
    max_buy_in: int
    max_players: int
    action_timeout_seconds: int
    seats: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Seat]
    dealer_position: int
    hand_count: int
    current_hand_root: bytes
    status: str
    hand_players: _containers.RepeatedCompositeFieldContainer[SeatSnapshot]
    def __init__(self, table_id: _Optional[str] = ..., table_name: _Optional[str] = ..., game_variant: _Optional[_Union[_poker_types_pb2.GameVariant, str]] = ..., small_blind: _Optional[int] = ..., big_blind: _Optional[int] = ..., min_buy_in: _Optional[int] = ..., max_buy_in: _Optional[int] = ..., max_players: _Optional[int] = ..., action_timeout_seconds: _Optional[int] = ..., seats: _Optional[_Iterable[_Union[_poker_types_pb2.Seat, _Mapping]]] = ..., dealer_position: _Optional[int] = ..., hand_count: _Optional[int] = ..., current_hand_root: _Optional[bytes] = ..., status: _Optional[str] = ..., hand_players: _Optional[_Iterable[_Union[SeatSnapshot, _Mapping]]] = ...) -> None: ...
