"""``Projector``: turns committed events into a read model (or any side effect).

A projector is one long-lived instance. Delivery is at-least-once, so a projector keeps the last
applied sequence per source aggregate ``(domain, root)`` with its read model, in the same
transaction; the coordinator owns delivery checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from google.protobuf.message import Message

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.listeners import declared_input_domains, event_table, require_name
from angzarr_client.handlers.tables import collect_only
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import pack, type_name_from_url, unpack

__all__ = ["Projector", "ProjectorContext"]


@dataclass(frozen=True)
class ProjectorContext:
    """The event being projected. With ``speculative`` true, handlers must skip side effects."""

    book: types_pb2.EventBook
    page: types_pb2.EventPage
    speculative: bool = False

    @property
    def cover(self) -> types_pb2.Cover:
        return self.book.cover

    @property
    def sequence(self) -> int:
        return self.page.header.sequence

    @classmethod
    def for_test(cls, *, domain: str = "test", speculative: bool = False) -> ProjectorContext:
        book = types_pb2.EventBook()
        book.cover.domain = domain
        page = book.pages.add()
        return cls(book=book, page=page, speculative=speculative)


class Projector:
    """Base class of a projector (spec §11).

    Class attributes: ``name``, plus ``input_domain`` or ``input_domains`` unless every handler
    names its own. Handlers are ``@handles(Event[, input_domain=...])`` methods
    ``(self, event[, ctx])`` returning ``None`` or one message (the projection).

    Raises (at class creation):
        TypeError: missing name, unresolvable handler domains, duplicates, or foreign decorators.
    """

    name: ClassVar[str]
    input_domain: ClassVar[str | None] = None
    input_domains: ClassVar[list[str] | tuple[str, ...] | None] = None

    _event_handlers: ClassVar[dict[tuple[str, str], tuple[str, HandlerSpec]]] = {}
    _input_domains: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = collect_only(cls, "handles", "a Projector")
        domains = declared_input_domains(cls)
        cls._event_handlers = event_table(cls, specs, domains, require_domains=False)
        cls._input_domains = tuple(dict.fromkeys([*domains, *(d for d, _ in cls._event_handlers)]))
        if abstract:
            return
        require_name(cls, "projector")
        if not cls._input_domains:
            raise TypeError(f"{cls.__name__}: a projector needs input_domain(s) or handlers that name theirs")

    def _invoke_decorated(self, spec: HandlerSpec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if spec.takes_context and len(args) < 2 and not ({"ctx", "context"} & set(kwargs)):
            args = (*args, ProjectorContext.for_test())
        result = spec.func(self, *args, **kwargs)
        _check_projection(type(self), spec.func.__name__, result)
        return result

    @classmethod
    def input_domain_list(cls) -> tuple[str, ...]:
        return cls._input_domains

    @classmethod
    def handled_types(cls) -> list[str]:
        return sorted({name for _, name in cls._event_handlers})

    def project(self, book: types_pb2.EventBook, *, speculative: bool = False) -> types_pb2.Projection:
        """Run the matching pages in order; the last non-``None`` result is the projection.

        Raises:
            InvalidArgumentError: not an ``EventBook``, a domain not listened to, or an undecodable event.
            TypeError: a handler returned something other than ``None`` or one message.
        """
        if not isinstance(book, types_pb2.EventBook):
            raise InvalidArgumentError(f"expected an angzarr.EventBook, got {type(book).__name__}")
        domain = book.cover.domain
        if domain not in self._input_domains:
            raise InvalidArgumentError(
                f"projector {self.name!r} listens to {list(self._input_domains)}, not to {domain!r}"
            )
        projection = types_pb2.Projection(projector=self.name)
        projection.cover.CopyFrom(book.cover)
        if book.pages:
            projection.sequence = book.pages[-1].header.sequence
        for page in book.pages:
            if page.WhichOneof("payload") != "event":
                continue
            entry = self._event_handlers.get((domain, type_name_from_url(page.event.type_url)))
            if entry is None:
                continue
            attribute, spec = entry
            event = unpack(page.event, spec.message_type)
            if spec.takes_context:
                result = spec.func(
                    self, event, ProjectorContext(book=book, page=page, speculative=speculative)
                )
            else:
                result = spec.func(self, event)
            _check_projection(type(self), attribute, result)
            if result is not None:
                projection.projection.CopyFrom(pack(result))
        return projection


def _check_projection(cls: type, method: str, result: Any) -> None:
    if result is not None and not isinstance(result, Message):
        raise TypeError(
            f"{cls.__name__}.{method}() returned {type(result).__name__}; return one message or None"
        )
