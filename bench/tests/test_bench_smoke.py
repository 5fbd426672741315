"""The benchmarks must not rot: run ``bench/run_all.py --tiny`` (every benchmark with the smallest
parameters, against real systems) and check each result file's shape and that the runs did real work.
Nothing here asserts on timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent
REQUIRED = {
    "throughput": ["commands_per_second", "p50_ms", "p95_ms", "p99_ms", "peer_commands_per_second",
                   "coordinator_peak_rss_mb"],
    "large_aggregate": ["snapshot_p50_ms", "no_snapshot_ms"],
    "projection_lag": ["p50_ms", "p99_ms", "events_per_second"],
    "poker_hand": ["cascade_hand_ms", "async_hand_ms", "hands_per_minute"],
    "throughput_postgres": [],
    "grpc_floor": ["echo", "echo-sync", "relay"],
}


def _result(out: Path, name: str) -> dict:
    doc = json.loads((out / f"{name}.json").read_text())
    assert doc["name"] == name
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["cpu"]
    assert doc["when"][:2] == "20" and "T" in doc["when"]
    return doc["metrics"]


@pytest.mark.slow
def test_bench_run_all_tiny_writes_every_result(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--tiny", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "== summary" in run.stdout
    for name, keys in REQUIRED.items():
        metrics = _result(tmp_path, name)
        for key in keys:
            assert key in metrics, f"{name}.json has no {key}"

    throughput = _result(tmp_path, "throughput")
    assert throughput["commands"] > 0 and throughput["errors"] == {}
    assert throughput["p50_ms"] <= throughput["p95_ms"] <= throughput["p99_ms"]
    assert throughput["peer"]["commands"] > 0 and throughput["peer"]["storage"].endswith("synchronous=full")
    assert throughput["coordinator_peak_rss_mb"] > 0 and throughput["service_peak_rss_mb"]["counter"] > 0

    large = _result(tmp_path, "large_aggregate")
    assert large["no_snapshot_failure"] is None and large["no_snapshot_ms"] > 0
    assert large["snapshot_commands"] == 3

    lag = _result(tmp_path, "projection_lag")
    assert lag["events_failed"] == 0
    assert lag["events_projected"] == lag["events_sent"] > 0

    poker = _result(tmp_path, "poker_hand")
    assert poker["async_hands"] == 1 and poker["cascade_hands"] == 1
    assert poker["hands_per_minute"] > 0

    floor = _result(tmp_path, "grpc_floor")
    assert floor["echo"]["commands_per_second"] > 0 and floor["relay"]["errors"] == {}
    assert floor["echo-sync"]["commands_per_second"] > 0 and floor["echo-sync"]["errors"] == {}

    postgres = _result(tmp_path, "throughput_postgres")
    assert "skipped" in postgres or (postgres["commands"] > 0 and postgres["errors"] == {})
