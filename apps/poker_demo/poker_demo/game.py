"""The game from the client's side (spec poker §8), played by reference bots through ``angzarr_client``.

Setup: ``CreateTable`` on root(``table:<name>``); per bot ``RegisterPlayer``, ``DepositFunds`` and
``ReserveFunds`` (the table-saga seats it: ``FundsReserved`` → ``JoinTable`` → ``PlayerJoined``). Each hand:
``StartHand`` with a fresh correlation id and deck seed ``<seed>-<hand number>``; the client subscribes
to that correlation id and answers every ``ActionRequested`` with the bot's ``PlayerAction`` or
``RequestDraw`` (under the same correlation id) until the table records ``HandEnded``. Everything else,
blinds, dealing, showdown, settlement, is the system's reaction. Finally each seated bot sends
``LeaveTable`` and the client waits for the saga's ``FundsReleased``.

Every wait is bounded by ``GameSettings.step_timeout`` and fails with ``GameError`` saying what was
awaited; nothing here sleeps for a fixed time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message

from angzarr_client import DomainClient, GRPCError
from poker_contracts import hand_pb2, player_pb2, poker_types_pb2, table_pb2
from poker_rules.evaluator import CATEGORY_NAMES, FIVE_CARD_DRAW, OMAHA, TEXAS_HOLDEM
from poker_rules.roots import hex_key, poker_root

from .bot import decide
from .events import Event, all_events, book_events
from .ledger import PlayerLedger

VARIANTS: dict[str, int] = {"holdem": TEXAS_HOLDEM, "omaha": OMAHA, "draw": FIVE_CARD_DRAW}
VARIANT_NAMES: dict[int, str] = {
    TEXAS_HOLDEM: "No-limit Texas Hold'em",
    OMAHA: "Pot-limit Omaha",
    FIVE_CARD_DRAW: "No-limit Five-card draw",
}
BOT_NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy")
# The table's default seat counts (CreateTable with max_players 0), which the demo's table uses.
MAX_PLAYERS = {TEXAS_HOLDEM: 9, OMAHA: 9, FIVE_CARD_DRAW: 5}
UNAVAILABLE_RETRY_SECONDS = 30.0


class GameError(Exception):
    """The game could not go on: a command was refused where the demo cannot continue, or a reaction
    did not arrive within the step timeout."""


@dataclass(frozen=True, slots=True)
class GameSettings:
    """What the demo plays. ``action_timeout_seconds`` 0 means the table default (30 s)."""

    variant: int = TEXAS_HOLDEM
    players: int = 4
    hands: int = 20
    seed: str = "e2e"
    table: str = "main"
    small_blind: int = 5
    big_blind: int = 10
    deposit: int = 1000
    buy_in: int = 500
    action_timeout_seconds: int = 0
    step_timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.variant not in VARIANT_NAMES:
            raise ValueError(f"unsupported game variant {self.variant!r}; use one of {', '.join(VARIANTS)}")
        if not 2 <= self.players <= min(MAX_PLAYERS[self.variant], len(BOT_NAMES)):
            raise ValueError(f"players must be between 2 and {MAX_PLAYERS[self.variant]} for "
                             f"{VARIANT_NAMES[self.variant]}, got {self.players}")
        if self.hands < 1:
            raise ValueError(f"hands must be at least 1, got {self.hands}")
        if not self.seed:
            raise ValueError("the seed must not be empty")
        if self.buy_in > self.deposit:
            raise ValueError(f"the buy-in ({self.buy_in}) cannot exceed the deposit ({self.deposit})")


@dataclass(frozen=True, slots=True)
class Bot:
    """A bot player: its display name, e-mail (its key) and root."""

    name: str
    email: str
    root: bytes

    @classmethod
    def named(cls, name: str) -> Bot:
        email = f"{name.lower()}@bots.poker.example"
        return cls(name, email, poker_root("player", email))


@dataclass(slots=True)
class HandSummary:
    """What one hand did, as the client saw it on the hand's correlation id."""

    number: int
    hand_root: bytes
    correlation_id: str
    deck_seed: bytes
    winners: list[tuple[str, int, str, str]] = field(default_factory=list)  # name, amount, pot, hand rank
    changes: dict[str, int] = field(default_factory=dict)  # name -> net chips
    busted: list[str] = field(default_factory=list)
    answers: int = 0
    timeouts: int = 0
    rejections: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def describe(self) -> str:
        """One progress line: winners and pots, actions answered."""
        won = ", ".join(
            f"{name} wins ${amount:,}" + (f" ({pot})" if pot != "main" else "") + (f" with {rank}" if rank else "")
            for name, amount, pot, rank in self.winners
        ) or "no winner"
        extra = f"; {', '.join(self.busted)} busted" if self.busted else ""
        extra += f"; {self.timeouts} timeouts" if self.timeouts else ""
        extra += f"; {len(self.rejections)} rejected" if self.rejections else ""
        return f"hand #{self.number}: {won} ({self.answers} bot answers{extra})"


