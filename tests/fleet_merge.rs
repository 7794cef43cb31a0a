//! `check --merge`: recordings of several proxies, judged as one. One recording split into
//! two files that interleave in time (by station, and a station's connections alternating
//! between the files, as a charger that reconnects to another proxy) gives, merged, the same
//! findings on the same (merged) lines as the single recording.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::path::Path;

/// `check --format json` of `files` (with `extra` flags): the findings without `file`.
fn findings(files: &[&Path], extra: &[&str]) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let r = common::run(&args);
    let doc: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    let mut out: Vec<serde_json::Value> = doc["findings"].as_array().unwrap().clone();
    for f in &mut out {
        f.as_object_mut().unwrap().remove("file");
    }
    (out, doc["summary"].clone())
}

/// Splits `trace` into two files by `pick(record, index of its connection for the station)`.
fn split(
    trace: &Path,
    dir: &Path,
    pick: impl Fn(&serde_json::Value, usize) -> bool,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let text = std::fs::read_to_string(trace).unwrap();
    let (mut one, mut two) = (String::new(), String::new());
    let mut opens: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let conn = v["conn"].as_str().unwrap_or("").to_owned();
        if v["event"] == "open" {
            *opens.entry(conn.clone()).or_default() += 1;
        }
        let nth = opens.get(&conn).copied().unwrap_or(0);
        let to = if pick(&v, nth) { &mut one } else { &mut two };
        to.push_str(line);
        to.push('\n');
    }
    assert!(!one.is_empty() && !two.is_empty());
    let (a, b) = (dir.join("proxy-a.jsonl"), dir.join("proxy-b.jsonl"));
    std::fs::write(&a, one).unwrap();
    std::fs::write(&b, two).unwrap();
    (a, b)
}

#[test]
fn a_recording_split_by_station_checks_merged_as_it_does_whole() {
    let dir = tempfile::tempdir().unwrap();
    let whole = common::root().join("tests/fixtures/traces/sample.jsonl");
    let (a, b) = split(&whole, dir.path(), |v, _| v["conn"] == "CP-001");
    let (single, s1) = findings(&[&whole], &[]);
    assert!(single.len() >= 5, "the fixture has findings: {single:?}");
    let (merged, s2) = findings(&[&a, &b], &["--merge"]);
    assert_eq!(merged, single);
    assert_eq!(s1["frames"], s2["frames"]);
    assert_eq!(s2["files"], 1, "judged as one recording");
    // Without --merge each file is judged alone: its lines are its own.
    let (apart, _) = findings(&[&a, &b], &[]);
    assert_eq!(apart.len(), single.len());
    assert_ne!(apart, single, "line numbers of each file, not of the whole");
}

#[test]
fn a_station_that_moves_between_proxies_is_one_station_when_merged() {
    // CP-M starts a transaction through proxy A (meterStart 100), reconnects through proxy B
    // and stops it there with a lower meter reading (50).
    let dir = tempfile::tempdir().unwrap();
    let whole = concat!(
        r#"{"ts":"2026-12-07T05:00:00.000Z","conn":"CP-M","event":"open","subprotocol":"ocpp1.6"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:00.100Z","conn":"CP-M","from":"charger","text":"[2,\"b1\",\"BootNotification\",{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:00.200Z","conn":"CP-M","from":"csms","text":"[3,\"b1\",{\"status\":\"Accepted\",\"currentTime\":\"2026-12-07T05:00:00.200Z\",\"interval\":300}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:01.000Z","conn":"CP-M","from":"charger","text":"[2,\"s1\",\"StartTransaction\",{\"connectorId\":1,\"idTag\":\"TAG\",\"meterStart\":100,\"timestamp\":\"2026-12-07T05:00:01.000Z\"}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:01.100Z","conn":"CP-M","from":"csms","text":"[3,\"s1\",{\"transactionId\":7,\"idTagInfo\":{\"status\":\"Accepted\"}}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:02.000Z","conn":"CP-M","event":"close","code":1001,"by":"charger"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:03.000Z","conn":"CP-M","event":"open","subprotocol":"ocpp1.6"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:04.000Z","conn":"CP-M","from":"charger","text":"[2,\"t1\",\"StopTransaction\",{\"transactionId\":7,\"meterStop\":50,\"timestamp\":\"2026-12-07T05:00:04.000Z\"}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:04.100Z","conn":"CP-M","from":"csms","text":"[3,\"t1\",{}]"}"#,
        "\n",
        r#"{"ts":"2026-12-07T05:00:05.000Z","conn":"CP-M","event":"close","code":1000,"by":"charger"}"#,
        "\n",
    );
    let path = dir.path().join("whole.jsonl");
    std::fs::write(&path, whole).unwrap();
    let (a, b) = split(&path, dir.path(), |_, nth| nth == 1);
    let (single, _) = findings(&[&path], &[]);
    let rules = |f: &[serde_json::Value]| -> Vec<String> {
        f.iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(rules(&single), ["tx16.meter-stop-below-start"]);
    let (merged, _) = findings(&[&b, &a], &["--merge"]);
    assert_eq!(
        merged, single,
        "the files' order does not matter, their times do"
    );
    // Judged apart, proxy B's half knows no transaction 7 and misses the meter error.
    let (apart, _) = findings(&[&a, &b], &[]);
    assert_eq!(rules(&apart), ["tx16.stop-unknown-tx"]);
}
