"""``hand-log``: the projector that writes a readable log of the whole game (spec poker §7).

It listens to player, table and hand. Each delivered book is applied in one transaction of its
:class:`~hand.handlog.store.HandLogStore`: pages at or below the last applied sequence of the book's
aggregate are skipped (delivery is at-least-once), names learned from the events are stored, each
new page's lines are rendered (:mod:`hand.handlog.render`) and stored, and the position advances.
Each handler returns its event's lines as one newline-joined ``StringValue``, so the projection holds
those of the book's last rendered event. A speculative projection renders the same lines and
persists nothing.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue

from angzarr_client import Projector, ProjectorContext, handles
from angzarr_client.errors import InvalidArgumentError
from angzarr_client.proto.angzarr import types_pb2
from angzarr_client.typeurl import type_name_from_url, unpack
from poker_contracts import hand_pb2, player_pb2, table_pb2

from . import render
from .players import NameLookup, RegisteredNames
from .render import HandInfo
from .store import BookTransaction, HandLogStore


class _BookNames:
    """:class:`render.Names` over one book's transaction, resolving unknown players lazily."""

    def __init__(self, tx: BookTransaction, lookup: NameLookup | None) -> None:
        self._tx = tx
        self._lookup = lookup

    def player(self, root: bytes) -> str:
        name = self._tx.player_name(root)
        if name is None and self._lookup is not None and root:
            name = self._lookup(root)
            if name:
                self._tx.remember_player(root, name)
        return name or render.player_fallback(root)

    def table(self, root: bytes) -> str:
        return self._tx.table_name(root) or render.table_fallback(root)

    def hand(self, root: bytes) -> HandInfo | None:
        return self._tx.hand(root)


