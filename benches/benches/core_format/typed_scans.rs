//! The full scan of core_format three more ways: typed views (`#[derive(Hollow)]` on the
//! baseline structs), hand-written loops over column handles, and serde (`ReadState::iter`);
//! and primary-key lookups through the typed index.

use std::hint::black_box;

use super::*;
use hollow::read::{BoolColumn, ListView, LongColumn, RefColumn, StrColumn};
use hollow::Hollow;

// ---- the same full scan three more ways: typed views, column handles, serde `get` ----

fn os_view(x: Option<&str>) -> u64 {
    x.map_or(1, s)
}
fn l_view<'a>(x: impl Iterator<Item = &'a str>) -> u64 {
    x.fold(7u64, |a, e| a.wrapping_add(s(e)))
}

/// Typed views of every record of `table`, folded by `f`.
fn typed_scan<'a, T: Hollow>(
    table: &'a hollow::typed::Table<'a, T>,
    f: impl Fn(T::View<'a>) -> u64,
) -> (f64, u64, f64) {
    best_of(SCAN_ROUNDS, || {
        table
            .iter()
            .fold(0u64, |a, v| a.wrapping_add(f(black_box(v))))
    })
}

/// `ReadState::iter` (serde) of every record of `T`, folded like the baseline.
fn serde_scan<T: for<'de> Deserialize<'de>>(
    state: &ReadState,
    type_name: &str,
    f: impl Fn(&T) -> u64,
) -> (f64, u64, f64) {
    best_of(SCAN_ROUNDS, || {
        state
            .iter::<T>(type_name)
            .fold(0u64, |a, r| a.wrapping_add(f(&r.expect("record").1)))
    })
}

/// The typed column handles a hand-written scan reads with (`ObjectView::long`, `string`,
/// `boolean`, `reference` + the list and its element column).
struct Handles<'a> {
    object: hollow::ObjectView<'a>,
    list: Option<(ListView<'a>, StrColumn<'a>)>,
}

impl<'a> Handles<'a> {
    fn new(state: &'a ReadState, type_name: &str) -> Self {
        let list = state.list("ListOfString").ok().map(|l| {
            let e = state
                .object("String")
                .expect("String")
                .string("value")
                .expect("value");
            (l, e)
        });
        Handles {
            object: state.object(type_name).expect("type"),
            list,
        }
    }
    fn long(&self, f: &str) -> LongColumn<'a> {
        self.object.long(f).expect("long")
    }
    fn str(&self, f: &str) -> StrColumn<'a> {
        self.object.string(f).expect("string")
    }
    fn bool(&self, f: &str) -> BoolColumn<'a> {
        self.object.boolean(f).expect("bool")
    }
    fn list(&self, f: &str) -> (RefColumn<'a>, ListView<'a>, StrColumn<'a>) {
        let (l, e) = self.list.expect("list types");
        (self.object.reference(f).expect("reference"), l, e)
    }
}

