//! The `gatekeeper` command line: one function per subcommand.
//!
//! Parsed with clap (derive); see `gatekeeper --help` (or `gatekeeper help SUBCOMMAND`) for the subcommands: `run`, `replay`,
//! `diff`, `history`, `export`, `publish-inputs`, `evaluate`, `generate`.

#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory as _, Parser, Subcommand};
use gatekeeper::compare::describe_change;
use gatekeeper::generate::{generate_with, GenOptions};
use gatekeeper::tools::{diff_outputs, history as title_history, stored_versions, Replayer};
use gatekeeper::{Evaluator, Index, InputStates, Rules, Service, ServiceConfig};
use ops::logging::LogFormat;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Video Gatekeeper: liveness rules over the seven upstream datasets as hollow states.
///
/// Logging: `GATEKEEPER_LOG` (or `RUST_LOG`) is a filter such as `debug` or
/// `gatekeeper=debug,hollow=info` (default info); lines go to stderr in the
/// --log-format.
#[derive(Debug, Parser)]
#[command(name = "gatekeeper", version, about, long_about = None)]
struct Cli {
    /// Log line format on stderr
    #[arg(long, global = true, value_enum, env = "GATEKEEPER_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// The service: each cycle refreshes the seven input timelines under URL/<dataset> (folder
    /// or s3://bucket/prefix), evaluates at the cycle's start and publishes the liveness
    /// dataset incrementally to --out. With --follow (PREPROD), each cycle evaluates the input
    /// versions and `now` of PROD's latest output with its own rules and diffs against it.
    Run(RunArgs),
    /// Re-evaluate output version V from the input versions, `now` and rules its header
    /// records; exit 1 (with the differences) unless the result is identical.
    Replay(ReplayArgs),
    /// The (title, country) pairs whose liveness differs between two outputs, and a summary by
    /// reason. Default: PREPROD's latest version against the PROD version it follows.
    Diff(DiffArgs),
    /// Each output version where one title's liveness changed.
    History(HistoryArgs),
    /// Write an output version as the JSON Lines export.
    Export(ExportArgs),
    /// Publish the seven <dataset>.jsonl files of DIR into the timelines URL/<dataset> (one
    /// hollow producer cycle each).
    PublishInputs(PublishInputsArgs),
    /// Load the JSONL catalog in DIR into hollow states, evaluate every title x country at
    /// time MS with the service's engine, and write the liveness export; timings to stderr.
    Evaluate(EvaluateArgs),
    /// Write the seven datasets as JSONL into DIR, derived from the Netflix titles CSV or,
    /// without --source, synthesized.
    Generate(GenerateArgs),
    /// Print a shell completion script for this command to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print this command's man page (roff) to stdout.
    Man,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Input timelines URL (folder or s3://bucket/prefix); each dataset under URL/<dataset>
    #[arg(long, required_unless_present = "follow")]
    inputs: Option<String>,
    /// PREPROD: follow the PROD output at this URL (its input versions and `now`)
    #[arg(long)]
    follow: Option<String>,
    /// Output timeline URL
    #[arg(long)]
    out: String,
    /// Time between cycle starts (e.g. 60s, 1.5s, 500ms, 2m) [default: 60s]
    #[arg(long, value_parser = duration)]
    interval: Option<Duration>,
    /// Rules: baseline, strict or a rules file
    #[arg(long, default_value = "baseline")]
    rules: String,
    /// Serve Prometheus metrics and /healthz on 127.0.0.1:PORT (0: any free port)
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Stop after N cycles [default: run until killed]
    #[arg(long)]
    cycles: Option<u64>,
    /// Evaluation threads [default: the available cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Write a snapshot every N output versions
    #[arg(long)]
    snapshot_every: Option<u64>,
    /// Retention: output versions kept [default: 0, all]; the input versions a kept output
    /// used are protected in the input stores
    #[arg(long)]
    keep_versions: Option<usize>,
    /// Retention: also keep output versions published within this many days [default: off]
    #[arg(long, value_parser = days)]
    keep_days: Option<f64>,
    /// /healthz answers 503 naming a store (inputs, output, prod) whose operations have failed
    /// for longer than this [default: one interval]
    #[arg(long, value_parser = duration)]
    health_grace: Option<Duration>,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// Output timeline URL
    #[arg(long)]
    out: String,
    /// The output version to replay, or `all`
    #[arg(long)]
    version: String,
    /// Input timelines URL [default: the one the output's header records]
    #[arg(long)]
    inputs: Option<String>,
    /// Rules file [default: the rules the output's header records]
    #[arg(long)]
    rules: Option<String>,
    /// Differences shown per version
    #[arg(long, default_value_t = 20)]
    show: usize,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// PROD output URL
    #[arg(long)]
    prod: String,
    /// PREPROD output URL
    #[arg(long)]
    preprod: String,
    /// PROD version [default: the one PREPROD's version follows]
    #[arg(long)]
    prod_version: Option<u64>,
    /// PREPROD version [default: its latest]
    #[arg(long)]
    preprod_version: Option<u64>,
    /// Differing pairs shown
    #[arg(long, default_value_t = 50)]
    show: usize,
    /// Reasons shown in the summary by reason
    #[arg(long, default_value_t = 40)]
    reasons: usize,
}

#[derive(Debug, Args)]
struct HistoryArgs {
    /// Output timeline URL
    #[arg(long)]
    out: String,
    /// Title id
    #[arg(long)]
    title: i64,
    /// Only this country [default: every country]
    #[arg(long)]
    country: Option<String>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Output timeline URL
    #[arg(long)]
    out: String,
    /// Output version [default: the latest]
    #[arg(long)]
    version: Option<u64>,
    /// The JSON Lines file to write
    #[arg(long)]
    file: PathBuf,
}

#[derive(Debug, Args)]
struct PublishInputsArgs {
    /// Folder of the seven <dataset>.jsonl files
    #[arg(long)]
    input: PathBuf,
    /// Input timelines URL; each dataset under URL/<dataset>
    #[arg(long)]
    out: String,
    /// Delete records missing from the files
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    full: bool,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// Folder of the seven <dataset>.jsonl files
    #[arg(long)]
    input: PathBuf,
    /// Evaluation time, ms since the epoch
    #[arg(long, allow_hyphen_values = true)]
    now: i64,
    /// The liveness export (JSON Lines) to write
    #[arg(long)]
    out: PathBuf,
    /// Rules: baseline, strict or a rules file
    #[arg(long, default_value = "baseline")]
    rules: String,
    /// Evaluation threads [default: the available cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Evaluate N times and report the fastest run
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Folder to write the seven <dataset>.jsonl files into
    #[arg(long)]
    out: PathBuf,
    /// Scale factor (at least 1)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    scale: u32,
    /// The Netflix titles CSV [default: none, synthesized titles]
    #[arg(long)]
    source: Option<PathBuf>,
    /// Countries JSON [default: countries.json beside the CSV]
    #[arg(long)]
    countries: Option<PathBuf>,
    /// PRNG seed
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Only the first N titles [default: all]
    #[arg(long)]
    limit: Option<usize>,
}

/// A duration flag: `60s`, `1.5s`, `500ms`, `2m`, `1h` or plain seconds.
fn duration(text: &str) -> std::result::Result<Duration, String> {
    ops::parse_duration(text)
}

/// A number of days: finite, not negative.
fn days(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(d) if d.is_finite() && d >= 0.0 => Ok(d),
        _ => Err(format!("{text:?}: expected a non-negative number of days")),
    }
}

