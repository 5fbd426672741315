"""Root derivations of the poker system (spec poker §0.2 and §3 step 1).

Roots are 16-byte identifiers. Clients derive a player's or table's root from a readable key; the table
derives each hand's root from its own root and the hand number, so every participant computes the same one.
"""

from __future__ import annotations

import hashlib
import uuid

ROOT_SIZE = 16


def poker_root(domain: str, key: str) -> bytes:
    """Return the root of ``key`` in ``domain``: the first 16 bytes of SHA-256(UTF-8 ``"<domain>:<key>"``).

    Example: ``poker_root("table", "main").hex() == "bd286483613c2fbc5aa1de60e575ee97"``.

    Raises:
        ValueError: ``domain`` is empty or either argument is not a string.
    """
    if not isinstance(domain, str) or not isinstance(key, str):
        raise ValueError("poker_root takes a domain and a key as strings")
    if not domain:
        raise ValueError("poker_root needs a non-empty domain such as 'table' or 'player'")
    return hashlib.sha256(f"{domain}:{key}".encode()).digest()[:ROOT_SIZE]


def hex_key(root: bytes) -> str:
    """Return the hex key of a root: 32 lower-case hex characters.

    Raises:
        ValueError: ``root`` is not 16 bytes.
    """
    return _checked_root(root, "root").hex()


def hand_root(table_root: bytes, hand_number: int) -> bytes:
    """Return the root of hand ``hand_number`` at a table.

    It is UUIDv5 in the DNS namespace of ``"angzarr.poker.hand.<table root hex>.<hand_number>"``, as 16 bytes;
    keyed by the table root (never its name) so equal table names never collide.

    Raises:
        ValueError: ``table_root`` is not 16 bytes, or ``hand_number`` is not a positive int.
    """
    root = _checked_root(table_root, "table_root")
    if isinstance(hand_number, bool) or not isinstance(hand_number, int) or hand_number <= 0:
        raise ValueError(f"hand_number must be a positive int, got {hand_number!r}")
    return uuid.uuid5(uuid.NAMESPACE_DNS, f"angzarr.poker.hand.{root.hex()}.{hand_number}").bytes


def _checked_root(root: bytes, what: str) -> bytes:
    if not isinstance(root, bytes | bytearray) or len(root) != ROOT_SIZE:
        shown = len(root) if isinstance(root, bytes | bytearray) else type(root).__name__
        raise ValueError(f"{what} must be {ROOT_SIZE} bytes, got {shown}")
    return bytes(root)
