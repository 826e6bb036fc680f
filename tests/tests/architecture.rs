//! The architecture check: reads every workspace crate's sources, builds the module import graph
//! (`use crate::…`, `super::…`, `self::…`, a parent's `child::…` paths and inline `crate::x::`
//! paths, grouped imports included) and fails
//!
//! * when any crate has a module circle (two-file circles included: a `mod.rs` re-exporting a
//!   child that uses an item of that `mod.rs` is one), and
//! * when the dependency tables of `ARCHITECTURE.md` differ from the code: the crate table
//!   from each crate's `[dependencies]` on workspace crates, the module table of the three
//!   library crates from the imports between their top-level modules (within a crate and
//!   into the crates below). Every arrow in the tables must be an import and every import an
//!   arrow.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path inside one crate, `[]` being the crate root.
type Module = Vec<String>;

/// The crates whose `src/` is checked.
const CRATES: &[&str] = &[
    "hollow-format",
    "hollow-state",
    "hollow",
    "hollow-cli",
    "producer",
    "gatekeeper",
    "demo",
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

/// For every position of the source: how many inline modules (`mod name { .. }`) enclose it.
fn inline_mod_depths(src: &[char]) -> Vec<usize> {
    let mut out = vec![0; src.len()];
    let (mut depth, mut open): (usize, Vec<usize>) = (0, Vec::new());
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            if open.last() == Some(&depth) {
                open.pop();
            }
            depth = depth.saturating_sub(1);
        } else if c == 'm'
            && src[i..].starts_with(&['m', 'o', 'd', ' '])
            && (i == 0 || !is_ident(src[i - 1]))
        {
            let (name, mut j) = read_path(src, i + 4);
            while j < src.len() && src[j].is_whitespace() {
                j += 1;
            }
            if name.len() == 1 && src.get(j) == Some(&'{') {
                for slot in &mut out[i..=j] {
                    *slot = open.len();
                }
                depth += 1;
                open.push(depth);
                i = j + 1;
                continue;
            }
        }
        out[i] = open.len();
        i += 1;
    }
    out
}

