-- Orphans are few at any time, among every event ever published: this index finds them
-- without walking the domain's events (see `orphans` in src/sql/delivery.rs). MySQL has no
-- partial indexes; NULLs (the usual case) sit together at the start of the index.
CREATE INDEX eventflow_published_orphan ON eventflow_published (orphan_at);
