//! Operator tools over published outputs: [`Replayer`] (re-evaluate an output version from the
//! input versions, `now` and rules its header records, and compare), [`diff_outputs`] (PROD
//! against PREPROD), and [`history`] (the versions where one title's liveness changed).

use crate::compare::DiffSummary;
use crate::engine::{Evaluator, Index};
use crate::error::{Error, Result};
use crate::inputs::{Dataset, InputStates};
use crate::model::Liveness;
use crate::output::{load_version, read_table, LivenessRecord, OutputHeader};
use crate::rules::Rules;
use crate::table::{LivenessTable, TableDiff};
use hollow::lifecycle::{Consumer, ConsumerConfig};
use hollow::{MemoryMode, ReadState};
use std::collections::BTreeMap;
use std::sync::Arc;

fn consumer(url: &str) -> Result<Consumer> {
    let store = hollow::store::open_store(url).map_err(|source| Error::Store {
        url: url.to_string(),
        source,
    })?;
    Ok(Consumer::new(
        store,
        ConsumerConfig {
            mode: MemoryMode::Heap,
            cache_dir: None,
        },
    ))
}

/// The versions of the timeline at `url` that were published and are still stored,
/// ascending: those with a metadata line (written once every blob of a version is stored)
/// and a blob that reaches them. Version numbers have gaps: a publish attempt that failed
/// or was killed burns its number, and blobs it had stored already (a snapshot, a delta)
/// name a version that was never published and that no path may reach.
pub fn stored_versions(url: &str) -> Result<Vec<u64>> {
    let c = consumer(url)?;
    let listing = |e: hollow::Error| Error::hollow(format!("listing {url}"), e);
    let idx = c.index().map_err(listing)?;
    let published = c.timeline().published().map_err(listing)?;
    Ok(idx
        .versions()
        .into_iter()
        .filter(|v| published.contains(v))
        .collect())
}

/// The rules whose version is `version`: a built-in one, or `given` (a `--rules` file) when
/// its version matches.
pub fn rules_for_version(version: &str, given: Option<&Rules>) -> Result<Rules> {
    if let Some(r) = given {
        if r.version == version {
            return Ok(r.clone());
        }
    }
    for name in Rules::builtin_names() {
        let r = Rules::builtin(name)?;
        if r.version == version {
            return Ok(r);
        }
    }
    Err(Error::Rules(crate::rules::RulesError::Invalid {
        origin: version.to_string(),
        message: match given {
            Some(r) => format!(
                "no built-in rules have version {version:?} and the given rules are {:?}",
                r.version
            ),
            None => format!(
                "no built-in rules have version {version:?}; pass the rules file with --rules"
            ),
        },
    }))
}

/// The outcome of replaying one output version.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// The output version.
    pub version: u64,
    /// What it records.
    pub header: OutputHeader,
    /// What it holds.
    pub stored: LivenessTable,
    /// What re-evaluating gives.
    pub replayed: LivenessTable,
    /// Stored (older) against replayed (newer).
    pub diff: TableDiff,
}

impl ReplayReport {
    /// Whether the replay gives exactly the stored records.
    pub fn identical(&self) -> bool {
        self.diff.is_empty()
    }

    /// The differences by reason.
    pub fn summary(&self) -> DiffSummary {
        DiffSummary::new(&self.stored, &self.replayed, &self.diff)
    }
}

/// Replays output versions (see the module docs). Inputs move between replays by deltas and
/// the index is updated part by part, so replaying every version in order is cheap.
#[derive(Debug)]
pub struct Replayer {
    out_url: String,
    out: Consumer,
    inputs_url: Option<String>,
    rules: Option<Rules>,
    feeds: Option<(String, Vec<Consumer>)>,
    evaluator: Evaluator,
    index: Option<(Index, [Option<u64>; 7])>,
}

impl Replayer {
    /// A replayer of the output at `out_url`; `inputs_url` overrides the inputs URL the
    /// versions record, `rules` is a rules file to use when no built-in rules have the
    /// recorded version.
    pub fn new(out_url: &str, inputs_url: Option<&str>, rules: Option<Rules>) -> Result<Replayer> {
        Ok(Replayer {
            out: consumer(out_url)?,
            out_url: out_url.to_string(),
            inputs_url: inputs_url.map(str::to_string),
            rules,
            feeds: None,
            evaluator: Evaluator::new(),
            index: None,
        })
    }

