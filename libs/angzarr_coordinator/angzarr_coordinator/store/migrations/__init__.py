"""Numbered, forward-only schema migrations, one directory of SQL files per backend.

A file is named ``NNNN_name.sql``. Each is applied once, in its own transaction, and recorded in
``schema_migrations`` (version, name, checksum, applied_at). A recorded migration whose file changed
(checksum) or a database that knows a version this code does not (a newer schema) stops the process
with ``SchemaError``: running old code against a newer schema, or silently re-shaping history, is how
event stores get corrupted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from angzarr_coordinator.store.base import SchemaError

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    version: int
    name: str
    checksum: str


def load_migrations(backend: str) -> list[Migration]:
    """The migrations shipped for ``backend`` (``sqlite``, ``postgres``), by version.

    Raises ``SchemaError`` if a file is misnamed or two files share a version (a packaging bug).
    """
    folder = resources.files(__package__).joinpath(backend)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise SchemaError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise SchemaError(f"two {backend} migrations share version {version}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def pending_migrations(known: list[Migration], applied: list[AppliedMigration]) -> list[Migration]:
    """The migrations still to apply, after checking the recorded ones against the shipped files.

    Raises ``SchemaError`` if the database has a version this code does not ship (newer schema) or a
    recorded checksum differs from the shipped file.
    """
    by_version = {m.version: m for m in known}
    newest_known = max(by_version, default=0)
    for row in applied:
        migration = by_version.get(row.version)
        if migration is None:
            raise SchemaError(
                f"the database schema is at version {max(r.version for r in applied)} but this angzarr "
                f"knows versions up to {newest_known}; upgrade angzarr to open this database"
            )
        if migration.checksum != row.checksum:
            raise SchemaError(
                f"migration {row.version:04d}_{row.name} was applied with checksum {row.checksum[:12]}… "
                f"but the shipped file has {migration.checksum[:12]}…; migrations are forward-only: "
                "restore the original file and add a new numbered migration instead"
            )
    done = {row.version for row in applied}
    return [m for m in known if m.version not in done]
