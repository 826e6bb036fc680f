//! The reports of a cycle: what [`Service::run_cycle`](crate::Service::run_cycle) did to
//! each dataset ([`DatasetReport`], [`DatasetOutcome`]) and to the dead-letter topic
//! ([`DeadLetterReport`]), gathered in a [`CycleReport`]. Shared by the service, which builds
//! them, and the metrics, which count them; re-exported from [`crate::service`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hollow::lifecycle::ValidationFailure;

use crate::error::Error;
use crate::message::RejectReason;
use crate::offsets::Offsets;

/// What one cycle did to one dataset. Errors are kept typed (shared, so that reports stay
/// `Clone`).
#[derive(Debug, Clone)]
pub enum DatasetOutcome {
    /// Nothing changed (or nothing was read): no version published.
    Unchanged,
    /// A new version was published.
    Published {
        /// The new version.
        version: u64,
        /// Records added (a modification counts as one removed and one added).
        added: u64,
        /// Records removed.
        removed: u64,
        /// Bytes of the delta.
        delta_bytes: u64,
        /// Bytes of the reverse delta.
        reverse_delta_bytes: u64,
        /// Bytes of the snapshot, if one was written.
        snapshot_bytes: Option<u64>,
        /// Time spent after the fold: computing the changes, encoding and storing the blobs.
        publish: Duration,
        /// Keys retention deleted after the publish.
        retention_deleted: u64,
        /// Why retention failed after the publish (the publish stands).
        retention_error: Option<Arc<hollow::Error>>,
    },
    /// A validator refused the new state: nothing published, the messages are read again.
    ValidationFailed {
        /// The validator that refused it (`record_count_change`, `primary_key_unique`).
        validator: String,
        /// Why.
        reason: ValidationFailure,
    },
    /// The cycle failed: nothing published, the messages are read again.
    Failed {
        /// What went wrong.
        error: Arc<Error>,
    },
}

/// Outcomes are equal when they are structurally equal: errors have no `PartialEq`, so the
/// comparison is of the debug forms, which show every field of every variant.
impl PartialEq for DatasetOutcome {
    fn eq(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            && format!("{self:?}") == format!("{other:?}")
    }
}

/// What one cycle did to one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetReport {
    /// The dataset.
    pub dataset: String,
    /// Messages read.
    pub read: u64,
    /// Messages that changed the state.
    pub applied: u64,
    /// Valid messages that changed nothing (identical content, delete of a missing key).
    pub noop: u64,
    /// Rejected messages by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// The outcome.
    pub outcome: DatasetOutcome,
    /// The last announced version after the cycle.
    pub version: Option<u64>,
    /// The next offsets to read after the cycle.
    pub offsets: Offsets,
    /// Per partition: the end offset at the cycle start minus the next offset after the cycle
    /// (0 when the cycle caught up).
    pub lag: BTreeMap<i32, i64>,
    /// Time spent on the dataset.
    pub elapsed: Duration,
}

impl DatasetReport {
    /// Total rejected messages.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// The version published by this cycle, if any.
    pub fn published(&self) -> Option<u64> {
        match self.outcome {
            DatasetOutcome::Published { version, .. } => Some(version),
            _ => None,
        }
    }
}

/// What one cycle did.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleReport {
    /// The cycle number in this process (1-based).
    pub cycle: u64,
    /// One report per dataset, in dataset order.
    pub datasets: Vec<DatasetReport>,
    /// Time the cycle took.
    pub elapsed: Duration,
    /// The dead-letter topic's traffic seen by this cycle (`None`: no dead-letter topic).
    pub dead_letter: Option<DeadLetterReport>,
}

/// Dead-letter traffic of one cycle: what it queued, and the delivery results that arrived
/// since the previous cycle (of messages of this or earlier cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadLetterReport {
    /// Messages queued by this cycle.
    pub queued: u64,
    /// Messages dropped by this cycle because the local queue was full.
    pub dropped: u64,
    /// Deliveries acknowledged since the previous cycle.
    pub delivered: u64,
    /// Deliveries that failed since the previous cycle.
    pub failed: u64,
    /// Messages queued and not yet delivered or failed.
    pub in_flight: u64,
}

impl CycleReport {
    /// The report of one dataset.
    pub fn dataset(&self, name: &str) -> Option<&DatasetReport> {
        self.datasets.iter().find(|d| d.dataset == name)
    }

    /// The versions published by this cycle, by dataset.
    pub fn published(&self) -> BTreeMap<String, u64> {
        self.datasets
            .iter()
            .filter_map(|d| d.published().map(|v| (d.dataset.clone(), v)))
            .collect()
    }

    /// Messages read over all datasets.
    pub fn read(&self) -> u64 {
        self.datasets.iter().map(|d| d.read).sum()
    }

