import datetime

from poker_contracts import poker_types_pb2 as _poker_types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterPlayer(_message.Message):
    __slots__ = ("display_name", "email", "player_type", "ai_model_id")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TYPE_FIELD_NUMBER: _ClassVar[int]
    AI_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    email: str
    player_type: _poker_types_pb2.PlayerType
    ai_model_id: str
    def __init__(self, display_name: _Optional[str] = ..., email: _Optional[str] = ..., player_type: _Optional[_Union[_poker_types_pb2.PlayerType, str]] = ..., ai_model_id: _Optional[str] = ...) -> None: ...

class DepositFunds(_message.Message):
    __slots__ = ("amount",)
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ...) -> None: ...

class WithdrawFunds(_message.Message):
    __slots__ = ("amount",)
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ...) -> None: ...

class ReserveFunds(_message.Message):
    __slots__ = ("amount", "table_root", "preferred_seat")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_SEAT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    table_root: bytes
    preferred_seat: int
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., table_root: _Optional[bytes] = ..., preferred_seat: _Optional[int] = ...) -> None: ...

class ReleaseFunds(_message.Message):
    __slots__ = ("table_root",)
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    def __init__(self, table_root: _Optional[bytes] = ...) -> None: ...

class SitOut(_message.Message):
    __slots__ = ("table_root",)
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    def __init__(self, table_root: _Optional[bytes] = ...) -> None: ...

class SitIn(_message.Message):
    __slots__ = ("table_root",)
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    def __init__(self, table_root: _Optional[bytes] = ...) -> None: ...

class TransferFunds(_message.Message):
    __slots__ = ("from_player_root", "amount", "hand_root", "reason", "table_root")
    FROM_PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    from_player_root: bytes
    amount: _poker_types_pb2.Currency
    hand_root: bytes
    reason: str
    table_root: bytes
    def __init__(self, from_player_root: _Optional[bytes] = ..., amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., hand_root: _Optional[bytes] = ..., reason: _Optional[str] = ..., table_root: _Optional[bytes] = ...) -> None: ...

class RequestAction(_message.Message):
    __slots__ = ("hand_root", "table_root", "amount_to_call", "min_raise", "max_raise", "hole_cards", "community_cards", "pot_size", "phase", "timeout_seconds", "deadline", "is_draw")
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TO_CALL_FIELD_NUMBER: _ClassVar[int]
    MIN_RAISE_FIELD_NUMBER: _ClassVar[int]
    MAX_RAISE_FIELD_NUMBER: _ClassVar[int]
    HOLE_CARDS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_CARDS_FIELD_NUMBER: _ClassVar[int]
    POT_SIZE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    IS_DRAW_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    table_root: bytes
    amount_to_call: int
    min_raise: int
    max_raise: int
    hole_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    community_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    pot_size: int
    phase: _poker_types_pb2.BettingPhase
    timeout_seconds: int
    deadline: _timestamp_pb2.Timestamp
    is_draw: bool
    def __init__(self, hand_root: _Optional[bytes] = ..., table_root: _Optional[bytes] = ..., amount_to_call: _Optional[int] = ..., min_raise: _Optional[int] = ..., max_raise: _Optional[int] = ..., hole_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., community_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., pot_size: _Optional[int] = ..., phase: _Optional[_Union[_poker_types_pb2.BettingPhase, str]] = ..., timeout_seconds: _Optional[int] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_draw: _Optional[bool] = ...) -> None: ...

class PlayerRegistered(_message.Message):
    __slots__ = ("display_name", "email", "player_type", "ai_model_id", "registered_at")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TYPE_FIELD_NUMBER: _ClassVar[int]
    AI_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    email: str
    player_type: _poker_types_pb2.PlayerType
    ai_model_id: str
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, display_name: _Optional[str] = ..., email: _Optional[str] = ..., player_type: _Optional[_Union[_poker_types_pb2.PlayerType, str]] = ..., ai_model_id: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FundsDeposited(_message.Message):
    __slots__ = ("amount", "new_balance", "deposited_at")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NEW_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DEPOSITED_AT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    new_balance: _poker_types_pb2.Currency
    deposited_at: _timestamp_pb2.Timestamp
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., new_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., deposited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FundsWithdrawn(_message.Message):
    __slots__ = ("amount", "new_balance", "withdrawn_at")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NEW_BALANCE_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_AT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    new_balance: _poker_types_pb2.Currency
    withdrawn_at: _timestamp_pb2.Timestamp
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., new_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., withdrawn_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FundsReserved(_message.Message):
    __slots__ = ("amount", "table_root", "new_available_balance", "new_reserved_balance", "reserved_at", "preferred_seat")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    NEW_AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    NEW_RESERVED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_AT_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_SEAT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    table_root: bytes
    new_available_balance: _poker_types_pb2.Currency
    new_reserved_balance: _poker_types_pb2.Currency
    reserved_at: _timestamp_pb2.Timestamp
    preferred_seat: int
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., table_root: _Optional[bytes] = ..., new_available_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., new_reserved_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., reserved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., preferred_seat: _Optional[int] = ...) -> None: ...

