"""Collect decorated methods of a component class into dispatch tables.

Tables are built once, at class creation. Walking the MRO from the base to the subclass and
keying by attribute name means a subclass that redefines a method by name replaces the base
class's entry (or removes it, if the new method is not decorated).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from angzarr_client.handlers.decorators import HandlerSpec, handler_spec

__all__ = ["collect_only", "collect_specs", "key_table"]


def collect_specs(cls: type) -> dict[str, HandlerSpec]:
    """Map attribute name → spec for every decorated method visible on ``cls``."""
    specs: dict[str, HandlerSpec] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            spec = handler_spec(value)
            if spec is not None:
                specs[name] = spec
            else:
                specs.pop(name, None)
    return specs


def collect_only(cls: type, kind: str, owner: str) -> dict[str, HandlerSpec]:
    """``collect_specs`` for a class that takes only ``@kind`` methods (``owner``: e.g. ``"a Saga"``).

    Raises:
        TypeError: a method carries another decorator.
    """
    specs = collect_specs(cls)
    for attribute, spec in specs.items():
        if spec.kind != kind:
            raise TypeError(f"{cls.__name__}.{attribute}: @{spec.kind} does not belong on {owner}")
    return specs


def key_table(
    cls: type, entries: Iterable[tuple[Any, str, HandlerSpec]], what: str
) -> dict[Any, tuple[str, HandlerSpec]]:
    """Build ``key → (attribute name, spec)``.

    Raises:
        TypeError: two methods claim the same key.
    """
    table: dict[Any, tuple[str, HandlerSpec]] = {}
    for key, name, spec in entries:
        if key in table:
            other = table[key][0]
            shown = "/".join(k for k in key if k) if isinstance(key, tuple) else key
            raise TypeError(f"{cls.__name__}: {what} {shown} is handled by both {other}() and {name}()")
        table[key] = (name, spec)
    return table
