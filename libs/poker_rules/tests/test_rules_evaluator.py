"""Hand evaluation: every vector of spec poker §4.6, the category table and the showdown vectors of §9."""

import pytest

from poker_contracts import poker_types_pb2
from poker_rules.cards import parse_cards
from poker_rules.evaluator import (
    CATEGORY_NAMES,
    FIVE_CARD_DRAW,
    FLUSH,
    FOUR_OF_A_KIND,
    FULL_HOUSE,
    HIGH_CARD,
    OMAHA,
    PAIR,
    ROYAL_FLUSH,
    STRAIGHT,
    STRAIGHT_FLUSH,
    TEXAS_HOLDEM,
    THREE_OF_A_KIND,
    TWO_PAIR,
    HandValue,
    best_hand,
    best_holdem,
    best_omaha,
    evaluate_five,
    hand_score,
    to_ranking_proto,
)


def five(text):
    return evaluate_five(parse_cards(text))


def test_categories_equal_the_proto_enum():
    assert {n: poker_types_pb2.HandRankType.Name(n) for n in CATEGORY_NAMES} == {
        HIGH_CARD: "HIGH_CARD",
        PAIR: "PAIR",
        TWO_PAIR: "TWO_PAIR",
        THREE_OF_A_KIND: "THREE_OF_A_KIND",
        STRAIGHT: "STRAIGHT",
        FLUSH: "FLUSH",
        FULL_HOUSE: "FULL_HOUSE",
        FOUR_OF_A_KIND: "FOUR_OF_A_KIND",
        STRAIGHT_FLUSH: "STRAIGHT_FLUSH",
        ROYAL_FLUSH: "ROYAL_FLUSH",
    }
    assert (TEXAS_HOLDEM, OMAHA, FIVE_CARD_DRAW) == (
        poker_types_pb2.TEXAS_HOLDEM,
        poker_types_pb2.OMAHA,
        poker_types_pb2.FIVE_CARD_DRAW,
    )


# --- the §4.6 vector table, row by row ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cards", "category", "score"),
    [
        ("Ah Kh Qh Jh Th", ROYAL_FLUSH, 11403264),
        ("5d 4d 3d 2d Ad", STRAIGHT_FLUSH, 9764864),
        ("6c 2c 3d 4h 5s", STRAIGHT, 5636096),
        ("As 2c 3d 4h 5s", STRAIGHT, 5570560),
    ],
)
def test_five_card_vectors(cards, category, score):
    value = five(cards)
    assert (value.category, value.score) == (category, score)
    assert value.kickers == ()


def test_pair_vectors_and_kicker_decides():
    board = parse_cards("Ah 2c 5d 9s 3h")
    ak = best_holdem(parse_cards("As Kd"), board)
    aq = best_holdem(parse_cards("Ac Qd"), board)
    assert (ak.category, ak.score, ak.kickers) == (PAIR, 3070288, (13, 9, 5))
    assert (aq.category, aq.score, aq.kickers) == (PAIR, 3066192, (12, 9, 5))
    assert ak > aq


def test_two_pair_vector_is_a_split():
    board = parse_cards("Ah Kh 2c 5d 9s")
    first = best_holdem(parse_cards("As Kd"), board)
    second = best_holdem(parse_cards("Ac Ks"), board)
    assert (first.category, first.score, first.kickers) == (TWO_PAIR, 4118784, (9,))
    assert second.score == 4118784
    assert first == second
    assert not first < second and not second < first


def test_omaha_full_house_uses_two_hole_cards():
    value = best_omaha(parse_cards("Qs Qd Js Jd"), parse_cards("Ah Ac Ad Kh Kc"))
    assert (value.category, value.tiebreak, value.score) == (FULL_HOUSE, (14, 12), 8306688)


def test_omaha_one_hole_heart_makes_no_flush():
    value = best_omaha(parse_cards("Ah 2c 7d 9s"), parse_cards("Kh Qh Jh 3h 4c"))
    assert (value.category, value.score) == (HIGH_CARD, 2022585)
    assert value.kickers == (14, 13, 12, 11, 9)


