"""Mapping asyncpg and socket failures to the store's error types."""

from __future__ import annotations

import asyncpg

from angzarr_coordinator.store.base import StoreError, StoreUnavailable

# SQLSTATE classes meaning "the server cannot serve us now": connection exceptions, insufficient
# resources, operator intervention (shutdown, cancel), system errors; plus auth and unknown database.
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58", "28", "3D")
# Deadlocks and serialization failures: retrying the whole operation is the remedy.
_RETRYABLE_STATES = ("40001", "40P01")


def is_unavailable(exc: BaseException) -> bool:
    """True for failures that say nothing about the request, only that the database is unreachable."""
    if isinstance(exc, (OSError, TimeoutError, asyncpg.InterfaceError)):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        return state[:2] in _UNAVAILABLE_CLASSES or state in _RETRYABLE_STATES
    return False


def translate(exc: BaseException) -> BaseException:
    """Map a driver failure to ``StoreUnavailable`` or ``StoreError``; pass everything else
    (store errors, ``ValueError``) through unchanged."""
    if isinstance(exc, StoreError):
        return exc
    if is_unavailable(exc):
        return StoreUnavailable(f"the event store is unavailable: {_describe(exc)}")
    if isinstance(exc, asyncpg.PostgresError):
        return StoreError(f"the event store rejected the operation: {_describe(exc)}")
    return exc


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    state = getattr(exc, "sqlstate", None)
    return f"{text} (SQLSTATE {state})" if state else text
