"""``page_runs``: consecutive runs of pages within a byte and page budget; an oversized page goes alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.page_runs import PAGE_OVERHEAD, page_runs


def page(n: int, size: int) -> types_pb2.EventPage:
    p = types_pb2.EventPage()
    p.header.sequence = n
    p.event.value = b"x" * size
    return p


@given(sizes=st.lists(st.integers(0, 300), max_size=40), max_bytes=st.integers(1, 600),
       max_pages=st.one_of(st.none(), st.integers(1, 6)))
def test_runs_keep_the_order_and_respect_both_budgets(sizes, max_bytes, max_pages):
    pages = [page(i, s) for i, s in enumerate(sizes)]
    runs = page_runs(pages, max_bytes, max_pages)
    assert [p.header.sequence for run in runs for p in run] == list(range(len(sizes)))
    assert all(run for run in runs)
    for i, run in enumerate(runs):
        cost = sum(p.ByteSize() + PAGE_OVERHEAD for p in run)
        assert len(run) == 1 or cost <= max_bytes
        if max_pages is not None:
            assert len(run) <= max_pages
        if i + 1 < len(runs):  # a run ends only when the next page would not fit
            following = runs[i + 1][0].ByteSize() + PAGE_OVERHEAD
            assert cost + following > max_bytes or (max_pages is not None and len(run) == max_pages)


def test_no_pages_no_runs():
    assert page_runs([], 10) == []
