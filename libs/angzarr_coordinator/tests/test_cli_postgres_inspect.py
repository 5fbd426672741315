"""``angzarr`` inspection commands on a PostgreSQL store (spec/coordinator.md §10.5, distributed mode).

Each module gets a throwaway database (``CREATE DATABASE angzarr_cli_<random>``, dropped at the end),
populated through the ``EventStore`` API; the real ``angzarr`` console script runs as a subprocess with
``--db postgresql://...`` or ``DATABASE_URL``. Exit codes: 0 ok, 1 error, 2 usage, 3 not found.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import yaml
from google.protobuf import any_pb2, timestamp_pb2

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.inspect import REPLAY_REBASE_KEY
from angzarr_coordinator.store.base import AggregateKey, NewCommit
from angzarr_coordinator.store.postgres import PostgresEventStore
from poker_contracts import player_pb2

pytestmark = pytest.mark.postgres

ANGZARR = Path(sys.executable).with_name("angzarr")
ROOT_A = uuid.UUID("11111111-2222-3333-4444-555555555555")
ROOT_B = uuid.UUID("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
UNKNOWN_BYTES = b"\x08\x2a\x12\x03abc"
PLAYER_TYPES = "type.googleapis.com/examples."


def pack(message) -> any_pb2.Any:
    payload = any_pb2.Any()
    payload.Pack(message)
    return payload


def page(seq: int, payload: any_pb2.Any) -> types_pb2.EventPage:
    return types_pb2.EventPage(header=types_pb2.PageHeader(sequence=seq), event=payload,
                               created_at=timestamp_pb2.Timestamp(seconds=1_700_000_000 + seq))


def _admin(dsn: str, sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _database(postgres_dsn: str) -> Iterator[str]:
    name = f"angzarr_cli_{uuid.uuid4().hex[:12]}"
    _admin(postgres_dsn, f"CREATE DATABASE {name}")
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(postgres_dsn)._replace(path="/" + name))
    finally:
        _admin(postgres_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def with_store(dsn: str, work):
    store = PostgresEventStore(dsn, pool_size=2, catch_up=0.0, listen=False)
    await store.open()
    try:
        return await work(store)
    finally:
        await store.close()


async def populate(store: PostgresEventStore) -> None:
    a = AggregateKey("player", ROOT_A)
    await store.append(NewCommit(a, 0, [page(0, pack(player_pb2.RegisterPlayer(display_name="Ann")))], "c1"))
    state = types_pb2.Snapshot(sequence=1, state=pack(player_pb2.RegisterPlayer(display_name="state")))
    await store.append(NewCommit(a, 1, [page(1, pack(player_pb2.SitOut()))], "c1", snapshot=state))
    await store.append(NewCommit(a, 2, [page(2, pack(player_pb2.SitIn()))], "c2"))
    unknown = any_pb2.Any(type_url=PLAYER_TYPES.replace("examples.", "examples.NotInAnyModule"), value=UNKNOWN_BYTES)
    await store.append(NewCommit(AggregateKey("player", ROOT_B), 0, [page(0, unknown)], "c3"))
    await store.append(NewCommit(AggregateKey("table", ROOT_B), 0, [page(0, pack(player_pb2.SitIn()))], "c3"))

    cover = types_pb2.Cover(domain="player", root=types_pb2.UUID(value=ROOT_A.bytes))
    command = types_pb2.CommandBook(cover=cover, pages=[types_pb2.CommandPage(
        header=types_pb2.PageHeader(sequence=1), command=pack(player_pb2.SitOut()))])
    await store.add_dead_letter(types_pb2.AngzarrDeadLetter(
        cover=cover, rejected_command=command, rejection_reason="Sequence mismatch: expects 1, at 3",
        source_component="player", source_component_type="command_handler",
        sequence_mismatch=types_pb2.SequenceMismatchDetails(expected_sequence=1, actual_sequence=3)))
    await store.add_dead_letter(types_pb2.AngzarrDeadLetter(
        cover=cover, rejected_events=types_pb2.EventBook(cover=cover, pages=[page(2, pack(player_pb2.SitIn()))]),
        rejection_reason="projector failed", source_component="hand-log", source_component_type="projector"),
        subscriber="hand-log")
    await store.set_checkpoint("hand-log", 2)


@pytest.fixture(scope="module")
def pg(postgres_dsn: str) -> Iterator[str]:
    """The DSN of this module's populated database."""
    for dsn in _database(postgres_dsn):
        asyncio.run(with_store(dsn, populate))
        yield dsn


