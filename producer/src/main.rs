//! The `producer` command: the Kafka → Hollow producer service and its tools.
//!
//! ```text
//! producer run      [SETTINGS] [--cycles N | --once] [--simulate [--simulate-source DIR] [--rate N] [--titles N] [--seed S]]
//! producer sweep    --source DIR [--prune] [SETTINGS]
//! producer simulate [--source DIR | --generate [--titles N]] [--rate N] [--duration D] [--changes N] [--seed S] [--no-load] [--write-catalog DIR] [SETTINGS]
//! producer help
//! ```
//!
//! SETTINGS are the service settings (`--bootstrap`, `--store`, `--cycle-interval`, ...; see
//! `producer help`), also read from `PRODUCER_*` variables and a `--config` JSON file.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use producer::config::{parse_duration, takes_value, SETTINGS};
use producer::simulate::{simulate, Catalog, SimOptions};
use producer::{Config, Sender, Service};

const RUN_FLAGS: &[(&str, bool, &str)] = &[
    ("cycles", true, "stop after N cycles"),
    (
        "once",
        false,
        "run one cycle and exit (non-zero if it failed)",
    ),
    (
        "simulate",
        false,
        "also stream simulated catalog changes into the topics (from a generated catalog)",
    ),
    (
        "simulate-source",
        true,
        "with --simulate: the catalog folder of <dataset>.jsonl files",
    ),
    (
        "rate",
        true,
        "with --simulate: changes per second (default 10)",
    ),
    (
        "titles",
        true,
        "with --simulate: titles of the generated catalog (default 100)",
    ),
    ("seed", true, "with --simulate: PRNG seed (default 42)"),
];
const SWEEP_FLAGS: &[(&str, bool, &str)] = &[
    ("source", true, "folder of <dataset>.jsonl files (required)"),
    (
        "prune",
        false,
        "also send tombstones for published records missing from the source",
    ),
];
const SIMULATE_FLAGS: &[(&str, bool, &str)] = &[
    ("source", true, "catalog folder of <dataset>.jsonl files"),
    (
        "generate",
        false,
        "generate a synthetic catalog (the default without --source)",
    ),
    (
        "titles",
        true,
        "titles of the generated catalog (default 100)",
    ),
    (
        "rate",
        true,
        "changes per second (default 10; 0: as fast as possible)",
    ),
    (
        "duration",
        true,
        "stop after this long (e.g. 60s; default: until killed)",
    ),
    ("changes", true, "stop after this many changes"),
    ("seed", true, "PRNG seed (default 42)"),
    ("no-load", false, "do not send the catalog first"),
    (
        "write-catalog",
        true,
        "also write the catalog as <dataset>.jsonl files into this folder",
    ),
];

struct Parsed {
    settings: Vec<(String, Option<String>)>,
    local: BTreeMap<String, Option<String>>,
}

impl Parsed {
    fn has(&self, name: &str) -> bool {
        self.local.contains_key(name)
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.local.get(name).and_then(|v| v.as_deref())
    }
    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: not a number: {v:?}")),
        }
    }
}

fn parse_flags(args: &[String], local: &[(&str, bool, &str)]) -> anyhow::Result<Parsed> {
    let mut out = Parsed {
        settings: Vec::new(),
        local: BTreeMap::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let Some(flag) = arg.strip_prefix("--") else {
            bail!("unexpected argument {arg:?} (flags start with --)")
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag, None),
        };
        let wants = match local.iter().find(|(n, _, _)| *n == name) {
            Some((_, v, _)) => *v,
            None => match takes_value(name) {
                Some(v) => v,
                None => bail!("unknown flag --{name} (see `producer help`)"),
            },
        };
        let value = if inline.is_some() || !wants {
            inline
        } else {
            i += 1;
            Some(
                args.get(i)
                    .cloned()
                    .with_context(|| format!("--{name} needs a value"))?,
            )
        };
        if local.iter().any(|(n, _, _)| *n == name) {
            out.local.insert(name.to_owned(), value);
        } else {
            out.settings.push((name.to_owned(), value));
        }
        i += 1;
    }
    Ok(out)
}

fn load_config(p: &Parsed) -> anyhow::Result<Config> {
    Ok(Config::load(&p.settings, |k| std::env::var(k).ok())?)
}

