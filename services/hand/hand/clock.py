"""The action clock: infrastructure in the hand service that enforces turn deadlines (spec poker §6).

It keeps one deadline per hand. The hand-flow PM hints a deadline whenever it sends a
``RequestAction`` (:meth:`ActionClock.turn_started`); hints only say when to look. When a deadline
is due the clock reloads the hand from the coordinator, rebuilds it with the aggregate's own
appliers, and acts only if the committed state agrees: a bet or draw is pending, for the same seat
and turn the deadline was set for, and now ≥ ``turn_started_at + action_timeout_seconds``. Then it
sends ``TimeOutPlayer`` under the hand's correlation id; otherwise it reschedules from the committed
state, or forgets the hand when no action is pending. The hand aggregate decides what a timeout
means. A ``not expired`` refusal is retried once, 1 s later; other refusals are stale and ignored.

On start a background thread lists the hand domain's roots and schedules every hand waiting on a
player (past deadlines fire at once), retrying until the coordinator answers; it never delays the
service's health. The time source and both clients are injected, so the decisions are testable
with a fake clock and in-memory clients.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

import structlog

from angzarr_client.client import CommandHandlerClient, QueryClient, resolve_ch_endpoint
from angzarr_client.client.base import BaseClient
from angzarr_client.errors import ClientError, GRPCError, StateRebuildError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.retry import NoRetry
from angzarr_client.timestamps import from_timestamp
from poker_contracts import hand_pb2 as pb

from .aggregate import Hand
from .state import player_at
from .status import BETTING, DRAWING

HAND = "hand"
RETRY_AFTER_NOT_EXPIRED = dt.timedelta(seconds=1)
RETRY_AFTER_FAILURE = dt.timedelta(seconds=1)
NOT_EXPIRED = "not expired"
# The background loop never sleeps longer than this, so it notices stop() and clock jumps.
MAX_IDLE_SECONDS = 1.0

_log = structlog.get_logger("hand.clock")

C = TypeVar("C", bound=BaseClient)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PendingTurn:
    """A turn a hand waits on: who must act, since when, and until when."""

    hand_root: bytes
    correlation_id: str
    player_root: bytes
    position: int
    turn_started_at: dt.datetime
    deadline: dt.datetime

    def same_turn(self, other: PendingTurn | None) -> bool:
        return other is not None and (self.position, self.turn_started_at) == (other.position, other.turn_started_at)


def pending_turn(hand_root: bytes, state: pb.HandState) -> PendingTurn | None:
    """The turn ``state`` waits on (status betting or drawing with a player to act), else ``None``."""
    if state.status not in (BETTING, DRAWING) or state.action_on_position < 0:
        return None
    player = player_at(state, state.action_on_position)
    if player is None:
        return None
    started = from_timestamp(state.turn_started_at)
    return PendingTurn(
        hand_root=hand_root, correlation_id=state.correlation_id, player_root=player.player_root,
        position=state.action_on_position, turn_started_at=started,
        deadline=started + dt.timedelta(seconds=state.action_timeout_seconds),
    )


class Verdict(enum.Enum):
    """What a due deadline leads to, once checked against the committed state."""

    FIRE = "fire"  # send TimeOutPlayer
    RESCHEDULE = "reschedule"  # another turn, or not yet expired: wait for the committed deadline
    FORGET = "forget"  # no action is pending


def verdict(expected: PendingTurn, committed: PendingTurn | None, now: dt.datetime) -> Verdict:
    """Check a due deadline set for ``expected`` against the hand's committed turn."""
    if committed is None:
        return Verdict.FORGET
    if not expected.same_turn(committed) or now < committed.deadline:
        return Verdict.RESCHEDULE
    return Verdict.FIRE


class Outcome(enum.Enum):
    """What firing a hand's deadline did (returned for logging and tests)."""

    NOT_DUE = "not due"
    TIMED_OUT = "timed out"  # TimeOutPlayer accepted
    RESCHEDULED = "rescheduled"
    FORGOTTEN = "forgotten"
    RETRYING = "retrying"  # refused as not expired: one more try, 1 s later
    REFUSED = "refused"  # refused (stale, or not expired after the retry): ignored
    UNREACHABLE = "unreachable"  # the coordinator did not answer: try again later


@dataclass(frozen=True)
class _Deadline:
    turn: PendingTurn
    due: dt.datetime
    retried: bool = False