@pytest.fixture
def empty_db(postgres_dsn: str) -> Iterator[str]:
    """A database of its own with no schema at all."""
    yield from _database(postgres_dsn)


@pytest.fixture(scope="module")
def standalone_yaml(tmp_path_factory) -> Path:
    """A standalone.yaml naming the subscribers and decode modules (its SQLite store is not used when
    ``--db`` names the PostgreSQL one)."""
    path = tmp_path_factory.mktemp("cli_pg") / "standalone.yaml"
    path.write_text(yaml.safe_dump({
        "storage": {"sqlite": {"path": "./data/never-opened.db"}},
        "services": [{"name": "player", "command": ["true"], "hosts": {
                         "command_handler": {"domain": "player"}, "projector": {"name": "hand-log", "listen": ["player"]}}},
                     {"name": "table", "command": ["true"], "hosts": {"command_handler": {"domain": "table"}}}],
        "decode": {"modules": ["poker_contracts.player_pb2"]},
    }))
    return path


def angzarr(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the console script with a clean store environment plus ``env``."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "ANGZARR_MIGRATE", "ANGZARR_TOPOLOGY")}
    return subprocess.run([str(ANGZARR), *argv], capture_output=True, text=True, env={**base, **env}, timeout=60)


def as_json(*argv: str, **env: str):
    done = angzarr(*argv, "--json", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_domains_and_roots_with_db_and_database_url(pg):
    expected = [{"domain": "player", "aggregates": 2, "events": 4, "head_position": 4},
                {"domain": "table", "aggregates": 1, "events": 1, "head_position": 5}]
    assert as_json("domains", "--db", pg) == expected
    assert as_json("domains", DATABASE_URL=pg) == expected
    table = angzarr("domains", DATABASE_URL=pg)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split() == ["DOMAIN", "AGGREGATES", "EVENTS", "HEAD"]

    roots = as_json("roots", "player", "--db", pg)
    assert [(r["root"], r["events"], r["last_sequence"]) for r in roots] == [(str(ROOT_A), 3, 2), (str(ROOT_B), 1, 0)]
    missing = angzarr("roots", "nobody", DATABASE_URL=pg)
    assert missing.returncode == 3 and "no aggregates in domain 'nobody'" in missing.stderr


def test_show_decodes_with_the_config_modules_and_shows_the_snapshot(pg, standalone_yaml):
    shown = as_json("show", "player", str(ROOT_A), "--db", pg, "-c", str(standalone_yaml))
    assert shown["next_sequence"] == 3
    assert shown["snapshot"] == {"sequence": 1, "retention": "RETENTION_DEFAULT", "state": {
        "@type": PLAYER_TYPES + "RegisterPlayer", "display_name": "state"}}
    assert [e["sequence"] for e in shown["events"]] == [0, 1, 2]
    assert shown["events"][0] == {"sequence": 0, "created_at": "2023-11-14T22:13:20Z",
                                  "event": {"@type": PLAYER_TYPES + "RegisterPlayer", "display_name": "Ann"}}
    ranged = as_json("show", "player", str(ROOT_A), "--from", "1", "--to", "1",
                     "--decode-module", "poker_contracts.player_pb2", DATABASE_URL=pg)
    assert [e["event"]["@type"] for e in ranged["events"]] == [PLAYER_TYPES + "SitOut"]
    assert ranged["next_sequence"] == 3

    unknown = as_json("show", "player", str(ROOT_B), "--db", pg)
    assert unknown["events"][0]["event"] == {"@type": PLAYER_TYPES + "NotInAnyModule",
                                             "value": base64.b64encode(UNKNOWN_BYTES).decode()}

    text = angzarr("show", "player", str(ROOT_A), "--db", pg, "-c", str(standalone_yaml))
    assert text.returncode == 0 and "snapshot at sequence 1" in text.stdout
    assert 'RegisterPlayer  {"display_name": "Ann"}' in text.stdout


def test_show_not_found_and_usage(pg):
    missing = angzarr("show", "player", str(uuid.uuid4()), "--db", pg)
    assert missing.returncode == 3 and "no events for player/" in missing.stderr
    bad = angzarr("show", "player", "not-a-uuid", "--db", pg)
    assert bad.returncode == 2 and "is not a UUID" in bad.stderr


def test_dlq_list_and_show(pg, standalone_yaml):
    letters = as_json("dlq", "list", "--status", "open", "--db", pg)
    assert [(x["id"], x["status"], x["source"], x["subscriber"]) for x in letters][:2] == [
        (1, "open", "command_handler:player", None), (2, "open", "projector:hand-log", "hand-log")]
    shown = angzarr("dlq", "show", "1", "--db", pg, "-c", str(standalone_yaml))
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["sequence_mismatch"] == {"expected_sequence": 1, "actual_sequence": 3}
    assert body["rejected_command"] == [{"sequence": 1, "command": {"@type": PLAYER_TYPES + "SitOut"}}]
    assert body["reason"] == "Sequence mismatch: expects 1, at 3"
    missing = angzarr("dlq", "show", "99", DATABASE_URL=pg)
    assert missing.returncode == 3 and "no dead letter with id 99" in missing.stderr


def _add_letter(dsn: str, reason: str) -> int:
    cover = types_pb2.Cover(domain="player", root=types_pb2.UUID(value=uuid.uuid4().bytes))
    command = types_pb2.CommandBook(cover=cover, pages=[types_pb2.CommandPage(
        header=types_pb2.PageHeader(sequence=0), command=pack(player_pb2.SitIn()))])
    letter = types_pb2.AngzarrDeadLetter(cover=cover, rejected_command=command, rejection_reason=reason,
                                         source_component="player", source_component_type="command_handler")
    return asyncio.run(with_store(dsn, lambda s: s.add_dead_letter(letter)))


def _letter(dsn: str, letter_id: int):
    return asyncio.run(with_store(dsn, lambda s: s.get_dead_letter(letter_id)))


def test_dlq_replay_records_the_request_and_the_rebase_flag(pg):
    letter_id = _add_letter(pg, "to replay")
    done = angzarr("dlq", "replay", str(letter_id), "--rebase", "--wait", "0", "--db", pg)
    assert done.returncode == 0 and "replay requested (rebase)" in done.stdout
    record = _letter(pg, letter_id)
    assert record.status == "replay_requested" and record.letter.metadata[REPLAY_REBASE_KEY] == "true"
    assert record.letter.rejection_reason == "to replay"  # the rest of the letter is kept

    # Asked again without --rebase: the flag goes.
    assert angzarr("dlq", "replay", str(letter_id), "--wait", "0", DATABASE_URL=pg).returncode == 0
    assert REPLAY_REBASE_KEY not in _letter(pg, letter_id).letter.metadata

    nobody = angzarr("dlq", "replay", str(letter_id), "--wait", "0.3", "--db", pg)
    assert nobody.returncode == 1 and "no coordinator replayed it within 0.3 s" in nobody.stderr
    unknown = angzarr("dlq", "replay", "4242", "--wait", "0", "--db", pg)
    assert unknown.returncode == 3 and "no dead letter with id 4242" in unknown.stderr


@pytest.mark.parametrize(("outcome", "error", "code", "said"), [
    ("replayed", None, 0, "replayed"),
    ("open", "INTERNAL: still broken", 1, "replay failed (open): INTERNAL: still broken"),
])
def test_dlq_replay_waits_for_the_coordinator_outcome(pg, outcome, error, code, said):
    letter_id = _add_letter(pg, "waited for")
    waiting = subprocess.Popen([str(ANGZARR), "dlq", "replay", str(letter_id), "--wait", "60", "--db", pg],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Play the coordinator hosting it: once the request is recorded, record the outcome.
        deadline = time.monotonic() + 30
        while _letter(pg, letter_id).status != "replay_requested":
            assert time.monotonic() < deadline, "the CLI never recorded the replay request"
            time.sleep(0.05)
        asyncio.run(with_store(pg, lambda s: s.update_dead_letter(letter_id, status=outcome, last_error=error,
                                                                  attempted=True)))
        out, err = waiting.communicate(timeout=60)
    finally:
        waiting.kill()
    assert waiting.returncode == code, err
    assert said in (out if code == 0 else err)


def test_dlq_discard(pg):
    letter_id = _add_letter(pg, "to discard")
    done = angzarr("dlq", "discard", str(letter_id), DATABASE_URL=pg)
    assert done.returncode == 0 and f"dead letter {letter_id} discarded" in done.stdout
    assert _letter(pg, letter_id).status == "discarded"
    assert letter_id in [x["id"] for x in as_json("dlq", "list", "--status", "discarded", "--db", pg)]
    unknown = angzarr("dlq", "discard", "4242", "--db", pg)
    assert unknown.returncode == 3


def test_snapshots_drop(pg):
    root = uuid.uuid4()
    key = AggregateKey("drops", root)
    state = types_pb2.Snapshot(sequence=0, state=pack(player_pb2.SitIn()))
    asyncio.run(with_store(pg, lambda s: s.append(NewCommit(key, 0, [page(0, pack(player_pb2.SitIn()))], "d",
                                                            snapshot=state))))
    assert as_json("show", "drops", str(root), "--db", pg)["snapshot"]["sequence"] == 0
    done = angzarr("snapshots", "drop", "drops", str(root), "--db", pg)
    assert done.returncode == 0 and f"dropped 1 snapshot(s) of drops/{root}" in done.stdout
    assert as_json("show", "drops", str(root), "--db", pg)["snapshot"] is None
    again = angzarr("snapshots", "drop", "drops", DATABASE_URL=pg)
    assert again.returncode == 0 and "dropped 0 snapshot(s) of drops" in again.stdout


def _hand_log(rows: list[dict]) -> dict:
    (row,) = [r for r in rows if r["subscriber"] == "hand-log"]
    return row


def test_lag_with_a_topology_from_c_or_angzarr_topology(pg, standalone_yaml, tmp_path):
    expected = {"subscriber": "hand-log", "kind": "projector", "checkpoint": 2, "lag_events": 2, "state": "behind",
                "open_dead_letters": 1, "last_error": "projector failed"}
    row = _hand_log(as_json("lag", "--db", pg, "-c", str(standalone_yaml)))
    assert {k: row[k] for k in expected} == expected  # player events after position 2: ROOT_A #2, ROOT_B #0
    assert row["watermark"] >= 5 and row["lag_seconds"] > 0

    # The sidecar topology file (angzarr topology export), by -c or ANGZARR_TOPOLOGY.
    topology = tmp_path / "topology.yaml"
    exported = angzarr("topology", "export", "-c", str(standalone_yaml), "-o", str(topology))
    assert exported.returncode == 0, exported.stderr
    for argv, env in ((["-c", str(topology)], {}), ([], {"ANGZARR_TOPOLOGY": str(topology)})):
        row = _hand_log(as_json("lag", "--db", pg, *argv, **env))
        assert {k: row[k] for k in expected} == expected

    # No topology: the subscribers with a checkpoint, kind unknown.
    rows = as_json("lag", DATABASE_URL=pg)
    assert [(r["subscriber"], r["kind"], r["checkpoint"]) for r in rows] == [("hand-log", "?", 2)]
    broken = angzarr("lag", "--db", pg, ANGZARR_TOPOLOGY=str(tmp_path / "missing.yaml"))
    assert broken.returncode == 1 and "cannot read the topology file" in broken.stderr


def test_db_status_and_angzarr_migrate_0(empty_db):
    pending = as_json("db", "status", "--db", empty_db)
    assert pending and all(m["applied_at"] is None for m in pending) and pending[0]["version"] == 1

    # ANGZARR_MIGRATE=0: the CLI refuses the unmigrated schema and migrates nothing.
    refused = angzarr("domains", "--db", empty_db, ANGZARR_MIGRATE="0")
    assert refused.returncode == 1 and "run 'angzarr db migrate'" in refused.stderr
    assert all(m["applied_at"] is None for m in as_json("db", "status", DATABASE_URL=empty_db))
    bad = angzarr("domains", "--db", empty_db, ANGZARR_MIGRATE="maybe")
    assert bad.returncode == 2 and "ANGZARR_MIGRATE" in bad.stderr

    migrated = angzarr("db", "migrate", DATABASE_URL=empty_db)
    assert migrated.returncode == 0 and "schema at version" in migrated.stdout
    applied = as_json("db", "status", "--db", empty_db)
    assert [m["version"] for m in applied] == [m["version"] for m in pending]
    assert all(m["applied_at"] and m["applied_at"].endswith("Z") for m in applied)
    table = angzarr("db", "status", "--db", empty_db)
    assert table.returncode == 0 and table.stdout.split()[:3] == ["VERSION", "NAME", "APPLIED"]
    empty = angzarr("domains", "--db", empty_db, ANGZARR_MIGRATE="0")
    assert empty.returncode == 0 and "no events stored yet" in empty.stdout


def test_default_open_migrates_a_fresh_database(empty_db):
    done = angzarr("dlq", "list", DATABASE_URL=empty_db)
    assert done.returncode == 0 and "no dead letters" in done.stdout
    assert all(m["applied_at"] for m in as_json("db", "status", "--db", empty_db))


def test_unreachable_or_missing_database_is_an_error_without_the_password(postgres_dsn):
    parts = urllib.parse.urlsplit(postgres_dsn)
    user = parts.username or "postgres"
    missing = urllib.parse.urlunsplit(parts._replace(
        netloc=f"{user}:s3cret@{parts.hostname}:{parts.port or 5432}", path="/angzarr_cli_no_such_db"))
    for argv in (["domains"], ["dlq", "list"], ["db", "status"]):
        done = angzarr(*argv, "--db", missing)
        assert done.returncode == 1, (argv, done.stderr)
        assert "angzarr_cli_no_such_db" in done.stderr and "s3cret" not in done.stderr
        assert "Traceback" not in done.stderr
    nothing = angzarr("domains", "--db", "postgresql://angzarr@127.0.0.1:1/angzarr")
    assert nothing.returncode == 1 and "cannot open the event store" in nothing.stderr
    for argv in (["domains"], ["db", "status"]):  # a DSN the driver cannot parse
        malformed = angzarr(*argv, "--db", "postgresql://127.0.0.1:notaport/angzarr")
        assert malformed.returncode == 1 and "postgresql://127.0.0.1:notaport/angzarr" in malformed.stderr
        assert "Traceback" not in malformed.stderr


def test_angzarr_migrate_concerns_postgresql_only(tmp_path):
    db = tmp_path / "events.db"
    assert angzarr("db", "migrate", "--db", str(db)).returncode == 0
    done = angzarr("domains", "--db", str(db), ANGZARR_MIGRATE="maybe")
    assert done.returncode == 0 and "no events stored yet" in done.stdout
