"""Pot layering and awards: the §9 vectors (HE24, HE26, HE30, HE31) and the §4.5 rules."""

import pytest

from poker_contracts import poker_types_pb2
from poker_rules.pots import Pot, award_pots, layer_pots, pot_name, to_proto


def test_he24_single_main_pot_to_the_straight():
    pots = layer_pots({"P1": 100, "P2": 100}, {"P1", "P2"})
    assert pots == [Pot("main", 200, ("P1", "P2"))]
    # P1 STRAIGHT 5570560 beats P2 HIGH_CARD 2022006; heads-up with button seat 0 (P1): P2 is first after it
    assert award_pots(pots, {"P1": 5570560, "P2": 2022006}, ["P2", "P1"]) == [("P1", 200, "main")]


def test_he26_uncalled_chips_return_as_a_single_eligible_side_pot():
    pots = layer_pots({"P1": 300, "P2": 100}, ["P1", "P2"])
    assert pots == [Pot("main", 200, ("P1", "P2")), Pot("side-1", 200, ("P1",))]
    awards = award_pots(pots, {"P1": 9, "P2": 3}, ["P2", "P1"])
    assert awards == [("P1", 200, "main"), ("P1", 200, "side-1")]


def test_he26_when_the_short_stack_wins_it_still_gets_only_the_main_pot():
    pots = layer_pots({"P1": 300, "P2": 100}, ["P1", "P2"])
    assert award_pots(pots, {"P1": 3, "P2": 9}, ["P2", "P1"]) == [("P2", 200, "main"), ("P1", 200, "side-1")]


def test_he30_folded_chips_count_and_side_pot_goes_to_the_best_eligible():
    invested = {"A": 100, "B": 300, "C": 300, "D": 50}
    pots = layer_pots(invested, {"A", "B", "C"})
    assert pots == [Pot("main", 350, ("A", "B", "C")), Pot("side-1", 400, ("B", "C"))]
    awards = award_pots(pots, {"A": 30, "C": 20, "B": 10}, ["A", "B", "C", "D"])
    assert awards == [("A", 350, "main"), ("C", 400, "side-1")]


def test_he31_odd_chip_goes_clockwise_from_the_first_seat_after_the_button():
    # Button seat 0 A; B seat 1 folded (5); A and C seat 2 invested 10 each with identical hands.
    pots = layer_pots({"A": 10, "B": 5, "C": 10}, {"A", "C"})
    assert pots == [Pot("main", 25, ("A", "C"))]
    awards = award_pots(pots, {"A": 4118784, "C": 4118784}, ["B", "C", "A"])
    assert awards == [("C", 13, "main"), ("A", 12, "main")]


def test_three_way_split_with_two_odd_chips():
    pots = [Pot("main", 101, ("A", "B", "C"))]
    awards = award_pots(pots, {"A": 1, "B": 1, "C": 1}, ["C", "A", "B"])
    assert awards == [("C", 34, "main"), ("A", 34, "main"), ("B", 33, "main")]


def test_share_of_zero_chips_gets_no_entry():
    awards = award_pots([Pot("main", 1, ("A", "B"))], {"A": 1, "B": 1}, ["B", "A"])
    assert awards == [("B", 1, "main")]


def test_chips_above_the_top_contender_join_the_top_layer():
    # D folded after putting in more than any contender.
    pots = layer_pots({"A": 50, "B": 100, "D": 150}, {"A", "B"})
    assert pots == [Pot("main", 150, ("A", "B")), Pot("side-1", 150, ("B",))]
    assert sum(p.amount for p in pots) == 300


def test_uncontested_pot_is_one_main_pot_of_everything():
    pots = layer_pots({"A": 5, "B": 10, "C": 40}, {"C"})
    assert pots == [Pot("main", 55, ("C",))]


def test_three_layers_are_named_in_order():
    pots = layer_pots({"A": 10, "B": 20, "C": 30, "D": 30}, {"A", "B", "C", "D"})
    assert [(p.name, p.amount, p.eligible) for p in pots] == [
        ("main", 40, ("A", "B", "C", "D")),
        ("side-1", 30, ("B", "C", "D")),
        ("side-2", 20, ("C", "D")),
    ]
    assert [pot_name(i) for i in range(3)] == ["main", "side-1", "side-2"]


def test_a_contender_who_invested_nothing_leaves_no_empty_pot():
    pots = layer_pots({"A": 0, "B": 10, "C": 10}, {"A", "B", "C"})
    assert pots == [Pot("main", 20, ("B", "C"))]


@pytest.mark.parametrize(
    ("invested", "contenders", "keyword"),
    [
        ({"A": 10}, set(), "no contenders"),
        ({"A": 10}, {"B"}, "without an invested"),
        ({"A": -1, "B": 1}, {"B"}, "non-negative"),
        ({"A": 1.5, "B": 1}, {"B"}, "non-negative"),
    ],
)
def test_layer_pots_refuses_bad_input(invested, contenders, keyword):
    with pytest.raises(ValueError, match=keyword):
        layer_pots(invested, contenders)


def test_award_pots_refuses_bad_input():
    with pytest.raises(ValueError, match="without a score"):
        award_pots([Pot("main", 10, ("A", "B"))], {"A": 1}, ["A", "B"])
    with pytest.raises(ValueError, match="clockwise"):
        award_pots([Pot("main", 10, ("A", "B"))], {"A": 1, "B": 2}, ["A"])
    with pytest.raises(ValueError, match="no eligible"):
        award_pots([Pot("main", 10, ())], {}, [])
    with pytest.raises(ValueError, match="negative"):
        award_pots([Pot("main", -1, ("A",))], {"A": 1}, ["A"])


def test_pot_proto():
    msg = to_proto(Pot("side-1", 400, (b"\x01" * 16, b"\x02" * 16)))
    assert isinstance(msg, poker_types_pb2.Pot)
    assert (msg.amount, list(msg.eligible_players), msg.pot_type) == (
        400,
        [b"\x01" * 16, b"\x02" * 16],
        "side-1",
    )
    with pytest.raises(ValueError, match="bytes"):
        to_proto(Pot("main", 1, ("A",)))
