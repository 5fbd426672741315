"""Contract: the global log (read_log, watermark, wake-ups) and the cross-aggregate reads."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest


@pytest.fixture
async def history(store, make):
    """Five commits over three aggregates, two domains and two correlation ids."""
    a, b, c = make.key("player"), make.key("table"), make.key("player")
    commits = [
        await store.append(make.commit(a, 0, 1, correlation_id="game-1", tag="a")),
        await store.append(make.commit(b, 0, 3, correlation_id="game-1", tag="b")),
        await store.append(make.commit(c, 0, 2, correlation_id="game-2", tag="c")),
        await store.append(make.commit(a, 1, 2, correlation_id="game-1", tag="a")),
        await store.append(make.commit(b, 3, 1, correlation_id="game-2", tag="b")),
    ]
    return (a, b, c), commits


def _shape(records):
    return [(r.key, r.correlation_id, r.first_position, r.last_position, [p.header.sequence for p in r.pages])
            for r in records]


async def test_read_log_returns_whole_commits_in_position_order(store, history):
    _, commits = history
    logged = await store.read_log(0)
    assert _shape(logged) == _shape(commits)
    for record, original in zip(logged, commits):
        assert [p.SerializeToString() for p in record.pages] == [p.SerializeToString() for p in original.pages]
    assert _shape(await store.read_log(commits[1].last_position)) == _shape(commits[2:])
    assert await store.read_log(commits[-1].last_position) == []


async def test_read_log_limit_counts_commits(store, history):
    _, commits = history
    assert _shape(await store.read_log(0, limit=2)) == _shape(commits[:2])
    assert _shape(await store.read_log(commits[0].last_position, limit=1)) == _shape(commits[1:2])
    assert await store.read_log(0, limit=0) == []


async def test_read_log_filters_by_domain_and_correlation(store, history):
    (a, b, c), commits = history
    assert _shape(await store.read_log(0, domains=["table"])) == _shape([commits[1], commits[4]])
    assert _shape(await store.read_log(0, domains=["player", "table"])) == _shape(commits)
    assert await store.read_log(0, domains=[]) == []
    assert await store.read_log(0, domains=["nobody"]) == []
    assert _shape(await store.read_log(0, correlation_id="game-2")) == _shape([commits[2], commits[4]])
    assert _shape(await store.read_log(0, domains=["player"], correlation_id="game-1")) == _shape(
        [commits[0], commits[3]]
    )
    assert _shape(await store.read_log(commits[2].last_position, correlation_id="game-2", limit=5)) == _shape(
        [commits[4]]
    )


async def test_read_log_never_returns_half_a_commit(store, history):
    _, commits = history
    inside = commits[1].first_position  # a position in the middle of the three-page commit
    assert _shape(await store.read_log(inside)) == _shape(commits[2:])


async def test_watermark_covers_every_acknowledged_commit(store, make):
    assert await store.watermark() == 0
    key = make.key()
    for n in range(5):
        record = await store.append(make.commit(key, 2 * n, 2))
        assert await store.watermark() >= record.last_position
        logged = await store.read_log(record.first_position - 1)
        assert _shape(logged) == _shape([record])
    head = await store.watermark()
    assert all(r.last_position <= head for r in await store.read_log(0))


async def test_wait_for_commit_wakes_on_a_commit(store, make):
    head = await store.watermark()
    waiter = asyncio.ensure_future(store.wait_for_commit(head, timeout=60))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    record = await store.append(make.commit(make.key(), 0, 3))
    woke_at = await asyncio.wait_for(waiter, 30)
    assert woke_at >= record.last_position > head


async def test_wait_for_commit_returns_at_once_when_already_past(store, make):
    record = await store.append(make.commit(make.key(), 0, 1))
    assert await store.wait_for_commit(record.first_position - 1, timeout=60) == record.last_position


async def test_wait_for_commit_times_out_with_the_unchanged_watermark(store, make):
    await store.append(make.commit(make.key(), 0, 1))
    head = await store.watermark()
    assert await store.wait_for_commit(head, timeout=0.05) == head
    assert await store.wait_for_commit(head, timeout=0) == head


async def test_many_waiters_all_wake(store, make):
    head = await store.watermark()
    waiters = [asyncio.ensure_future(store.wait_for_commit(head, timeout=60)) for _ in range(20)]
    await asyncio.sleep(0.01)
    record = await store.append(make.commit(make.key(), 0, 1))
    assert set(await asyncio.wait_for(asyncio.gather(*waiters), 30)) == {record.last_position}


async def test_by_correlation_gives_one_entry_per_aggregate_by_first_position(store, make, history):
    (a, b, c), _ = history
    books = await store.by_correlation("game-1")
    assert [k for k, _ in books] == [a, b]
    assert [[p.header.sequence for p in pages] for _, pages in books] == [[0, 1, 2], [0, 1, 2]]
    game2 = await store.by_correlation("game-2")
    assert [(k, [p.header.sequence for p in pages]) for k, pages in game2] == [(c, [0, 1]), (b, [3])]
    assert [k for k, _ in await store.by_correlation("game-1", domain="table")] == [b]
    assert [k for k, _ in await store.by_correlation("game-1", root=a.root)] == [a]
    assert await store.by_correlation("game-1", domain="player", root=c.root) == []
    assert await store.by_correlation("nobody") == []


async def test_aggregate_roots_lists_each_aggregate_once_by_domain_then_first_position(store, make, history):
    (a, b, c), _ = history
    late = make.key("hand")
    await store.append(make.commit(late, 0, 1))
    await store.append(make.commit(a, 3, 1))
    assert await store.aggregate_roots() == [late, a, c, b]


async def test_domains_and_roots_summaries(store, make, history):
    (a, b, c), commits = history
    infos = {d.domain: d for d in await store.domains()}
    assert sorted(infos) == ["player", "table"]
    assert (infos["player"].aggregates, infos["player"].events) == (2, 5)
    assert infos["player"].head_position == commits[3].last_position
    assert (infos["table"].aggregates, infos["table"].events) == (1, 4)
    assert infos["table"].head_position == commits[4].last_position

    roots = await store.roots("player")
    assert [(r.key, r.events, r.last_sequence) for r in roots] == [(a, 3, 2), (c, 2, 1)]
    assert roots[0].last_write == make.t0 + timedelta(seconds=2)  # newest created_at, tz-aware UTC
    assert await store.roots("nobody") == []


async def test_filtered_reads_of_a_long_log_miss_nothing(store, make):
    """More than one scan window's worth of rows, commits straddling window edges, a sparse domain."""
    commits = await asyncio.gather(*(
        store.append(make.commit(make.key("table" if i % 3 == 1 else "player"), 0, 6, tag=str(i)))
        for i in range(700)
    ))
    everything = await store.read_log(0, limit=1000)
    assert _shape(everything) == _shape(sorted(commits, key=lambda c: c.first_position))
    for domains in (["table"], ["player"], ["table", "player"], ["hand", "table"]):
        expected = [c for c in everything if c.key.domain in domains]
        for limit in (1, 37, 1000):
            got, after = [], 0
            while batch := await store.read_log(after, domains=domains, limit=limit):
                assert len(batch) <= limit
                got.extend(batch)
                after = batch[-1].last_position
            assert _shape(got) == _shape(expected), (domains, limit)
