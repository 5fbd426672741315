-- Initial schema of the PostgreSQL event store (spec/coordinator.md §9.3); SQLite mirrors these tables.
-- Every append transaction takes its transaction id (tx_id) before its positions: the gap-aware
-- watermark (§6.2) relies on that and on positions being handed out in time order (CACHE 1).

-- The global log. One row per event; a commit is a run of consecutive rows of one aggregate.
CREATE TABLE events (
    position       bigint      GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
    tx_id          xid8        NOT NULL,
    domain         text        NOT NULL,
    edition        text        NOT NULL,
    root           uuid        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence BETWEEN 0 AND 4294967295),
    commit_first   boolean     NOT NULL,
    commit_last    boolean     NOT NULL,
    correlation_id text        NOT NULL,
    type_name      text        NOT NULL,
    created_at     timestamptz NOT NULL,
    page           bytea       NOT NULL,
    UNIQUE (domain, root, edition, sequence)
);
CREATE INDEX events_by_correlation ON events (correlation_id, position);
CREATE INDEX events_by_domain ON events (domain, position);

-- Snapshots: the newest usable one seeds loads; older non-PERSIST ones are pruned when a newer is stored.
CREATE TABLE snapshots (
    domain     text        NOT NULL,
    root       uuid        NOT NULL,
    edition    text        NOT NULL,
    sequence   bigint      NOT NULL,
    retention  integer     NOT NULL,
    snapshot   bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, root, edition, sequence)
);

-- Provenance of reaction commands: unique per aggregate, points at the commit it produced.
-- first_position/last_position are NULL for a recorded commit that wrote no events.
CREATE TABLE provenance (
    domain         text        NOT NULL,
    root           uuid        NOT NULL,
    edition        text        NOT NULL,
    reaction_key   text        NOT NULL,
    correlation_id text        NOT NULL,
    first_position bigint,
    last_position  bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, root, edition, reaction_key)
);

-- External ids of injected facts: unique per aggregate.
CREATE TABLE facts (
    domain         text        NOT NULL,
    root           uuid        NOT NULL,
    edition        text        NOT NULL,
    external_id    text        NOT NULL,
    correlation_id text        NOT NULL,
    first_position bigint,
    last_position  bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, root, edition, external_id)
);

-- A reactor's reaction to one trigger commit, recorded once (§4.1). A reaction that wrote a commit
-- (a process manager's state events) points at it; NULL positions for reactions without events.
CREATE TABLE reactions (
    reactor          text        NOT NULL,
    domain           text        NOT NULL,
    root             uuid        NOT NULL,
    edition          text        NOT NULL,
    trigger_sequence bigint      NOT NULL,
    correlation_id   text        NOT NULL DEFAULT '',
    first_position   bigint,
    last_position    bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reactor, domain, root, edition, trigger_sequence)
);

-- Ordered outbox entries of reactions: commands, facts and rejection notices to dispatch.
CREATE TABLE outbox (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reactor          text        NOT NULL,
    domain           text        NOT NULL,
    root             uuid        NOT NULL,
    edition          text        NOT NULL,
    trigger_sequence bigint      NOT NULL,
    entry_index      integer     NOT NULL,
    kind             text        NOT NULL,
    target_domain    text        NOT NULL,
    reaction_id      text        NOT NULL,
    request          bytea       NOT NULL,
    traceparent      text        NOT NULL DEFAULT '',
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    lease_until      timestamptz NOT NULL DEFAULT '-infinity',
    last_error       text        NOT NULL DEFAULT '',
    result           bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reactor, domain, root, edition, trigger_sequence, entry_index)
);
CREATE INDEX outbox_by_reactor_status ON outbox (reactor, status, id);

-- Subscriber checkpoints (global log position) and per-aggregate progress (last delivered sequence).
CREATE TABLE checkpoints (
    subscriber text        PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE progress (
    subscriber text        NOT NULL,
    domain     text        NOT NULL,
    root       uuid        NOT NULL,
    edition    text        NOT NULL,
    sequence   bigint      NOT NULL CHECK (sequence >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber, domain, root, edition)
);

-- Dead letters (§8): the AngzarrDeadLetter bytes plus bookkeeping.
CREATE TABLE dead_letters (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    letter                bytea       NOT NULL,
    domain                text        NOT NULL,
    root                  bytea,
    source_component      text        NOT NULL,
    source_component_type text        NOT NULL,
    status                text        NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'replay_requested', 'replayed', 'discarded')),
    attempts              integer     NOT NULL DEFAULT 0,
    last_error            text        NOT NULL DEFAULT '',
    subscriber            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_by_status ON dead_letters (status, id);
