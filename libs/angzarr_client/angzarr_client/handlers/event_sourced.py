"""State that is rebuilt from an event history: shared by ``CommandHandler`` and ``ProcessManager``.

An instance holds a private copy of its history, builds state lazily (snapshot, then the pages
after it), applies and records new events through ``emit``, and attaches a snapshot when one is
due. Subclasses add the dispatch of commands (aggregates) or triggers (process managers).
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from angzarr_client.books import next_sequence as history_next_sequence
from angzarr_client.books import root_of
from angzarr_client.errors import DecodeError, StateRebuildError
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.tables import collect_specs, key_table
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.timestamps import now
from angzarr_client.typeurl import pack, type_name_from_url, unpack

__all__ = ["EventSourced", "State"]

State = TypeVar("State")

# Framework envelopes that are never events themselves.
_ENVELOPES = (types_pb2.EventBook, types_pb2.CommandBook, types_pb2.EventPage, types_pb2.CommandPage)


class EventSourced(Generic[State]):
    """Base for handlers whose state is a fold over events (see spec §9).

    Class attributes: ``snapshot_every`` (``None`` = never). Hooks a subclass may override:
    ``_create_empty_state``, ``_apply_event``, ``_restore_snapshot``, ``_snapshot_state``.
    """

    snapshot_every: ClassVar[int | None] = None

    # Filled in at class creation.
    _state_type: ClassVar[Any] = None
    _specs: ClassVar[dict[str, HandlerSpec]] = {}
    _appliers: ClassVar[dict[str, tuple[str, HandlerSpec]]] = {}
    _fact_handlers: ClassVar[dict[str, tuple[str, HandlerSpec]]] = {}

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._specs = collect_specs(cls)
        cls._state_type = _resolve_state_type(cls)
        cls._appliers = key_table(
            cls, ((s.type_name, n, s) for n, s in cls._specs.items() if s.kind == "applies"), "event"
        )
        cls._fact_handlers = key_table(
            cls, ((s.type_name, n, s) for n, s in cls._specs.items() if s.kind == "handles_fact"), "fact"
        )
        if not abstract:
            cls._check_state_hooks()

    @classmethod
    def _check_state_hooks(cls) -> None:
        base = EventSourced
        if not cls._appliers and not cls._fact_handlers and cls._apply_event is base._apply_event:
            raise TypeError(
                f"{cls.__name__}: needs at least one @applies or @handles_fact method, or an _apply_event override"
            )
        state_is_proto = isinstance(cls._state_type, type) and issubclass(cls._state_type, Message)
        if cls._create_empty_state is base._create_empty_state and not isinstance(cls._state_type, type):
            raise TypeError(
                f"{cls.__name__}: cannot resolve its State type; subclass {base.__name__}[StateClass] "
                f"or override _create_empty_state()"
            )
        every = cls.snapshot_every
        if every is not None:
            if isinstance(every, bool) or not isinstance(every, int) or every < 1:
                raise TypeError(
                    f"{cls.__name__}: snapshot_every must be a positive int or None, got {every!r}"
                )
            if not state_is_proto and cls._snapshot_state is base._snapshot_state:
                raise TypeError(
                    f"{cls.__name__}: snapshot_every needs a protobuf State (got {cls._state_type!r}) "
                    f"or a _snapshot_state() override returning a message"
                )

    # -- construction -----------------------------------------------------------------------------

    def __init__(self, event_book: types_pb2.EventBook | None = None) -> None:
        self._bind_history(event_book)

    def _bind_history(self, event_book: types_pb2.EventBook | None) -> None:
        """Reset every per-history slot to a private copy of ``event_book``.

        Raises:
            TypeError: ``event_book`` is not an ``EventBook`` (or ``None``).
        """
        if event_book is not None and not isinstance(event_book, types_pb2.EventBook):
            raise TypeError(
                f"{type(self).__name__} needs an angzarr.EventBook, got {type(event_book).__name__}"
            )
        history = types_pb2.EventBook()
        if event_book is not None:
            history.CopyFrom(event_book)
        self._history = history
        self._state: Any = None
        self._new_pages: list[types_pb2.EventPage] = []
        self._active_cover: types_pb2.Cover | None = None

    # -- state ------------------------------------------------------------------------------------

    def _create_empty_state(self) -> State:
        """A fresh empty state: ``State()`` by default."""
        return self._state_type()

    @property
    def state(self) -> State:
        """The current state, rebuilt from history on first access and then cached.

        Raises:
            StateRebuildError: the snapshot or an event of the history could not be applied.
        """
        if self._state is None:
            self._rebuild()
        return self._state

    @state.setter
    def state(self, value: State) -> None:
        self._state = value

    def _get_state(self) -> State:
        return self.state

    def _router_bind(self, state: Any) -> Any:
        """Swap the cached state slot for ``state``; return what it held (``None`` = not built)."""
        previous = self._state
        self._state = state
        return previous

    def _rebuild(self) -> None:
        history = self._history
        floor: int | None = None
        try:
            if history.HasField("snapshot"):
                floor = history.snapshot.sequence
                state = self._restore_snapshot(history.snapshot.state)
            else:
                state = self._create_empty_state()
        except Exception as exc:
            self._state = None
            raise StateRebuildError(
                f"{type(self).__name__}: cannot restore snapshot at sequence {floor}", cause=exc
            ) from exc
        # During rebuild the slot holds the state being built, so fact methods work as appliers.
        self._state = state
        for page in history.pages:
            sequence = page.header.sequence
            if floor is not None and sequence <= floor:
                continue
            try:
                if page.WhichOneof("payload") == "external":
                    raise StateRebuildError(
                        f"external payload at sequence {sequence} is not supported; resolve it first"
                    )
                if page.HasField("event"):
                    self._apply_event(state, page.event)
            except Exception as exc:
                self._state = None
                raise StateRebuildError(
                    f"{type(self).__name__}: cannot apply event at sequence {sequence} ({page.event.type_url})",
                    cause=exc,
                ) from exc

    def _apply_event(self, state: Any, event: AnyMessage) -> None:
        """Apply one packed event to ``state`` via its ``@applies`` or ``@handles_fact`` method.

        Unknown types are skipped.

        Raises:
            DecodeError: the payload's bytes are corrupt.
        """
        name = type_name_from_url(event.type_url)
        entry = self._appliers.get(name)
        if entry is not None:
            spec = entry[1]
            getattr(self, entry[0])(state, unpack(event, spec.message_type))
            return
        entry = self._fact_handlers.get(name)
        if entry is not None:
            spec = entry[1]
            saved = self._router_bind(state)
            try:
                spec.func(self, unpack(event, spec.message_type))
            finally:
                self._state = saved

    def build_state(self, state: State, events: Iterable[AnyMessage | types_pb2.EventPage]) -> State:
        """Apply packed events (``Any`` or pages) to ``state`` in order and return it.

        Raises:
            DecodeError: an event of a known type holds corrupt bytes.
        """
        for item in events:
            packed = item.event if isinstance(item, types_pb2.EventPage) else item
            self._apply_event(state, packed)
        return state

    def _restore_snapshot(self, snapshot_state: AnyMessage) -> State:
        """State from a snapshot: by default the ``Any`` unpacked into the protobuf ``State``.

        Raises:
            DecodeError: the state type is not a protobuf message or does not match the payload.
        """
        cls = self._state_type
        if not (isinstance(cls, type) and issubclass(cls, Message)):
            raise DecodeError(
                f"{type(self).__name__} cannot restore a snapshot into {cls!r}; override _restore_snapshot()",
                type_url=snapshot_state.type_url,
            )
        return unpack(snapshot_state, cls)

    def _snapshot_state(self) -> Message:
        """The state to store in a snapshot: ``self.state`` by default."""
        return self.state  # type: ignore[return-value]

    # -- identity and history ---------------------------------------------------------------------

    @property
    def cover(self) -> types_pb2.Cover:
        """The cover of the page being handled (through a router), else the history's cover."""
        return self._active_cover if self._active_cover is not None else self._history.cover

    @property
    def correlation_id(self) -> str:
        return self.cover.correlation_id

    @property
    def root(self) -> uuid.UUID | None:
        return root_of(self.cover)

    @property
    def exists(self) -> bool:
        """The history has a page or snapshot, or this instance has emitted an event."""
        return bool(self._history.pages) or self._history.HasField("snapshot") or bool(self._new_pages)

    @property
    def next_sequence(self) -> int:
        """The sequence the next new event gets."""
        return history_next_sequence(self._history) + len(self._new_pages)

    @property
    def new_events(self) -> list[types_pb2.EventPage]:
        """Copies of the pages recorded so far by this instance."""
        out = []
        for page in self._new_pages:
            copy = types_pb2.EventPage()
            copy.CopyFrom(page)
            out.append(copy)
        return out

    # -- emitting ---------------------------------------------------------------------------------

    def emit(self, event: Message) -> None:
        """Apply ``event`` to the state and record it as a new event.

        Raises:
            TypeError: ``event`` is not an event message.
            StateRebuildError: the state could not be built from history first.
        """
        _require_event(type(self), event, "emit()")
        state = self.state
        packed = pack(event)
        self._apply_event(state, packed)
        self._record(packed)

    _emit = emit

    def _record(self, packed: AnyMessage) -> None:
        page = types_pb2.EventPage()
        page.header.sequence = self.next_sequence
        page.created_at.CopyFrom(now())
        page.event.CopyFrom(packed)
        self._new_pages.append(page)

    def _snapshot_base(self) -> int:
        if self._history.HasField("snapshot"):
            return self._history.snapshot.sequence + 1
        return 0

    def _due_snapshot(self) -> types_pb2.Snapshot | None:
        every = self.snapshot_every
        if not every or not self._new_pages:
            return None
        last_new = self._new_pages[-1].header.sequence
        if last_new + 1 - self._snapshot_base() < every:
            return None
        return types_pb2.Snapshot(sequence=last_new, state=pack(self._snapshot_state()))

    def _emit_returned(self, events: Iterable[Message], recorded_before: int) -> None:
        """Emit a handler's returned events unless it called ``emit`` itself: what it emitted wins."""
        if len(self._new_pages) == recorded_before:
            for event in events:
                self.emit(event)

    # -- results ----------------------------------------------------------------------------------

    def event_book(self) -> types_pb2.EventBook:
        """The new events under ``cover`` (the handled page's, else the history's), plus a snapshot when due."""
        book = types_pb2.EventBook()
        book.cover.CopyFrom(self.cover)
        book.pages.extend(self._new_pages)
        snapshot = self._due_snapshot()
        if snapshot is not None:
            book.snapshot.CopyFrom(snapshot)
        return book

    # -- attribute fallback -----------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called for names normal lookup did not find: forward public names to the state.
        if name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        if hasattr(type(self), name):
            # A property of the class itself raised AttributeError; forwarding would recurse.
            raise AttributeError(
                f"{type(self).__name__}.{name} is unavailable (did __init__ call super().__init__()?)"
            )
        state = self.state
        try:
            return getattr(state, name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}, and neither does its state "
                f"{type(state).__name__}"
            ) from None


