"""Angzarr client library."""
# Re-exports only; H1 (client side) and H2 (handler side) each keep their own block.
# ruff: noqa: F401, I001

# client side
from .books import (
    CORRELATION_ID_HEADER,
    correlated_metadata,
    correlation_id_of,
    cover_of,
    domain_of,
    edition_of,
    new_cover,
    next_sequence,
    pack_event,
    pack_events,
    root_of,
)
from .errors import (
    ClientError,
    CommandRejectedError,
    ConnectionError,
    DecodeError,
    GRPCError,
    InvalidArgumentError,
    InvalidTimestampError,
    StateRebuildError,
    TransportError,
)
from .ids import compute_root, correlation_root, proto_to_uuid, to_uuid, uuid_to_proto
from .timestamps import now, parse_timestamp, to_timestamp
from .typeurl import (
    TYPE_URL_PREFIX,
    decode_event,
    decode_events,
    events_from_response,
    full_name,
    pack,
    try_unpack,
    type_matches,
    type_name_from_url,
    type_url_for,
    unpack,
)
from .builder import CommandBuilder, QueryBuilder
from .client import (
    DEFAULT_TIMEOUT,
    NO_TIMEOUT,
    AggregateClient,
    Client,
    CommandHandlerClient,
    DomainClient,
    EventStream,
    QueryClient,
    SpeculateAggregateRequest,
    SpeculativeClient,
    TransportMode,
    resolve_ch_endpoint,
)
from .retry import ExponentialBackoffRetry, NoRetry, RetryPolicy, default_retry_policy, is_transient
# end client side

# handler side
from .handlers import (
    Aggregate,
    CommandHandler,
    CommandRouter,
    CompensationContext,
    ProcessManager,
    ProcessManagerContext,
    Projector,
    ProjectorContext,
    Saga,
    SagaContext,
    StateRouter,
    Upcaster,
    applies,
    delegate_to_framework,
    handles,
    handles_fact,
    notification_command_book,
    prepares,
    rejected,
    rejection_notification,
    require_exists,
    require_non_negative,
    require_not_empty,
    require_not_exists,
    require_positive,
    upcasts,
)
from .logging import configure_logging
from .router import (
    CommandHandlerRouter,
    ProcessManagerRouter,
    ProjectorRouter,
    Router,
    SagaRouter,
    UpcasterRouter,
)
from .server import (
    ServerHandle,
    create_server,
    run_aggregate_server,
    run_command_handler_server,
    run_components,
    run_process_manager_server,
    run_projector_server,
    run_saga_server,
    run_server,
    run_upcaster_server,
    transport_from_env,
)
from .servicers import CommandHandlerGrpc, ProcessManagerGrpc, ProjectorGrpc, SagaGrpc, UpcasterGrpc
from .testing import build_event_book
# end handler side
