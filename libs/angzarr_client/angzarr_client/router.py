"""``Router``: the one way to make a handler component servable (spec §13).

    router = Router("table").with_handler(Table).build()

``build()`` returns a router for the component's kind. Command handlers and process managers get
a fresh instance per request (``cls()``, or a shallow copy of a given instance, which keeps
injected collaborators) bound to the request's history; the original is never mutated. Sagas,
projectors and upcasters use one instance.
"""

from __future__ import annotations

import copy
from typing import Any

from google.protobuf.message import Message

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.command_handler import CommandHandler
from angzarr_client.handlers.command_router import CommandRouter
from angzarr_client.handlers.process_manager import ProcessManager
from angzarr_client.handlers.projector import Projector
from angzarr_client.handlers.requests import require_command_book
from angzarr_client.handlers.saga import Saga
from angzarr_client.handlers.upcaster import Upcaster
from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    process_manager_pb2,
    saga_pb2,
    types_pb2,
    upcaster_pb2,
)
from angzarr_client.typeurl import pack

__all__ = [
    "BuiltRouter",
    "CommandHandlerRouter",
    "ProcessManagerRouter",
    "ProjectorRouter",
    "Router",
    "SagaRouter",
    "UpcasterRouter",
    "build_router",
]

COMMAND_HANDLER = "command_handler"
SAGA = "saga"
PROCESS_MANAGER = "process_manager"
PROJECTOR = "projector"
UPCASTER = "upcaster"


class BuiltRouter:
    """What every built router provides: ``name``, ``kind``, ``handled_types()``, ``descriptor()``."""

    kind: str = ""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def inputs(self) -> tuple[str, ...]:
        raise NotImplementedError

    def handled_types(self) -> list[str]:
        raise NotImplementedError

    def descriptor(self) -> types_pb2.ComponentDescriptor:
        """``ComponentDescriptor(name, component_type, inputs)`` for topology and discovery."""
        return types_pb2.ComponentDescriptor(
            name=self._name,
            component_type=self.kind,
            inputs=[types_pb2.Target(domain=d) for d in self.inputs],
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"


def _component_class(component: Any) -> type:
    return component if isinstance(component, type) else type(component)


class CommandHandlerRouter(BuiltRouter):
    """Serves a ``CommandHandler`` (class or instance) or a ``CommandRouter``."""

    kind = COMMAND_HANDLER

    def __init__(self, name: str, component: type[CommandHandler] | CommandHandler | CommandRouter) -> None:
        super().__init__(name)
        self._component = component
        if isinstance(component, CommandRouter):
            self._domain = component.domain
        else:
            self._domain = _component_class(component).domain

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self._domain,)

    def handled_types(self) -> list[str]:
        if isinstance(self._component, CommandRouter):
            return self._component.command_types()
        return _component_class(self._component).command_types()

    def _fresh(self, history: types_pb2.EventBook | None) -> CommandHandler:
        component = self._component
        instance = component() if isinstance(component, type) else copy.copy(component)
        instance._bind_history(history)
        return instance

    def dispatch(self, request: types_pb2.ContextualCommand) -> command_handler_pb2.BusinessResponse:
        """Handle every page of the request's command book on a fresh instance.

        Raises:
            InvalidArgumentError: a missing or empty book, a page without a command, a foreign
                domain, an unknown command type or an undecodable payload.
            CommandRejectedError: a page was rejected; nothing of the book is returned.
            StateRebuildError: the history could not be applied.
        """
        if isinstance(self._component, CommandRouter):
            return self._component.dispatch(request)
        book = require_command_book(request, self._domain)
        instance = self._fresh(request.events if request.HasField("events") else None)
        instance._active_cover = book.cover
        for page in book.pages:
            result = instance.dispatch(page.command)
            if isinstance(result, command_handler_pb2.RevocationResponse):
                return command_handler_pb2.BusinessResponse(revocation=result)
        return command_handler_pb2.BusinessResponse(events=instance.event_book())

    def replay(self, request: command_handler_pb2.ReplayRequest) -> command_handler_pb2.ReplayResponse:
        """The state rebuilt from ``base_snapshot`` plus ``events``, packed.

        Raises:
            NotImplementedError: the state is not a protobuf message.
            StateRebuildError: the history could not be applied.
        """
        if isinstance(self._component, CommandRouter):
            return self._component.replay(request)
        history = types_pb2.EventBook()
        if request.HasField("base_snapshot"):
            history.snapshot.CopyFrom(request.base_snapshot)
        history.pages.extend(request.events)
        state = self._fresh(history).state
        if not isinstance(state, Message):
            raise NotImplementedError(
                f"replay needs protobuf state; {self._domain!r} uses {type(state).__name__}"
            )
        return command_handler_pb2.ReplayResponse(state=pack(state))


class SagaRouter(BuiltRouter):
    kind = SAGA

    def __init__(self, name: str, saga: type[Saga] | Saga) -> None:
        super().__init__(name)
        self._saga = saga() if isinstance(saga, type) else saga

    @property
    def inputs(self) -> tuple[str, ...]:
        return self._saga.input_domain_list()

    input_domains = inputs

    def handled_types(self) -> list[str]:
        return self._saga.handled_types()

    def dispatch(self, request: saga_pb2.SagaHandleRequest) -> saga_pb2.SagaResponse:
        """See :meth:`Saga.handle_request`."""
        return self._saga.handle_request(request)


