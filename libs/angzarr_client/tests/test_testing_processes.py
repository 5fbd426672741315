"""``serving_module`` reports a process that dies before SERVING, with its output, instead of waiting."""

from __future__ import annotations

import os

import pytest

from angzarr_client.testing import serving_module


def test_a_module_that_exits_before_serving_fails_with_its_output(tmp_path):
    expected = "python -m no_such_module_h16 exited early: .*No module named"
    with (
        pytest.raises(AssertionError, match=expected),
        serving_module("no_such_module_h16", f"unix://{tmp_path}/none.sock", os.environ),
    ):
        pytest.fail("never serves")  # pragma: no cover