#[inline(always)]
fn hl(c: &LongColumn<'_>, o: u32) -> u64 {
    c.get(o).map_or(1, |v| v as u64)
}
#[inline(always)]
fn hs(c: &StrColumn<'_>, o: u32) -> u64 {
    c.get_str(o).expect("str").map_or(1, s)
}
#[inline(always)]
fn hb(c: &BoolColumn<'_>, o: u32) -> u64 {
    c.get(o).map_or(1, b)
}
#[inline(always)]
fn hlist(c: &(RefColumn<'_>, ListView<'_>, StrColumn<'_>), o: u32) -> u64 {
    match c.0.get(o) {
        None => 1,
        Some(r) => {
            let elems = c.1.elements(r).expect("elements");
            elems.fold(7u64, |a, e| a.wrapping_add(hs(&c.2, e)))
        }
    }
}

/// Column handles resolved once, then every field of every record read with them.
fn handle_scan(state: &ReadState, name: &str) -> (f64, u64, f64) {
    best_of(SCAN_ROUNDS, || {
        let ty = dataset_schema(name).type_name;
        let h = Handles::new(state, &ty);
        let ords = h.object.ordinals();
        let fold = |f: &dyn Fn(u32) -> u64| ords.clone().fold(0u64, |a, o| a.wrapping_add(f(o)));
        match name {
            "countries" => {
                let (c, n, p, r) = (
                    h.str("code"),
                    h.str("name"),
                    h.str("primary_language"),
                    h.list("required_languages"),
                );
                let (q, g) = (h.bool("requires_captions"), h.bool("rating_required"));
                fold(&|o| {
                    sum(&[
                        hs(&c, o),
                        hs(&n, o),
                        hs(&p, o),
                        hlist(&r, o),
                        hb(&q, o),
                        hb(&g, o),
                    ])
                })
            }
            "titles" => {
                let (i, k, n, ol, y) = (
                    h.long("id"),
                    h.str("kind"),
                    h.str("name"),
                    h.str("original_language"),
                    h.long("release_year"),
                );
                let (g, c, d) = (h.list("genres"), h.list("cast"), h.list("directors"));
                fold(&|o| {
                    sum(&[
                        hl(&i, o),
                        hs(&k, o),
                        hs(&n, o),
                        hs(&ol, o),
                        hl(&y, o),
                        hlist(&g, o),
                        hlist(&c, o),
                        hlist(&d, o),
                    ])
                })
            }
            "videos" => {
                let (i, t, k) = (h.long("id"), h.long("title_id"), h.str("kind"));
                let (se, ep, r) = (
                    h.long("season"),
                    h.long("episode"),
                    h.long("runtime_minutes"),
                );
                fold(&|o| {
                    sum(&[
                        hl(&i, o),
                        hl(&t, o),
                        hs(&k, o),
                        hl(&se, o),
                        hl(&ep, o),
                        hl(&r, o),
                    ])
                })
            }
            "rights" => {
                let (t, c, ws, we) = (
                    h.long("title_id"),
                    h.str("country"),
                    h.long("window_start"),
                    h.long("window_end"),
                );
                fold(&|o| sum(&[hl(&t, o), hs(&c, o), hl(&ws, o), hl(&we, o)]))
            }
            "assets" => {
                let (i, v, k, l, st) = (
                    h.long("id"),
                    h.long("video_id"),
                    h.str("kind"),
                    h.str("language"),
                    h.str("status"),
                );
                fold(&|o| sum(&[hl(&i, o), hl(&v, o), hs(&k, o), hs(&l, o), hs(&st, o)]))
            }
            "localizations" => {
                let (t, l, n, sy) = (
                    h.long("title_id"),
                    h.str("language"),
                    h.str("name"),
                    h.str("synopsis"),
                );
                fold(&|o| sum(&[hl(&t, o), hs(&l, o), hs(&n, o), hs(&sy, o)]))
            }
            "ratings" => {
                let (t, c, bd, r) = (
                    h.long("title_id"),
                    h.str("country"),
                    h.str("board"),
                    h.str("rating"),
                );
                fold(&|o| sum(&[hl(&t, o), hs(&c, o), hs(&bd, o), hs(&r, o)]))
            }
            other => panic!("unknown dataset {other}"),
        }
    })
}

/// Looks every asset up by id through the typed primary-key index (reading one field of the
/// view found) and through the untyped one; ns per lookup (typed, untyped) and the count.
pub(super) fn pk_lookups(state: &ReadState) -> (f64, f64, usize) {
    let table = state.typed::<Asset>().expect("typed");
    let typed = hollow::typed::PrimaryKeyIndex::<Asset>::build(state).expect("index");
    let untyped = hollow::index::PrimaryKeyIndex::for_primary_key(state, "Asset").expect("index");
    let mut ids: Vec<i64> = table.iter().map(|a| a.id()).collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..ids.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ids.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let n = ids.len() as f64;
    let t = best_of(SCAN_ROUNDS, || {
        ids.iter().fold(0u64, |a, &id| {
            let v = typed.get(&table, black_box(id)).expect("found");
            a.wrapping_add(v.video_id() as u64)
        })
    });
    let u = best_of(SCAN_ROUNDS, || {
        ids.iter().fold(0u64, |a, &id| {
            let o = untyped
                .get(state, &[Value::I64(black_box(id))])
                .expect("found");
            a.wrapping_add(o as u64)
        })
    });
    (t.2 / n * 1e9, u.2 / n * 1e9, ids.len())
}

/// The typed, column-handle and serde scans of one dataset: (typed, handles, serde).
type Scan = (f64, u64, f64);
pub(super) fn three_scans(state: &ReadState, name: &str) -> [Scan; 3] {
    let handles = handle_scan(state, name);
    let (typed, serde) = match name {
        "countries" => (
            typed_scan(&state.typed::<Country>().expect("typed"), |c| {
                sum(&[
                    s(c.code()),
                    s(c.name()),
                    s(c.primary_language()),
                    l_view(c.required_languages()),
                    b(c.requires_captions()),
                    b(c.rating_required()),
                ])
            }),
            serde_scan(state, "Country", fold_country),
        ),
        "titles" => (
            typed_scan(&state.typed::<Title>().expect("typed"), |t| {
                sum(&[
                    t.id() as u64,
                    s(t.kind()),
                    s(t.name()),
                    s(t.original_language()),
                    oi(t.release_year()),
                    l_view(t.genres()),
                    l_view(t.cast()),
                    l_view(t.directors()),
                ])
            }),
            serde_scan(state, "Title", fold_title),
        ),
        "videos" => (
            typed_scan(&state.typed::<Video>().expect("typed"), |v| {
                sum(&[
                    v.id() as u64,
                    v.title_id() as u64,
                    s(v.kind()),
                    oi(v.season()),
                    oi(v.episode()),
                    oi(v.runtime_minutes()),
                ])
            }),
            serde_scan(state, "Video", fold_video),
        ),
        "rights" => (
            typed_scan(&state.typed::<Right>().expect("typed"), |r| {
                sum(&[
                    r.title_id() as u64,
                    s(r.country()),
                    r.window_start() as u64,
                    oi64(r.window_end()),
                ])
            }),
            serde_scan(state, "Right", fold_right),
        ),
        "assets" => (
            typed_scan(&state.typed::<Asset>().expect("typed"), |a| {
                sum(&[
                    a.id() as u64,
                    a.video_id() as u64,
                    s(a.kind()),
                    os_view(a.language()),
                    s(a.status()),
                ])
            }),
            serde_scan(state, "Asset", fold_asset),
        ),
        "localizations" => (
            typed_scan(&state.typed::<Localization>().expect("typed"), |l| {
                sum(&[
                    l.title_id() as u64,
                    s(l.language()),
                    os_view(l.name()),
                    os_view(l.synopsis().as_deref()),
                ])
            }),
            serde_scan(state, "Localization", fold_localization),
        ),
        "ratings" => (
            typed_scan(&state.typed::<Rating>().expect("typed"), |r| {
                sum(&[
                    r.title_id() as u64,
                    s(r.country()),
                    s(r.board()),
                    s(r.rating()),
                ])
            }),
            serde_scan(state, "Rating", fold_rating),
        ),
        other => panic!("unknown dataset {other}"),
    };
    [typed, handles, serde]
}
