-- superhero-auth tables on SQLite: users, sessions (ids kept only as SHA-256 hashes,
-- HMAC keys sealed with AES-256-GCM), and the nonces of signed requests.
CREATE TABLE auth_user (
    user_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE auth_session (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL,
    sealed_key BLOB,
    public_key BLOB,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX auth_session_user ON auth_session (user_id);
CREATE INDEX auth_session_expiry ON auth_session (expires_at);
CREATE TABLE auth_nonce (
    session_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (session_hash, nonce)
);
CREATE INDEX auth_nonce_expiry ON auth_nonce (expires_at);
