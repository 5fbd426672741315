"""Type URLs and ``google.protobuf.Any`` payloads: the one rule for matching message types (R1).

A type URL is written ``type.googleapis.com/<full.name>`` and read as the text after the last ``/``,
whatever the prefix. :func:`type_matches` decides every match in the library:

* a message **class** (or instance, or descriptor) matches its exact full name;
* a **string** matches a full name that equals it or ends in ``"." + string`` (case-sensitive), so
  ``"v1.OrderCreated"`` matches ``orders.v1.OrderCreated`` and ``"Int32Value"`` does not match
  ``google.protobuf.UInt32Value``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any as _Any
from typing import TypeVar

from google.protobuf import any_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError as _ProtoDecodeError
from google.protobuf.message import Message

from .errors import DecodeError, InvalidArgumentError

__all__ = [
    "TYPE_URL_PREFIX",
    "full_name",
    "type_url_for",
    "type_name_from_url",
    "type_matches",
    "pack",
    "unpack",
    "try_unpack",
    "decode_event",
    "decode_events",
    "events_from_response",
]

TYPE_URL_PREFIX = "type.googleapis.com/"

M = TypeVar("M", bound=Message)


def full_name(x: type[Message] | Message | Descriptor | str) -> str:
    """The full protobuf name of a message class, instance or descriptor.

    A string is taken as a name or a type URL (the text after the last ``/`` is returned).

    Raises:
        InvalidArgumentError: ``x`` is none of these, or an empty string.
    """
    if isinstance(x, str):
        name = type_name_from_url(x)
        if not name:
            raise InvalidArgumentError(f"empty type name in {x!r}")
        return name
    if isinstance(x, Descriptor):
        return x.full_name
    descriptor = getattr(x, "DESCRIPTOR", None)
    if isinstance(descriptor, Descriptor) and (isinstance(x, Message) or _is_message_class(x)):
        return descriptor.full_name
    raise InvalidArgumentError(f"expected a protobuf message class, instance or name, got {x!r}")


def type_url_for(x: type[Message] | Message | Descriptor | str) -> str:
    """``type.googleapis.com/<full name>`` for a message class, instance, descriptor or full name."""
    return TYPE_URL_PREFIX + full_name(x)


def type_name_from_url(url: str) -> str:
    """The text after the last ``/`` of a type URL (the whole string when there is none)."""
    if not isinstance(url, str):
        raise InvalidArgumentError(f"type URL must be a string, got {type(url).__name__}")
    return url.rsplit("/", 1)[-1]


def type_matches(url: str | any_pb2.Any, pattern: type[Message] | Message | Descriptor | str) -> bool:
    """Whether the type URL (or an ``Any``'s type URL) matches ``pattern`` under rule R1.

    Raises:
        InvalidArgumentError: the pattern is empty or not a message type or string.
    """
    if isinstance(url, any_pb2.Any):
        url = url.type_url
    name = type_name_from_url(url)
    if isinstance(pattern, str):
        wanted = type_name_from_url(pattern)
        if not wanted:
            raise InvalidArgumentError("type pattern must not be empty")
        return name == wanted or name.endswith("." + wanted)
    return name == full_name(pattern)


def pack(msg: Message) -> any_pb2.Any:
    """Pack a message into an ``Any`` with the standard ``type.googleapis.com/`` prefix.

    Raises:
        InvalidArgumentError: ``msg`` is not a protobuf message instance.
    """
    if not isinstance(msg, Message):
        raise InvalidArgumentError(f"pack() needs a protobuf message instance, got {type(msg).__name__}")
    packed = any_pb2.Any()
    packed.Pack(msg, type_url_prefix=TYPE_URL_PREFIX)
    return packed


def unpack(payload: any_pb2.Any, cls: type[M]) -> M:
    """Decode ``payload`` as ``cls``. Empty bytes give the default message.

    Raises:
        DecodeError: the payload's type is not ``cls`` (by full name), or its bytes are corrupt.
        InvalidArgumentError: ``payload`` is not an ``Any`` or ``cls`` not a message class.
    """
    found = try_unpack(payload, cls)
    if found is None:
        expected = full_name(cls)
        raise DecodeError(
            f"payload type {payload.type_url!r} is not {expected}",
            type_url=payload.type_url,
            expected=expected,
        )
    return found


def try_unpack(payload: any_pb2.Any, cls: type[M]) -> M | None:
    """Decode ``payload`` as ``cls``, or ``None`` when it holds another type.

    Raises:
        DecodeError: the type matches but the bytes are corrupt.
        InvalidArgumentError: ``payload`` is not an ``Any`` or ``cls`` not a message class.
    """
    if not isinstance(payload, any_pb2.Any):
        raise InvalidArgumentError(f"expected a google.protobuf.Any, got {type(payload).__name__}")
    if not _is_message_class(cls):
        raise InvalidArgumentError(f"expected a protobuf message class, got {cls!r}")
    expected = cls.DESCRIPTOR.full_name
    if type_name_from_url(payload.type_url) != expected:
        return None
    try:
        return cls.FromString(payload.value)
    except _ProtoDecodeError as exc:
        raise DecodeError(
            f"corrupt {expected} payload", type_url=payload.type_url, expected=expected, cause=exc
        ) from exc


def decode_event(page: Message, cls: type[M]) -> M | None:
    """The page's event as ``cls``; ``None`` for another type or a page without an event.

    Raises:
        DecodeError: the type matches but the bytes are corrupt.
    """
    if not _has_field(page, "event"):
        return None
    return try_unpack(page.event, cls)


def decode_events(pages: Iterable[Message] | Message, cls: type[M]) -> list[M]:
    """Every event of type ``cls`` among ``pages`` (or an ``EventBook``'s pages), in order.

    Raises:
        DecodeError: a page of that type holds corrupt bytes.
    """
    if isinstance(pages, Message) and _has_repeated(pages, "pages"):
        pages = pages.pages
    elif isinstance(pages, Message) or not isinstance(pages, Iterable):
        raise InvalidArgumentError(f"decode_events needs an EventBook or pages, got {type(pages).__name__}")
    decoded = []
    for page in pages:
        event = decode_event(page, cls)
        if event is not None:
            decoded.append(event)
    return decoded


def events_from_response(resp: _Any) -> list:
    """The event pages of a response (``CommandResponse``, ``FactInjectionResponse``, ``EventBook``).

    Returns ``[]`` for ``None`` or a response without events.
    """
    if resp is None:
        return []
    if isinstance(resp, Message) and _has_repeated(resp, "pages"):
        return list(resp.pages)
    if isinstance(resp, Message) and _has_field_name(resp, "events"):
        if not resp.HasField("events"):
            return []
        return list(resp.events.pages)
    raise InvalidArgumentError(f"cannot take events from {type(resp).__name__}")


def _is_message_class(x: object) -> bool:
    return isinstance(x, type) and issubclass(x, Message)


def _has_field_name(msg: Message, name: str) -> bool:
    return name in msg.DESCRIPTOR.fields_by_name


def _has_repeated(msg: Message, name: str) -> bool:
    field = msg.DESCRIPTOR.fields_by_name.get(name)
    return field is not None and _is_repeated(field)


def _is_repeated(field) -> bool:
    # FieldDescriptor.is_repeated is new in protobuf 6; `label` is deprecated there.
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return field.label == field.LABEL_REPEATED


def _has_field(msg: Message, name: str) -> bool:
    if not isinstance(msg, Message) or not _has_field_name(msg, name):
        raise InvalidArgumentError(f"expected a message with a {name!r} field, got {type(msg).__name__}")
    return msg.HasField(name)
