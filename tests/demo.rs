//! `ocpp-inspector demo`: the README's run command. It must run by itself without a
//! terminal, find what its misbehaving stations do wrong (and nothing else at error level),
//! leave the recording and the reports, and the offline check of the recording must give the
//! findings the live run gave.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::run_with_limit;
use serde_json::Value;

fn findings(report: &Value) -> BTreeSet<(String, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["conn"].as_str().expect("conn").to_owned(),
                f["line"].as_u64().expect("line"),
                f["rule"].as_str().expect("rule").to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_demo_runs_finds_its_planted_faults_and_agrees_with_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("demo");
    let out_s = out.to_str().expect("utf-8");
    let r = run_with_limit(
        &[
            "demo",
            "--out",
            out_s,
            "--duration",
            "3",
            "--chargers",
            "6",
            "--fast",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("gives the same"),
        "live and offline agree: {}",
        r.stdout
    );
    // The live stream names the planted faults, one line each, grep-able by station.
    assert!(
        r.stderr.lines().any(|l| l.starts_with("warning")
            && l.contains("CP-001")
            && l.contains("status16.unlisted-transition")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.lines().any(|l| l.starts_with("error")
            && l.contains("CP-002")
            && l.contains("schema.request-invalid")),
        "{}",
        r.stderr
    );
    for f in ["trace.jsonl", "report.json", "report.txt", "report.xml"] {
        let meta = std::fs::metadata(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 0, "{f} is not empty");
    }

    // The report written live and `check --format json` on the recording say the same.
    let live: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("report.json")).expect("report.json"),
    )
    .expect("the live report is JSON");
    let trace = out.join("trace.jsonl");
    let checked = run_with_limit(
        &["check", trace.to_str().expect("utf-8"), "--format", "json"],
        Duration::from_secs(60),
    );
    assert_eq!(
        checked.code, 1,
        "the planted error fails the check: {}",
        checked.stderr
    );
    let offline: Value = serde_json::from_str(&checked.stdout).expect("check's JSON");
    assert_eq!(findings(&live), findings(&offline));
    assert!(live["summary"]["frames"].as_u64().expect("frames") > 50);
    assert_eq!(live["summary"]["connections"].as_u64(), Some(6));

    // Only the planted fault is an error: the well-behaved stations and the CSMS are clean.
    let errors: BTreeSet<(String, String)> = offline["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["conn"].as_str().expect("conn").to_owned(),
                f["rule"].as_str().expect("rule").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        BTreeSet::from([("CP-002".to_owned(), "schema.request-invalid".to_owned())])
    );

    // JUnit on the recording: one testcase per rule of the versions the recording speaks,
    // plus the input testcase; one failure, the planted error.
    let junit = run_with_limit(
        &["check", trace.to_str().expect("utf-8"), "--format", "junit"],
        Duration::from_secs(60),
    );
    let xml = junit.stdout;
    let at = xml
        .find(r#"<property name="versions" value=""#)
        .expect("the suite names its versions");
    let rest = &xml[at + r#"<property name="versions" value=""#.len()..];
    let versions: Vec<ocpp_inspector::ocpp::Version> = rest[..rest.find('"').expect("closed")]
        .split(',')
        .map(|v| v.parse().expect("a version"))
        .collect();
    assert!(!versions.is_empty());
    let expected = ocpp_inspector::engine::rules::REGISTRY
        .iter()
        .filter(|r| versions.iter().any(|v| r.applies_to(*v)))
        .count()
        + 1;
    assert_eq!(xml.matches("<testcase ").count(), expected, "{versions:?}");
    assert!(
        xml.contains(&format!(r#"tests="{expected}" failures="1""#)),
        "{}",
        xml.lines().take(3).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn bad_demo_flags_are_usage_errors() {
    for (args, says) in [
        (vec!["demo", "--duration", "0"], "--duration"),
        (vec!["demo", "--duration", "nan"], "--duration"),
        (vec!["demo", "--chargers", "2"], "--chargers"),
    ] {
        let r = run_with_limit(&args, Duration::from_secs(30));
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}
