//! `fuelbench serve`: the HTTP service, on 127.0.0.1 unless told otherwise.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_server::{AppState, Config};

use crate::GlobalArgs;
use crate::problems::ProblemsArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
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
    let mut config = Config {
        token,
        ..Config::default()
    };
    if let Some(slots) = args.slots {
        config.slots = slots.max(1);
        config.queue = 32 * config.slots;
    }
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let state = AppState::new(evaluator, args.problems.load()?, config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("failed to listen on {}", args.addr))?;
        let addr = listener
            .local_addr()
            .context("failed to read the bound address")?;
        println!("fuelbench serve: listening on http://{addr}");
        fuelbench_server::serve(listener, state, shutdown_signal())
            .await
            .context("the server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or Ctrl-C: stop taking connections and finish those in flight.
async fn shutdown_signal() {
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
    eprintln!("fuelbench serve: shutting down after the requests in flight");
}
