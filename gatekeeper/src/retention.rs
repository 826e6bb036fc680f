//! Retention of the output, and protection of the input versions retained outputs use, so
//! that `gatekeeper replay` keeps working for every output version still stored.
//!
//! * Before publishing a state computed from input versions I, the gatekeeper
//!   [protects](hollow::lifecycle::Timeline::protect) each version of I in its input's
//!   timeline under its own holder name ([`holder_for`]: derived from the output URL, so a
//!   PROD and a PREPROD gatekeeper hold their versions independently). The producer's
//!   retention keeps protected versions loadable.
//! * After publishing output version v it writes `refs/<v>` in the output store: the inputs URL
//!   and the seven input versions (what the header says, readable without loading the state).
//! * With output retention configured (`keep-versions`, `keep-days`), after each publish the
//!   output's own retention runs (hollow's, after the publish), then [`Protector::sync`]
//!   releases every input version that no retained output version references and deletes
//!   the `refs/` of deleted versions. An output version without a `refs/` record (published
//!   before this existed) makes the sync release nothing: it cannot tell what that version
//!   needs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use hollow::lifecycle::Timeline;
use hollow::store::BlobStore;

use crate::error::{Error, Result};
use crate::inputs::Dataset;

/// Prefix of the references records in the output store.
pub const REFS_PREFIX: &str = "refs/";

/// Key of the references record of output version `v`.
pub fn refs_key(v: u64) -> String {
    format!("{REFS_PREFIX}{v:020}")
}

/// The protection holder name of the gatekeeper publishing to `out_url`:
/// `gatekeeper-<16 hex digits of a hash of the URL>`.
pub fn holder_for(out_url: &str) -> String {
    // FNV-1a: stable across builds and platforms
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in out_url.trim_end_matches('/').bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("gatekeeper-{h:016x}")
}

/// What an output version was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refs {
    /// Where the inputs' timelines are.
    pub inputs_url: String,
    /// The version of each input, in [`Dataset::ALL`] order.
    pub versions: [u64; 7],
}

impl Refs {
    fn encode(&self) -> String {
        let mut s = format!("inputs {}\n", self.inputs_url);
        for d in Dataset::ALL {
            s.push_str(&format!("{} {}\n", d.name(), self.versions[d.index()]));
        }
        s
    }

    fn parse(v: u64, text: &[u8]) -> Result<Refs> {
        let bad = |detail: String| Error::Header {
            version: v,
            detail: format!("{}: {detail}", refs_key(v)),
        };
        let text = std::str::from_utf8(text).map_err(|_| bad("not UTF-8".into()))?;
        let mut inputs_url = None;
        let mut versions = [None; 7];
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (k, val) = line
                .split_once(' ')
                .ok_or_else(|| bad(format!("bad line {line:?}")))?;
            if k == "inputs" {
                inputs_url = Some(val.to_string());
                continue;
            }
            let d = Dataset::ALL
                .iter()
                .find(|d| d.name() == k)
                .ok_or_else(|| bad(format!("unknown input {k:?}")))?;
            versions[d.index()] = Some(
                val.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("{k}: not a version: {val:?}")))?,
            );
        }
        let mut out = [0; 7];
        for d in Dataset::ALL {
            out[d.index()] =
                versions[d.index()].ok_or_else(|| bad(format!("no version of {d}")))?;
        }
        Ok(Refs {
            inputs_url: inputs_url.ok_or_else(|| bad("no inputs URL".into()))?,
            versions: out,
        })
    }
}

/// What a [`Protector::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Input versions released (dataset, version).
    pub released: Vec<(Dataset, u64)>,
    /// `refs/` records of deleted output versions removed.
    pub refs_removed: usize,
    /// Output versions without a `refs/` record (then nothing is released).
    pub unknown: Vec<u64>,
}

/// Protects the input versions of a gatekeeper's output (see the module docs).
pub struct Protector {
    holder: String,
    out: Arc<dyn BlobStore>,
    /// Input timelines by inputs URL.
    inputs: BTreeMap<String, Vec<Timeline>>,
    /// What this process protected, by inputs URL and input: skip repeated puts.
    protected: BTreeMap<String, [BTreeSet<u64>; 7]>,
}

impl std::fmt::Debug for Protector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protector")
            .field("holder", &self.holder)
            .finish()
    }
}

impl Protector {
    /// The protector of the gatekeeper publishing to `out_url` (its store: `out`).
    pub fn new(out_url: &str, out: Arc<dyn BlobStore>) -> Protector {
        Protector {
            holder: holder_for(out_url),
            out,
            inputs: BTreeMap::new(),
            protected: BTreeMap::new(),
        }
    }

