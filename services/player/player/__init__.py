"""The player bounded context: registration, bankroll and per-table reservations."""

from player.aggregate import Player

__all__ = ["Player"]