fn main() -> Result<()> {
    match run_command() {
        // `gatekeeper diff ... | head`: the reader went away, which is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        r => r,
    }
}

/// Writes a line to stdout; a closed pipe is an `io::Error` (not a panic, as with `println!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

fn run_command() -> Result<()> {
    let cli = Cli::parse();
    gatekeeper::logging::try_init(log::LevelFilter::Info, cli.log_format)?;
    match cli.command {
        Command::Evaluate(a) => evaluate(a),
        Command::Generate(a) => generate(a),
        Command::Run(a) => run(a),
        Command::Replay(a) => replay(a),
        Command::Diff(a) => diff(a),
        Command::History(a) => history(a),
        Command::Export(a) => export(a),
        Command::PublishInputs(a) => publish_inputs(a),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "gatekeeper",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// CPU seconds (user + system) this process has used so far, where `/proc/self/stat` tells
/// (Linux; 10 ms resolution). Wall times on a shared machine mislead; CPU times less so.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Times one phase: wall seconds, and CPU seconds when known.
struct Phase {
    wall: Instant,
    cpu: Option<f64>,
}

impl Phase {
    fn start() -> Phase {
        Phase {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    /// `"  1.234 s (cpu  2.10 s)"`.
    fn report(&self) -> String {
        let wall = seconds(self.wall);
        match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => format!("{wall:8.3} s (cpu {:6.2} s)", b - a),
            _ => format!("{wall:8.3} s"),
        }
    }
}

/// `evaluate`: load the JSONL files into hollow states, index, evaluate, write; timings to
/// stderr.
fn evaluate(args: EvaluateArgs) -> Result<()> {
    let EvaluateArgs {
        input,
        now,
        out,
        rules,
        threads,
        repeat,
    } = args;
    let rules = Rules::resolve(&rules)?;

    let t = Phase::start();
    let inputs = InputStates::from_jsonl_dir(&input)
        .with_context(|| format!("loading {} into hollow states", input.display()))?;
    eprintln!(
        "load      {}  {} records from {} into hollow states",
        t.report(),
        inputs.record_count(),
        input.display()
    );

    let t = Phase::start();
    let index = Index::build(&inputs)?;
    let stats = index.stats();
    eprintln!(
        "index     {}  {} titles, {} countries in {} profiles, {} videos in {} signatures, {} windows, {} languages",
        t.report(),
        stats.titles,
        stats.countries,
        stats.profiles,
        stats.videos,
        stats.signatures,
        stats.windows,
        stats.languages
    );

    // --repeat N evaluates N times (for timing) and reports the fastest run; every run is a
    // fresh evaluation (new rows, new reason table).
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut table = None;
    let mut best = String::new();
    let mut best_wall = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        drop(table.take());
        let t = Phase::start();
        table = Some(Evaluator::with_threads(threads).evaluate(&index, now, &rules));
        if seconds(t.wall) < best_wall {
            best_wall = seconds(t.wall);
            best = t.report();
        }
    }
    let table = table.context("no evaluation ran")?;
    eprintln!(
        "evaluate  {}  {} pairs, {} live, {} reason sets, rules {}",
        best,
        table.len(),
        table.live_count(),
        table.reasons().len(),
        rules.version
    );

    let t = Phase::start();
    table
        .write_jsonl_file(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("write     {}  {}", t.report(), out.display());
    Ok(())
}

/// `generate`: write a catalog.
fn generate(args: GenerateArgs) -> Result<()> {
    let out = args.out;
    let options = GenOptions {
        scale: args.scale,
        source: args.source,
        countries: args.countries,
        seed: args.seed,
        limit: args.limit,
    };
    let t = Instant::now();
    let summary = generate_with(&out, &options)?;
    let total: u64 = summary.counts.values().sum();
    eprintln!(
        "generate  {:8.3} s  {total} records into {} (titles: {}, countries: {})",
        seconds(t),
        out.display(),
        summary.titles_from,
        summary.countries_from
    );
    for (dataset, n) in &summary.counts {
        eprintln!("  {dataset:<14} {n:>10}");
    }
    Ok(())
}

/// `run`: the service loop.
fn run(args: RunArgs) -> Result<()> {
    let mut config = ServiceConfig::new(args.inputs.as_deref(), &args.out);
    config.follow = args.follow;
    config.rules = Rules::resolve(&args.rules)?;
    if let Some(i) = args.interval {
        config.interval = i;
    }
    config.cycles = args.cycles;
    if let Some(p) = args.metrics_port {
        config.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], p)));
    }
    if let Some(t) = args.threads {
        config.threads = t;
    }
    if let Some(n) = args.snapshot_every {
        config.snapshot_every = n;
    }
    if let Some(n) = args.keep_versions {
        config.keep_versions = n;
    }
    config.keep_days = args.keep_days;
    config.health_grace = args.health_grace.or(config.health_grace);
    let mut service = Service::new(config)?;
    if let Some(addr) = service.metrics_addr() {
        log::info!("metrics on http://{addr}/metrics");
    }
    let stop = AtomicBool::new(false);
    service.run(&stop);
    Ok(())
}

