-- Eventflow store schema, PostgreSQL. Times are BIGINT milliseconds since the Unix epoch, UTC.

-- The append lock and position counter: appenders serialize on this row (see src/store.rs).
CREATE TABLE IF NOT EXISTS eventflow_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO eventflow_head (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS eventflow_event (
    position  BIGINT  PRIMARY KEY,
    id        TEXT    NOT NULL UNIQUE,
    timestamp BIGINT  NOT NULL,
    domain    TEXT COLLATE "C"    NOT NULL,
    pid       TEXT COLLATE "C"    NOT NULL,
    name      TEXT COLLATE "C"    NOT NULL,
    version   BIGINT  NOT NULL,
    data      TEXT    NOT NULL,
    rid       TEXT    NULL,
    UNIQUE (domain, pid, version)
);
CREATE INDEX IF NOT EXISTS eventflow_event_domain_name ON eventflow_event (domain, name, position);
CREATE INDEX IF NOT EXISTS eventflow_event_stream_time ON eventflow_event (domain, pid, timestamp);
CREATE INDEX IF NOT EXISTS eventflow_event_rid ON eventflow_event (rid);

CREATE TABLE IF NOT EXISTS eventflow_event_eid (
    event_id TEXT NOT NULL REFERENCES eventflow_event (id) ON DELETE CASCADE,
    eid      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event_id, eid)
);
CREATE INDEX IF NOT EXISTS eventflow_event_eid_eid ON eventflow_event_eid (eid);

CREATE TABLE IF NOT EXISTS eventflow_event_cpid (
    event_id TEXT NOT NULL REFERENCES eventflow_event (id) ON DELETE CASCADE,
    domain   TEXT COLLATE "C" NOT NULL,
    cpid     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event_id, domain, cpid)
);
CREATE INDEX IF NOT EXISTS eventflow_event_cpid_cpid ON eventflow_event_cpid (domain, cpid);

CREATE TABLE IF NOT EXISTS eventflow_published (
    event_id        TEXT    NOT NULL PRIMARY KEY REFERENCES eventflow_event (id) ON DELETE CASCADE,
    publisher       TEXT COLLATE "C"    NOT NULL,
    published_at    BIGINT  NOT NULL,
    available_at    BIGINT  NOT NULL,
    hub             TEXT COLLATE "C"    NULL,
    hub_claimed_at  BIGINT  NULL,
    hub_lease_until BIGINT  NULL,
    consumer        TEXT COLLATE "C"    NULL,
    claimed_at      BIGINT  NULL,
    lease_until     BIGINT  NULL,
    deliveries      BIGINT NOT NULL DEFAULT 0,
    succeeded_at    BIGINT  NULL,
    failed_at       BIGINT  NULL,
    last_error      TEXT    NULL,
    orphan_at       BIGINT  NULL,
    parked_at       BIGINT  NULL
);
CREATE INDEX IF NOT EXISTS eventflow_published_open ON eventflow_published (succeeded_at, parked_at, available_at);
CREATE INDEX IF NOT EXISTS eventflow_published_parked ON eventflow_published (parked_at);

CREATE TABLE IF NOT EXISTS eventflow_scheduled (
    event_id     TEXT    NOT NULL PRIMARY KEY REFERENCES eventflow_event (id) ON DELETE CASCADE,
    scheduled_at BIGINT  NOT NULL,
    due_at       BIGINT  NOT NULL,
    executed_at  BIGINT  NULL,
    executed_by  TEXT COLLATE "C"    NULL
);
CREATE INDEX IF NOT EXISTS eventflow_scheduled_due ON eventflow_scheduled (executed_at, due_at);

CREATE TABLE IF NOT EXISTS eventflow_hub (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    registered_at BIGINT  NOT NULL,
    heartbeat_at  BIGINT  NOT NULL,
    external_host TEXT    NOT NULL,
    external_port BIGINT  NOT NULL,
    internal_host TEXT    NOT NULL,
    internal_port BIGINT  NOT NULL,
    quit_at       BIGINT  NULL
);
CREATE INDEX IF NOT EXISTS eventflow_hub_live ON eventflow_hub (quit_at, heartbeat_at);

CREATE TABLE IF NOT EXISTS eventflow_log (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    timestamp BIGINT  NOT NULL,
    agent     TEXT COLLATE "C"    NOT NULL,
    message   TEXT    NOT NULL,
    error     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS eventflow_log_agent ON eventflow_log (agent, seq);

CREATE TABLE IF NOT EXISTS eventflow_certificate (
    id         TEXT COLLATE "C" NOT NULL,
    version    BIGINT  NOT NULL,
    cert       TEXT    NOT NULL,
    secret     BYTEA   NOT NULL,
    validity   BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT  NULL,
    PRIMARY KEY (id, version)
);
