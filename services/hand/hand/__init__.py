"""The hand bounded context of the poker system: one hand from the deal to the award.

``Hand`` is the command handler. The appliers (``apply_event``, ``rebuild``, ``APPLIERS``) are plain
functions over ``HandState`` so the hand-flow process manager rebuilds its replicas with the same code.
"""

from .aggregate import Hand
from .state import APPLIERS, apply_event, rebuild

__all__ = ["APPLIERS", "Hand", "apply_event", "rebuild"]
