-- Eventflow store schema, SQLite. Times are INTEGER milliseconds since the Unix epoch, UTC.

-- The append lock and position counter: appenders serialize on this row (see src/store.rs).
CREATE TABLE IF NOT EXISTS eventflow_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT OR IGNORE INTO eventflow_head (id, position) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS eventflow_event (
    position  INTEGER PRIMARY KEY,
    id        TEXT    NOT NULL UNIQUE,
    timestamp INTEGER NOT NULL,
    domain    TEXT    NOT NULL,
    pid       TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    data      TEXT    NOT NULL,
    rid       TEXT    NULL,
    UNIQUE (domain, pid, version)
);
CREATE INDEX IF NOT EXISTS eventflow_event_domain_name ON eventflow_event (domain, name, position);
CREATE INDEX IF NOT EXISTS eventflow_event_stream_time ON eventflow_event (domain, pid, timestamp);
CREATE INDEX IF NOT EXISTS eventflow_event_rid ON eventflow_event (rid);

CREATE TABLE IF NOT EXISTS eventflow_event_eid (
    event_id TEXT NOT NULL REFERENCES eventflow_event (id) ON DELETE CASCADE,
    eid      TEXT NOT NULL,
    PRIMARY KEY (event_id, eid)
);
CREATE INDEX IF NOT EXISTS eventflow_event_eid_eid ON eventflow_event_eid (eid);

CREATE TABLE IF NOT EXISTS eventflow_event_cpid (
    event_id TEXT NOT NULL REFERENCES eventflow_event (id) ON DELETE CASCADE,
    domain   TEXT NOT NULL,
    cpid     TEXT NOT NULL,
    PRIMARY KEY (event_id, domain, cpid)
);
CREATE INDEX IF NOT EXISTS eventflow_event_cpid_cpid ON eventflow_event_cpid (domain, cpid);

CREATE TABLE IF NOT EXISTS eventflow_published (
    event_id        TEXT    NOT NULL PRIMARY KEY REFERENCES eventflow_event (id) ON DELETE CASCADE,
    publisher       TEXT    NOT NULL,
    published_at    INTEGER NOT NULL,
    available_at    INTEGER NOT NULL,
    hub             TEXT    NULL,
    hub_claimed_at  INTEGER NULL,
    hub_lease_until INTEGER NULL,
    consumer        TEXT    NULL,
    claimed_at      INTEGER NULL,
    lease_until     INTEGER NULL,
    deliveries      INTEGER NOT NULL DEFAULT 0,
    succeeded_at    INTEGER NULL,
    failed_at       INTEGER NULL,
    last_error      TEXT    NULL,
    orphan_at       INTEGER NULL,
    parked_at       INTEGER NULL
);
CREATE INDEX IF NOT EXISTS eventflow_published_open ON eventflow_published (succeeded_at, parked_at, available_at);
CREATE INDEX IF NOT EXISTS eventflow_published_parked ON eventflow_published (parked_at);

CREATE TABLE IF NOT EXISTS eventflow_scheduled (
    event_id     TEXT    NOT NULL PRIMARY KEY REFERENCES eventflow_event (id) ON DELETE CASCADE,
    scheduled_at INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    executed_at  INTEGER NULL,
    executed_by  TEXT    NULL
);
CREATE INDEX IF NOT EXISTS eventflow_scheduled_due ON eventflow_scheduled (executed_at, due_at);

CREATE TABLE IF NOT EXISTS eventflow_hub (
    id            TEXT    NOT NULL PRIMARY KEY,
    registered_at INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    external_host TEXT    NOT NULL,
    external_port INTEGER NOT NULL,
    internal_host TEXT    NOT NULL,
    internal_port INTEGER NOT NULL,
    quit_at       INTEGER NULL
);
CREATE INDEX IF NOT EXISTS eventflow_hub_live ON eventflow_hub (quit_at, heartbeat_at);

CREATE TABLE IF NOT EXISTS eventflow_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    agent     TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    error     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS eventflow_log_agent ON eventflow_log (agent, seq);

CREATE TABLE IF NOT EXISTS eventflow_certificate (
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    cert       TEXT    NOT NULL,
    secret     BLOB    NOT NULL,
    validity   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NULL,
    PRIMARY KEY (id, version)
);
