//! The one integration test binary. Each module says what belongs in it;
//! tests/README.md says what each tier needs and how long it takes.
//!
//! Every test needs the pinned interpreter built (`scripts/setup.sh`, the
//! core set-up); without it they fail, loudly. The external tier (a real
//! llama-server and model, Chromium) is built only with the
//! `external-tests` feature, which `scripts/test.sh` turns on.

/// The web UI in real Chromium over WebDriver: runs started, watched,
/// cancelled and resumed from the browser; leaderboard, drill-down, plot,
/// compare, escaping, the playground; screenshots of each page.
#[cfg(feature = "external-tests")]
mod browser;
/// Candidates that try to pass without solving: forged reports, rigged
/// `__eq__`, exits, frame and heap walks, bytecode, patched modules. One
/// `.py` file per cheat in tests/cheats/, its problem and verdict in its
/// header.
mod cheats;
/// The queue replicas and workers share, on a private Postgres cluster
/// each test starts: racing claims, leases that run out, fenced writes,
/// one run per model server, events across replicas, a restart.
#[cfg(feature = "external-tests")]
mod cluster;
/// The service on Postgres through the processes a user starts: three
/// replicas behind haproxy, workers for scripted model servers; runs done
/// exactly once, a killed worker's run taken over, event streams resumed
/// on another replica, the queue per model server, a database restart.
#[cfg(feature = "external-tests")]
mod cluster_service;
/// The real thing: `fuelbench run` against a real llama-server with a real
/// small model (scripts/setup-llama.sh): solve, refactor, scores, resume;
/// a real router loading and unloading it; the service driving that router.
#[cfg(feature = "external-tests")]
mod e2e;
/// The serving benchmarks for real: `perf load` against a real
/// llama-server with two slots, and `perf latency` starting real servers
/// and comparing builds.
#[cfg(feature = "external-tests")]
mod e2e_perf;
/// `fuelbench selftest`, `evaluate` and `problems` over the checked-in problem set.
mod eval_cli;
/// Fuel series of real Python code, fitted: the cost model the scores rest on.
mod fuel_complexity;
/// Property tests over what arrives from outside: results files of every
/// schema version and run-state files with any field changed, any
/// `Last-Event-ID`, any request body, query string or path name; no route
/// may fail. Bounded by `FUELBENCH_FUZZ_CASES`.
mod fuzz;
/// HumanEval in the sandbox: canonical solutions, samples, pass@k.
mod humaneval;
/// Model servers managed one model at a time through the runner: a
/// llama.cpp router swapping models, Ollama's unload, a model the router
/// lacks, a server that never becomes ready.
mod models;
/// The serving load generator: its figures against the stub's known
/// timings, and failures counted, never retried away.
mod perf;
/// The checked-in problem set as a whole: what it plants and covers.
mod problem_set;
/// Results files of every schema: the committed schemas, schema 1 upgraded
/// with its scores unchanged, malformed and future files refused.
mod results_files;
/// `fuelbench run`, `rescore`, `leaderboard`, `compare`, `import` from the
/// outside, against scripted servers: SIGKILL and resume, variants, the lock.
mod run_cli;
/// The model runner through its library API against scripted servers:
/// failure classes, retries, timeouts, streaming, resume, cancel, rescore.
mod runner;
/// A public suite (HumanEval's format) through the same runner: its own
/// results file, and a plan that names only the suites it has.
mod runner_suites;
/// The sandbox library against hostile and ordinary guests: one `.py` file
/// per guest in tests/guests/, its expected outcome in its header.
mod sandbox;
/// `fuelbench sandbox ...` from the outside: JSON shape and exit codes.
mod sandbox_cli;
/// `fuelbench serve`: every route and error path through `oneshot`: the
/// read-only routes, evaluate in each form, fresh seeds, bad input.
mod server;
/// Who may call `fuelbench serve`: cross-site posts, the token, a public
/// address, UI sessions and their forms' tokens, JSON only from this origin.
mod server_access;
/// `fuelbench serve` over a real socket, as an attacker meets it: the
/// header-read and idle time-outs, the connection cap, request deadlines,
/// clients that leave, panics, overload, and SIGTERM mid-run.
mod server_limits;
/// `fuelbench serve`'s runs and store: runs started, watched over SSE,
/// cancelled and resumed against scripted servers; the leaderboard, results
/// and compare routes over what they wrote; the OpenAPI document.
mod server_runs;
/// The results store, a folder or a bucket: the one contract both keep
/// (bad objects named, nothing written over, one writer per object), and
/// verification on ingest of files this scorer did and did not write.
mod store;
/// The same contract on the S3 and Azure emulators, a second writer
/// refused by them, a missing or unreachable bucket named, and a run into
/// a bucket verified by a service in another process.
#[cfg(feature = "external-tests")]
mod store_buckets;
/// Helpers shared by the modules (no tests).
mod support;
/// Model servers and buckets behind HTTPS with a certificate authority
/// made in the test: trusted with `--ca-cert`, refused without it.
mod tls;
