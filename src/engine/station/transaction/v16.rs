//! OCPP 1.6 transactions: the CSMS assigns the id in its StartTransaction answer, so a
//! transaction is open from that answer on. A StartTransaction sent and not answered yet is
//! a [`Start`]: its connector is taken all the same. A transaction the trace never saw start
//! (it started before the trace, or its StartTransaction was never answered) is adopted at
//! its first MeterValues or StopTransaction.
//!
//! ```text
//! StartTransaction ──► Start ──CALLRESULT {transactionId}──► Tx open ──StopTransaction──► stopped
//!                        │  (CALLERROR, or the connection closed: dead)           │ CALLRESULT
//!                        └─ removed by the next start on its connector,           ▼
//!                           a boot, or a StopTransaction -1 / of an unknown id   acknowledged
//! ```

use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::support::{CallRef, id_tag_info, int_of, push_capped, str_of, ts_of};
use crate::time::Timestamp;

/// Transactions followed (open ones, and recently stopped ones with their details).
pub(crate) const MAX_TXS: usize = 64;
/// Transaction ids the CSMS issued that are remembered.
const MAX_USED_IDS: usize = 4096;
/// StartTransactions waiting for their answer.
const MAX_STARTS: usize = 16;

/// The StopTransaction of a transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stop {
    /// When it was sent (observer time).
    pub(crate) sent_at: Timestamp,
    /// Its `timestamp`.
    pub(crate) ts: Option<Timestamp>,
    /// A CALLRESULT came, this many microseconds after the StopTransaction was sent.
    pub(crate) acked_after_us: Option<i64>,
}

/// A transaction of this charger.
#[derive(Debug)]
pub(crate) struct Tx {
    /// Unique per transaction followed by this station (an id the CSMS reuses gets a new
    /// one): what a rule keys the little it keeps per transaction by.
    pub(crate) serial: u64,
    pub(crate) id: i64,
    pub(crate) connector: Option<i64>,
    pub(crate) id_tag: Option<Box<str>>,
    /// The parentIdTag of the StartTransaction answer.
    pub(crate) parent: Option<Box<str>>,
    pub(crate) meter_start: Option<i64>,
    pub(crate) start_ts: Option<Timestamp>,
    /// The StartTransaction CALL, when the trace saw it.
    pub(crate) start: Option<CallRef>,
    pub(crate) stop: Option<Stop>,
}

impl Tx {
    fn new(serial: u64, id: i64) -> Tx {
        Tx {
            serial,
            id,
            connector: None,
            id_tag: None,
            parent: None,
            meter_start: None,
            start_ts: None,
            start: None,
            stop: None,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.stop.is_none()
    }
}

/// A StartTransaction CALL without a transaction id (yet).
#[derive(Debug)]
pub(crate) struct Start {
    /// Unique per start (a resend under the same message id keeps it).
    pub(crate) serial: u64,
    pub(crate) call: CallRef,
    pub(crate) connector: i64,
    /// No answer with an id will come any more (CALLERROR, connection closed).
    pub(crate) dead: bool,
}

/// What the current message did to the transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing (or not a transaction message).
    #[default]
    None,
    /// A StartTransaction was answered with a CALLERROR: the start `serial` is dead.
    StartRefused { start: u64 },
    /// A StartTransaction was answered with transaction `id`, which is followed already with
    /// the same connector, start time and meterStart: an identical resend, nothing changed.
    StartResent { id: i64 },
    /// A StartTransaction answer opened transaction `id`. `reused`: the id was that of a
    /// still open (`Some(true)`) or an earlier (`Some(false)`) transaction, now forgotten.
    Opened { id: i64, reused: Option<bool> },
    /// A MeterValues or StopTransaction named transaction `id`, not followed so far: it is
    /// now (with the stop, for a StopTransaction). `issued`: a StartTransaction answer of
    /// this station issued the id earlier.
    Adopted { id: i64, issued: bool },
    /// The first StopTransaction of followed transaction `id`.
    Stopped { id: i64 },
    /// A StopTransaction for transaction `id`, already stopped: nothing changed.
    StopRepeated { id: i64 },
}

/// No transaction at all: what a station that never sent a transaction message has.
pub(crate) static EMPTY: Txs = Txs {
    txs: Vec::new(),
    used_ids: Vec::new(),
    starts: Vec::new(),
    next_serial: 0,
    change: Change::None,
};

