"""Running ``tools/new_context.py`` into a temporary repository root, and what the tests need to use the result.

The temporary root gets a copy of the workspace ``pyproject.toml`` so ``--register`` edits the copy, never
the real one; the real repository is not modified. The new service runs from the workspace interpreter
with its two folders on ``PYTHONPATH`` (standing in for ``uv sync``, which would change the real lock).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"

# Not a name a user would give a real context (docs use "inventory"), so scaffolding one never collides with
# this test; the underscore also exercises the derived names (ScaffoldProbe, scaffold-probe).
NAME = "scaffold_probe"
CLASS = "ScaffoldProbe"


@dataclass(frozen=True)
class Scaffolded:
    """A context scaffolded below ``root``; ``output`` is what the command printed."""

    root: Path
    name: str
    output: str

    @property
    def service_dir(self) -> Path:
        return self.root / "services" / self.name

    @property
    def contracts_dir(self) -> Path:
        return self.root / "libs" / f"{self.name}_contracts"

    def messages(self) -> ModuleType:
        """The generated ``<name>_pb2`` module, imported from the scaffold into this process."""
        sys.path.insert(0, str(self.contracts_dir))
        try:
            return importlib.import_module(f"{self.name}_contracts.{self.name}_pb2")
        finally:
            sys.path.remove(str(self.contracts_dir))

    def env(self) -> dict[str, str]:
        """Our environment with the new packages importable."""
        paths = [str(self.contracts_dir), str(self.service_dir), os.environ.get("PYTHONPATH", "")]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def run_new_context(*args: str) -> subprocess.CompletedProcess[str]:
    """``python tools/new_context.py ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, str(TOOLS / "new_context.py"), *args], capture_output=True,
                          text=True, timeout=120)
