"""``angzarr_coordinator.testing.StandaloneProcess`` reports a runtime that cannot start, with its output."""

from __future__ import annotations

import pytest

from angzarr_coordinator.testing import StandaloneProcess


def test_a_runtime_that_exits_fails_the_wait_with_its_output(tmp_path):
    runtime = StandaloneProcess(tmp_path, wait_seconds=60)
    try:
        with pytest.raises(AssertionError, match=r"angzarr standalone exited with [1-9]"):
            runtime.start({"version": 1, "services": "not a list"}, ("player",))
    finally:
        runtime.stop()
    assert runtime.config.exists() and runtime.logs()
