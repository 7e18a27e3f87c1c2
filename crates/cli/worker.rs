//! `fuelbench worker`: claims the runs queued for one model server in the
//! shared database and drives them, one at a time.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_runner::worker::{Worker, WorkerConfig};

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, SuitesArgs};

#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    #[command(flatten)]
    suites: SuitesArgs,
    /// The database the service's replicas share:
    /// postgres://user:password@host:5432/name
    #[arg(long, env = "FUELBENCH_DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The model server whose runs this worker claims, e.g.
    /// http://127.0.0.1:8081: one worker per model server
    #[arg(long, value_name = "URL")]
    endpoint: String,
    /// Names this worker in the queue and the logs [default: this host's
    /// name]
    #[arg(long, value_name = "HOST")]
    tag: Option<String>,
    /// The results store the replicas read, a folder they share or a
    /// bucket's URL (s3://, az://, gs://)
    #[arg(long, default_value = "results")]
    results: String,
    /// Seconds a claim holds without a heartbeat (renewed every third of
    /// it): a worker that dies loses its run to another this long after
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS")]
    lease: f64,
}

pub(crate) fn worker(global: &GlobalArgs, args: &WorkerArgs) -> anyhow::Result<ExitCode> {
    if !(1.0..=3600.0).contains(&args.lease) {
        bail!("--lease is {} s; give 1 to 3600", args.lease);
    }
    let tag = match &args.tag {
        Some(tag) => tag.clone(),
        None => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "localhost".into()),
    };
    let config = WorkerConfig {
        endpoint: args.endpoint.clone(),
        // The PID alone repeats across containers (each worker is PID 1).
        name: format!("{tag}:{}:{:04x}", std::process::id(), random_u16()),
        lease: Duration::from_secs_f64(args.lease),
        api_key: std::env::var("FUELBENCH_API_KEY")
            .ok()
            .filter(|key| !key.is_empty()),
        ca_certificates: global.ca_certificates()?,
        locks_dir: global.cache_dir()?.join("locks"),
    };
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let store = global.store(&args.results)?;
    let (problems, suites) = (args.problems.load()?, args.suites.load(global)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let cluster = fuelbench_cluster::Cluster::connect(&args.database_url).await?;
        let worker = Worker::new(cluster, store, evaluator, problems, suites, config.clone());
        let stop = fuelbench_runner::CancellationToken::new();
        let stopping = stop.clone();
        tokio::spawn(async move {
            crate::serve::shutdown_signal().await;
            eprintln!(
                "fuelbench worker: stopping: the run in flight goes back to the queue for the \
                 next worker"
            );
            stopping.cancel();
        });
        println!(
            "fuelbench worker {}: claiming runs for {}",
            config.name, config.endpoint
        );
        worker.run(stop).await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A random number, to tell apart workers of one tag and PID.
fn random_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() & 0xffff) as u16
}
