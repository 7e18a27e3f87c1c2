//! `fuelbench run`: models benchmarked on a server, and the progress a
//! person sees while it runs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fuelbench_llm::{ClientConfig, LocalServerConfig, ModelStep, ServerKind};
use fuelbench_runner::{
    self as run, Benchmark, Endpoint, Grammar, Plan, ProblemOutcome, RunContext, RunEvent,
    RunProgress, Target, Think, leaderboard,
};
use serde_json::Map;

use crate::GlobalArgs;
use crate::problems::{ProblemsArgs, SuitesArgs};
use fuelbench_runner::render;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ThinkArg {
    /// Send nothing: the model's own default
    Default,
    On,
    Off,
    /// Run with thinking on and with it off, side by side
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum KindArg {
    /// Router if GET /models lists model statuses, Ollama if /api/tags
    /// answers, else a single-model server
    Auto,
    Router,
    Ollama,
    Single,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    problems: ProblemsArgs,
    /// The server's root URL, e.g. http://127.0.0.1:8080 (a trailing /v1 is fine)
    #[arg(long, required_unless_present = "serve_model")]
    endpoint: Option<String>,
    /// A model to benchmark, as the server names it; repeat for several
    #[arg(long = "model", required = true)]
    models: Vec<String>,
    /// What kind of server the endpoint is
    #[arg(long, value_enum, default_value = "auto")]
    server_kind: KindArg,
    /// Thinking, through `chat_template_kwargs.enable_thinking`
    #[arg(long, value_enum, default_value = "default")]
    think: ThinkArg,
    /// `none`, a GBNF file, or `both` (with --grammar-file): without and with
    #[arg(long, default_value = "none")]
    grammar: String,
    /// The GBNF file for `--grammar both`
    #[arg(long)]
    grammar_file: Option<PathBuf>,
    /// Solve only: no refactor requests (refactor stability is not scored)
    #[arg(long)]
    skip_refactor: bool,
    /// Problem ids to run, comma-separated (a unique prefix such as p07 is enough)
    #[arg(long = "problems", value_name = "IDS", value_delimiter = ',')]
    problems_only: Vec<String>,
    /// The results store the results files go into, one per model and
    /// variant: a folder, or a bucket's URL (s3://, az://, gs://)
    #[arg(long, alias = "results", default_value = "results")]
    out: String,
    /// Continue the results files in --out: finished problems are kept
    #[arg(long)]
    resume: bool,
    /// One JSON object per event on stdout, for machines
    #[arg(long)]
    json: bool,
    #[arg(long, default_value_t = 8192)]
    max_tokens: u32,
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Extra top-level request fields as a JSON object, e.g.
    /// '{"reasoning_format":"deepseek"}'
    #[arg(long)]
    extra_body: Option<String>,
    /// Seconds with no stream data before a request is a stall
    #[arg(long, default_value_t = 30)]
    idle_timeout: u64,
    /// Seconds to the first streamed event, before prompt length is added
    #[arg(long, default_value_t = 60)]
    first_byte_timeout: u64,
    /// Start a llama-server on 127.0.0.1 with this GGUF model, benchmark it,
    /// and stop it; the first --model is its alias
    #[arg(long, requires = "llama_server", conflicts_with = "endpoint")]
    serve_model: Option<PathBuf>,
    /// The llama-server binary for --serve-model
    #[arg(long, env = "FUELBENCH_LLAMA_SERVER")]
    llama_server: Option<PathBuf>,
    /// Threads for --serve-model's server
    #[arg(long, default_value_t = 1)]
    serve_threads: u32,
    /// Draw the run's generated cases and complexity inputs from this seed,
    /// the same for every model and variant: a results file's
    /// `reproducibility.seed` repeats its tests [default: a fresh one from
    /// the system's entropy, printed and recorded]
    #[arg(long)]
    seed: Option<u64>,
    /// Answers asked per problem, each scored and kept: pass@1 becomes the
    /// mean over samples, and pass@k is reported for every k up to N. Give
    /// a temperature above 0 for samples that differ
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    samples: u32,
    /// What to answer, comma-separated: `ours` (the problem set) and
    /// `humaneval` (HumanEval's 164 tasks, scored by its tests in the
    /// sandbox); each goes into results files of its own
    #[arg(
        long = "suite",
        value_name = "SUITES",
        value_delimiter = ',',
        default_value = "ours"
    )]
    suites: Vec<String>,
    /// Ask only each public suite's first N tasks: a bounded run
    #[arg(long, value_name = "N")]
    suite_limit: Option<usize>,
    #[command(flatten)]
    suite_files: SuitesArgs,
}

