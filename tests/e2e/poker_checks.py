"""Reading a whole poker game back from a running system and checking what spec poker §1 and §8 promise.

Everything is read through ``angzarr_client`` queries (as any client would); aggregate states are rebuilt
from full history with the services' own appliers (``Player(book).state`` ...). Each ``check_*`` raises
``AssertionError`` with what was wrong.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import pack
from angzarr_coordinator.store.sqlite import SqliteEventStore
from hand import Hand, apply_event
from player import Player
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_demo import Event, PokerClients, PokerGame, StandaloneSystem, book_events
from poker_rules.roots import hex_key
from table import Table

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "standalone.yaml"  # the poker topology at the repository root, as `make run` uses it


def connect(system: StandaloneSystem) -> PokerClients:
    """Clients for the system's three domains, found the standard way (``resolve_ch_endpoint``)."""
    return PokerClients.connect("standalone", uds_base=str(system.uds_base))


@dataclass
class GameHistory:
    """Every book of a game's aggregates: the players, the table and each hand it started."""

    books: dict[tuple[str, bytes], types_pb2.EventBook] = field(default_factory=dict)

    def events(self, domain: str, root: bytes | None = None) -> list[Event]:
        return [e for (d, r), book in self.books.items() if d == domain and root in (None, r)
                for e in book_events(book)]

    def of_type(self, domain: str, cls: type[Message], root: bytes | None = None) -> list[Message]:
        return [e.message for e in self.events(domain, root) if isinstance(e.message, cls)]

    def hand_roots(self) -> list[bytes]:
        return [bytes(h.hand_root) for h in self.of_type("table", table_pb2.HandStarted)]


def read_history(clients: PokerClients, game: PokerGame) -> GameHistory:
    """Query the full history of the game's players, table and hands."""
    history = GameHistory()

    def load(domain: str, root: bytes) -> None:
        client = clients.for_domain(domain)
        history.books[(domain, root)] = client.query(domain, root).get_event_book()

    for bot in game.bots:
        load("player", bot.root)
    load("table", game.table_root)
    for hand_root in history.hand_roots():
        load("hand", hand_root)
    return history


def wait_until_quiescent(clients: PokerClients, game: PokerGame, timeout: float = 30.0) -> GameHistory:
    """Read the history once the last hand's settlements and the releases have landed: every non-zero
    ``stack_changes`` entry has its ``FundsTransferred`` and every ``PlayerLeft`` its ``FundsReleased``
    (sagas run after the commands the client waited for). Returns the last read on timeout, so the
    checks report what is missing."""
    deadline = time.monotonic() + timeout
    while True:
        history = read_history(clients, game)
        changes = sum(1 for e in history.of_type("table", table_pb2.HandEnded)
                      for v in e.stack_changes.values() if v)
        lefts = len(history.of_type("table", table_pb2.PlayerLeft))
        transfers = len(history.of_type("player", player_pb2.FundsTransferred))
        releases = len(history.of_type("player", player_pb2.FundsReleased))
        if (transfers >= changes and releases >= lefts) or time.monotonic() > deadline:
            return history
        time.sleep(0.1)


# -- hands ------------------------------------------------------------------------------------------


