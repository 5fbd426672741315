"""Scaffold fixtures: ``tools/new_context.py`` run once into a temporary repository root (see scaffold_run)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # scaffold_run, shared by the test modules
sys.path.insert(0, str(HERE.parents[1] / "tools"))  # new_context and gen_proto are scripts, not packages

from scaffold_run import NAME, REPO, Scaffolded, run_new_context  # noqa: E402


@pytest.fixture(scope="session")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Scaffolded:
    root = tmp_path_factory.mktemp("repo")
    shutil.copyfile(REPO / "pyproject.toml", root / "pyproject.toml")
    result = run_new_context("--name", NAME, "--out", str(root), "--register")
    assert result.returncode == 0, result.stderr
    return Scaffolded(root, NAME, result.stdout)
