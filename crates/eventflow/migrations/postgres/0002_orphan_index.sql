-- Orphans are few at any time, among every event ever published: a partial index holding
-- only them lets `orphans` (src/sql/delivery.rs) start from it instead of walking the
-- domain's events.
CREATE INDEX IF NOT EXISTS eventflow_published_orphan ON eventflow_published (orphan_at)
    WHERE orphan_at IS NOT NULL AND succeeded_at IS NULL AND parked_at IS NULL;
