-- superhero-auth tables on PostgreSQL: users, sessions (ids kept only as SHA-256
-- hashes, HMAC keys sealed with AES-256-GCM), and the nonces of signed requests.
CREATE TABLE auth_user (
    user_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    name_key VARCHAR(64) NOT NULL UNIQUE,
    password_hash VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE auth_session (
    id_hash VARCHAR(64) PRIMARY KEY,
    user_id VARCHAR(64) NOT NULL,
    sealed_key BYTEA,
    public_key BYTEA,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX auth_session_user ON auth_session (user_id);
CREATE INDEX auth_session_expiry ON auth_session (expires_at);
CREATE TABLE auth_nonce (
    session_hash VARCHAR(64) NOT NULL,
    nonce VARCHAR(64) NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (session_hash, nonce)
);
CREATE INDEX auth_nonce_expiry ON auth_nonce (expires_at);
