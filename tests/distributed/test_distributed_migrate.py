"""``angzarr db migrate`` on a PostgreSQL URL, for sidecars started with ``ANGZARR_MIGRATE=0``
(spec/coordinator.md §9.3, §10.4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from distributed_system import free_port

ANGZARR = str(Path(sys.executable).with_name("angzarr"))


def _migrate(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANGZARR, "db", "migrate", "--db", url], capture_output=True, text=True, timeout=120)


@pytest.mark.postgres
def test_migrate_applies_the_schema_once(database_url):
    first = _migrate(database_url)
    assert first.returncode == 0, first.stderr
    assert "applied 0001" in first.stdout
    again = _migrate(database_url)
    assert again.returncode == 0 and "nothing to apply" in again.stdout, again.stdout + again.stderr


def test_migrate_reports_an_unreachable_database():
    url = f"postgresql://angzarr:secret@127.0.0.1:{free_port()}/none"
    done = _migrate(url)
    assert done.returncode == 1
    assert "cannot connect" in done.stderr and "secret" not in done.stderr  # the password is redacted
