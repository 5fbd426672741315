from angzarr_client.proto.angzarr import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessManagerCoordinatorRequest(_message.Message):
    __slots__ = ("trigger", "sync_mode", "cascade_error_mode")
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    SYNC_MODE_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ERROR_MODE_FIELD_NUMBER: _ClassVar[int]
    trigger: _types_pb2.EventBook
    sync_mode: _types_pb2.SyncMode
    cascade_error_mode: _types_pb2.CascadeErrorMode
    def __init__(self, trigger: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ..., sync_mode: _Optional[_Union[_types_pb2.SyncMode, str]] = ..., cascade_error_mode: _Optional[_Union[_types_pb2.CascadeErrorMode, str]] = ...) -> None: ...

class SpeculatePmRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: ProcessManagerHandleRequest
    def __init__(self, request: _Optional[_Union[ProcessManagerHandleRequest, _Mapping]] = ...) -> None: ...

class ProcessManagerPrepareRequest(_message.Message):
    __slots__ = ("trigger", "process_state")
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    PROCESS_STATE_FIELD_NUMBER: _ClassVar[int]
    trigger: _types_pb2.EventBook
    process_state: _types_pb2.EventBook
    def __init__(self, trigger: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ..., process_state: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ...) -> None: ...

class ProcessManagerPrepareResponse(_message.Message):
    __slots__ = ("destinations",)
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    destinations: _containers.RepeatedCompositeFieldContainer[_types_pb2.Cover]
    def __init__(self, destinations: _Optional[_Iterable[_Union[_types_pb2.Cover, _Mapping]]] = ...) -> None: ...

class ProcessManagerHandleRequest(_message.Message):
    __slots__ = ("trigger", "process_state", "destination_sequences")
    class DestinationSequencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    PROCESS_STATE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    trigger: _types_pb2.EventBook
    process_state: _types_pb2.EventBook
    destination_sequences: _containers.ScalarMap[str, int]
    def __init__(self, trigger: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ..., process_state: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ..., destination_sequences: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ProcessManagerHandleResponse(_message.Message):
    __slots__ = ("process_events", "commands", "facts")
    PROCESS_EVENTS_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    process_events: _types_pb2.EventBook
    commands: _containers.RepeatedCompositeFieldContainer[_types_pb2.CommandBook]
    facts: _containers.RepeatedCompositeFieldContainer[_types_pb2.EventBook]
    def __init__(self, process_events: _Optional[_Union[_types_pb2.EventBook, _Mapping]] = ..., commands: _Optional[_Iterable[_Union[_types_pb2.CommandBook, _Mapping]]] = ..., facts: _Optional[_Iterable[_Union[_types_pb2.EventBook, _Mapping]]] = ...) -> None: ...
