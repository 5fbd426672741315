"""The reference bot (spec poker §8) answers every request as the spec's strategy says."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poker_contracts import hand_pb2, player_pb2, poker_types_pb2
from poker_demo.bot import decide, draw_discards, has_pair_or_better
from poker_rules.cards import NEW_DECK, parse_cards, to_protos

HAND = bytes(range(16))
PLAYER = bytes(range(16, 32))


def request(hole: str, board: str = "", *, call: int = 0, min_raise: int = 0, pot: int = 15,
            phase: int = poker_types_pb2.PREFLOP, draw: bool = False) -> player_pb2.ActionRequested:
    return player_pb2.ActionRequested(
        hand_root=HAND, player_root=PLAYER, hole_cards=to_protos(parse_cards(hole)),
        community_cards=to_protos(parse_cards(board)) if board else [], amount_to_call=call,
        min_raise=min_raise, max_raise=min_raise * 10, pot_size=pot, phase=phase, is_draw=draw,
    )


def action_of(req: player_pb2.ActionRequested) -> tuple[str, int]:
    decision = decide(req)
    assert decision.hand_root == HAND
    cmd = decision.command
    assert isinstance(cmd, hand_pb2.PlayerAction)
    assert cmd.player_root == PLAYER
    return poker_types_pb2.ActionType.Name(cmd.action), cmd.amount


@pytest.mark.parametrize(("hole", "discards"), [
    ("2c 2d 5h 9s Kd", [2, 3]),      # the pair stays, so do cards from a jack up
    ("3c 5d 7h 9s Td", [0, 1, 2]),   # at most three, lowest index first
    ("Jc Qd Kh As 2d", [4]),
    ("Ac Ad Kc Kd Qs", []),          # nothing unpaired below a jack: stand pat
    ("9c 9d 9h 4s 4d", []),
])
def test_draw_discards_unpaired_cards_below_a_jack(hole, discards):
    assert draw_discards(parse_cards(hole)) == discards
    decision = decide(request(hole, draw=True, phase=poker_types_pb2.DRAW))
    assert isinstance(decision.command, hand_pb2.RequestDraw)
    assert list(decision.command.card_indices) == discards
    assert decision.command.player_root == PLAYER


def test_preflop_pair_raises_to_the_minimum_even_when_nothing_is_owed():
    assert action_of(request("8c 8d", call=10, min_raise=20)) == ("RAISE", 20)
    assert action_of(request("8c 8d", call=0, min_raise=20)) == ("RAISE", 20)  # the big blind's option


def test_postflop_pair_bets_when_unopened_and_raises_when_facing_a_bet():
    assert action_of(request("8c 3d", "8h Ks 2c", call=0, min_raise=10, phase=poker_types_pb2.FLOP)) == ("BET", 10)
    assert action_of(request("8c 3d", "8h Ks 2c", call=30, min_raise=60, pot=60,
                             phase=poker_types_pb2.FLOP)) == ("RAISE", 60)


def test_a_made_hand_without_a_pair_counts_as_better_than_a_pair():
    # a flush: no two cards share a rank, yet it beats a pair
    assert action_of(request("2h 9h", "Kh 5h Jh", call=0, min_raise=10, phase=poker_types_pb2.FLOP)) == ("BET", 10)


def test_without_a_pair_check_when_free_call_when_cheap_else_fold():
    assert action_of(request("2c 9d", "Kh 5s Jd", call=0, min_raise=10, phase=poker_types_pb2.FLOP)) == ("CHECK", 0)
    assert action_of(request("2c 9d", call=10, min_raise=20, pot=40)) == ("CALL", 0)  # 10 <= 40/4
    assert action_of(request("2c 9d", call=10, min_raise=20, pot=39)) == ("FOLD", 0)
    assert action_of(request("2c 9d", call=10, min_raise=20, pot=15)) == ("FOLD", 0)


def test_a_pair_that_may_not_raise_falls_back_to_call_or_fold():
    assert action_of(request("8c 8d", call=10, min_raise=0, pot=40)) == ("CALL", 0)
    assert action_of(request("8c 8d", call=100, min_raise=0, pot=40)) == ("FOLD", 0)


def test_omaha_uses_exactly_two_hole_cards():
    # Preflop a pair in the four hole cards is a pair.
    assert has_pair_or_better(parse_cards("Ks Kd 4c 7h"), [])
    assert not has_pair_or_better(parse_cards("Ks Qd 4c 7h"), [])
    # Three hearts on the board and one in hand make no Omaha flush; no pair either.
    assert not has_pair_or_better(parse_cards("Ah 2c 7d 9s"), parse_cards("Kh Qh Jh"))
    # A paired board pairs every Omaha hand (three board cards are always played).
    assert has_pair_or_better(parse_cards("Ah 2c 7d 9s"), parse_cards("Kh Kd 3c"))


def test_an_unknown_number_of_hole_cards_is_refused():
    with pytest.raises(ValueError, match="hole cards"):
        decide(request("2c 3c 4c"))


# -- properties -------------------------------------------------------------------------------------

@st.composite
def requests(draw):
    count = draw(st.sampled_from([2, 4, 5]))
    board_size = 0 if count == 5 else draw(st.sampled_from([0, 3, 4, 5]))
    cards = draw(st.permutations(NEW_DECK).map(lambda deck: deck[: count + board_size]))
    is_draw = count == 5 and draw(st.booleans())
    req = player_pb2.ActionRequested(
        hand_root=HAND, player_root=PLAYER, hole_cards=to_protos(cards[:count]),
        community_cards=to_protos(cards[count:]), amount_to_call=draw(st.integers(0, 1000)),
        min_raise=draw(st.integers(0, 1000)), pot_size=draw(st.integers(0, 4000)),
        phase=draw(st.sampled_from([poker_types_pb2.PREFLOP, poker_types_pb2.FLOP, poker_types_pb2.DRAW])),
        is_draw=is_draw,
    )
    return req


@given(requests())
def test_every_answer_is_a_well_formed_command_the_strategy_allows(req):
    decision = decide(req)
    cmd = decision.command
    assert decision.hand_root == HAND and cmd.player_root == PLAYER
    if req.is_draw:
        indices = list(cmd.card_indices)
        assert indices == sorted(set(indices)) and len(indices) <= 3
        hole = [(c.rank, c.suit) for c in req.hole_cards]
        counts = Counter(rank for rank, _ in hole)
        assert all(counts[hole[i][0]] == 1 and hole[i][0] < 11 for i in indices)
        return
    assert isinstance(cmd, hand_pb2.PlayerAction)
    if cmd.action in (poker_types_pb2.BET, poker_types_pb2.RAISE):
        assert req.min_raise > 0 and cmd.amount == req.min_raise
        assert (cmd.action == poker_types_pb2.BET) == (req.amount_to_call == 0 and req.phase != poker_types_pb2.PREFLOP)
    else:
        assert cmd.amount == 0
        expected = (poker_types_pb2.CHECK if req.amount_to_call == 0
                    else poker_types_pb2.CALL if 4 * req.amount_to_call <= req.pot_size else poker_types_pb2.FOLD)
        assert cmd.action == expected
