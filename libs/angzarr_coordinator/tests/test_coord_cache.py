"""The aggregate cache is bounded by bytes; lock stripes are fixed (spec/coordinator.md §14)."""

from __future__ import annotations

import uuid

from angzarr_client.proto.angzarr import types_pb2
from angzarr_coordinator.cache import AggregateCache, AggregateState, LockStripes
from angzarr_coordinator.store.base import AggregateKey


def state(pages: int, payload: int = 100) -> AggregateState:
    out = []
    for i in range(pages):
        p = types_pb2.EventPage()
        p.header.sequence = i
        p.event.type_url = "t/x"
        p.event.value = b"v" * payload
        out.append(p)
    return AggregateState(None, out, pages)


def key() -> AggregateKey:
    return AggregateKey("bank", uuid.uuid4())


def test_least_recently_used_aggregates_are_evicted_past_the_byte_budget():
    cache = AggregateCache(capacity_bytes=64 * 1024)
    keys = [key() for _ in range(100)]
    for k in keys:
        cache.put(k, state(10))  # ~1.2 KiB each
    assert cache.bytes <= 64 * 1024
    assert cache.get(keys[0]) is None and cache.get(keys[-1]) is not None
    assert len(cache) < 100


def test_an_aggregate_too_big_for_the_cache_is_not_kept():
    cache = AggregateCache(capacity_bytes=64 * 1024)
    k = key()
    cache.put(k, state(200))
    assert cache.get(k) is None and cache.bytes == 0


def test_extended_state_tracks_size_without_touching_the_original():
    before = state(3)
    after = before.extended(state(2).pages, 5)
    assert len(before.pages) == 3 and len(after.pages) == 5
    assert after.measure() > before.measure()


def test_lock_stripes_map_one_aggregate_to_one_lock():
    stripes = LockStripes(8)
    k = key()
    assert stripes.lock(k) is stripes.lock(AggregateKey(k.domain, k.root))
    assert len({id(stripes.lock(key())) for _ in range(200)}) <= 8


def test_cache_bytes_are_reported_as_a_gauge():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from angzarr_coordinator import cache as cache_module

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("test")
    meter.create_observable_gauge("angzarr.cache.bytes", callbacks=[cache_module._observe_cache_bytes])
    cache = AggregateCache(capacity_bytes=1 << 20)
    cache.put(key(), state(5))
    data = reader.get_metrics_data()
    points = [
        p.value
        for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        if m.name == "angzarr.cache.bytes" for p in m.data.data_points
    ]
    assert points and points[0] >= cache.bytes > 0
