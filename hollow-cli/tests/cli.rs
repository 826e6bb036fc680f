//! Runs the real `hollow` binary against a store written in the test by hollow's Producer:
//! several versions, a delete, a pin, and a deliberately broken delta for `verify`.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use hollow::dataset::DatasetSchema;
use hollow::lifecycle::{Producer, ProducerConfig, Timeline};
use hollow::store::FolderStore;

const SCHEMA: &str = r#"{"dataset": "videos", "type": "Video", "primary_key": ["id"],
    "fields": [{"name": "id", "kind": "i64"}, {"name": "title", "kind": "string"},
               {"name": "tags", "kind": "string", "list": true}]}"#;

fn build(root: &Path) {
    let schema = DatasetSchema::from_json(SCHEMA).unwrap();
    let store = Arc::new(FolderStore::new(root.join("videos")).unwrap());
    let mut p = Producer::open(
        store.clone(),
        schema.schema_set().unwrap(),
        ProducerConfig::default(),
    )
    .unwrap();
    p.cycle(|c| {
        for i in 1..=3 {
            let rec = format!(r#"{{"id": {i}, "title": "title {i}", "tags": ["t{i}", "all"]}}"#);
            c.upsert_record(&schema, &schema.parse_json(rec.as_bytes())?)?;
        }
        Ok(())
    })
    .unwrap();
    p.cycle(|c| c.delete_key(&schema, "2").map(|_| ())).unwrap();
    p.cycle(|c| {
        c.upsert_record(
            &schema,
            &schema.parse_json(br#"{"id": 3, "title": "renamed", "tags": ["new"]}"#)?,
        )?;
        Ok(())
    })
    .unwrap();
    Timeline::new(store).pin(2).unwrap();
}

fn hollow(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hollow"))
        .arg("--store")
        .arg(root)
        .args(args)
        .env_remove("HOLLOW_STORE")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn subcommands_on_a_produced_store() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let r = dir.path();

    let o = hollow(r, &["datasets"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o), "videos\n");
    let o = hollow(r, &["--json", "datasets"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap(),
        serde_json::json!(["videos"])
    );

    let o = hollow(r, &["--json", "versions", "videos"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let vs = v.as_array().unwrap();
    assert_eq!(vs.len(), 3);
    assert_eq!(vs[1]["pinned"], true);
    assert_eq!(vs[2]["announced"], true);
    assert!(vs[1]["delta_bytes"].as_u64().unwrap() > 0);
    let o = hollow(r, &["versions", "videos"]);
    assert!(text(&o).starts_with("VERSION"), "{}", text(&o));
    assert!(text(&o).contains("pinned"));

    let o = hollow(r, &["schema", "videos"]);
    assert!(
        text(&o).contains("object Video (primary key: id)"),
        "{}",
        text(&o)
    );

    // Default version is the pinned one (2): key 3 still has its first title there.
    let o = hollow(r, &["get", "videos", "3"]);
    assert_eq!(o.status.code(), Some(0));
    let rec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rec["title"], "title 3");
    let o = hollow(r, &["get", "videos", "3", "--version", "3"]);
    let rec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rec["title"], "renamed");

    // References are followed: the list of tags shows as strings.
    assert_eq!(rec["tags"], serde_json::json!(["new"]));
    let o = hollow(r, &["get", "videos", "3", "--version", "3", "--depth", "0"]);
    let rec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(rec["tags"].is_u64(), "{rec}");

    // query: by the primary-key index, and by a scan through the list's strings' owner field.
    let o = hollow(
        r,
        &[
            "--json",
            "query",
            "videos",
            "--where",
            "id=1",
            "--version",
            "1",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(q["method"], "primary-key index", "{q}");
    assert_eq!(q["records"][0]["title"], "title 1");
    let o = hollow(
        r,
        &[
            "--json",
            "query",
            "videos",
            "--where",
            "title=renamed",
            "--version",
            "3",
        ],
    );
    let q: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(q["matches"], 1, "{q}");
    assert_eq!(q["records"][0]["id"], 3);
    let o = hollow(
        r,
        &["query", "videos", "--where", "title=none", "--version", "3"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o), "");
    assert_eq!(
        hollow(r, &["query", "videos", "--where", "nosuch=1"])
            .status
            .code(),
        Some(3)
    );

    // stats: one row per field, record counts of the version.
    let o = hollow(r, &["--json", "stats", "videos", "--version", "1"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let st = text(&o);
    assert!(st.contains("\"Video\""), "{st}");
    let o = hollow(r, &["stats", "videos", "--version", "1"]);
    assert!(text(&o).contains("TYPE"), "{}", text(&o));

    // diff: field-level, keyed by the primary key.
    let o = hollow(r, &["--json", "diff", "videos", "2", "3"]);
    assert_eq!(o.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["changed"][0]["key"], "3", "{d}");
    assert_eq!(d["changed"][0]["fields"]["title"]["before"], "title 3");
    assert_eq!(d["changed"][0]["fields"]["title"]["after"], "renamed");
    assert_eq!(
        d["changed"][0]["fields"]["tags"]["after"],
        serde_json::json!(["new"])
    );
    let o = hollow(r, &["--json", "diff", "videos", "1", "2"]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["removed"][0]["key"], "2", "{d}");
    let o = hollow(r, &["diff", "videos", "1", "3"]);
    assert!(text(&o).contains("1 removed, 1 changed"), "{}", text(&o));

    // history: present at 1, changed at 3 (title and tags), shown as strings.
    let o = hollow(r, &["--json", "history", "videos", "3"]);
    assert_eq!(o.status.code(), Some(0));
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = h["entries"].as_array().unwrap();
    assert_eq!(e.first().unwrap()["version"], 1, "{h}");
    assert_eq!(e.last().unwrap()["version"], 3, "{h}");
    assert_eq!(e.last().unwrap()["change"], "changed");
    assert_eq!(
        e.last().unwrap()["record"]["tags"],
        serde_json::json!(["new"])
    );
    let o = hollow(r, &["--json", "history", "videos", "2"]);
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        h["entries"].as_array().unwrap().last().unwrap()["change"],
        "removed",
        "{h}"
    );
    assert_eq!(
        hollow(r, &["history", "videos", "99"]).status.code(),
        Some(3)
    );

    // completions and the man page.
    let o = hollow(r, &["completions", "bash"]);
    assert!(text(&o).contains("hollow"), "{}", text(&o));
    let o = hollow(r, &["man"]);
    assert!(text(&o).contains(".TH"), "{}", text(&o));

    let o = hollow(
        r,
        &["export", "videos", "--version", "1", "--format", "csv"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o).lines().next(), Some("id,title,tags"));
    assert_eq!(text(&o).lines().count(), 4);

    let o = hollow(r, &["export", "videos", "--version", "1"]);
    let lines: Vec<serde_json::Value> = text(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let o = hollow(r, &["export", "videos", "--version", "2"]);
    assert_eq!(text(&o).lines().count(), 2);

    // Error paths: one line on stderr, a meaningful code.
    for (args, code) in [
        (&["get", "nosuch", "1"][..], 3),
        (&["get", "videos", "2", "--version", "3"][..], 3),
        (&["get", "videos", "1", "--version", "99"][..], 3),
        (&["get", "videos", "abc"][..], 2),
        (&["versions", "videos", "--bogus"][..], 2),
    ] {
        let o = hollow(r, args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{err}");
        if code == 3 {
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    let missing = r.join("missing");
    assert_eq!(hollow(&missing, &["datasets"]).status.code(), Some(4));
    assert!(!missing.exists());

    let o = hollow(r, &["unpin", "videos"]);
    assert_eq!(o.status.code(), Some(0));
    let o = hollow(r, &["get", "videos", "3"]);
    let rec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rec["title"], "renamed");
    assert_eq!(hollow(r, &["pin", "videos", "1"]).status.code(), Some(0));
    assert_eq!(hollow(r, &["pin", "videos", "7"]).status.code(), Some(3));
    assert_eq!(
        hollow(r, &["announce", "videos", "3"]).status.code(),
        Some(0)
    );

    // retention: the dry run deletes nothing.
    let before = std::fs::read_dir(r.join("videos").join("delta"))
        .unwrap()
        .count();
    let o = hollow(r, &["retention", "videos", "--keep", "1", "--dry-run"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text(&o).contains("would delete"), "{}", text(&o));
    assert_eq!(
        std::fs::read_dir(r.join("videos").join("delta"))
            .unwrap()
            .count(),
        before
    );
    assert_eq!(hollow(r, &["retention", "videos"]).status.code(), Some(2));

    // verify: clean, then a delta with one flipped byte.
    let o = hollow(r, &["verify", "videos"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = hollow(r, &["verify", "videos", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("states compared"), "{}", text(&o));
    let delta = r
        .join("videos")
        .join(hollow::lifecycle::Step::Delta(1, 2).key());
    let mut bytes = std::fs::read(&delta).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&delta, bytes).unwrap();
    let o = hollow(r, &["--json", "verify", "videos"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["broken"][0]["blob"]
            .as_str()
            .unwrap()
            .starts_with("delta/"),
        "{v}"
    );
    let o = hollow(r, &["verify", "videos", "--all"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