    /// The holder name.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    fn timelines(&mut self, inputs_url: &str) -> Result<&[Timeline]> {
        if !self.inputs.contains_key(inputs_url) {
            let mut tls = Vec::with_capacity(7);
            for d in Dataset::ALL {
                let url = d.store_url(inputs_url);
                let store = hollow::store::open_store(&url).map_err(|source| Error::Store {
                    url: url.clone(),
                    source,
                })?;
                tls.push(Timeline::new(store));
            }
            self.inputs.insert(inputs_url.to_string(), tls);
        }
        Ok(&self.inputs[inputs_url])
    }

    /// Protects the input versions a state about to be published uses. Returns the inputs
    /// whose version was newly protected but can no longer be loaded from the store (the
    /// producer's retention deleted it before the protection landed: replay of this output
    /// will not find it).
    pub fn protect(
        &mut self,
        inputs_url: &str,
        versions: &[u64; 7],
    ) -> Result<Vec<(Dataset, u64)>> {
        let holder = self.holder.clone();
        let tls: Vec<Timeline> = self.timelines(inputs_url)?.to_vec();
        let mut gone = Vec::new();
        let done = self.protected.entry(inputs_url.to_string()).or_default();
        for d in Dataset::ALL {
            let v = versions[d.index()];
            if done[d.index()].contains(&v) {
                continue;
            }
            let tl = &tls[d.index()];
            tl.protect(v, &holder)
                .map_err(|e| Error::hollow(format!("protecting version {v} of input {d}"), e))?;
            done[d.index()].insert(v);
            let idx = tl
                .index()
                .map_err(|e| Error::hollow(format!("listing input {d}"), e))?;
            if idx.plan(None, v, &Default::default()).is_none() {
                gone.push((d, v));
            }
        }
        Ok(gone)
    }

    /// Records what output version `v` was computed from.
    pub fn record(&self, v: u64, refs: &Refs) -> Result<()> {
        self.out
            .put(&refs_key(v), refs.encode().as_bytes())
            .map_err(|source| Error::Store {
                url: self.out.describe(),
                source,
            })
    }

    /// The references of output version `v` (`None`: no record).
    pub fn refs(&self, v: u64) -> Result<Option<Refs>> {
        match self
            .out
            .get_opt(&refs_key(v))
            .map_err(|source| Error::Store {
                url: self.out.describe(),
                source,
            })? {
            None => Ok(None),
            Some(b) => Refs::parse(v, &b).map(Some),
        }
    }

    /// Releases the input versions no retained output version references (see the module
    /// docs), and removes the `refs/` records of deleted output versions.
    pub fn sync(&mut self) -> Result<SyncReport> {
        let store_err = |source| Error::Store {
            url: self.out.describe(),
            source,
        };
        let retained = Timeline::new(self.out.clone())
            .index()
            .map_err(|e| Error::hollow("listing the output", e))?
            .versions();
        let mut report = SyncReport::default();
        let mut desired: BTreeMap<String, [BTreeSet<u64>; 7]> = BTreeMap::new();
        for &v in &retained {
            match self.refs(v)? {
                Some(r) => {
                    let sets = desired.entry(r.inputs_url.clone()).or_default();
                    for d in Dataset::ALL {
                        sets[d.index()].insert(r.versions[d.index()]);
                    }
                }
                None => report.unknown.push(v),
            }
        }
        for k in self.out.list(REFS_PREFIX).map_err(store_err)? {
            let Some(v) = k
                .strip_prefix(REFS_PREFIX)
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if !retained.contains(&v) {
                self.out.delete(&k).map_err(store_err)?;
                report.refs_removed += 1;
            }
        }
        if !report.unknown.is_empty() {
            return Ok(report);
        }
        let holder = self.holder.clone();
        let urls: BTreeSet<String> = desired
            .keys()
            .chain(self.protected.keys())
            .cloned()
            .collect();
        for url in urls {
            let tls: Vec<Timeline> = self.timelines(&url)?.to_vec();
            let want = desired.get(&url).cloned().unwrap_or_default();
            for d in Dataset::ALL {
                let tl = &tls[d.index()];
                let held = tl.protected().map_err(|e| {
                    Error::hollow(format!("listing the protections of input {d}"), e)
                })?;
                for (v, holders) in held {
                    if holders.contains(&holder) && !want[d.index()].contains(&v) {
                        tl.release(v, &holder).map_err(|e| {
                            Error::hollow(format!("releasing version {v} of input {d}"), e)
                        })?;
                        report.released.push((d, v));
                    }
                }
            }
            self.protected.insert(url, want);
        }
        Ok(report)
    }
}
