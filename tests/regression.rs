//! Regressions found on real traffic (issue "Verdicts that hold on real traffic"): each
//! fixture under `tests/fixtures/regression/` is a small trace of a situation that real
//! chargers, CSMSs or logs showed, and each test states the exact verdict it must get.
//! Every one of these gave a false error or warning (or missed a fault) before its fix.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ocpp_inspector::checker::{CheckOptions, check_reader};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::Version;

static SCHEMAS: LazyLock<Arc<SchemaSet>> = LazyLock::new(|| {
    Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas load"))
});

/// Every finding of a fixture as (rule, severity, line), in report order.
fn run(name: &str, default_version: Option<Version>) -> Vec<(String, Severity, u64)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/regression")
        .join(name);
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let opts = CheckOptions {
        schemas: SCHEMAS.clone(),
        config: Arc::new(Config::default()),
        default_version,
        jobs: 1,
    };
    let result = check_reader(BufReader::new(file), &opts, 1);
    assert!(
        result.input_errors.is_empty(),
        "{name}: input errors {:?}",
        result.input_errors
    );
    result
        .findings
        .iter()
        .map(|f| (f.rule.id.to_owned(), f.severity, f.line))
        .collect()
}

/// The findings at warning or error.
fn serious(found: &[(String, Severity, u64)]) -> Vec<(String, Severity, u64)> {
    found
        .iter()
        .filter(|(_, s, _)| *s >= Severity::Warning)
        .cloned()
        .collect()
}

fn has(found: &[(String, Severity, u64)], rule: &str, severity: Severity, line: u64) -> bool {
    found
        .iter()
        .any(|(r, s, l)| r == rule && *s == severity && *l == line)
}

#[test]
fn a_log_that_starts_mid_conversation_gets_info_for_its_first_answer() {
    let found = run("midlife-first-answer-16.jsonl", Some(Version::V16));
    assert_eq!(serious(&found), vec![], "{found:?}");
    assert!(
        has(&found, "rpc.response-unknown-id", Severity::Info, 1),
        "{found:?}"
    );
}

#[test]
fn an_answer_after_a_gap_record_gets_info_not_error() {
    let found = run("midlife-gap-201.jsonl", None);
    assert_eq!(serious(&found), vec![], "{found:?}");
    assert!(
        has(&found, "rpc.response-unknown-id", Severity::Info, 5),
        "{found:?}"
    );
}

#[test]
fn an_answer_to_no_call_on_a_connection_seen_from_its_start_stays_an_error() {
    let found = run("unknown-answer-seen-from-start-16.jsonl", None);
    assert_eq!(
        serious(&found),
        vec![("rpc.response-unknown-id".to_owned(), Severity::Error, 6)]
    );
}

#[test]
fn a_callerror_answering_a_malformed_call_is_the_right_answer() {
    let found = run("malformed-call-answered-16.jsonl", None);
    // The malformed frame is the fault (a 3-element CALL); the CALLERROR that answers its
    // readable id is not.
    assert_eq!(
        serious(&found),
        vec![("rpc.wrong-element-count".to_owned(), Severity::Error, 6)],
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(r, _, _)| r == "rpc.response-unknown-id"),
        "{found:?}"
    );
}

#[test]
fn calls_before_the_boot_of_the_same_connection_are_reported_on_16_and_201() {
    for name in [
        "boot-after-heartbeat-16.jsonl",
        "boot-after-heartbeat-201.jsonl",
    ] {
        let found = run(name, None);
        // The Heartbeat of EARLY (line 5) was sent before its BootNotification (line 7);
        // GOOD, which booted first, is not blamed.
        assert_eq!(
            serious(&found),
            vec![("seq.boot-first".to_owned(), Severity::Error, 5)],
            "{name}: {found:?}"
        );
    }
}

#[test]
fn a_clock_set_at_boot_blames_the_future_stamps_not_the_correct_ones() {
    let found = run("clock-corrected-16.jsonl", None);
    // The stamp 2 h ahead (line 4) is the fault; the correct stamp after it (line 6) is not
    // out of order. A real step back (line 8, 10:00:05 after 10:00:09.9) still is.
    assert!(
        has(&found, "seq.cs-timestamp-future", Severity::Warning, 4)
            || has(&found, "seq.cs-timestamp-future", Severity::Info, 4)
            || has(&found, "seq.cs-timestamp-future", Severity::Error, 4),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(r, _, l)| r == "status16.out-of-order" && *l == 6),
        "{found:?}"
    );
    assert!(
        has(&found, "status16.out-of-order", Severity::Error, 8),
        "{found:?}"
    );
}

#[test]
fn register_readings_of_different_contexts_are_not_compared() {
    let found = run("meter-contexts-16.jsonl", None);
    assert!(
        !found
            .iter()
            .any(|(r, _, _)| r == "tx16.register-decreasing"),
        "{found:?}"
    );
}

#[test]
fn a_triggered_periodic_meter_values_is_info_on_16_and_a_warning_on_201() {
    let found = run("trigger-meter-values-periodic-16.jsonl", None);
    assert_eq!(serious(&found), vec![], "{found:?}");
    assert!(
        has(&found, "trig.meter-values-wrong-context", Severity::Info, 8),
        "{found:?}"
    );
    let found = run("trigger-meter-values-periodic-201.jsonl", None);
    assert!(
        has(
            &found,
            "trig.meter-values-wrong-context",
            Severity::Warning,
            8
        ),
        "{found:?}"
    );
}

#[test]
fn a_call_unanswered_before_a_gap_is_info_not_a_warning() {
    let found = run("unanswered-before-gap-16.jsonl", None);
    assert_eq!(serious(&found), vec![], "{found:?}");
    assert!(
        has(&found, "rpc.no-response", Severity::Info, 6),
        "{found:?}"
    );
}

#[test]
fn a_reset_answer_is_judged_by_the_state_when_it_was_requested() {
    // Reset OnIdle sent while idle; a transaction starts before the answer Accepted goes
    // out (a crossing): Accepted was right.
    let found = run("reset-onidle-crossing-201.jsonl", None);
    assert_eq!(serious(&found), vec![], "{found:?}");
}