class ActionClock:
    """Deadlines per hand, checked against committed state before any ``TimeOutPlayer``.

    ``query`` and ``commands`` are angzarr clients (or factories called on first use); by default
    both connect to ``resolve_ch_endpoint("hand")``. ``now`` returns an aware UTC datetime.
    Thread-safe: hints may arrive from any thread while the background loop fires deadlines.
    """

    def __init__(
        self,
        query: QueryClient | Callable[[], QueryClient] | None = None,
        commands: CommandHandlerClient | Callable[[], CommandHandlerClient] | None = None,
        *,
        now: Callable[[], dt.datetime] = utc_now,
        timeout: float = 10.0,
    ) -> None:
        # The clock has its own retry cadence (RETRY_AFTER_FAILURE), so its default clients never wait
        # in a retry loop of their own.
        self._query_source = query if query is not None else (
            lambda: QueryClient(resolve_ch_endpoint(HAND), retry=NoRetry())
        )
        self._commands_source = commands if commands is not None else (
            lambda: CommandHandlerClient(resolve_ch_endpoint(HAND), retry=NoRetry())
        )
        self._query: QueryClient | None = query if isinstance(query, QueryClient) else None
        self._commands: CommandHandlerClient | None = commands if isinstance(commands, CommandHandlerClient) else None
        self.now = now
        self.timeout = timeout
        self._owned: list[BaseClient] = []  # clients the clock created, and therefore closes
        self._deadlines: dict[bytes, _Deadline] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.scanned = threading.Event()

    # -- clients ------------------------------------------------------------------------------------

    def _client(self, slot: str, source: object, cls: type[C]) -> C:
        with self._lock:
            client = getattr(self, slot)
            if client is None:
                client = source() if callable(source) else source
                if not isinstance(client, cls):
                    raise TypeError(f"action clock needs a {cls.__name__}, got {type(client).__name__}")
                setattr(self, slot, client)
                self._owned.append(client)
            return client

    def _query_client(self) -> QueryClient:
        return self._client("_query", self._query_source, QueryClient)

    def _commands_client(self) -> CommandHandlerClient:
        return self._client("_commands", self._commands_source, CommandHandlerClient)

    # -- deadlines ----------------------------------------------------------------------------------

    def turn_started(self, hand_root: bytes, state: pb.HandState) -> None:
        """A hint from the hand-flow PM: ``state`` (its replica) has a new turn."""
        turn = pending_turn(hand_root, state)
        if turn is not None:
            self.schedule(turn)

    def schedule(self, turn: PendingTurn, *, due: dt.datetime | None = None) -> None:
        """Set the hand's one deadline to ``turn`` (due at its deadline unless ``due`` is given).

        A hint for the turn already scheduled keeps the existing deadline (and its retry state).
        """
        with self._wake:
            current = self._deadlines.get(turn.hand_root)
            if current is not None and current.turn.same_turn(turn) and due is None:
                return
            self._deadlines[turn.hand_root] = _Deadline(turn, due or turn.deadline)
            self._wake.notify_all()

    def forget(self, hand_root: bytes) -> None:
        with self._wake:
            self._deadlines.pop(hand_root, None)

    def deadlines(self) -> dict[bytes, dt.datetime]:
        """When each scheduled hand is due next."""
        with self._lock:
            return {root: entry.due for root, entry in self._deadlines.items()}

    def next_due(self) -> dt.datetime | None:
        with self._lock:
            return min((entry.due for entry in self._deadlines.values()), default=None)

    # -- firing -------------------------------------------------------------------------------------

    def run_due(self) -> dict[bytes, Outcome]:
        """Fire every deadline due now; return what each did."""
        now = self.now()
        with self._lock:
            due = [root for root, entry in self._deadlines.items() if entry.due <= now]
        return {root: self.fire(root) for root in due}

    def fire(self, hand_root: bytes) -> Outcome:
        """Check the hand's deadline against its committed state and act on it (see the module doc)."""
        with self._lock:
            entry = self._deadlines.get(hand_root)
        now = self.now()
        if entry is None or entry.due > now:
            return Outcome.NOT_DUE
        try:
            committed, sequence = self._load(hand_root)
        except StateRebuildError as exc:
            _log.error("action_clock_cannot_rebuild_hand", hand=hand_root.hex(), error=str(exc))
            self._replace(hand_root, entry, None)
            return Outcome.FORGOTTEN
        except ClientError as exc:
            _log.warning("action_clock_reload_failed", hand=hand_root.hex(), error=str(exc))
            self._replace(hand_root, entry, replace(entry, due=now + RETRY_AFTER_FAILURE))
            return Outcome.UNREACHABLE
        decided = verdict(entry.turn, committed, now)
        if decided is Verdict.FORGET:
            self._replace(hand_root, entry, None)
            return Outcome.FORGOTTEN
        assert committed is not None
        if decided is Verdict.RESCHEDULE:
            self._replace(hand_root, entry, _Deadline(committed, committed.deadline))
            return Outcome.RESCHEDULED
        return self._time_out(entry, committed, sequence)

    def _time_out(self, entry: _Deadline, turn: PendingTurn, sequence: int) -> Outcome:
        try:
            self._send_time_out(turn, sequence)
        except GRPCError as exc:
            if exc.is_connection_error() or exc.is_retryable():
                _log.warning("action_clock_send_failed", hand=turn.hand_root.hex(), error=str(exc))
                self._replace(turn.hand_root, entry, replace(entry, due=self.now() + RETRY_AFTER_FAILURE))
                return Outcome.UNREACHABLE
            if NOT_EXPIRED in exc.details.lower() and not entry.retried:
                retry = _Deadline(turn, self.now() + RETRY_AFTER_NOT_EXPIRED, retried=True)
                self._replace(turn.hand_root, entry, retry)
                return Outcome.RETRYING
            # Stale (the turn moved on) or refused again: ignore it. A newer turn is picked up from the
            # committed state; the refused turn itself is never tried again.
            _log.info("action_clock_time_out_refused", hand=turn.hand_root.hex(), reason=exc.details)
            self._after_attempt(entry, turn)
            return Outcome.REFUSED
        except ClientError as exc:
            _log.warning("action_clock_send_failed", hand=turn.hand_root.hex(), error=str(exc))
            self._replace(turn.hand_root, entry, replace(entry, due=self.now() + RETRY_AFTER_FAILURE))
            return Outcome.UNREACHABLE
        _log.info("action_clock_timed_out", hand=turn.hand_root.hex(), player=turn.player_root.hex(),
                  correlation_id=turn.correlation_id)
        self._after_attempt(entry, turn)
        return Outcome.TIMED_OUT

    def _after_attempt(self, entry: _Deadline, fired: PendingTurn) -> None:
        """Follow the committed state after an attempt, so the clock never depends on a hint arriving."""
        try:
            committed, _ = self._load(fired.hand_root)
        except ClientError:
            self._replace(fired.hand_root, entry, None)
            return
        if committed is None or fired.same_turn(committed):
            self._replace(fired.hand_root, entry, None)
        else:
            self._replace(fired.hand_root, entry, _Deadline(committed, committed.deadline))

    def _replace(self, hand_root: bytes, expected: _Deadline, new: _Deadline | None) -> None:
        """Swap the hand's deadline, unless a hint replaced it meanwhile (the newer one wins)."""
        with self._wake:
            current = self._deadlines.get(hand_root)
            if current is not expected and current is not None:
                return
            if new is None:
                self._deadlines.pop(hand_root, None)
            else:
                self._deadlines[hand_root] = new
            self._wake.notify_all()

    def _load(self, hand_root: bytes) -> tuple[PendingTurn | None, int]:
        """The hand's committed pending turn and its next sequence.

        Raises:
            ClientError: the coordinator did not answer, or the history could not be rebuilt.
        """
        book = self._query_client().query(HAND, hand_root).get_event_book(timeout=self.timeout)
        hand = Hand(book)
        return pending_turn(hand_root, hand.state), hand.next_sequence

    def _send_time_out(self, turn: PendingTurn, sequence: int) -> None:
        commands = self._commands_client()
        builder = commands.command(HAND, turn.hand_root).with_command(pb.TimeOutPlayer(player_root=turn.player_root))
        if turn.correlation_id:
            builder.with_correlation_id(turn.correlation_id)
        book: types_pb2.CommandBook = builder.with_sequence(sequence).build()
        commands.handle(book, timeout=self.timeout)

    # -- start-up scan and background loop -------------------------------------------------------------

    def scan(self) -> int:
        """Schedule every hand waiting on a player; return how many.

        Raises:
            ClientError: the coordinator did not answer.
        """
        roots = [root.bytes for domain, root in self._query_client().get_aggregate_roots(timeout=self.timeout)
                 if domain == HAND]
        found = 0
        for hand_root in roots:
            try:
                turn, _ = self._load(hand_root)
            except StateRebuildError as exc:
                _log.error("action_clock_cannot_rebuild_hand", hand=hand_root.hex(), error=str(exc))
                continue
            if turn is not None:
                self.schedule(turn)
                found += 1
        self.scanned.set()
        _log.info("action_clock_scanned", hands=len(roots), pending=found)
        return found

    def start(self) -> None:
        """Start the background thread: the start-up scan (retried until it succeeds), then firing."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="action-clock", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the background thread (idempotent)."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        """Stop, then close the clients the clock created."""
        self.stop()
        for client in self._owned:
            client.close()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if not self.scanned.is_set():
                try:
                    self.scan()
                except ClientError as exc:
                    _log.info("action_clock_scan_waiting", error=str(exc))
                except Exception:  # never let a bug end the clock: log it and scan again later
                    _log.exception("action_clock_scan_failed")
            try:
                self.run_due()
            except Exception:
                _log.exception("action_clock_fire_failed")
            self._sleep()

    def _sleep(self) -> None:
        with self._wake:
            if self._stopping.is_set():
                return
            upcoming = min((entry.due for entry in self._deadlines.values()), default=None)
            idle = MAX_IDLE_SECONDS
            if upcoming is not None:
                idle = min(idle, max(0.0, (upcoming - self.now()).total_seconds()))
            if idle > 0:
                self._wake.wait(idle)
