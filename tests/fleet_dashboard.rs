//! `deploy/grafana/dashboard.json` and the README's key PromQL queries name only metrics the
//! proxy's `/metrics` really has, each with a suffix its type has (`_total` for a counter,
//! `_bucket`/`_count`/`_sum` for a histogram, none for a gauge), and rates and increases are
//! taken of counters and buckets only.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::collections::BTreeMap;

/// The exposed series names and what each is, from the `# TYPE` lines of a real scrape.
fn exposed() -> BTreeMap<String, &'static str> {
    use ocpp_inspector::admin::metrics::{ConnLabels, FindingLabels, FrameLabels};
    // A family shows in the scrape once it has a series: one of each.
    let m = ocpp_inspector::admin::Metrics::new();
    let conn = ConnLabels {
        version: "1.6",
        profile: "0",
    };
    m.connections.get_or_create(&conn).inc();
    m.connections_open.get_or_create(&conn).inc();
    let frame = FrameLabels {
        from: "charger",
        message_type: "CALL",
    };
    m.frames.get_or_create(&frame).inc();
    m.bytes.get_or_create(&frame).inc();
    m.findings
        .get_or_create(&FindingLabels {
            rule: "rpc.not-json",
            severity: "error",
        })
        .inc();
    m.refused(404);
    m.tls_failed("timeout");
    let text = m.encode();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (name, kind) = rest.split_once(' ').unwrap();
        let suffixes: &[(&str, &'static str)] = match kind {
            "counter" => &[("_total", "counter")],
            "histogram" => &[
                ("_bucket", "bucket"),
                ("_count", "counter"),
                ("_sum", "counter"),
            ],
            "gauge" => &[("", "gauge")],
            other => panic!("{name}: type {other} not expected"),
        };
        for (s, what) in suffixes {
            out.insert(format!("{name}{s}"), *what);
        }
    }
    assert!(out.len() > 20, "{out:?}\n{text}");
    out
}

/// Every `ocpp_inspector_…` name in `expr`, with whether it sits directly in a `rate(` or
/// `increase(` range.
fn names(expr: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("ocpp_inspector_") {
        let before = &rest[..i];
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let ranged = before.ends_with("rate(") || before.ends_with("increase(");
        out.push((tail[..end].to_owned(), ranged));
        rest = &tail[end..];
    }
    out
}

fn check(expr: &str, exposed: &BTreeMap<String, &'static str>, place: &str) -> usize {
    let found = names(expr);
    for (name, ranged) in &found {
        let kind = exposed
            .get(name)
            .unwrap_or_else(|| panic!("{place}: {name} is not a metric of /metrics ({expr})"));
        if *ranged {
            assert!(
                matches!(*kind, "counter" | "bucket"),
                "{place}: rate/increase of the {kind} {name} ({expr})"
            );
        }
    }
    found.len()
}

#[test]
fn the_grafana_dashboard_queries_name_real_metrics() {
    let exposed = exposed();
    let path = common::root().join("deploy/grafana/dashboard.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = doc["panels"].as_array().unwrap();
    assert!(panels.len() >= 8, "{} panels", panels.len());
    let mut used = std::collections::BTreeSet::new();
    for p in panels {
        let title = p["title"].as_str().unwrap();
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            assert!(check(expr, &exposed, title) > 0, "{title}: {expr}");
            used.extend(names(expr).into_iter().map(|(n, _)| n));
        }
    }
    // The panels the README promises.
    for key in [
        "ocpp_inspector_connections_open",
        "ocpp_inspector_frames_total",
        "ocpp_inspector_forward_latency_seconds_bucket",
        "ocpp_inspector_findings_total",
        "ocpp_inspector_inspection_dropped_events_total",
        "ocpp_inspector_recording_gaps_total",
        "ocpp_inspector_draining",
    ] {
        assert!(used.contains(key), "no panel shows {key}");
    }
}

#[test]
fn the_readme_promql_queries_name_real_metrics() {
    let exposed = exposed();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let fleet = readme
        .split("\n## Fleet\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Fleet section");
    let block = fleet
        .split("```promql\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a promql block in Fleet");
    let mut n = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let expr = line.split('#').next().unwrap();
        n += check(expr, &exposed, "README");
    }
    assert!(n >= 10, "{block}");
}
