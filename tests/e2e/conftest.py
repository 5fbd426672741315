"""End-to-end fixtures: the real poker system (``angzarr standalone -c standalone.yaml`` from the repository
root, with the player, table and hand services) running in a temporary directory.

The configuration is copied into the test's directory, so the database and the hand log land there; the
client sockets go to a short directory under /tmp (``ANGZARR_UDS_BASE``: Unix socket paths must stay
under 104 bytes). Checks shared by the tests live in ``poker_checks.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
pytest.register_assert_rewrite("poker_checks")

from poker_checks import CONFIG  # noqa: E402

from poker_demo import StandaloneSystem  # noqa: E402
from poker_demo.system import short_socket_dir  # noqa: E402


def _clean_environment() -> dict[str, str]:
    """Our environment without settings that would redirect the system (sockets, exporters, log level)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANGZARR_", "LOG_", "HAND_LOG_"))}
    env["OTEL_SDK_DISABLED"] = "true"
    return env


@pytest.fixture
def start_system(tmp_path: Path) -> Iterator[Callable[[str], StandaloneSystem]]:
    """Start a poker system in ``tmp_path/<name>``; every system started is stopped at teardown."""
    started: list[tuple[StandaloneSystem, Path]] = []

    def start(name: str = "run") -> StandaloneSystem:
        sockets = short_socket_dir("aze-")
        system = StandaloneSystem(CONFIG, tmp_path / name, uds_base=sockets, environ=_clean_environment())
        started.append((system, sockets))
        system.start()
        return system

    yield start
    for system, sockets in started:
        system.stop()
        shutil.rmtree(sockets, ignore_errors=True)

