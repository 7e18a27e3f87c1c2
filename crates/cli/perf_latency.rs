//! `fuelbench perf latency`: llama-server builds started and stopped here,
//! each run on a fresh server, and compared by the rules of
//! `fuelbench_perf::latency::compare`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use fuelbench_llm::{ChatClient, ClientConfig};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SuiteArg {
    /// One tiny prompt
    Base,
    /// A few short prompts in turn, --requests of them or for --duration
    Multi,
    /// One prompt calibrated to --target-tokens through the server's /tokenize
    Long,
    /// One conversation growing by --turn-tokens a turn to --target-tokens,
    /// with the prompt cache on
    MediumTurns,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LatencyArgs {
    /// A llama-server binary; repeat to compare builds
    #[arg(long = "server-bin", required = true)]
    server_bins: Vec<PathBuf>,
    /// The GGUF model every server loads
    #[arg(long)]
    model: PathBuf,
    #[arg(long, value_enum, default_value = "base")]
    suite: SuiteArg,
    /// Server starts per binary; the figures' confidence intervals come
    /// from these
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Measured requests per run
    #[arg(long, default_value_t = 5)]
    requests: usize,
    /// For --suite multi: ask for this many seconds instead of --requests
    #[arg(long)]
    duration: Option<f64>,
    /// Unmeasured requests first, sharing no prefix with the measured ones
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Warm up for this many seconds instead of --warmup requests
    #[arg(long)]
    warmup_duration: Option<f64>,
    #[arg(long, default_value_t = 32)]
    max_tokens: u32,
    /// Prompt tokens for --suite long; where --suite medium-turns stops
    #[arg(long, default_value_t = 1024)]
    target_tokens: usize,
    /// Tokens each --suite medium-turns turn adds
    #[arg(long, default_value_t = 256)]
    turn_tokens: usize,
    #[arg(long, default_value_t = 1)]
    threads: u32,
    #[arg(long, default_value = "results/perf")]
    out: PathBuf,
}