def check_every_hand_completed(history: GameHistory, hands: int) -> None:
    """Each ``HandStarted`` has exactly one ``CardsDealt``, small and big blind, ``HandComplete`` and
    ``HandEnded``; the hand state is ``complete``; chips are conserved (M5) and ``stack_changes`` =
    final − starting stacks."""
    started = history.of_type("table", table_pb2.HandStarted)
    assert [h.hand_number for h in started] == list(range(1, hands + 1)), "hand numbers are not 1..N"
    ended = Counter(bytes(e.hand_root) for e in history.of_type("table", table_pb2.HandEnded))
    for hs in started:
        root = bytes(hs.hand_root)
        label = f"hand #{hs.hand_number}"
        types = Counter(e.name for e in history.events("hand", root))
        for name in ("CardsDealt", "PotAwarded", "HandComplete"):
            assert types[name] == 1, f"{label}: {types[name]} {name} events (expected exactly 1): {dict(types)}"
        blinds = Counter(b.blind_type for b in history.of_type("hand", hand_pb2.BlindPosted, root))
        assert blinds == {"small": 1, "big": 1}, f"{label}: blinds posted {dict(blinds)}"
        assert ended[root] == 1, f"{label}: {ended[root]} HandEnded at the table (expected exactly 1)"
        state = Hand(history.books[("hand", root)]).state
        assert state.status == "complete", f"{label}: hand state is {state.status!r}"

        dealt = history.of_type("hand", hand_pb2.CardsDealt, root)[0]
        starting = {bytes(p.player_root): p.stack for p in dealt.players}
        complete = history.of_type("hand", hand_pb2.HandComplete, root)[0]
        final = {bytes(s.player_root): s.stack for s in complete.final_stacks}
        assert set(final) == set(starting), f"{label}: final stacks are not the dealt players"
        assert sum(final.values()) == sum(starting.values()), f"{label}: chips not conserved (M5)"
        pot = history.of_type("hand", hand_pb2.BettingRoundComplete, root)[-1].pot_total
        awarded = sum(w.amount for w in history.of_type("hand", hand_pb2.PotAwarded, root)[0].winners)
        assert awarded == pot, f"{label}: awarded {awarded} of a pot of {pot} (M5)"
        hand_ended = next(e for e in history.of_type("table", table_pb2.HandEnded) if e.hand_root == root)
        expected = {hex_key(r): final[r] - starting[r] for r in starting}
        assert dict(hand_ended.stack_changes) == expected, f"{label}: stack_changes are not final - starting"


def check_hand_invariants(history: GameHistory) -> None:
    """M4 and M6 after every hand event, replayed with the hand's own appliers: Σ stacks + pot total = Σ
    starting stacks, stacks ≥ 0, all-in ⇔ stack 0; hole ∪ board ∪ deck ∪ discards = the 52 cards."""
    for hand_root in history.hand_roots():
        state = hand_pb2.HandState()
        discarded: list = []
        starting = None
        for event in history.events("hand", hand_root):
            msg = event.message
            assert apply_event(state, msg), f"{event.name} is not a hand event"
            if isinstance(msg, hand_pb2.CardsDealt):
                starting = sum(p.stack for p in msg.players)
            if isinstance(msg, hand_pb2.DrawCompleted):
                discarded += [(c.rank, c.suit) for c in msg.discarded_cards]
            label = f"hand #{state.hand_number} after {event.name} #{event.sequence}"
            players = state.players
            assert sum(p.stack + p.total_invested for p in players) == starting, f"{label}: M4 chips"
            assert all(p.stack >= 0 and p.is_all_in == (p.stack == 0) for p in players), f"{label}: M4 all-in"
            cards = [(c.rank, c.suit) for p in players for c in p.hole_cards]
            cards += [(c.rank, c.suit) for c in (*state.community_cards, *state.remaining_deck)] + discarded
            assert len(cards) == 52 == len(set(cards)), f"{label}: M6 {len(cards)} cards, {len(set(cards))} distinct"


def check_seats_match_reservations(history: GameHistory, game: PokerGame) -> None:
    """M3 between hands: each seated player's stack equals their reservation for the table; a player
    without a seat holds no reservation for it."""
    seats = {bytes(s.player_root): s.stack.amount for s in Table(history.books[("table", game.table_root)]).state.seats}
    table_key = hex_key(game.table_root)
    for bot in game.bots:
        reservations = dict(Player(history.books[("player", bot.root)]).state.table_reservations)
        if bot.root in seats:
            assert reservations.get(table_key) == seats[bot.root], \
                f"{bot.name}: stack {seats[bot.root]}, reservation {reservations.get(table_key)} (M3)"
        else:
            assert table_key not in reservations, f"{bot.name} has no seat but holds {reservations[table_key]}"


def check_table_idle(history: GameHistory, game: PokerGame, hands: int) -> None:
    """The table rebuilt from its history is ``waiting`` after ``hands`` hands, with nobody seated, and
    every chip bought in was cashed out (M3)."""
    state = Table(history.books[("table", game.table_root)]).state
    assert state.status == "waiting", f"table status {state.status!r}, expected 'waiting'"
    assert state.hand_count == hands, f"table hand_count {state.hand_count}, expected {hands}"
    assert not state.seats, f"{len(state.seats)} seats still taken after everyone left"
    bought = sum(e.buy_in_amount for e in history.of_type("table", table_pb2.PlayerJoined))
    cashed = sum(e.chips_cashed_out for e in history.of_type("table", table_pb2.PlayerLeft))
    assert bought == cashed, f"bought in {bought}, cashed out {cashed} (M3)"


