"""``Saga``: reacts to events of one or more domains with commands (or facts) for others.

Sagas are stateless and deterministic: the coordinator may call one twice for the same event to
fix destination sequences, and one instance serves every thread.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.listeners import declared_input_domains, event_table, require_name
from angzarr_client.handlers.reactions import ReactionOutput, SagaContext, split_reactions
from angzarr_client.handlers.tables import collect_only
from angzarr_client.proto.angzarr import saga_pb2
from angzarr_client.typeurl import type_name_from_url, unpack

__all__ = ["Saga"]


class Saga:
    """Base class of a saga (spec §11).

    Class attributes: ``name`` and ``input_domain`` or ``input_domains`` (required);
    ``output_domain`` (optional default target of ``ctx.command``/``ctx.fact``). Handlers are
    ``@handles(Event[, input_domain=...])`` methods ``(self, event[, ctx])``.

    Raises (at class creation):
        TypeError: missing name or input domains, a handler without a resolvable input domain,
            a duplicate handler, or a decorator that does not belong on a saga.
    """

    name: ClassVar[str]
    input_domain: ClassVar[str | None] = None
    input_domains: ClassVar[list[str] | tuple[str, ...] | None] = None
    output_domain: ClassVar[str | None] = None

    _event_handlers: ClassVar[dict[tuple[str, str], tuple[str, HandlerSpec]]] = {}
    _input_domains: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = collect_only(cls, "handles", "a Saga")
        domains = declared_input_domains(cls)
        cls._event_handlers = event_table(cls, specs, domains, require_domains=True)
        cls._input_domains = domains or tuple(dict.fromkeys(d for d, _ in cls._event_handlers))
        if abstract:
            return
        require_name(cls, "saga")
        if not cls._input_domains:
            raise TypeError(f"{cls.__name__}: a saga needs input_domain or input_domains")

    # -- direct calls (unit tests) ----------------------------------------------------------------

    def _invoke_decorated(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec.takes_context and len(args) < 2 and "ctx" not in kwargs and "context" not in kwargs:
            args = (*args, SagaContext.for_test(output_domain=self.output_domain, component=self.name))
        result = spec.func(self, *args, **kwargs)
        split_reactions(type(self).__name__, spec.func.__name__, result)
        return result

    # -- requests ---------------------------------------------------------------------------------

    @classmethod
    def input_domain_list(cls) -> tuple[str, ...]:
        return cls._input_domains

    @classmethod
    def handled_types(cls) -> list[str]:
        return sorted({name for _, name in cls._event_handlers})

    def handle_request(self, request: saga_pb2.SagaHandleRequest) -> saga_pb2.SagaResponse:
        """Run each page of ``request.source``, in order, through its handler.

        Raises:
            InvalidArgumentError: the source's domain is not listened to, or an event is undecodable.
            TypeError: a handler returned a bare message or another unsupported value.
        """
        if not isinstance(request, saga_pb2.SagaHandleRequest):
            raise InvalidArgumentError(f"expected an angzarr.SagaHandleRequest, got {type(request).__name__}")
        source = request.source
        domain = source.cover.domain
        if domain not in self._input_domains:
            raise InvalidArgumentError(
                f"saga {self.name!r} listens to {list(self._input_domains)}, not to {domain!r}"
            )
        sequences = MappingProxyType(dict(request.destination_sequences))
        out = ReactionOutput()
        for page in source.pages:
            if page.WhichOneof("payload") != "event":
                continue
            entry = self._event_handlers.get((domain, type_name_from_url(page.event.type_url)))
            if entry is None:
                continue
            attribute, spec = entry
            event = unpack(page.event, spec.message_type)
            if spec.takes_context:
                ctx = SagaContext(
                    source=source,
                    page=page,
                    component=self.name,
                    destination_sequences=sequences,
                    output_domain=self.output_domain,
                )
                result = spec.func(self, event, ctx)
            else:
                result = spec.func(self, event)
            split_reactions(type(self).__name__, attribute, result, out)
        return saga_pb2.SagaResponse(commands=out.commands, events=out.facts)
