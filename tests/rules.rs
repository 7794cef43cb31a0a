//! Every rule of the registry, proven on a pair of small real traces:
//! `tests/fixtures/rules/<rule-id>/fires.jsonl` (the rule fires at least once) and
//! `passes.jsonl` (the same situation done right; the rule stays silent). Both are checked
//! exactly as `ocpp-inspector check` checks a file: built-in schemas with every erratum, the
//! default configuration, and no `--ocpp` (each fixture opens with its subprotocol).
//!
//! The text report of every `fires.jsonl` is snapshotted (`tests/snapshots/rules__*`), so a
//! change in what a rule says, or in which other rules fire on its fixture, shows up in review.
//! Regenerate with `INSTA_UPDATE=always cargo test --test rules`, then read the diff.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use ocpp_inspector::checker::{CheckOptions, FileResult, check_reader};
use ocpp_inspector::engine::rules::{REGISTRY, Rule};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::sink::report::RunInfo;
use ocpp_inspector::sink::report::text::{self, Style};

/// The fixture folder, relative to the repository root (as the snapshots show it).
const FIXTURES: &str = "tests/fixtures/rules";

/// The options `ocpp-inspector check` uses by default; built once for all tests.
static OPTS: LazyLock<CheckOptions> = LazyLock::new(|| CheckOptions {
    schemas: Arc::new(
        SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas load"),
    ),
    config: Arc::new(Config::default()),
    default_version: None,
    jobs: 1,
});

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/rules/<id>/<kind>.jsonl`, relative to the repository root.
fn fixture(rule: &Rule, kind: &str) -> PathBuf {
    Path::new(FIXTURES)
        .join(rule.id)
        .join(format!("{kind}.jsonl"))
}

/// Checks one fixture with one engine; the result's path is the repository-relative one.
fn check(relative: &Path) -> FileResult {
    let file = File::open(root().join(relative))
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", relative.display()));
    let mut result = check_reader(BufReader::new(file), &OPTS, 1);
    result.path = relative.to_owned();
    result
}

/// One line per finding, for failure messages: `line N rule: message`.
fn describe(result: &FileResult) -> String {
    let mut s = String::new();
    for f in &result.findings {
        let _ = write!(s, "\n      line {} {}: {}", f.line, f.rule.id, f.message);
    }
    for e in &result.input_errors {
        let _ = write!(s, "\n      input error, line {}: {}", e.line, e.message);
    }
    if s.is_empty() {
        s.push_str(" (nothing)");
    }
    s
}

/// What is wrong with one rule's fixtures, if anything.
fn judge(rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    let fires = fixture(rule, "fires");
    let passes = fixture(rule, "passes");
    for path in [&fires, &passes] {
        if !root().join(path).is_file() {
            problems.push(format!("{} is missing", path.display()));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let hit = |r: &FileResult| r.findings.iter().filter(|f| f.rule.id == rule.id).count();

    let got = check(&fires);
    if hit(&got) == 0 {
        problems.push(format!(
            "{} does not fire {}; it reports:{}",
            fires.display(),
            rule.id,
            describe(&got)
        ));
    }
    if !got.input_errors.is_empty() {
        problems.push(format!(
            "{} has input errors:{}",
            fires.display(),
            describe(&got)
        ));
    }

    let got = check(&passes);
    if hit(&got) > 0 {
        problems.push(format!(
            "{} fires {} although it should pass; it reports:{}",
            passes.display(),
            rule.id,
            describe(&got)
        ));
    }
    if !got.input_errors.is_empty() {
        problems.push(format!(
            "{} has input errors:{}",
            passes.display(),
            describe(&got)
        ));
    }
    problems
}

#[test]
fn every_rule_fires_on_its_fixture_and_passes_on_the_fixed_one() {
    let mut failures = Vec::new();
    for rule in REGISTRY.iter() {
        let problems = judge(rule);
        if !problems.is_empty() {
            failures.push(format!("{}:\n  - {}", rule.id, problems.join("\n  - ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rules fail their fixtures:\n\n{}\n",
        failures.len(),
        REGISTRY.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_fixture_folder_names_a_registered_rule() {
    let known: BTreeSet<&str> = REGISTRY.iter().map(|r| r.id).collect();
    let dir = root().join(FIXTURES);
    let mut stale = Vec::new();
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the rule fixture folder exists") {
        let entry = entry.expect("a readable folder entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() {
            stray.push(name);
        } else if !known.contains(name.as_str()) {
            stale.push(name);
        }
    }
    stale.sort();
    stray.sort();
    assert!(
        stale.is_empty() && stray.is_empty(),
        "fixture folders for ids that are not in the registry (renamed or removed rules): {stale:?}; \
         files that are not rule folders: {stray:?} (in {FIXTURES})"
    );
}

/// The text report `ocpp-inspector check --color never` prints for a fixture.
fn text_report(result: FileResult) -> String {
    let info = RunInfo {
        schemas: "built-in".into(),
        fail_on: Severity::Error,
    };
    let mut out = Vec::new();
    text::write(&mut out, &[result], &info, Style { color: false })
        .expect("writing to memory succeeds");
    String::from_utf8(out).expect("the report is UTF-8")
}

#[test]
fn fires_reports_match_their_snapshots() {
    let mut failed = Vec::new();
    for rule in REGISTRY.iter() {
        let path = fixture(rule, "fires");
        if !root().join(&path).is_file() {
            continue; // reported by the fixture test
        }
        let report = text_report(check(&path));
        let name = format!("{}_fires", rule.id);
        // Every mismatch is reported, not just the first.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => "snapshots",
                prepend_module_to_snapshot => true,
                description => format!("ocpp-inspector check {}", path.display()),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.clone(), report);
            });
        }));
        if outcome.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "{} snapshots differ (review with `cargo insta review`): {failed:?}",
        failed.len()
    );
}
