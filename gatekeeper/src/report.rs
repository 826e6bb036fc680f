//! The reports of a cycle: what [`Service::run_cycle_at`](crate::Service::run_cycle_at) did
//! ([`CycleReport`]) to each input ([`InputStatus`]), to the output's retention
//! ([`RetentionReport`]), and where its time went ([`Phases`]). Shared by the service, which
//! builds them, and the metrics, which record them; re-exported from [`crate::service`].

use crate::compare::DiffSummary;
use crate::engine::Rebuilt;
use crate::error::Error;
use crate::inputs::Dataset;
use crate::output::PublishReport;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One input in one cycle.
#[derive(Debug, Clone)]
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
    pub error: Option<InputError>,
    /// Deltas or snapshots applied.
    pub steps: usize,
}

/// What went wrong with one input in one cycle ([`InputStatus::error`]). Errors are shared,
/// so that reports stay `Clone`.
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum InputError {
    /// The input's timeline has no announced version.
    #[error("no version announced in {url}")]
    NoVersion {
        /// The input's store.
        url: String,
    },
    /// The input could not move to its newest (or requested) version.
    #[error("{url}: {error}")]
    Refresh {
        /// The input's store.
        url: String,
        /// Why.
        #[source]
        error: Arc<hollow::Error>,
    },
    /// The version reached is not a state the rules can evaluate (a type or field they read
    /// is missing or of another kind, ...).
    #[error("version {version} is not a usable {dataset} state: {error}")]
    Unusable {
        /// The input.
        dataset: Dataset,
        /// The version reached.
        version: u64,
        /// What is wrong with it.
        #[source]
        error: Arc<Error>,
    },
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
    pub skipped: Option<Skip>,
    /// Why the cycle failed.
    pub error: Option<Arc<Error>>,
    /// Phase times.
    pub phases: Phases,
    /// Output retention and input protection, when the cycle got to publish.
    pub retention: Option<RetentionReport>,
}

/// Why a cycle evaluated nothing (not an error: [`CycleReport::skipped`]).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// PREPROD: PROD has published nothing yet.
    ProdEmpty {
        /// PROD's output store.
        url: String,
    },
    /// PREPROD: PROD is still at the version this service followed last.
    ProdUnchanged {
        /// That version.
        version: u64,
    },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::ProdEmpty { url } => write!(f, "PROD ({url}) has published nothing yet"),
            Skip::ProdUnchanged { version } => {
                write!(f, "PROD is still at v{version}: nothing new to follow")
            }
        }
    }
}

/// What output retention and input protection did in one cycle.
#[derive(Debug, Clone, Default)]
pub struct RetentionReport {
    /// Output keys deleted by retention.
    pub deleted: usize,
    /// Input versions released (no retained output uses them any more).
    pub released: usize,
    /// Input versions this cycle uses that were deleted before they could be protected.
    pub unprotected: Vec<(Dataset, u64)>,
    /// What failed (the publish stands).
    pub errors: Vec<RetentionFailure>,
}

/// A step of output retention or input protection that failed ([`RetentionReport::errors`]).
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum RetentionFailure {
    /// Protecting the input versions the cycle uses.
    #[error("protecting the input versions: {0}")]
    Protect(#[source] Arc<Error>),
    /// Recording which input versions a published output uses.
    #[error("recording the inputs of v{version}: {error}")]
    Record {
        /// The output version published.
        version: u64,
        /// Why.
        #[source]
        error: Arc<Error>,
    },
    /// The output timeline's retention.
    #[error("output retention: {0}")]
    Retention(#[source] Arc<hollow::Error>),
    /// Releasing the input versions no retained output uses.
    #[error("releasing input versions: {0}")]
    Release(#[source] Arc<Error>),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_skips_print_as_before_and_stay_typed() {
        let error = Arc::new(Error::Input {
            dataset: "assets",
            detail: "no type Asset".into(),
        });
        let failed = CycleReport {
            cycle: 2,
            error: Some(error.clone()),
            ..CycleReport::default()
        };
        assert_eq!(
            failed.to_string(),
            "cycle 2 now=0 FAILED: input assets: no type Asset (0.000 s)"
        );
        assert!(matches!(
            failed.error.as_deref(),
            Some(Error::Input {
                dataset: "assets",
                ..
            })
        ));
        let skipped = CycleReport {
            cycle: 3,
            skipped: Some(Skip::ProdUnchanged { version: 7 }),
            ..CycleReport::default()
        };
        assert_eq!(
            skipped.to_string(),
            "cycle 3 now=0 skipped: PROD is still at v7: nothing new to follow"
        );
        let record = RetentionFailure::Record { version: 4, error };
        assert_eq!(
            record.to_string(),
            "recording the inputs of v4: input assets: no type Asset"
        );
        let unusable = InputError::Unusable {
            dataset: Dataset::Assets,
            version: 5,
            error: Arc::new(Error::Input {
                dataset: "assets",
                detail: "no type Asset".into(),
            }),
        };
        assert_eq!(
            unusable.to_string(),
            "version 5 is not a usable assets state: input assets: no type Asset"
        );
    }
}
