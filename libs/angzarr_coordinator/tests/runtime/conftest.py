"""Fixtures of the runtime and CLI tests; the harness lives in ``runtime_harness``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from runtime_harness import cleanup_standalone, make_standalone  # noqa: E402


@pytest.fixture
def standalone():
    sa = make_standalone()
    try:
        yield sa
    finally:
        cleanup_standalone(sa)
