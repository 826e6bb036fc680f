//! The generator's shared ground, used by the catalog generator ([`crate::generate`]) and the
//! synthetic inputs (the private `synth` module): the PRNG, a title of the source list before
//! derivation, a country of the input table, and calendar arithmetic in milliseconds.

use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};

/// One day in milliseconds.
pub const DAY: i64 = 86_400_000;

/// The generator's pseudo-random source: PCG (`rand_pcg`), seeded with
/// [`rand::SeedableRng::seed_from_u64`]. The same seed gives the same catalog on every platform
/// (the crate promises value stability within a release line, which `Cargo.lock` pins).
pub(crate) type Rng = rand_pcg::Pcg64Mcg;

/// The generator's PRNG for `seed`.
pub(crate) fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A country of the input table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountrySpec {
    /// ISO code.
    pub code: String,
    /// English name.
    pub name: String,
    /// Official languages, the primary first.
    pub languages: Vec<String>,
}

/// One title of the source list, before derivation.
#[derive(Debug, Clone)]
pub(crate) struct SourceTitle {
    pub n: i64,
    pub is_show: bool,
    pub title: String,
    pub directors: Vec<String>,
    pub cast: Vec<String>,
    /// Production countries by English name.
    pub countries: Vec<String>,
    pub added: Option<i64>,
    pub release_year: Option<i32>,
    pub rating: String,
    pub movie_minutes: Option<i32>,
    pub seasons: u32,
    pub genres: Vec<String>,
    pub description: String,
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