/// The 1.6 transactions of one station.
#[derive(Debug, Default)]
pub(crate) struct Txs {
    txs: Vec<Tx>,
    /// Transaction ids the CSMS issued, oldest first.
    used_ids: Vec<i64>,
    starts: Vec<Start>,
    next_serial: u64,
    /// What the current message did.
    pub(crate) change: Change,
}

impl Txs {
    /// The transaction with this id (the latest, should the id be reused).
    pub(crate) fn get(&self, id: i64) -> Option<&Tx> {
        self.txs.iter().rev().find(|t| t.id == id)
    }

    fn get_mut(&mut self, id: i64) -> Option<&mut Tx> {
        self.txs.iter_mut().rev().find(|t| t.id == id)
    }

    /// The transactions followed, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Tx> {
        self.txs.iter()
    }

    /// Whether a serial is that of a transaction still followed.
    pub(crate) fn has_serial(&self, serial: u64) -> bool {
        self.txs.iter().any(|t| t.serial == serial)
    }

    /// The StartTransactions waiting for their answer (and the dead ones not yet dropped).
    pub(crate) fn starts(&self) -> &[Start] {
        &self.starts
    }

    /// Whether a StartTransaction answer of this station issued `id`.
    pub(crate) fn issued(&self, id: i64) -> bool {
        self.used_ids.contains(&id)
    }

    /// The open transaction on `connector`, the latest first.
    pub(crate) fn open_on(&self, connector: i64) -> Option<&Tx> {
        self.txs
            .iter()
            .rev()
            .find(|t| t.is_open() && t.connector == Some(connector))
    }

    /// Transactions running: connectors with an open transaction or a StartTransaction
    /// sent for them and not refused, plus open transactions of no known connector. A
    /// resent StartTransaction counts once (one connector runs one transaction).
    pub(crate) fn open_count(&self) -> usize {
        let mut connectors: Vec<i64> = self
            .starts
            .iter()
            .filter(|s| !s.dead)
            .map(|s| s.connector)
            .chain(
                self.txs
                    .iter()
                    .filter(|t| t.is_open())
                    .filter_map(|t| t.connector),
            )
            .collect();
        connectors.sort_unstable();
        connectors.dedup();
        connectors.len()
            + self
                .txs
                .iter()
                .filter(|t| t.is_open() && t.connector.is_none())
                .count()
    }

    /// Whether a transaction runs on this connector: a StartTransaction for it was sent
    /// (answered or not) or a transaction was seen on it, and no StopTransaction followed.
    pub(crate) fn open_on_connector(&self, connector: i64) -> bool {
        self.starts.iter().any(|s| s.connector == connector) || self.open_on(connector).is_some()
    }

    fn serial(&mut self) -> u64 {
        self.next_serial = self.next_serial.wrapping_add(1);
        self.next_serial
    }

    fn add(&mut self, id: i64) -> &mut Tx {
        if self.txs.len() >= MAX_TXS {
            // Drop the oldest stopped transaction, or the oldest one.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            self.txs.remove(pos);
        }
        let serial = self.serial();
        self.txs.push(Tx::new(serial, id));
        let last = self.txs.len() - 1;
        &mut self.txs[last]
    }

    /// Drops the first dead start: a StopTransaction -1 or of an unknown id is the stop of
    /// a transaction whose start was never acknowledged.
    fn drop_dead_start(&mut self) {
        if let Some(pos) = self.starts.iter().position(|x| x.dead) {
            self.starts.remove(pos);
        }
    }

    pub(super) fn observe_close(&mut self) {
        for s in &mut self.starts {
            s.dead = true;
        }
    }

    /// A CALL of the charger.
    pub(super) fn observe_call(&mut self, call: &Call<'_>, now: Timestamp, line: u64) {
        let p = call.payload;
        match call.action {
            "StartTransaction" => {
                let (Some(connector), Some(_)) = (int_of(p, "connectorId"), str_of(p, "idTag"))
                else {
                    return;
                };
                let call = CallRef::of_call_at(call, now, line);
                self.starts
                    .retain(|x| !(x.dead && x.connector == connector));
                if let Some(x) = self.starts.iter_mut().find(|x| *x.call.id == *call.id) {
                    x.call = call;
                    x.connector = connector;
                } else {
                    let serial = self.serial();
                    push_capped(
                        &mut self.starts,
                        Start {
                            serial,
                            call,
                            connector,
                            dead: false,
                        },
                        MAX_STARTS,
                    );
                }
            }
            "MeterValues" => {
                let (Some(connector), Some(id)) =
                    (int_of(p, "connectorId"), int_of(p, "transactionId"))
                else {
                    return;
                };
                if id == -1 {
                    return;
                }
                if self.get(id).is_none() {
                    self.change = Change::Adopted {
                        id,
                        issued: self.issued(id),
                    };
                    self.add(id);
                }
                if connector > 0
                    && let Some(tx) = self.get_mut(id)
                    && tx.connector.is_none()
                {
                    tx.connector = Some(connector);
                }
            }
            "StopTransaction" => {
                let Some(id) = int_of(p, "transactionId") else {
                    return;
                };
                if id == -1 {
                    self.drop_dead_start();
                    return;
                }
                let stop = Stop {
                    sent_at: now,
                    ts: ts_of(p, "timestamp"),
                    acked_after_us: None,
                };
                match self.get_mut(id) {
                    None => {
                        self.change = Change::Adopted {
                            id,
                            issued: self.issued(id),
                        };
                        self.add(id).stop = Some(stop);
                        self.drop_dead_start();
                    }
                    Some(tx) if tx.stop.is_some() => self.change = Change::StopRepeated { id },
                    Some(tx) => {
                        tx.stop = Some(stop);
                        self.change = Change::Stopped { id };
                    }
                }
            }
            "BootNotification" => self.starts.retain(|x| !x.dead),
            _ => {}
        }
    }

    /// An answer to a CALL of the charger, at `now`.
    pub(super) fn observe_reply(&mut self, reply: &Reply<'_>, now: Timestamp) {
        match reply.action {
            "StartTransaction" => self.start_answered(reply),
            "StopTransaction" => {
                if let (Outcome::Result { .. }, Some(id)) =
                    (reply.outcome, int_of(reply.request, "transactionId"))
                    && let Some(stop) = self.get_mut(id).and_then(|t| t.stop.as_mut())
                    && stop.acked_after_us.is_none()
                {
                    stop.acked_after_us = Some(now.micros().saturating_sub(reply.call_at.micros()));
                }
            }
            _ => {}
        }
    }

    fn start_answered(&mut self, reply: &Reply<'_>) {
        let Some(pos) = self
            .starts
            .iter()
            .position(|x| *x.call.id == *reply.id && x.call.at == reply.call_at)
        else {
            return;
        };
        let start = match reply.outcome {
            Outcome::Error { .. } => {
                let x = &mut self.starts[pos];
                x.dead = true;
                self.change = Change::StartRefused { start: x.serial };
                return;
            }
            Outcome::Result { .. } => self.starts.remove(pos),
        };
        let Some(id) = reply.result().and_then(|r| int_of(r, "transactionId")) else {
            return;
        };
        let p = reply.request;
        let start_ts = ts_of(p, "timestamp");
        let meter_start = int_of(p, "meterStart");
        // The same id for an identical resend is the CSMS being idempotent.
        let same = self.get(id).is_some_and(|t| {
            t.connector == Some(start.connector)
                && t.start_ts.is_some()
                && t.start_ts == start_ts
                && t.meter_start == meter_start
        });
        if same {
            self.change = Change::StartResent { id };
            return;
        }
        let open = self.get(id).is_some_and(Tx::is_open);
        let reused = (open || self.issued(id)).then_some(open);
        if reused.is_some() {
            self.txs.retain(|t| t.id != id);
        }
        push_capped(&mut self.used_ids, id, MAX_USED_IDS);
        let parent = id_tag_info(reply, "parentIdTag");
        let tx = self.add(id);
        tx.connector = Some(start.connector);
        tx.id_tag = str_of(p, "idTag").map(Box::from);
        tx.parent = parent.map(Box::from);
        tx.meter_start = meter_start;
        tx.start_ts = start_ts;
        tx.start = Some(start.call);
        self.change = Change::Opened { id, reused };
    }
}

