"""Chip amounts as the player contract carries them: ``examples.Currency`` in the one currency, CHIPS.

Commands may leave ``currency_code`` blank or say ``"CHIPS"``; events always say ``"CHIPS"``.
"""

from __future__ import annotations

from angzarr_client import CommandRejectedError
from poker_contracts.poker_types_pb2 import Currency

CHIPS = "CHIPS"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def chips(amount: int) -> Currency:
    """The ``Currency`` of ``amount`` chips, as events carry it.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT when a balance would leave the int64 range of the contract.
    """
    if not INT64_MIN <= amount <= INT64_MAX:
        raise CommandRejectedError.invalid_argument(f"amount out of range: balances are int64, got {amount}")
    return Currency(amount=amount, currency_code=CHIPS)


def check_currency(amount: Currency) -> None:
    """Accept a command's amount only in chips.

    Raises:
        CommandRejectedError: INVALID_ARGUMENT when ``currency_code`` is neither blank nor ``"CHIPS"``.
    """
    if amount.currency_code not in ("", CHIPS):
        raise CommandRejectedError.invalid_argument(
            f"currency_code must be '' or 'CHIPS', got {amount.currency_code!r}: the game has only chips"
        )
