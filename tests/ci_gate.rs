//! `check` as a CI gate: SARIF, GitHub annotations, GitLab Code Quality, HTML, JUnit by the
//! trace's versions, several outputs in one run, baselines that survive moved lines, waivers
//! (waived, expired, unused), `--fail-on none`, a binary file given by mistake, completions,
//! the manual page, and the CI examples' own command lines.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{run, run_with_limit};
use ocpp_inspector::engine::rules::REGISTRY;
use ocpp_inspector::ocpp::Version;
use serde_json::Value;

const SAMPLE: &str = "tests/fixtures/traces/sample.jsonl";

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("report written")).expect("JSON")
}

/// The SARIF 2.1.0 schema as serde-sarif ships it, if its source is where cargo unpacks it.
fn sarif_schema() -> Option<Value> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let src = home.join("registry").join("src");
    for index in std::fs::read_dir(src).ok()?.flatten() {
        let p = index.path().join("serde-sarif-0.8.0/src/schema.json");
        if let Ok(text) = std::fs::read_to_string(&p) {
            let mut schema: Value = serde_json::from_str(&text).ok()?;
            // Its `language` patterns (of `run` and `toolComponent`) fail the draft-7
            // meta-schema's regex format check, and `check` writes no `language`: drop them
            // so the schema compiles.
            for at in ["run", "toolComponent"] {
                let ptr = format!("/definitions/{at}/properties/language");
                if let Some(lang) = schema.pointer_mut(&ptr).and_then(Value::as_object_mut) {
                    lang.remove("pattern");
                }
            }
            return Some(schema);
        }
    }
    None
}

/// A SARIF document is valid: it reads into serde-sarif's typed model and writes back the
/// same (so no member is misspelt or misplaced), and it passes the SARIF 2.1.0 schema.
fn assert_valid_sarif(doc: &Value) {
    let typed: serde_sarif::sarif::Sarif =
        serde_json::from_value(doc.clone()).expect("SARIF typed model");
    let back = serde_json::to_value(&typed).expect("serialise");
    assert_eq!(&back, doc, "every member is a SARIF member");
    match sarif_schema() {
        Some(schema) => {
            let v = jsonschema::draft7::new(&schema).expect("the schema compiles");
            let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "schema errors: {errors:#?}");
        }
        None => eprintln!(
            "note: serde-sarif's schema.json not found under CARGO_HOME; typed model only"
        ),
    }
}

