-- The run queue, each run's numbered events and its per-problem checkpoint.
-- Every row a worker writes carries the claim it holds; see crates/cluster.

CREATE TABLE runs (
    id            text PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 200),
    -- The model server the run is for: at most one run holds a live claim
    -- on each.
    endpoint      text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('quality', 'serving')),
    -- What was asked, as the replica that queued it received it.
    request       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
    -- Raised by one at every claim: the fencing token every write carries.
    claim         bigint NOT NULL DEFAULT 0,
    worker        text,
    lease_until   timestamptz,
    cancel        boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,
    -- The run's state as its last writer folded it.
    status        jsonb
);

CREATE INDEX runs_waiting ON runs (endpoint, created_at, id)
    WHERE state IN ('queued', 'running');

CREATE TABLE run_events (
    run_id  text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- 1, 2, 3, ... per run, with no gap: what `Last-Event-ID` names.
    seq     bigint NOT NULL CHECK (seq > 0),
    claim   bigint NOT NULL,
    event   jsonb NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_problems (
    run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    -- The results file (one per variant) the record belongs to.
    file     text NOT NULL,
    problem  text NOT NULL,
    sample   integer NOT NULL CHECK (sample >= 0),
    claim    bigint NOT NULL,
    record   jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, file, problem, sample)
);
