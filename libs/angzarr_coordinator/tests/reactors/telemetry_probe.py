"""Runs a CASCADE and an ASYNC reaction chain in a fresh interpreter with in-memory OpenTelemetry
exporters (global providers can be set once per process) and prints the span and metric names as JSON.

Usage: python telemetry_probe.py DIR
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from angzarr_coordinator.observability import configure_telemetry  # noqa: E402

spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
configure_telemetry({}, span_exporters=[spans], metric_readers=[reader])

from coord_support import CoordinatorHarness  # noqa: E402
from react_support import REACT_LIMITS, Shop, events_of, order, reserve, shop_topology, wait_until  # noqa: E402


def main(directory: Path) -> None:
    shop = Shop(directory)
    harness = CoordinatorHarness(directory / "e.db", shop_topology(shop), directory / "c.sock", limits=REACT_LIMITS)
    try:
        harness.run(harness.coordinator.start_delivery())
        stock = uuid.uuid4()
        harness.commands.HandleCommand(order("place", root=uuid.uuid4(), sync_mode=2, saga=[reserve(stock, 1)],
                                             pm=[{"domain": "stock", "op": "add", "root": str(stock)}]))
        harness.commands.HandleCommand(order("place", root=uuid.uuid4(), saga=[reserve(stock, 2)]))
        wait_until(lambda: len(events_of(harness, "stock", stock)) == 3, message="the asynchronous reaction")
        time.sleep(0.7)  # an idle dispatcher round reports the pending outbox
    finally:
        harness.close()
        shop.stop()
    data = reader.get_metrics_data()
    metric_names = sorted({m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics})
    print(json.dumps({"spans": sorted({s.name for s in spans.get_finished_spans()}), "metrics": metric_names}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
