//! `fuelbench serve`: the HTTP service, on 127.0.0.1 unless told otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::{EvalConfig, Evaluator};

use fuelbench_server::{AppState, Config, JobsConfig};

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, SuitesArgs};

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    #[command(flatten)]
    suites: SuitesArgs,
    /// Where to listen; any address but loopback needs --token-file
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A file holding the bearer token that routes which evaluate or run
    /// anything require
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Sandbox jobs at once [default: one per core]
    #[arg(long)]
    slots: Option<usize>,
    /// The results store, a folder or a bucket's URL (s3://, az://, gs://):
    /// the leaderboard reads it, and runs started here write their results
    /// files and their events into it
    #[arg(long, default_value = "results")]
    results: String,
    /// A model server runs may target, e.g. http://127.0.0.1:8081; repeat
    /// for several. Runs can target no other
    #[arg(long = "endpoint", value_name = "URL")]
    endpoints: Vec<String>,
    /// Connections open at once; one more is answered 503 and closed
    /// [default: half the limit on open files, from 16 to 4096]
    #[arg(long)]
    max_connections: Option<usize>,
    /// Do not score the store's results files again in the background: the
    /// board marks no row verified
    #[arg(long)]
    no_verify: bool,
    /// A Postgres database shared with other replicas and with `fuelbench
    /// worker`s (postgres://user:password@host:5432/name): runs are queued
    /// there for the workers of their endpoints and read from there, so
    /// any replica answers for any run. --results must then be the store
    /// the workers write into. Without it, this process runs everything
    #[arg(long, env = "FUELBENCH_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

pub(crate) fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read the token file {}", path.display()))?;
            let token = text.trim().to_owned();
            if token.len() < 16 {
                bail!(
                    "the token in {} is shorter than 16 characters",
                    path.display()
                );
            }
            Some(token)
        }
        None => None,
    };
    if !args.addr.ip().is_loopback() && token.is_none() {
        bail!(
            "refusing to listen on {} without a token: anyone who reaches it could run code on \
             this machine's CPU. Give --token-file FILE, or listen on 127.0.0.1",
            args.addr
        );
    }
    let open_files = fuelbench_server::raise_open_files_limit();
    let defaults = Config::default();
    let mut config = Config {
        max_connections: args
            .max_connections
            .unwrap_or_else(|| fuelbench_server::default_max_connections(open_files))
            .max(1),
        token,
        verify: !args.no_verify,
        loopback_only: args.addr.ip().is_loopback(),
        jobs: JobsConfig {
            endpoints: args.endpoints.clone(),
            api_key: std::env::var("FUELBENCH_API_KEY")
                .ok()
                .filter(|key| !key.is_empty()),
            locks_dir: global.cache_dir()?.join("locks"),
            ca_certificates: global.ca_certificates()?,
        },
        ..defaults
    };
    if let Some(slots) = args.slots {
        config.slots = slots.max(1);
        config.queue = 32 * config.slots;
    }
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let store = global.store(&args.results)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let (problems, suites) = (args.problems.load()?, args.suites.load(global)?);
    let state = match &args.database_url {
        Some(url) => {
            let cluster = runtime.block_on(fuelbench_cluster::Cluster::connect(url))?;
            let session_secret = runtime.block_on(cluster.secret("ui_sessions"))?;
            let database = fuelbench_server::Database {
                cluster,
                runtime: runtime.handle().clone(),
                session_secret,
            };
            AppState::shared(evaluator, problems, suites, store, config, database)
        }
        None => AppState::new(evaluator, problems, suites, store, config),
    }
    .context("failed to start the service")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("failed to listen on {}", args.addr))?;
        let addr = listener
            .local_addr()
            .context("failed to read the bound address")?;
        println!("fuelbench serve: listening on http://{addr}");
        fuelbench_server::serve(listener, state, async {
            shutdown_signal().await;
            eprintln!(
                "fuelbench serve: shutting down: runs are checkpointed, requests in flight finish"
            );
        })
        .await
        .context("the server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

pub(crate) fn openapi() -> anyhow::Result<ExitCode> {
    println!(
        "{}",
        serde_json::to_string_pretty(&fuelbench_server::openapi())?
    );
    Ok(ExitCode::SUCCESS)
}
