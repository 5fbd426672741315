"""Rich error details stay under 4 KiB and show truncation (spec/coordinator.md §1)."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2
from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.richerror import MAX_DETAILS_BYTES, RpcFailure, status_bytes


def book(pages: int, payload: int) -> types_pb2.EventBook:
    b = types_pb2.EventBook(cover=types_pb2.Cover(domain="bank"), next_sequence=pages)
    for i in range(pages):
        page = b.pages.add()
        page.header.sequence = i
        page.event.type_url = "type.googleapis.com/test.Blob"
        page.event.value = b"x" * payload
    return b


@given(pages=st.integers(0, 300), payload=st.integers(0, 5000), message=st.text(max_size=5000))
def test_status_fits_and_keeps_the_oldest_unseen_pages(pages, payload, message):
    mismatch = types_pb2.SequenceMismatchDetails(expected_sequence=0, actual_sequence=pages)
    raw = status_bytes(grpc.StatusCode.FAILED_PRECONDITION, message, (mismatch, book(pages, payload)))
    assert len(raw) <= MAX_DETAILS_BYTES
    status = status_pb2.Status.FromString(raw)
    assert status.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    got = types_pb2.EventBook()
    assert status.details[1].Unpack(got)
    assert got.next_sequence == pages and got.cover.domain == "bank"
    assert [p.header.sequence for p in got.pages] == list(range(len(got.pages)))
    if len(got.pages) < pages:  # truncated: visible to the client
        assert (got.pages[-1].header.sequence + 1 if got.pages else 0) < got.next_sequence


def test_failure_without_details_sends_no_trailer():
    assert RpcFailure(grpc.StatusCode.NOT_FOUND, "x").trailing_metadata() == ()
