"""A scriptable business service for coordinator tests, run as its own process.

Serves ``CommandHandlerService`` (a bank account: deposits and withdrawals), ``UpcasterService``
(marks every event ``upcast: true``) and ``ProjectorService.HandleSpeculative`` on a Unix socket with
a plain ``grpc.server``. Commands are ``google.protobuf.Struct``s whose ``op`` picks a behaviour
(reject, hang, echo, revoke, invalid pages, race against another coordinator, ...). Every ``Handle``
call is appended as one JSON line to the file named by ``--calls`` so tests can assert whether and
how the handler was called.

Usage: python bank_handler.py --socket PATH --calls FILE
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import any_pb2, json_format, struct_pb2

from angzarr_client.proto.angzarr import (
    command_handler_pb2,
    command_handler_pb2_grpc,
    projector_pb2_grpc,
    types_pb2,
    upcaster_pb2,
    upcaster_pb2_grpc,
)

STRUCT = "google.protobuf.Struct"
MAX_MESSAGE = 64 * 1024 * 1024
_log_lock = threading.Lock()


def pack(msg) -> any_pb2.Any:
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def struct(**fields) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(fields)
    return s


def unpack_struct(a: any_pb2.Any) -> dict | None:
    if a.type_url.rsplit("/", 1)[-1] != STRUCT:
        return None
    s = struct_pb2.Struct()
    s.ParseFromString(a.value)
    return json_format.MessageToDict(s)


def balance_of(book: types_pb2.EventBook) -> float:
    balance = 0.0
    if book.HasField("snapshot"):
        balance = (unpack_struct(book.snapshot.state) or {}).get("balance", 0.0)
    for page in book.pages:
        event = unpack_struct(page.event) or {}
        if event.get("event") in ("deposited", "withdrawn"):
            balance = event.get("balance", balance)
    return balance


def deposited(amount: float, balance: float, **extra) -> types_pb2.EventPage:
    return types_pb2.EventPage(event=pack(struct(event="deposited", amount=amount, balance=balance, **extra)))


class Bank(command_handler_pb2_grpc.CommandHandlerServiceServicer):
    def __init__(self, calls_path: str) -> None:
        self.calls_path = calls_path

    def _record(self, request: types_pb2.ContextualCommand, cmd: dict, context=None) -> None:
        first = request.command.pages[0]
        header_kind = first.header.WhichOneof("sequence_type") if first.HasField("header") else None
        line = {
            "tag": cmd.get("tag", ""),
            "op": cmd.get("op", ""),
            "domain": request.command.cover.domain,
            "correlation_id": request.command.cover.correlation_id,
            "header": header_kind,
            "header_sequence": first.header.sequence,
            "page_sequences": [p.header.sequence for p in request.events.pages],
            "snapshot_sequence": request.events.snapshot.sequence if request.events.HasField("snapshot") else None,
            "upcast": [bool((unpack_struct(p.event) or {}).get("upcast")) for p in request.events.pages],
            "next_sequence": request.events.next_sequence,
            "traceparent": dict(context.invocation_metadata()).get("traceparent") if context else None,
        }
        with _log_lock, open(self.calls_path, "a") as f:
            f.write(json.dumps(line) + "\n")

    def Handle(self, request: types_pb2.ContextualCommand, context):
        payload = request.command.pages[0].command
        if payload.type_url.rsplit("/", 1)[-1] == "angzarr.Notification":
            return self._compensate(request, payload)
        cmd = unpack_struct(payload)
        if cmd is None:  # any other payload (e.g. size tests): one event saying how many pages came
            self._record(request, {"op": "blob"})
            return command_handler_pb2.BusinessResponse(
                events=types_pb2.EventBook(
                    pages=[types_pb2.EventPage(event=pack(struct(event="blob", pages=len(request.command.pages))))]
                )
            )
        self._record(request, cmd, context)
        op = cmd.get("op")
        balance = balance_of(request.events)
        amount = cmd.get("amount", 1.0)
        if op == "deposit":
            if amount <= 0:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"amount must be positive, got {amount:g}")
            count = int(cmd.get("events", 1))
            pages = []
            for _ in range(count):
                balance += amount
                pages.append(deposited(amount, balance))
            if "stamp_sequence" in cmd:
                for p in pages:
                    p.header.sequence = int(cmd["stamp_sequence"])
            if "created_at" in cmd:
                for p in pages:
                    p.created_at.seconds = int(cmd["created_at"])
            book = types_pb2.EventBook(pages=pages)
            # A returned cover must be ignored by the coordinator.
            book.cover.domain = "elsewhere"
            if "snapshot" in cmd:
                book.snapshot.state.CopyFrom(pack(struct(balance=balance)))
                book.snapshot.retention = int(cmd["snapshot"])
                book.snapshot.sequence = 12345
            return command_handler_pb2.BusinessResponse(events=book)
        if op == "withdraw":
            if amount > balance:
                context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, f"insufficient funds: balance {balance:g}, requested {amount:g}"
                )
            page = types_pb2.EventPage(event=pack(struct(event="withdrawn", amount=amount, balance=balance - amount)))
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=[page]))
        if op == "reject":
            context.abort(getattr(grpc.StatusCode, cmd["code"]), cmd.get("message", "rejected"))
        if op == "hang":
            time.sleep(float(cmd.get("seconds", 30)))
            return command_handler_pb2.BusinessResponse()
        if op == "echo":
            pages = list(request.events.pages) + [deposited(amount, balance + amount)]
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=pages))
        if op == "revoke":
            return command_handler_pb2.BusinessResponse(
                revocation=command_handler_pb2.RevocationResponse(
                    reason=cmd.get("reason", ""),
                    send_to_dead_letter_queue=bool(cmd.get("dlq")),
                    escalate=bool(cmd.get("escalate")),
                )
            )
        if op == "nopayload":
            return command_handler_pb2.BusinessResponse(
                events=types_pb2.EventBook(pages=[deposited(1, balance + 1), types_pb2.EventPage()])
            )
        if op == "external":
            page = types_pb2.EventPage(external=types_pb2.PayloadReference(uri="s3://x"))
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=[page]))
        if op == "empty_events":
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook())
        if op == "notification":
            return command_handler_pb2.BusinessResponse(notification=types_pb2.Notification())
        if op == "nothing":
            return command_handler_pb2.BusinessResponse()
        if op == "snapshot_only":
            book = types_pb2.EventBook()
            book.snapshot.state.CopyFrom(pack(struct(balance=balance)))
            book.snapshot.retention = types_pb2.RETENTION_PERSIST
            return command_handler_pb2.BusinessResponse(events=book)
        if op == "race":
            # Another coordinator commits to this aggregate while we decide: our append must lose.
            with grpc.insecure_channel(cmd["racer"]) as ch:
                stub = command_handler_pb2_grpc.CommandHandlerCoordinatorServiceStub(ch)
                racer = types_pb2.CommandBook(cover=request.command.cover)
                racer.pages.add().command.CopyFrom(pack(struct(op="deposit", amount=1, tag="racer")))
                stub.HandleCommand(types_pb2.CommandRequest(command=racer), timeout=10)
            return command_handler_pb2.BusinessResponse(
                events=types_pb2.EventBook(pages=[deposited(amount, balance + amount)])
            )
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown op {op!r}")

    def Replay(self, request: command_handler_pb2.ReplayRequest, context):
        book = types_pb2.EventBook(pages=request.events)
        if request.HasField("base_snapshot"):
            book.snapshot.CopyFrom(request.base_snapshot)
        line = {
            "tag": "replay",
            "op": "replay",
            "page_sequences": [p.header.sequence for p in request.events],
            "snapshot_sequence": request.base_snapshot.sequence if request.HasField("base_snapshot") else None,
        }
        with _log_lock, open(self.calls_path, "a") as f:
            f.write(json.dumps(line) + "\n")
        return command_handler_pb2.ReplayResponse(state=pack(struct(balance=balance_of(book))))

    def _compensate(self, request: types_pb2.ContextualCommand, payload: any_pb2.Any):
        notice = types_pb2.Notification()
        payload.Unpack(notice)
        rejection = types_pb2.RejectionNotification()
        notice.payload.Unpack(rejection)
        rejected = unpack_struct(rejection.rejected_command.pages[0].command) or {}
        self._record(request, {"op": "compensation:" + rejected.get("op", ""), "tag": rejected.get("tag", "")})
        if rejected.get("op") == "compensable":
            page = types_pb2.EventPage(event=pack(struct(event="compensated", reason=rejection.rejection_reason)))
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook(pages=[page]))
        if rejected.get("op") == "handled_noop":
            return command_handler_pb2.BusinessResponse(events=types_pb2.EventBook())
        return command_handler_pb2.BusinessResponse(
            revocation=command_handler_pb2.RevocationResponse(reason="no rejection handler matched")
        )


class Upcaster(upcaster_pb2_grpc.UpcasterServiceServicer):
    def Upcast(self, request: upcaster_pb2.UpcastRequest, context):
        out = []
        for page in request.events:
            event = unpack_struct(page.event)
            copy = types_pb2.EventPage()
            copy.CopyFrom(page)
            if event is not None:
                event["upcast"] = True
                copy.event.CopyFrom(pack(struct(**event)))
            out.append(copy)
        return upcaster_pb2.UpcastResponse(events=out)


class Projector(projector_pb2_grpc.ProjectorServiceServicer):
    def HandleSpeculative(self, request: types_pb2.EventBook, context):
        last = request.pages[-1].header.sequence if request.pages else 0
        return types_pb2.Projection(
            cover=request.cover, projector="bank-view", sequence=last,
            projection=pack(struct(pages=len(request.pages), balance=balance_of(request))),
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--calls", required=True)
    args = parser.parse_args()
    options = [("grpc.max_send_message_length", MAX_MESSAGE), ("grpc.max_receive_message_length", MAX_MESSAGE)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=options)
    command_handler_pb2_grpc.add_CommandHandlerServiceServicer_to_server(Bank(args.calls), server)
    upcaster_pb2_grpc.add_UpcasterServiceServicer_to_server(Upcaster(), server)
    projector_pb2_grpc.add_ProjectorServiceServicer_to_server(Projector(), server)
    server.add_insecure_port(f"unix:{args.socket}")
    server.start()
    print("READY", flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        pass
    server.stop(0)
    sys.exit(0)


if __name__ == "__main__":
    main()
