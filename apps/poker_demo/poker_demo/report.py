"""What the demo prints after the game: the hand log (once the projector has caught up) and bankrolls."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from .ledger import PlayerLedger


def hand_log_markers(table: str, hand_numbers: Iterable[int], leavers: Iterable[str]) -> list[str]:
    """Lines the hand log must contain once it has projected the whole game (spec poker §7)."""
    markers = []
    for n in hand_numbers:
        markers += [f"=== {table} hand #{n} ===", f"Hand #{n} settled"]
    markers += [f"{name} releases $" for name in leavers]
    return markers


def read_hand_log(path: Path, markers: Sequence[str], timeout: float) -> tuple[str, list[str]]:
    """The hand log's text once every marker is in it, or after ``timeout`` seconds; with the markers
    still missing (the projector runs asynchronously, so the file may lag the game by a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        missing = [m for m in markers if m not in text]
        if not missing or time.monotonic() > deadline:
            return text, missing
        time.sleep(0.1)


def bankroll_table(rows: Sequence[tuple[str, PlayerLedger]]) -> str:
    """A small table of each player's deposits, result, bankroll and reservation."""
    lines = [f"{'player':<8} {'deposited':>10} {'withdrawn':>10} {'won/lost':>10} {'bankroll':>10} {'reserved':>9}"]
    for name, ledger in rows:
        lines.append(f"{name:<8} {ledger.deposits:>10,} {ledger.withdrawals:>10,} {ledger.transfers:>+10,} "
                     f"{ledger.bankroll:>10,} {ledger.reserved:>9,}")
    total_in = sum(ledger.deposits - ledger.withdrawals for _, ledger in rows)
    total = sum(ledger.bankroll for _, ledger in rows)
    lines.append(f"{'total':<8} {total_in:>10,} {'':>10} {total - total_in:>+10,} {total:>10,}")
    return "\n".join(lines)
