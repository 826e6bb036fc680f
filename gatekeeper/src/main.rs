//! The `gatekeeper` command line: one function per subcommand.
//!
//! ```text
//! gatekeeper evaluate --input DIR --now MS --out FILE [--rules baseline|strict|PATH]
//!                     [--threads N] [--repeat N] [--reuse]
//! gatekeeper generate --out DIR [--scale K] [--source CSV] [--countries JSON] [--seed S] [--limit N]
//! ```

#![forbid(unsafe_code)]

use anyhow::{bail, Context, Result};
use gatekeeper::generate::{generate_with, GenOptions};
use gatekeeper::{jsonl, Index, Rules};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

const USAGE: &str = "\
usage:
  gatekeeper evaluate --input DIR --now MS --out FILE [--rules baseline|strict|PATH]
                      [--threads N] [--repeat N] [--reuse]
      Evaluate every title x country of the JSONL catalog in DIR at time MS (ms since the epoch)
      and write the liveness export to FILE. Timings (wall, and CPU where known) go to stderr;
      --repeat N evaluates N times and reports the fastest run, --reuse evaluates into the
      previous run's records (the steady state of a gatekeeper that evaluates every cycle).
  gatekeeper generate --out DIR [--scale K] [--source CSV] [--countries JSON] [--seed S] [--limit N]
      Write the seven datasets as JSONL into DIR, derived from the Netflix titles CSV (countries
      from JSON, default: countries.json beside the CSV) or, without --source, synthesized.
";

/// `--flag value` options of one subcommand; each is taken once, leftovers are errors.
struct Args {
    command: String,
    options: BTreeMap<String, String>,
}

impl Args {
    fn parse(argv: impl Iterator<Item = String>) -> Result<Args> {
        let mut argv = argv.peekable();
        let command = argv.next().unwrap_or_default();
        let mut options = BTreeMap::new();
        while let Some(arg) = argv.next() {
            let Some(name) = arg.strip_prefix("--") else {
                bail!("unexpected argument {arg:?}");
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                // A flag without a value (`--reuse`) reads as "true".
                None => match argv.peek() {
                    Some(next) if !next.starts_with("--") => (name.to_string(), argv.next().unwrap_or_default()),
                    _ => (name.to_string(), "true".to_string()),
                },
            };
            if options.insert(name.clone(), value).is_some() {
                bail!("--{name} given twice");
            }
        }
        Ok(Args { command, options })
    }

    fn take(&mut self, name: &str) -> Option<String> {
        self.options.remove(name)
    }

    fn required(&mut self, name: &str) -> Result<String> {
        self.take(name).with_context(|| format!("{} needs --{name}", self.command))
    }

    fn parsed<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.take(name).map(|v| v.parse().with_context(|| format!("--{name} {v:?}"))).transpose()
    }

    /// Fails on options nobody took; call before doing the work.
    fn finish(self) -> Result<()> {
        if let Some(name) = self.options.keys().next() {
            bail!("{} does not take --{name}", self.command);
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    match args.command.as_str() {
        "evaluate" => evaluate(args),
        "generate" => generate(args),
        "help" | "--help" | "-h" | "" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown subcommand {other:?}\n{USAGE}"),
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
        Phase { wall: Instant::now(), cpu: cpu_seconds() }
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

/// `evaluate`: load, index, evaluate, write; timings to stderr.
fn evaluate(mut args: Args) -> Result<()> {
    let input = PathBuf::from(args.required("input")?);
    let now: i64 = args.parsed("now")?.context("evaluate needs --now")?;
    let out = PathBuf::from(args.required("out")?);
    let rules_spec = args.take("rules").unwrap_or_else(|| "baseline".into());
    let threads: Option<usize> = args.parsed("threads")?;
    let repeat: usize = args.parsed("repeat")?.unwrap_or(1);
    let reuse: bool = args.parsed("reuse")?.unwrap_or(false);
    args.finish()?;
    let rules = Rules::resolve(&rules_spec)?;

    let t = Phase::start();
    let catalog = jsonl::load_catalog(&input).with_context(|| format!("loading catalog {}", input.display()))?;
    eprintln!("load      {}  {} records from {}", t.report(), catalog.len(), input.display());

    let t = Phase::start();
    let index = Index::build(&catalog);
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

    // --repeat N evaluates N times (for timing) and reports the fastest run.
    let mut records = Vec::new();
    let mut best = String::new();
    let mut best_wall = f64::INFINITY;
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    for _ in 0..repeat.max(1) {
        if !reuse {
            drop(std::mem::take(&mut records));
        }
        let t = Phase::start();
        if reuse {
            index.evaluate_into(now, &rules, threads, &mut records);
        } else {
            records = index.evaluate_with_threads(now, &rules, threads);
        }
        if seconds(t.wall) < best_wall {
            best_wall = seconds(t.wall);
            best = t.report();
        }
    }
    let live = records.iter().filter(|r| r.live).count();
    eprintln!("evaluate  {}  {} pairs, {} live, rules {}", best, records.len(), live, rules.version);

    let t = Phase::start();
    jsonl::write_liveness_file(&out, &records)?;
    eprintln!("write     {}  {}", t.report(), out.display());
    // Freeing millions of small strings one by one takes longer than the process exit that
    // returns all of it at once.
    std::mem::forget((records, index, catalog));
    Ok(())
}

/// `generate`: write a catalog.
fn generate(mut args: Args) -> Result<()> {
    let out = PathBuf::from(args.required("out")?);
    let options = GenOptions {
        scale: args.parsed("scale")?.unwrap_or(1),
        source: args.take("source").map(PathBuf::from),
        countries: args.take("countries").map(PathBuf::from),
        seed: args.parsed("seed")?.unwrap_or(7),
        limit: args.parsed("limit")?,
    };
    args.finish()?;
    if options.scale == 0 {
        bail!("--scale must be at least 1");
    }
    let t = Instant::now();
    let summary = generate_with(&out, &options)?;
    let total: u64 = summary.counts.values().sum();
    eprintln!("generate  {:8.3} s  {total} records into {} (titles: {}, countries: {})", seconds(t), out.display(), summary.titles_from, summary.countries_from);
    for (dataset, n) in &summary.counts {
        eprintln!("  {dataset:<14} {n:>10}");
    }
    Ok(())
}
