"""Handler side: aggregates, sagas, process managers, projectors and upcasters as small classes."""

# ruff: noqa: F401

from angzarr_client.handlers.command_handler import DOMAIN_PATTERN, Aggregate, CommandHandler
from angzarr_client.handlers.command_router import CommandRouter
from angzarr_client.handlers.compensation import (
    CompensationContext,
    delegate_to_framework,
    notification_command_book,
    rejection_notification,
)
from angzarr_client.handlers.decorators import (
    HandlerSpec,
    applies,
    handles,
    handles_fact,
    prepares,
    rejected,
    upcasts,
)
from angzarr_client.handlers.process_manager import ProcessManager, ProcessManagerContext
from angzarr_client.handlers.projector import Projector, ProjectorContext
from angzarr_client.handlers.reactions import SagaContext
from angzarr_client.handlers.saga import Saga
from angzarr_client.handlers.state_router import StateRouter
from angzarr_client.handlers.upcaster import Upcaster
from angzarr_client.handlers.validation import (
    require_exists,
    require_non_negative,
    require_not_empty,
    require_not_exists,
    require_positive,
)