fn usage() -> String {
    let mut s = String::from(
        "producer — folds Kafka dataset topics into published Hollow states\n\n\
         USAGE:\n  producer run [SETTINGS] [--cycles N | --once] [--simulate ...]\n  producer sweep --source DIR [--prune] [SETTINGS]\n  \
         producer simulate [--source DIR | --generate] [--rate N] [--duration D] [SETTINGS]\n  producer help\n\nSETTINGS (also PRODUCER_<NAME> variables and --config FILE.json):\n",
    );
    let section = |s: &mut String, title: &str, flags: &[(&str, bool, &str)]| {
        s.push_str(title);
        for (n, v, help) in flags {
            let flag = if *v {
                format!("--{n} V")
            } else {
                format!("--{n}")
            };
            s.push_str(&format!("  {flag:<30} {help}\n"));
        }
    };
    section(&mut s, "", SETTINGS);
    section(&mut s, "\nrun:\n", RUN_FLAGS);
    section(&mut s, "\nsweep:\n", SWEEP_FLAGS);
    section(&mut s, "\nsimulate:\n", SIMULATE_FLAGS);
    s.push_str("\nLogging: PRODUCER_LOG=error|warn|info|debug|trace (default info).\n");
    s
}

fn main() -> anyhow::Result<()> {
    producer::logging::init(log::LevelFilter::Info);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprint!("{}", usage());
        std::process::exit(2);
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "run" => cmd_run(&parse_flags(rest, RUN_FLAGS)?),
        "sweep" => cmd_sweep(&parse_flags(rest, SWEEP_FLAGS)?),
        "simulate" => cmd_simulate(&parse_flags(rest, SIMULATE_FLAGS)?),
        "help" | "--help" | "-h" => {
            print!("{}", usage());
            Ok(())
        }
        other => bail!("unknown command {other:?} (run, sweep, simulate, help)"),
    }
}

fn cmd_run(p: &Parsed) -> anyhow::Result<()> {
    let config = load_config(p)?;
    let mut service = Service::new(config).context("starting the producer service")?;
    if service.embedded_broker().is_some() {
        println!("embedded Kafka broker: {}", service.bootstrap_servers());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sim = if p.has("simulate") {
        let config = service.config().clone();
        let schemas = config.load_schemas()?;
        let catalog = match p.get("simulate-source") {
            Some(dir) => Catalog::load(&PathBuf::from(dir), &schemas)?,
            None => Catalog::generate(&schemas, p.num("titles", 100usize)?, p.num("seed", 42u64)?),
        };
        let opts = SimOptions {
            rate: p.num("rate", 10.0)?,
            seed: p.num("seed", 42u64)?,
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
    let result = if p.has("once") {
        service.run_cycle().map(|_| ()).context("the cycle failed")
    } else {
        let cycles = match p.get("cycles") {
            Some(n) => Some(n.parse::<u64>().context("--cycles")?),
            None => None,
        };
        service.run(&stop, cycles).context("service loop")
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

fn cmd_sweep(p: &Parsed) -> anyhow::Result<()> {
    let config = load_config(p)?;
    let source = p.get("source").context("sweep needs --source DIR")?;
    let report = producer::sweep::sweep(&config, &PathBuf::from(source), p.has("prune"))?;
    println!(
        "swept {} record(s), {} tombstone(s)",
        report.sent(),
        report.tombstones()
    );
    Ok(())
}

fn cmd_simulate(p: &Parsed) -> anyhow::Result<()> {
    let config = load_config(p)?;
    let bootstrap = config
        .bootstrap
        .clone()
        .context("simulate needs --bootstrap (the broker of the producer service)")?;
    let schemas = config.load_schemas()?;
    let seed = p.num("seed", 42u64)?;
    let catalog = match p.get("source") {
        Some(dir) if !p.has("generate") => Catalog::load(&PathBuf::from(dir), &schemas)?,
        Some(_) => bail!("--source and --generate exclude each other"),
        None => Catalog::generate(&schemas, p.num("titles", 100usize)?, seed),
    };
    if let Some(dir) = p.get("write-catalog") {
        catalog.write_jsonl(&PathBuf::from(dir))?;
    }
    let duration = p
        .get("duration")
        .map(parse_duration)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
    let max_changes = p
        .get("changes")
        .map(str::parse::<u64>)
        .transpose()
        .context("--changes")?;
    let opts = SimOptions {
        rate: p.num("rate", 10.0)?,
        duration,
        max_changes,
        load: !p.has("no-load"),
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
