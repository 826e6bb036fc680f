//! The `producer` command: the Kafka → Hollow producer service and its tools.
//!
//! ```text
//! producer run      [SETTINGS] [--cycles N | --once] [--simulate [--simulate-source DIR] [--rate N] [--titles N] [--seed S]]
//! producer sweep    --source DIR [--prune] [SETTINGS]
//! producer simulate [--source DIR | --generate [--titles N]] [--rate N] [--duration D] [--changes N] [--seed S] [--no-load] [--write-catalog DIR] [SETTINGS]
//! producer completions SHELL | producer man
//! ```
//!
//! Parsed with clap (derive; the settings' flags are made from [`SETTINGS`]).
//!
//! SETTINGS are the service settings (`--bootstrap`, `--store`, `--cycle-interval`, ...; see
//! `producer help`), also read from `PRODUCER_*` variables and a `--config` JSON file.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Args, CommandFactory as _, Parser, Subcommand};
use ops::logging::LogFormat;
use producer::config::{parse_duration, SETTINGS};
use producer::simulate::{simulate, Catalog, SimOptions};
use producer::{Config, Sender, Service};

/// Folds Kafka dataset topics into published Hollow states.
///
/// Every SETTING is also read from a `PRODUCER_<NAME>` variable (`--cycle-interval` from
/// `PRODUCER_CYCLE_INTERVAL`) and from a `--config FILE.json` (its keys are the setting names);
/// flags win over variables, variables over the file. Logging: `PRODUCER_LOG` (or `RUST_LOG`)
/// is a filter such as `debug` or `producer=debug,hollow=info` (default info); lines go to
/// stderr in the --log-format.
#[derive(Debug, Parser)]
#[command(name = "producer", version, about, long_about = None)]
struct Cli {
    /// Log line format on stderr
    #[arg(long, global = true, value_enum, env = "PRODUCER_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Cmd {
    /// The service: a cycle every --cycle-interval, reading the dataset topics and publishing
    /// a version of each dataset that changed.
    Run(RunArgs),
    /// Send the records of <dataset>.jsonl files as upserts (and, with --prune, tombstones for
    /// published records the files lack).
    Sweep(SweepArgs),
    /// Stream simulated catalog changes into the dataset topics.
    Simulate(SimulateArgs),
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
    /// Stop after N cycles [default: run until killed]
    #[arg(long, conflicts_with = "once")]
    cycles: Option<u64>,
    /// Run one cycle and exit (non-zero if it failed)
    #[arg(long)]
    once: bool,
    /// Also stream simulated catalog changes into the topics (from a generated catalog)
    #[arg(long)]
    simulate: bool,
    /// With --simulate: the catalog folder of <dataset>.jsonl files [default: a generated catalog]
    #[arg(long)]
    simulate_source: Option<PathBuf>,
    /// With --simulate: changes per second
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// With --simulate: titles of the generated catalog
    #[arg(long, default_value_t = 100)]
    titles: usize,
    /// With --simulate: PRNG seed
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, Args)]
struct SweepArgs {
    /// Folder of <dataset>.jsonl files
    #[arg(long)]
    source: PathBuf,
    /// Also send tombstones for published records missing from the source
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// Catalog folder of <dataset>.jsonl files
    #[arg(long, conflicts_with = "generate")]
    source: Option<PathBuf>,
    /// Generate a synthetic catalog (the default without --source)
    #[arg(long)]
    generate: bool,
    /// Titles of the generated catalog
    #[arg(long, default_value_t = 100)]
    titles: usize,
    /// Changes per second (0: as fast as possible)
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Stop after this long (e.g. 60s, 500ms, 2m) [default: until killed]
    #[arg(long, value_parser = duration)]
    duration: Option<Duration>,
    /// Stop after this many changes [default: no limit]
    #[arg(long)]
    changes: Option<u64>,
    /// PRNG seed
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Do not send the catalog first
    #[arg(long)]
    no_load: bool,
    /// Also write the catalog as <dataset>.jsonl files into this folder
    #[arg(long)]
    write_catalog: Option<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// A duration flag: `60s`, `1.5s`, `500ms`, `2m`, `1h` or plain seconds.
fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

/// The service settings given as flags, in [`SETTINGS`] order, for [`Config::load`]. Its clap
/// arguments are made from [`SETTINGS`] (one list of names and help texts for flags,
/// `PRODUCER_*` variables and the config file).
#[derive(Debug, Clone, Default)]
struct Settings(Vec<(String, Option<String>)>);

/// Settings that are booleans: `--create-topics` alone means `true`.
const BOOLEAN_SETTINGS: &[&str] = &["create-topics", "count-check-growth"];

impl clap::FromArgMatches for Settings {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut out = Vec::new();
        for (name, _, _) in SETTINGS {
            if let Some(values) = m.get_many::<String>(name) {
                out.extend(values.map(|v| ((*name).to_owned(), Some(v.clone()))));
            }
        }
        Ok(Settings(out))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for Settings {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().fold(cmd, |cmd, (name, _, help)| {
            let env = format!("PRODUCER_{}", name.to_uppercase().replace('-', "_"));
            let mut arg = clap::Arg::new(*name)
                .long(*name)
                .value_name("V")
                .help(format!("{help} [env: {env}]"))
                .help_heading("Settings")
                .action(clap::ArgAction::Append);
            if BOOLEAN_SETTINGS.contains(name) {
                arg = arg.num_args(0..=1).default_missing_value("true");
            }
            cmd.arg(arg)
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

fn load_config(s: &Settings) -> anyhow::Result<Config> {
    Ok(Config::load(&s.0, |k| std::env::var(k).ok())?)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    producer::logging::try_init(log::LevelFilter::Info, cli.log_format)?;
    match cli.command {
        Cmd::Run(a) => cmd_run(&a),
        Cmd::Sweep(a) => cmd_sweep(&a),
        Cmd::Simulate(a) => cmd_simulate(&a),
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "producer",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

fn cmd_run(p: &RunArgs) -> anyhow::Result<()> {
    let config = load_config(&p.settings)?;
    let mut service = Service::new(config).context("starting the producer service")?;
    if service.embedded_broker().is_some() {
        println!("embedded Kafka broker: {}", service.bootstrap_servers());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sim = if p.simulate {
        let config = service.config().clone();
        let schemas = config.load_schemas()?;
        let catalog = match &p.simulate_source {
            Some(dir) => Catalog::load(dir, &schemas)?,
            None => Catalog::generate(&schemas, p.titles, p.seed),
        };
        let opts = SimOptions {
            rate: p.rate,
            seed: p.seed,
            ..SimOptions::default()
        };
        let stop = stop.clone();
        Some(std::thread::spawn(move || -> anyhow::Result<()> {
            let mut sender = Sender::new(
                config.bootstrap.as_deref().unwrap_or_default(),
                &config.kafka,
            )?;
            simulate(&mut sender, &config, &schemas, catalog, &opts, &stop)?;
            Ok(())
        }))
    } else {
        None
    };
    let result = if p.once {
        service.run_cycle().map(|_| ()).context("the cycle failed")
    } else {
        service.run(&stop, p.cycles).context("service loop")
    };
    stop.store(true, Ordering::Release);
    if let Some(t) = sim {
        match t.join() {
            Ok(r) => r.context("simulation")?,
            Err(_) => bail!("the simulation thread panicked"),
        }
    }
    result
}

fn cmd_sweep(p: &SweepArgs) -> anyhow::Result<()> {
    let config = load_config(&p.settings)?;
    let report = producer::sweep::sweep(&config, &p.source, p.prune)?;
    println!(
        "swept {} record(s), {} tombstone(s)",
        report.sent(),
        report.tombstones()
    );
    Ok(())
}

fn cmd_simulate(p: &SimulateArgs) -> anyhow::Result<()> {
    let config = load_config(&p.settings)?;
    let bootstrap = config
        .bootstrap
        .clone()
        .context("simulate needs --bootstrap (the broker of the producer service)")?;
    let schemas = config.load_schemas()?;
    let seed = p.seed;
    let catalog = match &p.source {
        Some(dir) => Catalog::load(dir, &schemas)?,
        None => Catalog::generate(&schemas, p.titles, seed),
    };
    if let Some(dir) = &p.write_catalog {
        catalog.write_jsonl(dir)?;
    }
    let opts = SimOptions {
        rate: p.rate,
        duration: p.duration,
        max_changes: p.changes,
        load: !p.no_load,
        seed,
    };
    let mut sender = Sender::new(&bootstrap, &config.kafka)?;
    let stop = AtomicBool::new(false);
    let (report, _) = simulate(&mut sender, &config, &schemas, catalog, &opts, &stop)?;
    println!(
        "loaded {} record(s), sent {} change(s): {:?}",
        report.loaded, report.changes, report.by_kind
    );
    Ok(())
}
