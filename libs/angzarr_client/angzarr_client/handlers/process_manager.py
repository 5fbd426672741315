"""``ProcessManager[State]``: a stateful reaction that coordinates a workflow across domains.

Its state is an event-sourced stream in domain ``<name>`` at ``correlation_root(cid)``: handlers
``emit`` process events (numbered from ``process_state``) and return commands and facts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import structlog
from google.protobuf.message import Message

from angzarr_client.books import root_of
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.compensation import (
    NOTIFICATION_TYPE,
    CompensationContext,
    find_rejection_handler,
)
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.event_sourced import EventSourced, State
from angzarr_client.handlers.listeners import declared_input_domains, event_table, require_name
from angzarr_client.handlers.reactions import ReactionOutput, SagaContext, split_reactions
from angzarr_client.handlers.tables import key_table
from angzarr_client.ids import correlation_root, uuid_to_proto
from angzarr_client.proto.angzarr import process_manager_pb2, types_pb2
from angzarr_client.typeurl import type_name_from_url, unpack

__all__ = ["ProcessManager", "ProcessManagerContext"]

_BOOKS = (types_pb2.CommandBook, types_pb2.EventBook)

_log = structlog.get_logger("angzarr_client.process_manager")


@dataclass(frozen=True)
class ProcessManagerContext(SagaContext):
    """A :class:`SagaContext` plus the root of the process manager's own state stream."""

    process_root: Any = None


