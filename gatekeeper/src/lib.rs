//! gatekeeper: decides, for every title and every country, whether the title may go live there
//! (the liveness rules of `shared/GATEKEEPER.md` §3), from the seven upstream datasets of §1.
//!
//! # Overview
//!
//! | module | what |
//! |---|---|
//! | [`model`] | the seven dataset records and the [`Liveness`] output record, with serde |
//! | [`jsonl`] | a dataset directory of `<dataset>.jsonl` files into a [`Catalog`]; the liveness export |
//! | [`rules`] | versioned [`Rules`]: `baseline` (§3 exactly) and `strict`, built in or from a file |
//! | [`engine`] | the fast evaluator: [`Index::build`] (phase 1) then [`Index::evaluate`] (phase 2) |
//! | [`generate`] | writes a realistic catalog from the Netflix titles CSV, or synthetic titles |
//! | [`prng`] | the generator's deterministic SplitMix64 |
//!
//! # Example
//!
//! ```
//! use gatekeeper::{generate, jsonl, Index, Rules};
//!
//! let dir = std::env::temp_dir().join(format!("gatekeeper-doc-{}", std::process::id()));
//! let options = generate::GenOptions { limit: Some(20), ..Default::default() };
//! generate::generate_with(&dir, &options)?; // synthetic titles, built-in countries
//! let catalog = jsonl::load_catalog(&dir)?;
//!
//! let index = Index::build(&catalog);
//! let records = index.evaluate(generate::BASE_NOW, &Rules::builtin("baseline")?);
//! assert_eq!(records.len(), catalog.titles.len() * catalog.countries.len());
//!
//! let mut export = Vec::new();
//! jsonl::write_liveness(&mut export, &records)?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Cost
//!
//! Scale-1 catalog (8,807 titles × 239 countries = 2.1M pairs, 51k videos, 1.6M assets, 5.0M
//! records, 448 MB of JSON), release build, 2 cores shared with other builds (CPU seconds are
//! the steadier figure):
//!
//! | phase | wall | CPU |
//! |---|---|---|
//! | load ([`load_catalog`]) | 1.8–2.0 s | 3.0–3.9 s |
//! | index ([`Index::build`]) | 0.25 s | 0.33–0.39 s |
//! | evaluate, fresh ([`Index::evaluate`]) | 0.6 s | 0.65–1.05 s |
//! | evaluate, in place ([`Index::evaluate_into`]) | 0.12 s | 0.23–0.24 s |
//! | write ([`jsonl::write_liveness_file`], 315 MB) | 0.65 s | 0.5 s |
//!
//! A fresh evaluation is dominated by allocating its output: one `String` per pair for the
//! country and a `Vec<String>` of reasons (about 7M small allocations, 400 MB of new pages).
//! Evaluating in place into the previous cycle's records reuses all of them.
//!
//! # Limits
//!
//! The evaluators assume unique primary keys in each dataset (the loader enforces "a later
//! record with the same key replaces an earlier one"; [`Catalog::dedup`] does it for catalogs
//! built in memory). Language bitsets are as wide as the number of distinct languages named by
//! `countries`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
mod fxhash;
pub mod generate;
pub mod jsonl;
pub mod model;
pub mod prng;
pub mod rules;
mod synth;

pub use engine::{Index, IndexStats};
pub use jsonl::{load_catalog, Catalog, JsonlError};
pub use model::Liveness;
pub use rules::{Rules, RulesError};
