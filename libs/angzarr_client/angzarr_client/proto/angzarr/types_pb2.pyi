import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_MODE_ASYNC: _ClassVar[SyncMode]
    SYNC_MODE_SIMPLE: _ClassVar[SyncMode]
    SYNC_MODE_CASCADE: _ClassVar[SyncMode]

class CascadeErrorMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASCADE_ERROR_FAIL_FAST: _ClassVar[CascadeErrorMode]
    CASCADE_ERROR_CONTINUE: _ClassVar[CascadeErrorMode]
    CASCADE_ERROR_COMPENSATE: _ClassVar[CascadeErrorMode]
    CASCADE_ERROR_DEAD_LETTER: _ClassVar[CascadeErrorMode]

class MergeStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MERGE_COMMUTATIVE: _ClassVar[MergeStrategy]
    MERGE_STRICT: _ClassVar[MergeStrategy]
    MERGE_AGGREGATE_HANDLES: _ClassVar[MergeStrategy]
    MERGE_MANUAL: _ClassVar[MergeStrategy]

class SnapshotRetention(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETENTION_DEFAULT: _ClassVar[SnapshotRetention]
    RETENTION_PERSIST: _ClassVar[SnapshotRetention]
    RETENTION_TRANSIENT: _ClassVar[SnapshotRetention]

class PayloadStorageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_STORAGE_TYPE_UNSPECIFIED: _ClassVar[PayloadStorageType]
    PAYLOAD_STORAGE_TYPE_FILESYSTEM: _ClassVar[PayloadStorageType]
    PAYLOAD_STORAGE_TYPE_GCS: _ClassVar[PayloadStorageType]
    PAYLOAD_STORAGE_TYPE_S3: _ClassVar[PayloadStorageType]
SYNC_MODE_ASYNC: SyncMode
SYNC_MODE_SIMPLE: SyncMode
SYNC_MODE_CASCADE: SyncMode
CASCADE_ERROR_FAIL_FAST: CascadeErrorMode
CASCADE_ERROR_CONTINUE: CascadeErrorMode
CASCADE_ERROR_COMPENSATE: CascadeErrorMode
CASCADE_ERROR_DEAD_LETTER: CascadeErrorMode
MERGE_COMMUTATIVE: MergeStrategy
MERGE_STRICT: MergeStrategy
MERGE_AGGREGATE_HANDLES: MergeStrategy
MERGE_MANUAL: MergeStrategy
RETENTION_DEFAULT: SnapshotRetention
RETENTION_PERSIST: SnapshotRetention
RETENTION_TRANSIENT: SnapshotRetention
PAYLOAD_STORAGE_TYPE_UNSPECIFIED: PayloadStorageType
PAYLOAD_STORAGE_TYPE_FILESYSTEM: PayloadStorageType
PAYLOAD_STORAGE_TYPE_GCS: PayloadStorageType
PAYLOAD_STORAGE_TYPE_S3: PayloadStorageType

class UUID(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    def __init__(self, value: _Optional[bytes] = ...) -> None: ...

class Cover(_message.Message):
    __slots__ = ("domain", "root", "correlation_id", "edition")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    ROOT_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    EDITION_FIELD_NUMBER: _ClassVar[int]
    domain: str
    root: UUID
    correlation_id: str
    edition: Edition
    def __init__(self, domain: _Optional[str] = ..., root: _Optional[_Union[UUID, _Mapping]] = ..., correlation_id: _Optional[str] = ..., edition: _Optional[_Union[Edition, _Mapping]] = ...) -> None: ...

class Edition(_message.Message):
    __slots__ = ("name", "divergences")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIVERGENCES_FIELD_NUMBER: _ClassVar[int]
    name: str
    divergences: _containers.RepeatedCompositeFieldContainer[DomainDivergence]
    def __init__(self, name: _Optional[str] = ..., divergences: _Optional[_Iterable[_Union[DomainDivergence, _Mapping]]] = ...) -> None: ...

class DomainDivergence(_message.Message):
    __slots__ = ("domain", "sequence")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    domain: str
    sequence: int
    def __init__(self, domain: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class PayloadReference(_message.Message):
    __slots__ = ("storage_type", "uri", "content_hash", "original_size", "stored_at")
    STORAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    STORED_AT_FIELD_NUMBER: _ClassVar[int]
    storage_type: PayloadStorageType
    uri: str
    content_hash: bytes
    original_size: int
    stored_at: _timestamp_pb2.Timestamp
    def __init__(self, storage_type: _Optional[_Union[PayloadStorageType, str]] = ..., uri: _Optional[str] = ..., content_hash: _Optional[bytes] = ..., original_size: _Optional[int] = ..., stored_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PageHeader(_message.Message):
    __slots__ = ("sequence", "external_deferred", "angzarr_deferred")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_DEFERRED_FIELD_NUMBER: _ClassVar[int]
    ANGZARR_DEFERRED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    external_deferred: ExternalDeferredSequence
    angzarr_deferred: AngzarrDeferredSequence
    def __init__(self, sequence: _Optional[int] = ..., external_deferred: _Optional[_Union[ExternalDeferredSequence, _Mapping]] = ..., angzarr_deferred: _Optional[_Union[AngzarrDeferredSequence, _Mapping]] = ...) -> None: ...

class ExternalDeferredSequence(_message.Message):
    __slots__ = ("external_id", "description")
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    description: str
    def __init__(self, external_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class AngzarrDeferredSequence(_message.Message):
    __slots__ = ("source", "source_seq")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    source: Cover
    source_seq: int
    def __init__(self, source: _Optional[_Union[Cover, _Mapping]] = ..., source_seq: _Optional[int] = ...) -> None: ...

class EventPage(_message.Message):
    __slots__ = ("header", "created_at", "committed", "cascade_id", "event", "external")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    header: PageHeader
    created_at: _timestamp_pb2.Timestamp
    committed: bool
    cascade_id: str
    event: _any_pb2.Any
    external: PayloadReference
    def __init__(self, header: _Optional[_Union[PageHeader, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., committed: _Optional[bool] = ..., cascade_id: _Optional[str] = ..., event: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., external: _Optional[_Union[PayloadReference, _Mapping]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("sequence", "state", "retention")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    state: _any_pb2.Any
    retention: SnapshotRetention
    def __init__(self, sequence: _Optional[int] = ..., state: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., retention: _Optional[_Union[SnapshotRetention, str]] = ...) -> None: ...

class EventBook(_message.Message):
    __slots__ = ("cover", "snapshot", "pages", "next_sequence")
    COVER_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    snapshot: Snapshot
    pages: _containers.RepeatedCompositeFieldContainer[EventPage]
    next_sequence: int
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., snapshot: _Optional[_Union[Snapshot, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[EventPage, _Mapping]]] = ..., next_sequence: _Optional[int] = ...) -> None: ...

class EventRequest(_message.Message):
    __slots__ = ("events", "sync_mode", "route_to_handler")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SYNC_MODE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_TO_HANDLER_FIELD_NUMBER: _ClassVar[int]
    events: EventBook
    sync_mode: SyncMode
    route_to_handler: bool
    def __init__(self, events: _Optional[_Union[EventBook, _Mapping]] = ..., sync_mode: _Optional[_Union[SyncMode, str]] = ..., route_to_handler: _Optional[bool] = ...) -> None: ...

class Projection(_message.Message):
    __slots__ = ("cover", "projector", "sequence", "projection")
    COVER_FIELD_NUMBER: _ClassVar[int]
    PROJECTOR_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    projector: str
    sequence: int
    projection: _any_pb2.Any
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., projector: _Optional[str] = ..., sequence: _Optional[int] = ..., projection: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...

class CommandPage(_message.Message):
    __slots__ = ("header", "merge_strategy", "command", "external")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    MERGE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    header: PageHeader
    merge_strategy: MergeStrategy
    command: _any_pb2.Any
    external: PayloadReference
    def __init__(self, header: _Optional[_Union[PageHeader, _Mapping]] = ..., merge_strategy: _Optional[_Union[MergeStrategy, str]] = ..., command: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., external: _Optional[_Union[PayloadReference, _Mapping]] = ...) -> None: ...

class CommandBook(_message.Message):
    __slots__ = ("cover", "pages")
    COVER_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    pages: _containers.RepeatedCompositeFieldContainer[CommandPage]
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[CommandPage, _Mapping]]] = ...) -> None: ...

class CommandRequest(_message.Message):
    __slots__ = ("command", "sync_mode", "cascade_error_mode", "cascade_id")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    SYNC_MODE_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ERROR_MODE_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    command: CommandBook
    sync_mode: SyncMode
    cascade_error_mode: CascadeErrorMode
    cascade_id: str
    def __init__(self, command: _Optional[_Union[CommandBook, _Mapping]] = ..., sync_mode: _Optional[_Union[SyncMode, str]] = ..., cascade_error_mode: _Optional[_Union[CascadeErrorMode, str]] = ..., cascade_id: _Optional[str] = ...) -> None: ...

class ContextualCommand(_message.Message):
    __slots__ = ("events", "command")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    events: EventBook
    command: CommandBook
    def __init__(self, events: _Optional[_Union[EventBook, _Mapping]] = ..., command: _Optional[_Union[CommandBook, _Mapping]] = ...) -> None: ...

class ContextualCommandRequest(_message.Message):
    __slots__ = ("command", "sync_mode")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    SYNC_MODE_FIELD_NUMBER: _ClassVar[int]
    command: ContextualCommand
    sync_mode: SyncMode
    def __init__(self, command: _Optional[_Union[ContextualCommand, _Mapping]] = ..., sync_mode: _Optional[_Union[SyncMode, str]] = ...) -> None: ...

class SequenceRange(_message.Message):
    __slots__ = ("lower", "upper")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    lower: int
    upper: int
    def __init__(self, lower: _Optional[int] = ..., upper: _Optional[int] = ...) -> None: ...

class SequenceSet(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class TemporalQuery(_message.Message):
    __slots__ = ("as_of_time", "as_of_sequence")
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    as_of_time: _timestamp_pb2.Timestamp
    as_of_sequence: int
    def __init__(self, as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., as_of_sequence: _Optional[int] = ...) -> None: ...

class Query(_message.Message):
    __slots__ = ("cover", "range", "sequences", "temporal")
    COVER_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    TEMPORAL_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    range: SequenceRange
    sequences: SequenceSet
    temporal: TemporalQuery
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., range: _Optional[_Union[SequenceRange, _Mapping]] = ..., sequences: _Optional[_Union[SequenceSet, _Mapping]] = ..., temporal: _Optional[_Union[TemporalQuery, _Mapping]] = ...) -> None: ...

class AggregateRoot(_message.Message):
    __slots__ = ("domain", "root")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    ROOT_FIELD_NUMBER: _ClassVar[int]
    domain: str
    root: UUID
    def __init__(self, domain: _Optional[str] = ..., root: _Optional[_Union[UUID, _Mapping]] = ...) -> None: ...

class EventStreamFilter(_message.Message):
    __slots__ = ("correlation_id",)
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    correlation_id: str
    def __init__(self, correlation_id: _Optional[str] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("cover", "payload", "sent_at", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COVER_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    payload: _any_pb2.Any
    sent_at: _timestamp_pb2.Timestamp
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RejectionNotification(_message.Message):
    __slots__ = ("rejected_command", "rejection_reason")
    REJECTED_COMMAND_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    rejected_command: CommandBook
    rejection_reason: str
    def __init__(self, rejected_command: _Optional[_Union[CommandBook, _Mapping]] = ..., rejection_reason: _Optional[str] = ...) -> None: ...

class Confirmation(_message.Message):
    __slots__ = ("target", "sequences", "cascade_id")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    target: Cover
    sequences: _containers.RepeatedScalarFieldContainer[int]
    cascade_id: str
    def __init__(self, target: _Optional[_Union[Cover, _Mapping]] = ..., sequences: _Optional[_Iterable[int]] = ..., cascade_id: _Optional[str] = ...) -> None: ...

class Revocation(_message.Message):
    __slots__ = ("target", "sequences", "cascade_id", "reason")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    target: Cover
    sequences: _containers.RepeatedScalarFieldContainer[int]
    cascade_id: str
    reason: str
    def __init__(self, target: _Optional[_Union[Cover, _Mapping]] = ..., sequences: _Optional[_Iterable[int]] = ..., cascade_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Compensate(_message.Message):
    __slots__ = ("target", "sequences", "reason")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    target: Cover
    sequences: _containers.RepeatedScalarFieldContainer[int]
    reason: str
    def __init__(self, target: _Optional[_Union[Cover, _Mapping]] = ..., sequences: _Optional[_Iterable[int]] = ..., reason: _Optional[str] = ...) -> None: ...

class NoOp(_message.Message):
    __slots__ = ("original_sequence", "cascade_id", "reason")
    ORIGINAL_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    original_sequence: int
    cascade_id: str
    reason: str
    def __init__(self, original_sequence: _Optional[int] = ..., cascade_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CascadeCommit(_message.Message):
    __slots__ = ("cascade_id",)
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    cascade_id: str
    def __init__(self, cascade_id: _Optional[str] = ...) -> None: ...

class CascadeRollback(_message.Message):
    __slots__ = ("cascade_id", "reason")
    CASCADE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    cascade_id: str
    reason: str
    def __init__(self, cascade_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CascadeConflictDetail(_message.Message):
    __slots__ = ("cascade_ids", "overlapping_fields")
    CASCADE_IDS_FIELD_NUMBER: _ClassVar[int]
    OVERLAPPING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    cascade_ids: _containers.RepeatedScalarFieldContainer[str]
    overlapping_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cascade_ids: _Optional[_Iterable[str]] = ..., overlapping_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class SequenceMismatchDetails(_message.Message):
    __slots__ = ("expected_sequence", "actual_sequence", "merge_strategy")
    EXPECTED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MERGE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    expected_sequence: int
    actual_sequence: int
    merge_strategy: MergeStrategy
    def __init__(self, expected_sequence: _Optional[int] = ..., actual_sequence: _Optional[int] = ..., merge_strategy: _Optional[_Union[MergeStrategy, str]] = ...) -> None: ...

class EventProcessingFailedDetails(_message.Message):
    __slots__ = ("error", "retry_count", "is_transient")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_TRANSIENT_FIELD_NUMBER: _ClassVar[int]
    error: str
    retry_count: int
    is_transient: bool
    def __init__(self, error: _Optional[str] = ..., retry_count: _Optional[int] = ..., is_transient: _Optional[bool] = ...) -> None: ...

class PayloadRetrievalFailedDetails(_message.Message):
    __slots__ = ("storage_type", "uri", "content_hash", "original_size", "error")
    STORAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    storage_type: PayloadStorageType
    uri: str
    content_hash: bytes
    original_size: int
    error: str
    def __init__(self, storage_type: _Optional[_Union[PayloadStorageType, str]] = ..., uri: _Optional[str] = ..., content_hash: _Optional[bytes] = ..., original_size: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class AngzarrDeadLetter(_message.Message):
    __slots__ = ("cover", "rejection_reason", "occurred_at", "metadata", "source_component", "source_component_type", "rejected_command", "rejected_events", "sequence_mismatch", "event_processing_failed", "payload_retrieval_failed")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COVER_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COMPONENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COMPONENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COMMAND_FIELD_NUMBER: _ClassVar[int]
    REJECTED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_MISMATCH_FIELD_NUMBER: _ClassVar[int]
    EVENT_PROCESSING_FAILED_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_RETRIEVAL_FAILED_FIELD_NUMBER: _ClassVar[int]
    cover: Cover
    rejection_reason: str
    occurred_at: _timestamp_pb2.Timestamp
    metadata: _containers.ScalarMap[str, str]
    source_component: str
    source_component_type: str
    rejected_command: CommandBook
    rejected_events: EventBook
    sequence_mismatch: SequenceMismatchDetails
    event_processing_failed: EventProcessingFailedDetails
    payload_retrieval_failed: PayloadRetrievalFailedDetails
    def __init__(self, cover: _Optional[_Union[Cover, _Mapping]] = ..., rejection_reason: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., source_component: _Optional[str] = ..., source_component_type: _Optional[str] = ..., rejected_command: _Optional[_Union[CommandBook, _Mapping]] = ..., rejected_events: _Optional[_Union[EventBook, _Mapping]] = ..., sequence_mismatch: _Optional[_Union[SequenceMismatchDetails, _Mapping]] = ..., event_processing_failed: _Optional[_Union[EventProcessingFailedDetails, _Mapping]] = ..., payload_retrieval_failed: _Optional[_Union[PayloadRetrievalFailedDetails, _Mapping]] = ...) -> None: ...

class Target(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: str
    def __init__(self, domain: _Optional[str] = ...) -> None: ...

class ComponentDescriptor(_message.Message):
    __slots__ = ("name", "component_type", "inputs")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    component_type: str
    inputs: _containers.RepeatedCompositeFieldContainer[Target]
    def __init__(self, name: _Optional[str] = ..., component_type: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[Target, _Mapping]]] = ...) -> None: ...

class GetDescriptorRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
