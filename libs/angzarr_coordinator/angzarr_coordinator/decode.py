"""Payloads to JSON for the CLI (spec/coordinator.md §10.5).

Message types come from the modules named in ``decode.modules`` (importing a generated ``*_pb2``
module registers its types) or from ``--descriptor-set`` files (``protoc --descriptor_set_out``).
A payload whose type is unknown, or whose bytes do not parse, is shown as ``{"@type", "value"}`` with
the bytes in base64: the CLI never fails on a payload.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# duration, empty, field_mask, struct, timestamp, wrappers and types_pb2 are imported only to register
# the well-known and framework message types for decoding.
from google.protobuf import (  # noqa: F401
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    empty_pb2,
    field_mask_pb2,
    json_format,
    message_factory,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.message import DecodeError

from angzarr_client.proto.angzarr import types_pb2  # noqa: F401


class DecoderSetupError(Exception):
    """A decode module cannot be imported or a descriptor set cannot be read."""


def type_name(type_url: str) -> str:
    """The full message name of a type URL: whatever follows the last ``/``."""
    return type_url.rsplit("/", 1)[-1]


class PayloadDecoder:
    """Turns ``Any`` payloads into JSON-ready dicts."""

    def __init__(self, modules: Iterable[str] = (), descriptor_sets: Iterable[str | Path] = ()) -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception as e:  # any import failure is a setup problem the user must fix
                raise DecoderSetupError(f"cannot import decode module '{module}': {e}") from None
        self._pools = [descriptor_pool.Default()]
        for path in descriptor_sets:
            self._pools.append(self._load_descriptor_set(Path(path)))

    @staticmethod
    def _load_descriptor_set(path: Path) -> descriptor_pool.DescriptorPool:
        try:
            files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
        except (OSError, DecodeError) as e:
            raise DecoderSetupError(f"cannot read descriptor set {path}: {e}") from None
        pool = descriptor_pool.DescriptorPool()
        pending = list(files.file)
        # Files must be added after their dependencies; the set may list them in any order.
        while pending:
            progressed = False
            for proto in list(pending):
                try:
                    pool.Add(proto)
                except TypeError:
                    continue
                pending.remove(proto)
                progressed = True
            if not progressed:
                names = ", ".join(p.name for p in pending)
                raise DecoderSetupError(f"descriptor set {path}: missing dependencies for {names}")
        return pool

    def _find(self, name: str) -> tuple[Any, descriptor_pool.DescriptorPool] | None:
        for pool in self._pools:
            try:
                descriptor = pool.FindMessageTypeByName(name)
            except KeyError:
                continue
            return message_factory.GetMessageClass(descriptor), pool
        return None

    def any_to_json(self, payload: any_pb2.Any) -> dict[str, Any]:
        """``{"@type": url, ...fields}`` when the type is known, else ``{"@type", "value": base64}``."""
        found = self._find(type_name(payload.type_url))
        if found is not None:
            cls, pool = found
            try:
                message = cls.FromString(payload.value)
                body = json_format.MessageToDict(message, preserving_proto_field_name=True,
                                                 descriptor_pool=pool)
                if not isinstance(body, dict):  # well-known types (wrappers, Timestamp) map to a scalar
                    return {"@type": payload.type_url, "value": body}
                return {"@type": payload.type_url, **body}
            except (DecodeError, TypeError, KeyError):
                pass  # undecodable bytes or an unknown nested Any: show it raw
        return {"@type": payload.type_url, "value": base64.b64encode(payload.value).decode("ascii")}