@dataclass(slots=True)
class PokerClients:
    """One client per domain's coordinator (``DomainClient.for_domain``, so ``ANGZARR_MODE`` and
    ``ANGZARR_UDS_BASE`` say where they are)."""

    player: DomainClient
    table: DomainClient
    hand: DomainClient

    @classmethod
    def connect(cls, mode: str | None = None, **kw) -> PokerClients:
        return cls(*(DomainClient.for_domain(d, mode, **kw) for d in ("player", "table", "hand")))

    def wait_ready(self, timeout: float = 5.0) -> None:
        """Wait until every domain's endpoint accepts connections.

        Raises:
            angzarr_client.ConnectionError: one did not within ``timeout`` seconds.
        """
        for client in (self.player, self.table, self.hand):
            client.wait_ready(timeout)

    def for_domain(self, domain: str) -> DomainClient:
        return {"player": self.player, "table": self.table, "hand": self.hand}[domain]

    def close(self) -> None:
        for client in (self.player, self.table, self.hand):
            client.close()

    def __enter__(self) -> PokerClients:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class PokerGame:
    """Plays ``settings`` against the system behind ``clients``; ``progress`` receives one line per step."""

    def __init__(self, clients: PokerClients, settings: GameSettings,
                 progress: Callable[[str], None] = lambda line: None) -> None:
        self.clients = clients
        self.settings = settings
        self.progress = progress
        self.table_root = poker_root("table", settings.table)
        self.bots = [Bot.named(name) for name in BOT_NAMES[: settings.players]]
        self.names = {bot.root: bot.name for bot in self.bots}
        self.seated: set[bytes] = set()
        self.hands: list[HandSummary] = []

    # -- commands ------------------------------------------------------------------------------------
    def send(self, domain: str, root: bytes, command: Message, correlation_id: str | None = None):
        """Send ``command`` to ``domain``/``root`` (ASYNC: returns once its events are committed).

        A domain that is restarting answers UNAVAILABLE; the client's retry policy resends, and this
        keeps resending for up to ``UNAVAILABLE_RETRY_SECONDS`` more (a command answered UNAVAILABLE was
        not applied, so resending cannot apply it twice).

        Raises:
            GRPCError: the command was rejected (the handler's status code and message).
        """
        deadline = time.monotonic() + UNAVAILABLE_RETRY_SECONDS
        while True:
            builder = self.clients.for_domain(domain).command(domain, root).with_command(command)
            if correlation_id:
                builder = builder.with_correlation_id(correlation_id)
            try:
                return builder.execute(timeout=self.settings.step_timeout)
            except GRPCError as e:
                if e.code != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _subscribe(self, correlation_id: str) -> Iterator[list[Event]]:
        """The books committed under ``correlation_id`` (as decoded events), history then live, until the
        step timeout.

        Raises:
            GameError: the step timeout passed (the stream's deadline).
        """
        stream = self.clients.table.query.subscribe(correlation_id, timeout=self.settings.step_timeout)
        try:
            for book in stream:
                yield list(book_events(book))
        except GRPCError as e:
            if e.code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise GameError(f"nothing settled correlation {correlation_id} within "
                                f"{self.settings.step_timeout:.0f} s") from None
            raise
        finally:
            stream.cancel()
        raise GameError(f"the event stream of correlation {correlation_id} ended early")

    def _await(self, correlation_id: str, what: str, match: Callable[[Event], bool]) -> Event:
        """The first event under ``correlation_id`` that ``match`` accepts.

        Raises:
            GameError: none within the step timeout (``what`` says what was awaited).
        """
        try:
            for book in self._subscribe(correlation_id):
                for event in book:
                    if match(event):
                        return event
        except GameError as e:
            raise GameError(f"waiting for {what}: {e}") from None
        raise GameError(f"waiting for {what}: the stream ended")  # pragma: no cover - _subscribe raises

    # -- setup ---------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the table (or reuse an existing one), register and fund the bots, seat them.

        Raises:
            GameError: the table exists with another game, or a bot could not be seated.
            GRPCError: a command was rejected unexpectedly.
        """
        s = self.settings
        create = table_pb2.CreateTable(table_name=s.table, game_variant=s.variant, small_blind=s.small_blind,
                                       big_blind=s.big_blind, action_timeout_seconds=s.action_timeout_seconds)
        try:
            self.send("table", self.table_root, create)
            self.progress(f"Table {s.table} created: {VARIANT_NAMES[s.variant]}, blinds ${s.small_blind}/"
                          f"${s.big_blind}")
        except GRPCError as e:
            if "already exists" not in str(e):
                raise
            self._check_existing_table()
        for bot in self.bots:
            self._register(bot)
            self._seat(bot)

    def _check_existing_table(self) -> None:
        created = [e.message for e in self.table_events() if isinstance(e.message, table_pb2.TableCreated)]
        variant = created[0].game_variant if created else None
        if variant != self.settings.variant:
            raise GameError(f"table {self.settings.table!r} already exists with another game; choose another "
                            "name with --table or start a fresh system")
        self.progress(f"Table {self.settings.table} already exists; playing on at it")

    def _register(self, bot: Bot) -> None:
        register = player_pb2.RegisterPlayer(display_name=bot.name, email=bot.email,
                                             player_type=poker_types_pb2.AI, ai_model_id="reference-bot")
        try:
            self.send("player", bot.root, register)
            self.progress(f"{bot.name} registered")
        except GRPCError as e:
            if "already exists" not in str(e):
                raise
        deposit = player_pb2.DepositFunds(amount=poker_types_pb2.Currency(amount=self.settings.deposit,
                                                                           currency_code="CHIPS"))
        self.send("player", bot.root, deposit)

    def _seat(self, bot: Bot) -> None:
        """Reserve the buy-in and wait until the table-saga has seated the bot (or it was refused)."""
        cid = str(uuid.uuid4())
        reserve = player_pb2.ReserveFunds(
            amount=poker_types_pb2.Currency(amount=self.settings.buy_in, currency_code="CHIPS"),
            table_root=self.table_root,
        )
        try:
            self.send("player", bot.root, reserve, cid)
        except GRPCError as e:
            if "already reserved" in str(e) and bot.root in self.seated_players():
                self.seated.add(bot.root)
                self.progress(f"{bot.name} is already seated")
                return
            raise
        event = self._await(cid, f"{bot.name} to be seated", lambda ev: (
            isinstance(ev.message, table_pb2.PlayerJoined) and ev.message.player_root == bot.root
        ) or (isinstance(ev.message, player_pb2.FundsReleased) and ev.root == bot.root))
        if not isinstance(event.message, table_pb2.PlayerJoined):
            raise GameError(f"the table refused {bot.name}; the reservation was released")
        self.seated.add(bot.root)
        self.progress(f"{bot.name} deposits ${self.settings.deposit:,} and sits down at seat "
                      f"{event.message.seat_position} with ${event.message.stack:,}")

    # -- hands ---------------------------------------------------------------------------------------
    def play(self) -> list[HandSummary]:
        """Play up to ``settings.hands`` hands; stops early when fewer than two players can play."""
        first = self.hands_started() + 1
        for number in range(first, first + self.settings.hands):
            summary = self.play_hand(number)
            if summary is None:
                self.progress(f"Not enough players left for hand #{number}; the game is over")
                break
            self.hands.append(summary)
            self.progress(f"[{len(self.hands):>3}/{self.settings.hands}] {summary.describe()}")
        return self.hands

    def play_hand(self, number: int) -> HandSummary | None:
        """Start hand ``number`` and answer for the bots until the table records ``HandEnded``.

        Returns ``None`` when the table has fewer than two eligible players.

        Raises:
            GameError: the hand did not end within the step timeout.
        """
        cid = str(uuid.uuid4())
        seed = f"{self.settings.seed}-{number}".encode()
        try:
            response = self.send("table", self.table_root, table_pb2.StartHand(deck_seed=seed), cid)
        except GRPCError as e:
            if "Not enough players" in str(e):
                return None
            raise
        started = [e for e in book_events(response.events) if isinstance(e.message, table_pb2.HandStarted)]
        if not started:
            raise GameError(f"StartHand for hand #{number} committed no HandStarted")
        hand = started[0].message
        summary = HandSummary(int(hand.hand_number), bytes(hand.hand_root), cid, bytes(hand.deck_seed))
        try:
            for book in self._subscribe(cid):
                ended = False
                for event in book:  # a whole book: HandEnded and the busted players' PlayerLeft come together
                    summary.events.append(event)
                    ended = self._on_hand_event(summary, event) or ended
                if ended:
                    return summary
        except GameError as e:
            raise GameError(f"hand #{summary.number}: {e}") from None
        raise GameError(f"hand #{summary.number}: the stream ended")  # pragma: no cover

    def _on_hand_event(self, summary: HandSummary, event: Event) -> bool:
        """React to one event of the hand; True once the hand has ended at the table."""
        msg = event.message
        if isinstance(msg, player_pb2.ActionRequested):
            self.answer(summary, msg)
        elif isinstance(msg, hand_pb2.PlayerTimedOut):
            summary.timeouts += 1
        elif isinstance(msg, hand_pb2.PotAwarded):
            for w in msg.winners:
                rank = CATEGORY_NAMES.get(w.winning_hand.rank_type, "") if w.HasField("winning_hand") else ""
                summary.winners.append((self.names.get(w.player_root, hex_key(w.player_root)[:8]),
                                        w.amount, w.pot_type or "main", rank))
        elif isinstance(msg, table_pb2.PlayerLeft):
            self.seated.discard(bytes(msg.player_root))
            summary.busted.append(self.names.get(msg.player_root, hex_key(msg.player_root)[:8]))
        elif isinstance(msg, table_pb2.HandEnded) and msg.hand_root == summary.hand_root:
            for key, change in msg.stack_changes.items():
                summary.changes[self.names.get(bytes.fromhex(key), key[:8])] = change
            return True
        return False

    def answer(self, summary: HandSummary, request: player_pb2.ActionRequested) -> None:
        """Send the bot's answer to ``request`` (a subclass may override it to intervene, e.g. in tests)."""
        decision = decide(request)
        try:
            self.send("hand", decision.hand_root, decision.command, summary.correlation_id)
            summary.answers += 1
        except GRPCError as e:
            # A stale request (the clock timed the player out first) is refused; the hand goes on.
            name = self.names.get(request.player_root, "?")
            summary.rejections.append(f"{name} {decision.describe()}: {e}")

    # -- leaving -------------------------------------------------------------------------------------
    def leave(self) -> None:
        """Every seated bot leaves the table; waits for each reservation to be released.

        Raises:
            GameError: a release did not arrive within the step timeout.
        """
        for bot in self.bots:
            if bot.root not in self.seated:
                continue
            cid = str(uuid.uuid4())
            self.send("table", self.table_root, table_pb2.LeaveTable(player_root=bot.root), cid)
            released = self._await(cid, f"{bot.name}'s chips to be released", lambda ev, b=bot: (
                isinstance(ev.message, player_pb2.FundsReleased) and ev.root == b.root))
            self.seated.discard(bot.root)
            self.progress(f"{bot.name} leaves the table with ${released.message.amount.amount:,}")
        self.wait_no_reservations()

    def wait_no_reservations(self) -> None:
        """Wait until no bot holds a reservation for this table (busted players are released by the
        saga after the hand that busted them).

        Raises:
            GameError: a reservation is still held after the step timeout.
        """
        deadline = time.monotonic() + self.settings.step_timeout
        while True:
            holding = [b.name for b in self.bots if self.table_root in self.ledger(b).table_reservations]
            if not holding:
                return
            if time.monotonic() > deadline:
                raise GameError(f"reservations still held after {self.settings.step_timeout:.0f} s: "
                                f"{', '.join(holding)}")
            time.sleep(0.1)

    # -- reading -------------------------------------------------------------------------------------
    def player_events(self, bot: Bot) -> list[Event]:
        return all_events(self.clients.player.query("player", bot.root).get_events())

    def table_events(self) -> list[Event]:
        return all_events(self.clients.table.query("table", self.table_root).get_events())

    def ledger(self, bot: Bot) -> PlayerLedger:
        return PlayerLedger.of(e.message for e in self.player_events(bot))

    def hands_started(self) -> int:
        return sum(isinstance(e.message, table_pb2.HandStarted) for e in self.table_events())

    def seated_players(self) -> set[bytes]:
        seated: set[bytes] = set()
        for event in self.table_events():
            if isinstance(event.message, table_pb2.PlayerJoined):
                seated.add(bytes(event.message.player_root))
            elif isinstance(event.message, table_pb2.PlayerLeft):
                seated.discard(bytes(event.message.player_root))
        return seated
