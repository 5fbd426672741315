"""``angzarr`` inspection commands against a populated SQLite store (spec/coordinator.md §10.5).

Exit codes: 0 ok, 1 error, 2 usage, 3 not found. Most cases call ``cli.main`` in-process (the code the
console script runs); a few run the console script itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from google.protobuf import any_pb2, timestamp_pb2
from runtime_harness import ANGZARR

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.cli import main
from angzarr_coordinator.inspect import REPLAY_REBASE_KEY
from angzarr_coordinator.store.base import AggregateKey, NewCommit
from angzarr_coordinator.store.sqlite import SqliteEventStore
from poker_contracts import player_pb2

ROOT_A = uuid.UUID("11111111-2222-3333-4444-555555555555")
ROOT_B = uuid.UUID("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
UNKNOWN_BYTES = b"\x08\x2a\x12\x03abc"


def pack(message) -> any_pb2.Any:
    payload = any_pb2.Any()
    payload.Pack(message)
    return payload


def page(seq: int, payload: any_pb2.Any) -> types_pb2.EventPage:
    return types_pb2.EventPage(header=types_pb2.PageHeader(sequence=seq), event=payload,
                               created_at=timestamp_pb2.Timestamp(seconds=1_700_000_000 + seq))


async def populate(db: Path) -> None:
    store = SqliteEventStore(db)
    await store.open()
    try:
        a = AggregateKey("player", ROOT_A)
        await store.append(NewCommit(a, 0, [page(0, pack(player_pb2.RegisterPlayer(display_name="Ann")))], "c1"))
        state = types_pb2.Snapshot(sequence=1, state=pack(player_pb2.RegisterPlayer(display_name="state")))
        await store.append(NewCommit(a, 1, [page(1, pack(player_pb2.SitOut()))], "c1", snapshot=state))
        await store.append(NewCommit(a, 2, [page(2, pack(player_pb2.SitIn()))], "c2"))
        unknown = any_pb2.Any(type_url="type.googleapis.com/examples.NotInAnyModule", value=UNKNOWN_BYTES)
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
    finally:
        await store.close()


@pytest.fixture(scope="module")
def populated():
    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="azc"))
    db = root / "data" / "angzarr.db"
    db.parent.mkdir()
    asyncio.run(populate(db))
    config = root / "standalone.yaml"
    config.write_text(yaml.safe_dump({
        "storage": {"sqlite": {"path": "./data/angzarr.db"}},
        "services": [{"name": "player", "command": ["true"], "hosts": {
                         "command_handler": {"domain": "player"}, "projector": {"name": "hand-log", "listen": ["player"]}}},
                     {"name": "table", "command": ["true"], "hosts": {"command_handler": {"domain": "table"}}}],
        "decode": {"modules": ["poker_contracts.player_pb2"]},
    }))
    yield root, db, config
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh(populated, tmp_path):
    """A private copy of the populated store, for commands that write."""
    _, db, _ = populated
    copy = Path(tempfile.mkdtemp(dir="/tmp", prefix="azw")) / "angzarr.db"
    shutil.copy(db, copy)
    yield copy
    shutil.rmtree(copy.parent, ignore_errors=True)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_domains_with_counts_and_head(populated, capsys):
    _, db, _ = populated
    assert run_json(capsys, "domains", "--db", str(db)) == [
        {"domain": "player", "aggregates": 2, "events": 4, "head_position": 4},
        {"domain": "table", "aggregates": 1, "events": 1, "head_position": 5},
    ]
    code, out, _ = run(capsys, "domains", "--db", str(db))
    assert code == 0 and out.splitlines()[0].split() == ["DOMAIN", "AGGREGATES", "EVENTS", "HEAD"]


def test_roots_and_an_empty_domain(populated, capsys):
    _, db, _ = populated
    roots = run_json(capsys, "roots", "player", "--db", str(db))
    assert [(r["root"], r["events"], r["last_sequence"]) for r in roots] == [(str(ROOT_A), 3, 2), (str(ROOT_B), 1, 0)]
    assert roots[0]["last_write"] == "2023-11-14T22:13:22Z"
    code, _, err = run(capsys, "roots", "nobody", "--db", str(db))
    assert code == 3 and "no aggregates in domain 'nobody'" in err


def test_show_decodes_with_the_config_modules_and_shows_the_snapshot(populated, capsys):
    _, _, config = populated
    shown = run_json(capsys, "show", "player", str(ROOT_A), "-c", str(config))
    assert shown["next_sequence"] == 3
    assert shown["snapshot"] == {"sequence": 1, "retention": "RETENTION_DEFAULT", "state": {
        "@type": "type.googleapis.com/examples.RegisterPlayer", "display_name": "state"}}
    assert [e["sequence"] for e in shown["events"]] == [0, 1, 2]
    assert shown["events"][0]["event"] == {"@type": "type.googleapis.com/examples.RegisterPlayer",
                                           "display_name": "Ann"}
    assert shown["events"][0]["created_at"] == "2023-11-14T22:13:20Z"

    ranged = run_json(capsys, "show", "player", str(ROOT_A), "-c", str(config), "--from", "1", "--to", "1")
    assert [e["event"]["@type"] for e in ranged["events"]] == ["type.googleapis.com/examples.SitOut"]

    code, out, _ = run(capsys, "show", "player", str(ROOT_A), "-c", str(config))
    assert code == 0 and "snapshot at sequence 1" in out and 'RegisterPlayer  {"display_name": "Ann"}' in out


def test_unknown_types_show_as_type_and_base64(populated, capsys):
    _, db, _ = populated
    shown = run_json(capsys, "show", "player", str(ROOT_B), "--db", str(db))
    assert shown["events"][0]["event"] == {"@type": "type.googleapis.com/examples.NotInAnyModule",
                                           "value": base64.b64encode(UNKNOWN_BYTES).decode()}


def test_decode_module_flag_and_descriptor_set(populated, capsys, tmp_path):
    _, db, _ = populated
    shown = run_json(capsys, "show", "table", str(ROOT_B), "--db", str(db), "--decode-module", "poker_contracts.player_pb2")
    assert shown["events"][0]["event"] == {"@type": "type.googleapis.com/examples.SitIn"}
    code, _, err = run(capsys, "show", "table", str(ROOT_B), "--db", str(db), "--decode-module", "no.such.module")
    assert code == 1 and "cannot import decode module 'no.such.module'" in err
    (tmp_path / "bad.pb").write_bytes(b"\xff\xff")
    code, _, err = run(capsys, "show", "table", str(ROOT_B), "--db", str(db), "--descriptor-set", str(tmp_path / "bad.pb"))
    assert code == 1 and "cannot read descriptor set" in err


def test_show_not_found_and_usage_errors(populated, capsys):
    _, db, _ = populated
    code, _, err = run(capsys, "show", "player", str(uuid.uuid4()), "--db", str(db))
    assert code == 3 and "no events for player/" in err
    code, _, err = run(capsys, "show", "player", "not-a-uuid", "--db", str(db))
    assert code == 2 and "is not a UUID" in err
    code, _, err = run(capsys, "show", "player", str(ROOT_A), "--db", str(db), "--from", "2", "--to", "1")
    assert code == 2
    code, _, err = run(capsys, "show", "player", "--db", str(db))
    assert code == 2 and "usage" in err


def test_dlq_list_and_show(populated, capsys):
    _, _, config = populated
    letters = run_json(capsys, "dlq", "list", "-c", str(config))
    assert [(x["id"], x["status"], x["source"], x["subscriber"]) for x in letters] == [
        (1, "open", "command_handler:player", None), (2, "open", "projector:hand-log", "hand-log")]
    code, out, _ = run(capsys, "dlq", "show", "1", "-c", str(config))
    shown = json.loads(out)
    assert code == 0 and shown["sequence_mismatch"] == {"expected_sequence": 1, "actual_sequence": 3}
    assert shown["rejected_command"] == [{"sequence": 1, "command": {"@type": "type.googleapis.com/examples.SitOut"}}]
    assert shown["reason"] == "Sequence mismatch: expects 1, at 3"
    code, _, err = run(capsys, "dlq", "show", "99", "-c", str(config))
    assert code == 3 and "no dead letter with id 99" in err


def test_dlq_replay_marks_the_request_and_waits_for_the_outcome(fresh, capsys):
    db = str(fresh)
    code, out, _ = run(capsys, "dlq", "replay", "1", "--rebase", "--wait", "0", "--db", db)
    assert code == 0 and "replay requested (rebase)" in out
    letter = run_json(capsys, "dlq", "list", "--db", db)[0]
    assert letter["status"] == "replay_requested"
    code, out, _ = run(capsys, "dlq", "show", "1", "--db", db)
    assert json.loads(out)["metadata"] == {REPLAY_REBASE_KEY: "true"}

    # Nobody replays it: the CLI says so and fails, the request stays recorded.
    code, _, err = run(capsys, "dlq", "replay", "2", "--wait", "0.3", "--db", db)
    assert code == 1 and "no coordinator replayed it within 0.3 s" in err

    # A coordinator (here: a writer on the same store) records the outcome while the CLI waits.
    def replay_elsewhere(status: str, error: str | None) -> None:
        async def mark() -> None:
            store = SqliteEventStore(fresh)
            await store.open()
            await store.update_dead_letter(2, status=status, last_error=error, attempted=True)
            await store.close()

        time.sleep(0.3)
        asyncio.run(mark())

    helper = threading.Thread(target=replay_elsewhere, args=("replayed", None))
    helper.start()
    code, out, err = run(capsys, "dlq", "replay", "2", "--wait", "30", "--db", db)
    helper.join()
    assert code == 0 and "dead letter 2: replayed" in out, err

    helper = threading.Thread(target=replay_elsewhere, args=("open", "INTERNAL: still broken"))
    helper.start()
    code, _, err = run(capsys, "dlq", "replay", "2", "--wait", "30", "--db", db)
    helper.join()
    assert code == 1 and "replay failed (open): INTERNAL: still broken" in err


def test_dlq_discard_and_unknown_ids(fresh, capsys):
    db = str(fresh)
    code, out, _ = run(capsys, "dlq", "discard", "1", "--db", db)
    assert code == 0 and "discarded" in out
    assert [x["id"] for x in run_json(capsys, "dlq", "list", "--status", "discarded", "--db", db)] == [1]
    assert run(capsys, "dlq", "discard", "42", "--db", db)[0] == 3
    assert run(capsys, "dlq", "replay", "42", "--wait", "0", "--db", db)[0] == 3


def test_snapshots_drop(fresh, capsys):
    db = str(fresh)
    code, out, _ = run(capsys, "snapshots", "drop", "player", str(ROOT_A), "--db", db)
    assert code == 0 and "dropped 1 snapshot(s) of player/" in out
    assert run_json(capsys, "show", "player", str(ROOT_A), "--db", db)["snapshot"] is None
    assert "dropped 0 snapshot(s) of player" in run(capsys, "snapshots", "drop", "player", "--db", db)[1]


def test_db_migrate_and_status(capsys):
    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="azm"))
    try:
        db = root / "new" / "angzarr.db"
        code, out, _ = run(capsys, "db", "migrate", "--db", f"sqlite:///{db}")
        assert code == 0 and "schema at version" in out
        status = run_json(capsys, "db", "status", "--db", str(db))
        assert status and all(m["applied_at"] for m in status)
        assert status[0]["version"] == 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_store_resolution_and_errors(populated, capsys, monkeypatch):
    _, db, _ = populated
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    assert run_json(capsys, "domains")[0]["domain"] == "player"
    monkeypatch.delenv("DATABASE_URL")
    code, _, err = run(capsys, "domains")
    assert code == 2 and "no store named" in err
    code, _, err = run(capsys, "domains", "--db", "mysql://db/angzarr")
    assert code == 1 and "unsupported event store URL scheme 'mysql'" in err
    # PostgreSQL URLs are served (test_cli_postgres_*); one where nothing listens is an error, not a crash
    code, _, err = run(capsys, "domains", "--db", "postgresql://angzarr@127.0.0.1:1/angzarr")
    assert code == 1 and "cannot open the event store at postgresql://angzarr@127.0.0.1:1/angzarr" in err
    code, _, err = run(capsys, "domains", "--db", "/tmp/definitely/not/here.db")
    assert code == 1 and "no event store at /tmp/definitely/not/here.db" in err
    assert not Path("/tmp/definitely").exists()  # reading never creates a store


def test_console_script_exit_codes(populated):
    _, db, _ = populated
    ok = subprocess.run([str(ANGZARR), "roots", "table", "--db", str(db)], capture_output=True, text=True)
    assert ok.returncode == 0 and str(ROOT_B) in ok.stdout
    missing = subprocess.run([str(ANGZARR), "roots", "nope", "--db", str(db)], capture_output=True, text=True)
    assert missing.returncode == 3
    usage = subprocess.run([str(ANGZARR), "frobnicate"], capture_output=True, text=True)
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_lag_per_subscriber(populated, capsys):
    _, db, config = populated
    (row,) = run_json(capsys, "lag", "-c", str(config))
    assert {k: row[k] for k in ("subscriber", "kind", "checkpoint", "watermark", "lag_events", "state")} == {
        "subscriber": "hand-log", "kind": "projector", "checkpoint": 2, "watermark": 5, "lag_events": 2,
        "state": "behind"}
    assert row["lag_seconds"] > 0 and row["open_dead_letters"] == 1 and row["last_error"] == "projector failed"
    # Without a topology: every checkpointed subscriber, measured against all domains.
    (row,) = run_json(capsys, "lag", "--db", str(db))
    assert (row["subscriber"], row["lag_events"]) == ("hand-log", 3)