# -- money ------------------------------------------------------------------------------------------


def check_money(history: GameHistory, game: PokerGame) -> None:
    """M1 per player; M2 over all: Σ bankrolls = Σ deposits − Σ withdrawals; no reservation is left."""
    total_bankroll = total_in = 0
    for bot in game.bots:
        events = [e.message for e in history.events("player", bot.root)]
        deposits = sum(e.amount.amount for e in events if isinstance(e, player_pb2.FundsDeposited))
        withdrawals = sum(e.amount.amount for e in events if isinstance(e, player_pb2.FundsWithdrawn))
        transfers = sum(e.amount.amount for e in events if isinstance(e, player_pb2.FundsTransferred))
        state = Player(history.books[("player", bot.root)]).state
        bankroll = state.bankroll.amount
        assert bankroll == deposits - withdrawals + transfers, f"{bot.name}: bankroll {bankroll} breaks M1"
        assert state.reserved_funds.amount == 0, f"{bot.name} still has {state.reserved_funds.amount} reserved"
        assert not state.table_reservations, f"{bot.name} still holds {dict(state.table_reservations)}"
        total_bankroll += bankroll
        total_in += deposits - withdrawals
    assert total_bankroll == total_in, f"Σ bankrolls {total_bankroll} != Σ deposits − withdrawals {total_in}"


# -- reactions --------------------------------------------------------------------------------------


def check_reactions_applied_once(history: GameHistory, game: PokerGame) -> None:
    """Each saga and process-manager reaction left exactly one result: a seat per reservation, a
    transfer per non-zero stack change, a release per player leaving, and one answered request per turn."""
    joins = Counter(bytes(e.player_root) for e in history.of_type("table", table_pb2.PlayerJoined))
    lefts = defaultdict(list)
    for e in history.of_type("table", table_pb2.PlayerLeft):
        lefts[bytes(e.player_root)].append(e.chips_cashed_out)
    for bot in game.bots:
        reserved = [e for e in history.of_type("player", player_pb2.FundsReserved, bot.root)
                    if e.table_root == game.table_root]
        assert joins[bot.root] == len(reserved), f"{bot.name}: {len(reserved)} reservations, {joins[bot.root]} seats"
        released = [e.amount.amount for e in history.of_type("player", player_pb2.FundsReleased, bot.root)]
        assert released == lefts[bot.root], f"{bot.name}: left with {lefts[bot.root]}, released {released}"

    transfers = Counter((bytes(e.hand_root), bytes(e.to_player_root), e.amount.amount)
                        for e in history.of_type("player", player_pb2.FundsTransferred))
    expected = Counter()
    for ended in history.of_type("table", table_pb2.HandEnded):
        for key, change in ended.stack_changes.items():
            if change:
                expected[(bytes(ended.hand_root), bytes.fromhex(key), change)] += 1
    assert expected, "no hand changed any stack: nothing was settled, so nothing was checked"
    assert transfers == expected, f"settlements differ from the stack changes: {transfers - expected} extra, " \
                                  f"{expected - transfers} missing"

    requests = Counter(bytes(e.hand_root) for e in history.of_type("player", player_pb2.ActionRequested))
    assert requests, "no player was ever asked to act"
    for hand_root in history.hand_roots():
        turns = len(history.of_type("hand", hand_pb2.ActionTaken, hand_root)) + \
            len(history.of_type("hand", hand_pb2.DrawCompleted, hand_root))
        assert requests[hand_root] == turns, f"hand {hand_root.hex()}: {requests[hand_root]} action requests " \
                                             f"for {turns} turns"