pub(crate) fn run(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let plan = Plan {
        models: args.models.clone(),
        thinks: match args.think {
            ThinkArg::Default => vec![Think::Default],
            ThinkArg::On => vec![Think::On],
            ThinkArg::Off => vec![Think::Off],
            ThinkArg::Both => vec![Think::On, Think::Off],
        },
        grammars: grammars(&args.grammar, args.grammar_file.as_deref())?,
        refactor: !args.skip_refactor,
        problems: args.problems_only.clone(),
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        extra_body: match &args.extra_body {
            Some(text) => run::parse_extra_body(text).context("failed to read --extra-body")?,
            None => Map::new(),
        },
        samples: args.samples,
        suites: args
            .suites
            .iter()
            .map(|s| s.trim().to_lowercase())
            .collect(),
        suite_limit: args.suite_limit,
    };
    for note in plan.notes() {
        eprintln!("note: {note}");
    }
    let problems = plan.select(args.problems.load()?)?;
    let suites = args.suite_files.load(global)?;
    let configs = plan.configs(&problems, &suites)?;
    let evaluator = global.evaluator(args.seed)?;
    let seed = evaluator.config().seed;
    eprintln!("tests drawn from seed {seed} (repeat them with --seed {seed})");

    // Before any server starts or model loads: a run that cannot write its
    // results must not begin.
    let store = global.store(&args.out)?;
    run::preflight(&*store, &configs, args.resume)?;
    let out = store.results_dir().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;

    let endpoint = match (&args.serve_model, &args.endpoint) {
        (Some(model), _) => {
            if args.models.len() != 1 {
                bail!("--serve-model serves one model; give exactly one --model (its alias)");
            }
            let binary = args
                .llama_server
                .clone()
                .context("--serve-model needs --llama-server")?;
            let mut config = LocalServerConfig::new(
                binary,
                model.clone(),
                args.models[0].clone(),
                out.join("llama-server.log"),
            );
            config.threads = args.serve_threads;
            eprintln!("starting llama-server for {} on 127.0.0.1", model.display());
            Endpoint::Local(config)
        }
        (None, Some(url)) => Endpoint::Url(url.clone()),
        (None, None) => bail!("give --endpoint URL or --serve-model FILE"),
    };
    let mut settings = ClientConfig::new("");
    settings.api_key = std::env::var("FUELBENCH_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    settings.ca_certificates = global.ca_certificates()?;
    settings.timeouts.idle = Duration::from_secs(args.idle_timeout);
    settings.timeouts.first_byte = Duration::from_secs(args.first_byte_timeout);
    // A server we start lives as long as the target, to the end of this
    // function.
    let target = Target::open(endpoint, settings, &global.cache_dir()?.join("locks"))
        .context("failed to take the model server for this run")?;
    if let Some(server) = target.local() {
        eprintln!(
            "llama-server (pid {}) is up at {}",
            server.pid(),
            server.base_url()
        );
    }
    let base_url = target.base_url().to_owned();

    let kind = match args.server_kind {
        KindArg::Auto => None,
        KindArg::Router => Some(ServerKind::Router),
        KindArg::Ollama => Some(ServerKind::Ollama),
        KindArg::Single => Some(ServerKind::Single),
    };
    let manager = runtime
        .block_on(target.manager(kind))
        .with_context(|| format!("failed to reach the model server at {base_url}"))?;

    let benchmark = Benchmark {
        configs,
        out_dir: out.clone(),
        resume: args.resume,
        suites,
    };
    let context = RunContext {
        store: Some(std::sync::Arc::clone(&store)),
        ..RunContext::new(target.client().clone(), evaluator)
    };
    let mut progress = Progress::new(args.json, args.samples);
    let outcome = runtime.block_on(benchmark.run(&context, &manager, &problems, &mut |event| {
        progress.show(event)
    }));
    progress.finish();
    let files = outcome?;

    if !args.json {
        let rows: Vec<leaderboard::Row> = files
            .iter()
            .filter_map(|(path, file)| {
                file.summary
                    .as_ref()
                    .map(|summary| leaderboard::Row::from_results(file, summary, path))
            })
            .collect();
        let mut rows = leaderboard::join_suites(rows);
        leaderboard::sort(&mut rows);
        println!();
        print!("{}", render::markdown(&rows));
        for (path, _) in &files {
            let name = path.file_name().unwrap_or(path.as_os_str());
            println!("results: {}/{}", store.location(), name.to_string_lossy());
        }
    }
    drop(target);
    Ok(ExitCode::SUCCESS)
}

/// `none`, `FILE`, or `both` (without and with `--grammar-file`).
fn grammars(grammar: &str, grammar_file: Option<&Path>) -> anyhow::Result<Vec<Option<Grammar>>> {
    let read = |path: &Path| -> anyhow::Result<Grammar> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the grammar {}", path.display()))?;
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        Ok(Grammar::from_text(&stem, text)?)
    };
    match (grammar, grammar_file) {
        ("none", None) => Ok(vec![None]),
        ("both", Some(file)) => Ok(vec![None, Some(read(file)?)]),
        ("both", None) => bail!("--grammar both needs --grammar-file FILE"),
        (_, Some(_)) => bail!("--grammar-file goes with --grammar both"),
        (file, None) => Ok(vec![Some(read(Path::new(file))?)]),
    }
}

/// Terminal output: a progress bar on a terminal, one line per problem
/// either way, or JSON lines with `--json`.
struct Progress {
    json: bool,
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    /// The run's events folded, as the service folds a job's.
    run: RunProgress,
    /// Answers per problem: lines name the sample when there is more than one.
    samples: u32,
}