/// Whether two idTags are the same: IdToken is case-insensitive (OCPP 1.6 §7.28).
pub(crate) fn same_tag(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::{answer, call};
    use crate::ocpp::Side;
    use crate::wire::doc::Doc;
    use serde_json::json;

    #[test]
    fn a_start_holds_its_connector_until_answered_and_the_answer_opens_the_transaction() {
        let t = Timestamp::from_secs;
        let mut txs = Txs::default();
        let start = Doc::from_value(&json!({"connectorId": 1, "idTag": "T", "meterStart": 5,
            "timestamp": "2026-11-22T10:00:00Z"}));
        txs.observe_call(
            &call("s1", "StartTransaction", Side::Charger, start.root()),
            t(1),
            1,
        );
        assert!(txs.open_on_connector(1));
        assert_eq!(txs.open_count(), 1);
        // A resend under another message id still counts once.
        txs.observe_call(
            &call("s2", "StartTransaction", Side::Charger, start.root()),
            t(2),
            2,
        );
        assert_eq!(txs.open_count(), 1);
        let ok = Doc::from_value(&json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 7}));
        txs.observe_reply(
            &answer(
                "s1",
                "StartTransaction",
                Side::Charger,
                start.root(),
                t(1),
                ok.root(),
            ),
            t(3),
        );
        assert_eq!(
            txs.change,
            Change::Opened {
                id: 7,
                reused: None
            }
        );
        assert_eq!(txs.get(7).and_then(|x| x.meter_start), Some(5));
        // The same id for the identical resend opens nothing new.
        txs.observe_reply(
            &answer(
                "s2",
                "StartTransaction",
                Side::Charger,
                start.root(),
                t(2),
                ok.root(),
            ),
            t(4),
        );
        assert_eq!(txs.change, Change::StartResent { id: 7 });
        assert_eq!(txs.open_count(), 1);

        let stop = Doc::from_value(&json!({"transactionId": 7, "meterStop": 9,
            "timestamp": "2026-11-22T10:01:00Z"}));
        txs.observe_call(
            &call("x1", "StopTransaction", Side::Charger, stop.root()),
            t(60),
            5,
        );
        assert_eq!(txs.change, Change::Stopped { id: 7 });
        assert!(!txs.open_on_connector(1));
        txs.observe_call(
            &call("x2", "StopTransaction", Side::Charger, stop.root()),
            t(61),
            6,
        );
        assert_eq!(txs.change, Change::StopRepeated { id: 7 });
        // A later start answered with the same id reuses it.
        let later = Doc::from_value(&json!({"connectorId": 1, "idTag": "T", "meterStart": 9,
            "timestamp": "2026-11-22T10:02:00Z"}));
        txs.observe_call(
            &call("s3", "StartTransaction", Side::Charger, later.root()),
            t(70),
            7,
        );
        txs.observe_reply(
            &answer(
                "s3",
                "StartTransaction",
                Side::Charger,
                later.root(),
                t(70),
                ok.root(),
            ),
            t(71),
        );
        assert_eq!(
            txs.change,
            Change::Opened {
                id: 7,
                reused: Some(false)
            }
        );
    }

    #[test]
    fn an_unknown_transaction_is_adopted_once_and_a_close_kills_the_unanswered_starts() {
        let t = Timestamp::from_secs;
        let mut txs = Txs::default();
        let mv = Doc::from_value(&json!({"connectorId": 2, "transactionId": 40, "meterValue": []}));
        txs.observe_call(
            &call("m1", "MeterValues", Side::Charger, mv.root()),
            t(1),
            1,
        );
        assert_eq!(
            txs.change,
            Change::Adopted {
                id: 40,
                issued: false
            }
        );
        assert!(txs.open_on_connector(2));
        txs.change = Change::None;
        txs.observe_call(
            &call("m2", "MeterValues", Side::Charger, mv.root()),
            t(2),
            2,
        );
        assert_eq!(txs.change, Change::None);

        let start = Doc::from_value(&json!({"connectorId": 1, "idTag": "T", "meterStart": 0,
            "timestamp": "2026-11-22T10:00:00Z"}));
        txs.observe_call(
            &call("s1", "StartTransaction", Side::Charger, start.root()),
            t(3),
            3,
        );
        txs.observe_close();
        assert!(txs.starts().iter().all(|s| s.dead));
        assert_eq!(txs.open_count(), 1, "only transaction 40 runs");
    }
}
