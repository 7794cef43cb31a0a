//! The Resets the CSMS asked of a station, as facts: a request not answered yet (with
//! whether a transaction ran on its target when it was sent), the last Hard or Soft reset
//! asked and not refused (with the first boot after it), and a station-wide reset accepted
//! and not yet completed by a BootNotification (with the transactions that ran when it was
//! accepted).
//!
//! ```text
//! Reset ──► in flight ──answer──► Accepted / Scheduled, station-wide ──► pending
//!                                  (other answers, or one EVSE: gone)       │ BootNotification
//!                                                                           ▼
//!                                                     completed (for that message only)
//! ```
//!
//! Facts only: which answers are wrong, and which resets must stop their transactions, the
//! `avail` rules decide. Lazily allocated: a station never reset holds one empty pointer.

use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::support::{int_of, push_capped, status_of, str_of};
use crate::ocpp::Side;
use crate::time::Timestamp;

use super::transaction::{Transactions, TxKey};

/// Reset requests followed while unanswered.
const MAX_IN_FLIGHT: usize = 4;

/// The last Reset asked, from its CALL until an answer refuses it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    /// When the Reset CALL was sent.
    pub(crate) at: Timestamp,
    /// Its type was `Hard` (a 1.6 hard reset).
    pub(crate) hard: bool,
    /// The first BootNotification after it, when one came.
    pub(crate) booted_at: Option<Timestamp>,
}

/// A station-wide reset that was accepted.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The line of its Reset CALL.
    pub(crate) line: u64,
    /// It was a 1.6 Hard reset.
    pub(crate) hard16: bool,
    /// The transactions that ran when it was accepted (see [`Transactions::still_running`]).
    pub(crate) txs: Vec<TxKey>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Reset requests not answered yet: message id, and whether a transaction ran on the
    /// target when it was sent.
    in_flight: Vec<(Box<str>, bool)>,
    /// The current message answers a Reset: whether a transaction ran on its target when it
    /// was asked (or, if its request was not followed, when answered).
    answered_running: Option<bool>,
    asked: Option<Asked>,
    pending: Option<Accepted>,
    /// The reset the current BootNotification completes.
    completed: Option<Accepted>,
}

/// The resets of one station.
#[derive(Debug, Default)]
pub(crate) struct Resets(Option<Box<Inner>>);

/// Whether a transaction runs on the target of a Reset (an EVSE, or the station).
fn running_on_target(txs: &Transactions, evse: Option<i64>) -> bool {
    match evse {
        Some(e) if e > 0 => txs.running_on(e, false),
        _ => txs.any_running(),
    }
}

impl Resets {
    /// The current message answers a Reset: whether a transaction ran on its target when it
    /// was asked (`None` for any other message).
    pub(crate) fn answered_running(&self) -> Option<bool> {
        self.0.as_ref()?.answered_running
    }

    /// The accepted station-wide reset the current BootNotification completes, if any.
    pub(crate) fn completed(&self) -> Option<&Accepted> {
        self.0.as_ref()?.completed.as_ref()
    }

    /// The accepted station-wide reset no BootNotification has completed yet.
    pub(crate) fn pending(&self) -> Option<&Accepted> {
        self.0.as_ref()?.pending.as_ref()
    }

    /// The last Reset asked of the station and not refused (whatever the time since).
    pub(crate) fn asked(&self) -> Option<Asked> {
        self.0.as_ref()?.asked
    }

    /// A CALL was sent at `now` (the transactions already updated by it).
    pub(crate) fn observe_call(&mut self, call: &Call<'_>, txs: &Transactions, now: Timestamp) {
        if let Some(inner) = &mut self.0 {
            inner.answered_running = None;
            inner.completed = None;
        }
        match (call.action, call.from) {
            ("BootNotification", Side::Charger) => {
                if let Some(inner) = &mut self.0 {
                    inner.completed = inner.pending.take();
                    if let Some(asked) = &mut inner.asked {
                        asked.booted_at.get_or_insert(now);
                    }
                }
            }
            ("Reset", Side::Csms) => {
                let running = running_on_target(txs, int_of(call.payload, "evseId"));
                let inner = self.0.get_or_insert_default();
                let kind = str_of(call.payload, "type");
                if let Some(kind @ ("Hard" | "Soft")) = kind {
                    inner.asked = Some(Asked {
                        at: now,
                        hard: kind == "Hard",
                        booted_at: None,
                    });
                }
                push_capped(
                    &mut inner.in_flight,
                    (Box::from(call.id), running),
                    MAX_IN_FLIGHT,
                );
            }
            _ => {}
        }
    }

