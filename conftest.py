"""Repository-wide pytest configuration.

Tests that need PostgreSQL use the ``postgres_dsn`` fixture: it skips with a reason when no server is
reachable, unless ``CI`` or ``ANGZARR_REQUIRE_POSTGRES`` is set, in which case the missing server is a
failure.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_DSN = os.environ.get("ANGZARR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _require_postgres() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes")
               for v in ("CI", "ANGZARR_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError as exc:
        reason = f"no PostgreSQL server at 127.0.0.1:5432 ({exc}); set ANGZARR_TEST_POSTGRES"
        if _require_postgres():
            pytest.fail(reason + " (required because CI/ANGZARR_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    return POSTGRES_DSN
