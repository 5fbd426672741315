"""Spans and metrics of the reaction runtime (spec/coordinator.md §11), in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).parent / "reactors" / "telemetry_probe.py"


def test_reactions_emit_their_spans_and_metrics(tmp_path):
    result = subprocess.run([sys.executable, str(PROBE), str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"saga.orchestrate", "pm.orchestrate", "projector.handle", "outbox.dispatch"} <= set(out["spans"])
    assert {"angzarr.saga.duration", "angzarr.pm.duration", "angzarr.projector.duration",
            "angzarr.subscriber.lag.events", "angzarr.subscriber.lag.seconds",
            "angzarr.outbox.pending"} <= set(out["metrics"])
