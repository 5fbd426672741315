"""The gap-aware watermark's decision logic (spec/coordinator.md §6.2), free of I/O.

PostgreSQL hands out positions at insert time but transactions commit in any order, so a reader can
see position 11 while 10's transaction is still open. Every append transaction takes its transaction
id *before* its positions, and positions are handed out in time order (identity ``CACHE 1``). So if a
snapshot with ``xmax`` X shows a position above a missing one g, g's holder got its id before that
snapshot: its id is below X. Once a later snapshot's ``xmin`` is at least X, every transaction with an
id below X has ended, and a g still missing then is a permanent hole (a rollback) that can be passed.

``GapTracker`` applies that rule. It remembers, for the holes it has seen, *witnesses* (X, ceiling):
every hole at or below ``ceiling`` was seen below a visible position in a snapshot whose ``xmax`` was X.
A snapshot in which nothing was running (``xmin == xmax``) is its own witness: a hole it shows below a
visible position belongs to a transaction that had already ended without committing.

This process also knows some holes first hand: positions its own appends took in transactions that
failed before COMMIT was sent (``abandon``). Such a transaction can never commit, so its positions
are passed without waiting for the rest of the cluster's transactions (a long transaction elsewhere
would otherwise hold back every reader in this process after each of its own failed appends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# A long transaction elsewhere keeps witnesses from being used; past this many, the newest one
# absorbs the next (a larger X only delays passing holes, never makes it unsafe).
MAX_WITNESSES = 64


@dataclass(slots=True)
class Snapshot:
    """What one REPEATABLE READ transaction saw: its ``xmin`` and ``xmax`` and the highest position."""

    xmin: int
    xmax: int
    head: int


@dataclass(slots=True)
class GapTracker:
    """Advances the watermark ``W`` through present positions and permanent holes, never past a
    position that may still appear."""

    watermark: int = 0
    witnesses: list[tuple[int, int]] = field(default_factory=list)  # (xmax, ceiling), ceilings ascending
    abandoned: set[int] = field(default_factory=set)  # positions of transactions that can never commit

    def abandon(self, positions: Sequence[int]) -> None:
        """Record positions taken by a transaction that ended, or will end, without committing."""
        self.abandoned.update(p for p in positions if p > self.watermark)

    @property
    def gap_pending(self) -> bool:
        """True while a hole below a visible position keeps the watermark back."""
        return bool(self.witnesses)

    def passable(self, snapshot: Snapshot) -> int:
        """Every missing position at or below the returned one is a permanent hole in ``snapshot``."""
        upto = self.watermark
        for xmax, ceiling in self.witnesses:
            if xmax <= snapshot.xmin and ceiling > upto:
                upto = ceiling
        if snapshot.xmin >= snapshot.xmax and snapshot.head > upto:
            upto = snapshot.head
        return upto

    def advance(self, snapshot: Snapshot, positions: Sequence[int], *, complete: bool) -> int:
        """Advance through ``positions``: the present positions above the watermark in ``snapshot``,
        ascending (the first ones, or all of them when ``complete``). Returns the new watermark.

        Raises ``ValueError`` if ``positions`` are not ascending above the watermark or exceed the
        snapshot's head.
        """
        passable = self.passable(snapshot)
        mark = self.watermark
        for position in positions:
            if position <= mark or position > snapshot.head:
                raise ValueError(f"position {position} is out of order (watermark {mark}, head {snapshot.head})")
            # A run of holes before ``position`` is passed only if all of it is known permanent.
            if position != mark + 1 and not self._permanent(mark + 1, position - 1, passable):
                complete = True  # stopped at a gap: the rest of this snapshot does not matter
                break
            mark = position
        self.watermark = mark
        self.witnesses = [w for w in self.witnesses if w[1] > mark]
        self.abandoned = {p for p in self.abandoned if p > mark}
        if complete and mark < snapshot.head:
            self._remember(snapshot.xmax, snapshot.head)
        return mark

    def _permanent(self, low: int, high: int, passable: int) -> bool:
        if high <= passable:
            return True
        return all(p in self.abandoned for p in range(max(low, passable + 1), high + 1))

    def _remember(self, xmax: int, ceiling: int) -> None:
        if self.witnesses and self.witnesses[-1][1] >= ceiling:
            return  # an older witness (smaller X) already covers every hole up to this ceiling
        if len(self.witnesses) >= MAX_WITNESSES:
            self.witnesses[-1] = (xmax, ceiling)
        else:
            self.witnesses.append((xmax, ceiling))
