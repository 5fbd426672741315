"""The gap-aware watermark's rule (spec §6.2) against a simulated PostgreSQL: transaction ids and
positions handed out in time order, commits and rollbacks in any order, snapshots at any moment.

No server is needed: ``GapTracker`` is the pure decision logic the watermark reader feeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from angzarr_coordinator.store.postgres.gaps import MAX_WITNESSES, GapTracker, Snapshot


@dataclass
class Txn:
    xid: int
    positions: list[int] = field(default_factory=list)
    state: str = "running"  # running | committed | aborted
    doomed: bool = False  # failed before COMMIT in this process: can only abort (GapTracker.abandon)


@dataclass
class Cluster:
    """Just enough of PostgreSQL's visibility: a snapshot sees exactly the committed transactions."""

    next_xid: int = 1000
    next_position: int = 1
    txns: list[Txn] = field(default_factory=list)

    def begin(self) -> None:
        # Step 1 of the protocol: the transaction owns its id before it takes any position.
        self.txns.append(Txn(self.next_xid))
        self.next_xid += 1

    def running(self) -> list[Txn]:
        return [t for t in self.txns if t.state == "running"]

    def take(self, pick: int, count: int) -> None:
        candidates = [t for t in self.running() if not t.positions]
        if candidates:
            txn = candidates[pick % len(candidates)]
            txn.positions = list(range(self.next_position, self.next_position + count))
            self.next_position += count

    def end(self, pick: int, state: str) -> None:
        running = [t for t in self.running() if state == "aborted" or not t.doomed]
        if running:
            txn = running[pick % len(running)]
            txn.state = state

    def doom(self, pick: int, tracker: GapTracker) -> None:
        """This process's append failed before COMMIT: it tells the reader, the abort comes later."""
        candidates = [t for t in self.running() if t.positions and not t.doomed]
        if candidates:
            txn = candidates[pick % len(candidates)]
            txn.doomed = True
            tracker.abandon(txn.positions)

    def snapshot(self) -> tuple[Snapshot, list[int]]:
        running = self.running()
        xmax = self.next_xid
        xmin = min((t.xid for t in running), default=xmax)
        visible = sorted(p for t in self.txns if t.state == "committed" for p in t.positions)
        return Snapshot(xmin, xmax, max(visible, default=0)), visible

    def clone(self) -> Cluster:
        return Cluster(
            self.next_xid, self.next_position, [Txn(t.xid, t.positions, t.state, t.doomed) for t in self.txns]
        )

    def owner(self, position: int) -> Txn | None:
        return next((t for t in self.txns if position in t.positions), None)


# (what, which transaction, how many positions, read batch size); the reader refreshes after each.
action = st.tuples(
    st.sampled_from(["begin", "take", "commit", "abort", "doom", "idle"]),
    st.integers(0, 3),
    st.integers(1, 3),
    st.integers(1, 4),
)


def refresh(tracker: GapTracker, cluster: Cluster, batch: int) -> None:
    snapshot, visible = cluster.snapshot()
    while True:
        above = [p for p in visible if p > tracker.watermark]
        chunk = above[:batch]
        complete = len(chunk) == len(above)
        tracker.advance(snapshot, chunk, complete=complete)
        if complete or tracker.watermark != chunk[-1]:
            break


@settings(max_examples=600, deadline=None)
@given(actions=st.lists(action, max_size=40), finish=st.lists(st.booleans(), max_size=20))
def test_the_watermark_never_passes_a_position_that_may_still_appear(actions, finish):
    cluster, tracker = Cluster(), GapTracker()
    for what, pick, count, batch in actions:
        if what == "begin":
            cluster.begin()
        elif what == "take":
            cluster.take(pick, count)
        elif what in ("commit", "abort"):
            _end(cluster, tracker, pick, what)
        elif what == "doom":
            cluster.doom(pick, tracker)
        refresh(tracker, cluster, batch)
        _assert_safe(tracker, cluster)
        assert len(tracker.witnesses) <= MAX_WITNESSES

    # Liveness: once every transaction has ended, one refresh reaches the last committed position.
    for n, txn in enumerate(cluster.running()):
        commits = (finish[n] if n < len(finish) else True) and not txn.doomed
        txn.state = "committed" if commits else "aborted"
    refresh(tracker, cluster, 3)
    assert tracker.watermark == cluster.snapshot()[0].head
    assert not tracker.gap_pending


def _end(cluster: Cluster, tracker: GapTracker, pick: int, what: str) -> None:
    before = {id(t) for t in cluster.running()}
    cluster.end(pick, "committed" if what == "commit" else "aborted")
    for txn in cluster.txns:
        if id(txn) in before and txn.state == "committed":
            # A commit must never land at or below the watermark: readers have passed it.
            assert all(p > tracker.watermark for p in txn.positions), (txn, tracker.watermark)


# Every history of up to this many steps is checked exhaustively (bugs at the exact xid boundaries
# hide in short, precise histories that random generation rarely hits).
SMALL_SCOPE = 6
MOVES = [
    ("begin", 0), ("take", 0), ("take", -1), ("commit", 0), ("commit", -1), ("abort", 0), ("doom", 0),
]


def _assert_safe(tracker: GapTracker, cluster: Cluster) -> None:
    """Every position at or below W is committed (readable) or can never be committed."""
    for position in range(1, tracker.watermark + 1):
        owner = cluster.owner(position)
        assert owner is not None and (owner.state != "running" or owner.doomed), (position, tracker.watermark)


