"""Contract: an acknowledged commit survives ``kill -9``; an interrupted commit is all or nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid

import pytest

from angzarr_coordinator.store.base import AggregateKey, NewCommit

ACKS_BEFORE_KILL = 300


async def _run_until_killed(command: list[str]) -> list[dict]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    acks: list[dict] = []
    try:
        while len(acks) < ACKS_BEFORE_KILL:
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            if not line:
                err = (await process.stderr.read()).decode(errors="replace")
                pytest.fail(f"writer exited early after {len(acks)} commits: {err[-2000:]}")
            acks.append(json.loads(line))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    # Lines already in the pipe were acknowledged before the kill as well.
    for line in (await process.stdout.read()).splitlines():
        try:
            acks.append(json.loads(line))
        except ValueError:
            break  # a line cut by the kill: its commit may or may not be there
    return acks


async def _whole_log(store) -> list:
    commits, after = [], 0
    while batch := await store.read_log(after, limit=100):
        commits.extend(batch)
        after = batch[-1].last_position
    return commits


@pytest.mark.parametrize("synchronous", ["full", "normal"])
async def test_acknowledged_commits_survive_kill_9_and_none_is_partial(backend, synchronous):
    acks: list[dict] = []
    for run in "abc":  # kill the writer three times on the same storage
        acks += await _run_until_killed(backend.writer_command(synchronous, run))
        await _check_recovered(backend, acks)


async def _check_recovered(backend, acks: list[dict]) -> None:
    store = backend.create()
    await store.open()
    try:
        commits = await _whole_log(store)
        by_tag = {}
        for commit in commits:
            payloads = [p.event.value.decode() for p in commit.pages]
            tag, _, shape = payloads[0].partition(":")
            size = int(shape.split("/")[1])
            assert payloads == [f"{tag}:{i}/{size}" for i in range(size)], "partial or mixed commit"
            assert [p.header.sequence for p in commit.pages] == list(
                range(commit.first_sequence, commit.first_sequence + size)
            )
            assert tag not in by_tag, f"commit {tag} stored twice"
            by_tag[tag] = commit
        # No event row lies outside a whole commit.
        total = sum(d.events for d in await store.domains())
        assert total == sum(len(c.pages) for c in commits)

        for ack in acks:
            commit = by_tag.get(ack["tag"])
            assert commit is not None, f"acknowledged commit {ack['tag']} was lost"
            assert (commit.first_position, commit.last_position) == (ack["first_position"], ack["last_position"])
            assert (str(commit.key.root), commit.first_sequence, len(commit.pages)) == (
                ack["root"], ack["first_sequence"], ack["size"]
            )
            assert (await store.find_provenance(commit.key, ack["tag"])).first_position == commit.first_position

        # Sequences per aggregate are gap-free and the store accepts new work at the true head.
        for n in range(4):
            key = AggregateKey("crash", uuid.UUID(int=n + 1))
            loaded = await store.load(key)
            assert [p.header.sequence for p in loaded.pages] == list(range(loaded.next_sequence))
            page = loaded.pages[-1].__class__()
            page.CopyFrom(loaded.pages[-1])
            page.header.sequence = loaded.next_sequence
            page.event.value = f"recovered-{n}-{loaded.next_sequence}:0/1".encode()
            await store.append(NewCommit(key, loaded.next_sequence, [page], "after-crash"))
    finally:
        await store.close()
