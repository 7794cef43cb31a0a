//! Causality, not wire order: a metamorphic test over conformant sessions.
//!
//! OCPP-J limits each side to one outstanding CALL of its own; it does not order a reply
//! against the replier's own next CALL. So from any conformant session, moving an answer
//! (CALLRESULT or CALLERROR) later, past CALLs of the side that answers (and the other
//! side's answers to those CALLs), gives another conformant session: the one a peer whose
//! reply goes out after its own follow-up calls produces (a charger that ends the
//! transaction before it acknowledges RequestStopTransaction, a CSMS that answers
//! BootNotification after its first GetVariables). The test makes every such crossing of
//! the simulators' recorded sessions (all three versions) and asserts that no error or
//! warning appears.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

use std::collections::HashSet;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ocpp_inspector::checker::{CheckOptions, check_reader};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, SchemaSet};
use ocpp_inspector::finding::Severity;
use serde_json::Value;

/// How many of the answering side's CALLs one move passes at most.
const MAX_PASSED_CALLS: usize = 3;

static OPTS: LazyLock<CheckOptions> = LazyLock::new(|| CheckOptions {
    schemas: Arc::new(
        SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas load"),
    ),
    config: Arc::new(Config::default()),
    default_version: None,
    jobs: 1,
});

/// One trace record, with what the test needs to know of its frame.
#[derive(Clone)]
struct Rec {
    value: Value,
    conn: String,
    from: Option<String>,
    /// Message type and id of the frame, if it is one.
    kind: Option<(i64, String)>,
}

fn load(name: &str) -> Vec<Rec> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sessions")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let value: Value = serde_json::from_str(l).expect("a trace record");
            let conn = value["conn"].as_str().unwrap_or_default().to_owned();
            let from = value["from"].as_str().map(str::to_owned);
            let kind = value["text"]
                .as_str()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .and_then(|f| Some((f.get(0)?.as_i64()?, f.get(1)?.as_str()?.to_owned())));
            Rec {
                value,
                conn,
                from,
                kind,
            }
        })
        .collect()
}

fn render(recs: &[Rec]) -> String {
    let mut s = String::new();
    for r in recs {
        s.push_str(&r.value.to_string());
        s.push('\n');
    }
    s
}

/// Error and warning findings as `line rule: message`.
fn serious(trace: &str) -> Vec<String> {
    let result = check_reader(Cursor::new(trace.as_bytes()), &OPTS, 1);
    assert!(result.input_errors.is_empty(), "{:?}", result.input_errors);
    result
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("line {} {}: {}", f.line, f.rule.id, f.message))
        .collect()
}

/// Every legal crossing of the answer at `i`: the answer moved after the 1st, 2nd, ...
/// CALL of the answering side that follows it (with the other side's answers to those
/// CALLs). Frames of other connections are passed freely. Returns the target positions.
fn crossings(recs: &[Rec], i: usize, max: usize) -> Vec<usize> {
    let answer = &recs[i];
    let Some(side) = answer.from.as_deref() else {
        return vec![];
    };
    // The one order the specification does impose on the answering side: a TriggerMessage
    // is answered before the message it requests is sent (1.6 §5.17, 2.0.1 F06.FR.04).
    let requested = requested_message(recs, i);
    let mut calls: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for (k, r) in recs.iter().enumerate().skip(i + 1) {
        if r.conn != answer.conn {
            continue;
        }
        let Some((ty, id)) = &r.kind else { break };
        let from = r.from.as_deref();
        if from == Some(side) && *ty == 2 && action_of(r) == requested.as_deref() {
            break;
        }
        if from == Some(side) && *ty == 2 {
            calls.insert(id);
            out.push(k);
            if out.len() == max {
                break;
            }
        } else if from != Some(side) && matches!(*ty, 3 | 4) && calls.contains(id.as_str()) {
            // The other side's answer to a CALL the answer passed: it may pass it too.
            if let Some(last) = out.last_mut() {
                *last = k;
            }
        } else {
            break;
        }
    }
    out
}

