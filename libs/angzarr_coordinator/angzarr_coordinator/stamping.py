"""Turning a handler's reply into pages the store accepts (spec/coordinator.md §3.1 step 8, §3.3).

The coordinator owns sequences: new pages get ``next_sequence + i`` and a ``created_at`` when they
lack one, whatever the handler or fact sender stamped; ``committed`` stays false and ``cascade_id`` is
cleared. A reply that starts with exactly the pages it was given (echo) has that prefix dropped.
"""

from __future__ import annotations

import grpc
from google.protobuf import timestamp_pb2

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from .richerror import RpcFailure
from .store.base import MAX_SEQUENCE


def now_timestamp() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.GetCurrentTime()
    return ts


def stamp(pages, next_sequence: int) -> list[types_pb2.EventPage]:
    """New pages numbered from ``next_sequence``; raise ``RpcFailure`` OUT_OF_RANGE past 2³²−2.

    The last storable sequence is 2³²−2: every EventBook carries the aggregate's ``next_sequence`` as a
    uint32, so an event at 2³²−1 would commit and then make the aggregate impossible to answer for.
    """
    last = next_sequence + len(pages) - 1
    if last >= MAX_SEQUENCE:
        raise RpcFailure(
            grpc.StatusCode.OUT_OF_RANGE,
            f"sequence {last} would exceed the maximum of {MAX_SEQUENCE - 1} (the next sequence must fit "
            "in 32 bits); the aggregate is full",
        )
    now = None
    stamped = []
    for i, source in enumerate(pages):
        page = types_pb2.EventPage()
        page.header.sequence = next_sequence + i
        if source.HasField("created_at"):
            page.created_at.CopyFrom(source.created_at)
        else:
            now = now or now_timestamp()
            page.created_at.CopyFrom(now)
        page.event.CopyFrom(source.event)
        stamped.append(page)
    return stamped


def _same_page(a: types_pb2.EventPage, b: types_pb2.EventPage) -> bool:
    return (
        a.header.sequence == b.header.sequence
        and a.event.type_url == b.event.type_url
        and a.event.value == b.event.value
    )


def new_pages(reply: command_handler_pb2.BusinessResponse, given: list[types_pb2.EventPage]) -> list[types_pb2.EventPage]:
    """The pages a handler decided, echo prefix dropped; ``[]`` for a reply without events.

    Raises ``RpcFailure`` INTERNAL "handler returned invalid page i" for a page without an inline,
    typed ``event`` payload.
    """
    if reply.WhichOneof("result") != "events":
        return []
    pages = list(reply.events.pages)
    for i, page in enumerate(pages):
        if page.WhichOneof("payload") != "event" or not page.event.type_url:
            raise RpcFailure(
                grpc.StatusCode.INTERNAL,
                f"handler returned invalid page {i}: every page needs an inline event payload with a type URL",
            )
    if given and len(pages) >= len(given) and all(_same_page(p, g) for p, g in zip(pages, given)):
        pages = pages[len(given):]
    return pages