class HandLog(Projector):
    """The ``hand-log`` projector.

    ``store`` is the read model. ``lookup_player(root) -> name | None`` resolves players the log has
    not seen; by default a :class:`RegisteredNames` querying the player coordinator on first use.
    With ``timestamps`` each non-blank line starts with ``[HH:MM:SS] `` (the page's ``created_at``, UTC).
    """

    name = "hand-log"
    input_domains = ("player", "table", "hand")

    def __init__(self, store: HandLogStore, *, lookup_player: NameLookup | None = None,
                 timestamps: bool = False) -> None:
        self.store = store
        self.lookup_player = lookup_player if lookup_player is not None else RegisteredNames()
        self.timestamps = timestamps
        self._names: _BookNames | None = None
        self._tx: BookTransaction | None = None

    # -- delivery -----------------------------------------------------------------------------------

    def project(self, book: types_pb2.EventBook, *, speculative: bool = False) -> types_pb2.Projection:
        """Apply the book's new pages in one transaction; return the last rendered event's lines.

        Raises:
            InvalidArgumentError: not an ``EventBook``, a domain not listened to, or an undecodable event.
        """
        if not isinstance(book, types_pb2.EventBook):
            raise InvalidArgumentError(f"expected an angzarr.EventBook, got {type(book).__name__}")
        domain = book.cover.domain
        if domain not in self.input_domain_list():
            raise InvalidArgumentError(f"projector {self.name!r} listens to {list(self.input_domain_list())}, "
                                       f"not to {domain!r}")
        projection = types_pb2.Projection(projector=self.name)
        projection.cover.CopyFrom(book.cover)
        if book.pages:
            projection.sequence = book.pages[-1].header.sequence
        # The store's lock is held for the whole book, so the per-book slots below are never shared.
        with self.store.book(domain, book.cover.root.value, persist=not speculative) as tx:
            self._tx, self._names = tx, _BookNames(tx, self.lookup_player)
            try:
                self._apply_pages(book, tx, projection, speculative=speculative)
            finally:
                self._tx = self._names = None
        return projection

    def _apply_pages(self, book: types_pb2.EventBook, tx: BookTransaction, projection: types_pb2.Projection,
                     *, speculative: bool) -> None:
        floor = -1 if speculative else tx.applied_through
        last = floor
        handled = {name for domain, name in self._event_handlers if domain == book.cover.domain}
        for page in book.pages:
            sequence = page.header.sequence
            if sequence <= floor:
                continue  # already applied: a redelivery
            last = max(last, sequence)
            if page.WhichOneof("payload") != "event":
                continue
            type_name = type_name_from_url(page.event.type_url)
            if type_name in handled:
                single = types_pb2.EventBook(cover=book.cover, pages=[page])
                result = super().project(single, speculative=speculative)
                lines: list[str] = []
                if result.HasField("projection"):
                    projection.projection.CopyFrom(result.projection)
                    lines = unpack(result.projection, StringValue).value.split("\n")
            else:
                lines = render.unrendered(type_name)
            tx.add_lines(self._stamped(lines, page))
        if last > floor:
            tx.advance(last)

    def _stamped(self, lines: list[str], page: types_pb2.EventPage) -> list[str]:
        if not self.timestamps or not page.HasField("created_at"):
            return lines
        moment = page.created_at.ToDatetime(tzinfo=dt.UTC)
        prefix = f"[{moment:%H:%M:%S}] "
        return [prefix + line if line else line for line in lines]

    def _lines(self, event: Message, ctx: ProjectorContext) -> StringValue | None:
        if self._names is None:
            raise RuntimeError("hand-log handlers run inside HandLog.project()")
        lines = render.render(event, self._names, ctx.cover.root.value, domain=ctx.cover.domain)
        return StringValue(value="\n".join(lines)) if lines else None

    # -- player -------------------------------------------------------------------------------------

    @handles(player_pb2.PlayerRegistered, input_domain="player")
    def on_player_registered(self, event: player_pb2.PlayerRegistered, ctx: ProjectorContext) -> StringValue | None:
        if event.display_name and self._tx is not None:
            self._tx.remember_player(ctx.cover.root.value, event.display_name)
        return self._lines(event, ctx)

    @handles(player_pb2.FundsDeposited, input_domain="player")
    def on_funds_deposited(self, event: player_pb2.FundsDeposited, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.FundsWithdrawn, input_domain="player")
    def on_funds_withdrawn(self, event: player_pb2.FundsWithdrawn, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.FundsReserved, input_domain="player")
    def on_funds_reserved(self, event: player_pb2.FundsReserved, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.FundsReleased, input_domain="player")
    def on_funds_released(self, event: player_pb2.FundsReleased, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.FundsTransferred, input_domain="player")
    def on_funds_transferred(self, event: player_pb2.FundsTransferred, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.PlayerSittingOut, input_domain="player")
    def on_player_sitting_out(self, event: player_pb2.PlayerSittingOut, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.PlayerReturningToPlay, input_domain="player")
    def on_player_returning(self, event: player_pb2.PlayerReturningToPlay,
                            ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(player_pb2.ActionRequested, input_domain="player")
    def on_action_requested(self, event: player_pb2.ActionRequested, ctx: ProjectorContext) -> StringValue | None:
        return None  # a request is not something that happened at the table

    # -- table --------------------------------------------------------------------------------------

    @handles(table_pb2.TableCreated, input_domain="table")
    def on_table_created(self, event: table_pb2.TableCreated, ctx: ProjectorContext) -> StringValue | None:
        if event.table_name and self._tx is not None:
            self._tx.remember_table(ctx.cover.root.value, event.table_name)
        return self._lines(event, ctx)

    @handles(table_pb2.PlayerJoined, input_domain="table")
    def on_player_joined(self, event: table_pb2.PlayerJoined, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(table_pb2.PlayerLeft, input_domain="table")
    def on_player_left(self, event: table_pb2.PlayerLeft, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(table_pb2.PlayerSatOut, input_domain="table")
    def on_player_sat_out(self, event: table_pb2.PlayerSatOut, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(table_pb2.PlayerSatIn, input_domain="table")
    def on_player_sat_in(self, event: table_pb2.PlayerSatIn, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(table_pb2.HandStarted, input_domain="table")
    def on_hand_started(self, event: table_pb2.HandStarted, ctx: ProjectorContext) -> StringValue | None:
        if self._tx is not None:
            seats = tuple(sorted((s.position, s.player_root) for s in event.active_players))
            self._tx.remember_hand(event.hand_root, HandInfo(ctx.cover.root.value, event.hand_number, seats))
        return self._lines(event, ctx)

    @handles(table_pb2.HandEnded, input_domain="table")
    def on_hand_ended(self, event: table_pb2.HandEnded, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    # -- hand ---------------------------------------------------------------------------------------

    @handles(hand_pb2.CardsDealt, input_domain="hand")
    def on_cards_dealt(self, event: hand_pb2.CardsDealt, ctx: ProjectorContext) -> StringValue | None:
        if self._tx is not None and self._tx.hand(ctx.cover.root.value) is None:
            seats = tuple(sorted((p.position, p.player_root) for p in event.players))
            self._tx.remember_hand(ctx.cover.root.value, HandInfo(event.table_root, event.hand_number, seats))
        return self._lines(event, ctx)

    @handles(hand_pb2.BlindPosted, input_domain="hand")
    def on_blind_posted(self, event: hand_pb2.BlindPosted, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.ActionTaken, input_domain="hand")
    def on_action_taken(self, event: hand_pb2.ActionTaken, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.BettingRoundComplete, input_domain="hand")
    def on_betting_round_complete(self, event: hand_pb2.BettingRoundComplete,
                                  ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.CommunityCardsDealt, input_domain="hand")
    def on_community_cards_dealt(self, event: hand_pb2.CommunityCardsDealt,
                                 ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.DrawCompleted, input_domain="hand")
    def on_draw_completed(self, event: hand_pb2.DrawCompleted, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.ShowdownStarted, input_domain="hand")
    def on_showdown_started(self, event: hand_pb2.ShowdownStarted, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.CardsRevealed, input_domain="hand")
    def on_cards_revealed(self, event: hand_pb2.CardsRevealed, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.CardsMucked, input_domain="hand")
    def on_cards_mucked(self, event: hand_pb2.CardsMucked, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.PotAwarded, input_domain="hand")
    def on_pot_awarded(self, event: hand_pb2.PotAwarded, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.HandComplete, input_domain="hand")
    def on_hand_complete(self, event: hand_pb2.HandComplete, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)

    @handles(hand_pb2.PlayerTimedOut, input_domain="hand")
    def on_player_timed_out(self, event: hand_pb2.PlayerTimedOut, ctx: ProjectorContext) -> StringValue | None:
        return self._lines(event, ctx)
