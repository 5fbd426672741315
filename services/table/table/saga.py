"""``table-saga``: carries player and table events to the contexts that must react (spec poker §5).

| Event (domain)                                    | Reaction → domain / root                          |
|---------------------------------------------------|---------------------------------------------------|
| ``FundsReserved`` (player)                        | ``JoinTable`` → table / the reserved table         |
| ``PlayerSittingOut`` / ``PlayerReturningToPlay``  | fact ``PlayerSatOut`` / ``PlayerSatIn`` → table    |
| ``HandStarted`` (table)                           | ``DealCards`` → hand / the new hand                |
| ``HandEnded`` (table)                             | ``TransferFunds`` per non-zero change → player     |
| ``PlayerLeft`` (table)                            | ``ReleaseFunds`` → player                          |

The saga is stateless: every reaction is computed from the event and its source cover alone.
"""

from __future__ import annotations

from angzarr_client import Saga, SagaContext, handles
from angzarr_client.proto.angzarr import types_pb2
from poker_contracts import hand_pb2, player_pb2, table_pb2
from poker_contracts.poker_types_pb2 import Currency

ANY_SEAT = -1
SETTLEMENT_REASON = "hand result"


class TableSaga(Saga):
    name = "table-saga"
    input_domains = ("player", "table")

    @handles(player_pb2.FundsReserved, input_domain="player")
    def seat_player(self, event: player_pb2.FundsReserved, ctx: SagaContext) -> types_pb2.CommandBook:
        seat = event.preferred_seat if event.HasField("preferred_seat") else ANY_SEAT
        join = table_pb2.JoinTable(
            player_root=ctx.root.bytes, preferred_seat=seat, buy_in_amount=event.amount.amount
        )
        return ctx.command(join, root=event.table_root, domain="table")

    @handles(player_pb2.PlayerSittingOut, input_domain="player")
    def mark_sat_out(self, event: player_pb2.PlayerSittingOut, ctx: SagaContext) -> types_pb2.EventBook:
        fact = table_pb2.PlayerSatOut(player_root=ctx.root.bytes, sat_out_at=event.sat_out_at)
        return ctx.fact(fact, root=event.table_root, domain="table", external_id=_fact_id(ctx))

    @handles(player_pb2.PlayerReturningToPlay, input_domain="player")
    def mark_sat_in(self, event: player_pb2.PlayerReturningToPlay, ctx: SagaContext) -> types_pb2.EventBook:
        fact = table_pb2.PlayerSatIn(player_root=ctx.root.bytes, sat_in_at=event.sat_in_at)
        return ctx.fact(fact, root=event.table_root, domain="table", external_id=_fact_id(ctx))

    @handles(table_pb2.HandStarted, input_domain="table")
    def deal_hand(self, event: table_pb2.HandStarted, ctx: SagaContext) -> types_pb2.CommandBook:
        deal = hand_pb2.DealCards(
            table_root=ctx.root.bytes, hand_number=event.hand_number, game_variant=event.game_variant,
            players=[
                hand_pb2.PlayerInHand(player_root=p.player_root, position=p.position, stack=p.stack)
                for p in event.active_players
            ],
            dealer_position=event.dealer_position, small_blind=event.small_blind, big_blind=event.big_blind,
            deck_seed=event.deck_seed, action_timeout_seconds=event.action_timeout_seconds,
        )
        return ctx.command(deal, root=event.hand_root, domain="hand")

    @handles(table_pb2.HandEnded, input_domain="table")
    def settle_hand(self, event: table_pb2.HandEnded, ctx: SagaContext) -> list[types_pb2.CommandBook]:
        # Sorted by player so a redelivered event yields the very same commands in the same order.
        return [
            ctx.command(
                player_pb2.TransferFunds(
                    amount=Currency(amount=change, currency_code="CHIPS"), hand_root=event.hand_root,
                    reason=SETTLEMENT_REASON, table_root=ctx.root.bytes,
                ),
                root=bytes.fromhex(player_hex), domain="player",
            )
            for player_hex, change in sorted(event.stack_changes.items())
            if change != 0
        ]

    @handles(table_pb2.PlayerLeft, input_domain="table")
    def release_reservation(self, event: table_pb2.PlayerLeft, ctx: SagaContext) -> types_pb2.CommandBook:
        release = player_pb2.ReleaseFunds(table_root=ctx.root.bytes)
        return ctx.command(release, root=event.player_root, domain="player")


def _fact_id(ctx: SagaContext) -> str:
    """``"<player hex>:<source sequence>"``: the same sit-out event always injects the same fact once."""
    return f"{ctx.root.bytes.hex()}:{ctx.sequence}"
