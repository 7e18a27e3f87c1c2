//! `fuelbench bench store`: the results store's own figures, as JSON. The
//! leaderboard over many results objects, first load and warm, on a folder
//! and on a bucket (an S3 emulator's, when `--s3` names one); publishing
//! them there; and verification, a file's saved answers scored again, with
//! the board's latency while it runs beside it.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, ensure};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_runner::{ResultsFile, Store, VerificationState};
use serde_json::{Value, json};

use crate::GlobalArgs;
use crate::bench::{median, millis, percentile};
use crate::bench_serve::{SEEDED_SAMPLES, seed_store};

#[derive(Debug, clap::Args)]
pub(crate) struct StoreBenchArgs {
    #[command(flatten)]
    problems: crate::problems::ProblemsArgs,
    /// Results files behind the board
    #[arg(long, default_value_t = 1000)]
    files: usize,
    /// Warm reads of the board timed on each store
    #[arg(long, default_value_t = 21)]
    repeats: usize,
    /// A bucket to measure too (`s3://bucket/prefix`, an emulator's: the
    /// figures are written under a prefix of their own, made fresh)
    #[arg(long)]
    s3: Option<String>,
}

pub(crate) fn run(global: &GlobalArgs, args: &StoreBenchArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.files > 0, "--files must be at least 1");
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    let problems = args.problems.load()?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let dir = tempfile::tempdir().context("failed to make a results folder")?;
    let started = Instant::now();
    seed_store(&evaluator, &problems, dir.path(), args.files)?;
    eprintln!(
        "bench store: wrote {} results files in {:.1}s",
        args.files,
        started.elapsed().as_secs_f64()
    );

    let folder =
        fuelbench_runner::DirStore::open(dir.path()).context("failed to open the folder")?;
    let directory = board_figures(&folder, args.files, args.repeats)?;

    let bucket = match &args.s3 {
        Some(base) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos());
            let url = format!("{}/bench-{nanos}", base.trim_end_matches('/'));
            let store = global.store(&url)?;
            let published = Instant::now();
            for path in fuelbench_runner::leaderboard::json_files(dir.path())? {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .context("a file name")?;
                store.put_new(name, &std::fs::read(&path)?)?;
            }
            let publish_s = published.elapsed().as_secs_f64();
            let mut figures = board_figures(&*store, args.files, args.repeats)?;
            // A service started again over the same bucket: the rows its
            // last run kept on this machine, and a listing.
            let again = global.store(&url)?;
            let restarted = Instant::now();
            let rows = again.board()?.rows.len();
            ensure!(rows == args.files, "{rows} rows of {} files", args.files);
            figures["restarted_first_ms"] = json!(millis(restarted.elapsed()));
            figures["url"] = json!(url);
            figures["publish_s"] = json!(publish_s);
            figures
        }
        None => Value::Null,
    };

    // One results file of every problem, one answer each, scored again.
    let one = tempfile::tempdir().context("failed to make a folder")?;
    seed_store(&evaluator, &problems, one.path(), 1)?;
    let path = fuelbench_runner::leaderboard::json_files(one.path())?
        .pop()
        .context("the seeded file")?;
    let mut file = ResultsFile::read(&path)?;
    // The seeded file has several answers a problem; this one has one.
    file.problems.retain(|record| record.sample == 0);
    file.config.samples = 1;
    file.refresh();
    let verified = Instant::now();
    let verification = fuelbench_runner::verify(&file, &evaluator, &problems, &[], &path);
    let verify_per_file_s = verified.elapsed().as_secs_f64();
    ensure!(
        verification.state == VerificationState::Verified,
        "a file this scorer wrote did not verify: {:?}",
        verification.reasons
    );

    // The board while a verifier scores files beside it, as `serve` does
    // on one of its slots.
    let busy = AtomicBool::new(true);
    let verifications = AtomicUsize::new(0);
    let while_verifying = std::thread::scope(|scope| {
        scope.spawn(|| {
            while busy.load(Ordering::Relaxed) {
                fuelbench_runner::verify(&file, &evaluator, &problems, &[], &path);
                verifications.fetch_add(1, Ordering::Relaxed);
            }
        });
        let figures = warm_board(&folder, args.files, args.repeats);
        busy.store(false, Ordering::Relaxed);
        figures
    })?;

    let report = json!({
        "files": args.files,
        "answers_per_file": problems.len() * SEEDED_SAMPLES as usize,
        "board_ms": {
            "directory": directory,
            "s3": bucket,
            "directory_while_verifying": {
                "warm_p50_ms": median(&while_verifying),
                "warm_p99_ms": percentile(&while_verifying, 0.99),
            },
        },
        "verify_per_file_s": verify_per_file_s,
        "verify_answers": file.problems.len(),
        "percentiles": "linear interpolation between closest ranks",
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// The board's first load and its warm reads on `store`.
fn board_figures(store: &dyn Store, files: usize, repeats: usize) -> anyhow::Result<Value> {
    let first = Instant::now();
    let board = store.board()?;
    let first_ms = millis(first.elapsed());
    ensure!(
        board.rows.len() == files,
        "{} rows of {files} files: {:?}",
        board.rows.len(),
        board.notes.first()
    );
    let warm = warm_board(store, files, repeats)?;
    // A bucket's listing serves the board for a while; the read after it
    // expires lists the bucket again.
    std::thread::sleep(fuelbench_runner::store::LISTING_TTL);
    let relisted = Instant::now();
    store.board()?;
    Ok(json!({
        "first_ms": first_ms,
        "warm_p50_ms": median(&warm),
        "warm_p99_ms": percentile(&warm, 0.99),
        "listed_again_ms": millis(relisted.elapsed()),
    }))
}

/// Milliseconds of each of `repeats` reads of the board.
fn warm_board(store: &dyn Store, files: usize, repeats: usize) -> anyhow::Result<Vec<f64>> {
    (0..repeats)
        .map(|_| {
            let started = Instant::now();
            let rows = store.board()?.rows.len();
            ensure!(rows == files, "{rows} rows of {files} files");
            Ok(millis(started.elapsed()))
        })
        .collect()
}
