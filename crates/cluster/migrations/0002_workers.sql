-- The workers serving each model server, as last seen: a run queued for a
-- server nobody has served lately says so.

CREATE TABLE workers (
    -- `host:pid`, as the worker names itself.
    name      text PRIMARY KEY,
    endpoint  text NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX workers_by_endpoint ON workers (endpoint, seen_at);
