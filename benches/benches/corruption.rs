//! The corruption campaign, long form (issue 10): `cargo bench -p benches --bench corruption
//! -- --mutations 10000 --seed 1` (defaults: 1,000 mutations, seed 1; or the environment
//! variables `CORRUPTION_MUTATIONS` and `CORRUPTION_SEED`). Prints the tally of mutation kind
//! × outcome, the load average and the elapsed time, and exits non-zero on any panic or
//! wrong state. `--keep-store DIR` also copies the intact store there (the fuzz seeds come
//! from it). The campaign itself is `hollow/tests/corruption_campaign/mod.rs`, shared with
//! the short test in `hollow/tests/corruption.rs`.

use std::time::Instant;

#[path = "../../hollow/tests/corruption_campaign/mod.rs"]
mod corruption_campaign;

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let mut mutations: u64 = std::env::var("CORRUPTION_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut seed: u64 = std::env::var("CORRUPTION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut keep: Option<std::path::PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mutations" => {
                mutations = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--mutations N")
            }
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed S"),
            "--keep-store" => keep = args.next().map(Into::into),
            _ => {} // cargo bench passes --bench
        }
    }
    if let Some(dir) = keep {
        let f = corruption_campaign::Fixture::build(seed, 8);
        for (k, b) in &f.files {
            let p = dir.join(k);
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("create dir");
            std::fs::write(&p, b).expect("write");
        }
        println!(
            "intact store of {} versions written to {}",
            f.versions.len(),
            dir.display()
        );
        return;
    }
    let load_before = loadavg();
    let started = Instant::now();
    let panics = corruption_campaign::quiet_panics();
    println!("corruption campaign: {mutations} mutations, seed {seed}, load average {load_before}");
    let tally = corruption_campaign::run(seed, mutations, |n, t| {
        eprintln!(
            "  {n} mutations, {} panics, {} wrong so far ({:.1} s)",
            t.panics,
            t.wrong,
            started.elapsed().as_secs_f64()
        )
    });
    let _ = std::panic::take_hook();
    println!("{}", tally.table());
    println!(
        "elapsed {:.1} s; load average before {load_before}, after {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    for f in &tally.failures {
        println!("FAILURE {f}");
    }
    for p in panics.lock().map(|v| v.clone()).unwrap_or_default() {
        println!("panic message: {p}");
    }
    if tally.panics > 0 || tally.wrong > 0 {
        std::process::exit(1);
    }
}
