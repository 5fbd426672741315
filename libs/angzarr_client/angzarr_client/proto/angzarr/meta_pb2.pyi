from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DeleteEditionEvents(_message.Message):
    __slots__ = ("edition", "domain")
    EDITION_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    edition: str
    domain: str
    def __init__(self, edition: _Optional[str] = ..., domain: _Optional[str] = ...) -> None: ...

class EditionEventsDeleted(_message.Message):
    __slots__ = ("edition", "domain", "deleted_count", "deleted_at")
    EDITION_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    edition: str
    domain: str
    deleted_count: int
    deleted_at: str
    def __init__(self, edition: _Optional[str] = ..., domain: _Optional[str] = ..., deleted_count: _Optional[int] = ..., deleted_at: _Optional[str] = ...) -> None: ...
