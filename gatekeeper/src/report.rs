//! The reports of a cycle: what [`Service::run_cycle_at`](crate::Service::run_cycle_at) did
//! ([`CycleReport`]) to each input ([`InputStatus`]), to the output's retention
//! ([`RetentionReport`]), and where its time went ([`Phases`]). Shared by the service, which
//! builds them, and the metrics, which record them; re-exported from [`crate::service`].

use crate::compare::DiffSummary;
use crate::engine::Rebuilt;
use crate::inputs::Dataset;
use crate::output::PublishReport;
use std::fmt;
use std::time::Duration;

/// One input in one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputStatus {
    /// The dataset.
    pub dataset: Dataset,
    /// The version evaluated (the last good one).
    pub version: Option<u64>,
    /// Whether it differs from the previous cycle's.
    pub changed: bool,
    /// Whether the input could not move to its newest (or requested) version and the cycle
    /// used its last good one.
    pub on_last_good: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// Deltas or snapshots applied.
    pub steps: usize,
}

/// Where a cycle's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Refreshing the inputs (and PROD's output when following).
    pub refresh: Duration,
    /// Updating the index.
    pub index: Duration,
    /// Evaluating.
    pub evaluate: Duration,
    /// Diffing against the previous output, building the changes and publishing.
    pub publish: Duration,
    /// Reading PROD's output and diffing against it (PREPROD).
    pub prod_diff: Duration,
    /// The whole cycle.
    pub total: Duration,
}

/// What one cycle did.
#[derive(Debug, Clone, Default)]
pub struct CycleReport {
    /// The cycle number in this process (1-based).
    pub cycle: u64,
    /// The evaluation time.
    pub now: i64,
    /// The inputs.
    pub inputs: Vec<InputStatus>,
    /// Index parts rebuilt.
    pub rebuilt: Option<Rebuilt>,
    /// Pairs evaluated.
    pub pairs: usize,
    /// Live pairs.
    pub live: usize,
    /// The publish, when the cycle got that far.
    pub publish: Option<PublishReport>,
    /// The PROD version followed.
    pub follows: Option<u64>,
    /// This output against PROD's (PREPROD).
    pub prod_diff: Option<DiffSummary>,
    /// Why nothing was evaluated (not an error).
    pub skipped: Option<String>,
    /// Why the cycle failed.
    pub error: Option<String>,
    /// Phase times.
    pub phases: Phases,
    /// Output retention and input protection, when the cycle got to publish.
    pub retention: Option<RetentionReport>,
}

/// What output retention and input protection did in one cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Output keys deleted by retention.
    pub deleted: usize,
    /// Input versions released (no retained output uses them any more).
    pub released: usize,
    /// Input versions this cycle uses that were deleted before they could be protected.
    pub unprotected: Vec<(Dataset, u64)>,
    /// What failed (the publish stands).
    pub errors: Vec<String>,
}

impl CycleReport {
    /// The inputs on their last good version.
    pub fn inputs_on_last_good(&self) -> Vec<Dataset> {
        self.inputs
            .iter()
            .filter(|i| i.on_last_good)
            .map(|i| i.dataset)
            .collect()
    }

    /// The version this cycle published, if any.
    pub fn published(&self) -> Option<u64> {
        self.publish.as_ref().and_then(|p| p.published)
    }
}

impl fmt::Display for CycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cycle {} now={}", self.cycle, self.now)?;
        if let Some(e) = &self.error {
            return write!(f, " FAILED: {e} ({:.3} s)", self.phases.total.as_secs_f64());
        }
        if let Some(s) = &self.skipped {
            return write!(f, " skipped: {s}");
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let p = &self.phases;
        write!(f, ": {} pairs, {} live", self.pairs, self.live)?;
        if let Some(pr) = &self.publish {
            match pr.published {
                Some(v) => write!(
                    f,
                    ", published v{v} (+{} upserts, {} deletes)",
                    pr.upserts, pr.deletes
                )?,
                None => write!(
                    f,
                    ", unchanged (output stays v{})",
                    pr.version.map_or_else(|| "-".into(), |v| v.to_string())
                )?,
            }
        }
        if let Some(v) = self.follows {
            write!(f, ", follows PROD v{v}")?;
        }
        if let Some(d) = &self.prod_diff {
            write!(
                f,
                ", {} pairs differ from PROD",
                d.changed + d.added + d.removed
            )?;
        }
        let last_good = self.inputs_on_last_good();
        if !last_good.is_empty() {
            let names: Vec<&str> = last_good.iter().map(|d| d.name()).collect();
            write!(f, ", ON LAST GOOD: {}", names.join(","))?;
        }
        write!(
            f,
            " | refresh {:.1} ms, index {:.1} ms ({}), evaluate {:.1} ms, publish {:.1} ms",
            ms(p.refresh),
            ms(p.index),
            self.rebuilt
                .map_or_else(|| "-".to_string(), |r| r.to_string()),
            ms(p.evaluate),
            ms(p.publish)
        )?;
        if self.prod_diff.is_some() {
            write!(f, ", prod diff {:.1} ms", ms(p.prod_diff))?;
        }
        write!(f, ", total {:.1} ms", ms(p.total))
    }
}
