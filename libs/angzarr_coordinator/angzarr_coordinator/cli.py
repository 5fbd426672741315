"""The ``angzarr`` command (spec/coordinator.md §10.1, §10.5).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found. The store of the inspection commands is ``--db
PATH|URL``, else the storage of the ``-c`` file, else ``DATABASE_URL``: a SQLite path or a PostgreSQL
URL (opened with migrations unless ``ANGZARR_MIGRATE=0``). ``-c`` is a standalone.yaml, or, beside a
PostgreSQL URL, a sidecar topology file; ``angzarr lag`` also reads ``ANGZARR_TOPOLOGY``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.config import ConfigError, StandaloneConfig, load_config
from angzarr_coordinator.decode import DecoderSetupError, PayloadDecoder
from angzarr_coordinator.distributed_cli import add_commands as add_distributed_commands
from angzarr_coordinator.distributed_cli import migrate_postgres
from angzarr_coordinator.inspect import (
    InspectionStore,
    Inspector,
    StoreLocationError,
    is_postgres_url,
    open_inspection,
    sqlite_path,
)
from angzarr_coordinator.observability import ObservabilityConfigError, configure_logging, configure_telemetry
from angzarr_coordinator.sidecar_config import read_topology_file
from angzarr_coordinator.store.base import AggregateKey, DeadLetterNotFound, StoreError
from angzarr_coordinator.topology import Topology

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND = 0, 1, 2, 3


class CliExit(Exception):
    """Ends the command with ``code`` after printing ``message`` to stderr."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise CliExit(EXIT_USAGE, f"{self.prog}: {message}")


# -- helpers -------------------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> StandaloneConfig | None:
    if not getattr(args, "config", None):
        return None
    try:
        return load_config(args.config)
    except ConfigError as e:
        raise CliExit(EXIT_ERROR, str(e)) from None


def _config_file(args: argparse.Namespace) -> tuple[StandaloneConfig | None, Topology | None]:
    """The ``-c`` file: a standalone.yaml (config and its topology) or a sidecar topology file (no
    config). Neither: exit 1 with the standalone.yaml problems."""
    path = getattr(args, "config", None)
    if not path:
        return None, None
    try:
        config = load_config(path)
    except ConfigError as standalone_error:
        try:
            return None, read_topology_file(path, os.environ)[0]
        except ConfigError:
            raise CliExit(EXIT_ERROR, str(standalone_error)) from None
    return config, config.topology


def _store_location(args: argparse.Namespace) -> str:
    location = getattr(args, "db", None)
    if not location:
        config, _ = _config_file(args)
        if config is not None:
            location = str(config.storage.path)
    location = location or os.environ.get("DATABASE_URL", "")
    if not location:
        raise CliExit(EXIT_USAGE, "no store named: pass --db PATH|URL, -c standalone.yaml or set DATABASE_URL")
    return location


def _migrate_on_open() -> bool:
    """``ANGZARR_MIGRATE`` (default 1): may opening a PostgreSQL store apply pending migrations?"""
    text = os.environ.get("ANGZARR_MIGRATE", "1").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise CliExit(EXIT_USAGE, f"ANGZARR_MIGRATE: expected 1 or 0, got {os.environ['ANGZARR_MIGRATE']!r}")


def _inspector(args: argparse.Namespace) -> InspectionStore:
    location = _store_location(args)
    migrate = _migrate_on_open() if is_postgres_url(location) else True  # SQLite inspection never migrates
    try:
        return open_inspection(location, migrate=migrate)
    except (StoreLocationError, ValueError) as e:
        raise CliExit(EXIT_ERROR, str(e)) from None


def _decoder(args: argparse.Namespace) -> PayloadDecoder:
    config, _ = _config_file(args)
    modules = list(config.decode_modules) if config else []
    modules += getattr(args, "decode_module", None) or []
    try:
        return PayloadDecoder(modules, getattr(args, "descriptor_set", None) or [])
    except DecoderSetupError as e:
        raise CliExit(EXIT_ERROR, str(e)) from None


