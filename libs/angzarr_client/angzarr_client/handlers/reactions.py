"""What sagas and process managers work with: their context, and the commands and facts they return."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from angzarr_client.books import root_of
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.ids import to_uuid, uuid_to_proto
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.timestamps import now
from angzarr_client.typeurl import pack

__all__ = ["ReactionOutput", "SagaContext", "split_reactions"]


@dataclass(frozen=True)
class SagaContext:
    """Read-only view of the event a saga (or process manager) is reacting to.

    ``destination_sequences`` maps ``D`` and ``D/<root hex>`` to the destination's next sequence.
    """

    source: types_pb2.EventBook
    page: types_pb2.EventPage
    component: str = ""
    destination_sequences: Mapping[str, int] = field(default_factory=dict)
    output_domain: str | None = None

    @property
    def cover(self) -> types_pb2.Cover:
        return self.source.cover

    @property
    def root(self) -> uuid.UUID | None:
        return root_of(self.source)

    @property
    def sequence(self) -> int:
        return self.page.header.sequence

    @property
    def correlation_id(self) -> str:
        return self.source.cover.correlation_id

    def sequence_for(self, domain: str, root: Any = None) -> int | None:
        """The destination's next sequence: by ``D/<root hex>``, then by ``D``, else ``None``."""
        if root is not None:
            found = self.destination_sequences.get(f"{domain}/{to_uuid(root).hex}")
            if found is not None:
                return found
        return self.destination_sequences.get(domain)

    def _address(self, cover: types_pb2.Cover, domain: str | None, root: Any, what: str) -> None:
        """Fill ``cover`` for a command or fact: domain (default ``output_domain``), root, correlation id.

        Raises:
            InvalidArgumentError: no domain from either source, no root or a bad one.
        """
        target = domain or self.output_domain
        if not target:
            raise InvalidArgumentError(
                f"{what} needs a domain: pass domain=... or set output_domain on the class"
            )
        if root is None:
            raise InvalidArgumentError(f"{what} needs root=...")
        cover.domain = target
        cover.root.CopyFrom(uuid_to_proto(root))
        cover.correlation_id = self.correlation_id

    def command(
        self,
        msg: Message,
        *,
        root: Any,
        domain: str | None = None,
        merge_strategy: int = types_pb2.MERGE_COMMUTATIVE,
    ) -> types_pb2.CommandBook:
        """A one-page ``CommandBook`` to ``domain`` (default ``output_domain``) carrying provenance.

        The page's ``angzarr_deferred`` names the source cover and sequence; the coordinator
        stamps the real sequence and deduplicates by it.

        Raises:
            InvalidArgumentError: no domain from either source, a bad root, or a non-message.
        """
        book = types_pb2.CommandBook()
        self._address(book.cover, domain, root, "ctx.command()")
        page = book.pages.add()
        page.header.angzarr_deferred.source.CopyFrom(self.source.cover)
        page.header.angzarr_deferred.source_seq = self.sequence
        page.merge_strategy = merge_strategy
        page.command.CopyFrom(pack(msg))
        return book

    def fact(
        self, event: Message, *, root: Any, domain: str | None = None, external_id: str | None = None
    ) -> types_pb2.EventBook:
        """A one-page ``EventBook`` (a fact) for ``domain`` (default ``output_domain``).

        An empty ``external_id`` is derived by the coordinator.

        Raises:
            InvalidArgumentError: no domain from either source, a bad root, or a non-message.
        """
        book = types_pb2.EventBook()
        self._address(book.cover, domain, root, "ctx.fact()")
        page = book.pages.add()
        page.header.external_deferred.external_id = external_id or ""
        page.created_at.CopyFrom(now())
        page.event.CopyFrom(pack(event))
        return book

    @classmethod
    def for_test(
        cls,
        *,
        domain: str = "test",
        output_domain: str | None = None,
        component: str = "",
        correlation_id: str | None = None,
        **extra: Any,
    ) -> SagaContext:
        """A context for calling a handler directly: fresh root and correlation id, sequence 0."""
        source = types_pb2.EventBook()
        source.cover.domain = domain
        source.cover.root.CopyFrom(uuid_to_proto(uuid.uuid4()))
        source.cover.correlation_id = correlation_id if correlation_id is not None else str(uuid.uuid4())
        page = source.pages.add()
        page.header.sequence = 0
        return cls(source=source, page=page, component=component, output_domain=output_domain, **extra)


@dataclass
class ReactionOutput:
    """Commands and facts collected from reaction handlers, in the order they were returned."""

    commands: list[types_pb2.CommandBook] = field(default_factory=list)
    facts: list[types_pb2.EventBook] = field(default_factory=list)


def split_reactions(
    owner: str, method: str, value: Any, into: ReactionOutput | None = None
) -> ReactionOutput:
    """Sort a saga/PM handler's return value into commands and facts.

    Raises:
        TypeError: anything but ``None``, a ``CommandBook``, an ``EventBook`` or an iterable of
            these; a bare message gets a hint to use ``ctx.command(...)``.
    """
    out = into if into is not None else ReactionOutput()
    items: Iterable[Any]
    if value is None:
        return out
    if isinstance(value, Message | str | bytes):
        items = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    for item in items:
        if isinstance(item, types_pb2.CommandBook):
            out.commands.append(item)
        elif isinstance(item, types_pb2.EventBook):
            out.facts.append(item)
        elif isinstance(item, Message):
            raise TypeError(
                f"{owner}.{method}() returned a bare {type(item).DESCRIPTOR.full_name} message; "
                f"wrap it with ctx.command(msg, root=...) or ctx.fact(event, root=...)"
            )
        elif item is not None:
            raise TypeError(
                f"{owner}.{method}() returned {type(item).__name__}; return CommandBooks, EventBooks or None"
            )
    return out
