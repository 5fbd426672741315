"""Runs inside the published ``angzarr-client`` 0.3.1 environment (see ``conftest.py``).

Reads one JSON request on stdin and writes one JSON reply on stdout:

* ``decode``: ``[{"type": full_name, "bytes": hex}]`` → the field tree of each message as decoded
  by the published classes, plus whether the message was wholly understood.
* ``encode``: ``[{"type": full_name, "fields": tree}]`` → hex bytes of each message built from the
  field tree with the published classes.
* ``build``: instructions for the published ``CommandBuilder`` / ``QueryBuilder`` → hex bytes.
* ``handle``: ``[{"endpoint": e, "book": tree}]`` → the published ``CommandHandlerClient.connect(e)
  .handle(book)`` reply as hex, or the error it raised (class name, gRPC code, details).
* ``query``: ``[{"endpoint": e, "query": tree}]`` → the published ``QueryClient.connect(e)
  .get_event_book(query)`` and ``.get_events(query)`` replies as hex, or the error.

The field-tree functions (``to_fields`` / ``from_fields``) use only ``google.protobuf`` so the test
process can load this file too and describe its own messages the same way.
"""

from __future__ import annotations

import json
import sys
import uuid


def _is_repeated(fd) -> bool:
    flag = getattr(fd, "is_repeated", None)
    return bool(flag) if flag is not None else fd.label == fd.LABEL_REPEATED


def _is_map(fd) -> bool:
    return fd.message_type is not None and fd.message_type.GetOptions().map_entry


def _single(fd, value):
    if fd.message_type is not None:
        if fd.message_type.full_name == "google.protobuf.Any":
            # Payload types (e.g. examples.*) are unknown on one side, so Anys compare as raw parts.
            return {"type_url": value.type_url, "value": value.value.hex()}
        return to_fields(value)
    if fd.enum_type is not None:
        known = fd.enum_type.values_by_number.get(value)
        return known.name if known is not None else value
    if isinstance(value, bytes):
        return value.hex()
    return value


def to_fields(msg) -> dict:
    """The set fields of ``msg`` as a JSON-able tree keyed by field name (presence-aware)."""
    out = {}
    for fd, value in msg.ListFields():
        if _is_map(fd):
            value_fd = fd.message_type.fields_by_name["value"]
            out[fd.name] = {str(k): _single(value_fd, v) for k, v in value.items()}
        elif _is_repeated(fd):
            out[fd.name] = [_single(fd, v) for v in value]
        else:
            out[fd.name] = _single(fd, value)
    return out


def _assign_single(fd, target, value):
    """Return a scalar for ``value``, or fill the sub-message ``target`` and return None."""
    if fd.message_type is not None:
        if fd.message_type.full_name == "google.protobuf.Any":
            target.type_url = value["type_url"]
            target.value = bytes.fromhex(value["value"])
        else:
            from_fields(target, value)
        return None
    if fd.enum_type is not None:
        return fd.enum_type.values_by_name[value].number if isinstance(value, str) else value
    if fd.type == fd.TYPE_BYTES:
        return bytes.fromhex(value)
    return value


def from_fields(msg, tree: dict):
    """Fill ``msg`` from a tree made by :func:`to_fields`; returns ``msg``."""
    for name, value in tree.items():
        fd = msg.DESCRIPTOR.fields_by_name[name]
        field = getattr(msg, name)
        if _is_map(fd):
            value_fd = fd.message_type.fields_by_name["value"]
            for k, v in value.items():
                if value_fd.message_type is not None:
                    _assign_single(value_fd, field[k], v)
                else:
                    field[k] = _assign_single(value_fd, None, v)
        elif _is_repeated(fd):
            for item in value:
                if fd.message_type is not None:
                    _assign_single(fd, field.add(), item)
                else:
                    field.append(_assign_single(fd, None, item))
        elif fd.message_type is not None:
            _assign_single(fd, field, value)
        else:
            setattr(msg, name, _assign_single(fd, None, value))
    return msg


def _message_class(full_name: str):
    from google.protobuf import symbol_database

    return symbol_database.Default().GetSymbol(full_name)


def _build(job: dict) -> bytes:
    from google.protobuf import wrappers_pb2

    from angzarr_client import CommandBuilder, QueryBuilder

    root = uuid.UUID(job["root"]) if job.get("root") else None
    if job["kind"] == "command":
        builder = CommandBuilder(None, job["domain"], root)
        builder.with_command(job["type_url"], wrappers_pb2.StringValue(value=job["text"]))
        if "sequence" in job:
            builder.with_sequence(job["sequence"])
        if "merge_strategy" in job:
            builder.with_merge_strategy(job["merge_strategy"])
        builder.with_correlation_id(job["correlation_id"])
        return builder.build().SerializeToString()
    builder = QueryBuilder(None, job["domain"], root)
    for step, *args in job["steps"]:
        getattr(builder, step)(*args)
    return builder.build().SerializeToString()


def _describe(exc: Exception) -> dict:
    code = getattr(exc, "code", None)
    code = code() if callable(code) else code
    details = getattr(exc, "details", None)
    details = details() if callable(details) else details
    return {"type": type(exc).__name__, "code": getattr(code, "name", str(code)), "details": str(details)}


def _with_client(client, call) -> dict:
    try:
        return call(client)
    except Exception as exc:  # reported to the test, which asserts on it
        return {"error": _describe(exc)}
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()


def _handle(job: dict) -> dict:
    from angzarr_client import CommandHandlerClient

    book = from_fields(_message_class("angzarr.CommandBook")(), job["book"])
    return _with_client(
        CommandHandlerClient.connect(job["endpoint"]),
        lambda client: {"response": client.handle(book).SerializeToString().hex()},
    )


def _query(job: dict) -> dict:
    from angzarr_client import QueryClient

    query = from_fields(_message_class("angzarr.Query")(), job["query"])
    return _with_client(
        QueryClient.connect(job["endpoint"]),
        lambda client: {
            "book": client.get_event_book(query).SerializeToString().hex(),
            "books": [b.SerializeToString().hex() for b in client.get_events(query)],
        },
    )


def main() -> int:
    import angzarr_client  # the published package: registers the angzarr.* messages

    request = json.load(sys.stdin)
    reply = {
        "package_file": angzarr_client.__file__,
        "decoded": [],
        "encoded": [],
        "built": [],
        "handled": [],
        "queried": [],
    }
    for case in request.get("decode", []):
        cls = _message_class(case["type"])
        msg = cls.FromString(bytes.fromhex(case["bytes"]))
        reply["decoded"].append({"fields": to_fields(msg), "reserialized": msg.SerializeToString().hex()})
    for case in request.get("encode", []):
        msg = from_fields(_message_class(case["type"])(), case["fields"])
        reply["encoded"].append(msg.SerializeToString().hex())
    for job in request.get("build", []):
        reply["built"].append(_build(job).hex())
    for job in request.get("handle", []):
        reply["handled"].append(_handle(job))
    for job in request.get("query", []):
        reply["queried"].append(_query(job))
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
