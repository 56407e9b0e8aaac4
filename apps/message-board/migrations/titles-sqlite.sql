-- Title claims of the message board's validator (not part of the read model): the
-- latest post of each (author, title), so a second within the window is refused.
-- `claim_key` is the SHA-256 of the author and the normalized title; `claimed_at` is
-- Unix milliseconds.
CREATE TABLE mb_title_claim (
    claim_key VARCHAR(64) PRIMARY KEY,
    post_id VARCHAR(64) NOT NULL,
    request_id VARCHAR(36) NOT NULL,
    claimed_at BIGINT NOT NULL
);