def test_omaha_board_broadway_does_not_play():
    value = best_omaha(parse_cards("9c 8d 2s 2d"), parse_cards("Tc Jh Qs Kd Ad"))
    assert (value.category, value.tiebreak, value.score) == (STRAIGHT, (12,), 6029312)
    # Hold'em with the same cards would play the board's Broadway.
    assert best_holdem(parse_cards("9c 8d"), parse_cards("Tc Jh Qs Kd Ad")).tiebreak == (14,)


# --- the category table: tie-break and kickers columns -------------------------------------------------


@pytest.mark.parametrize(
    ("cards", "category", "tiebreak", "kickers"),
    [
        ("Ts Js Qs Ks As", ROYAL_FLUSH, (14,), ()),
        ("9c Tc Jc Qc Kc", STRAIGHT_FLUSH, (13,), ()),
        ("7h 7d 7c 7s 2h", FOUR_OF_A_KIND, (7, 2), (2,)),
        ("2h 2d 2c 2s Ah", FOUR_OF_A_KIND, (2, 14), (14,)),
        ("3h 3d 3c Ks Kh", FULL_HOUSE, (3, 13), ()),
        ("Kh Kd Kc 3s 3h", FULL_HOUSE, (13, 3), ()),
        ("2d 9d Jd 4d Qd", FLUSH, (12, 11, 9, 4, 2), (12, 11, 9, 4, 2)),
        ("Ah 2d 3c 4s 5h", STRAIGHT, (5,), ()),
        ("Th Jd Qc Ks Ah", STRAIGHT, (14,), ()),
        ("9h 9d 9c As 2h", THREE_OF_A_KIND, (9, 14, 2), (14, 2)),
        ("9h 9d 4c 4s Kh", TWO_PAIR, (9, 4, 13), (13,)),
        ("Ah Ad 4c 8s 7h", PAIR, (14, 8, 7, 4), (8, 7, 4)),
        ("Ah Kd 4c 8s 7h", HIGH_CARD, (14, 13, 8, 7, 4), (14, 13, 8, 7, 4)),
        ("Qh Kd Ac 2s 3h", HIGH_CARD, (14, 13, 12, 3, 2), (14, 13, 12, 3, 2)),
    ],
)
def test_tiebreak_and_kickers_per_category(cards, category, tiebreak, kickers):
    value = five(cards)
    assert (value.category, value.tiebreak, value.kickers) == (category, tiebreak, kickers)
    assert value.score == hand_score(category, tiebreak)


def test_wheel_is_the_lowest_straight_and_steel_wheel_the_lowest_straight_flush():
    wheel = five("Ah 2d 3c 4s 5h")
    six_high = five("2h 3d 4c 5s 6h")
    assert wheel < six_high
    assert five("5d 4d 3d 2d Ad") < five("6d 5d 4d 3d 2d") < five("Ad Kd Qd Jd Td")
    assert five("Ah Kd Qc Js 9h") < wheel  # any straight beats high card


def test_category_order_beats_ranks():
    ladder = [
        "Ah Kd 4c 8s 7h",
        "2h 2d 3c 4s 6h",
        "2h 2d 3c 3s 4h",
        "2h 2d 2c 3s 4h",
        "Ah 2d 3c 4s 5h",
        "2h 3h 4h 5h 7h",
        "2h 2d 2c 3s 3h",
        "2h 2d 2c 2s 3h",
        "Ah 2h 3h 4h 5h",
        "Ah Kh Qh Jh Th",
    ]
    values = [five(c) for c in ladder]
    assert values == sorted(values)
    assert [v.score for v in values] == sorted(v.score for v in values)
    assert [v.category for v in values] == list(range(1, 11))


