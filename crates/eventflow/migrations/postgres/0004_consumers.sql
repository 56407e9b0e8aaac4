-- The consumer groups: every (domain, name) some spoke has consumed (`Spoke::consume`;
-- name `*`: every name of the domain). A hub that has no consumer connected for an event
-- of such a pair keeps the event for one (orphan) instead of settling it once its
-- subscribers are notified, so a consumer that is away (restarting, cut off, connected
-- to another hub) finds it when it comes back.
CREATE TABLE IF NOT EXISTS eventflow_consumer (
    domain        TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    registered_at BIGINT           NOT NULL,
    PRIMARY KEY (domain, name)
);
