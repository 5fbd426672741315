"""``hand-saga``: ends a finished hand at its table (spec poker §5).

| Event (domain)           | Reaction → domain / root                                   |
|--------------------------|------------------------------------------------------------|
| ``HandComplete`` (hand)  | ``EndHand`` → table / ``HandComplete.table_root``           |

The saga is stateless: the command is computed from the event and its source cover alone, so a
redelivered ``HandComplete`` yields the same ``EndHand`` (which the coordinator deduplicates).
"""

from __future__ import annotations

from angzarr_client import Saga, SagaContext, handles
from angzarr_client.proto.angzarr import types_pb2
from poker_contracts import hand_pb2, table_pb2


class HandSaga(Saga):
    name = "hand-saga"
    input_domain = "hand"
    output_domain = "table"

    @handles(hand_pb2.HandComplete)
    def end_hand(self, event: hand_pb2.HandComplete, ctx: SagaContext) -> types_pb2.CommandBook:
        end = table_pb2.EndHand(
            hand_root=ctx.root.bytes,
            results=[
                table_pb2.PotResult(
                    winner_root=w.player_root, amount=w.amount, pot_type=w.pot_type,
                    winning_hand=w.winning_hand if w.HasField("winning_hand") else None,
                )
                for w in event.winners
            ],
            final_stacks=[
                table_pb2.SeatSnapshot(position=s.position, player_root=s.player_root, stack=s.stack)
                for s in event.final_stacks
            ],
        )
        return ctx.command(end, root=event.table_root)
