//! `demo`: the whole pipeline on this machine, on embedded defaults (see the crate docs).

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ops::logging::LogFormat;

/// The whole pipeline on this machine: a catalog (from ../shared/data/netflix_titles.csv when
/// present, else synthesized), simulators feeding an embedded Kafka, the producer publishing
/// the seven datasets to DIR/inputs every cycle, a PROD gatekeeper (baseline rules) and a
/// PREPROD one (strict rules, following PROD); then the PREPROD-vs-PROD diff summary and a
/// replay of every PROD version.
///
/// Logging: `GATEKEEPER_LOG` (or `RUST_LOG`) is a filter (default warn: the demo prints its
/// own account); lines go to stderr in the --log-format.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about, long_about = None)]
struct Args {
    /// Titles of the catalog [default: 400]
    #[arg(long)]
    limit: Option<usize>,
    /// Scale factor of the generated catalog [default: 1]
    #[arg(long)]
    scale: Option<u32>,
    /// Producer/gatekeeper cycles to run [default: 6]
    #[arg(long)]
    cycles: Option<u32>,
    /// Time between cycles (e.g. 1s, 500ms) [default: 1s]
    #[arg(long, value_parser = ops::parse_duration)]
    interval: Option<Duration>,
    /// Simulated changes per cycle [default: 40]
    #[arg(long)]
    changes: Option<usize>,
    /// PRNG seed of the catalog and the simulators
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder [default: demo-out]
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The Netflix titles CSV [default: ../shared/data/netflix_titles.csv when present]
    #[arg(long)]
    source: Option<PathBuf>,
    /// Serve PROD's Prometheus metrics on 127.0.0.1:PORT
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Log line format on stderr
    #[arg(long, value_enum, env = "GATEKEEPER_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = gatekeeper::logging::try_init(log::LevelFilter::Warn, args.log_format) {
        eprintln!("demo: {e}");
        return ExitCode::from(2);
    }
    let mut o = demo::DemoOptions::default();
    if let Some(d) = args.dir {
        o.dir = d;
    }
    o.limit = args.limit.unwrap_or(o.limit);
    o.scale = args.scale.unwrap_or(o.scale);
    o.cycles = args.cycles.unwrap_or(o.cycles);
    o.changes = args.changes.unwrap_or(o.changes);
    o.seed = args.seed.unwrap_or(o.seed);
    o.interval = args.interval.unwrap_or(o.interval);
    o.source = args.source;
    if let Some(p) = args.metrics_port {
        o.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], p)));
    }
    match demo::run(&o) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}
