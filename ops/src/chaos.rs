//! Fault injection for the chaos harness (`benches/benches/chaos_kill.rs`): named points in the
//! services where a process can be made to stop, so that a harness kills it with `kill -9`
//! exactly there rather than only where a random timer happens to strike.
//!
//! `HOLLOW_CHAOS_PAUSE=<phase>[:<n>]` (n ≥ 1, default 1): the n-th time the process reaches
//! [`point`]`(<phase>)`, the calling thread writes `chaos-paused <phase> <n>` to stderr (and to
//! the file `HOLLOW_CHAOS_FILE` names, if set) and sleeps for ever; other threads go on. Unset,
//! [`point`] costs one relaxed atomic load.
//!
//! The phases the services use: `consume` (between Kafka polls), `fold` (between records
//! folded), `upload` (before each blob of a publish), `announce` (before the announcement),
//! `commit` (after the announcement, before the new offsets are taken as read), `loaded`
//! (the gatekeeper's inputs are loaded), `evaluate` (the gatekeeper's index is built, the
//! evaluation not yet done). [`store_phase`] tells the phase of a blob write by its key.

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable naming where to pause: `<phase>[:<n>]`.
pub const PAUSE_ENV: &str = "HOLLOW_CHAOS_PAUSE";
/// The variable naming a file the paused process writes `chaos-paused <phase> <n>` into.
pub const FILE_ENV: &str = "HOLLOW_CHAOS_FILE";

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);
static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
static HITS: AtomicU64 = AtomicU64::new(0);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    phase: String,
    nth: u64,
}

/// Parses `<phase>[:<n>]`.
fn parse(text: &str) -> Result<Plan, String> {
    let (phase, nth) = match text.trim().split_once(':') {
        Some((p, n)) => (
            p,
            n.trim()
                .parse::<u64>()
                .map_err(|_| format!("{PAUSE_ENV}={text:?}: {n:?} is not a count"))?,
        ),
        None => (text.trim(), 1),
    };
    if phase.is_empty() || nth == 0 {
        return Err(format!(
            "{PAUSE_ENV}={text:?}: expected <phase>[:<n>] with n >= 1"
        ));
    }
    Ok(Plan {
        phase: phase.to_string(),
        nth,
    })
}

fn plan() -> Option<&'static Plan> {
    PLAN.get_or_init(|| {
        let text = std::env::var(PAUSE_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())?;
        match parse(&text) {
            Ok(p) => Some(p),
            Err(e) => {
                log::warn!("{e}; fault injection is off");
                None
            }
        }
    })
    .as_ref()
}

/// Whether a pause is configured (wrappers that only exist for fault injection check this).
pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        OFF => false,
        ON => true,
        _ => {
            let on = plan().is_some();
            STATE.store(if on { ON } else { OFF }, Ordering::Relaxed);
            on
        }
    }
}

/// A fault-injection point: pauses the calling thread for ever when this is the n-th time
/// `phase` is reached and `HOLLOW_CHAOS_PAUSE` asks for it (see the module docs).
#[inline]
pub fn point(phase: &str) {
    if STATE.load(Ordering::Relaxed) == OFF {
        return;
    }
    slow_point(phase);
}

#[cold]
fn slow_point(phase: &str) {
    if !enabled() {
        return;
    }
    let Some(plan) = plan() else { return };
    if plan.phase != phase || HITS.fetch_add(1, Ordering::Relaxed) + 1 != plan.nth {
        return;
    }
    let line = format!("chaos-paused {phase} {}\n", plan.nth);
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os(FILE_ENV) {
        // write then rename, so that a reader sees the whole line or nothing
        let tmp = std::path::PathBuf::from(format!("{}.tmp", path.to_string_lossy()));
        if std::fs::write(&tmp, &line).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// The phase of a blob write, by its key in a hollow timeline: `announce` for the
/// announcement, `upload` for a version's blobs (snapshot, delta, reverse delta, meta line),
/// `None` for anything else (the pin).
pub fn store_phase(key: &str) -> Option<&'static str> {
    if key == "announced" {
        Some("announce")
    } else if ["snapshot/", "delta/", "reverse/", "meta/"]
        .iter()
        .any(|p| key.starts_with(p))
    {
        Some("upload")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse() {
        assert_eq!(
            parse("upload"),
            Ok(Plan {
                phase: "upload".into(),
                nth: 1
            })
        );
        assert_eq!(
            parse("fold:17"),
            Ok(Plan {
                phase: "fold".into(),
                nth: 17
            })
        );
        for bad in ["", ":3", "fold:0", "fold:x", "fold:-1"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn blob_keys_map_to_phases() {
        assert_eq!(store_phase("announced"), Some("announce"));
        assert_eq!(store_phase("snapshot/00000000000000000003"), Some("upload"));
        assert_eq!(
            store_phase("delta/00000000000000000002-00000000000000000003"),
            Some("upload")
        );
        assert_eq!(
            store_phase("reverse/00000000000000000003-00000000000000000002"),
            Some("upload")
        );
        assert_eq!(store_phase("meta/00000000000000000003"), Some("upload"));
        assert_eq!(store_phase("pinned"), None);
    }

    #[test]
    fn unset_points_do_nothing() {
        // the test process has no HOLLOW_CHAOS_PAUSE: points return at once
        if std::env::var_os(PAUSE_ENV).is_none() {
            for _ in 0..3 {
                point("upload");
            }
            assert!(!enabled());
        }
    }
}