def _require_event(cls: type, event: Any, where: str) -> None:
    if not isinstance(event, Message) or isinstance(event, _ENVELOPES):
        raise TypeError(f"{cls.__name__}.{where}: expected an event message, got {type(event).__name__}")


def events_from_return(cls: type, method: str, value: Any) -> list[Message]:
    """Normalize a handler's return value into a list of events.

    Raises:
        TypeError: anything other than ``None``, an event, or a tuple or list of events.
    """
    if value is None:
        return []
    if isinstance(value, tuple | list):
        for item in value:
            _require_event(cls, item, f"{method}() returned a sequence containing")
        return list(value)
    if isinstance(value, Message) and not isinstance(value, _ENVELOPES):
        return [value]
    raise TypeError(
        f"{cls.__name__}.{method}() returned {type(value).__name__}; "
        f"return an event message, a tuple or list of events, or None"
    )


def _resolve_state_type(cls: type) -> Any:
    """The ``State`` argument given to the generic base, or ``None`` when unknown."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            if not (isinstance(origin, type) and issubclass(origin, EventSourced)):
                continue
            args = typing.get_args(base)
            if not args or isinstance(args[0], TypeVar):
                continue
            arg = args[0]
            if isinstance(arg, typing.ForwardRef | str):
                name = arg.__forward_arg__ if isinstance(arg, typing.ForwardRef) else arg
                module = __import__(klass.__module__, fromlist=["_"])
                arg = getattr(module, name, None)
            return arg
    return None
