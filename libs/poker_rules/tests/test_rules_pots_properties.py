"""Property tests of pot layering and awards: chips are conserved and eligibility follows §4.5."""

from hypothesis import given
from hypothesis import strategies as st

from poker_rules.pots import award_pots, layer_pots

PLAYERS = ["P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"]


@st.composite
def hands(draw):
    """Invested chips per player (seat order), a non-empty set of contenders, scores and a clockwise order."""
    n = draw(st.integers(1, 10))
    players = PLAYERS[:n]
    invested = {p: draw(st.integers(0, 2000)) for p in players}
    contenders = draw(st.sets(st.sampled_from(players), min_size=1))
    # few distinct scores so that ties (split pots) are common
    scores = {p: draw(st.integers(1, 4)) for p in contenders}
    start = draw(st.integers(0, n - 1))
    clockwise = players[start:] + players[:start]
    return invested, contenders, scores, clockwise


@given(hands())
def test_pots_sum_to_the_chips_committed(hand):
    invested, contenders, _, _ = hand
    pots = layer_pots(invested, contenders)
    assert sum(p.amount for p in pots) == sum(invested.values())
    assert all(p.amount > 0 for p in pots)
    assert [p.name for p in pots] == ["main" if i == 0 else f"side-{i}" for i in range(len(pots))]
    assert bool(pots) == (sum(invested.values()) > 0)


@given(hands())
def test_each_pot_is_eligible_to_exactly_the_contenders_who_covered_it(hand):
    invested, contenders, _, _ = hand
    pots = layer_pots(invested, contenders)
    # What a contender can win: from every player, at most what the contender put in themselves;
    # the biggest contender also collects everything above that.
    top = max(invested[c] for c in contenders)
    for c in contenders:
        winnable = sum(min(chips, invested[c]) for chips in invested.values())
        if invested[c] == top:
            winnable = sum(invested.values())
        assert sum(p.amount for p in pots if c in p.eligible) == winnable
    for earlier, later in zip(pots, pots[1:]):
        assert set(later.eligible) < set(earlier.eligible)
    for pot in pots:
        assert set(pot.eligible) <= contenders
        assert list(pot.eligible) == [p for p in invested if p in pot.eligible]  # seat order kept
        # every eligible contender covered the pot; every contender left out invested less than those in it
        floor = min(invested[p] for p in pot.eligible)
        assert all(invested[c] < floor for c in contenders - set(pot.eligible))


@given(hands())
def test_awards_pay_every_pot_to_its_best_eligible_hands(hand):
    invested, contenders, scores, clockwise = hand
    pots = layer_pots(invested, contenders)
    awards = award_pots(pots, scores, clockwise)
    assert sum(amount for _, amount, _ in awards) == sum(p.amount for p in pots) == sum(invested.values())
    order = {p: i for i, p in enumerate(clockwise)}
    names = [p.name for p in pots]
    assert [names.index(n) for _, _, n in awards] == sorted(names.index(n) for _, _, n in awards)
    for pot in pots:
        paid = [(player, amount) for player, amount, name in awards if name == pot.name]
        assert sum(a for _, a in paid) == pot.amount
        best = max(scores[p] for p in pot.eligible)
        winners = [p for p in pot.eligible if scores[p] == best]
        assert {p for p, _ in paid} <= set(winners)
        assert [order[p] for p, _ in paid] == sorted(order[p] for p, _ in paid)
        shares = [a for _, a in paid]
        assert all(a > 0 for a in shares)
        # an even split, odd chips to the earliest winners clockwise
        base = pot.amount // len(winners)
        full = dict(paid)
        expected = [base + (1 if i < pot.amount % len(winners) else 0) for i in range(len(winners))]
        assert [full.get(p, 0) for p in sorted(winners, key=order.__getitem__)] == expected
