-- The spokes connected to each hub, as its last heartbeat saw them: a JSON array of spoke
-- ids, for `superhero status`. NULL for hubs that heartbeated before this column existed.
ALTER TABLE eventflow_hub ADD COLUMN IF NOT EXISTS spokes TEXT NULL;
