-- The message board's read model on MySQL/MariaDB: posts and replies as the consumer of
-- `post-created` and `reply-created` projects them (one row per event, keyed by the
-- post or reply id). `position` is the event's position in the event-log (the order of
-- the list); `generation` marks the rows the last rebuild wrote (0: projected live).
CREATE TABLE mb_post (
    id VARCHAR(64) PRIMARY KEY,
    event_id VARCHAR(36) NOT NULL,
    position BIGINT NOT NULL,
    author_id VARCHAR(64) NOT NULL,
    author VARCHAR(64) NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE INDEX mb_post_position ON mb_post (position);
CREATE TABLE mb_reply (
    id VARCHAR(64) PRIMARY KEY,
    post_id VARCHAR(64) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    position BIGINT NOT NULL,
    author_id VARCHAR(64) NOT NULL,
    author VARCHAR(64) NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE INDEX mb_reply_post ON mb_reply (post_id, position);
