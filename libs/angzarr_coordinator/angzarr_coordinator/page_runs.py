"""Consecutive runs of an aggregate's pages that each fit a message: query chunks (§5) and Replay calls (§7)."""

from __future__ import annotations

from angzarr_client.proto.angzarr import types_pb2

__all__ = ["page_runs"]

# What a page adds to its book besides its own bytes (field tag and length), rounded up.
PAGE_OVERHEAD = 8


def page_runs(
    pages: list[types_pb2.EventPage], max_bytes: int, max_pages: int | None = None
) -> list[list[types_pb2.EventPage]]:
    """Split ``pages``, in order, into runs of at most ``max_bytes`` bytes and ``max_pages`` pages (when
    given); a lone page bigger than ``max_bytes`` still goes alone."""
    runs: list[list[types_pb2.EventPage]] = []
    current: list[types_pb2.EventPage] = []
    size = 0
    for page in pages:
        cost = page.ByteSize() + PAGE_OVERHEAD
        full = max_pages is not None and len(current) >= max_pages
        if current and (full or size + cost > max_bytes):
            runs.append(current)
            current, size = [], 0
        current.append(page)
        size += cost
    if current:
        runs.append(current)
    return runs