/// `replay`: re-evaluate output versions and compare.
fn replay(args: ReplayArgs) -> Result<()> {
    let ReplayArgs {
        out,
        version,
        inputs,
        rules,
        show,
    } = args;
    let rules = rules.map(|p| Rules::resolve(&p)).transpose()?;
    let versions = if version == "all" {
        stored_versions(&out)?
    } else {
        vec![version
            .parse()
            .with_context(|| format!("--version {version:?}"))?]
    };
    let mut replayer = Replayer::new(&out, inputs.as_deref(), rules)?;
    let mut differing = 0;
    for v in versions {
        let t = Instant::now();
        let r = replayer.replay(v)?;
        if r.identical() {
            out!(
                "version {v}: identical ({} pairs, now {}, rules {}) in {:.3} s",
                r.stored.len(),
                r.header.now,
                r.header.rules,
                seconds(t)
            );
        } else {
            differing += 1;
            out!(
                "version {v}: DIFFERENT: {} of {} pairs (now {}, rules {})",
                r.diff.len(),
                r.stored.len(),
                r.header.now,
                r.header.rules
            );
            for &c in r.diff.changed.iter().take(show) {
                out!("  {}", describe_change(&r.stored, &r.replayed, c));
            }
            out!("{}", r.summary().to_string().trim_end());
        }
    }
    if differing > 0 {
        bail!("{differing} version(s) differ from their replay");
    }
    Ok(())
}