/// The action of a CALL record.
fn action_of(r: &Rec) -> Option<&str> {
    let text = r.value["text"].as_str()?;
    let start = text.find(",\"")? + 2;
    let rest = &text[start..];
    let rest = &rest[rest.find("\",\"")? + 3..];
    rest.split('"').next()
}

/// When the answer at `i` answers a TriggerMessage (or ExtendedTriggerMessage), the message
/// it requested.
fn requested_message(recs: &[Rec], i: usize) -> Option<String> {
    let (_, id) = recs[i].kind.as_ref()?;
    let call = recs[..i].iter().rev().find(|r| {
        r.conn == recs[i].conn
            && r.from != recs[i].from
            && matches!(&r.kind, Some((2, cid)) if cid == id)
    })?;
    let frame: Value = serde_json::from_str(call.value["text"].as_str()?).ok()?;
    match frame.get(2)?.as_str()? {
        "TriggerMessage" | "ExtendedTriggerMessage" => {
            Some(frame.get(3)?["requestedMessage"].as_str()?.to_owned())
        }
        _ => None,
    }
}

/// `recs` with the record at `i` moved to just after `k`, stamped with `k`'s time.
fn moved(recs: &[Rec], i: usize, k: usize) -> Vec<Rec> {
    let mut out = recs.to_vec();
    let mut answer = out.remove(i);
    answer.value["ts"] = recs[k]["ts"].clone();
    out.insert(k, answer);
    out
}

impl std::ops::Index<&str> for Rec {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.value[key]
    }
}

