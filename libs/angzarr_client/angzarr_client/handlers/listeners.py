"""Class-creation helpers for components that listen to events of one or more domains."""

from __future__ import annotations

from typing import Any

from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.tables import key_table

__all__ = ["declared_input_domains", "event_table", "require_name"]


def require_name(cls: type, kind: str) -> str:
    """The class's ``name`` attribute.

    Raises:
        TypeError: missing or not a non-empty string.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"{cls.__name__}: a {kind} needs a class attribute name (a non-empty string)")
    return name


def declared_input_domains(cls: type) -> tuple[str, ...]:
    """The domains named by ``input_domains`` and/or ``input_domain``, in order, without repeats.

    Raises:
        TypeError: a value that is not a non-empty string (or a list of them).
    """
    declared: list[str] = []
    many = getattr(cls, "input_domains", None)
    if many is not None:
        if isinstance(many, str) or not all(isinstance(d, str) and d for d in many):
            raise TypeError(
                f"{cls.__name__}: input_domains must be a list of non-empty domain names, got {many!r}"
            )
        declared.extend(many)
    one = getattr(cls, "input_domain", None)
    if one is not None:
        if not isinstance(one, str) or not one:
            raise TypeError(f"{cls.__name__}: input_domain must be a non-empty string, got {one!r}")
        declared.append(one)
    return tuple(dict.fromkeys(declared))


def event_table(
    cls: type, specs: dict[str, HandlerSpec], domains: tuple[str, ...], *, require_domains: bool
) -> dict[tuple[str, str], tuple[str, HandlerSpec]]:
    """``(input domain, full name) → (attribute, spec)`` for the class's ``@handles`` methods.

    A handler without ``input_domain`` listens to the class's single input domain.

    Raises:
        TypeError: a handler without a domain when the class declares none or several, a handler
            domain outside the declared ones, or two handlers for one key.
    """
    entries: list[tuple[Any, str, HandlerSpec]] = []
    for attribute, spec in specs.items():
        if spec.kind != "handles":
            continue
        domain = spec.input_domain
        if domain is None:
            if len(domains) != 1:
                reason = "listens to several domains" if domains else "declares no input_domain"
                raise TypeError(
                    f"{cls.__name__}.{attribute}: the class {reason}; name it with @handles(..., input_domain=...)"
                )
            domain = domains[0]
        elif domains and require_domains and domain not in domains:
            raise TypeError(
                f"{cls.__name__}.{attribute}: input_domain {domain!r} is not among the declared {list(domains)}"
            )
        entries.append(((domain, spec.type_name), attribute, spec))
    return key_table(cls, entries, "event")
