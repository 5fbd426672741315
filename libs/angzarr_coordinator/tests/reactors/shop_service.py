"""A business service for reaction tests, run as its own process (plain ``grpc.server``, Unix socket).

Payloads are ``google.protobuf.Struct``s. Depending on the flags it serves:

- ``--domain D``: ``CommandHandlerService`` for D. A command ``{op, ...}`` becomes one event with the
  command's fields and ``kind = op``, except: ``reserve`` (``qty`` against ``limit``, default 10;
  FAILED_PRECONDITION "insufficient stock" beyond it), ``reject`` (FAILED_PRECONDITION), ``crash``
  (INTERNAL, until its ``until`` file exists). A rejection notice (HandleCompensation) becomes ``{kind: compensated, rejected_op,
  reason}``, or a revocation (no handler matched) when the rejected op is ``nocomp`` (rejected like
  ``reject``) and its ``until`` file does not exist.
- ``--saga``: ``SagaService``. Each source page's ``saga`` list (``{domain, op, root?, ...}``) becomes
  commands (root defaults to the source root); ``saga_fail: internal|invalid`` fails the call.
- ``--pm``: ``ProcessManagerService``. ``Prepare`` returns the ``pm`` list's targets; ``Handle`` turns
  each ``pm`` entry into a command and writes ``{kind: pm_step}``; a rejection notice writes
  ``{kind: pm_compensated}`` (nothing at all for ``nocomp``).
- ``--projector-db FILE``: ``ProjectorService`` keeping a SQLite read model: the last applied sequence
  per (domain, root) and one row per applied event, in one transaction (so redelivery repeats nothing).
  ``project_fail: poison|internal|poison_until:<path>`` fails that page (the last until the file exists).

Every call is appended to ``--calls`` as a JSON line. Prints READY when serving.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import threading
import uuid
from concurrent import futures

import grpc
from google.protobuf import any_pb2, json_format, struct_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    process_manager_pb2,
    process_manager_pb2_grpc,
    projector_pb2_grpc,
    saga_pb2,
    saga_pb2_grpc,
    types_pb2,
)

STRUCT = "google.protobuf.Struct"
NOTIFICATION = "angzarr.Notification"
_lock = threading.Lock()
CALLS = ""


def log_call(**fields) -> None:
    with _lock, open(CALLS, "a") as f:
        f.write(json.dumps(fields) + "\n")


def pack(msg) -> any_pb2.Any:
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def struct_any(fields: dict) -> any_pb2.Any:
    s = struct_pb2.Struct()
    s.update(fields)
    return pack(s)


def unpack(a: any_pb2.Any) -> dict | None:
    if a.type_url.rsplit("/", 1)[-1] != STRUCT:
        return None
    s = struct_pb2.Struct()
    s.ParseFromString(a.value)
    return json_format.MessageToDict(s)


def notice_of(a: any_pb2.Any) -> tuple[dict, str] | None:
    """(rejected command fields, reason) of a Notification(RejectionNotification)."""
    if a.type_url.rsplit("/", 1)[-1] != NOTIFICATION:
        return None
    n = types_pb2.Notification()
    n.ParseFromString(a.value)
    r = types_pb2.RejectionNotification()
    r.ParseFromString(n.payload.value)
    first = r.rejected_command.pages[0].command if r.rejected_command.pages else any_pb2.Any()
    return unpack(first) or {}, r.rejection_reason


def root_hex(cover: types_pb2.Cover) -> str:
    return cover.root.value.hex()


class Aggregate(command_handler_pb2_grpc.CommandHandlerServiceServicer):
    def __init__(self, domain: str) -> None:
        self.domain = domain

    def Handle(self, request: types_pb2.ContextualCommand, context):
        book = request.command
        page = book.pages[0]
        history = [unpack(p.event) or {} for p in request.events.pages]
        notice = notice_of(page.command)
        log_call(role="aggregate", domain=self.domain, root=root_hex(book.cover),
                 header=page.header.WhichOneof("sequence_type") or "",
                 deferred_seq=page.header.angzarr_deferred.source_seq,
                 deferred_domain=page.header.angzarr_deferred.source.domain,
                 op=(unpack(page.command) or {}).get("op") if notice is None else "notice")
        out = types_pb2.EventBook(cover=book.cover)
        if notice is not None:
            rejected, reason = notice
            until = rejected.get("until", "")
            if rejected.get("op") == "nocomp" and not (until and os.path.exists(until)):
                return command_handler_pb2.BusinessResponse(
                    revocation=command_handler_pb2.RevocationResponse(emit_system_revocation=True, reason="no match"))
            out.pages.add().event.CopyFrom(struct_any({"kind": "compensated", "rejected_op": rejected.get("op", ""),
                                                       "reason": reason}))
            return command_handler_pb2.BusinessResponse(events=out)
        cmd = unpack(page.command) or {}
        op = cmd.get("op", "")
        if op in ("reject", "nocomp"):
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "rejected on purpose")
        if op == "crash" and not (cmd.get("until") and os.path.exists(cmd["until"])):
            context.abort(grpc.StatusCode.INTERNAL, "crashed on purpose")
        if op == "reserve":
            reserved = sum(e.get("qty", 0) for e in history if e.get("kind") == "reserve")
            if reserved + cmd.get("qty", 0) > cmd.get("limit", 10):
                context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                              f"insufficient stock: {reserved} reserved, {cmd.get('qty', 0)} more asked")
        event = dict(cmd)
        event.pop("op", None)
        event["kind"] = op
        out.pages.add().event.CopyFrom(struct_any(event))
        return command_handler_pb2.BusinessResponse(events=out)


def command_book(entry: dict, default_root: bytes, correlation_id: str) -> types_pb2.CommandBook:
    fields = {k: v for k, v in entry.items() if k not in ("domain", "root")}
    root = uuid.UUID(entry["root"]).bytes if entry.get("root") else default_root
    book = types_pb2.CommandBook(cover=types_pb2.Cover(domain=entry["domain"], root=types_pb2.UUID(value=root),
                                                       correlation_id=correlation_id))
    page = book.pages.add()
    page.header.sequence = 999  # the coordinator must replace it with angzarr_deferred
    page.command.CopyFrom(struct_any(fields))
    return book


class Saga(saga_pb2_grpc.SagaServiceServicer):
    def Handle(self, request: saga_pb2.SagaHandleRequest, context):
        source = request.source
        log_call(role="saga", domain=source.cover.domain, root=root_hex(source.cover),
                 seqs=[p.header.sequence for p in source.pages], dest=dict(request.destination_sequences),
                 sync_mode=request.sync_mode)
        out = saga_pb2.SagaResponse()
        for p in source.pages:
            event = unpack(p.event) or {}
            fail = event.get("saga_fail")
            if fail == "internal":
                context.abort(grpc.StatusCode.INTERNAL, "saga failed on purpose")
            if fail == "invalid":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "saga refuses this event")
            for entry in event.get("saga", []):
                out.commands.append(command_book(entry, source.cover.root.value, ""))
        return out


class ProcessManager(process_manager_pb2_grpc.ProcessManagerServiceServicer):
    def Prepare(self, request, context):
        out = process_manager_pb2.ProcessManagerPrepareResponse()
        for p in request.trigger.pages:
            for entry in (unpack(p.event) or {}).get("pm", []):
                root = uuid.UUID(entry["root"]).bytes if entry.get("root") else request.trigger.cover.root.value
                out.destinations.append(types_pb2.Cover(domain=entry["domain"], root=types_pb2.UUID(value=root)))
        return out

    def Handle(self, request: process_manager_pb2.ProcessManagerHandleRequest, context):
        trigger = request.trigger
        log_call(role="pm", domain=trigger.cover.domain, root=root_hex(trigger.cover),
                 seqs=[p.header.sequence for p in trigger.pages], dest=dict(request.destination_sequences),
                 state=len(request.process_state.pages), state_root=root_hex(request.process_state.cover))
        out = process_manager_pb2.ProcessManagerHandleResponse()
        for p in trigger.pages:
            notice = notice_of(p.event)
            if notice is not None:
                if notice[0].get("op") != "nocomp":
                    out.process_events.pages.add().event.CopyFrom(
                        struct_any({"kind": "pm_compensated", "rejected_op": notice[0].get("op", "")}))
                continue
            entries = (unpack(p.event) or {}).get("pm", [])
            for entry in entries:
                out.commands.append(command_book(entry, trigger.cover.root.value, trigger.cover.correlation_id))
            if entries:
                out.process_events.pages.add().event.CopyFrom(struct_any({"kind": "pm_step", "n": len(entries)}))
            if (unpack(p.event) or {}).get("pm_snapshot"):
                out.process_events.snapshot.state.CopyFrom(struct_any({"steps": len(request.process_state.pages) + 1}))
                out.process_events.snapshot.retention = types_pb2.RETENTION_PERSIST
        return out


class Projector(projector_pb2_grpc.ProjectorServiceServicer):
    def __init__(self, path: str, name: str) -> None:
        self.path, self.name = path, name
        conn = self._conn()
        conn.execute("CREATE TABLE IF NOT EXISTS applied (domain TEXT, root TEXT, last INTEGER, "
                     "PRIMARY KEY (domain, root))")
        conn.execute("CREATE TABLE IF NOT EXISTS seen (domain TEXT, root TEXT, seq INTEGER, kind TEXT, "
                     "PRIMARY KEY (domain, root, seq))")
        conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def Handle(self, request: types_pb2.EventBook, context):
        cover = request.cover
        seqs = [p.header.sequence for p in request.pages]
        log_call(role="projector", domain=cover.domain, root=root_hex(cover), seqs=seqs)
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT last FROM applied WHERE domain = ? AND root = ?",
                               (cover.domain, root_hex(cover))).fetchone()
            last = -1 if row is None else row[0]
            for p in request.pages:
                seq = p.header.sequence
                if seq <= last:
                    continue
                event = unpack(p.event) or {}
                fail = event.get("project_fail", "")
                if fail.startswith("poison_until:") and not os.path.exists(fail.split(":", 1)[1]):
                    fail = "poison"
                if fail == "poison":
                    conn.execute("ROLLBACK")
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION, "projector cannot use this event")
                if fail == "internal":
                    conn.execute("ROLLBACK")
                    context.abort(grpc.StatusCode.INTERNAL, "projector failed on purpose")
                conn.execute("INSERT INTO seen VALUES (?, ?, ?, ?)", (cover.domain, root_hex(cover), seq,
                                                                      event.get("kind", "")))
                last = seq
            conn.execute("INSERT OR REPLACE INTO applied VALUES (?, ?, ?)", (cover.domain, root_hex(cover), last))
            count = conn.execute("SELECT COUNT(*) FROM seen WHERE domain = ? AND root = ?",
                                 (cover.domain, root_hex(cover))).fetchone()[0]
            conn.execute("COMMIT")
        finally:
            conn.close()
        return types_pb2.Projection(cover=cover, projector=self.name, sequence=seqs[-1] if seqs else 0,
                                    projection=struct_any({"count": count}))

    def HandleSpeculative(self, request, context):
        return types_pb2.Projection(cover=request.cover, projector=self.name,
                                    projection=struct_any({"speculative": len(request.pages)}))


def main() -> None:
    global CALLS
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--calls", required=True)
    parser.add_argument("--domain")
    parser.add_argument("--saga", action="store_true")
    parser.add_argument("--pm", action="store_true")
    parser.add_argument("--projector-db")
    parser.add_argument("--projector-name", default="view")
    args = parser.parse_args()
    CALLS = args.calls
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    if args.domain:
        command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server(Aggregate(args.domain), server)
    if args.saga:
        saga_pb2_grpc.add_SagaServiceServicer_to_server(Saga(), server)
    if args.pm:
        process_manager_pb2_grpc.add_ProcessManagerServiceServicer_to_server(ProcessManager(), server)
    if args.projector_db:
        projector_pb2_grpc.add_ProjectorServiceServicer_to_server(
            Projector(args.projector_db, args.projector_name), server)
    checker = health.HealthServicer()
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    server.add_insecure_port(f"unix:{args.socket}")
    server.start()
    print("READY", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(1))
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
