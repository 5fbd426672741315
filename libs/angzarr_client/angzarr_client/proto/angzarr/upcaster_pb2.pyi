from angzarr_client.proto.angzarr import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpcastRequest(_message.Message):
    __slots__ = ("domain", "events")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    domain: str
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.EventPage]
    def __init__(self, domain: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_types_pb2.EventPage, _Mapping]]] = ...) -> None: ...

class UpcastResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.EventPage]
    def __init__(self, events: _Optional[_Iterable[_Union[_types_pb2.EventPage, _Mapping]]] = ...) -> None: ...