def test_score_packing_and_hand_value_name():
    assert hand_score(HIGH_CARD, (14, 13, 10, 7, 6)) == 2022006
    assert hand_score(STRAIGHT, (5,)) == 5570560
    assert five("Ah Kh Qh Jh Th").name == "Royal Flush"
    assert five("9h 9d 4c 4s Kh").name == "Two Pair"
    with pytest.raises(ValueError):
        hand_score(11, ())
    with pytest.raises(ValueError):
        hand_score(HIGH_CARD, (1, 2, 3, 4, 5, 6))


def test_showdown_vectors_of_the_pinned_heads_up_hand():
    # HE23: board 5c Kd Ad Ts 2d; P2 6c 7h high card, P1 3s 4c the wheel.
    board = parse_cards("5c Kd Ad Ts 2d")
    p2 = best_hand(TEXAS_HOLDEM, parse_cards("6c 7h"), board)
    p1 = best_hand(TEXAS_HOLDEM, parse_cards("3s 4c"), board)
    assert (p2.category, p2.kickers, p2.score) == (HIGH_CARD, (14, 13, 10, 7, 6), 2022006)
    assert (p1.category, p1.kickers, p1.score) == (STRAIGHT, (), 5570560)
    assert p1 > p2


def test_draw_hand_is_the_five_held():
    # HE35: after the draw P2 holds 6c 5s 5c 3h 2d.
    value = best_hand(FIVE_CARD_DRAW, parse_cards("6c 5s 5c 3h 2d"), [])
    assert (value.category, value.tiebreak) == (PAIR, (5, 6, 3, 2))


def test_holdem_with_a_partial_board():
    flop = best_holdem(parse_cards("As Ad"), parse_cards("Ac 2d 7h"))
    assert flop.category == THREE_OF_A_KIND
    turn = best_holdem(parse_cards("As Ad"), parse_cards("Ac 2d 7h 7c"))
    assert turn.category == FULL_HOUSE


def test_ranking_proto():
    msg = to_ranking_proto(best_holdem(parse_cards("As Kd"), parse_cards("Ah 2c 5d 9s 3h")))
    assert msg.rank_type == poker_types_pb2.PAIR
    assert list(msg.kickers) == [poker_types_pb2.KING, poker_types_pb2.NINE, poker_types_pb2.FIVE]
    assert msg.score == 3070288
    assert poker_types_pb2.HandRanking.FromString(msg.SerializeToString()) == msg


def test_hand_value_is_immutable_and_ignores_derived_fields_in_comparison():
    value = five("Ah Kd 4c 8s 7h")
    with pytest.raises(AttributeError):
        value.score = 1  # type: ignore[misc]
    assert value == HandValue(value.category, value.tiebreak, (), 0)


@pytest.mark.parametrize(
    ("call", "keyword"),
    [
        (lambda: five("Ah Kd 4c 8s"), "exactly 5"),
        (lambda: five("Ah Kd 4c 8s 7h 6h"), "exactly 5"),
        (lambda: five("Ah Ah 4c 8s 7h"), "repeat"),
        (lambda: best_holdem(parse_cards("Ah Kd"), parse_cards("2c 3c")), "at least 5"),
        (lambda: best_holdem(parse_cards("Ah Kd"), parse_cards("Ah 3c 4c")), "repeat"),
        (lambda: best_omaha(parse_cards("Ah Kd Qc"), parse_cards("2c 3c 4c 5c 6c")), "4 hole"),
        (lambda: best_omaha(parse_cards("Ah Kd Qc Jc"), parse_cards("2c 3c")), "3 to 5"),
        (lambda: best_hand(4, parse_cards("Ah Kd"), parse_cards("2c 3c 4c")), "not supported"),
        (lambda: best_hand(0, parse_cards("Ah Kd"), parse_cards("2c 3c 4c")), "not supported"),
        (lambda: best_hand(FIVE_CARD_DRAW, parse_cards("Ah Kd Qc Jc 9c"), parse_cards("2c")), "community"),
        (lambda: evaluate_five([(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]), "rank"),
    ],
)
def test_bad_input_is_a_value_error(call, keyword):
    with pytest.raises(ValueError, match=keyword):
        call()
