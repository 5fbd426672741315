"""Registration tables keyed by message class or by name pattern (rule R1).

Used by the function-style routers. A class key matches its exact full name; a string matches
by R1 suffix rules. Lookup prefers a class key, then the longest matching string.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from angzarr_client.typeurl import full_name, type_matches, type_name_from_url

__all__ = ["TypeTable", "message_class_for"]

V = TypeVar("V")


def message_class_for(name: str) -> type[Message] | None:
    """The generated class registered under ``name`` in the default pool, or ``None``."""
    try:
        return message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(name))
    except KeyError:
        return None


class TypeTable(Generic[V]):
    """``key → value`` where a key is a protobuf class or a name pattern."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._exact: dict[str, tuple[type[Message], V]] = {}
        self._patterns: dict[str, V] = {}

    def add(self, key: type[Message] | str, value: V) -> None:
        """Register ``value`` under ``key``.

        Raises:
            ValueError: the key is already registered, or is neither a protobuf class nor a
                non-empty string.
        """
        if isinstance(key, str):
            pattern = type_name_from_url(key)
            if not pattern:
                raise ValueError(f"{self._what} name must not be empty")
            if pattern in self._patterns:
                raise ValueError(f"{self._what} {pattern!r} is already registered")
            self._patterns[pattern] = value
            return
        if not (isinstance(key, type) and issubclass(key, Message)):
            raise ValueError(f"{self._what} must be a protobuf message class or a name, got {key!r}")
        name = full_name(key)
        if name in self._exact:
            raise ValueError(f"{self._what} {name} is already registered")
        self._exact[name] = (key, value)

    def lookup(self, type_url: str) -> tuple[V, type[Message] | None] | None:
        """``(value, message class or None)`` for a type URL, or ``None`` when nothing matches."""
        name = type_name_from_url(type_url)
        exact = self._exact.get(name)
        if exact is not None:
            return exact[1], exact[0]
        matches = [p for p in self._patterns if type_matches(name, p)]
        if not matches:
            return None
        best = max(matches, key=len)
        return self._patterns[best], message_class_for(name)

    def names(self) -> list[str]:
        """Registered full names and patterns, sorted."""
        return sorted(set(self._exact) | set(self._patterns))

    def __bool__(self) -> bool:
        return bool(self._exact or self._patterns)

    def __contains__(self, key: Any) -> bool:
        return key in self._exact or key in self._patterns
