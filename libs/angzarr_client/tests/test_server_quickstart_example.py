"""The quickstart example (the target of `make run`) runs end to end and exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def test_quickstart_runs_and_reports_what_happened():
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "alice deposits 500 -> FundsDeposited, new balance 500" in out
    assert "alice withdraws 9000 -> rejected: insufficient funds" in out
    assert "listening on unix:" in out
    assert "bob deposits 50 -> event #2: FundsDeposited, new balance 150" in out
    assert "bob withdraws 1000 -> FAILED_PRECONDITION: insufficient funds: balance 100, asked 1000" in out
    assert "correlation_id=quickstart-2" in out  # the servicer's log line carries the correlation id
    assert "socket removed: True" in out
