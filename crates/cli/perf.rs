//! `fuelbench perf`: serving benchmarks. `perf load` puts bounded load on
//! any OpenAI-compatible server and saves the raw log with its summary;
//! `perf stub` serves a stream with known timings, to measure the client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use fuelbench_llm::{ChatClient, ClientConfig};
use fuelbench_perf::stub::StubConfig;
use fuelbench_perf::{LoadHead, LoadPlan, LoadRun, Profile, Rate, Summary};
use fuelbench_runner::store::Published;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum PerfCommand {
    /// Bounded load against a server: TTFT, TPOT, ITL and E2E from a raw
    /// event log, saved under --out
    Load(LoadArgs),
    /// A streaming OpenAI-compatible stub with a set TTFT and token rate,
    /// on 127.0.0.1, for measuring the client
    Stub(StubArgs),
    /// Sequential latency suites on llama-server builds fuelbench starts
    /// and stops itself; two or more --server-bin give an A/B table
    Latency(crate::perf_latency::LatencyArgs),
    /// The saved load runs side by side, by profile: which server, build
    /// and model, and their throughput and latency figures
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    /// Where `perf load` saved its runs
    #[arg(long, default_value = "results/perf")]
    dir: PathBuf,
    /// The runs saved in this results store instead (a folder, or a
    /// bucket's URL), under its `perf/`
    #[arg(long, conflicts_with = "dir")]
    results: Option<String>,
    /// Only runs of this profile (e.g. short, random, long, custom)
    #[arg(long)]
    profile: Option<String>,
    /// Print the rows as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProfileArg {
    /// 1024 in, 1024 out, lengths from [0.5 L, L], 3000 prompts
    Random,
    /// 256 in, 256 out, 3000 prompts
    Short,
    /// 4096 in, 1024 out, 1000 prompts
    Long,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LoadArgs {
    /// The server's root URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    endpoint: String,
    #[arg(long)]
    model: String,
    /// A named shape; --input-len, --output-len and --range-ratio override
    /// it, and the run is then filed as `custom`
    #[arg(long, value_enum, default_value = "short")]
    profile: ProfileArg,
    /// Multiplies the profile's lengths and prompt count, for small machines
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Tokens of each prompt's text, fitted through the server's /tokenize;
    /// words where the server has none (its usage then says how many
    /// tokens they became)
    #[arg(long)]
    input_len: Option<usize>,
    #[arg(long)]
    output_len: Option<u32>,
    /// Lengths drawn from [r·L, L], SGLang's convention
    #[arg(long)]
    range_ratio: Option<f64>,
    #[arg(long)]
    num_prompts: Option<usize>,
    /// inf (all at once), N (Poisson arrivals per second) or constant:N
    #[arg(long, default_value = "inf")]
    request_rate: Rate,
    #[arg(long)]
    max_concurrency: Option<usize>,
    /// The run stops after this many seconds, whatever is left
    #[arg(long, default_value_t = 600)]
    deadline: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Extra request fields as JSON, e.g. '{"ignore_eos": true}'
    #[arg(long)]
    extra_body: Option<String>,
    /// Where runs are saved, as <server>/<profile>-<time>.json
    #[arg(long, default_value = "results/perf")]
    out: PathBuf,
    /// Save the run into this results store instead (a folder, or a
    /// bucket's URL: s3://, az://, gs://), under its `perf/`, where the
    /// leaderboard of the store finds it
    #[arg(long, conflicts_with = "out")]
    results: Option<String>,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct StubArgs {
    #[arg(long, default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    #[arg(long, default_value_t = 20)]
    ttft_ms: u64,
    /// Tokens per second of each stream
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    #[arg(long, default_value_t = 1)]
    tokens_per_chunk: u32,
}

pub(crate) fn run(global: &crate::GlobalArgs, command: &PerfCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    match command {
        PerfCommand::Load(args) => {
            // A store that cannot be opened is said before the load, not
            // after minutes of it.
            let store = args
                .results
                .as_ref()
                .map(|spec| global.store(spec))
                .transpose()?;
            let ca_certificates = global.ca_certificates()?;
            let report = runtime.block_on(load(args, ca_certificates))?;
            save_load(args, store.as_deref(), &report)
        }
        PerfCommand::Stub(args) => runtime.block_on(stub(args)),
        PerfCommand::Latency(args) => crate::perf_latency::latency(&runtime, args),
        PerfCommand::Compare(args) => compare(global, args),
    }
}

/// How one figure is read from a summary.
type Read = fn(&Summary) -> f64;

/// The figures `perf compare` shows, by name.
const COMPARE_COLUMNS: [(&str, Read); 8] = [
    ("out tok/s", |s| s.output_tokens_per_s),
    ("req/s", |s| s.request_throughput),
    ("TTFT p50 ms", |s| s.ttft_ms.median),
    ("TTFT p99 ms", |s| s.ttft_ms.p99),
    ("TPOT p50 ms", |s| s.tpot_ms.median),
    ("ITL p50 ms", |s| s.itl_chunk_gap_ms.median),
    ("E2E p50 ms", |s| s.e2e_ms.median),
    ("E2E p99 ms", |s| s.e2e_ms.p99),
];

fn compare(global: &crate::GlobalArgs, args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let (saved, place) = match &args.results {
        Some(spec) => {
            let store = global.store(spec)?;
            let saved = store
                .load_runs()
                .with_context(|| format!("failed to list the load runs in {spec}"))?;
            (saved, format!("{}/perf", store.location()))
        }
        None => {
            let saved = fuelbench_perf::saved_runs(&args.dir)
                .into_iter()
                .map(|path| {
                    let head = LoadHead::read(&path).map_err(|error| error.to_string());
                    (path.display().to_string(), head)
                })
                .collect();
            (saved, args.dir.display().to_string())
        }
    };
    let mut runs = Vec::new();
    for (path, head) in saved {
        match head {
            Ok(head) => {
                if args.profile.as_ref().is_none_or(|p| *p == head.profile) {
                    runs.push((path, head));
                }
            }
            Err(error) => eprintln!("perf compare: skipped {path}: {error}"),
        }
    }
    if runs.is_empty() {
        bail!(
            "no saved load runs{} under {place}; `fuelbench perf load` saves them there",
            args.profile
                .as_ref()
                .map_or(String::new(), |p| format!(" of profile {p:?}")),
        );
    }
    // By profile, then server, then time: like with like.
    runs.sort_by(|(_, a), (_, b)| {
        (&a.profile, &a.server, &a.model, &a.started_at).cmp(&(
            &b.profile,
            &b.server,
            &b.model,
            &b.started_at,
        ))
    });
    if args.json {
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .map(|(path, head)| {
                json!({
                    "path": path, "server": head.server, "model": head.model,
                    "profile": head.profile, "started_at": head.started_at,
                    "key": head.server_key(), "plan": head.plan, "summary": head.summary,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = vec![
        ["profile", "server", "model", "build", "started", "ok/sent"]
            .iter()
            .map(|h| h.to_string())
            .chain(COMPARE_COLUMNS.iter().map(|(name, _)| name.to_string()))
            .collect::<Vec<String>>(),
    ];
    for (_, head) in &runs {
        let key = head.server_key();
        // The binary's hash says which build, where a build reports no
        // number of its own (`b0-unknown` from a source tarball).
        let build = key
            .binary_sha256
            .as_ref()
            .map(|sha| format!("sha256 {}", sha.get(..12).unwrap_or(sha)))
            .or_else(|| key.build.clone())
            .unwrap_or_else(|| "-".into());
        let summary = &head.summary;
        let mut row = vec![
            head.profile.clone(),
            head.server.clone(),
            head.model.clone(),
            build,
            head.started_at.chars().take(16).collect(),
            format!("{}/{}", summary.succeeded, summary.requests),
        ];
        row.extend(COMPARE_COLUMNS.iter().map(|(_, read)| {
            if summary.succeeded == 0 {
                "-".into()
            } else {
                format!("{:.1}", read(summary))
            }
        }));
        table.push(row);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, width))| {
                if c < 6 {
                    format!("{cell:<width$}")
                } else {
                    format!("{cell:>width$}")
                }
            })
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

async fn load(
    args: &LoadArgs,
    ca_certificates: fuelbench_llm::CaCertificates,
) -> anyhow::Result<fuelbench_perf::LoadReport> {
    let profile = match args.profile {
        ProfileArg::Random => Profile::Random,
        ProfileArg::Short => Profile::Short,
        ProfileArg::Long => Profile::Long,
    };
    if !(args.scale > 0.0 && args.scale.is_finite()) {
        bail!("--scale must be above 0");
    }
    let (input, output, ratio, prompts) = profile.shape(args.scale);
    let custom =
        args.input_len.is_some() || args.output_len.is_some() || args.range_ratio.is_some();
    let extra = match &args.extra_body {
        Some(text) => {
            fuelbench_runner::parse_extra_body(text).context("failed to read --extra-body")?
        }
        None => serde_json::Map::new(),
    };
    let started_at = fuelbench_runner::now();
    let plan = LoadPlan {
        model: args.model.clone(),
        requests: args.num_prompts.unwrap_or(prompts),
        input_len: args.input_len.unwrap_or(input),
        input_unit: fuelbench_perf::InputUnit::Tokens,
        output_len: args.output_len.unwrap_or(output),
        range_ratio: args.range_ratio.unwrap_or(ratio),
        rate: args.request_rate,
        max_concurrency: args.max_concurrency,
        deadline: Duration::from_secs(args.deadline),
        seed: args.seed,
        // The run's start time: a later run of the same seed finds none of
        // these prompts in the server's cache.
        tag: started_at
            .chars()
            .filter(char::is_ascii_digit)
            .take(14)
            .chain(['-'])
            .collect(),
        extra,
    };
    if plan.requests == 0 {
        bail!("--num-prompts must be at least 1");
    }
    let mut config = ClientConfig::new(&args.endpoint);
    config.api_key = std::env::var("FUELBENCH_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    config.ca_certificates = ca_certificates;
    // A load test measures failures; it does not retry them away.
    config.retry.attempts = 1;
    let client = ChatClient::new(config);
    let run = LoadRun {
        plan,
        profile: profile.filed_name(args.scale, custom),
        started_at,
    };
    Ok(fuelbench_perf::measure(&client, run, &mut |note| eprintln!("perf load: {note}")).await)
}

/// Saves a finished load run under `--out`, or into the store `--results`
/// opened, and prints its summary.
fn save_load(
    args: &LoadArgs,
    store: Option<&dyn fuelbench_runner::Store>,
    report: &fuelbench_perf::LoadReport,
) -> anyhow::Result<ExitCode> {
    let saved = match store {
        None => report
            .save(&args.out)
            .with_context(|| format!("failed to save the run under {}", args.out.display()))?
            .display()
            .to_string(),
        // Put straight into the store, at the first place that holds no
        // other run: never over another, and no copy left behind.
        Some(store) => {
            let bytes = report.to_bytes().context("failed to write the run")?;
            let mut places = report.places().map(|place| format!("perf/{place}"));
            loop {
                let relative = places.next().expect("the places never run out");
                let at = format!("{}/{relative}", store.location());
                let put = match store.put_new(&relative, &bytes) {
                    Ok(put) => put,
                    // The run is measured: kept here rather than lost.
                    Err(error) => {
                        let kept = report.save(&args.out).with_context(|| {
                            format!(
                                "failed to save the run as {at}, or under {}",
                                args.out.display()
                            )
                        })?;
                        return Err(anyhow::Error::new(error).context(format!(
                            "failed to save the run as {at}; it is kept in {}",
                            kept.display()
                        )));
                    }
                };
                match put {
                    Published::Created | Published::Same => break at,
                    Published::Differs => continue,
                }
            }
        }
    };
    let summary = &report.head.summary;
    if args.json {
        println!("{}", serde_json::to_string_pretty(summary)?);
    } else {
        print!("{}", render(summary));
        print!("{}", render_memory(&report.head));
        println!("raw log and summary: {saved}");
    }
    if summary.succeeded == 0 {
        eprintln!("perf load: every request failed: {:?}", summary.failures);
        return Ok(ExitCode::from(crate::exit::FELL_SHORT));
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary for a person: each figure under the name of its definition.
fn render(summary: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "requests {} ok, {} failed {:?}; {:.1} s; {:.2} req/s",
        summary.succeeded,
        summary.failed,
        summary.failures,
        summary.duration_s,
        summary.request_throughput
    );
    let _ = writeln!(
        out,
        "tokens: {} in ({:.1}/s), {} out ({:.1}/s, peak {:.1}/s); output counted from {:?}",
        summary.input_tokens,
        summary.input_tokens_per_s,
        summary.output_tokens,
        summary.output_tokens_per_s,
        summary.peak_output_tokens_per_s,
        summary.output_token_sources
    );
    let _ = writeln!(
        out,
        "{:<44} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "ms", "mean", "median", "p90", "p95", "p99", "std"
    );
    let _ = writeln!(out, "(percentiles: {})", fuelbench_perf::PERCENTILE_METHOD);
    for (name, d) in [
        ("TTFT (first reasoning or content)", &summary.ttft_ms),
        ("time to first content", &summary.first_content_ms),
        (
            "TPOT (SGLang, vLLM) = ITL (AIPerf, GuideLLM)",
            &summary.tpot_ms,
        ),
        (
            "ITL (SGLang, vLLM: per-chunk gap)",
            &summary.itl_chunk_gap_ms,
        ),
        ("E2E from send", &summary.e2e_ms),
        ("E2E from scheduled send", &summary.e2e_from_schedule_ms),
        ("queue (waiting for a concurrency slot)", &summary.queue_ms),
        (
            "schedule lag (the generator's own)",
            &summary.schedule_lag_ms,
        ),
    ] {
        let _ = writeln!(
            out,
            "{name:<44} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            d.mean, d.median, d.p90, d.p95, d.p99, d.std
        );
    }
    if summary.role_only_first_chunks > 0 {
        let _ = writeln!(
            out,
            "{} requests began with a role-only chunk; TTFT skipped it",
            summary.role_only_first_chunks
        );
    }
    if summary.cache_hits > 0 {
        let _ = writeln!(
            out,
            "warning: {} requests took text of their prompts from the server's cache ({} cached \
             tokens in all, the chat template's included), which shortens their TTFT",
            summary.cache_hits, summary.cached_prompt_tokens
        );
    }
    out
}

/// Memory before and after, where it was read.
fn render_memory(head: &LoadHead) -> String {
    let (Some(before), Some(after)) = (&head.memory_before, &head.memory_after) else {
        return String::new();
    };
    let mib = |bytes: Option<u64>| {
        bytes.map_or("-".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0))
    };
    let mut out = format!(
        "memory: MemAvailable {} before, {} after",
        mib(before.mem_available_bytes),
        mib(after.mem_available_bytes)
    );
    if before.server_rss_bytes.is_some() || after.server_rss_bytes.is_some() {
        out += &format!(
            "; server RSS {} before, {} after",
            mib(before.server_rss_bytes),
            mib(after.server_rss_bytes)
        );
    }
    if let (Some(b), Some(a)) = (&before.gpu_used_mib, &after.gpu_used_mib) {
        out += &format!("; GPU used {b:?} MiB before, {a:?} MiB after");
    }
    out + "\n"
}

async fn stub(args: &StubArgs) -> anyhow::Result<ExitCode> {
    if !args.addr.ip().is_loopback() {
        bail!("the stub listens on loopback only; give an address such as 127.0.0.1:8090");
    }
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        bail!("--rate must be above 0");
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("failed to listen on {}", args.addr))?;
    println!(
        "perf stub: listening on http://{}",
        listener.local_addr().context("a bound address")?
    );
    let config = StubConfig {
        ttft: Duration::from_millis(args.ttft_ms),
        tokens_per_s: args.rate,
        tokens_per_chunk: args.tokens_per_chunk,
    };
    fuelbench_perf::stub::serve(listener, config, crate::serve::shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}
