"""Validation shortcuts for handler code; each raises :class:`CommandRejectedError`."""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from angzarr_client.errors import CommandRejectedError

__all__ = [
    "require_exists",
    "require_non_negative",
    "require_not_empty",
    "require_not_exists",
    "require_positive",
]


def require_exists(exists: bool, message: str = "aggregate does not exist") -> None:
    """Raises ``CommandRejectedError`` (FAILED_PRECONDITION) when ``exists`` is false."""
    if not exists:
        raise CommandRejectedError.precondition_failed(message)


def require_not_exists(exists: bool, message: str = "aggregate already exists") -> None:
    """Raises ``CommandRejectedError`` (FAILED_PRECONDITION) when ``exists`` is true."""
    if exists:
        raise CommandRejectedError.precondition_failed(message)


def require_positive(value: int | float, name: str = "value") -> None:
    """Raises ``CommandRejectedError`` (FAILED_PRECONDITION) unless ``value > 0``."""
    if not value > 0:
        raise CommandRejectedError.precondition_failed(f"{name} must be positive, got {value}")


def require_non_negative(value: int | float, name: str = "value") -> None:
    """Raises ``CommandRejectedError`` (FAILED_PRECONDITION) when ``value < 0``."""
    if value < 0:
        raise CommandRejectedError.precondition_failed(f"{name} must not be negative, got {value}")


def require_not_empty(value: Any, name: str = "value") -> None:
    """Raises ``CommandRejectedError`` (INVALID_ARGUMENT) when ``value`` is empty or blank."""
    empty = (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, Sized) and len(value) == 0)
    )
    if empty:
        raise CommandRejectedError.invalid_argument(f"{name} must not be empty")
