-- Stream tickets (one table on every backend): single-use and short-lived, stored only
-- as the SHA-256 of the ticket (hex). `expires_at` is Unix milliseconds.
CREATE TABLE eventlog_stream_ticket (
    ticket_hash VARCHAR(64) PRIMARY KEY,
    user_id VARCHAR(255) NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX eventlog_stream_ticket_expiry ON eventlog_stream_ticket (expires_at);