#[test]
fn sarif_is_valid_and_carries_rules_locations_snippets_and_fingerprints() {
    let r = run(&[
        "check",
        SAMPLE,
        "--format",
        "sarif",
        "--rules-url",
        "https://docs.example/rules/",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_valid_sarif(&doc);
    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(
        rules.len() > REGISTRY.len(),
        "every rule, and the waiver findings'"
    );
    let not_json = rules.iter().find(|r| r["id"] == "rpc.not-json").unwrap();
    assert_eq!(
        not_json["helpUri"],
        "https://docs.example/rules/rpc.not-json"
    );
    assert!(not_json["help"]["text"].as_str().unwrap().len() > 40);
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let mut fps = BTreeSet::new();
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], SAMPLE);
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(
            loc["region"]["snippet"]["text"]
                .as_str()
                .unwrap()
                .starts_with('[')
        );
        fps.insert(
            res["partialFingerprints"]["ocppFindingIdentity/v1"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(fps.len(), 6, "one identity per finding");
    // The same run again gives the same fingerprints: they are stable.
    let again: Value =
        serde_json::from_str(&run(&["check", SAMPLE, "--format", "sarif"]).stdout).unwrap();
    let fps2: BTreeSet<String> = again["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["ocppFindingIdentity/v1"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(fps, fps2);
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    let r = run(&["check", SAMPLE, "--format", "github"]);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "six findings and the summary: {}", r.stdout);
    let re = regex::Regex::new(
        r"^::(error|warning|notice) file=[^,:\r\n]+,line=[1-9][0-9]*,title=[^,:\r\n]+::[^\r\n]+$",
    )
    .unwrap();
    for l in &lines[..6] {
        assert!(re.is_match(l), "not an annotation: {l}");
    }
    assert!(lines.iter().any(|l| l.starts_with(&format!(
        "::error file={SAMPLE},line=24,title=rpc.not-json::EVSE-201: not valid JSON"
    ))));
    // The frame goes on a second line of the annotation: the newline is escaped.
    assert!(lines[0].contains("%0A["), "{}", lines[0]);
    assert!(lines[6].starts_with("::error title=ocpp-inspector check::FAIL: 24 frames"));
}

#[test]
fn gitlab_code_quality_has_the_documented_shape() {
    let r = run(&["check", SAMPLE, "--format", "gitlab"]);
    assert_eq!(r.code, 1);
    let doc: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let issues = doc.as_array().expect("an array of issues");
    assert_eq!(issues.len(), 6);
    let mut fps = BTreeSet::new();
    for i in issues {
        assert!(i["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(i["check_name"].as_str().is_some());
        assert!(
            fps.insert(i["fingerprint"].as_str().unwrap().to_owned()),
            "unique"
        );
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().unwrap())
        );
        assert_eq!(i["location"]["path"], SAMPLE);
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
    }
    // A clean run is an empty array, still valid.
    let mut args = vec!["check", SAMPLE, "--format", "gitlab"];
    for id in [
        "schema.datetime-invalid",
        "schema.enum-case-mismatch",
        "rpc.action-case-mismatch",
        "schema.request-invalid",
        "rpc.response-unknown-id",
        "rpc.not-json",
    ] {
        args.extend(["--disable", id]);
    }
    let clean = run(&args);
    assert_eq!(clean.code, 0);
    let doc: Value = serde_json::from_str(&clean.stdout).expect("JSON");
    assert_eq!(doc, serde_json::json!([]));
}

#[test]
fn several_outputs_in_one_run_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let r = run(&[
        "check",
        SAMPLE,
        "--format",
        "text",
        "--color",
        "never",
        "--json",
        s(&p("r.json")),
        "--junit",
        s(&p("r.xml")),
        "--sarif",
        s(&p("r.sarif")),
        "--html",
        s(&p("r.html")),
        "--gitlab",
        s(&p("cq.json")),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("FAIL: 24 frames")
    );
    let json = read_json(&p("r.json"));
    assert_eq!(json["findings"].as_array().unwrap().len(), 6);
    assert_eq!(json["summary"]["verdict"], "FAIL");
    assert_valid_sarif(&read_json(&p("r.sarif")));
    assert_eq!(read_json(&p("cq.json")).as_array().unwrap().len(), 6);
    let xml = std::fs::read_to_string(p("r.xml")).unwrap();
    assert_eq!(xml.matches("<failure ").count(), 6);
    let html = std::fs::read_to_string(p("r.html")).unwrap();
    assert_eq!(html.matches("<tr data-sev=\"error\"").count(), 6);
    assert!(html.contains("Per rule") && html.contains("Per station"));
    assert!(
        html.contains("EVSE-201") && html.contains("[2,&quot;c3&quot;,&quot;HeartBeat&quot;,{}]")
    );
    // Self-contained: nothing loaded from elsewhere.
    assert!(
        !html.contains("src=") && !html.contains("<link"),
        "no external asset"
    );
    // The summary goes to stderr when stdout is not the text report.
    let q = run(&["check", SAMPLE, "--format", "json", "-o", s(&p("o.json"))]);
    assert!(q.stdout.is_empty());
    assert!(q.stderr.contains("FAIL: 24 frames"), "{}", q.stderr);
    // A report may not overwrite an input or another report.
    let clash = run(&["check", SAMPLE, "--json", SAMPLE]);
    assert_eq!(clash.code, 2);
    assert!(
        clash.stderr.contains("is also an input"),
        "{}",
        clash.stderr
    );
    let twice = run(&["check", SAMPLE, "--json", s(&p("x")), "--sarif", s(&p("x"))]);
    assert_eq!(twice.code, 2);
}

/// A 1.6-only trace: its JUnit suite has one testcase per 1.6 rule, plus the input one.
#[test]
fn junit_counts_only_the_rules_of_the_versions_present() {
    let dir = tempfile::tempdir().unwrap();
    let only16: String = std::fs::read_to_string(SAMPLE)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"CP-001\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let trace = dir.path().join("cp1.jsonl");
    std::fs::write(&trace, only16).unwrap();
    let r = run(&["check", s(&trace), "--format", "junit"]);
    assert_eq!(r.code, 1);
    let v16 = REGISTRY
        .iter()
        .filter(|r| r.applies_to(Version::V16))
        .count();
    assert!(v16 < REGISTRY.len());
    assert!(
        r.stdout
            .contains(&format!(r#"tests="{}" failures="3""#, v16 + 1)),
        "{}",
        r.stdout.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    assert!(
        r.stdout
            .contains(r#"<property name="versions" value="1.6"/>"#)
    );
    assert_eq!(r.stdout.matches("<testcase ").count(), v16 + 1);
    // Both versions of the sample: every rule of either.
    let both = run(&["check", SAMPLE, "--format", "junit"]);
    let n = REGISTRY
        .iter()
        .filter(|r| r.applies_to(Version::V16) || r.applies_to(Version::V201))
        .count();
    assert_eq!(both.stdout.matches("<testcase ").count(), n + 1);
}

/// The sample with a new station's clean frames inserted at the start (every line moves),
/// and optionally one new fault appended.
fn edited_sample(dir: &Path, with_new_fault: bool) -> PathBuf {
    let mut text = String::from(concat!(
        r#"{"ts":"2026-11-22T10:14:58.000Z","conn":"CP-NEW","event":"open","subprotocol":"ocpp1.6"}"#,
        "\n",
        r#"{"ts":"2026-11-22T10:14:58.100Z","conn":"CP-NEW","from":"charger","text":"[2,\"n1\",\"BootNotification\",{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}]"}"#,
        "\n",
        r#"{"ts":"2026-11-22T10:14:58.200Z","conn":"CP-NEW","from":"csms","text":"[3,\"n1\",{\"status\":\"Accepted\",\"currentTime\":\"2026-11-22T10:14:58.200Z\",\"interval\":300}]"}"#,
        "\n",
        r#"{"ts":"2026-11-22T10:14:59.000Z","conn":"CP-NEW","from":"charger","text":"[2,\"n2\",\"Heartbeat\",{}]"}"#,
        "\n",
        r#"{"ts":"2026-11-22T10:14:59.010Z","conn":"CP-NEW","from":"csms","text":"[3,\"n2\",{\"currentTime\":\"2026-11-22T10:14:59.010Z\"}]"}"#,
        "\n",
    ));
    let sample = std::fs::read_to_string(SAMPLE).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    // The sample ends with the two stations' closes: the new fault comes before them.
    let (body, closes) = lines.split_at(lines.len() - 2);
    for l in body {
        text.push_str(l);
        text.push('\n');
    }
    if with_new_fault {
        // The very frame of an existing finding (line 24) once more: the same identity, so
        // only the occurrences beyond the baseline's count are new.
        text.push_str(
            r#"{"ts":"2026-11-22T10:15:10.500Z","conn":"EVSE-201","from":"charger","text":"[2,\"c4\",\"Heartbeat\",{}"}"#,
        );
        text.push('\n');
    }
    for l in closes {
        text.push_str(l);
        text.push('\n');
    }
    let p = dir.join(if with_new_fault {
        "edited-new.jsonl"
    } else {
        "edited.jsonl"
    });
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_baseline_survives_moved_lines_and_sees_only_the_new_finding() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("baseline.json");
    let w = run(&[
        "check",
        SAMPLE,
        "--write-baseline",
        s(&base),
        "--format",
        "json",
    ]);
    assert_eq!(w.code, 1);
    assert_eq!(read_json(&base)["findings"].as_array().unwrap().len(), 6);

    // Lines moved, nothing new: clean against the baseline.
    let moved = edited_sample(dir.path(), false);
    let plain = run(&["check", s(&moved), "--format", "json"]);
    let doc: Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        6,
        "the same six, moved"
    );
    assert_eq!(doc["findings"][0]["line"], 14, "every line moved by five");
    let r = run(&[
        "check",
        s(&moved),
        "--baseline",
        s(&base),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(doc["summary"]["baseline"], 6);

    // One new fault: only it is reported, and it fails the run.
    let new = edited_sample(dir.path(), true);
    let r = run(&["check", s(&new), "--baseline", s(&base), "--format", "json"]);
    assert_eq!(r.code, 1);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["rule"], "rpc.not-json");
    assert_eq!(f[0]["conn"], "EVSE-201");
    assert_eq!(f[0]["line"], 32, "the later occurrence is the new one");
    // The text report says what the baseline accepted.
    let t = run(&["check", s(&new), "--baseline", s(&base), "--color", "never"]);
    assert!(
        t.stdout
            .lines()
            .last()
            .unwrap()
            .contains("1 error, 0 warnings, 0 infos, 6 in the baseline")
    );
    // A file that is not a report is a usage error naming it.
    let bad = run(&["check", SAMPLE, "--baseline", SAMPLE]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("is not a JSON report"),
        "{}",
        bad.stderr
    );
}

const WAIVERS: &str = r#"
[[waivers]]
rule = "rpc.not-json"
station = "EVSE-*"
reason = "firmware 3.2 truncates its last frame; fix promised"
owner = "fleet-team"
expires = 2027-06-30

[[waivers]]
rule = "schema"
vendor = "VendorX"
model = "X*"
reason = "VendorX 1.6 payload quirks"
owner = "vendor-liaison"
expires = "2026-11-01"

[[waivers]]
rule = "sec.*"
reason = "nothing of the kind seen yet"
owner = "nobody"
expires = 2030-01-01
"#;

#[test]
fn waivers_waive_expire_and_report_unused_ones() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("waivers.toml");
    std::fs::write(&w, WAIVERS).unwrap();
    let sarif = dir.path().join("r.sarif");
    let junit = dir.path().join("r.xml");
    let base = dir.path().join("base.json");
    let r = run(&[
        "check",
        SAMPLE,
        "--waivers",
        s(&w),
        "--format",
        "json",
        "--sarif",
        s(&sarif),
        "--junit",
        s(&junit),
        "--write-baseline",
        s(&base),
    ]);
    assert_eq!(
        r.code, 1,
        "expired waiver: the VendorX schema findings fail again"
    );
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6, "waived findings are still reported");
    let waived: Vec<&Value> = findings.iter().filter(|f| f["waived"] == true).collect();
    assert_eq!(waived.len(), 1);
    assert_eq!(waived[0]["rule"], "rpc.not-json");
    assert_eq!(waived[0]["waiver"]["owner"], "fleet-team");
    assert!(
        waived[0]["waiver"]["reason"]
            .as_str()
            .unwrap()
            .contains("truncates")
    );
    assert_eq!(doc["summary"]["waived"], 1);
    assert_eq!(doc["summary"]["errors"], 5);
    // A baseline written meanwhile leaves the waived finding to its waiver.
    assert_eq!(read_json(&base)["findings"].as_array().unwrap().len(), 5);
    let tool = doc["tool_findings"].as_array().unwrap();
    let ids: Vec<(&str, u64)> = tool
        .iter()
        .map(|t| (t["rule"].as_str().unwrap(), t["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        ids,
        [("waiver.expired", 9), ("waiver.unused", 17)],
        "{tool:#?}"
    );
    assert!(
        tool[0]["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2026-11-01; the trace dates from 2026-11-22")
    );
    // SARIF: the waived one is suppressed; JUnit: its testcase is skipped.
    let sdoc = read_json(&sarif);
    assert_valid_sarif(&sdoc);
    let suppressed: Vec<&Value> = sdoc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<skipped message="1 finding(s) waived"/>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<testsuite name="waivers""#));

    // Judged on an earlier day, the VendorX waiver still holds: its two schema findings
    // (both of CP-001, the VendorX X1 station) are waived, the EVSE-201 one is not.
    let r = run(&[
        "check",
        SAMPLE,
        "--waivers",
        s(&w),
        "--format",
        "json",
        "--today",
        "2026-10-31",
    ]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let waived: BTreeSet<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["waived"] == true)
        .map(|f| {
            (
                f["conn"].as_str().unwrap().into(),
                f["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        waived.contains(&("CP-001".into(), "schema.request-invalid".into())),
        "{waived:?}"
    );
    assert!(waived.contains(&("CP-001".into(), "schema.enum-case-mismatch".into())));
    assert!(
        !waived
            .iter()
            .any(|(c, r)| c == "EVSE-201" && r.starts_with("schema"))
    );
    let tool: Vec<&str> = doc["tool_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rule"].as_str().unwrap())
        .collect();
    assert_eq!(tool, ["waiver.unused"]);
    assert_eq!(r.code, 1, "EVSE-201's errors still fail");

    // The same waivers in the --config file work too; a bad entry names file and line.
    let cfg = dir.path().join("cfg.toml");
    std::fs::write(
        &cfg,
        format!("[rules]\n\"rpc.response-unknown-id\" = \"warning\"\n{WAIVERS}"),
    )
    .unwrap();
    let r = run(&["check", SAMPLE, "--config", s(&cfg), "--format", "json"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["summary"]["waived"], 1, "{}", r.stderr);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[waivers]]\nrule = \"rpc.not-json\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"next week\"\n").unwrap();
    let r = run(&["check", SAMPLE, "--waivers", s(&bad)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("bad.toml:1: waiver: `expires` must be a date"),
        "{}",
        r.stderr
    );
}

#[test]
fn fail_on_none_passes_whatever_is_found() {
    let r = run(&["check", SAMPLE, "--fail-on", "none", "--color", "never"]);
    assert_eq!(r.code, 0);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("PASS: 24 frames")
            && last.contains("6 errors")
            && last.contains("fail on none"),
        "{last}"
    );
    // The per-rule table precedes it.
    assert!(r.stdout.contains("rule ") && r.stdout.contains("rpc.not-json  "));
}

#[test]
fn a_binary_file_stops_after_a_bounded_number_of_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("capture.pcap");
    // Pseudo-random bytes with plenty of line breaks: thousands of unreadable "lines".
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..400_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    assert!(bytes.iter().filter(|&&b| b == b'\n').count() > 1000);
    std::fs::write(&bin, &bytes).unwrap();
    for jobs in ["1", "4"] {
        let r = run(&["check", s(&bin), "--format", "json", "-j", jobs]);
        assert_eq!(r.code, 2);
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        let errors = doc["input_errors"].as_array().unwrap();
        assert_eq!(errors.len(), 101, "-j {jobs}");
        assert!(
            errors[100]["message"]
                .as_str()
                .unwrap()
                .starts_with("stopped after 100 input errors")
        );
        assert!(r.stderr.lines().count() <= 103, "bounded on stderr too");
    }
}

#[test]
fn many_findings_spill_and_come_back_in_line_order() {
    // More findings than a worker keeps in memory, on two stations, checked by two workers.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("many.jsonl");
    let mut text = String::new();
    for conn in ["CP-A", "CP-B"] {
        text.push_str(&format!(
            r#"{{"ts":"2026-11-22T10:00:00Z","conn":"{conn}","event":"open","subprotocol":"ocpp1.6"}}"#
        ));
        text.push('\n');
    }
    let n = 20_000;
    for i in 0..n {
        let conn = if i % 2 == 0 { "CP-A" } else { "CP-B" };
        text.push_str(&format!(
            r#"{{"ts":"2026-11-22T10:00:01Z","conn":"{conn}","from":"charger","text":"[2,\"{i}\",\"Heartbeat\",{{}}"}}"#
        ));
        text.push('\n');
    }
    std::fs::write(&trace, text).unwrap();
    let r = run_with_limit(
        &["check", s(&trace), "--format", "json", "-j", "2"],
        Duration::from_secs(120),
    );
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let lines: Vec<u64> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rpc.not-json")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "in line order");
    assert_eq!(lines[0], 3);
}

#[test]
fn completions_and_the_manual_page() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0);
        assert!(
            r.stdout.contains("fail-on") && r.stdout.contains("write-baseline"),
            "{shell}"
        );
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
    let man = run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(man.stdout.contains(".TH ocpp-inspector"));
    assert!(man.stdout.contains(".TH ocpp-inspector-check"));
    let v = run(&["--version"]);
    assert!(
        v.stdout.starts_with("ocpp-inspector 0.1.0 (commit "),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("schemas: built-in") && v.stdout.contains("OCPP 2.0.1 ("));
}

/// The command lines of examples/ci, run as they are written on a fixture: every
/// `ocpp-inspector check` line of the GitHub and GitLab pipelines and the pre-commit hook.
#[test]
fn the_ci_examples_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir(&traces).unwrap();
    std::fs::copy(SAMPLE, traces.join("sample.jsonl")).unwrap();
    let mut ran = 0;
    for example in [
        "github-actions.yml",
        "gitlab-ci.yml",
        "pre-commit-hooks.yaml",
    ] {
        let text = std::fs::read_to_string(root.join("examples/ci").join(example)).unwrap();
        for line in text.lines() {
            let Some(at) = line.find("ocpp-inspector check ") else {
                continue;
            };
            if line.trim_start().starts_with("name:") {
                continue;
            }
            let cmd = line[at + "ocpp-inspector ".len()..]
                .trim()
                .trim_end_matches('\\')
                .trim();
            let mut args: Vec<String> = cmd
                .split_whitespace()
                .map(|a| {
                    a.trim_matches('"')
                        .replace("traces/*.jsonl", "traces/sample.jsonl")
                })
                .collect();
            if line.trim_start().starts_with("entry:") {
                // pre-commit appends the staged files.
                args.push("traces/sample.jsonl".into());
            }
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp-inspector"));
            child.args(&args).current_dir(dir.path());
            let out = child.output().unwrap();
            // The fixture has errors: the gate fails (1), never a usage error (2).
            assert_eq!(
                out.status.code(),
                Some(1),
                "{example}: {cmd}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 3, "the examples hold the check commands");
    for f in [
        "ocpp.sarif",
        "ocpp-junit.xml",
        "gl-code-quality-report.json",
        "ocpp-report.html",
    ] {
        assert!(dir.path().join(f).exists(), "{f} written");
    }
    assert_valid_sarif(&read_json(&dir.path().join("ocpp.sarif")));
}

/// The waiver example in the README is a real waiver file.
#[test]
fn the_readme_waiver_example_loads() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let start = readme
        .find("```toml\n[[waivers]]")
        .expect("the README shows a waiver");
    let body = &readme[start + "```toml\n".len()..];
    let end = body.find("```").expect("closed code block");
    let w = ocpp_inspector::sink::report::waiver::Waivers::parse(&body[..end], "README.md")
        .expect("the example loads");
    assert_eq!(w.len(), 1);
}
