"""Button and blind seats (spec poker §3, HandStarted step 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from table.rotation import blind_seats, button_seat, next_clockwise


def test_next_clockwise_wraps_past_the_highest_seat():
    assert next_clockwise([0, 3, 5], 3) == 5
    assert next_clockwise([0, 3, 5], 5) == 0
    assert next_clockwise([0, 3, 5], 1) == 3  # the previous button need not be playing any more
    with pytest.raises(ValueError):
        next_clockwise([], 0)


def test_first_button_is_the_lowest_playing_seat():
    assert button_seat([2, 4, 7], None) == 2
    assert button_seat([2, 4, 7], 2) == 4
    with pytest.raises(ValueError):
        button_seat([], None)


def test_blinds_heads_up_and_ring():
    assert blind_seats([0, 3], 0) == (0, 3)
    assert blind_seats([0, 3], 3) == (3, 0)
    assert blind_seats([0, 3, 5], 0) == (3, 5)
    assert blind_seats([0, 3, 5], 3) == (5, 0)
    with pytest.raises(ValueError):
        blind_seats([4], 4)


@given(st.sets(st.integers(min_value=0, max_value=9), min_size=2))
def test_the_button_visits_every_playing_seat_once_per_orbit(seats):
    playing = sorted(seats)
    button, visited = None, []
    for _ in playing:
        button = button_seat(playing, button)
        visited.append(button)
        small, big = blind_seats(playing, button)
        assert len({small, big}) == 2 and {small, big} <= seats
        if len(playing) > 2:
            assert button not in (small, big)
    assert visited == playing
