//! The `check` and `rules` commands end to end: output formats, exit codes, parallelism.

mod common;

use std::sync::Arc;

use common::{root, run};
use ocpp_inspector::checker::{CheckOptions, check_reader};
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use serde_json::Value;

const SAMPLE: &str = "tests/fixtures/traces/sample.jsonl";

#[test]
fn text_report_names_file_line_connection_rule_and_frame() {
    let r = run(&["check", SAMPLE, "--color", "never"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("error[rpc.action-case-mismatch]: action `HeartBeat` differs")
    );
    assert!(r.stdout.contains(&format!(
        "--> {SAMPLE}:15  EVSE-201  charger→csms  id c3  HeartBeat"
    )));
    assert!(r.stdout.contains(r#"| [2,"c3","HeartBeat",{}]"#));
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("FAIL: 24 frames in 1 file, 2 connections: 6 errors"),
        "{last}"
    );
    assert!(!r.stdout.contains("\x1b["), "no colour when asked not to");
    let coloured = run(&["check", SAMPLE, "--color", "always"]);
    assert!(coloured.stdout.contains("\x1b[1;31merror"));
}

#[test]
fn json_report_keeps_the_contract() {
    let r = run(&["check", SAMPLE, "--format", "json"]);
    assert_eq!(r.code, 1);
    let doc: Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    let s = &doc["summary"];
    assert_eq!(s["frames"], 24);
    assert_eq!(s["errors"], 6);
    assert_eq!(s["warnings"], 0);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6);
    for f in findings {
        for key in [
            "rule",
            "severity",
            "file",
            "line",
            "conn",
            "unique_id",
            "action",
            "message",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
        assert_eq!(f["file"], SAMPLE);
    }
    let stop = findings
        .iter()
        .find(|f| f["action"] == "StopTransaction")
        .unwrap();
    assert_eq!(stop["rule"], "schema.request-invalid");
    assert_eq!(stop["line"], 21);
    assert_eq!(stop["conn"], "CP-001");
    assert_eq!(stop["unique_id"], "t2");
    assert_eq!(stop["pointer"], "/meterStop");
    assert!(
        stop["message"]
            .as_str()
            .unwrap()
            .contains("\"1900\" is not of type \"integer\"")
    );
}

#[test]
fn junit_report_has_a_suite_per_file_and_failures_per_rule() {
    let r = run(&["check", SAMPLE, SAMPLE, "--format", "junit"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.matches("<testsuite ").count(), 2);
    // Failures carry the trace file and the first failing line.
    assert!(
        r.stdout.contains(&format!(
            r#"name="rpc.not-json" file="{SAMPLE}" line="24">"#
        )),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("<failure ").count(), 12, "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with("</testsuites>"));
}

#[test]
fn exit_codes_follow_fail_on_and_disable() {
    // Disabling every rule that fires makes the run clean.
    let mut args = vec!["check", SAMPLE];
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
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert!(clean.stdout.contains("PASS"));
    let unknown = run(&["check", SAMPLE, "--disable", "rpc.nope"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("unknown rule `rpc.nope`"));
    let bad_version = run(&["check", SAMPLE, "--ocpp", "1.7"]);
    assert_eq!(bad_version.code, 2);
    assert!(bad_version.stderr.contains("unknown OCPP version `1.7`"));
    let missing = run(&["check", "no/such/trace.jsonl"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stdout.contains("no/such/trace.jsonl: cannot open"));
}

#[test]
fn errata_selection_is_reported_and_validated() {
    let r = run(&["check", SAMPLE, "--format", "json", "--errata", "none"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["summary"]["schemas"], "built-in (errata: none)");
    let bad = run(&["check", SAMPLE, "--errata", "16-bogus"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown erratum `16-bogus`"));
}

#[test]
fn official_schema_folder_can_replace_the_builtin_set() {
    let official = root().join("../shared/ocpp-schemas");
    if !official.is_dir() {
        eprintln!("SKIPPED: {} is absent", official.display());
        return;
    }
    let dir = official.to_str().unwrap();
    let r = run(&["check", SAMPLE, "--format", "json", "--schemas", dir]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        doc["summary"]["schemas"]
            .as_str()
            .unwrap()
            .contains("1.6 from")
    );
    assert_eq!(
        doc["summary"]["errors"], 6,
        "same verdict as the built-in set"
    );
    let v16 = official.join("1.6");
    let r = run(&[
        "check",
        SAMPLE,
        "--format",
        "json",
        "--schemas",
        v16.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        doc["summary"]["schemas"]
            .as_str()
            .unwrap()
            .contains("built-in for 2.0.1, 2.1")
    );
    let empty = tempfile::tempdir().unwrap();
    let r = run(&["check", SAMPLE, "--schemas", empty.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no OCPP schema files found"));
}

/// A trace with many interleaved connections gets the same findings whether one engine
/// reads it or it is split by connection across several.
#[test]
fn sharding_by_connection_gives_the_same_findings() {
    let sample = std::fs::read_to_string(root().join(SAMPLE)).unwrap();
    let mut big = String::new();
    for i in 0..40 {
        for line in sample.lines() {
            big.push_str(
                &line
                    .replace("CP-001", &format!("CP-{i:03}"))
                    .replace("EVSE-201", &format!("EVSE-{i:03}")),
            );
            big.push('\n');
        }
    }
    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 0,
    };
    let render = |shards| {
        let r = check_reader(big.as_bytes(), &opts, shards);
        assert!(r.input_errors.is_empty());
        r.findings
            .iter()
            .map(|f| format!("{}:{}:{}:{}", f.line, f.conn, f.rule.id, f.message))
            .collect::<Vec<_>>()
    };
    let one = render(1);
    assert_eq!(one.len(), 40 * 6);
    assert_eq!(render(3), one);
    assert_eq!(render(8), one);
}

#[test]
fn rules_lists_explains_and_exports() {
    let list = run(&["rules"]);
    assert_eq!(list.code, 0);
    assert!(list.stdout.contains("rpc.not-json"));
    let one = run(&["rules", "rpc.concurrent-call"]);
    assert_eq!(one.code, 0);
    assert!(one.stdout.contains("What it checks"));
    assert!(one.stdout.contains("spec: OCPP-J 1.6 §4.1.1"));
    let family = run(&["rules", "schema"]);
    assert!(
        family
            .stdout
            .lines()
            .filter(|l| l.starts_with("schema."))
            .count()
            >= 5
    );
    let json = run(&["rules", "--format", "json"]);
    let arr: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(arr.len(), ocpp_inspector::engine::rules::REGISTRY.len());
    for r in &arr {
        for key in ["id", "severity", "versions", "summary", "spec"] {
            assert!(r.get(key).is_some(), "{r}");
        }
    }
    let nope = run(&["rules", "nope.nothing"]);
    assert_eq!(nope.code, 2);
    let errata = run(&["rules", "--errata"]);
    assert!(errata.stdout.contains("201-exiresponse-7500"));
}

#[test]
fn version_and_help_read_well() {
    let v = run(&["--version"]);
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("ocpp-inspector "));
    let h = run(&["check", "--help"]);
    assert!(h.stdout.contains("--fail-on"));
    let none = run(&[]);
    assert_eq!(none.code, 2);
}

/// The configuration example in the README is a real configuration file.
#[test]
fn the_readme_config_example_loads() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let start = readme
        .find("```toml\n[rules]")
        .expect("the README shows a config file");
    let body = &readme[start + "```toml\n".len()..];
    let end = body.find("```").expect("closed code block");
    let cfg = Config::from_toml(&body[..end], "README.md").expect("the example loads");
    assert_eq!(cfg.tol.boot_status_window_us, 300_000_000);
    let off = ocpp_inspector::engine::rules::find("seq.heartbeat-overdue").expect("rule");
    assert_eq!(
        cfg.severity_of(off, None),
        None,
        "the example switches it off"
    );
}

/// A station reconnects before its old connection is seen to close (the proxy relays both;
/// cellular chargers do this): the old connection's late close must not end the new one.
/// Before, its call in flight became `rpc.response-unknown-id` and its next frame
/// `rpc.frame-after-close`. The same trace without the second `open` shows both rules do
/// fire on a real close.
#[test]
fn the_late_close_of_a_superseded_connection_ends_nothing() {
    let trace = std::fs::read_to_string(
        root().join("tests/fixtures/traces/reconnect-before-old-close.jsonl"),
    )
    .unwrap();
    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 1,
    };
    let rules = |text: &str| {
        let r = check_reader(text.as_bytes(), &opts, 1);
        assert!(r.input_errors.is_empty(), "{:?}", r.input_errors);
        r.findings.iter().map(|f| f.rule.id).collect::<Vec<_>>()
    };
    assert_eq!(rules(&trace), Vec::<&str>::new());
    let one_link: String = trace
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let fired = rules(&one_link);
    assert!(fired.contains(&"rpc.response-unknown-id"), "{fired:?}");
    assert!(fired.contains(&"rpc.frame-after-close"), "{fired:?}");
}

#[test]
fn schema_only_keeps_framing_and_schemas_and_runs_no_protocol_rule() {
    let trace = [
        r#"{"ts":"2026-11-22T10:00:00Z","conn":"CP-1","event":"open","subprotocol":"ocpp1.6"}"#,
        // Before any BootNotification, and with a member its schema does not allow.
        r#"{"ts":"2026-11-22T10:00:01Z","conn":"CP-1","from":"charger","text":"[2,\"1\",\"StatusNotification\",{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\"}]"}"#,
        r#"{"ts":"2026-11-22T10:00:02Z","conn":"CP-1","from":"csms","text":"[3,\"1\",{}]"}"#,
        r#"{"ts":"2026-11-22T10:00:03Z","conn":"CP-1","from":"charger","text":"[2,\"2\",\"Heartbeat\",{\"extra\":1}]"}"#,
        r#"{"ts":"2026-11-22T10:00:04Z","conn":"CP-1","from":"csms","text":"[3,\"2\",{\"currentTime\":\"2026-11-22T10:00:04Z\"}]"}"#,
        r#"{"ts":"2026-11-22T10:00:05Z","conn":"CP-1","from":"charger","text":"[2,\"3\",\"StopTransaction\",{\"transactionId\":77,\"meterStop\":10,\"timestamp\":\"2026-11-22T10:00:05Z\"}]"}"#,
        r#"{"ts":"2026-11-22T10:00:06Z","conn":"CP-1","from":"csms","text":"[3,\"3\",{}]"}"#,
    ]
    .join("\n");
    let ids = |schema_only: bool| {
        let opts = CheckOptions {
            schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
            config: Arc::new({
                let mut c = Config::default();
                c.schema_only = schema_only;
                c
            }),
            default_version: None,
            jobs: 1,
        };
        let r = check_reader(trace.as_bytes(), &opts, 1);
        r.findings.iter().map(|f| f.rule.id).collect::<Vec<_>>()
    };
    let (all, only) = (ids(false), ids(true));
    let framing = |id: &&str| {
        ["rpc.", "schema.", "ws.", "dir."]
            .iter()
            .any(|p| id.starts_with(p))
    };
    assert!(only.contains(&"schema.request-invalid"), "{only:?}");
    assert!(only.iter().all(framing), "{only:?}");
    assert!(
        only.iter().all(|id| all.contains(id)),
        "{only:?} vs {all:?}"
    );
    assert!(
        all.iter().any(|id| !framing(id)),
        "the trace has protocol findings when rules run: {all:?}"
    );
    // The flag reaches the engine from the command line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    std::fs::write(&path, &trace).unwrap();
    let p = path.to_str().unwrap();
    let cli = run(&["check", p, "--schema-only", "--format", "json"]);
    let doc: Value = serde_json::from_str(&cli.stdout).expect("one JSON document");
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.iter().all(framing), "{rules:?}");
    assert!(rules.contains(&"schema.request-invalid"), "{rules:?}");
}
