"""Aggregate roots and correlation ids: UUID conversions and the published derivation rules."""

from __future__ import annotations

import uuid

from .errors import InvalidArgumentError
from .proto.angzarr import types_pb2

__all__ = ["to_uuid", "uuid_to_proto", "proto_to_uuid", "compute_root", "correlation_root"]

UUIDLike = uuid.UUID | str | bytes | types_pb2.UUID


def to_uuid(x: UUIDLike) -> uuid.UUID:
    """A ``uuid.UUID`` from a UUID, its string form, its 16 bytes or an ``angzarr.UUID`` message.

    Raises:
        InvalidArgumentError: ``x`` is none of these or is malformed.
    """
    if isinstance(x, uuid.UUID):
        return x
    if isinstance(x, types_pb2.UUID):
        return proto_to_uuid(x)
    if isinstance(x, bytes | bytearray):
        if len(x) != 16:
            raise InvalidArgumentError(f"a UUID needs exactly 16 bytes, got {len(x)}")
        return uuid.UUID(bytes=bytes(x))
    if isinstance(x, str):
        try:
            return uuid.UUID(x.strip())
        except ValueError:
            raise InvalidArgumentError(f"not a UUID: {x!r}") from None
    raise InvalidArgumentError(f"cannot make a UUID from {type(x).__name__}")


def uuid_to_proto(x: UUIDLike) -> types_pb2.UUID:
    """An ``angzarr.UUID`` message holding the 16 bytes of ``x`` (see :func:`to_uuid`)."""
    return types_pb2.UUID(value=to_uuid(x).bytes)


def proto_to_uuid(p: types_pb2.UUID) -> uuid.UUID:
    """The ``uuid.UUID`` in an ``angzarr.UUID`` message.

    Raises:
        InvalidArgumentError: the message does not hold exactly 16 bytes.
    """
    if not isinstance(p, types_pb2.UUID):
        raise InvalidArgumentError(f"expected an angzarr.UUID message, got {type(p).__name__}")
    if len(p.value) != 16:
        raise InvalidArgumentError(f"angzarr.UUID must hold 16 bytes, got {len(p.value)}")
    return uuid.UUID(bytes=p.value)


def compute_root(domain: str, key: str) -> uuid.UUID:
    """The deterministic root for a business key: ``uuid5(NAMESPACE_OID, "angzarr" + domain + key)``.

    This is the rule published by Angzarr, so roots agree with other implementations.
    """
    if not isinstance(domain, str) or not isinstance(key, str):
        raise InvalidArgumentError("compute_root needs a domain and a key as strings")
    return uuid.uuid5(uuid.NAMESPACE_OID, "angzarr" + domain + key)


def correlation_root(cid: str) -> uuid.UUID:
    """The root of a correlation id's process-manager stream.

    ``cid`` itself when it is a UUID, else ``uuid5(NAMESPACE_URL, "angzarr:correlation:" + cid)``.

    Raises:
        InvalidArgumentError: ``cid`` is empty or not a string.
    """
    if not isinstance(cid, str) or not cid:
        raise InvalidArgumentError("correlation_root needs a non-empty correlation id")
    try:
        return uuid.UUID(cid)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, "angzarr:correlation:" + cid)
