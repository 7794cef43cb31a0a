//! The verdicts as a lab means them and the report a lab can sign: a schema-invalid frame of
//! the device under test inside a case fails it (globally and per case configurable), an
//! offline inject step takes only the frames a recording marks injected, `--dut` selects the
//! stations and the side judged, `--profile` selects cases, and the report's metadata (lab
//! fields, case-set and trace SHA-256, errata, configuration) is checked against the files,
//! hashed here independently.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::path::Path;
use std::sync::{Arc, LazyLock};

use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::testcase::scenario::{Case, parse_case};
use ocpp_inspector::testcase::{CaseFindings, Policy, Verdict, run_trace_with};
use serde_json::Value;
use sha2::{Digest, Sha256};

static SCHEMAS: LazyLock<Arc<SchemaSet>> =
    LazyLock::new(|| Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas")));

/// Boot accepted, then a StatusNotification: the span holds whatever comes in between.
const CASE: &str = r#"
id = "1.6/lab/x01_CS"
title = "Boot, then status"
versions = ["1.6"]
dut = "charger"
profiles = ["core"]
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
match = { status = "Accepted" }
[[steps]]
from = "charger"
call = "StatusNotification"
"#;

fn rec(ms: u32, from: &str, text: &str) -> String {
    serde_json::json!({
        "ts": format!("2026-12-01T10:00:{:02}.{:03}Z", ms / 1000, ms % 1000),
        "conn": "CP-1",
        "from": from,
        "text": text,
    })
    .to_string()
}

/// A 1.6 trace of the case with `authorize` (charger) and `answer` (CSMS) inside its span.
fn trace(authorize: &str, answer: &str) -> String {
    [
        r#"{"ts":"2026-12-01T10:00:00.000Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#.to_owned(),
        rec(100, "charger", r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M","chargePointSerialNumber":"SN-9","firmwareVersion":"1.2.3"}]"#),
        rec(200, "csms", r#"[3,"1",{"status":"Accepted","currentTime":"2026-12-01T10:00:00Z","interval":300}]"#),
        rec(300, "charger", authorize),
        rec(400, "csms", answer),
        rec(500, "charger", r#"[2,"3","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#),
        rec(600, "csms", r#"[3,"3",{}]"#),
    ]
    .join("\n")
}

const AUTH_OK: &str = r#"[2,"2","Authorize",{"idTag":"TAG1"}]"#;
/// `idTag` must be a string: a schema error on the charger's frame.
const AUTH_BAD: &str = r#"[2,"2","Authorize",{"idTag":5}]"#;
const ANSWER_OK: &str = r#"[3,"2",{"idTagInfo":{"status":"Accepted"}}]"#;
/// A schema error on the CSMS's frame (not the device under test's).
const ANSWER_BAD: &str = r#"[3,"2",{"idTagInfo":{"status":"Bogus"}}]"#;

fn judge(case: &str, trace: &str, level: CaseFindings) -> ocpp_inspector::testcase::CaseResult {
    let c: Case = parse_case(case, "case.toml").expect("case");
    let policy = Policy {
        case_findings: level,
        ..Policy::default()
    };
    let o = run_trace_with(
        trace.as_bytes(),
        Arc::new(vec![c]),
        SCHEMAS.clone(),
        Arc::new(Config::default()),
        None,
        policy,
    );
    assert!(o.input_errors.is_empty(), "{:?}", o.input_errors);
    o.results.into_iter().next().expect("one result")
}

#[test]
fn a_schema_invalid_device_frame_in_the_span_fails_the_case() {
    let clean = judge(CASE, &trace(AUTH_OK, ANSWER_OK), CaseFindings::Error);
    assert_eq!(clean.verdict, Verdict::Passed, "{}", clean.reason);

    let bad = judge(CASE, &trace(AUTH_BAD, ANSWER_OK), CaseFindings::Error);
    assert_eq!(bad.verdict, Verdict::Failed);
    // The reason names the frame (line, action, message id) and the rule.
    assert!(
        bad.reason.starts_with(
            "the charger under test sent a frame with an error finding inside the case: line 4 (Authorize, message id 2): ["
        ),
        "{}",
        bad.reason
    );
    let rule = bad
        .findings
        .iter()
        .find(|f| f.line == 4)
        .expect("the schema finding is listed with the case")
        .rule
        .id;
    assert!(bad.reason.contains(&format!("[{rule}]")), "{}", bad.reason);
    assert!(bad.reason.contains("idTag"), "{}", bad.reason);

    // Globally off, or off in the case file: listed, not failing.
    let off = judge(CASE, &trace(AUTH_BAD, ANSWER_OK), CaseFindings::Off);
    assert_eq!(off.verdict, Verdict::Passed);
    assert!(!off.findings.is_empty());
    let own = format!("case_findings = \"off\"\n{CASE}");
    let per_case = judge(&own, &trace(AUTH_BAD, ANSWER_OK), CaseFindings::Error);
    assert_eq!(per_case.verdict, Verdict::Passed, "{}", per_case.reason);
    // A bad value names the key.
    let e = parse_case(&format!("case_findings = \"loud\"\n{CASE}"), "c.toml").unwrap_err();
    assert_eq!(e.key, "case_findings");

    // An error on the CSMS's frame is not the charger's.
    let theirs = judge(CASE, &trace(AUTH_OK, ANSWER_BAD), CaseFindings::Error);
    assert!(!theirs.findings.is_empty(), "the CSMS frame has a finding");
    assert_eq!(theirs.verdict, Verdict::Passed, "{}", theirs.reason);
}

#[test]
fn a_frame_outside_the_span_does_not_fail_the_case() {
    // The bad Authorize comes after the StatusNotification that ends the case.
    let lines = [
        r#"{"ts":"2026-12-01T10:00:00.000Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#
            .to_owned(),
        rec(
            100,
            "charger",
            r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
        rec(
            200,
            "csms",
            r#"[3,"1",{"status":"Accepted","currentTime":"2026-12-01T10:00:00Z","interval":300}]"#,
        ),
        rec(
            500,
            "charger",
            r#"[2,"3","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#,
        ),
        rec(600, "csms", r#"[3,"3",{}]"#),
        rec(700, "charger", AUTH_BAD),
    ];
    let r = judge(CASE, &lines.join("\n"), CaseFindings::Error);
    assert_eq!(r.verdict, Verdict::Passed, "{}", r.reason);
}

/// An inject case: boot accepted, then the lab's ClearCache and the charger's answer.
const INJECT_CASE: &str = r#"
id = "1.6/lab/x02_CS"
title = "Injected ClearCache"
versions = ["1.6"]
dut = "charger"
[[steps]]
from = "charger"
call = "BootNotification"
[[steps]]
from = "csms"
result = "BootNotification"
match = { status = "Accepted" }
[[steps]]
inject = { action = "ClearCache" }
[[steps]]
from = "charger"
result = "ClearCache"
match = { status = "Accepted" }
"#;

fn write_case_dir(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write case");
    }
}

fn json_of(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr))
}

#[test]
fn offline_an_inject_step_takes_only_marked_frames_when_the_recording_marks_any() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = dir.path().join("cases");
    write_case_dir(&cases, &[("1.6/x02.toml", INJECT_CASE)]);
    let head = [
        r#"{"ts":"2026-12-01T10:00:00.000Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#
            .to_owned(),
        rec(
            100,
            "charger",
            r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
        rec(
            200,
            "csms",
            r#"[3,"1",{"status":"Accepted","currentTime":"2026-12-01T10:00:00Z","interval":300}]"#,
        ),
        // The CSMS's own ClearCache.
        rec(300, "csms", r#"[2,"c1","ClearCache",{}]"#),
        rec(400, "charger", r#"[3,"c1",{"status":"Accepted"}]"#),
    ];
    let mut marked: Vec<String> = head.to_vec();
    for (ms, from, text) in [
        (500, "csms", r#"[2,"inspector-1","ClearCache",{}]"#),
        (600, "charger", r#"[3,"inspector-1",{"status":"Accepted"}]"#),
    ] {
        let mut v: Value = serde_json::from_str(&rec(ms, from, text)).expect("json");
        v["injected"] = Value::Bool(true);
        marked.push(v.to_string());
    }
    let run_on = |lines: &[String]| {
        let t = dir.path().join("t.jsonl");
        std::fs::write(&t, lines.join("\n")).expect("write trace");
        let run = common::run(&[
            "testcase",
            "run",
            "--cases",
            cases.to_str().expect("utf-8"),
            "--trace",
            t.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json_of(&run)["cases"][0].clone()
    };
    // Marks present: the CSMS's own call (line 4) is passed over for the injected one.
    let c = run_on(&marked);
    assert_eq!(c["verdict"], "passed", "{c}");
    assert_eq!(c["steps"][2]["frames"][0]["line"], 6, "{c}");
    assert_eq!(c["steps"][2]["frames"][0]["injected"], true, "{c}");
    // No marks at all (a recording made elsewhere): the CSMS's own call is taken.
    let c = run_on(&head);
    assert_eq!(c["verdict"], "passed", "{c}");
    assert_eq!(c["steps"][2]["frames"][0]["line"], 4, "{c}");
}

#[test]
fn dut_selects_the_stations_and_the_side_judged() {
    let trace = common::root().join("tests/fixtures/testcases/lab-1.6.jsonl");
    let trace = trace.to_str().expect("utf-8");
    let run = |extra: &[&str]| {
        let mut args = vec!["testcase", "run", "--trace", trace, "--format", "json"];
        args.extend_from_slice(extra);
        common::run(&args)
    };
    let all = json_of(&run(&[]));
    let roles = |doc: &Value| -> Vec<String> {
        doc["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .map(|p| p["dut"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    // Without --dut: every station, both sides, each its own part, and the run says so.
    assert_eq!(roles(&all), ["charger", "csms"], "{}", all["parts"]);
    let judged = all["summary"]["judged"].as_str().expect("judged");
    assert!(
        judged.starts_with("judged: charger side (LAB16-1, LAB16-PEND, LAB16-REJ)"),
        "{judged}"
    );

    // Each OCA test case counts once, however many stations ran it.
    let mut octt: Vec<&str> = all["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["octt"].as_str())
        .collect();
    let results_with_octt = octt.len();
    octt.sort_unstable();
    octt.dedup();
    assert!(
        results_with_octt > octt.len(),
        "several stations per OCA case"
    );
    assert_eq!(all["summary"]["octt_cases"], octt.len());

    // A station on which no case runs says why.
    let other = json_of(&run(&["2.0.1/B/01"]));
    for s in other["stations"].as_array().expect("stations") {
        assert_eq!(s["cases"], 0, "{s}");
        assert_eq!(
            s["note"], "no selected case is for OCPP 1.6 (the selected cases are for OCPP 2.0.1)",
            "{s}"
        );
    }
    assert!(
        other["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .all(|c| c["verdict"] == "not_applicable")
    );

    let one = json_of(&run(&["--dut", "charger:LAB16-1"]));
    assert_eq!(roles(&one), ["charger"]);
    for c in one["cases"].as_array().expect("cases") {
        assert_eq!(c["dut"], "charger", "{c}");
        assert!(
            c["station"] == "LAB16-1" || c["station"].is_null(),
            "only the named station is judged: {c}"
        );
    }
    let stations = one["stations"].as_array().expect("stations");
    let rej = stations
        .iter()
        .find(|s| s["identity"] == "LAB16-REJ")
        .expect("seen, listed");
    assert_eq!(rej["under_test"], false);
    assert_eq!(rej["cases"], 0);
    assert!(
        rej["note"].as_str().unwrap_or_default().contains("--dut"),
        "{rej}"
    );

    let csms = json_of(&run(&["--dut", "csms"]));
    assert_eq!(roles(&csms), ["csms"]);
    assert!(
        csms["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .all(|c| c["dut"] == "csms")
    );

    let absent = json_of(&run(&["1.6/core/x01", "--dut", "charger:NOPE"]));
    let c = &absent["cases"][0];
    assert_eq!(c["verdict"], "not_run", "{c}");
    assert!(
        c["reason"].as_str().unwrap_or_default().contains("NOPE"),
        "{c}"
    );
    let bad = run(&["--dut", "station:X"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("charger:ID"), "{}", bad.stderr);
}

#[test]
fn profile_selects_cases_in_list_and_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = CASE
        .replace("1.6/lab/x01_CS", "1.6/lab/x03_CS")
        .replace("[\"core\"]", "[\"smart-charging\"]");
    write_case_dir(dir.path(), &[("a.toml", CASE), ("b.toml", &other)]);
    let d = dir.path().to_str().expect("utf-8");
    let list = common::run(&["testcase", "list", "--cases", d, "--profile", "core"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("1.6/lab/x01_CS"), "{}", list.stdout);
    assert!(!list.stdout.contains("1.6/lab/x03_CS"), "{}", list.stdout);
    let bad = common::run(&["testcase", "list", "--cases", d, "--profile", "cor"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("smart-charging"), "{}", bad.stderr);
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The case set's hash computed here, independently: the sorted `sha256sum` listing of
/// every `*.toml` under the folder (paths relative to it), the known-failures list left out.
fn case_set_hash(dir: &Path) -> (usize, String) {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml")
                && p.file_name().is_some_and(|n| n != "known-failures.toml")
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut rows: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .expect("under")
                .to_str()
                .expect("utf-8")
                .to_owned();
            (rel, sha256_hex(&std::fs::read(p).expect("read")))
        })
        .collect();
    rows.sort();
    let listing: String = rows.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
    (rows.len(), sha256_hex(listing.as_bytes()))
}

#[test]
fn the_report_metadata_names_the_lab_and_hashes_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lab = dir.path().join("lab.toml");
    std::fs::write(
        &lab,
        "lab = \"Test Lab Nord\"\noperator = \"A. Tester\"\ncustomer = \"ACME Chargers\"\nnotes = \"bench 3\"\n",
    )
    .expect("write");
    let trace_path = common::root().join("tests/fixtures/testcases/lab-2.0.1.jsonl");
    let (json, html, junit) = (
        dir.path().join("r.json"),
        dir.path().join("r.html"),
        dir.path().join("r.xml"),
    );
    let run = common::run(&[
        "testcase",
        "run",
        "--trace",
        trace_path.to_str().expect("utf-8"),
        "--lab-info",
        lab.to_str().expect("utf-8"),
        "--json",
        json.to_str().expect("utf-8"),
        "--report",
        html.to_str().expect("utf-8"),
        "--junit",
        junit.to_str().expect("utf-8"),
        "--errata",
        "none",
    ]);
    assert!(run.code <= 1, "{}", run.stderr);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json doc");
    let meta = &doc["meta"];
    // The built-in set is the `testcases/` folder: the same hash.
    let (n, set_hash) = case_set_hash(&common::root().join("testcases"));
    assert_eq!(meta["case_set"]["sha256"], set_hash.as_str(), "{meta}");
    assert_eq!(meta["case_set"]["files"].as_array().map(Vec::len), Some(n));
    let trace_hash = sha256_hex(&std::fs::read(&trace_path).expect("trace"));
    assert_eq!(meta["traces"][0]["sha256"], trace_hash.as_str());
    assert_eq!(
        meta["traces"][0]["bytes"],
        std::fs::metadata(&trace_path).expect("meta").len()
    );
    assert_eq!(meta["lab"]["operator"], "A. Tester");
    assert!(
        meta["tool"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!(
                "ocpp-inspector {} (commit ",
                env!("CARGO_PKG_VERSION")
            )),
        "{meta}"
    );
    assert_eq!(
        meta["errata"].as_array().map(Vec::len),
        Some(0),
        "--errata none"
    );
    assert!(
        meta["config"]
            .as_array()
            .expect("config")
            .iter()
            .any(|c| c["setting"] == "case findings (--case-findings)" && c["value"] == "error")
    );
    // The device identity from its BootNotification (2.0.1 field names).
    let st = doc["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .find(|s| s["identity"] == "LAB201-1")
        .expect("station");
    assert_eq!(
        (&st["vendor"], &st["model"], &st["serial"], &st["firmware"]),
        (
            &Value::from("LabVendor"),
            &Value::from("LV-201"),
            &Value::from("LAB201-1-SN"),
            &Value::from("5.0.2")
        )
    );

    let page = std::fs::read_to_string(&html).expect("html");
    for needed in [
        "Overall verdict",
        "Test Lab Nord",
        "ACME Chargers",
        set_hash.as_str(),
        trace_hash.as_str(),
        "@media print",
        "break-before:page",
        "Configuration: case findings",
    ] {
        assert!(page.contains(needed), "the report lacks `{needed}`");
    }
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains(&format!(
            r#"<property name="case_set.sha256" value="{set_hash}"/>"#
        )),
        "{xml}"
    );
    assert!(xml.contains("Test Lab Nord"));

    // With the errata on, each overlay is named.
    let with = common::run(&[
        "testcase",
        "run",
        "--trace",
        trace_path.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let doc = json_of(&with);
    let names: Vec<&str> = doc["meta"]["errata"]
        .as_array()
        .expect("errata")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    let known: Vec<&str> = ocpp_inspector::engine::schema::ERRATA
        .iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, known);

    // A bad lab-info file names the file and the key.
    std::fs::write(&lab, "lab = \"L\"\nopertor = \"x\"\n").expect("write");
    let bad = common::run(&[
        "testcase",
        "run",
        "--trace",
        trace_path.to_str().expect("utf-8"),
        "--lab-info",
        lab.to_str().expect("utf-8"),
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains(&format!("{}: `opertor`: unknown key", lab.display())),
        "{}",
        bad.stderr
    );
}

#[test]
fn evidence_is_the_frame_exactly_as_sent() {
    // Spacing and key order as the charger sent them, not re-serialised.
    let odd = r#"[2, "2", "Authorize", {  "idTag" :"TAG1" }]"#;
    let c = CASE.replace("call = \"StatusNotification\"", "call = \"Authorize\"");
    let lines = [
        r#"{"ts":"2026-12-01T10:00:00.000Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#
            .to_owned(),
        rec(
            100,
            "charger",
            r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
        rec(
            200,
            "csms",
            r#"[3,"1",{"status":"Accepted","currentTime":"2026-12-01T10:00:00Z","interval":300}]"#,
        ),
        rec(300, "charger", odd),
    ];
    let r = judge(&c, &lines.join("\n"), CaseFindings::Error);
    assert_eq!(r.verdict, Verdict::Passed, "{}", r.reason);
    assert_eq!(r.steps[2].evidence[0].text, odd);
    assert_eq!(r.steps[2].evidence[0].truncated, None);
}

#[test]
fn case_findings_warning_also_counts_warnings() {
    // Available → Finishing is no transition of the 1.6 connector table: a warning on the
    // charger's frame inside the case (which ends with the Authorize).
    let c = CASE.replace("call = \"StatusNotification\"", "call = \"Authorize\"");
    let status = |id: &str, st: &str| {
        format!(
            r#"[2,"{id}","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"{st}"}}]"#
        )
    };
    let lines = [
        r#"{"ts":"2026-12-01T10:00:00.000Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#
            .to_owned(),
        rec(
            100,
            "charger",
            r#"[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
        rec(
            200,
            "csms",
            r#"[3,"1",{"status":"Accepted","currentTime":"2026-12-01T10:00:00Z","interval":300}]"#,
        ),
        rec(300, "charger", &status("s1", "Available")),
        rec(350, "csms", r#"[3,"s1",{}]"#),
        rec(400, "charger", &status("s2", "Finishing")),
        rec(450, "csms", r#"[3,"s2",{}]"#),
        rec(500, "charger", AUTH_OK),
    ];
    let trace = lines.join("\n");
    let at_error = judge(&c, &trace, CaseFindings::Error);
    assert!(
        at_error
            .findings
            .iter()
            .any(|f| f.severity == ocpp_inspector::finding::Severity::Warning && f.line == 6),
        "{:?}",
        at_error.findings
    );
    assert_eq!(at_error.verdict, Verdict::Passed, "{}", at_error.reason);
    let at_warning = judge(&c, &trace, CaseFindings::Warning);
    assert_eq!(at_warning.verdict, Verdict::Failed);
    assert!(
        at_warning
            .reason
            .starts_with("the charger under test sent a frame with a warning finding inside the case: line 6 (StatusNotification, message id s2): ["),
        "{}",
        at_warning.reason
    );
}
