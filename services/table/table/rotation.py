"""Who deals and who posts the blinds: the button moves clockwise over the seats that play.

Seats are numbered ``0 … max_players−1``; *clockwise after s* is the next higher seat, wrapping.
"""

from __future__ import annotations

from collections.abc import Sequence


def next_clockwise(seats: Sequence[int], after: int) -> int:
    """The first of ``seats`` clockwise after seat ``after`` (which need not be among them).

    Raises:
        ValueError: ``seats`` is empty.
    """
    if not seats:
        raise ValueError("next_clockwise needs at least one seat")
    ordered = sorted(seats)
    return next((s for s in ordered if s > after), ordered[0])


def button_seat(playing: Sequence[int], previous_button: int | None) -> int:
    """The button for the next hand: the lowest playing seat on the first hand, else the first playing
    seat clockwise after the previous button.

    Raises:
        ValueError: ``playing`` is empty.
    """
    if previous_button is None:
        if not playing:
            raise ValueError("button_seat needs at least one playing seat")
        return min(playing)
    return next_clockwise(playing, previous_button)


def blind_seats(playing: Sequence[int], button: int) -> tuple[int, int]:
    """``(small blind, big blind)`` seats. Heads-up the button posts the small blind; otherwise the
    blinds are the next two playing seats clockwise after the button.

    Raises:
        ValueError: fewer than two playing seats.
    """
    if len(playing) < 2:
        raise ValueError("blinds need at least two playing seats")
    if len(playing) == 2:
        return button, next_clockwise(playing, button)
    small = next_clockwise(playing, button)
    return small, next_clockwise(playing, small)
