"""The hand log's read model: its own small SQLite file, and the text file kept from it (spec poker §7).

The database holds the display names (players, tables), what is known of each hand (table, number,
seats), the rendered lines in order, and the last applied sequence per source aggregate
``(domain, root)``. Each delivered book is applied in one transaction (:meth:`HandLogStore.book`), so
a redelivered page is recognised and skipped, and a crash loses nothing. The text file is a copy of
the lines: rewritten from the database on open, then appended to after each commit.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

from .render import HandInfo

_log = structlog.get_logger("hand.handlog")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS players (root BLOB PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (root BLOB PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hands (root BLOB PRIMARY KEY, table_root BLOB NOT NULL, number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hand_seats (
    hand_root BLOB NOT NULL, position INTEGER NOT NULL, player_root BLOB NOT NULL,
    PRIMARY KEY (hand_root, position)
);
CREATE TABLE IF NOT EXISTS lines (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    domain TEXT NOT NULL, root BLOB NOT NULL, sequence INTEGER NOT NULL, PRIMARY KEY (domain, root)
);
"""


class BookTransaction:
    """Reads and writes of one book, inside its transaction. Not thread-safe; lives in :meth:`HandLogStore.book`."""

    def __init__(self, conn: sqlite3.Connection, domain: str, root: bytes) -> None:
        self._conn = conn
        self.domain = domain
        self.root = root
        self.lines: list[str] = []
        row = conn.execute("SELECT sequence FROM positions WHERE domain = ? AND root = ?", (domain, root)).fetchone()
        # The last sequence of (domain, root) already applied; −1 when none is.
        self.applied_through: int = row[0] if row is not None else -1

    def player_name(self, root: bytes) -> str | None:
        row = self._conn.execute("SELECT name FROM players WHERE root = ?", (root,)).fetchone()
        return row[0] if row is not None else None

    def table_name(self, root: bytes) -> str | None:
        row = self._conn.execute("SELECT name FROM tables WHERE root = ?", (root,)).fetchone()
        return row[0] if row is not None else None

    def hand(self, root: bytes) -> HandInfo | None:
        row = self._conn.execute("SELECT table_root, number FROM hands WHERE root = ?", (root,)).fetchone()
        if row is None:
            return None
        seats = self._conn.execute(
            "SELECT position, player_root FROM hand_seats WHERE hand_root = ? ORDER BY position", (root,)
        ).fetchall()
        return HandInfo(table_root=row[0], number=row[1], seats=tuple((p, r) for p, r in seats))

    def remember_player(self, root: bytes, name: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO players (root, name) VALUES (?, ?)", (root, name))

    def remember_table(self, root: bytes, name: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO tables (root, name) VALUES (?, ?)", (root, name))

    def remember_hand(self, root: bytes, info: HandInfo) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO hands (root, table_root, number) VALUES (?, ?, ?)",
            (root, info.table_root, info.number),
        )
        self._conn.execute("DELETE FROM hand_seats WHERE hand_root = ?", (root,))
        self._conn.executemany(
            "INSERT INTO hand_seats (hand_root, position, player_root) VALUES (?, ?, ?)",
            [(root, position, player) for position, player in info.seats],
        )

    def add_lines(self, lines: Iterable[str]) -> None:
        self.lines.extend(lines)

    def advance(self, sequence: int) -> None:
        """Record ``sequence`` as the last applied one of this book's aggregate."""
        self._conn.execute(
            "INSERT OR REPLACE INTO positions (domain, root, sequence) VALUES (?, ?, ?)",
            (self.domain, self.root, sequence),
        )
        self.applied_through = sequence


class HandLogStore:
    """The read model in SQLite at ``db_path``, mirrored as text at ``text_path`` (if given).

    Thread-safe: books are applied one at a time.

    Raises (on open):
        sqlite3.Error: the database cannot be opened or created.
        OSError: the text file cannot be written.
    """

    def __init__(self, db_path: str | os.PathLike[str], text_path: str | os.PathLike[str] | None = None) -> None:
        self.db_path = Path(db_path)
        self.text_path = Path(text_path) if text_path is not None else None
        self._lock = threading.RLock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly, one per book.
        self._conn = sqlite3.connect(str(self.db_path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        if self.text_path is not None:
            self._rewrite_text()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HandLogStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def book(self, domain: str, root: bytes, *, persist: bool = True) -> Iterator[BookTransaction]:
        """One book's transaction: committed (and its lines appended to the text file) on success.

        With ``persist=False`` (speculative projections) everything is rolled back. An exception
        rolls back and propagates.
        """
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            tx = BookTransaction(self._conn, domain, root)
            try:
                yield tx
                if persist:
                    self._conn.executemany("INSERT INTO lines (text) VALUES (?)", [(line,) for line in tx.lines])
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            if not persist:
                self._conn.execute("ROLLBACK")
                return
            self._conn.execute("COMMIT")
            self._append_text(tx.lines)

    def lines(self) -> list[str]:
        """Every line of the log, in order."""
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT text FROM lines ORDER BY id")]

    def applied_through(self, domain: str, root: bytes) -> int:
        """The last applied sequence of ``(domain, root)``, or −1."""
        with self._lock:
            row = self._conn.execute(
                "SELECT sequence FROM positions WHERE domain = ? AND root = ?", (domain, root)
            ).fetchone()
            return row[0] if row is not None else -1

    def _rewrite_text(self) -> None:
        assert self.text_path is not None
        self.text_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.text_path.with_name(self.text_path.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            for line in self.lines():
                out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.text_path)

    def _append_text(self, lines: list[str]) -> None:
        if self.text_path is None or not lines:
            return
        try:
            with self.text_path.open("a", encoding="utf-8") as out:
                out.write("".join(line + "\n" for line in lines))
        except OSError as exc:
            # The database is the record; the text file is rebuilt from it on the next start.
            _log.error("hand_log_text_append_failed", path=str(self.text_path), error=str(exc))