    /// Replays output version `version`.
    pub fn replay(&mut self, version: u64) -> Result<ReplayReport> {
        self.out.update_to(version).map_err(|e| {
            Error::hollow(format!("loading version {version} of {}", self.out_url), e)
        })?;
        let state = self
            .out
            .current()
            .map(|l| l.state)
            .ok_or_else(|| Error::NoVersion {
                url: self.out_url.clone(),
                detail: format!("version {version}"),
            })?;
        let header = OutputHeader::parse(version, state.header())?;
        let rules = rules_for_version(&header.rules, self.rules.as_ref())?;
        let versions = header.input_versions(version)?;
        let url = self
            .inputs_url
            .clone()
            .or_else(|| header.inputs_url.clone())
            .ok_or_else(|| Error::Header {
                version,
                detail: "no inputs URL recorded; pass --inputs".into(),
            })?;
        if self.feeds.as_ref().is_none_or(|(u, _)| *u != url) {
            let feeds = Dataset::ALL
                .iter()
                .map(|d| consumer(&d.store_url(&url)))
                .collect::<Result<Vec<_>>>()?;
            self.feeds = Some((url.clone(), feeds));
            self.index = None;
        }
        let Some((_, feeds)) = &self.feeds else {
            return Err(Error::NoVersion {
                url,
                detail: "no inputs".into(),
            });
        };
        let mut states = Vec::with_capacity(7);
        for (d, c) in Dataset::ALL.iter().zip(feeds) {
            let v = versions[d.index()];
            c.update_to(v).map_err(|e| {
                Error::hollow(
                    format!(
                        "input {d}: travelling to version {v} of {}",
                        d.store_url(&url)
                    ),
                    e,
                )
            })?;
            let state = c
                .current()
                .map(|l| l.state)
                .ok_or_else(|| Error::NoVersion {
                    url: d.store_url(&url),
                    detail: format!("version {v}"),
                })?;
            states.push(state);
        }
        let states: [Arc<ReadState>; 7] = states.try_into().map_err(|_| Error::Input {
            dataset: "all",
            detail: "fewer than 7 inputs".into(),
        })?;
        let built_from = versions.map(Some);
        let inputs = InputStates {
            states,
            versions: built_from,
        };
        let index = match self.index.take() {
            Some((index, from)) if from == built_from => index,
            Some((index, from)) => {
                index
                    .update(&inputs, std::array::from_fn(|i| from[i] != built_from[i]))?
                    .0
            }
            None => Index::build(&inputs)?,
        };
        let replayed = self.evaluator.evaluate(&index, header.now, &rules);
        self.index = Some((index, built_from));
        let stored = read_table(&state, self.evaluator.reasons_mut())?;
        let diff = stored.diff(&replayed);
        Ok(ReplayReport {
            version,
            header,
            stored,
            replayed,
            diff,
        })
    }
}

/// PROD's output against PREPROD's.
#[derive(Debug, Clone)]
pub struct OutputDiff {
    /// The PROD version compared.
    pub prod_version: u64,
    /// The PREPROD version compared.
    pub preprod_version: u64,
    /// PROD's records.
    pub prod: LivenessTable,
    /// PREPROD's records.
    pub preprod: LivenessTable,
    /// PROD (older) against PREPROD (newer).
    pub diff: TableDiff,
    /// By reason.
    pub summary: DiffSummary,
}

/// Compares PREPROD version `preprod_version` (default: its latest) with PROD version
/// `prod_version` (default: the one that PREPROD version follows, else PROD's latest).
pub fn diff_outputs(
    prod_url: &str,
    preprod_url: &str,
    prod_version: Option<u64>,
    preprod_version: Option<u64>,
) -> Result<OutputDiff> {
    let (preprod_version, preprod_state) = load_version(preprod_url, preprod_version)?;
    let followed = OutputHeader::parse(preprod_version, preprod_state.header())
        .ok()
        .and_then(|h| h.follows);
    let (prod_version, prod_state) = load_version(prod_url, prod_version.or(followed))?;
    let mut reasons = Arc::new(crate::reasons::ReasonTable::new());
    let prod = read_table(&prod_state, &mut reasons)?;
    let preprod = read_table(&preprod_state, &mut reasons)?;
    let diff = prod.diff(&preprod);
    let summary = DiffSummary::new(&prod, &preprod, &diff);
    Ok(OutputDiff {
        prod_version,
        preprod_version,
        prod,
        preprod,
        diff,
        summary,
    })
}

/// The records of one title in one output version where they changed.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The output version.
    pub version: u64,
    /// The `now` it records.
    pub now: Option<i64>,
    /// Per country: the record before (in the previous version listed) and after; `None`
    /// when absent.
    pub changes: Vec<(String, Option<Liveness>, Option<Liveness>)>,
}

/// Each stored version of the output at `url` where title `title_id`'s liveness (in
/// `country`, or in any country) changed, the first stored version included. Versions that
/// cannot be loaded are skipped with a warning.
pub fn history(url: &str, title_id: i64, country: Option<&str>) -> Result<Vec<HistoryEntry>> {
    let c = consumer(url)?;
    let mut out = Vec::new();
    let mut previous: BTreeMap<String, Liveness> = BTreeMap::new();
    for v in stored_versions(url)? {
        if let Err(e) = c.update_to(v) {
            log::warn!("history: version {v} of {url} cannot be loaded: {e}");
            continue;
        }
        let Some(loaded) = c.current() else { continue };
        let records = title_records(&loaded.state, title_id, country)?;
        let mut changes = Vec::new();
        for (k, after) in &records {
            match previous.get(k) {
                Some(before) if before == after => {}
                before => changes.push((k.clone(), before.cloned(), Some(after.clone()))),
            }
        }
        for (k, before) in &previous {
            if !records.contains_key(k) {
                changes.push((k.clone(), Some(before.clone()), None));
            }
        }
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        if !changes.is_empty() || out.is_empty() {
            let now = loaded
                .state
                .header()
                .get(crate::output::NOW_KEY)
                .and_then(|n| n.parse().ok());
            out.push(HistoryEntry {
                version: v,
                now,
                changes,
            });
        }
        previous = records;
    }
    Ok(out)
}

/// The records of one title (in one country, or all) in an output state, by country.
fn title_records(
    state: &ReadState,
    title_id: i64,
    country: Option<&str>,
) -> Result<BTreeMap<String, Liveness>> {
    let records = state
        .typed::<LivenessRecord>()
        .map_err(|x| Error::hollow("reading a liveness state", x))?;
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let mut out = BTreeMap::new();
    for r in records.iter() {
        if r.title_id() != title_id || country.is_some_and(|c| c != r.country()) {
            continue;
        }
        out.insert(
            r.country().to_string(),
            Liveness {
                title_id,
                country: r.country().to_string(),
                live: r.live(),
                reasons: r.reasons().map(str::to_string).collect(),
                playable_videos: count(r.playable_videos()),
                total_videos: count(r.total_videos()),
                next_window_start: r.next_window_start(),
            },
        );
    }
    Ok(out)
}
