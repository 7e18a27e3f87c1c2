//! `fuelbench database`: the Postgres database replicas and workers share.

use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DatabaseCommand {
    /// Bring a database's schema up to this build's (replicas and workers
    /// do it too as they start, one at a time); refuses a database a newer
    /// fuelbench migrated
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
    /// The database: postgres://user:password@host:5432/name
    #[arg(long, env = "FUELBENCH_DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

pub(crate) fn run(command: &DatabaseCommand) -> anyhow::Result<ExitCode> {
    match command {
        DatabaseCommand::Migrate(args) => migrate(args),
    }
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the runtime")?;
    runtime.block_on(fuelbench_cluster::Cluster::connect(&args.database_url))?;
    println!(
        "{} is at migration {}",
        fuelbench_cluster::without_credentials(&args.database_url),
        fuelbench_cluster::Cluster::migration()
    );
    Ok(ExitCode::SUCCESS)
}
