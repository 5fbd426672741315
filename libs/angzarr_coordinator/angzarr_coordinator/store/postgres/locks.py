"""Advisory lock keys of the PostgreSQL store (two-int form, a key space apart from one-bigint locks).

The class ids spell ``ANZ`` plus a number so they are recognisable in ``pg_locks``.
"""

from __future__ import annotations

import hashlib

from angzarr_coordinator.store.base import AggregateKey

# Transaction-scoped, per aggregate: appends to one aggregate run one after the other, so the
# sequence check and the uniqueness checks see every earlier commit of the aggregate.
AGGREGATE_CLASS = 0x414E5A01
# Session-scoped, held only around an append's INSERT: a commit's rows get consecutive positions,
# so readers can treat a commit as a run of positions.
POSITIONS = (0x414E5A02, 0)
# Session-scoped, held while migrations are checked and applied.
MIGRATIONS = (0x414E5A03, 0)


def aggregate_lock_id(key: AggregateKey) -> int:
    """A stable signed 32-bit id for ``key`` (collisions only serialise two aggregates' appends)."""
    digest = hashlib.blake2b(f"{key.domain}\x1f{key.root}\x1f{key.edition}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)