fn check_session(name: &str) -> usize {
    let recs = load(name);
    let base = serious(&render(&recs));
    assert!(
        base.is_empty(),
        "{name} is not conformant to begin with: {base:#?}"
    );
    let mut tried = 0;
    let mut failures = Vec::new();
    for i in 0..recs.len() {
        if !matches!(recs[i].kind, Some((3 | 4, _))) {
            continue;
        }
        for k in crossings(&recs, i, MAX_PASSED_CALLS) {
            tried += 1;
            let found = serious(&render(&moved(&recs, i, k)));
            if !found.is_empty() {
                failures.push(format!(
                    "answer at line {} moved after line {}: {found:?}",
                    i + 1,
                    k + 1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {tried} legal crossings drew errors or warnings:\n{}",
        failures.len(),
        failures.join("\n")
    );
    tried
}

#[test]
fn answers_crossing_the_answering_sides_own_calls_draw_no_error_or_warning() {
    let mut tried = 0;
    for name in ["sim-local-sessions.jsonl", "sim-remote-sessions.jsonl"] {
        tried += check_session(name);
    }
    // The sessions do contain crossings to make (not a vacuous pass).
    assert!(tried > 50, "only {tried} crossings tried");
}

#[test]
fn crossings_move_only_past_the_answering_sides_calls() {
    let recs = load("sim-remote-sessions.jsonl");
    for i in 0..recs.len() {
        for k in crossings(&recs, i, MAX_PASSED_CALLS) {
            assert!(k > i);
            assert_eq!(recs[k].conn, recs[i].conn);
        }
    }
    // An illegal move (an answer after the other side's next CALL) is not offered.
    for i in 0..recs.len() {
        let Some((3 | 4, _)) = recs[i].kind else {
            continue;
        };
        let other_call = recs.iter().enumerate().skip(i + 1).find(|(_, r)| {
            r.conn == recs[i].conn && r.from != recs[i].from && matches!(r.kind, Some((2, _)))
        });
        if let Some((j, _)) = other_call {
            assert!(crossings(&recs, i, MAX_PASSED_CALLS).iter().all(|&k| k < j));
        }
    }
}

/// The action of the CALL that the answer at `i` answers.
fn answered_action(recs: &[Rec], i: usize) -> Option<String> {
    let (_, id) = recs[i].kind.as_ref()?;
    let call = recs[..i].iter().rev().find(|r| {
        r.conn == recs[i].conn
            && r.from != recs[i].from
            && matches!(&r.kind, Some((2, cid)) if cid == id)
    })?;
    action_of(call).map(str::to_owned)
}

#[test]
fn a_remote_start_or_stop_answered_after_the_transaction_event_it_caused_is_conformant() {
    // The case: the charger ends (or starts) the transaction, and only then sends its
    // Accepted answer, however many of its own CALLs come between.
    let recs = load("sim-remote-sessions.jsonl");
    let mut moved_any = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for i in 0..recs.len() {
        let Some(action) = answered_action(&recs, i) else {
            continue;
        };
        let follow: &[&str] = match action.as_str() {
            "RemoteStartTransaction" => &["StartTransaction"],
            "RemoteStopTransaction" => &["StopTransaction"],
            "RequestStartTransaction" | "RequestStopTransaction" => &["TransactionEvent"],
            _ => continue,
        };
        // The first CALL of the transaction kind after the answer, and the first legal
        // position at or after it (past that CALL, and its answer when it can pass it).
        let Some(c) = (i + 1..recs.len()).find(|&j| {
            recs[j].conn == recs[i].conn
                && recs[j].from == recs[i].from
                && matches!(recs[j].kind, Some((2, _)))
                && action_of(&recs[j]).is_some_and(|a| follow.contains(&a))
        }) else {
            continue;
        };
        let Some(k) = crossings(&recs, i, usize::MAX)
            .into_iter()
            .find(|&k| k >= c)
        else {
            continue;
        };
        *moved_any.entry(action.clone()).or_insert(0) += 1;
        let found = serious(&render(&moved(&recs, i, k)));
        if !found.is_empty() {
            failures.push(format!(
                "{action} answer at line {} moved after line {}: {found:?}",
                i + 1,
                k + 1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for action in [
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "RequestStartTransaction",
        "RequestStopTransaction",
    ] {
        assert!(
            moved_any.contains_key(action),
            "no {action} crossing made: {moved_any:?}"
        );
    }
}

#[test]
fn a_remote_stop_sent_after_the_stop_was_acknowledged_is_still_an_error() {
    // Not a crossing: the transaction had ended (and its Ended was acknowledged) before the
    // CSMS sent RequestStopTransaction; Accepted is then a wrong answer.
    let recs = load("sim-remote-sessions.jsonl");
    let mut checked = 0;
    for i in 0..recs.len() {
        if answered_action(&recs, i).as_deref() != Some("RequestStopTransaction") {
            continue;
        }
        // The CALL of this answer, and the transaction's Ended event with its answer.
        let (_, id) = recs[i].kind.clone().expect("an answer");
        let call = (0..i)
            .rev()
            .find(|&j| {
                recs[j].conn == recs[i].conn && matches!(&recs[j].kind, Some((2, c)) if *c == id)
            })
            .expect("the call");
        let ended = (i + 1..recs.len()).find(|&j| {
            recs[j].conn == recs[i].conn
                && recs[j].value["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("\"Ended\""))
        });
        let Some(ended) = ended else { continue };
        let ack = (ended + 1..recs.len())
            .find(|&j| {
                recs[j].conn == recs[i].conn
                    && recs[j].kind.as_ref().map(|(t, _)| *t) == Some(3)
                    && recs[j].kind.as_ref().map(|(_, x)| x)
                        == recs[ended].kind.as_ref().map(|(_, x)| x)
            })
            .expect("the Ended is answered");
        // Move the request and its answer after the acknowledged Ended.
        let mut out = recs.clone();
        let answer = out.remove(i);
        let request = out.remove(call);
        let at = ack - 2;
        let mut request = request;
        let mut answer = answer;
        request.value["ts"] = recs[ack]["ts"].clone();
        answer.value["ts"] = recs[ack]["ts"].clone();
        out.insert(at + 1, request);
        out.insert(at + 2, answer);
        let found = serious(&render(&out));
        assert!(
            found
                .iter()
                .any(|f| f.contains("remote.stop-unknown-tx-accepted")),
            "line {}: {found:?}",
            i + 1
        );
        checked += 1;
    }
    assert!(checked > 0);
}
