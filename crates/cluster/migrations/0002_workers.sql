-- Who serves each model server, as last seen (a run queued for a server
-- nobody has served lately says so), and the secrets replicas share.

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
