//! Versioned liveness rules: the parameters that turn GATEKEEPER.md §3 into a variant.
//!
//! A rule set is a small JSON document (no TOML dependency) with a `version` string, recorded in
//! every output state, and parameters. With every parameter at its default the rules are §3
//! exactly. Two rule sets ship inside the binary (`rules/*.json`, embedded with `include_str!`):
//!
//! | name | version | what it does |
//! |---|---|---|
//! | `baseline` | `baseline-1` | §3 exactly |
//! | `strict` | `strict-1` | all three parameters below switched on |
//!
//! The parameters and the reason codes they add:
//!
//! | parameter | default | effect |
//! |---|---|---|
//! | `subtitle_in_primary_language` | `false` | video-level `MISSING_SUBTITLE:<L>`: L = `C.primary_language` differs from `T.original_language` and not `ready(V, "SUBTITLE", L)` (a dub alone no longer suffices for the primary language) |
//! | `captions_in_every_country` | `false` | `MISSING_CAPTIONS` is checked in every country, as if every `C.requires_captions` were true |
//! | `min_playable_show_videos` | `1` | title-level `TOO_FEW_PLAYABLE_VIDEOS`: when it is above 1, T is a `SHOW` and `playable_videos` is below it |
//!
//! Unknown fields are rejected, so a misspelt parameter cannot silently fall back to its
//! default.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The built-in rule files: (name, JSON text).
const BUILTIN: [(&str, &str); 2] = [
    ("baseline", include_str!("../rules/baseline.json")),
    ("strict", include_str!("../rules/strict.json")),
];

/// What went wrong loading rules.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// No built-in rule set has this name.
    #[error("no built-in rules named {name:?} (known: baseline, strict)")]
    UnknownBuiltin {
        /// The name asked for.
        name: String,
    },
    /// The rules file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON is not a rule set.
    #[error("rules {origin}: {source}")]
    Parse {
        /// The built-in name or the file path.
        origin: String,
        /// The parser's account.
        #[source]
        source: serde_json::Error,
    },
    /// The rule set parses but a value is out of range.
    #[error("rules {origin}: {message}")]
    Invalid {
        /// The built-in name or the file path.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// A versioned rule set (see the module docs for the parameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The version recorded in every output state, e.g. `baseline-1`.
    pub version: String,
    /// A human account of what the rules do.
    #[serde(default)]
    pub description: String,
    /// Require a ready `SUBTITLE` in the country's primary language when it differs from the
    /// title's original language (`MISSING_SUBTITLE:<L>`).
    #[serde(default)]
    pub subtitle_in_primary_language: bool,
    /// Check closed captions in every country, not only where `requires_captions` is set.
    #[serde(default)]
    pub captions_in_every_country: bool,
    /// The fewest playable videos a `SHOW` needs to be live (`TOO_FEW_PLAYABLE_VIDEOS`);
    /// 1 is §3.
    #[serde(default = "one")]
    pub min_playable_show_videos: u32,
}

fn one() -> u32 {
    1
}

impl Default for Rules {
    /// §3 exactly (the same as `Rules::builtin("baseline")`).
    fn default() -> Self {
        Rules::baseline()
    }
}

impl Rules {
    /// The names of the built-in rule sets.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// A built-in rule set by name: `baseline` or `strict`.
    pub fn builtin(name: &str) -> Result<Rules, RulesError> {
        let (_, text) =
            BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| RulesError::UnknownBuiltin {
                    name: name.to_string(),
                })?;
        Rules::from_json(text, name)
    }

    /// The `baseline` rules: §3 exactly.
    pub fn baseline() -> Rules {
        // The embedded file is checked by the unit tests; fall back to the same values.
        Rules::builtin("baseline").unwrap_or_else(|_| Rules {
            version: "baseline-1".into(),
            description: String::new(),
            subtitle_in_primary_language: false,
            captions_in_every_country: false,
            min_playable_show_videos: 1,
        })
    }

    /// Parses and validates a rule set; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Rules, RulesError> {
        let rules: Rules = serde_json::from_str(text).map_err(|source| RulesError::Parse {
            origin: origin.to_string(),
            source,
        })?;
        rules.validate(origin)?;
        Ok(rules)
    }

    /// Loads a rule set from a JSON file.
    pub fn load(path: &Path) -> Result<Rules, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Rules::from_json(&text, &path.display().to_string())
    }

    /// A built-in name (`baseline`, `strict`) or else a path to a rules file.
    pub fn resolve(spec: &str) -> Result<Rules, RulesError> {
        if Rules::builtin_names().any(|n| n == spec) {
            Rules::builtin(spec)
        } else {
            Rules::load(Path::new(spec))
        }
    }

    fn validate(&self, origin: &str) -> Result<(), RulesError> {
        let invalid = |message: &str| RulesError::Invalid {
            origin: origin.to_string(),
            message: message.to_string(),
        };
        if self.version.trim().is_empty() {
            return Err(invalid("`version` must not be empty"));
        }
        if self.min_playable_show_videos == 0 {
            return Err(invalid("`min_playable_show_videos` must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        let base = Rules::builtin("baseline").unwrap();
        assert_eq!(base.version, "baseline-1");
        assert!(!base.subtitle_in_primary_language);
        assert!(!base.captions_in_every_country);
        assert_eq!(base.min_playable_show_videos, 1);
        assert_eq!(Rules::default(), base);
        let strict = Rules::builtin("strict").unwrap();
        assert_eq!(strict.version, "strict-1");
        assert!(strict.subtitle_in_primary_language);
        assert!(strict.captions_in_every_country);
        assert_eq!(strict.min_playable_show_videos, 3);
        assert!(matches!(
            Rules::builtin("lenient"),
            Err(RulesError::UnknownBuiltin { .. })
        ));
    }

    #[test]
    fn defaults_are_section_3() {
        let rules = Rules::from_json(r#"{"version":"v"}"#, "test").unwrap();
        assert_eq!(rules.min_playable_show_videos, 1);
        assert!(!rules.subtitle_in_primary_language && !rules.captions_in_every_country);
    }

    #[test]
    fn bad_rules_are_rejected() {
        let typo = r#"{"version":"v","captions_everywhere":true}"#;
        assert!(matches!(
            Rules::from_json(typo, "t"),
            Err(RulesError::Parse { .. })
        ));
        let zero = r#"{"version":"v","min_playable_show_videos":0}"#;
        assert!(matches!(
            Rules::from_json(zero, "t"),
            Err(RulesError::Invalid { .. })
        ));
        assert!(matches!(
            Rules::from_json(r#"{"version":" "}"#, "t"),
            Err(RulesError::Invalid { .. })
        ));
    }

    #[test]
    fn resolve_loads_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.json");
        std::fs::write(
            &path,
            r#"{"version":"mine-7","captions_in_every_country":true}"#,
        )
        .unwrap();
        let rules = Rules::resolve(path.to_str().unwrap()).unwrap();
        assert_eq!(rules.version, "mine-7");
        assert!(rules.captions_in_every_country);
        assert!(matches!(
            Rules::resolve("/no/such/rules.json"),
            Err(RulesError::Io { .. })
        ));
    }
}
