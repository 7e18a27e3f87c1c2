-- Who serves each model server, as last seen (a run queued for a server
-- nobody has served lately says so), the secrets replicas share, and how
-- often a run outlived its worker.

CREATE TABLE workers (
    -- `host:pid`, as the worker names itself.
    name      text PRIMARY KEY,
    endpoint  text NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX workers_by_endpoint ON workers (endpoint, seen_at);

-- Secrets every replica must agree on, made once by whichever asks first:
-- the key UI form tokens are made with, so a form rendered by one replica
-- is accepted by another.
CREATE TABLE secrets (
    name   text PRIMARY KEY,
    value  bytea NOT NULL CHECK (octet_length(value) = 32)
);

-- How many times a run's worker stopped holding it without letting it go
-- (its lease ran out): a run that stops every worker fails after a few,
-- while one handed back on purpose is never counted.
ALTER TABLE runs ADD COLUMN lapses integer NOT NULL DEFAULT 0;