def dead_letters(system: StandaloneSystem) -> list:
    """``angzarr dlq list --json`` of the system's store."""
    angzarr = Path(sys.executable).with_name("angzarr")
    done = subprocess.run([str(angzarr), "dlq", "list", "--json", "-c", str(system.config_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"angzarr dlq list failed ({done.returncode}): {done.stderr}"
    return json.loads(done.stdout)


# -- hand log ---------------------------------------------------------------------------------------


def expected_winner_lines(history: GameHistory, names: dict[bytes, str]) -> list[str]:
    """The hand log's winner lines (spec poker §7): one per PotAwarded winner."""
    lines = []
    for hand_root in history.hand_roots():
        for award in history.of_type("hand", hand_pb2.PotAwarded, hand_root):
            for w in award.winners:
                pot = "the main pot" if w.pot_type in ("", "main") else f"side pot {w.pot_type.split('-')[-1]}"
                lines.append(f"  {names[bytes(w.player_root)]} wins ${w.amount:,} from {pot}")
    return lines


def check_hand_log(path: Path, history: GameHistory, game: PokerGame, *, extra: Sequence[str] = (),
                   timeout: float = 30.0) -> str:
    """The hand log lists every hand by number and every winner by display name, plus the ``extra``
    texts; no ``Player_`` or ``Table_`` stand-ins. Waits (bounded) for the projector to catch up; returns
    the text."""
    hands = len(history.hand_roots())
    markers = [f"=== {game.settings.table} hand #{k} ===" for k in range(1, hands + 1)]
    markers += [f"Hand #{k} settled" for k in range(1, hands + 1)]
    markers += list(extra)
    winners = expected_winner_lines(history, game.names)
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        missing = [m for m in markers if m not in text]
        lines = text.splitlines()
        missing += [w for w in winners if not any(line.startswith(w) for line in lines)]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not missing, f"hand log {path} lacks {len(missing)} expected lines, e.g. {missing[:3]}"
    assert "Player_" not in text and "Table_" not in text, "the hand log shows a name it could not resolve"
    return text


# -- reproducibility --------------------------------------------------------------------------------


def normalized(message: Message) -> Message:
    """A copy without what legitimately differs between two runs: timestamps and correlation ids."""
    copy = type(message)()
    copy.CopyFrom(message)
    for fd, _ in list(copy.ListFields()):
        is_time = fd.message_type is not None and fd.message_type.full_name == Timestamp.DESCRIPTOR.full_name
        if is_time or fd.name == "correlation_id":
            copy.ClearField(fd.name)
    return copy


def game_payloads(history: GameHistory) -> list[tuple[str, str, bytes]]:
    """Every event of the game as (domain, type, normalized payload), per aggregate in sequence order."""
    out = []
    for (domain, _root), book in sorted(history.books.items()):
        for event in book_events(book):
            out.append((domain, event.name, normalized(event.message).SerializeToString(deterministic=True)))
    return out


AGGREGATES = {"player": Player, "table": Table, "hand": Hand}


def check_snapshots_match_full_history(database: Path) -> Counter:
    """Every player, table and hand aggregate rebuilt from its full history equals its state rebuilt from a
    snapshot plus the pages after it (spec poker §8): from the newest snapshot the services stored, where
    there is one, and from a snapshot taken halfway through its history the way the services take them
    (the state packed into ``Snapshot.state``), so the check holds even when no game ran long enough for
    a stored one. Reads the SQLite file of a stopped system; returns the stored snapshots per domain."""

    def same_state(domain: str, root: str, seeded: types_pb2.EventBook, full: types_pb2.EventBook) -> None:
        handler = AGGREGATES[domain]
        assert handler(seeded).state == handler(full).state, (
            f"{domain}/{root}: the state from the snapshot at {seeded.snapshot.sequence} differs from the state "
            "rebuilt from full history"
        )

    async def compare() -> Counter:
        store = SqliteEventStore(database)
        await store.open()
        stored: Counter = Counter()
        checked = 0
        try:
            for key in await store.aggregate_roots():
                if key.domain not in AGGREGATES:
                    continue
                full = await store.load(key, use_snapshot=False)
                history = types_pb2.EventBook(pages=full.pages)
                latest = await store.load(key, use_snapshot=True)
                if latest.snapshot is not None:
                    stored[key.domain] += 1
                    assert latest.snapshot.sequence + 1 + len(latest.pages) == full.next_sequence
                    same_state(key.domain, key.root.hex,
                               types_pb2.EventBook(snapshot=latest.snapshot, pages=latest.pages), history)
                half = len(full.pages) // 2
                if half:
                    before = AGGREGATES[key.domain](types_pb2.EventBook(pages=full.pages[:half])).state
                    snapshot = types_pb2.Snapshot(sequence=full.pages[half - 1].header.sequence, state=pack(before))
                    same_state(key.domain, key.root.hex,
                               types_pb2.EventBook(snapshot=snapshot, pages=full.pages[half:]), history)
                    checked += 1
        finally:
            await store.close()
        assert checked > 0, "no aggregate had history to check"
        return stored

    return asyncio.run(compare())
