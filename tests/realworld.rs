//! The real-world corpus (`tests/fixtures/realworld/`): traces of real chargers and CSMSs cut
//! from public logs, each with hand verdicts in `manifest.toml`. Every trace is checked as
//! `ocpp-inspector check --ocpp <version>` checks it; the engine must raise no error or
//! warning that the verdicts do not name, and must find every violation they name.
//!
//! A trace marked `pending_fix` still draws a false finding that a named fix removes: its
//! unexpected findings are printed, not failed on (a missed verdict still fails), and the
//! test says when the marker can go.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use ocpp_inspector::checker::{CheckOptions, check_reader};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    trace: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    file: String,
    source: String,
    brand: String,
    model: String,
    firmware: String,
    ocpp: String,
    csms: String,
    times: String,
    #[serde(default)]
    verdicts: Vec<Verdict>,
    pending_fix: Option<String>,
    note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdict {
    rule: String,
    line: u64,
    note: String,
    /// Why no observer can find this violation in the trace (e.g. it is in an answer whose
    /// CALL predates the excerpt); such a verdict is recorded, not required of the engine.
    unobservable: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(dir().join("manifest.toml")).expect("manifest.toml reads");
    toml::from_str(&text).unwrap_or_else(|e| panic!("manifest.toml: {e}"))
}

/// The built-in schemas with every erratum, as `check` loads them; built once.
static SCHEMAS: LazyLock<Arc<SchemaSet>> = LazyLock::new(|| {
    Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas load"))
});

/// What is wrong with one trace against its verdicts (empty when it holds).
fn judge(entry: &Entry, version: Version) -> Vec<String> {
    let opts = CheckOptions {
        schemas: Arc::clone(&SCHEMAS),
        config: Arc::new(Config::default()),
        default_version: Some(version),
        jobs: 1,
    };
    let path = dir().join(&entry.file);
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let result = check_reader(BufReader::new(file), &opts, 1);
    let mut problems = Vec::new();
    for e in &result.input_errors {
        problems.push(format!("input error, line {}: {}", e.line, e.message));
    }
    let named: BTreeSet<(&str, u64)> = entry
        .verdicts
        .iter()
        .map(|v| (v.rule.as_str(), v.line))
        .collect();
    for f in &result.findings {
        if matches!(f.severity, Severity::Error | Severity::Warning)
            && !named.contains(&(f.rule.id, f.line))
        {
            problems.push(format!(
                "unexpected {:?} line {} {}: {}",
                f.severity, f.line, f.rule.id, f.message
            ));
        }
    }
    for v in entry.verdicts.iter().filter(|v| v.unobservable.is_none()) {
        if !result
            .findings
            .iter()
            .any(|f| f.rule.id == v.rule && f.line == v.line)
        {
            problems.push(format!("missed line {} {} ({})", v.line, v.rule, v.note));
        }
    }
    problems
}

#[test]
fn the_corpus_is_described_and_wide_enough() {
    let m = manifest();
    let listed: BTreeSet<&str> = m.trace.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(listed.len(), m.trace.len(), "a trace is listed twice");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(dir()).expect("the corpus folder exists") {
        let name = entry.expect("a folder entry").file_name();
        let name = name.to_string_lossy().into_owned();
        if name.ends_with(".jsonl") {
            on_disk.insert(name);
        }
    }
    let listed_owned: BTreeSet<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        on_disk, listed_owned,
        "trace files and manifest entries differ"
    );
    assert!(
        m.trace.len() >= 25,
        "{} traces, at least 25 wanted",
        m.trace.len()
    );

    let brands: BTreeSet<String> = m
        .trace
        .iter()
        .filter(|e| !e.brand.starts_with("unknown"))
        .map(|e| e.brand.to_lowercase())
        .collect();
    assert!(
        brands.len() >= 10,
        "{} named brands: {brands:?}",
        brands.len()
    );
    for v in ["1.6", "2.0.1"] {
        assert!(m.trace.iter().any(|e| e.ocpp == v), "no {v} trace");
    }
    for e in &m.trace {
        assert!(
            e.source.starts_with("https://"),
            "{}: source must be the public address",
            e.file
        );
        for (what, text) in [
            ("model", &e.model),
            ("firmware", &e.firmware),
            ("csms", &e.csms),
            ("times", &e.times),
            ("note", &e.note),
        ] {
            assert!(!text.trim().is_empty(), "{}: empty {what}", e.file);
        }
        assert!(
            e.ocpp.parse::<Version>().is_ok(),
            "{}: unknown version {}",
            e.file,
            e.ocpp
        );
        for v in &e.verdicts {
            assert!(
                ocpp_inspector::engine::rules::find(&v.rule).is_some(),
                "{}: verdict names unknown rule {}",
                e.file,
                v.rule
            );
            assert!(
                !v.note.trim().is_empty(),
                "{}: verdict without a reason",
                e.file
            );
        }
    }
}

#[test]
fn the_engine_agrees_with_the_hand_verdicts() {
    let m = manifest();
    let mut failures = Vec::new();
    for e in &m.trace {
        let version: Version = e.ocpp.parse().expect("checked by the manifest test");
        let (missed, problems): (Vec<String>, Vec<String>) = judge(e, version)
            .into_iter()
            .partition(|p| p.starts_with("missed"));
        // A pending fix excuses a false finding, never a missed violation.
        if !missed.is_empty() {
            failures.push(format!("{}:\n  - {}", e.file, missed.join("\n  - ")));
        }
        match (&e.pending_fix, problems.is_empty()) {
            (None, true) => {}
            (None, false) => failures.push(format!("{}:\n  - {}", e.file, problems.join("\n  - "))),
            (Some(fix), false) => eprintln!(
                "pending ({fix}) {}:\n  - {}",
                e.file,
                problems.join("\n  - ")
            ),
            (Some(_), true) => eprintln!(
                "{} now agrees with its verdicts: its pending_fix marker can be removed",
                e.file
            ),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} real-world traces disagree with their hand verdicts:\n\n{}\n",
        failures.len(),
        m.trace.len(),
        failures.join("\n\n")
    );
}