/// Every path a module names through `crate::`, `super::`, `self::` or one of its child
/// modules (`children`), made absolute.
fn referenced_paths(module: &Module, children: &BTreeSet<String>, src: &str) -> Vec<Module> {
    let chars: Vec<char> = strip_comments(src).chars().collect();
    let inline = inline_mod_depths(&chars);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let (segs, next) = read_path(&chars, i);
        let group = chars.get(next..next + 3) == Some(&[':', ':', '{']);
        if segs.len() == 1 && !group {
            // `pub(crate)`, `pub(super)`: a visibility, not a path
            i = next.max(i + 1);
            continue;
        }
        let base: Option<Module> = match segs.first().map(String::as_str) {
            Some("crate") => Some(Vec::new()),
            Some("self") => Some(module.clone()),
            Some("super") => {
                // inside an inline `mod tests { .. }`, the first `super`s stay in this file
                let supers = segs.iter().take_while(|s| *s == "super").count();
                let supers = supers.saturating_sub(inline[i]);
                module
                    .len()
                    .checked_sub(supers)
                    .map(|n| module[..n].to_vec())
            }
            Some(first) if segs.len() > 1 && children.contains(first) => {
                // `child::x` resolves to `self::child::x`
                let mut p = module.clone();
                p.extend(segs.iter().cloned());
                out.push(p.clone());
                if chars.get(next..next + 3) == Some(&[':', ':', '{']) {
                    for item in group_items(&chars, next + 3) {
                        let mut q = p.clone();
                        q.extend(item.into_iter().filter(|s| s != "self"));
                        out.push(q);
                    }
                }
                None
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
        let children: BTreeSet<String> = modules
            .keys()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m[module.len()].clone())
            .collect();
        let mut deps = BTreeSet::new();
        for path in referenced_paths(module, &children, &src) {
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

/// Circles still to break, as "crate: sorted modules"; the test fails when one of them is
/// gone (delete it here) or a new one appears. None is left; keep it that way.
const KNOWN_CIRCLES: &[&str] = &[];

#[test]
fn no_module_circles() {
    let root = workspace_root();
    let mut found = Vec::new();
    for krate in CRATES {
        let graph = import_graph(&root.join(krate).join("src"));
        assert!(!graph.is_empty(), "{krate}/src has no sources: wrong path?");
        for circle in circles(&graph) {
            // the edges inside the circle, to show which imports make it
            let edges: Vec<String> = circle
                .iter()
                .flat_map(|m| {
                    graph[m]
                        .iter()
                        .filter(|d| circle.contains(*d))
                        .map(move |d| format!("{} -> {}", m.join("::"), d.join("::")))
                })
                .collect();
            found.push(format!(
                "{} ({})",
                describe(krate, &circle),
                edges.join(", ")
            ));
        }
    }
    let known = |f: &String| {
        KNOWN_CIRCLES
            .iter()
            .any(|k| f.starts_with(&format!("{k} (")))
    };
    let new: Vec<&String> = found.iter().filter(|f| !known(f)).collect();
    let gone: Vec<&&str> = KNOWN_CIRCLES
        .iter()
        .filter(|k| !found.iter().any(|f| f.starts_with(&format!("{k} ("))))
        .collect();
    assert!(
        new.is_empty(),
        "module import circles (break them): {new:#?}"
    );
    assert!(
        gone.is_empty(),
        "KNOWN_CIRCLES lists circles that are gone (delete them): {gone:#?}"
    );
}

/// The library crates, bottom up, with the name their paths use.
const LAYERS: &[(&str, &str)] = &[
    ("hollow-format", "hollow_format"),
    ("hollow-state", "hollow_state"),
    ("hollow", "hollow"),
];

/// The rows of every table in `ARCHITECTURE.md` whose first cell is a backticked name:
/// name → the backticked names of its last cell.
fn architecture_tables() -> BTreeMap<String, BTreeSet<String>> {
    let text =
        fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        if !line.trim_start().starts_with('|') || cells.len() < 3 {
            continue;
        }
        let Some(name) = ticked(cells[0]).into_iter().next() else {
            continue;
        };
        let deps = ticked(cells[cells.len() - 1]).into_iter().collect();
        assert!(
            rows.insert(name.clone(), deps).is_none(),
            "ARCHITECTURE.md lists {name} twice"
        );
    }
    rows
}

/// The workspace crates a crate's `[dependencies]` (not dev or build) names.
fn crate_dependencies(krate: &str, members: &BTreeSet<String>) -> BTreeSet<String> {
    let manifest =
        fs::read_to_string(workspace_root().join(krate).join("Cargo.toml")).expect("Cargo.toml");
    let mut in_deps = false;
    let mut out = BTreeSet::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if let Some((name, _)) = line.split_once(['=', '.']) {
            let name = name.trim();
            if in_deps && members.contains(name) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// The workspace's member crates (the package name is the folder name for every member).
fn members() -> BTreeSet<String> {
    let manifest = fs::read_to_string(workspace_root().join("Cargo.toml")).expect("Cargo.toml");
    let list = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("workspace members")
        .0;
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn the_crate_table_matches_the_manifests() {
    let rows = architecture_tables();
    let members = members();
    let mut wrong = Vec::new();
    for krate in &members {
        let code = crate_dependencies(krate, &members);
        match rows.get(krate.as_str()) {
            None => wrong.push(format!(
                "{krate}: no row in the crate table (Cargo.toml: {code:?})"
            )),
            Some(doc) if *doc != code => wrong.push(format!(
                "{krate}: the table says {doc:?}, Cargo.toml {code:?}"
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "ARCHITECTURE.md crate table: {wrong:#?}");
}

/// The top-level module of `crate_name` that a root path segment names: a module, or the
/// module a root re-export (`pub use m::{A, B}` in `lib.rs`) comes from.
fn top_module(krate: &str, segment: &str) -> Option<String> {
    let src = workspace_root().join(krate).join("src");
    if src.join(format!("{segment}.rs")).exists() || src.join(segment).join("mod.rs").exists() {
        return Some(segment.to_string());
    }
    let lib = strip_comments(&fs::read_to_string(src.join("lib.rs")).ok()?);
    lib.split(';').find_map(|stmt| {
        let stmt = stmt.trim();
        let rest = stmt.strip_prefix("pub use ")?;
        let (module, items) = rest.split_once("::")?;
        let named = items
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .any(|i| i.trim().rsplit("::").next() == Some(segment));
        (named && !module.contains('_')).then(|| module.to_string())
    })
}

/// For a library crate: top-level module → the modules it imports, named `crate::module`
/// (with the crate's package name) for this crate and the library crates below it.
fn module_dependencies(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src_dir = workspace_root().join(krate).join("src");
    let graph = import_graph(&src_dir);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, deps) in &graph {
        let Some(top) = module.first() else {
            continue;
        };
        let entry = out.entry(format!("{krate}::{top}")).or_default();
        for d in deps {
            if let Some(t) = d.first().filter(|t| *t != top) {
                entry.insert(format!("{krate}::{t}"));
            }
        }
    }
    // paths into the crates below
    let mut files = Vec::new();
    rust_files(&src_dir, &mut files);
    for file in files {
        let module = module_of(&src_dir, &file);
        let Some(top) = module.first() else {
            continue;
        };
        let src: Vec<char> = strip_comments(&fs::read_to_string(&file).expect("source"))
            .chars()
            .collect();
        let entry = out.entry(format!("{krate}::{top}")).or_default();
        for (below, path_name) in LAYERS.iter().take_while(|(k, _)| *k != krate) {
            let needle: Vec<char> = format!("{path_name}::").chars().collect();
            let mut i = 0;
            while i + needle.len() < src.len() {
                let at_start = i == 0 || !(is_ident(src[i - 1]) || src[i - 1] == ':');
                if at_start && src[i..i + needle.len()] == needle[..] {
                    let after = i + needle.len();
                    let names = if src[after] == '{' {
                        group_items(&src, after + 1)
                    } else {
                        vec![read_path(&src, after).0]
                    };
                    for n in names {
                        if let Some(m) = n.first().and_then(|s| top_module(below, s)) {
                            entry.insert(format!("{below}::{m}"));
                        }
                    }
                    i = after;
                } else {
                    i += 1;
                }
            }
        }
    }
    out
}

#[test]
fn the_module_table_matches_the_imports() {
    let rows = architecture_tables();
    let mut wrong = Vec::new();
    for (krate, _) in LAYERS {
        for (module, code) in module_dependencies(krate) {
            match rows.get(&module) {
                None => wrong.push(format!(
                    "{module}: no row in the module table (it imports {code:?})"
                )),
                Some(doc) if *doc != code => wrong.push(format!(
                    "{module}: the table says {doc:?}, the imports {code:?} (missing from the table: {:?}; not imported: {:?})",
                    code.difference(doc).collect::<Vec<_>>(),
                    doc.difference(&code).collect::<Vec<_>>()
                )),
                Some(_) => {}
            }
        }
    }
    let listed: Vec<&String> = rows
        .keys()
        .filter(|r| LAYERS.iter().any(|(k, _)| r.starts_with(&format!("{k}::"))))
        .filter(|r| {
            let (k, m) = r.split_once("::").expect("crate::module");
            top_module(k, m).as_deref() != Some(m)
        })
        .collect();
    assert!(
        listed.is_empty(),
        "ARCHITECTURE.md rows naming no module: {listed:?}"
    );
    assert!(wrong.is_empty(), "ARCHITECTURE.md module table: {wrong:#?}");
}

/// The detector itself can fail: a two-file circle through `super::` and a grouped import.
#[test]
fn the_detector_finds_a_two_file_circle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    fs::create_dir_all(src.join("a")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    fs::write(src.join("a/mod.rs"), "mod c;\npub use c::C;\n").unwrap();
    fs::write(src.join("a/c.rs"), "use crate::{b::B, x};\npub struct C;\n").unwrap();
    fs::write(
        src.join("b.rs"),
        "// use crate::nothing;\nfn f() -> super::a::C { todo!() }\npub struct B;\n",
    )
    .unwrap();
    let graph = import_graph(src);
    let found: Vec<String> = circles(&graph).iter().map(|c| describe("t", c)).collect();
    assert_eq!(found, vec!["t: a a::c b".to_string()], "graph: {graph:?}");
    // `use super::*` in a file's inline test module names the file itself, not its parent.
    fs::write(
        src.join("b.rs"),
        "pub struct B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    )
    .unwrap();
    assert!(
        circles(&import_graph(src)).is_empty(),
        "{:?}",
        import_graph(src)
    );
    // Without the back edge there is no circle.
    fs::write(src.join("b.rs"), "pub struct B;\n").unwrap();
    assert!(circles(&import_graph(src)).is_empty());
}
