//! What came of runs: `rescore`, `leaderboard`, `compare`, `import`, and
//! the JSON Schemas of results files and run events.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fuelbench_eval::{EvalConfig, Evaluator};
use fuelbench_runner::{self as run, ResultsFile, leaderboard};

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, SuitesArgs};
use fuelbench_runner::render;

#[derive(Debug, clap::Args)]
pub(crate) struct RescoreArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    #[command(flatten)]
    suites: SuitesArgs,
    /// Results files to score again; each is rewritten in place. With
    /// --results, the names of results files in that store
    #[arg(required_unless_present = "results")]
    files: Vec<PathBuf>,
    /// A results store (a folder, or a bucket's URL: s3://, az://, gs://)
    /// whose results files to score again: the ones named, else every
    /// finished one. In a bucket, each is written back only if no one
    /// changed it since it was read; a folder's file is written over
    #[arg(long)]
    results: Option<String>,
    /// Print the new summaries without writing the files
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Md,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LeaderboardArgs {
    /// The problem set rows are compared with: a row scored on other
    /// problems is flagged as not comparable
    #[command(flatten)]
    problems: ProblemsArgs,
    /// A folder of results files (and files written by `fuelbench import`),
    /// or a bucket's URL (s3://, az://, gs://)
    #[arg(default_value = "results")]
    dir: String,
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// The baseline results file
    a: PathBuf,
    /// The results file measured against it
    b: PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct PlanSamplesArgs {
    /// A finished run's results file, whose per-problem pass rates to plan from
    #[arg(long)]
    results: PathBuf,
    /// The difference in pass@1 to tell apart
    #[arg(long, default_value_t = 0.05)]
    delta: f64,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// Result files of other harnesses
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Where to write the converted rows, for `fuelbench leaderboard`
    #[arg(long, default_value = "results")]
    out: PathBuf,
}

pub(crate) fn rescore(global: &GlobalArgs, args: &RescoreArgs) -> anyhow::Result<ExitCode> {
    let problems = args.problems.load()?;
    let suites = args.suites.load(global)?;
    let evaluator = Evaluator::new(global.sandbox()?, EvalConfig::default());
    let rescore = |path: &Path, shown: &str| {
        rescore_file(&evaluator, &problems, &suites, path, shown, args.dry_run)
    };
    let Some(spec) = &args.results else {
        for path in &args.files {
            rescore(path, &path.display().to_string())?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let store = global.store(spec)?;
    let held = store
        .names()
        .with_context(|| format!("failed to list the results in {spec}"))?;
    let names: Vec<String> = if args.files.is_empty() {
        // A run still writing its file would find it changed under it.
        let heads = store
            .heads()
            .with_context(|| format!("failed to read the results in {spec}"))?;
        let finished: Vec<String> = heads
            .into_iter()
            .filter(|(_, head)| head.complete)
            .map(|(name, _)| name)
            .collect();
        if finished.len() < held.len() {
            eprintln!(
                "left {} results files that are unfinished or unreadable; name one to rescore it",
                held.len() - finished.len()
            );
        }
        finished
    } else {
        let named: Vec<String> = args
            .files
            .iter()
            .map(|name| {
                let name = name.to_string_lossy();
                name.strip_suffix(".json").unwrap_or(&name).to_owned()
            })
            .collect();
        if let Some(missing) = named.iter().find(|name| !held.contains(name)) {
            bail!(
                "no results file {missing:?} in {spec}; `fuelbench leaderboard {spec}` lists them"
            );
        }
        named
    };
    for name in names {
        // A bucket's object comes into the store's local copy with the
        // version it had; a folder's file is there already.
        let file = format!("{name}.json");
        let path = store.results_dir().join(&file);
        let shown = format!("{}/{file}", store.location());
        if run::store::is_bucket(spec) {
            // Only what the bucket holds now is scored and written back:
            // never an older local copy of an object deleted since.
            let _ = std::fs::remove_file(&path);
        }
        store
            .stage(std::slice::from_ref(&file), true)
            .with_context(|| format!("failed to read {file} from {spec}"))?;
        if !path.exists() {
            eprintln!("{shown} is no longer in the store; left as it is");
            continue;
        }
        if rescore(&path, &shown)? {
            store
                .checkpoint(&path)
                .with_context(|| format!("failed to write {shown}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Scores the results file at `path` (`shown` to a person) again and says
/// what changed; unless `dry_run`, writes it back. Whether it was written.
fn rescore_file(
    evaluator: &Evaluator,
    problems: &[fuelbench_problems::Problem],
    suites: &[run::Suite],
    path: &Path,
    shown: &str,
    dry_run: bool,
) -> anyhow::Result<bool> {
    let mut file = ResultsFile::read(path).with_context(|| format!("failed to read {shown}"))?;
    let before = file.summary.clone();
    let old_key = file.reproducibility.clone();
    let changed = run::rescore(&mut file, evaluator, problems, suites, path)
        .with_context(|| format!("failed to rescore {shown}"))?;
    let same = before == file.summary;
    let overall = |s: &Option<run::Summary>| {
        s.as_ref()
            .map_or("-".into(), |s| format!("{:.3}", s.scores.overall_score))
    };
    println!(
        "{shown}: overall {} -> {}{}",
        overall(&before),
        overall(&file.summary),
        if same { " (unchanged)" } else { "" }
    );
    let key_changes = run::reproducibility_changes(&old_key, &file.reproducibility);
    if !changed.is_empty() && !key_changes.is_empty() {
        println!("  the scorer changed: {}", key_changes.join(", "));
    }
    for problem in &changed {
        println!("  {}:", problem.problem);
        for change in &problem.changes {
            println!("    {change}");
        }
    }
    if dry_run {
        return Ok(false);
    }
    file.write_atomic(path)?;
    Ok(true)
}

/// The board of `args.dir`, each row flagged as the web board flags it:
/// the table and CSV as they are, with a note on stderr for each row that
/// cannot be compared; JSON with `comparable` and `differences`.
pub(crate) fn leaderboard(global: &GlobalArgs, args: &LeaderboardArgs) -> anyhow::Result<ExitCode> {
    // A folder is only read: opening it as a store would make its `runs/`.
    let board = if run::store::is_bucket(&args.dir) {
        global.store(&args.dir)?.board()
    } else {
        leaderboard::collect(Path::new(
            args.dir.strip_prefix("file://").unwrap_or(&args.dir),
        ))
    }
    .with_context(|| format!("failed to read the results in {}", args.dir))?;
    for note in &board.notes {
        eprintln!("note: {note}");
    }
    let problems = args.problems.load()?;
    let flagged = leaderboard::flag(board.rows, &problems, &global.interpreter_sha256()?);
    for (number, flagged) in flagged.iter().enumerate() {
        if !flagged.comparable {
            let row = &flagged.row;
            eprintln!(
                "note: row {} ({}, think {}, grammar {}) is not comparable: {}",
                number + 1,
                row.model,
                row.think,
                row.grammar,
                flagged.differences.join("; ")
            );
        }
    }
    let rows: Vec<leaderboard::Row> = flagged.iter().map(|flagged| flagged.row.clone()).collect();
    match args.format {
        Format::Md => print!("{}", render::markdown(&rows)),
        Format::Csv => print!("{}", render::csv(&rows)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&flagged)?),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let read = |path: &Path| {
        ResultsFile::read(path).with_context(|| format!("failed to read {}", path.display()))
    };
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    if let Some(why) = leaderboard::suites_differ(&a, &b) {
        anyhow::bail!(
            "cannot compare {} with {}: {why}",
            args.a.display(),
            args.b.display()
        );
    }
    let comparison = leaderboard::compare(&a, &b);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", render::comparison_markdown(&comparison));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn plan_samples(args: &PlanSamplesArgs) -> anyhow::Result<ExitCode> {
    if !(args.delta > 0.0 && args.delta < 1.0) {
        anyhow::bail!("--delta must be between 0 and 1, not {}", args.delta);
    }
    let file = ResultsFile::read(&args.results)
        .with_context(|| format!("failed to read {}", args.results.display()))?;
    let plan = leaderboard::plan_samples(&file, args.delta);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        println!(
            "{} problems, {} sample(s) each, mean pass rate {:.2}.",
            plan.problems, plan.samples, plan.pass_rate
        );
        println!("{}.", plan.sentence);
        println!(
            "Method: a paired comparison on the same problems leaves only the samples' noise, \
             so the difference of two means has variance 2·Σ p(1-p) / (n·m²) over m problems \
             with pass rates p and n samples each; n is the least that makes delta \
             (1.96 + 0.84) standard errors (5% two-sided, 80% power)."
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    for path in &args.files {
        let imported = leaderboard::import(path)
            .with_context(|| format!("failed to import {}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = args
            .out
            .join(format!("imported__{}.json", run::slug(&stem)));
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("failed to create {}", args.out.display()))?;
        let text = serde_json::to_string_pretty(&imported)?;
        fuelbench_stdx::write_durably(&out, (text + "\n").as_bytes())
            .with_context(|| format!("failed to write {}", out.display()))?;
        eprintln!(
            "{}: {} row(s) -> {}",
            path.display(),
            imported.rows.len(),
            out.display()
        );
        rows.extend(imported.rows);
    }
    leaderboard::sort(&mut rows);
    print!("{}", render::markdown(&rows));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn results_schema() -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&run::schema())?);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn events_schema() -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&run::event_schema())?);
    Ok(ExitCode::SUCCESS)
}
