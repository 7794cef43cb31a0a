//! `testcase run --known-failures FILE` as a program, over a fixture where
//! `1.6/remote/012_CS` fails and `1.6/core/x01_CS` passes: a listed failure is reported as a
//! known failure in every format and exits 0; a listed case that passes is reported fixed and
//! exits 1 only with `--strict-known`; an entry for another station does not apply; a bad
//! file is a usage error naming the file and the entry; the shipped file has no entry.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::path::{Path, PathBuf};

use common::run;
use serde_json::Value;

const TRACE: &str = "tests/fixtures/testcases/sim-1.6-remote-stop-local.jsonl";
const STATION: &str = "RS-1.6-001";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The case `id` of a `--format json` document.
fn case<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {doc}"))
}

#[test]
fn a_listed_failure_is_known_in_every_format_and_exits_0() {
    // Without the file the case fails: exit 1.
    let plain = run(&[
        "testcase",
        "run",
        "1.6/remote/012",
        "1.6/core/x01",
        "--trace",
        TRACE,
    ]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);

    let dir = tempfile::tempdir().unwrap();
    let known = write(
        dir.path(),
        "known.toml",
        r#"
[[known]]
case = "1.6/remote/012"
station = "RS-1.6-001"
reason = "firmware 2.3 stops remote sessions with reason Local (ticket FW-88)"
"#,
    );
    let junit = dir.path().join("out.xml");
    let html = dir.path().join("report.html");
    let json = dir.path().join("out.json");
    let r = run(&[
        "testcase",
        "run",
        "1.6/remote/012",
        "1.6/core/x01",
        "--trace",
        TRACE,
        "--known-failures",
        s(&known),
        "--junit",
        s(&junit),
        "--report",
        s(&html),
        "--json",
        s(&json),
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("1.6/remote/012_CS"))
        .unwrap();
    assert!(line.starts_with("KNOWN"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("known failure: firmware 2.3 stops remote sessions with reason Local"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "1 passed, 0 failed, 0 inconclusive, 0 not run, 0 not applicable, 1 known failures"
        ),
        "{}",
        r.stdout
    );

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let c = case(&doc, "1.6/remote/012_CS");
    assert_eq!(c["verdict"], "known_failure", "{c}");
    assert_eq!(
        c["known_reason"],
        "firmware 2.3 stops remote sessions with reason Local (ticket FW-88)"
    );
    assert!(
        c["reason"].as_str().unwrap().contains("reason"),
        "the failure itself is kept: {c}"
    );
    assert_eq!(case(&doc, "1.6/core/x01_CS")["verdict"], "passed");
    assert_eq!(case(&doc, "1.6/core/x01_CS")["known_reason"], Value::Null);
    assert_eq!(doc["summary"]["known_failures"], 1);
    assert_eq!(doc["summary"]["failed"], 0);

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"failures="0" skipped="1""#), "{xml}");
    assert!(
        xml.contains(r#"<skipped message="known failure: firmware 2.3 stops remote sessions"#),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("KNOWN FAILURE"), "HTML verdict label");
    assert!(
        page.contains("Known failure: firmware 2.3 stops remote sessions with reason Local"),
        "HTML reason"
    );

    // Listed by OCTT id, it applies too; listed for another station, it does not.
    let by_octt = write(
        dir.path(),
        "octt.toml",
        "[[known]]\ncase = \"TC_012_CS\"\nreason = \"r\"\n",
    );
    let r = run(&[
        "testcase",
        "run",
        "1.6/remote/012",
        "--trace",
        TRACE,
        "--known-failures",
        s(&by_octt),
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let elsewhere = write(
        dir.path(),
        "other.toml",
        "[[known]]\ncase = \"1.6/remote/012\"\nstation = \"CP-OTHER\"\nreason = \"r\"\n",
    );
    let r = run(&[
        "testcase",
        "run",
        "1.6/remote/012",
        "--trace",
        TRACE,
        "--known-failures",
        s(&elsewhere),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(case(&doc, "1.6/remote/012_CS")["verdict"], "failed");
}

#[test]
fn a_listed_case_that_passes_is_fixed_and_strict_known_makes_it_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let known = write(
        dir.path(),
        "known.toml",
        "[[known]]\ncase = \"1.6/core/x01\"\nreason = \"heartbeat answered late\"\n\n\
         [[known]]\ncase = \"9.9/nothing\"\nreason = \"a typo\"\n",
    );
    let args = [
        "testcase",
        "run",
        "1.6/core/x01",
        "--trace",
        TRACE,
        "--known-failures",
        s(&known),
    ];
    let r = run(&args);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("FIXED"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "listed as a known failure (heartbeat answered late) but passed: update the known-failures file"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(", 1 fixed"), "{}", r.stdout);
    // The entry that selects nothing is pointed out.
    assert!(
        r.stderr
            .contains("[[known]] entry 2: `9.9/nothing` selects no test case"),
        "{}",
        r.stderr
    );

    let mut strict = args.to_vec();
    strict.extend(["--strict-known", "--format", "json"]);
    let r = run(&strict);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let c = case(&doc, "1.6/core/x01_CS");
    assert_eq!(c["verdict"], "fixed");
    assert_eq!(c["station"], STATION);
    assert_eq!(c["known_reason"], "heartbeat answered late");
    assert_eq!(doc["summary"]["fixed"], 1);

    let xml = run(&[
        "testcase",
        "run",
        "1.6/core/x01",
        "--trace",
        TRACE,
        "--known-failures",
        s(&known),
        "--format",
        "junit",
    ]);
    assert!(
        xml.stdout.contains(r#"failures="0" skipped="0""#),
        "{}",
        xml.stdout
    );
    assert!(
        xml.stdout
            .contains("listed as a known failure (heartbeat answered late) but passed"),
        "{}",
        xml.stdout
    );
}

#[test]
fn a_bad_known_failures_file_is_a_usage_error_naming_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let no_reason = write(
        dir.path(),
        "no-reason.toml",
        "[[known]]\ncase = \"1.6/core\"\nreason = \"ok\"\n\n[[known]]\ncase = \"1.6/remote\"\n",
    );
    let r = run(&[
        "testcase",
        "run",
        "--trace",
        TRACE,
        "--known-failures",
        s(&no_reason),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{}: [[known]] entry 2: ", no_reason.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("reason"), "{}", r.stderr);

    let broken = write(dir.path(), "broken.toml", "[[known]\ncase = 1\n");
    let r = run(&[
        "testcase",
        "run",
        "--trace",
        TRACE,
        "--known-failures",
        s(&broken),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("broken.toml: not a known-failures file"),
        "{}",
        r.stderr
    );

    let missing = dir.path().join("missing.toml");
    let r = run(&[
        "testcase",
        "run",
        "--trace",
        TRACE,
        "--known-failures",
        s(&missing),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("reading --known-failures") && r.stderr.contains("missing.toml"),
        "{}",
        r.stderr
    );

    // --strict-known means nothing without a file.
    let r = run(&["testcase", "run", "--trace", TRACE, "--strict-known"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_shipped_known_failures_file_loads_and_lists_nothing() {
    let r = run(&[
        "testcase",
        "run",
        "1.6/remote/012",
        "--trace",
        TRACE,
        "--known-failures",
        "testcases/known-failures.toml",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "the failure stays a failure: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(case(&doc, "1.6/remote/012_CS")["verdict"], "failed");
}
