"""The poker demo: reference bots playing through ``angzarr_client`` against the standalone system."""

from .bot import BotDecision, decide
from .events import Event, all_events, book_events, decode_page
from .game import GameError, GameSettings, HandSummary, PokerClients, PokerGame
from .ledger import PlayerLedger
from .system import StandaloneSystem, SystemStartError

__all__ = [
    "BotDecision",
    "Event",
    "GameError",
    "GameSettings",
    "HandSummary",
    "PlayerLedger",
    "PokerClients",
    "PokerGame",
    "StandaloneSystem",
    "SystemStartError",
    "all_events",
    "book_events",
    "decide",
    "decode_page",
]