class ProcessManagerRouter(BuiltRouter):
    kind = PROCESS_MANAGER

    def __init__(self, name: str, pm: type[ProcessManager] | ProcessManager) -> None:
        super().__init__(name)
        self._pm = pm

    @property
    def inputs(self) -> tuple[str, ...]:
        return _component_class(self._pm).input_domain_list()

    input_domains = inputs

    def handled_types(self) -> list[str]:
        return _component_class(self._pm).handled_types()

    def _fresh(self, process_state: types_pb2.EventBook | None) -> ProcessManager:
        pm = self._pm
        instance = pm() if isinstance(pm, type) else copy.copy(pm)
        instance._bind_history(process_state)
        return instance

    def prepare(
        self, request: process_manager_pb2.ProcessManagerPrepareRequest
    ) -> process_manager_pb2.ProcessManagerPrepareResponse:
        return self._fresh(request.process_state if request.HasField("process_state") else None).prepare(
            request
        )

    def dispatch(
        self, request: process_manager_pb2.ProcessManagerHandleRequest
    ) -> process_manager_pb2.ProcessManagerHandleResponse:
        """See :meth:`ProcessManager.handle_request`; runs on a fresh instance."""
        if not isinstance(request, process_manager_pb2.ProcessManagerHandleRequest):
            raise InvalidArgumentError(
                f"expected an angzarr.ProcessManagerHandleRequest, got {type(request).__name__}"
            )
        instance = self._fresh(request.process_state if request.HasField("process_state") else None)
        return instance.handle_request(request)


class ProjectorRouter(BuiltRouter):
    kind = PROJECTOR

    def __init__(self, name: str, projector: type[Projector] | Projector) -> None:
        super().__init__(name)
        self._projector = projector() if isinstance(projector, type) else projector

    @property
    def inputs(self) -> tuple[str, ...]:
        return self._projector.input_domain_list()

    input_domains = inputs

    def handled_types(self) -> list[str]:
        return self._projector.handled_types()

    def dispatch(self, book: types_pb2.EventBook, *, speculative: bool = False) -> types_pb2.Projection:
        """See :meth:`Projector.project`."""
        return self._projector.project(book, speculative=speculative)


class UpcasterRouter(BuiltRouter):
    kind = UPCASTER

    def __init__(self, name: str, upcaster: type[Upcaster] | Upcaster) -> None:
        super().__init__(name)
        self._upcaster = upcaster() if isinstance(upcaster, type) else upcaster

    @property
    def domain(self) -> str:
        return self._upcaster.domain

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self._upcaster.domain,)

    def handled_types(self) -> list[str]:
        return self._upcaster.handled_types()

    def dispatch(self, request: upcaster_pb2.UpcastRequest) -> upcaster_pb2.UpcastResponse:
        """See :meth:`Upcaster.upcast`."""
        return self._upcaster.upcast(request)


_KINDS: tuple[tuple[type, type[BuiltRouter]], ...] = (
    (CommandHandler, CommandHandlerRouter),
    (Saga, SagaRouter),
    (ProcessManager, ProcessManagerRouter),
    (Projector, ProjectorRouter),
    (Upcaster, UpcasterRouter),
)


def _router_class(component: Any) -> type[BuiltRouter] | None:
    if isinstance(component, CommandRouter):
        return CommandHandlerRouter
    cls = _component_class(component)
    for base, router_cls in _KINDS:
        if issubclass(cls, base) and cls is not base:
            return router_cls
    return None


def default_name(component: Any) -> str:
    """The name a component is served under: its ``name``, else its ``domain``."""
    if isinstance(component, BuiltRouter):
        return component.name
    if isinstance(component, CommandRouter):
        return component.domain
    for attribute in ("name", "domain"):
        value = getattr(_component_class(component), attribute, None)
        if isinstance(value, str) and value:
            return value
    return _component_class(component).__name__


class Router:
    """Builder: ``Router(name).with_handler(component).build()``.

    Accepts a ``CommandHandler`` class or instance, a ``CommandRouter``, or a ``Saga``,
    ``ProcessManager``, ``Projector`` or ``Upcaster`` (class or instance).
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"Router needs a non-empty name, got {name!r}")
        self._name = name
        self._component: Any = None

    def with_handler(self, component: Any) -> Router:
        """Set the component to serve; returns the builder.

        Raises:
            TypeError: a second component, or something that is not a handler component.
        """
        if self._component is not None:
            raise TypeError(f"Router({self._name!r}) already has a handler; a router serves one component")
        if _router_class(component) is None:
            raise TypeError(
                f"Router({self._name!r}).with_handler() needs a CommandHandler, CommandRouter, Saga, "
                f"ProcessManager, Projector or Upcaster, got {component!r}"
            )
        self._component = component
        return self

    def build(self) -> BuiltRouter:
        """The router for the component's kind.

        Raises:
            ValueError: no component was given.
        """
        if self._component is None:
            raise ValueError(f"Router({self._name!r}).build() called before with_handler()")
        return _router_class(self._component)(self._name, self._component)


def build_router(component: Any, name: str | None = None) -> BuiltRouter:
    """A built router for ``component`` (returned unchanged if it already is one).

    Raises:
        TypeError: ``component`` is not a handler component.
    """
    if isinstance(component, BuiltRouter):
        return component
    return Router(name or default_name(component)).with_handler(component).build()
