"""``CommandHandler[State]`` (alias ``Aggregate``): the consistency boundary of one domain.

A subclass declares ``domain``, ``@handles`` command methods, ``@applies`` event methods, and
optionally ``@handles_fact`` and ``@rejected`` methods. It is plain domain code: construct it on
a history, call a handler method, inspect the returned event, ``state`` and ``new_events``.
Routers (``angzarr_client.router``) run it per request on a fresh instance.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from google.protobuf.any_pb2 import Any as AnyMessage

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.compensation import (
    NOTIFICATION_TYPE,
    CompensationContext,
    find_rejection_handler,
)
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.event_sourced import EventSourced, State, events_from_return
from angzarr_client.handlers.tables import key_table
from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2
from angzarr_client.typeurl import pack, type_name_from_url, unpack

__all__ = ["DOMAIN_PATTERN", "Aggregate", "CommandHandler", "is_valid_domain"]

DOMAIN_PATTERN = re.compile(r"[a-z_][a-z0-9_-]{0,63}")


def is_valid_domain(name: object) -> bool:
    """Whether ``name`` is a domain name: lower case, starts with a letter or ``_``, at most 64 chars."""
    return isinstance(name, str) and DOMAIN_PATTERN.fullmatch(name) is not None


RevocationResponse = command_handler_pb2.RevocationResponse


class CommandHandler(EventSourced[State], abstract=True):
    """Base class of an aggregate for one domain (spec §9).

    Class attributes: ``domain`` (required), ``snapshot_every`` (optional). Pass
    ``abstract=True`` in the class statement to skip the completeness checks for a shared base.

    Raises (at class creation):
        TypeError: a missing or invalid ``domain``, no way to apply events, an unresolvable state
            type, ``snapshot_every`` without protobuf state, a type that is both command and fact,
            or a decorator that does not belong on a command handler.
    """

    domain: ClassVar[str]

    _command_handlers: ClassVar[dict[str, tuple[str, HandlerSpec]]] = {}
    _rejection_handlers: ClassVar[dict[tuple[str, str], tuple[str, HandlerSpec]]] = {}

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(abstract=abstract, **kwargs)
        for name, spec in cls._specs.items():
            if spec.kind in ("prepares", "upcasts"):
                raise TypeError(f"{cls.__name__}.{name}: @{spec.kind} does not belong on a CommandHandler")
            if spec.kind == "handles" and spec.input_domain is not None:
                raise TypeError(
                    f"{cls.__name__}.{name}: input_domain is only for event handlers, not commands"
                )
            if spec.kind == "handles" and spec.context_required:
                raise TypeError(
                    f"{cls.__name__}.{name}: a command handler takes (self, cmd); read the cover from self.cover"
                )
        cls._command_handlers = key_table(
            cls, ((s.type_name, n, s) for n, s in cls._specs.items() if s.kind == "handles"), "command"
        )
        cls._rejection_handlers = key_table(
            cls,
            (((s.rejected_domain, s.type_name), n, s) for n, s in cls._specs.items() if s.kind == "rejected"),
            "rejected command",
        )
        both = set(cls._command_handlers) & set(cls._fact_handlers)
        if both:
            raise TypeError(f"{cls.__name__}: {sorted(both)[0]} cannot be both a command and a fact")
        if abstract:
            return
        domain = getattr(cls, "domain", None)
        if not is_valid_domain(domain):
            raise TypeError(
                f"{cls.__name__}: class attribute domain must match {DOMAIN_PATTERN.pattern}, got {domain!r}"
            )

    # -- invocation of decorated methods ----------------------------------------------------------

    def _invoke_decorated(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec.kind == "handles":
            self._message_argument(spec, args, kwargs)
            if _router_mode(spec, args, kwargs):
                # The older function-router calling convention (cmd, state, seq): the caller owns
                # the returned event, so nothing is recorded here.
                return spec.func(self, *args, **kwargs)
            return self._run_and_record(spec, args, kwargs)
        if spec.kind == "handles_fact":
            return self._run_fact(spec, args, kwargs)
        if spec.kind == "rejected":
            return self._run_and_record(spec, args, kwargs, allow_revocation=True)
        return spec.func(
            self, *args, **kwargs
        )  # pragma: no cover - other kinds are rejected at class creation

    def _message_argument(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        message = args[0] if args else kwargs.get(spec.message_param)
        if not isinstance(message, spec.message_type):
            raise TypeError(
                f"{type(self).__name__}.{spec.func.__name__}() expects {spec.type_name}, got {type(message).__name__}"
            )
        return message

    def _run_and_record(
        self,
        spec: HandlerSpec,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        allow_revocation: bool = False,
    ) -> Any:
        self.state  # noqa: B018 - build state before the handler reads it
        recorded_before = len(self._new_pages)
        result = spec.func(self, *args, **kwargs)
        if allow_revocation and isinstance(result, RevocationResponse):
            return result
        events = events_from_return(type(self), spec.func.__name__, result)
        self._emit_returned(events, recorded_before)
        return result

    def _run_fact(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        fact = self._message_argument(spec, args, kwargs)
        self.state  # noqa: B018 - build state before the handler mutates it
        result = spec.func(self, *args, **kwargs)
        if result is not None:
            raise TypeError(
                f"{type(self).__name__}.{spec.func.__name__}() is a fact handler and must return None"
            )
        # The method already updated the state: record without applying again.
        self._record(pack(fact))
        return None

    # -- dispatch by payload ----------------------------------------------------------------------

    def dispatch(self, command: AnyMessage) -> Any:
        """Decode a packed command (or fact, or rejection notice) and call its handler.

        Returns the handler's return value; for a rejection notice without a matching
        ``@rejected`` method, the ``RevocationResponse`` asking the coordinator to dead-letter it.

        Raises:
            InvalidArgumentError: no handler for the type, or an undecodable payload.
            CommandRejectedError: the handler rejected the command.
        """
        if not isinstance(command, AnyMessage):
            raise InvalidArgumentError(
                f"dispatch() needs a google.protobuf.Any, got {type(command).__name__}"
            )
        name = type_name_from_url(command.type_url)
        if name == NOTIFICATION_TYPE:
            return self._handle_notification(command)
        entry = self._command_handlers.get(name) or self._fact_handlers.get(name)
        if entry is None:
            raise InvalidArgumentError(
                f"{type(self).__name__} (domain {self.domain!r}) has no handler for {command.type_url!r}"
            )
        attribute, spec = entry
        return getattr(self, attribute)(unpack(command, spec.message_type))

    def _handle_notification(self, payload: AnyMessage) -> Any:
        notification = unpack(payload, types_pb2.Notification)
        ctx = CompensationContext.from_notification(notification)
        entry = find_rejection_handler(self._rejection_handlers, ctx.target_domain, ctx.rejected_command_type)
        if entry is None:
            return RevocationResponse(
                emit_system_revocation=True,
                reason=(
                    f"{type(self).__name__} has no compensation for "
                    f"{ctx.target_domain}/{ctx.rejected_command_type}"
                ),
            )
        return getattr(self, entry[0])(ctx)

    # -- results ----------------------------------------------------------------------------------

    @classmethod
    def command_types(cls) -> list[str]:
        """Full names of the commands (and facts) this class handles."""
        return sorted(set(cls._command_handlers) | set(cls._fact_handlers))

    @classmethod
    def event_types(cls) -> list[str]:
        """Full names of the events this class applies."""
        return sorted(set(cls._appliers) | set(cls._fact_handlers))


Aggregate = CommandHandler


def _router_mode(spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a handler was called with explicit values beyond the command (``state``, ``seq``)."""
    extra_positional = any(a is not None for a in args[1:])
    extra_keywords = any(v is not None for k, v in kwargs.items() if k != spec.message_param)
    return extra_positional or extra_keywords