    /// A CALL was answered; `v2`: the connection speaks 2.x.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>, txs: &Transactions, v2: bool) {
        if let Some(inner) = &mut self.0 {
            inner.answered_running = None;
            inner.completed = None;
        }
        if reply.action != "Reset" || reply.caller != Side::Csms {
            return;
        }
        let inner = self.0.get_or_insert_default();
        let evse = int_of(reply.request, "evseId");
        let at_request = inner
            .in_flight
            .iter()
            .position(|(id, _)| **id == *reply.id)
            .map(|i| inner.in_flight.remove(i).1);
        inner.answered_running = Some(at_request.unwrap_or_else(|| running_on_target(txs, evse)));
        let refused = matches!(reply.outcome, Outcome::Error { .. })
            || status_of(reply).is_some_and(|s| !matches!(s, "Accepted" | "Scheduled"));
        if refused {
            inner.asked = None;
        }
        let Some(status) = status_of(reply) else {
            return;
        };
        let kind = str_of(reply.request, "type");
        let accepted = if v2 {
            matches!(status, "Accepted" | "Scheduled")
        } else {
            status == "Accepted"
        };
        if accepted && evse.is_none_or(|e| e == 0) {
            inner.pending = Some(Accepted {
                line: reply.call_line,
                hard16: !v2 && kind == Some("Hard"),
                txs: txs.running().map(|t| t.key()).collect(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::{answer, call};
    use crate::engine::station::transaction::TxRef;
    use crate::ocpp::Version;
    use crate::wire::doc::Doc;
    use serde_json::json;

    /// Feeds `r` the answer `result` to the CSMS's Reset `id` with `request`.
    fn answered(
        r: &mut Resets,
        id: &str,
        request: &Doc,
        result: &Doc,
        txs: &Transactions,
        v2: bool,
    ) {
        let a = answer(
            id,
            "Reset",
            Side::Csms,
            request.root(),
            Timestamp::from_secs(1),
            result.root(),
        );
        r.observe_reply(&a, txs, v2);
    }

    /// A 1.6 station running transaction 7 on connector 1.
    fn running_16() -> Transactions {
        let v = Some(Version::V16);
        let mut txs = Transactions::default();
        let start = Doc::from_value(&json!({"connectorId": 1, "idTag": "T", "meterStart": 0,
            "timestamp": "2026-11-22T10:00:00Z"}));
        let ok = Doc::from_value(&json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 7}));
        let t = Timestamp::from_secs(1);
        txs.observe_call(
            v,
            &call("s", "StartTransaction", Side::Charger, start.root()),
            t,
            1,
        );
        txs.observe_reply(
            v,
            &answer(
                "s",
                "StartTransaction",
                Side::Charger,
                start.root(),
                t,
                ok.root(),
            ),
            t,
        );
        txs
    }

    #[test]
    fn an_accepted_reset_keeps_what_ran_until_the_boot_completes_it() {
        let t = Timestamp::from_secs;
        let txs = running_16();
        assert!(txs.is_running(TxRef::Int(7)) && txs.running_on(1, false));
        let mut r = Resets::default();
        let reset = Doc::from_value(&json!({"type": "Soft"}));
        r.observe_call(&call("r", "Reset", Side::Csms, reset.root()), &txs, t(2));
        assert!(r.asked().is_some_and(|a| !a.hard && a.booted_at.is_none()));
        let accepted = Doc::from_value(&json!({"status": "Accepted"}));
        answered(&mut r, "r", &reset, &accepted, &txs, false);
        assert_eq!(r.answered_running(), Some(true));
        assert!(r.completed().is_none(), "not before the boot");
        let boot = Doc::from_value(&json!({}));
        r.observe_call(
            &call("b", "BootNotification", Side::Charger, boot.root()),
            &txs,
            t(9),
        );
        assert_eq!(r.asked().and_then(|a| a.booted_at), Some(t(9)));
        let done = r.completed().expect("the boot completes the reset");
        assert_eq!((done.line, done.hard16), (1, false));
        assert_eq!(done.txs.len(), 1);
        assert!(txs.still_running(&done.txs[0]));
        // The next message sees no completed reset any more.
        r.observe_call(
            &call("h", "Heartbeat", Side::Charger, boot.root()),
            &txs,
            t(10),
        );
        assert!(r.completed().is_none() && r.answered_running().is_none());
    }

    #[test]
    fn a_refused_or_one_evse_reset_is_not_pending_and_a_quiet_station_allocates_nothing() {
        let t = Timestamp::from_secs;
        let txs = Transactions::default();
        let mut r = Resets::default();
        let hb = Doc::from_value(&json!({}));
        r.observe_call(
            &call("h", "Heartbeat", Side::Charger, hb.root()),
            &txs,
            t(1),
        );
        assert!(r.0.is_none(), "nothing allocated for a station never reset");
        let one = Doc::from_value(&json!({"type": "Immediate", "evseId": 1}));
        let accepted = Doc::from_value(&json!({"status": "Accepted"}));
        r.observe_call(&call("r", "Reset", Side::Csms, one.root()), &txs, t(2));
        answered(&mut r, "r", &one, &accepted, &txs, true);
        assert_eq!(r.answered_running(), Some(false));
        let all = Doc::from_value(&json!({"type": "Immediate"}));
        let rejected = Doc::from_value(&json!({"status": "Rejected"}));
        answered(&mut r, "x", &all, &rejected, &txs, true);
        let soft = Doc::from_value(&json!({"type": "Soft"}));
        r.observe_call(&call("s", "Reset", Side::Csms, soft.root()), &txs, t(3));
        assert!(r.asked().is_some());
        answered(&mut r, "x", &all, &rejected, &txs, true);
        assert!(r.asked().is_none(), "a refusal ends the reset asked");
        r.observe_call(
            &call("b", "BootNotification", Side::Charger, hb.root()),
            &txs,
            t(4),
        );
        assert!(r.completed().is_none());
    }
}
