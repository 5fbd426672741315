"""``StateRouter``: fold an event history into state with registered functions (function style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from angzarr_client.errors import DecodeError, StateRebuildError
from angzarr_client.handlers.type_table import TypeTable
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import unpack

__all__ = ["StateRouter"]

S = TypeVar("S")


class StateRouter(Generic[S]):
    """Rebuild state from an ``EventBook``: ``StateRouter(PlayerState).on(PlayerRegistered, fn)``.

    ``fn(state, event)`` mutates ``state``. An event registered by class is decoded into that
    class; one registered by name is decoded when its class is known to the default protobuf
    pool, else passed as the ``Any``.
    """

    def __init__(self, factory: Callable[[], S]) -> None:
        if not callable(factory):
            raise TypeError(f"StateRouter needs a state factory (a class or function), got {factory!r}")
        self._factory = factory
        self._appliers: TypeTable[Callable[[S, Any], None]] = TypeTable("event")
        self._snapshot_loader: Callable[[AnyMessage], S] | None = None

    def on(self, event: type[Message] | str, fn: Callable[[S, Any], None]) -> StateRouter[S]:
        """Register an applier; returns the router.

        Raises:
            ValueError: the event is already registered.
            TypeError: ``fn`` is not callable.
        """
        if not callable(fn):
            raise TypeError(f"applier for {event!r} must be callable, got {fn!r}")
        self._appliers.add(event, fn)
        return self

    def with_snapshot(self, loader: Callable[[AnyMessage], S]) -> StateRouter[S]:
        """Set how a snapshot's ``Any`` becomes state; returns the router."""
        if not callable(loader):
            raise TypeError(f"snapshot loader must be callable, got {loader!r}")
        self._snapshot_loader = loader
        return self

    def new_state(self) -> S:
        return self._factory()

    def event_types(self) -> list[str]:
        return self._appliers.names()

    def apply(self, state: S, event: AnyMessage) -> None:
        """Apply one packed event; unknown types are skipped.

        Raises:
            DecodeError: a known type with corrupt bytes.
        """
        found = self._appliers.lookup(event.type_url)
        if found is None:
            return
        fn, cls = found
        fn(state, unpack(event, cls) if cls is not None else event)

    def _restore(self, snapshot: AnyMessage) -> S:
        if self._snapshot_loader is not None:
            return self._snapshot_loader(snapshot)
        state = self._factory()
        if not isinstance(state, Message):
            raise DecodeError(
                "a snapshot needs a protobuf state or a with_snapshot() loader", type_url=snapshot.type_url
            )
        return unpack(snapshot, type(state))

    def rebuild(self, book: types_pb2.EventBook | None = None) -> S:
        """State from the snapshot (if any) and the pages after it. The book is not modified.

        Raises:
            StateRebuildError: the snapshot or a page could not be applied (names sequence and type).
        """
        if book is None:
            return self._factory()
        floor: int | None = None
        if book.HasField("snapshot"):
            floor = book.snapshot.sequence
            try:
                state = self._restore(book.snapshot.state)
            except Exception as exc:
                raise StateRebuildError(
                    f"cannot restore snapshot at sequence {floor} ({book.snapshot.state.type_url})", cause=exc
                ) from exc
        else:
            state = self._factory()
        for page in book.pages:
            sequence = page.header.sequence
            if floor is not None and sequence <= floor:
                continue
            try:
                if page.WhichOneof("payload") == "external":
                    raise StateRebuildError("external payloads are not supported; resolve them first")
                if page.HasField("event"):
                    self.apply(state, page.event)
            except Exception as exc:
                raise StateRebuildError(
                    f"cannot apply event at sequence {sequence} ({page.event.type_url})", cause=exc
                ) from exc
        return state

    __call__ = rebuild