class ProcessManager(EventSourced[State], abstract=True):
    """Base class of a process manager (spec §11).

    Class attributes: ``name`` (required); ``domain`` defaults to ``name`` and may not differ;
    ``input_domain``/``input_domains`` give handlers without ``input_domain`` their domain;
    ``output_domain`` is the default target of ``ctx.command``; ``snapshot_every`` as for
    command handlers.

    Raises (at class creation):
        TypeError: a missing name, a ``domain`` other than ``name``, a handler without an input
            domain, duplicates, or the state checks of ``CommandHandler``.
    """

    name: ClassVar[str]
    input_domain: ClassVar[str | None] = None
    input_domains: ClassVar[list[str] | tuple[str, ...] | None] = None
    output_domain: ClassVar[str | None] = None

    _event_handlers: ClassVar[dict[tuple[str, str], tuple[str, HandlerSpec]]] = {}
    _preparers: ClassVar[dict[str, tuple[str, HandlerSpec]]] = {}
    _rejection_handlers: ClassVar[dict[tuple[str, str], tuple[str, HandlerSpec]]] = {}
    _input_domains: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(abstract=abstract, **kwargs)
        for attribute, spec in cls._specs.items():
            if spec.kind in ("handles_fact", "upcasts"):
                raise TypeError(
                    f"{cls.__name__}.{attribute}: @{spec.kind} does not belong on a ProcessManager"
                )
        domains = declared_input_domains(cls)
        cls._event_handlers = event_table(cls, cls._specs, domains, require_domains=False)
        cls._input_domains = tuple(dict.fromkeys([*domains, *(d for d, _ in cls._event_handlers)]))
        cls._preparers = key_table(
            cls,
            ((s.type_name, n, s) for n, s in cls._specs.items() if s.kind == "prepares"),
            "prepared event",
        )
        cls._rejection_handlers = key_table(
            cls,
            (((s.rejected_domain, s.type_name), n, s) for n, s in cls._specs.items() if s.kind == "rejected"),
            "rejected command",
        )
        if abstract:
            return
        name = require_name(cls, "process manager")
        domain = cls.__dict__.get("domain", getattr(cls, "domain", None))
        if domain is None:
            cls.domain = name
        elif domain != name:
            raise TypeError(
                f"{cls.__name__}: domain must equal name ({name!r}); the coordinator keeps PM state in domain <name>"
            )
        if not cls._event_handlers:
            raise TypeError(f"{cls.__name__}: a process manager needs at least one @handles method")

    # -- direct calls (unit tests) ----------------------------------------------------------------

    def _invoke_decorated(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec.kind == "rejected":
            return self._run_rejected(spec, args, kwargs, ReactionOutput())
        if (
            spec.kind == "handles"
            and spec.takes_context
            and len(args) < 2
            and not ({"ctx", "context"} & set(kwargs))
        ):
            args = (*args, self._test_context())
        self.state  # noqa: B018 - build state before the handler reads it
        result = spec.func(self, *args, **kwargs)
        split_reactions(type(self).__name__, spec.func.__name__, result)
        return result

    def _run_rejected(
        self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any], out: ReactionOutput
    ) -> Any:
        """Run a ``@rejected`` method: books become commands/facts, plain events are emitted.

        As for command handlers, what the method passed to ``emit`` wins over its return value.
        """
        self.state  # noqa: B018 - build state before the handler reads it
        recorded_before = len(self._new_pages)
        result = spec.func(self, *args, **kwargs)
        items = list(result) if isinstance(result, list | tuple) else [] if result is None else [result]
        events = [i for i in items if isinstance(i, Message) and not isinstance(i, _BOOKS)]
        others = [i for i in items if not (isinstance(i, Message) and not isinstance(i, _BOOKS))]
        split_reactions(type(self).__name__, spec.func.__name__, others, out)
        self._emit_returned(events, recorded_before)
        return result

    def _test_context(self) -> ProcessManagerContext:
        base = SagaContext.for_test(output_domain=self.output_domain, component=self.name)
        return ProcessManagerContext(
            source=base.source,
            page=base.page,
            component=self.name,
            output_domain=self.output_domain,
            process_root=correlation_root(base.correlation_id),
        )

    # -- requests ---------------------------------------------------------------------------------

    @classmethod
    def input_domain_list(cls) -> tuple[str, ...]:
        return cls._input_domains

    @classmethod
    def handled_types(cls) -> list[str]:
        return sorted({name for _, name in cls._event_handlers})

    def fresh(self, process_state: types_pb2.EventBook | None) -> ProcessManager[State]:
        """A shallow copy bound to ``process_state`` (injected collaborators are kept)."""
        instance = copy.copy(self)
        instance._bind_history(process_state)
        return instance

    def prepare(
        self, request: process_manager_pb2.ProcessManagerPrepareRequest
    ) -> process_manager_pb2.ProcessManagerPrepareResponse:
        """The deduplicated covers the ``@prepares`` methods name for the trigger's pages.

        Raises:
            InvalidArgumentError: an undecodable trigger event.
            TypeError: a ``@prepares`` method returned something other than covers.
        """
        response = process_manager_pb2.ProcessManagerPrepareResponse()
        seen: set[bytes] = set()
        for page in request.trigger.pages:
            if page.WhichOneof("payload") != "event":
                continue
            entry = self._preparers.get(type_name_from_url(page.event.type_url))
            if entry is None:
                continue
            attribute, spec = entry
            covers = spec.func(self, unpack(page.event, spec.message_type)) or []
            for cover in covers:
                if not isinstance(cover, types_pb2.Cover):
                    raise TypeError(
                        f"{type(self).__name__}.{attribute}() must return Covers, got {type(cover).__name__}"
                    )
                key = cover.SerializeToString(deterministic=True)
                if key not in seen:
                    seen.add(key)
                    response.destinations.append(cover)
        return response

    def _process_cover(self, correlation_id: str) -> types_pb2.Cover:
        cover = types_pb2.Cover()
        cover.CopyFrom(self._history.cover)
        if not cover.HasField("root"):
            cover.domain = self.domain
            cover.root.CopyFrom(uuid_to_proto(correlation_root(correlation_id)))
            cover.correlation_id = correlation_id
        return cover

    def handle_request(
        self, request: process_manager_pb2.ProcessManagerHandleRequest
    ) -> process_manager_pb2.ProcessManagerHandleResponse:
        """Run the trigger's pages on this instance (already bound to ``process_state``).

        Raises:
            InvalidArgumentError: a trigger from a domain not listened to, or undecodable payloads.
            TypeError: a handler returned an unsupported value.
        """
        trigger = request.trigger
        response = process_manager_pb2.ProcessManagerHandleResponse()
        correlation_id = trigger.cover.correlation_id
        if not correlation_id:
            _log.warning(
                "pm_trigger_without_correlation_id", component=self.name, domain=trigger.cover.domain
            )
            return response
        domain = trigger.cover.domain
        if domain not in self._input_domains and domain != self.domain:
            raise InvalidArgumentError(
                f"process manager {self.name!r} listens to {list(self._input_domains)}, not to {domain!r}"
            )
        self._active_cover = self._process_cover(correlation_id)
        process_root = root_of(self._active_cover)
        sequences = MappingProxyType(dict(request.destination_sequences))
        out = ReactionOutput()
        handled_rejection = False
        for page in trigger.pages:
            if page.WhichOneof("payload") != "event":
                continue
            name = type_name_from_url(page.event.type_url)
            if name == NOTIFICATION_TYPE:
                found = self._find_rejection_handler(unpack(page.event, types_pb2.Notification))
                if found is None:
                    continue
                spec, ctx = found
                handled_rejection = True
                self._run_rejected(spec, (ctx,), {}, out)
                continue
            entry2 = self._event_handlers.get((domain, name))
            if entry2 is None:
                continue
            attribute, spec = entry2
            event = unpack(page.event, spec.message_type)
            self.state  # noqa: B018 - build state before the handler reads it
            if spec.takes_context:
                context = ProcessManagerContext(
                    source=trigger,
                    page=page,
                    component=self.name,
                    destination_sequences=sequences,
                    output_domain=self.output_domain,
                    process_root=process_root,
                )
                result = spec.func(self, event, context)
            else:
                result = spec.func(self, event)
            split_reactions(type(self).__name__, attribute, result, out)
        if self._new_pages or handled_rejection:
            response.process_events.CopyFrom(self.event_book())
        response.commands.extend(out.commands)
        response.facts.extend(out.facts)
        return response

    def _find_rejection_handler(
        self, notification: types_pb2.Notification
    ) -> tuple[HandlerSpec, CompensationContext] | None:
        ctx = CompensationContext.from_notification(notification)
        entry = find_rejection_handler(self._rejection_handlers, ctx.target_domain, ctx.rejected_command_type)
        if entry is None:
            return None
        return entry[1], ctx