impl Progress {
    fn new(json: bool, samples: u32) -> Progress {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(500));
            bar
        });
        Progress {
            json,
            bar,
            started: Instant::now(),
            run: RunProgress::default(),
            samples,
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// One event: printed as a JSON line with `--json`, else rendered.
    fn show(&mut self, event: RunEvent) {
        self.run.apply(&event);
        if self.json {
            println!(
                "{}",
                serde_json::to_string(&event).expect("events serialise")
            );
            return;
        }
        match event {
            RunEvent::Model { model, step } => {
                self.line(format!("   {}", model_step(&model, &step)))
            }
            RunEvent::ModelSkipped { model, error } => {
                self.line(format!("   skipping {model}: {error}"));
            }
            RunEvent::VariantComplete { file, .. } => {
                self.line(format!("   {} is already complete", file.display()));
            }
            RunEvent::VariantStarted {
                file,
                model,
                variant,
                done,
                sessions,
                ..
            } => {
                let label = format!("{model} {variant}");
                let resumed = if sessions > 1 {
                    format!(" (resumed: {done} done)")
                } else {
                    String::new()
                };
                self.line(format!("== {label} -> {}{resumed}", file.display()));
                if let Some(bar) = &self.bar {
                    bar.set_prefix(label);
                    bar.set_length(self.run.variant_total as u64);
                    bar.set_position(self.run.variant_done as u64);
                }
            }
            RunEvent::ProblemStarted {
                problem, sample, ..
            } => {
                if let Some(bar) = &self.bar {
                    let sample = if self.samples > 1 {
                        format!(" sample {}", sample + 1)
                    } else {
                        String::new()
                    };
                    bar.set_message(format!("{problem}{sample} (solve, score, refactor)"));
                }
            }
            RunEvent::ProblemDone { outcome, .. } => {
                self.line(problem_line(&outcome, self.samples, self.started.elapsed()));
                if let Some(bar) = &self.bar {
                    bar.set_position(self.run.variant_done as u64);
                    bar.set_message(String::new());
                }
            }
            RunEvent::Warning { message } => self.line(format!("   warning: {message}")),
            RunEvent::RunCancelled => self.line("   cancelled; --resume finishes the run".into()),
            RunEvent::RunStarted { .. }
            | RunEvent::ModelDone { .. }
            | RunEvent::VariantDone { .. }
            | RunEvent::RunFinished { .. }
            | RunEvent::RunFailed { .. } => {}
        }
    }
}

/// `loading coder`, `memory available: 23.1 GiB (was 23.1 GiB before loading)`.
fn model_step(model: &str, step: &ModelStep) -> String {
    let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
    match step {
        ModelStep::NotListed { available } => {
            format!("note: the server reports {available:?}; results are labelled {model:?}")
        }
        ModelStep::Unloading { model } => format!("unloading {model}"),
        ModelStep::MemorySettled {
            mem_available_bytes,
        } => format!("memory available: {:.1} GiB", gib(*mem_available_bytes)),
        ModelStep::Loading => format!("loading {model}"),
        ModelStep::Ready { waited_s } => format!("{model} answers (ready after {waited_s:.1}s)"),
        ModelStep::NoLongerLoaded => format!("{model} is no longer loaded"),
        ModelStep::MemoryBack {
            mem_available_bytes,
            before_bytes,
        } => format!(
            "memory available: {:.1} GiB (was {:.1} GiB before loading)",
            gib(*mem_available_bytes),
            gib(*before_bytes)
        ),
    }
}

/// `[wall 312s] p07 edit_distance  PASS  complexity O(n*m) ok  refactor ok  41.2s  1,234 tok  18.3 tok/s`
fn problem_line(outcome: &ProblemOutcome, samples: u32, wall: Duration) -> String {
    let verdict = if outcome.passed {
        "PASS".to_owned()
    } else {
        format!(
            "FAIL {}",
            outcome.failure_class.map_or("", run::ProblemFailure::name)
        )
    };
    let complexity = match &outcome.complexity {
        Some(c) => format!(
            "  complexity {} {}",
            c.fitted
                .map_or("?".into(), |class| class.notation().to_owned()),
            if c.matched { "ok" } else { "MISMATCH" }
        ),
        None => String::new(),
    };
    let refactor = match outcome.refactor_stable {
        Some(true) => "  refactor ok".to_owned(),
        Some(false) => format!(
            "  refactor FAIL {}",
            outcome
                .refactor_failure_class
                .map_or("", run::ProblemFailure::name)
        ),
        None => String::new(),
    };
    let speed = outcome
        .tokens_per_s
        .map_or(String::new(), |tps| format!("  {tps:.1} tok/s"));
    let (id, name) = outcome
        .problem
        .split_once('_')
        .unwrap_or((&outcome.problem, ""));
    let name = if samples > 1 {
        format!("{name} #{}", outcome.sample + 1)
    } else {
        name.to_owned()
    };
    format!(
        "[wall {}s] {id} {name}  {verdict}{complexity}{refactor}  {:.1}s  {} tok{speed}",
        wall.as_secs(),
        outcome.total_time_s,
        thousands(outcome.tokens),
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
