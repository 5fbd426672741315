"""Reactions to committed events: sagas, process managers, projectors, delivery and cascades."""

from .runtime import Reactions, SubscriberLag
from .services import register_reaction_services

__all__ = ["Reactions", "SubscriberLag", "register_reaction_services"]
