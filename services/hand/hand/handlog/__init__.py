"""The ``hand-log`` projector: a readable log of every game, kept in its own SQLite read model."""

from .config import HandLogPaths
from .players import RegisteredNames
from .projector import HandLog
from .store import HandLogStore

__all__ = ["HandLog", "HandLogPaths", "HandLogStore", "RegisteredNames"]