def _clone(tracker: GapTracker) -> GapTracker:
    return GapTracker(tracker.watermark, list(tracker.witnesses), set(tracker.abandoned))


def test_every_short_history_is_safe_and_live():
    def explore(cluster: Cluster, tracker: GapTracker, depth: int, path: list) -> int:
        checked = 1
        ended = cluster.clone()
        for txn in ended.running():
            txn.state = "aborted" if txn.doomed else "committed"
        final = _clone(tracker)
        refresh(final, ended, 2)
        assert final.watermark == ended.snapshot()[0].head, path
        if depth == SMALL_SCOPE:
            return checked
        for what, pick in MOVES:
            branch, reader = cluster.clone(), _clone(tracker)
            if what == "begin":
                branch.begin()
            elif what == "take":
                branch.take(pick, 1)
            elif what == "doom":
                branch.doom(pick, reader)
            else:
                _end(branch, reader, pick, what)
            refresh(reader, branch, 2)
            _assert_safe(reader, branch)
            checked += explore(branch, reader, depth + 1, [*path, (what, pick)])
        return checked

    assert explore(Cluster(), GapTracker(), 0, []) > 7**SMALL_SCOPE


def test_a_hole_is_passed_only_once_every_older_transaction_ended():
    tracker = GapTracker()
    # Position 2 is missing below a visible 3; transactions 7 and up may still be running.
    assert tracker.advance(Snapshot(xmin=7, xmax=10, head=3), [1, 3], complete=True) == 1
    assert tracker.gap_pending and tracker.witnesses == [(10, 3)]
    # Still an older transaction (9) running: the hole may yet be filled.
    assert tracker.advance(Snapshot(xmin=9, xmax=12, head=4), [3, 4], complete=True) == 1
    # Every transaction below 10 has ended and 2 is still absent: a rollback, passed for good.
    assert tracker.advance(Snapshot(xmin=10, xmax=12, head=4), [3, 4], complete=True) == 4
    assert not tracker.gap_pending and tracker.gap_pending is False


def test_a_late_lower_commit_fills_the_hole_before_it_is_passed():
    tracker = GapTracker()
    tracker.advance(Snapshot(xmin=5, xmax=8, head=3), [1, 3], complete=True)
    assert tracker.advance(Snapshot(xmin=8, xmax=9, head=3), [2, 3], complete=True) == 3


def test_a_snapshot_with_nothing_running_passes_its_holes_at_once():
    tracker = GapTracker()
    assert tracker.advance(Snapshot(xmin=20, xmax=20, head=9), [1, 2, 5, 9], complete=True) == 9
    assert not tracker.gap_pending


def test_holes_above_the_newest_visible_position_are_never_passed():
    tracker = GapTracker(watermark=4)
    assert tracker.advance(Snapshot(xmin=20, xmax=20, head=4), [], complete=True) == 4


def test_an_incomplete_batch_stops_without_remembering_a_gap():
    tracker = GapTracker()
    assert tracker.advance(Snapshot(xmin=5, xmax=9, head=10), [1, 2, 3], complete=False) == 3
    assert not tracker.gap_pending


def test_many_witnesses_are_bounded_and_stay_safe():
    """A long transaction (xmin stuck at 1) while a hole appears below each new head."""
    tracker = GapTracker()
    rounds = MAX_WITNESSES + 10
    for n in range(1, rounds + 1):
        head = 2 * n + 1  # odd positions are committed, even ones are holes
        above = [p for p in range(1, head + 1, 2) if p > tracker.watermark]
        tracker.advance(Snapshot(xmin=1, xmax=100 + n, head=head), above, complete=True)
    assert len(tracker.witnesses) == MAX_WITNESSES and tracker.watermark == 1
    odd = list(range(3, 2 * rounds + 2, 2))
    head = 2 * rounds + 1
    # Only the first witness's transactions have ended: exactly its hole (2) is passed.
    assert tracker.advance(Snapshot(xmin=101, xmax=500, head=head), odd, complete=True) == 3
    # The newest witness absorbed the ones past the bound: their holes wait for its larger X.
    assert tracker.advance(Snapshot(xmin=100 + rounds - 1, xmax=500, head=head), odd[1:], complete=True) < head
    assert tracker.advance(Snapshot(xmin=100 + rounds, xmax=500, head=head),
                           [p for p in odd if p > tracker.watermark], complete=True) == head


def test_abandoned_positions_are_passed_without_waiting_for_the_cluster():
    tracker = GapTracker()
    tracker.abandon([2, 3])
    # A long transaction elsewhere (xmin 1) would hold an unknown hole; our own failed ones pass.
    assert tracker.advance(Snapshot(xmin=1, xmax=50, head=4), [1, 4], complete=True) == 4
    assert not tracker.gap_pending and tracker.abandoned == set()
    tracker.abandon([6])
    assert tracker.advance(Snapshot(xmin=1, xmax=50, head=8), [5, 8], complete=True) == 5  # 7 is unknown
    assert tracker.gap_pending


def test_positions_out_of_order_are_refused():
    tracker = GapTracker(watermark=5)
    with pytest.raises(ValueError):
        tracker.advance(Snapshot(1, 2, 9), [5], complete=True)
    with pytest.raises(ValueError):
        tracker.advance(Snapshot(1, 2, 9), [10], complete=True)