pub(crate) fn latency(
    runtime: &tokio::runtime::Runtime,
    args: &LatencyArgs,
) -> anyhow::Result<ExitCode> {
    use fuelbench_perf::latency::compare::{self, Build, BuildRun, COMPARED};
    use fuelbench_perf::latency::{Estimate, Suite, SuiteConfig};
    if args.repeat == 0 || args.requests == 0 {
        bail!("--repeat and --requests must be at least 1");
    }
    if args.turn_tokens == 0 || args.target_tokens == 0 {
        bail!("--turn-tokens and --target-tokens must be at least 1");
    }
    let seconds = |value: Option<f64>, flag: &str| match value {
        Some(s) if s > 0.0 && s.is_finite() => Ok(Some(Duration::from_secs_f64(s))),
        Some(_) => bail!("{flag} must be a number of seconds above 0"),
        None => Ok(None),
    };
    let (duration, warmup_for) = (
        seconds(args.duration, "--duration")?,
        seconds(args.warmup_duration, "--warmup-duration")?,
    );
    let suite = match args.suite {
        SuiteArg::Base => Suite::Base,
        SuiteArg::Multi => Suite::Multi,
        SuiteArg::Long => Suite::Long,
        SuiteArg::MediumTurns => Suite::MediumTurns,
    };
    if duration.is_some() && suite != Suite::Multi {
        bail!("--duration is for --suite multi; the other suites ask a set number of questions");
    }
    let stamp = fuelbench_runner::now()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect::<String>();
    let folder = args
        .out
        .join("latency")
        .join(format!("{}-{stamp}", suite.name()));
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("failed to create {}", folder.display()))?;
    let suite_config = SuiteConfig {
        suite,
        model: "perf".into(),
        warmup: args.warmup,
        warmup_for,
        requests: args.requests,
        duration,
        max_tokens: args.max_tokens,
        target_tokens: args.target_tokens,
        turn_tokens: args.turn_tokens,
        timeout: Duration::from_secs(600),
    };
    let mut builds = Vec::new();
    for (index, binary) in args.server_bins.iter().enumerate() {
        let bytes = std::fs::read(binary)
            .with_context(|| format!("failed to read {}", binary.display()))?;
        let sha256 = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let version = std::process::Command::new(binary)
            .arg("--version")
            .output()
            .map(|out| {
                let text = String::from_utf8_lossy(&out.stderr).into_owned()
                    + &String::from_utf8_lossy(&out.stdout);
                text.lines()
                    .find(|l| l.contains("version"))
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let mut runs = Vec::new();
        for repeat in 0..args.repeat {
            let log = folder.join(format!("server{index}-run{repeat}.log"));
            let mut config = fuelbench_llm::LocalServerConfig::new(
                binary.clone(),
                args.model.clone(),
                "perf".into(),
                log.clone(),
            );
            config.threads = args.threads;
            // Room for the longest prompt and its reply; a conversation
            // also holds every reply before.
            let turns = (args.target_tokens / args.turn_tokens + 2) as u32;
            let replies = match suite {
                Suite::MediumTurns => turns * args.max_tokens + args.turn_tokens as u32,
                _ => args.max_tokens,
            };
            config.ctx_size = (args.target_tokens as u32 + replies + 512).max(4096);
            eprintln!(
                "perf latency: {} run {} of {}",
                binary.display(),
                repeat + 1,
                args.repeat
            );
            let server = fuelbench_llm::LocalServer::start(&config)
                .with_context(|| format!("failed to start {}", binary.display()))?;
            let (argv, url) = (server.argv().to_vec(), server.base_url().to_owned());
            let mut client_config = ClientConfig::new(&url);
            client_config.retry.attempts = 1;
            let client = ChatClient::new(client_config);
            let pid = Some(server.pid());
            let (props, memory_before, run, memory_after) = runtime.block_on(async {
                let kind = fuelbench_llm::ServerKind::Single;
                let manager = fuelbench_llm::Manager::new(client.clone(), kind, Default::default());
                let props = manager.identity("perf").await.props;
                let before = fuelbench_llm::MemoryReading::now(pid);
                let run = fuelbench_perf::latency::run(&client, &suite_config).await;
                (props, before, run, fuelbench_llm::MemoryReading::now(pid))
            });
            drop(server);
            wait_port_free(&url);
            let run = run.with_context(|| format!("the {} suite failed on {url}", suite.name()))?;
            for warning in &run.warnings {
                eprintln!("perf latency: warning: {warning}");
            }
            runs.push(BuildRun {
                argv,
                log,
                props,
                memory_before,
                memory_after,
                run,
            });
        }
        builds.push(Build {
            binary: binary.clone(),
            sha256,
            version,
            runs,
        });
    }

    let estimates = compare::estimates(&builds);
    let show = |e: &Option<Estimate>| match e {
        Some(Estimate {
            mean,
            half_width: Some(hw),
            ..
        }) => format!("{mean:.2} ± {hw:.2}"),
        Some(Estimate { mean, .. }) => format!("{mean:.2}"),
        None => "-".into(),
    };
    for (build, figures) in builds.iter().zip(&estimates) {
        println!(
            "{} (sha256 {}, {})",
            build.binary.display(),
            build.sha256.get(..12).unwrap_or(&build.sha256),
            build.version
        );
        for ((name, _), estimate) in COMPARED.iter().zip(figures) {
            println!("  {name:<28} {}", show(estimate));
        }
        let summary = &build.runs[0].run.summary;
        println!(
            "  max prompt tokens {}, {} of {} requests took tokens from the cache",
            summary.max_prompt_tokens, summary.cache_hits, summary.requests
        );
        if suite == Suite::MediumTurns {
            // How the conversation grew, in the first run.
            for turn in &build.runs[0].run.requests {
                println!(
                    "  turn {:>2}: prompt {:>5} tokens, {:>5} from the cache, TTFT {:>7.0} ms, latency {:>7.0} ms",
                    turn.index + 1,
                    turn.prompt_tokens.unwrap_or(0),
                    turn.cached(),
                    turn.ttft_s().unwrap_or(f64::NAN) * 1000.0,
                    turn.e2e_s().unwrap_or(f64::NAN) * 1000.0,
                );
            }
        }
    }
    let deltas = compare::deltas(&estimates, args.repeat);
    for (index, figures) in estimates.iter().enumerate().skip(1) {
        println!(
            "\nB = {} against A = {}",
            builds[index].binary.display(),
            builds[0].binary.display()
        );
        println!(
            "  {:<28} {:>16} {:>16} {:>8}  verdict",
            "", "A", "B", "delta"
        );
        for (f, delta) in deltas.iter().filter(|delta| delta.b == index).enumerate() {
            println!(
                "  {:<28} {:>16} {:>16} {:>8}  {}",
                delta.figure,
                show(&estimates[0][f]),
                show(&figures[f]),
                delta.delta,
                delta.verdict
            );
        }
    }
    let report = json!({
        "format": compare::FORMAT,
        "suite": suite.name(),
        "model": args.model,
        "started_at": stamp,
        "builds": builds,
        "estimates": estimates,
        "deltas": deltas,
    });
    let path = folder.join("report.json");
    fuelbench_stdx::write_durably(
        &path,
        (serde_json::to_string_pretty(&report)? + "\n").as_bytes(),
    )
    .with_context(|| format!("failed to write {}", path.display()))?;
    println!("\nraw logs and summary: {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// After a server stops, until nothing listens on its port (ten seconds at
/// most), so the next one starts on a free machine.
fn wait_port_free(url: &str) {
    let address = url.trim_start_matches("http://");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(address).is_ok()
        && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
}