    /// Messages applied over all datasets.
    pub fn applied(&self) -> u64 {
        self.datasets.iter().map(|d| d.applied).sum()
    }

    /// No-op messages over all datasets.
    pub fn noop(&self) -> u64 {
        self.datasets.iter().map(|d| d.noop).sum()
    }

    /// Rejected messages by reason, over all datasets.
    pub fn rejected(&self) -> BTreeMap<RejectReason, u64> {
        let mut out = BTreeMap::new();
        for d in &self.datasets {
            for (r, n) in &d.rejected {
                *out.entry(*r).or_default() += n;
            }
        }
        out
    }

    /// Sum of the consumer lag over all partitions after the cycle.
    pub fn lag(&self) -> i64 {
        self.datasets.iter().flat_map(|d| d.lag.values()).sum()
    }
}

impl fmt::Display for DatasetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: read={} applied={} noop={} rejected={}",
            self.dataset,
            self.read,
            self.applied,
            self.noop,
            self.rejected_total()
        )?;
        if !self.rejected.is_empty() {
            let parts: Vec<String> = self
                .rejected
                .iter()
                .map(|(r, n)| format!("{r}={n}"))
                .collect();
            write!(f, " ({})", parts.join(","))?;
        }
        match &self.outcome {
            DatasetOutcome::Unchanged => write!(f, " unchanged")?,
            DatasetOutcome::Published {
                version,
                added,
                removed,
                delta_bytes,
                snapshot_bytes,
                publish,
                ..
            } => {
                write!(
                    f,
                    " published v{version} (+{added} -{removed} records, delta {delta_bytes} B"
                )?;
                if let Some(s) = snapshot_bytes {
                    write!(f, ", snapshot {s} B")?;
                }
                write!(f, ", publish {:.1} ms)", publish.as_secs_f64() * 1e3)?;
            }
            DatasetOutcome::ValidationFailed { validator, reason } => {
                write!(f, " VALIDATION FAILED ({validator}): {reason}")?
            }
            DatasetOutcome::Failed { error } => write!(f, " FAILED: {error}")?,
        }
        write!(
            f,
            " lag={} in {:.1} ms",
            self.lag.values().sum::<i64>(),
            self.elapsed.as_secs_f64() * 1e3
        )
    }
}

impl fmt::Display for CycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let published: Vec<String> = self
            .published()
            .iter()
            .map(|(d, v)| format!("{d}=v{v}"))
            .collect();
        let rejected = self.rejected().values().sum::<u64>();
        write!(
            f,
            "cycle {}: read={} applied={} noop={} rejected={} published=[{}] lag={} in {:.1} ms",
            self.cycle,
            self.read(),
            self.applied(),
            self.noop(),
            rejected,
            published.join(" "),
            self.lag(),
            self.elapsed.as_secs_f64() * 1e3
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hollow::error::{Corruption, DataError};

    fn report(outcome: DatasetOutcome) -> DatasetReport {
        DatasetReport {
            dataset: "titles".into(),
            read: 3,
            applied: 0,
            noop: 0,
            rejected: BTreeMap::new(),
            outcome,
            version: Some(1),
            offsets: Offsets::default(),
            lag: BTreeMap::new(),
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn a_failed_outcome_keeps_the_typed_error_and_prints_it() {
        let corrupt =
            hollow::Error::Data(DataError::Corrupt(Corruption::UnknownFlags { flags: 4 }));
        let failed = DatasetOutcome::Failed {
            error: Arc::new(Error::hollow("titles", corrupt)),
        };
        let DatasetOutcome::Failed { error } = &failed else {
            unreachable!()
        };
        assert!(
            matches!(
                &**error,
                Error::Hollow {
                    dataset,
                    source: hollow::Error::Data(DataError::Corrupt(Corruption::UnknownFlags { flags: 4 })),
                } if dataset == "titles"
            ),
            "{error:?}"
        );
        let text = report(failed.clone()).to_string();
        assert!(
            text.contains(" FAILED: dataset titles: corrupt blob: unknown blob flags 0x4 lag=0"),
            "{text}"
        );
        assert_eq!(failed, failed.clone());
        let other = DatasetOutcome::Failed {
            error: Arc::new(Error::Config("x".into())),
        };
        assert_ne!(failed, other);
    }

    #[test]
    fn a_refusal_keeps_the_validators_typed_reason() {
        let reason = ValidationFailure::CountChange {
            type_name: "Title".into(),
            previous: 20,
            new: 5,
            max_ratio: 0.5,
        };
        let text = report(DatasetOutcome::ValidationFailed {
            validator: "record_count_change".into(),
            reason,
        })
        .to_string();
        assert!(
            text.contains(" VALIDATION FAILED (record_count_change): record count of Title would change from 20 to 5 (more than 50% of the previous count) lag=0"),
            "{text}"
        );
    }
}
