-- Initial schema of the SQLite event store (spec/coordinator.md §9.3). Mirrors the PostgreSQL tables.
-- Roots are 16-byte BLOBs, times are integer nanoseconds since the Unix epoch (UTC).

-- The global log. One row per event; a commit is a run of rows of one aggregate, flagged first/last.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    domain         TEXT    NOT NULL,
    edition        TEXT    NOT NULL,
    root           BLOB    NOT NULL CHECK (length(root) = 16),
    sequence       INTEGER NOT NULL CHECK (sequence BETWEEN 0 AND 4294967295),
    commit_first   INTEGER NOT NULL CHECK (commit_first IN (0, 1)),
    commit_last    INTEGER NOT NULL CHECK (commit_last IN (0, 1)),
    correlation_id TEXT    NOT NULL,
    type_name      TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    page           BLOB    NOT NULL,
    UNIQUE (domain, root, edition, sequence)
);
CREATE INDEX events_by_correlation ON events (correlation_id, position);
CREATE INDEX events_by_domain ON events (domain, position);

-- Snapshots: newest usable one seeds loads; older non-PERSIST ones are pruned when a newer is stored.
CREATE TABLE snapshots (
    domain     TEXT    NOT NULL,
    root       BLOB    NOT NULL,
    edition    TEXT    NOT NULL,
    sequence   INTEGER NOT NULL,
    retention  INTEGER NOT NULL,
    snapshot   BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (domain, root, edition, sequence)
) WITHOUT ROWID;

-- Provenance of reaction commands: unique per aggregate, points at the commit it produced.
-- first_position/last_position are NULL for a recorded commit that wrote no events.
CREATE TABLE provenance (
    domain         TEXT    NOT NULL,
    root           BLOB    NOT NULL,
    edition        TEXT    NOT NULL,
    reaction_key   TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    first_position INTEGER,
    last_position  INTEGER,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (domain, root, edition, reaction_key)
) WITHOUT ROWID;

-- External ids of injected facts: unique per aggregate.
CREATE TABLE facts (
    domain         TEXT    NOT NULL,
    root           BLOB    NOT NULL,
    edition        TEXT    NOT NULL,
    external_id    TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    first_position INTEGER,
    last_position  INTEGER,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (domain, root, edition, external_id)
) WITHOUT ROWID;

-- A reactor's reaction to one trigger commit, recorded once (§4.1).
CREATE TABLE reactions (
    reactor          TEXT    NOT NULL,
    domain           TEXT    NOT NULL,
    root             BLOB    NOT NULL,
    edition          TEXT    NOT NULL,
    trigger_sequence INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (reactor, domain, root, edition, trigger_sequence)
) WITHOUT ROWID;

-- Ordered outbox entries of reactions: commands, facts and rejection notices to dispatch.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    reactor          TEXT    NOT NULL,
    domain           TEXT    NOT NULL,
    root             BLOB    NOT NULL,
    edition          TEXT    NOT NULL,
    trigger_sequence INTEGER NOT NULL,
    entry_index      INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    target_domain    TEXT    NOT NULL,
    reaction_id      TEXT    NOT NULL,
    request          BLOB    NOT NULL,
    traceparent      TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    result           BLOB,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (reactor, domain, root, edition, trigger_sequence, entry_index)
);
CREATE INDEX outbox_by_reactor_status ON outbox (reactor, status, id);

-- Subscriber checkpoints (global log position) and per-aggregate progress (last delivered sequence).
CREATE TABLE checkpoints (
    subscriber TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE progress (
    subscriber TEXT    NOT NULL,
    domain     TEXT    NOT NULL,
    root       BLOB    NOT NULL,
    edition    TEXT    NOT NULL,
    sequence   INTEGER NOT NULL CHECK (sequence >= 0),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subscriber, domain, root, edition)
) WITHOUT ROWID;

-- Dead letters (§8): the AngzarrDeadLetter bytes plus bookkeeping.
CREATE TABLE dead_letters (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    letter                BLOB    NOT NULL,
    domain                TEXT    NOT NULL,
    root                  BLOB,
    source_component      TEXT    NOT NULL,
    source_component_type TEXT    NOT NULL,
    status                TEXT    NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'replay_requested', 'replayed', 'discarded')),
    attempts              INTEGER NOT NULL DEFAULT 0,
    last_error            TEXT    NOT NULL DEFAULT '',
    subscriber            TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX dead_letters_by_status ON dead_letters (status, id);
