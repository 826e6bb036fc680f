//! The architecture check: reads every workspace crate's sources, builds the module import graph
//! (`use crate::…`, `super::…`, `self::…` and inline `crate::x::` paths, grouped imports included)
//! and fails when a module circle appears that is not in the list of known circles below.
//!
//! Issue #11 removes the known circles; each one removed must be deleted from `KNOWN_CIRCLES`
//! (the test also fails when a listed circle no longer exists, so the list can only shrink).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path inside one crate, `[]` being the crate root.
type Module = Vec<String>;

/// The circles present at ced778c (issue #11), as "crate: sorted modules". To be emptied.
const KNOWN_CIRCLES: &[&str] = &[
    "gatekeeper: generate synth",
    "gatekeeper: metrics service",
    "hollow: bits blob blob::fsst blob::parse bytes dataset error read schema wire write",
    "producer: metrics service",
];

/// The crates whose `src/` is checked.
const CRATES: &[&str] = &[
    "hollow",
    "producer",
    "gatekeeper",
    "ops",
    "testkit",
    "tests",
    "benches",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` are the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("lib" | "main" | "mod")
    ) {
        parts.pop();
    }
    parts
}

/// The source without `//` comments (doc comments included), so prose naming paths is ignored.
fn strip_comments(src: &str) -> String {
    src.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Reads `ident(::ident)*` at `at`; returns the segments and the index after them.
fn read_path(src: &[char], mut at: usize) -> (Vec<String>, usize) {
    let mut segs = Vec::new();
    loop {
        let start = at;
        while at < src.len() && is_ident(src[at]) {
            at += 1;
        }
        if at == start {
            break;
        }
        segs.push(src[start..at].iter().collect());
        if at + 2 < src.len() && src[at] == ':' && src[at + 1] == ':' && is_ident(src[at + 2]) {
            at += 2;
        } else {
            break;
        }
    }
    (segs, at)
}

/// The top-level items of a `{a, b::c, d::{e, f}}` group starting after its `{`.
fn group_items(src: &[char], at: usize) -> Vec<Vec<String>> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut i = at;
    let mut expect_item = true;
    while i < src.len() {
        let c = src[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if c == ',' && depth == 0 {
            expect_item = true;
        } else if depth == 0 && expect_item && is_ident(c) {
            let (segs, next) = read_path(src, i);
            items.push(segs);
            expect_item = false;
            i = next;
            continue;
        }
        i += 1;
    }
    items
}

/// Every path a module names through `crate::`, `super::` or `self::`, made absolute.
fn referenced_paths(module: &Module, src: &str) -> Vec<Module> {
    let chars: Vec<char> = strip_comments(src).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let (segs, next) = read_path(&chars, i);
        let base: Option<Module> = match segs.first().map(String::as_str) {
            Some("crate") => Some(Vec::new()),
            Some("self") => Some(module.clone()),
            Some("super") => {
                let supers = segs.iter().take_while(|s| *s == "super").count();
                module
                    .len()
                    .checked_sub(supers)
                    .map(|n| module[..n].to_vec())
            }
            _ => None,
        };
        if let Some(base) = base {
            let rest: Vec<String> = segs
                .iter()
                .skip_while(|s| matches!(s.as_str(), "crate" | "self" | "super"))
                .cloned()
                .collect();
            let mut prefix = base;
            prefix.extend(rest);
            out.push(prefix.clone());
            // `path::{a, b}`: each item is a path of its own.
            if chars.get(next..next + 3) == Some(&[':', ':', '{']) {
                for item in group_items(&chars, next + 3) {
                    let mut p = prefix.clone();
                    p.extend(item.into_iter().filter(|s| s != "self"));
                    out.push(p);
                }
            }
        }
        i = next.max(i + 1);
    }
    out
}

/// The import graph of one crate: module → the modules it names.
fn import_graph(src_dir: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src_dir, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .into_iter()
        .map(|f| (module_of(src_dir, &f), f))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let src = fs::read_to_string(file).expect("readable source");
        let mut deps = BTreeSet::new();
        for path in referenced_paths(module, &src) {
            // The longest prefix that is a module file is the module depended on.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p));
            if let Some(t) = target.filter(|t| t != module) {
                deps.insert(t);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn circles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<BTreeSet<Module>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        on_stack: BTreeSet<&'g Module>,
        out: Vec<BTreeSet<Module>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g Module) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    comp.insert(w.clone());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn describe(krate: &str, circle: &BTreeSet<Module>) -> String {
    let names: Vec<String> = circle
        .iter()
        .map(|m| {
            if m.is_empty() {
                "crate".to_string()
            } else {
                m.join("::")
            }
        })
        .collect();
    format!("{krate}: {}", names.join(" "))
}

#[test]
fn no_module_circles_beyond_the_known_ones() {
    let root = workspace_root();
    let mut found = BTreeSet::new();
    for krate in CRATES {
        let graph = import_graph(&root.join(krate).join("src"));
        assert!(!graph.is_empty(), "{krate}/src has no sources: wrong path?");
        for circle in circles(&graph) {
            found.insert(describe(krate, &circle));
        }
    }
    let known: BTreeSet<String> = KNOWN_CIRCLES.iter().map(|s| s.to_string()).collect();
    let new: Vec<&String> = found.difference(&known).collect();
    let gone: Vec<&String> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "module import circles not in KNOWN_CIRCLES (break them): {new:#?}"
    );
    assert!(
        gone.is_empty(),
        "circles in KNOWN_CIRCLES that no longer exist (delete them from the list): {gone:#?}"
    );
}

/// The detector itself can fail: a two-file circle through `super::` and a grouped import.
#[test]
fn the_detector_finds_a_two_file_circle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    fs::create_dir_all(src.join("a")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    fs::write(src.join("a/mod.rs"), "mod c;\npub use self::c::C;\n").unwrap();
    fs::write(src.join("a/c.rs"), "use crate::{b::B, x};\npub struct C;\n").unwrap();
    fs::write(
        src.join("b.rs"),
        "// use crate::nothing;\nfn f() -> super::a::C { todo!() }\npub struct B;\n",
    )
    .unwrap();
    let graph = import_graph(src);
    let found: Vec<String> = circles(&graph).iter().map(|c| describe("t", c)).collect();
    assert_eq!(found, vec!["t: a a::c b".to_string()], "graph: {graph:?}");
    // Without the back edge there is no circle.
    fs::write(src.join("b.rs"), "pub struct B;\n").unwrap();
    assert!(circles(&import_graph(src)).is_empty());
}
