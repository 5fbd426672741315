"""The seam between a commit and its synchronous downstream work (spec/coordinator.md §3.5).

After a command, compensation or fact has committed, the pipeline hands the commit to a
``Downstream``. ``ASYNC`` needs nothing more: the log delivers it. ``SIMPLE`` (projectors) and
``CASCADE`` (sagas, process managers, recursively) are run by the reactions runtime, which plugs in
here; until it does, ``LogOnly`` accepts every mode and leaves all delivery to the log, which is
still correct (at-least-once from the log), only not synchronous.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Protocol

from angzarr_client.proto.angzarr import command_handler_pb2, types_pb2

from .store.base import CommitRecord


@dataclass(slots=True)
class DownstreamResult:
    projections: list[types_pb2.Projection] = field(default_factory=list)
    cascade_books: list[types_pb2.EventBook] = field(default_factory=list)
    cascade_errors: list[command_handler_pb2.CascadeError] = field(default_factory=list)


class Downstream(Protocol):
    async def after_commit(
        self, commit: CommitRecord, book: types_pb2.EventBook, sync_mode: int, cascade_error_mode: int
    ) -> DownstreamResult:
        """Run the sync mode for a durable commit. Must not raise: failures become ``cascade_errors``."""
        ...


def sync_window(downstream: object, key, sync_mode: int) -> contextlib.AbstractAsyncContextManager:
    """Held around deciding and committing a request with ``sync_mode``, so the runner of sync modes
    can keep its asynchronous path (the tailers) off the aggregate's new commit until the request has
    delivered it (spec §6.6). A downstream without ``sync_window`` needs nothing."""
    window = getattr(downstream, "sync_window", None)
    return window(key, sync_mode) if window is not None else contextlib.nullcontext()


class LogOnly:
    """Every mode behaves as ``ASYNC``: the global log delivers the commit."""

    async def after_commit(
        self, commit: CommitRecord, book: types_pb2.EventBook, sync_mode: int, cascade_error_mode: int
    ) -> DownstreamResult:
        return DownstreamResult()