/// `diff`: PROD against PREPROD.
fn diff(args: DiffArgs) -> Result<()> {
    let DiffArgs {
        prod,
        preprod,
        prod_version,
        preprod_version,
        show,
        reasons,
    } = args;
    let d = diff_outputs(&prod, &preprod, prod_version, preprod_version)?;
    out!(
        "PROD {prod} v{} vs PREPROD {preprod} v{}: {} of {} pairs differ",
        d.prod_version,
        d.preprod_version,
        d.diff.len(),
        d.prod.len().max(d.preprod.len())
    );
    for &c in d.diff.changed.iter().take(show) {
        out!("  {}", describe_change(&d.prod, &d.preprod, c));
    }
    if d.diff.len() > show {
        out!("  ... and {} more (--show N)", d.diff.len() - show);
    }
    out!("summary: {}", d.summary.to_string().trim_end());
    if !d.summary.gained.is_empty() || !d.summary.lost.is_empty() {
        out!("by reason:");
        out!("{}", d.summary.by_reason(reasons).trim_end());
    }
    Ok(())
}

/// `history`: the versions where a title's liveness changed.
fn history(args: HistoryArgs) -> Result<()> {
    let HistoryArgs {
        out,
        title,
        country,
    } = args;
    let entries = title_history(&out, title, country.as_deref())?;
    if entries.is_empty() {
        out!("no stored version of {out}");
    }
    for e in entries {
        let now = e.now.map_or_else(|| "-".into(), |n| n.to_string());
        if e.changes.is_empty() {
            out!("v{} (now {now}): no record of title {title}", e.version);
        }
        for (country, before, after) in e.changes {
            let side = |r: &Option<gatekeeper::Liveness>| {
                r.as_ref().map_or_else(
                    || "absent".to_string(),
                    |r| format!("live={} {:?}", r.live, r.reasons),
                )
            };
            out!(
                "v{} (now {now}) {title}|{country}: {} -> {}",
                e.version,
                side(&before),
                side(&after)
            );
        }
    }
    Ok(())
}

/// `export`: an output version as JSON Lines.
fn export(args: ExportArgs) -> Result<()> {
    let ExportArgs { out, version, file } = args;
    let (v, state) = gatekeeper::output::load_version(&out, version)?;
    let mut reasons = std::sync::Arc::new(gatekeeper::ReasonTable::new());
    let table = gatekeeper::output::read_table(&state, &mut reasons)?;
    table
        .write_jsonl_file(&file)
        .with_context(|| format!("writing {}", file.display()))?;
    eprintln!("version {v}: {} records to {}", table.len(), file.display());
    Ok(())
}

/// `publish-inputs`: a JSONL directory into seven timelines.
fn publish_inputs(args: PublishInputsArgs) -> Result<()> {
    let PublishInputsArgs { input, out, full } = args;
    let t = Instant::now();
    for p in gatekeeper::inputs::publish_jsonl_dir(&input, &out, full)? {
        let state = if p.published {
            "published"
        } else {
            "unchanged"
        };
        out!(
            "{:<14} {:>9} records  {state:<9}  v{}  {}",
            p.dataset.name(),
            p.records,
            p.version.map_or_else(|| "-".into(), |v| v.to_string()),
            p.url
        );
    }
    eprintln!("publish-inputs {:.3} s", seconds(t));
    Ok(())
}