class FundsReleased(_message.Message):
    __slots__ = ("amount", "table_root", "new_available_balance", "new_reserved_balance", "released_at")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    NEW_AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    NEW_RESERVED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    RELEASED_AT_FIELD_NUMBER: _ClassVar[int]
    amount: _poker_types_pb2.Currency
    table_root: bytes
    new_available_balance: _poker_types_pb2.Currency
    new_reserved_balance: _poker_types_pb2.Currency
    released_at: _timestamp_pb2.Timestamp
    def __init__(self, amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., table_root: _Optional[bytes] = ..., new_available_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., new_reserved_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., released_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FundsTransferred(_message.Message):
    __slots__ = ("from_player_root", "to_player_root", "amount", "hand_root", "reason", "new_balance", "transferred_at", "table_root", "new_reserved_balance", "new_available_balance")
    FROM_PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    TO_PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NEW_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TRANSFERRED_AT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    NEW_RESERVED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    NEW_AVAILABLE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    from_player_root: bytes
    to_player_root: bytes
    amount: _poker_types_pb2.Currency
    hand_root: bytes
    reason: str
    new_balance: _poker_types_pb2.Currency
    transferred_at: _timestamp_pb2.Timestamp
    table_root: bytes
    new_reserved_balance: _poker_types_pb2.Currency
    new_available_balance: _poker_types_pb2.Currency
    def __init__(self, from_player_root: _Optional[bytes] = ..., to_player_root: _Optional[bytes] = ..., amount: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., hand_root: _Optional[bytes] = ..., reason: _Optional[str] = ..., new_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., transferred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., table_root: _Optional[bytes] = ..., new_reserved_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., new_available_balance: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ...) -> None: ...

class ActionRequested(_message.Message):
    __slots__ = ("hand_root", "table_root", "player_root", "player_type", "amount_to_call", "min_raise", "max_raise", "hole_cards", "community_cards", "pot_size", "phase", "deadline", "is_draw")
    HAND_ROOT_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_ROOT_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TO_CALL_FIELD_NUMBER: _ClassVar[int]
    MIN_RAISE_FIELD_NUMBER: _ClassVar[int]
    MAX_RAISE_FIELD_NUMBER: _ClassVar[int]
    HOLE_CARDS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_CARDS_FIELD_NUMBER: _ClassVar[int]
    POT_SIZE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    IS_DRAW_FIELD_NUMBER: _ClassVar[int]
    hand_root: bytes
    table_root: bytes
    player_root: bytes
    player_type: _poker_types_pb2.PlayerType
    amount_to_call: int
    min_raise: int
    max_raise: int
    hole_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    community_cards: _containers.RepeatedCompositeFieldContainer[_poker_types_pb2.Card]
    pot_size: int
    phase: _poker_types_pb2.BettingPhase
    deadline: _timestamp_pb2.Timestamp
    is_draw: bool
    def __init__(self, hand_root: _Optional[bytes] = ..., table_root: _Optional[bytes] = ..., player_root: _Optional[bytes] = ..., player_type: _Optional[_Union[_poker_types_pb2.PlayerType, str]] = ..., amount_to_call: _Optional[int] = ..., min_raise: _Optional[int] = ..., max_raise: _Optional[int] = ..., hole_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., community_cards: _Optional[_Iterable[_Union[_poker_types_pb2.Card, _Mapping]]] = ..., pot_size: _Optional[int] = ..., phase: _Optional[_Union[_poker_types_pb2.BettingPhase, str]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_draw: _Optional[bool] = ...) -> None: ...

class PlayerSittingOut(_message.Message):
    __slots__ = ("table_root", "sat_out_at")
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    SAT_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    sat_out_at: _timestamp_pb2.Timestamp
    def __init__(self, table_root: _Optional[bytes] = ..., sat_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerReturningToPlay(_message.Message):
    __slots__ = ("table_root", "sat_in_at")
    TABLE_ROOT_FIELD_NUMBER: _ClassVar[int]
    SAT_IN_AT_FIELD_NUMBER: _ClassVar[int]
    table_root: bytes
    sat_in_at: _timestamp_pb2.Timestamp
    def __init__(self, table_root: _Optional[bytes] = ..., sat_in_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlayerState(_message.Message):
    __slots__ = ("player_id", "display_name", "email", "player_type", "ai_model_id", "bankroll", "reserved_funds", "table_reservations", "status", "sitting_out_tables")
    class TableReservationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PLAYER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PLAYER_TYPE_FIELD_NUMBER: _ClassVar[int]
    AI_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    BANKROLL_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FUNDS_FIELD_NUMBER: _ClassVar[int]
    TABLE_RESERVATIONS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SITTING_OUT_TABLES_FIELD_NUMBER: _ClassVar[int]
    player_id: str
    display_name: str
    email: str
    player_type: _poker_types_pb2.PlayerType
    ai_model_id: str
    bankroll: _poker_types_pb2.Currency
    reserved_funds: _poker_types_pb2.Currency
    table_reservations: _containers.ScalarMap[str, int]
    status: str
    sitting_out_tables: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, player_id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., player_type: _Optional[_Union[_poker_types_pb2.PlayerType, str]] = ..., ai_model_id: _Optional[str] = ..., bankroll: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., reserved_funds: _Optional[_Union[_poker_types_pb2.Currency, _Mapping]] = ..., table_reservations: _Optional[_Mapping[str, int]] = ..., status: _Optional[str] = ..., sitting_out_tables: _Optional[_Iterable[str]] = ...) -> None: ...
