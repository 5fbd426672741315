"""``Upcaster``: rewrites stored events of old versions into current ones as they are read."""

from __future__ import annotations

from typing import Any, ClassVar

from angzarr_client.errors import InvalidArgumentError
from angzarr_client.handlers.command_handler import DOMAIN_PATTERN, is_valid_domain
from angzarr_client.handlers.decorators import HandlerSpec
from angzarr_client.handlers.tables import collect_only, key_table
from angzarr_client.proto.angzarr import types_pb2, upcaster_pb2
from angzarr_client.typeurl import pack, type_name_from_url, unpack

__all__ = ["Upcaster"]


class Upcaster:
    """Base class of an upcaster (spec §11): ``name``, ``domain`` and ``@upcasts(Old, New)`` methods.

    Raises (at class creation):
        TypeError: missing name or domain, two methods for one old type, foreign decorators.
    """

    name: ClassVar[str]
    domain: ClassVar[str]

    _upcasters: ClassVar[dict[str, tuple[str, HandlerSpec]]] = {}

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = collect_only(cls, "upcasts", "an Upcaster")
        cls._upcasters = key_table(cls, ((s.type_name, n, s) for n, s in specs.items()), "old event")
        if abstract:
            return
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls.__name__}: an upcaster needs a class attribute name")
        domain = getattr(cls, "domain", None)
        if not is_valid_domain(domain):
            raise TypeError(f"{cls.__name__}: domain must match {DOMAIN_PATTERN.pattern}, got {domain!r}")
        if not cls._upcasters:
            raise TypeError(f"{cls.__name__}: an upcaster needs at least one @upcasts method")

    @classmethod
    def handled_types(cls) -> list[str]:
        return sorted(cls._upcasters)

    def upcast_page(self, page: types_pb2.EventPage) -> types_pb2.EventPage:
        """A copy of ``page`` with its event upcast until no upcaster matches.

        Only ``event`` is replaced; header, ``created_at``, ``committed`` and ``cascade_id`` stay.

        Raises:
            RuntimeError: the chain is longer than the number of upcasters (a cycle).
            TypeError: a method returned something other than its declared new type.
            InvalidArgumentError: an undecodable old event.
        """
        out = types_pb2.EventPage()
        out.CopyFrom(page)
        if out.WhichOneof("payload") != "event":
            return out
        steps = 0
        while True:
            entry = self._upcasters.get(type_name_from_url(out.event.type_url))
            if entry is None:
                return out
            steps += 1
            if steps > len(self._upcasters):
                raise RuntimeError(
                    f"{type(self).__name__}: upcast chain from {page.event.type_url} is longer than "
                    f"{len(self._upcasters)} steps (a cycle?)"
                )
            attribute, spec = entry
            result = spec.func(self, unpack(out.event, spec.message_type))
            if not isinstance(result, spec.output_type):
                raise TypeError(
                    f"{type(self).__name__}.{attribute}() returned {type(result).__name__}, "
                    f"expected {spec.output_type.DESCRIPTOR.full_name}"
                )
            out.event.CopyFrom(pack(result))

    def upcast(self, request: upcaster_pb2.UpcastRequest) -> upcaster_pb2.UpcastResponse:
        """Upcast every page of the request, keeping order.

        Raises:
            InvalidArgumentError: a request for another domain.
        """
        if not isinstance(request, upcaster_pb2.UpcastRequest):
            raise InvalidArgumentError(f"expected an angzarr.UpcastRequest, got {type(request).__name__}")
        if request.domain and request.domain != self.domain:
            raise InvalidArgumentError(
                f"upcaster {self.name!r} is for domain {self.domain!r}, not {request.domain!r}"
            )
        return upcaster_pb2.UpcastResponse(events=[self.upcast_page(p) for p in request.events])
