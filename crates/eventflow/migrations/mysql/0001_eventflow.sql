-- Eventflow store schema, MySQL/MariaDB. Times are BIGINT milliseconds since the Unix epoch,
-- UTC. Text keys use utf8mb4_bin: compared and sorted bytewise, as on SQLite and PostgreSQL.

-- The append lock and position counter: appenders serialize on this row (see src/store.rs).
CREATE TABLE IF NOT EXISTS eventflow_head (
    id       INT    NOT NULL PRIMARY KEY,
    position BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
INSERT IGNORE INTO eventflow_head (id, position) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS eventflow_event (
    position  BIGINT       NOT NULL PRIMARY KEY,
    id        CHAR(36)     NOT NULL,
    timestamp BIGINT       NOT NULL,
    domain    VARCHAR(255) NOT NULL,
    pid       VARCHAR(255) NOT NULL,
    name      VARCHAR(255) NOT NULL,
    version   BIGINT       NOT NULL,
    data      LONGTEXT     NOT NULL,
    rid       CHAR(36)     NULL,
    UNIQUE KEY eventflow_event_id (id),
    UNIQUE KEY eventflow_event_stream (domain, pid, version),
    KEY eventflow_event_domain_name (domain, name, position),
    KEY eventflow_event_stream_time (domain, pid, timestamp),
    KEY eventflow_event_rid (rid)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_event_eid (
    event_id CHAR(36)     NOT NULL,
    eid      VARCHAR(255) NOT NULL,
    PRIMARY KEY (event_id, eid),
    KEY eventflow_event_eid_eid (eid),
    CONSTRAINT eventflow_event_eid_event FOREIGN KEY (event_id) REFERENCES eventflow_event (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_event_cpid (
    event_id CHAR(36)     NOT NULL,
    domain   VARCHAR(255) NOT NULL,
    cpid     VARCHAR(255) NOT NULL,
    PRIMARY KEY (event_id, domain, cpid),
    KEY eventflow_event_cpid_cpid (domain, cpid),
    CONSTRAINT eventflow_event_cpid_event FOREIGN KEY (event_id) REFERENCES eventflow_event (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_published (
    event_id        CHAR(36)     NOT NULL PRIMARY KEY,
    publisher       VARCHAR(255) NOT NULL,
    published_at    BIGINT       NOT NULL,
    available_at    BIGINT       NOT NULL,
    hub             VARCHAR(255) NULL,
    hub_claimed_at  BIGINT       NULL,
    hub_lease_until BIGINT       NULL,
    consumer        VARCHAR(255) NULL,
    claimed_at      BIGINT       NULL,
    lease_until     BIGINT       NULL,
    deliveries      BIGINT       NOT NULL DEFAULT 0,
    succeeded_at    BIGINT       NULL,
    failed_at       BIGINT       NULL,
    last_error      TEXT         NULL,
    orphan_at       BIGINT       NULL,
    parked_at       BIGINT       NULL,
    KEY eventflow_published_open (succeeded_at, parked_at, available_at),
    KEY eventflow_published_parked (parked_at),
    CONSTRAINT eventflow_published_event FOREIGN KEY (event_id) REFERENCES eventflow_event (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_scheduled (
    event_id     CHAR(36)     NOT NULL PRIMARY KEY,
    scheduled_at BIGINT       NOT NULL,
    due_at       BIGINT       NOT NULL,
    executed_at  BIGINT       NULL,
    executed_by  VARCHAR(255) NULL,
    KEY eventflow_scheduled_due (executed_at, due_at),
    CONSTRAINT eventflow_scheduled_event FOREIGN KEY (event_id) REFERENCES eventflow_event (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_hub (
    id            VARCHAR(255) NOT NULL PRIMARY KEY,
    registered_at BIGINT       NOT NULL,
    heartbeat_at  BIGINT       NOT NULL,
    external_host VARCHAR(255) NOT NULL,
    external_port BIGINT       NOT NULL,
    internal_host VARCHAR(255) NOT NULL,
    internal_port BIGINT       NOT NULL,
    quit_at       BIGINT       NULL,
    KEY eventflow_hub_live (quit_at, heartbeat_at)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_log (
    seq       BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    timestamp BIGINT       NOT NULL,
    agent     VARCHAR(255) NOT NULL,
    message   TEXT         NOT NULL,
    error     LONGTEXT     NOT NULL,
    KEY eventflow_log_agent (agent, seq)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS eventflow_certificate (
    id         VARCHAR(255) NOT NULL,
    version    BIGINT       NOT NULL,
    cert       TEXT         NOT NULL,
    secret     BLOB         NOT NULL,
    validity   BIGINT       NOT NULL,
    created_at BIGINT       NOT NULL,
    revoked_at BIGINT       NULL,
    PRIMARY KEY (id, version)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