def _root(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise CliExit(EXIT_USAGE, f"'{text}' is not a UUID root (e.g. 3f2a1b4c-...)") from None


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else "-"


def _timestamp(ts: Any) -> str | None:
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return None
    return _iso(ts.ToDatetime(tzinfo=UTC))


def _page_json(page: types_pb2.EventPage, decoder: PayloadDecoder) -> dict[str, Any]:
    out: dict[str, Any] = {"sequence": page.header.sequence, "created_at": _timestamp(page.created_at)}
    if page.HasField("event"):
        out["event"] = decoder.any_to_json(page.event)
    elif page.HasField("external"):
        out["external"] = {"uri": page.external.uri}
    return out


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    for row in [headers, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())


def _dump(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False))


# -- commands ------------------------------------------------------------------------------------------


def cmd_standalone(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        raise CliExit(EXIT_USAGE, "standalone needs -c standalone.yaml")
    if args.check:
        services = ", ".join(s.name for s in config.topology.services)
        print(f"{args.config}: ok ({len(config.topology.services)} services: {services})")
        return EXIT_OK
    try:
        configure_logging()
    except ObservabilityConfigError as e:
        raise CliExit(EXIT_ERROR, str(e)) from None
    telemetry = configure_telemetry()
    from angzarr_coordinator.standalone import run_standalone

    try:
        return asyncio.run(run_standalone(config))
    finally:
        telemetry.shutdown()


def cmd_domains(args: argparse.Namespace) -> int:
    with _inspector(args) as store:
        infos = store.domains()
    if args.json:
        _dump([{"domain": d.domain, "aggregates": d.aggregates, "events": d.events,
                "head_position": d.head_position} for d in infos])
    elif infos:
        _print_table([[d.domain, str(d.aggregates), str(d.events), str(d.head_position)] for d in infos],
                     ["DOMAIN", "AGGREGATES", "EVENTS", "HEAD"])
    else:
        print("no events stored yet")
    return EXIT_OK


def cmd_roots(args: argparse.Namespace) -> int:
    with _inspector(args) as store:
        infos = store.roots(args.domain)
    if not infos:
        raise CliExit(EXIT_NOT_FOUND, f"no aggregates in domain '{args.domain}'")
    if args.json:
        _dump([{"root": str(r.key.root), "events": r.events, "last_sequence": r.last_sequence,
                "last_write": _iso(r.last_write)} for r in infos])
    else:
        _print_table([[str(r.key.root), str(r.events), str(r.last_sequence), _iso(r.last_write)] for r in infos],
                     ["ROOT", "EVENTS", "LAST SEQUENCE", "LAST WRITE"])
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    root = _root(args.root)
    if args.to is not None and args.to < args.from_:
        raise CliExit(EXIT_USAGE, f"--from {args.from_} is after --to {args.to}")
    decoder = _decoder(args)
    with _inspector(args) as store:
        loaded = store.load(AggregateKey(args.domain, root), args.from_, args.to)
    if loaded.next_sequence == 0:
        raise CliExit(EXIT_NOT_FOUND, f"no events for {args.domain}/{root}")
    snapshot = None
    if loaded.snapshot is not None:
        snapshot = {"sequence": loaded.snapshot.sequence,
                    "retention": types_pb2.SnapshotRetention.Name(loaded.snapshot.retention),
                    "state": decoder.any_to_json(loaded.snapshot.state)}
    events = [_page_json(p, decoder) for p in loaded.pages]
    if args.json:
        _dump({"domain": args.domain, "root": str(root), "next_sequence": loaded.next_sequence,
               "snapshot": snapshot, "events": events})
        return EXIT_OK
    print(f"{args.domain}/{root}: next sequence {loaded.next_sequence}, {len(events)} event(s) shown")
    if snapshot:
        print(f"snapshot at sequence {snapshot['sequence']} ({snapshot['retention']})")
    else:
        print("no snapshot")
    for e in events:
        body = e.get("event") or e.get("external") or {}
        kind = str(body.get("@type", "external")).rsplit("/", 1)[-1]
        fields = {k: v for k, v in body.items() if k != "@type"}
        print(f"  #{e['sequence']:<6} {e['created_at'] or '-'}  {kind}  {json.dumps(fields, sort_keys=True)}")
    return EXIT_OK


def _letter_json(record: Any, decoder: PayloadDecoder, *, full: bool) -> dict[str, Any]:
    letter = record.letter
    out: dict[str, Any] = {
        "id": record.id,
        "status": record.status,
        "domain": letter.cover.domain,
        "root": str(uuid.UUID(bytes=letter.cover.root.value)) if len(letter.cover.root.value) == 16 else "",
        "source": f"{letter.source_component_type}:{letter.source_component}".strip(":"),
        "reason": letter.rejection_reason,
        "attempts": record.attempts,
        "last_error": record.last_error,
        "subscriber": record.subscriber,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }
    if full:
        from google.protobuf import json_format

        payload: dict[str, Any] = {}
        if letter.HasField("rejected_command"):
            payload["rejected_command"] = [
                {"sequence": p.header.sequence if p.header.HasField("sequence") else None,
                 "command": decoder.any_to_json(p.command)}
                for p in letter.rejected_command.pages
            ]
        if letter.HasField("rejected_events"):
            payload["rejected_events"] = [_page_json(p, decoder) for p in letter.rejected_events.pages]
        details = letter.WhichOneof("rejection_details")
        if details:
            payload[details] = json_format.MessageToDict(getattr(letter, details), preserving_proto_field_name=True)
        payload["metadata"] = dict(letter.metadata)
        out.update(payload)
    return out


def cmd_dlq(args: argparse.Namespace) -> int:
    if args.dlq_command == "list":
        decoder = _decoder(args)
        with _inspector(args) as store:
            records = store.dead_letters(args.status)
        rows = [_letter_json(r, decoder, full=False) for r in records]
        if args.json:
            _dump(rows)
        elif rows:
            _print_table([[str(r["id"]), r["status"], f"{r['domain']}/{r['root']}", r["source"],
                           r["created_at"], r["reason"][:60]] for r in rows],
                         ["ID", "STATUS", "AGGREGATE", "SOURCE", "CREATED", "REASON"])
        else:
            print("no dead letters" + (f" with status {args.status}" if args.status else ""))
        return EXIT_OK
    with _inspector(args) as store:
        if args.dlq_command == "show":
            record = store.dead_letter(args.id)
            if record is None:
                raise CliExit(EXIT_NOT_FOUND, f"no dead letter with id {args.id}")
            _dump(_letter_json(record, _decoder(args), full=True))
            return EXIT_OK
        try:
            if args.dlq_command == "discard":
                store.discard(args.id)
                print(f"dead letter {args.id} discarded")
                return EXIT_OK
            store.request_replay(args.id, rebase=args.rebase)
        except DeadLetterNotFound as e:
            raise CliExit(EXIT_NOT_FOUND, str(e)) from None
        print(f"dead letter {args.id}: replay requested" + (" (rebase)" if args.rebase else ""))
        if args.wait <= 0:
            return EXIT_OK
        return _await_replay(store, args.id, args.wait)


def _await_replay(store: InspectionStore, letter_id: int, wait: float) -> int:
    """Poll until the coordinator hosting the component records the outcome (§8)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        record = store.dead_letter(letter_id)
        if record is None:
            raise CliExit(EXIT_NOT_FOUND, f"dead letter {letter_id} disappeared")
        if record.status == "replayed":
            print(f"dead letter {letter_id}: replayed")
            return EXIT_OK
        if record.status != "replay_requested":
            raise CliExit(EXIT_ERROR, f"dead letter {letter_id}: replay failed ({record.status}): "
                                      f"{record.last_error or 'no error recorded'}")
        time.sleep(0.2)
    raise CliExit(EXIT_ERROR, f"dead letter {letter_id}: no coordinator replayed it within {wait:g} s; the "
                              "request stays recorded and runs when the coordinator hosting it is up")


def cmd_db(args: argparse.Namespace) -> int:
    if args.db_command == "migrate":
        return _migrate(args)
    with _inspector(args) as store:
        rows = store.migrations()
    if args.json:
        _dump([{"version": m.version, "name": m.name, "applied_at": m.applied_at} for m in rows])
    else:
        _print_table([[f"{m.version:04d}", m.name, m.applied_at or "pending"] for m in rows],
                     ["VERSION", "NAME", "APPLIED"])
    return EXIT_OK


def _migrate(args: argparse.Namespace) -> int:
    location = _store_location(args)
    if is_postgres_url(location):
        return migrate_postgres(location)
    try:
        path = sqlite_path(location)
    except StoreLocationError as e:
        raise CliExit(EXIT_ERROR, str(e)) from None
    from angzarr_coordinator.store.sqlite import SqliteEventStore

    async def run() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = SqliteEventStore(path)
        await store.open()  # applies pending migrations
        await store.close()

    asyncio.run(run())
    with Inspector(path) as store:
        applied = [m for m in store.migrations() if m.applied_at]
    print(f"{path}: schema at version {max((m.version for m in applied), default=0)}")
    return EXIT_OK


def cmd_snapshots(args: argparse.Namespace) -> int:
    root = _root(args.root) if args.root else None
    with _inspector(args) as store:
        dropped = store.drop_snapshots(args.domain, root)
    target = f"{args.domain}/{root}" if root else args.domain
    print(f"dropped {dropped} snapshot(s) of {target}")
    return EXIT_OK


def _lag_topology(args: argparse.Namespace) -> Topology | None:
    """The topology naming the subscribers: the ``-c`` file's, else the ``ANGZARR_TOPOLOGY`` file's."""
    _, topology = _config_file(args)
    if topology is None and (path := os.environ.get("ANGZARR_TOPOLOGY")):
        try:
            topology = read_topology_file(path, os.environ)[0]
        except ConfigError as e:
            raise CliExit(EXIT_ERROR, str(e)) from None
    return topology


def cmd_lag(args: argparse.Namespace) -> int:
    topology = _lag_topology(args)
    with _inspector(args) as store:
        if topology is not None:
            subscribers = [(r.name, "saga", r.listen) for _, r in topology.sagas()]
            subscribers += [(r.name, "process_manager", r.listen) for _, r in topology.process_managers()]
            subscribers += [(p.name, "projector", p.listen) for _, p in topology.projectors()]
        else:
            subscribers = [(name, "?", None) for name in store.checkpointed_subscribers()]
        rows = store.lag(subscribers)
    if args.json:
        _dump([{"subscriber": r.subscriber, "kind": r.kind, "checkpoint": r.checkpoint, "watermark": r.watermark,
                "lag_events": r.lag_events, "lag_seconds": round(r.lag_seconds, 3), "state": r.state,
                "open_dead_letters": r.open_dead_letters, "last_error": r.last_error} for r in rows])
    elif rows:
        _print_table([[r.subscriber, r.kind, str(r.checkpoint), str(r.watermark), str(r.lag_events),
                       f"{r.lag_seconds:.1f}", r.state, str(r.open_dead_letters), r.last_error[:60]] for r in rows],
                     ["SUBSCRIBER", "KIND", "CHECKPOINT", "WATERMARK", "LAG", "LAG S", "STATE", "DLQ", "LAST ERROR"])
    else:
        print("no subscribers (pass -c standalone.yaml or a topology file, or set ANGZARR_TOPOLOGY, "
              "to list the topology's)")
    return EXIT_OK


def _tail_endpoint(args: argparse.Namespace) -> str:
    if args.endpoint:
        return args.endpoint
    config = _config(args)
    if config is not None:
        if config.listen.tcp:
            return config.listen.tcp
        return f"unix:{config.listen.client_socket(config.topology.services[0].name)}"
    raise CliExit(EXIT_USAGE, "tail needs --endpoint ADDRESS (host:port or unix:PATH) or -c standalone.yaml")


def cmd_tail(args: argparse.Namespace) -> int:
    import grpc

    from angzarr_client.proto.angzarr import stream_pb2_grpc

    endpoint = _tail_endpoint(args)
    decoder = _decoder(args)

    async def run() -> int:
        async with grpc.aio.insecure_channel(endpoint) as channel:
            stub = stream_pb2_grpc.EventStreamServiceStub(channel)
            call = stub.Subscribe(types_pb2.EventStreamFilter(correlation_id=args.correlation_id))
            try:
                async for book in call:
                    root = uuid.UUID(bytes=book.cover.root.value) if len(book.cover.root.value) == 16 else ""
                    for page in book.pages:
                        line = {"domain": book.cover.domain, "root": str(root), **_page_json(page, decoder)}
                        print(json.dumps(line, sort_keys=False), flush=True)
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.INVALID_ARGUMENT:
                    raise CliExit(EXIT_USAGE, f"tail: {e.details()}") from None
                raise CliExit(EXIT_ERROR, f"tail: stream ended: {e.code().name}: {e.details()}") from None
        return EXIT_OK

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return EXIT_OK


# -- parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--db", metavar="PATH|URL", help="event store (default: -c file, else DATABASE_URL)")
    store.add_argument("-c", "--config", metavar="FILE",
                       help="standalone.yaml (store, decode modules, topology) or a sidecar topology file")
    decode = argparse.ArgumentParser(add_help=False)
    decode.add_argument("--decode-module", action="append", metavar="MODULE",
                        help="import MODULE to decode its message types (repeatable)")
    decode.add_argument("--descriptor-set", action="append", metavar="FILE",
                        help="a protoc descriptor set with payload types (repeatable)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")

    parser = _Parser(prog="angzarr", description="Angzarr coordinator and inspection tools")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("standalone", help="run every coordinator and the business services in one process")
    p.add_argument("-c", "--config", metavar="FILE", required=True)
    p.add_argument("--check", action="store_true", help="validate the configuration and exit")
    p.set_defaults(func=cmd_standalone)

    p = sub.add_parser("domains", parents=[store, as_json], help="domains with counts and head position")
    p.set_defaults(func=cmd_domains)
    p = sub.add_parser("roots", parents=[store, as_json], help="aggregates of a domain")
    p.add_argument("domain")
    p.set_defaults(func=cmd_roots)
    p = sub.add_parser("show", parents=[store, decode, as_json], help="an aggregate's events, decoded")
    p.add_argument("domain")
    p.add_argument("root")
    p.add_argument("--from", dest="from_", type=int, default=0, metavar="N")
    p.add_argument("--to", type=int, default=None, metavar="M")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("tail", parents=[decode], help="a correlation id's events: history, then live")
    p.add_argument("correlation_id")
    p.add_argument("-c", "--config", metavar="FILE")
    p.add_argument("--endpoint", metavar="ADDRESS", help="coordinator address (host:port or unix:PATH)")
    p.set_defaults(func=cmd_tail, db=None)

    p = sub.add_parser("lag", parents=[store, as_json], help="per subscriber: checkpoint, watermark, lag")
    p.set_defaults(func=cmd_lag)

    dlq = sub.add_parser("dlq", help="dead letters")
    dsub = dlq.add_subparsers(dest="dlq_command", required=True, parser_class=_Parser)
    p = dsub.add_parser("list", parents=[store, decode, as_json])
    p.add_argument("--status", choices=["open", "replay_requested", "replayed", "discarded"])
    p = dsub.add_parser("show", parents=[store, decode])
    p.add_argument("id", type=int)
    p = dsub.add_parser("replay", parents=[store])
    p.add_argument("id", type=int)
    p.add_argument("--rebase", action="store_true", help="restamp a sequence-mismatch command first")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for the outcome (0: do not wait)")
    p = dsub.add_parser("discard", parents=[store])
    p.add_argument("id", type=int)
    dlq.set_defaults(func=cmd_dlq)

    db = sub.add_parser("db", help="schema migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    dbsub.add_parser("migrate", parents=[store])
    dbsub.add_parser("status", parents=[store, as_json])
    db.set_defaults(func=cmd_db)

    snaps = sub.add_parser("snapshots", help="snapshots")
    ssub = snaps.add_subparsers(dest="snapshots_command", required=True, parser_class=_Parser)
    p = ssub.add_parser("drop", parents=[store])
    p.add_argument("domain")
    p.add_argument("root", nargs="?")
    snaps.set_defaults(func=cmd_snapshots)

    add_distributed_commands(sub)  # coordinator (the sidecar), topology export
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``angzarr`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except CliExit as e:
        if e.message:
            print(e.message, file=sys.stderr)
        return e.code
    except BrokenPipeError:
        return EXIT_OK
    except (StoreError, OSError) as e:
        print(f"angzarr: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
