//! `tx16.*` and the 1.6 part of `remote.*`: OCPP 1.6 transactions, meter values and the
//! remote start / stop that lead to them.
//!
//! ```text
//! StartTransaction ──CALLRESULT {transactionId}──► open ──StopTransaction──► stop sent
//!     │  (no answer: start-not-answered)             │  MeterValues             │ CALLRESULT
//!     └─ connector busy? reservation used?           │  (connector, order,      ▼
//!                                                    │   registers, samples)   stop acknowledged
//!                                                    └─ RemoteStopTransaction Accepted:
//!                                                       StopTransaction reason Remote expected
//! RemoteStartTransaction Accepted ──► StartTransaction with the idTag (or Preparing, or a
//!                                     refused Authorize) within followup_window
//! ```
//!
//! The CSMS assigns the transaction id in its StartTransaction answer, so a transaction is
//! open from that answer on. A transaction the trace never saw start (it started before the
//! trace, or its StartTransaction was never answered) is adopted at its first MeterValues or
//! StopTransaction: reported once, at most as a warning, then followed like the others.

use super::{
    CONTEXT_MISMATCH, IDTAG_MISSING_ON_STOP, METER_STOP_BELOW_START, METER_VALUES_AFTER_STOP,
    METER_VALUES_MAIN_METER_WITH_TX, METER_VALUES_UNKNOWN_TX, METER_VALUES_WRONG_CONNECTOR,
    MINUS_ONE_REJECTED, MINUS_ONE_TRANSACTION_ID, REGISTER_DECREASING, RESERVATION_ID_MISSING,
    SAMPLE_INTERVAL_MISMATCH, SAMPLED_VALUE_NOT_NUMERIC, START_CONNECTOR_ZERO, START_NOT_ANSWERED,
    START_ON_BUSY_CONNECTOR, STOP_BEFORE_START, STOP_REASON_MISSING, STOP_REASON_NOT_DEAUTHORIZED,
    STOP_REASON_NOT_REMOTE, STOP_TWICE, STOP_UNKNOWN_TX, TRANSACTION_ID_NONPOSITIVE,
    TRANSACTION_ID_REUSED, TX_MESSAGES_OUT_OF_ORDER,
};
use crate::engine::rules::remote::{
    REMOTE_PROFILE_HAS_TRANSACTION_ID, REMOTE_PROFILE_NOT_TXPROFILE, REMOTE_START_CONNECTOR_ZERO,
    REMOTE_START_NOT_FOLLOWED, REMOTE_STOP_NOT_FOLLOWED, REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
};
use serde_json::Value;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::V16;
use crate::engine::rules::support::{
    CallRef, arr_of, credible_stamp, int_of, push_capped, status_of, str_of, ts_of,
};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::Deadlines;
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------
// Rules: starting a transaction.

// ---------------------------------------------------------------------------------------
// Rules: meter values.

// ---------------------------------------------------------------------------------------
// Rules: stopping a transaction.

// ---------------------------------------------------------------------------------------
// Rules: sampled values.

// ---------------------------------------------------------------------------------------
// Rules: remote start and stop, 1.6. The catalogue gives profile-not-txprofile,
// profile-has-transaction-id, start-not-followed, stop-unknown-tx-accepted and
// stop-not-followed to all versions; only the 1.6 checks are here, so they are registered
// for 1.6. A 2.x check of the same fault should reuse these statics (and widen `versions`)
// rather than register the id a second time: start-not-followed and stop-not-followed are
// widened so (as is stop-unknown-tx-accepted), their 2.x checks live in tx2.rs.

// ---------------------------------------------------------------------------------------
// State.

mod meter;
mod start;
mod stop;
use meter::*;
use start::*;
use stop::*;

const MAX_TXS: usize = 64;
const MAX_USED_IDS: usize = 4096;
const MAX_STARTS: usize = 16;
const MAX_WATCHES: usize = 16;
const MAX_RESERVATIONS: usize = 16;
const MAX_PARENTS: usize = 64;
const MAX_REGISTERS: usize = 8;
const MAX_UNLOCKS: usize = 8;

/// How many followup windows a Reset stays in force when no BootNotification follows.
const RESET_WINDOWS: i64 = 10;

/// The StopTransaction of a transaction.
#[derive(Debug, Clone, Copy)]
struct Stop {
    /// When it was sent (observer time).
    sent_at: Timestamp,
    /// Its `timestamp`.
    ts: Option<Timestamp>,
    /// A CALLRESULT came; `in_time` when within the call timeout.
    acked: Option<bool>,
}

/// The last Energy.Active.Import.Register reading of one (phase, location, unit).
#[derive(Debug, Clone, Copy)]
struct Register {
    key: RegisterKey,
    ts: Option<Timestamp>,
    value: f64,
}

/// A transaction of this charger.
#[derive(Debug)]
struct Tx {
    id: i64,
    connector: Option<i64>,
    id_tag: Option<Box<str>>,
    parent: Option<Box<str>>,
    meter_start: Option<i64>,
    start_ts: Option<Timestamp>,
    /// The StartTransaction CALL, when the trace saw it.
    start: Option<CallRef>,
    /// The latest timestamp of the transaction's delivered messages.
    last_ts: Option<Timestamp>,
    stop: Option<Stop>,
    /// The idTag (or one of its group) was presented in an Authorize at this time.
    reauth_at: Option<Timestamp>,
    registers: Vec<Register>,
    register_flagged: bool,
    /// The last periodic sample and the MeterValueSampleInterval in force then.
    last_periodic: Option<(Timestamp, i64)>,
    interval_flagged: bool,
    begin_flagged: bool,
    /// The earliest Transaction.End sample delivered in MeterValues.
    end_sample: Option<Timestamp>,
}

impl Tx {
    fn new(id: i64) -> Tx {
        Tx {
            id,
            connector: None,
            id_tag: None,
            parent: None,
            meter_start: None,
            start_ts: None,
            start: None,
            last_ts: None,
            stop: None,
            reauth_at: None,
            registers: Vec::new(),
            register_flagged: false,
            last_periodic: None,
            interval_flagged: false,
            begin_flagged: false,
            end_sample: None,
        }
    }

    fn is_open(&self) -> bool {
        self.stop.is_none()
    }

    fn see(&mut self, ts: Timestamp) {
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }
}

/// A StartTransaction CALL without a transaction id (yet).
#[derive(Debug)]
struct Start {
    call: CallRef,
    connector: i64,
    /// No answer with an id will come any more (CALLERROR, connection closed).
    dead: bool,
    /// Already reported by tx16.start-not-answered.
    reported: bool,
}

#[derive(Debug)]
struct RemoteStart {
    call: CallRef,
    id_tag: Box<str>,
    connector: Option<i64>,
}

#[derive(Debug)]
struct RemoteStop {
    call: CallRef,
    tx: i64,
    /// `None` once tx16.remote-stop-not-followed was reported.
    due: Option<Timestamp>,
}

#[derive(Debug)]
struct Deauth {
    tx: i64,
    start: CallRef,
    status: Box<str>,
    /// When the refusing StartTransaction.conf came.
    answered_at: Timestamp,
}

/// The due time of a deauthorized transaction the charger may let go on
/// (MaxEnergyOnInvalidId): never, only its stop reason is judged.
const NEVER: Timestamp = Timestamp(i64::MAX);

#[derive(Debug)]
struct Reservation {
    id: i64,
    connector: i64,
    id_tag: Box<str>,
    parent: Option<Box<str>>,
    expiry: Option<Timestamp>,
}

/// A Reset in force: stops are expected with its reason.
#[derive(Debug, Clone, Copy)]
struct ResetWatch {
    reason: &'static str,
    at: Timestamp,
    /// Set by the first BootNotification after the Reset.
    until: Option<Timestamp>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// When the last BootNotification of this station was seen: its transactions since
    /// are known.
    txs: Vec<Tx>,
    /// Transaction ids the CSMS issued, oldest first.
    used_ids: Vec<i64>,
    starts: Vec<Start>,
    remote_starts: Deadlines<RemoteStart, MAX_WATCHES>,
    /// Recent StartTransactions (idTag, connector, when sent): a RemoteStartTransaction
    /// answered Accepted after the transaction it asked for had started (the charger acted
    /// before its answer went out, a legal crossing) needs no follow-up.
    recent_starts: Vec<(Box<str>, i64, Timestamp)>,
    remote_stops: Vec<RemoteStop>,
    deauths: Deadlines<Deauth, MAX_WATCHES>,
    reservations: Vec<Reservation>,
    /// idTag → parentIdTag, from Authorize and StartTransaction answers.
    parents: Vec<(Box<str>, Box<str>)>,
    reset: Option<ResetWatch>,
    /// UnlockConnector requests: (connector, when).
    unlocks: Vec<(i64, Timestamp)>,
}

impl State {
    /// Transactions running: connectors with an open transaction or a StartTransaction
    /// sent for them and not refused, plus open transactions of no known connector. A
    /// resent StartTransaction counts once (one connector runs one transaction).
    pub(crate) fn open_transactions(&self) -> usize {
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
        self.starts.iter().any(|s| s.connector == connector)
            || self
                .txs
                .iter()
                .any(|t| t.is_open() && t.connector == Some(connector))
    }

    fn tx(&mut self, id: i64) -> Option<&mut Tx> {
        self.txs.iter_mut().rev().find(|t| t.id == id)
    }

    fn add_tx(&mut self, tx: Tx) -> &mut Tx {
        if self.txs.len() >= MAX_TXS {
            // Drop the oldest closed transaction, or the oldest one.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            self.txs.remove(pos);
        }
        self.txs.push(tx);
        let last = self.txs.len() - 1;
        &mut self.txs[last]
    }

    fn parent_of(&self, id_tag: &str) -> Option<&str> {
        self.parents
            .iter()
            .rev()
            .find(|(t, _)| t.eq_ignore_ascii_case(id_tag))
            .map(|(_, p)| &**p)
    }

    fn learn_parent(&mut self, id_tag: &str, parent: &str) {
        self.parents
            .retain(|(t, _)| !t.eq_ignore_ascii_case(id_tag));
        push_capped(
            &mut self.parents,
            (Box::from(id_tag), Box::from(parent)),
            MAX_PARENTS,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers.

fn same_tag(a: &str, b: &str) -> bool {
    // IdToken is case-insensitive (OCPP 1.6 §7.28).
    a.eq_ignore_ascii_case(b)
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Tx16;

impl Family for Tx16 {
    const VERSIONS: &'static [Version] = V16;
    const CALLS: Listen = Listen::Only(&[
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
        "StatusNotification",
        "Authorize",
        "BootNotification",
        "RemoteStartTransaction",
        "Reset",
        "UnlockConnector",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "StartTransaction",
        "StopTransaction",
        "MeterValues",
        "Authorize",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "CancelReservation",
        "Reset",
        "UnlockConnector",
    ]);

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        // Unanswered StartTransactions get no answer any more (the charger will resend).
        for s in &mut st.tx16.starts {
            s.dead = true;
        }
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let s = &mut st.tx16;
        if s.starts.is_empty()
            && s.remote_starts.is_empty()
            && s.remote_stops.is_empty()
            && s.deauths.is_empty()
        {
            return;
        }
        let tol = ctx.config().tol;
        let secs = tol.followup_window_us as f64 / 1e6;
        for start in &mut s.starts {
            if !start.dead
                && !start.reported
                && now.micros().saturating_sub(start.call.at.micros()) > tol.call_timeout_us
            {
                start.reported = true;
                ctx.report_about(
                    &START_NOT_ANSWERED,
                    start.call.about(),
                    format!(
                        "StartTransaction for connector {} got no CALLRESULT within {:.0} s; the charger cannot learn its transaction id",
                        start.connector,
                        tol.call_timeout_us as f64 / 1e6
                    ),
                );
            }
        }
        for (due, r) in s.remote_starts.expired(now) {
            let total = due.secs_since(r.call.at);
            ctx.report_about(
                &REMOTE_START_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RemoteStartTransaction for idTag {}{} was accepted, but within {total:.0} s no StartTransaction for it came, no connector went Preparing and no Authorize of it was refused",
                    r.id_tag,
                    r.connector
                        .map_or(String::new(), |c| format!(" on connector {c}"))
                ),
            );
        }
        for r in &mut s.remote_stops {
            if r.due.is_some_and(|d| now > d) {
                r.due = None;
                ctx.report_about(
                    &REMOTE_STOP_NOT_FOLLOWED,
                    r.call.about(),
                    format!(
                        "RemoteStopTransaction for transaction {} was accepted, but no StopTransaction for it followed within {secs:.0} s",
                        r.tx
                    ),
                );
            }
        }
        for (_, d) in s.deauths.expired(now) {
            ctx.report_about(
                &STOP_REASON_NOT_DEAUTHORIZED,
                d.start.about(),
                format!(
                    "transaction {} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and no StopTransaction followed within {secs:.0} s",
                    d.tx, d.status
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        match (call.action, call.from) {
            ("StartTransaction", Side::Charger) => start_transaction(st, ctx, call),
            ("MeterValues", Side::Charger) => meter_values(st, ctx, call),
            ("StopTransaction", Side::Charger) => stop_transaction(st, ctx, call),
            ("StatusNotification", Side::Charger) => status_notification(st, call.payload),
            ("Authorize", Side::Charger) => {
                if let Some(tag) = str_of(call.payload, "idTag") {
                    let now = ctx.now();
                    for t in &mut st.tx16.txs {
                        if t.is_open() && t.id_tag.as_deref().is_some_and(|x| same_tag(x, tag)) {
                            t.reauth_at = Some(now);
                        }
                    }
                }
            }
            ("BootNotification", Side::Charger) => {
                let s = &mut st.tx16;
                s.starts.retain(|x| !x.dead);
                let window = ctx.config().tol.followup_window_us;
                if let Some(r) = &mut s.reset
                    && r.until.is_none()
                {
                    r.until = Some(Timestamp::after(ctx.now(), window));
                }
            }
            ("RemoteStartTransaction", Side::Csms) => remote_start_request(ctx, call.payload),
            ("Reset", Side::Csms) => {
                let reason = match str_of(call.payload, "type") {
                    Some("Hard") => "HardReset",
                    Some("Soft") => "SoftReset",
                    _ => return,
                };
                st.tx16.reset = Some(ResetWatch {
                    reason,
                    at: ctx.now(),
                    until: None,
                });
            }
            ("UnlockConnector", Side::Csms) => {
                if let Some(c) = int_of(call.payload, "connectorId") {
                    push_capped(&mut st.tx16.unlocks, (c, ctx.now()), MAX_UNLOCKS);
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match (reply.action, reply.caller) {
            ("StartTransaction", Side::Charger) => start_answered(st, ctx, reply),
            ("StopTransaction", Side::Charger) => {
                let Some(id) = int_of(reply.request, "transactionId") else {
                    return;
                };
                match reply.outcome {
                    Outcome::Error { code } if id == -1 => ctx.report(
                        &MINUS_ONE_REJECTED,
                        format!("StopTransaction with transactionId -1 answered with CALLERROR {code}; errata 3.18 requires the CSMS to accept it"),
                    ),
                    Outcome::Error { .. } => {}
                    Outcome::Result { .. } => {
                        let in_time = ctx.now().micros().saturating_sub(reply.call_at.micros())
                            <= ctx.config().tol.call_timeout_us;
                        if let Some(stop) = st.tx16.tx(id).and_then(|t| t.stop.as_mut())
                            && stop.acked.is_none() {
                                stop.acked = Some(in_time);
                            }
                    }
                }
            }
            ("MeterValues", Side::Charger) => {
                if let Outcome::Error { code } = reply.outcome
                    && int_of(reply.request, "transactionId") == Some(-1)
                {
                    ctx.report(
                            &MINUS_ONE_REJECTED,
                            format!("MeterValues with transactionId -1 answered with CALLERROR {code}; errata 3.18 requires the CSMS to accept it"),
                        );
                }
            }
            ("Authorize", Side::Charger) => authorize_answered(st, reply),
            ("RemoteStartTransaction", Side::Csms) => {
                if status_of(reply) != Some("Accepted") {
                    return;
                }
                let p = reply.request;
                let Some(tag) = str_of(p, "idTag") else {
                    return;
                };
                let connector = int_of(p, "connectorId");
                if st.tx16.recent_starts.iter().any(|(t, c, at)| {
                    same_tag(t, tag) && connector.is_none_or(|x| x == *c) && *at >= reply.call_at
                }) {
                    return; // started before the answer went out: already followed
                }
                let tol = ctx.config().tol;
                let wait = st
                    .station
                    .config
                    .key_int("ConnectionTimeOut")
                    .filter(|t| *t > 0)
                    .map_or(0, |t| t.saturating_mul(1_000_000));
                st.tx16.remote_starts.arm(
                    ctx.now().after(tol.followup_window_us.saturating_add(wait)),
                    RemoteStart {
                        call: CallRef::of_reply(reply),
                        id_tag: Box::from(tag),
                        connector,
                    },
                );
            }
            ("RemoteStopTransaction", Side::Csms) => remote_stop_answered(st, ctx, reply),
            ("ReserveNow", Side::Csms) => {
                let p = reply.request;
                if status_of(reply) != Some("Accepted") {
                    return;
                }
                let (Some(id), Some(connector), Some(tag)) = (
                    int_of(p, "reservationId"),
                    int_of(p, "connectorId"),
                    str_of(p, "idTag"),
                ) else {
                    return;
                };
                let s = &mut st.tx16;
                s.reservations.retain(|r| r.id != id);
                push_capped(
                    &mut s.reservations,
                    Reservation {
                        id,
                        connector,
                        id_tag: Box::from(tag),
                        parent: str_of(p, "parentIdTag").map(Box::from),
                        expiry: ts_of(p, "expiryDate"),
                    },
                    MAX_RESERVATIONS,
                );
            }
            ("CancelReservation", Side::Csms) if status_of(reply) == Some("Accepted") => {
                if let Some(id) = int_of(reply.request, "reservationId") {
                    st.tx16.reservations.retain(|r| r.id != id);
                }
            }
            ("Reset", Side::Csms)
                if matches!(reply.outcome, Outcome::Error { .. })
                    || status_of(reply).is_some_and(|s| s != "Accepted") =>
            {
                st.tx16.reset = None;
            }
            ("UnlockConnector", Side::Csms) => {
                let refused = matches!(reply.outcome, Outcome::Error { .. })
                    || status_of(reply).is_some_and(|s| s != "Unlocked");
                if refused && let Some(c) = int_of(reply.request, "connectorId") {
                    st.tx16
                        .unlocks
                        .retain(|(x, at)| !(*x == c && *at == reply.call_at));
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// StartTransaction.

fn status_notification(st: &mut ProtoState, p: &Value) {
    let (Some(connector), Some(status)) = (int_of(p, "connectorId"), str_of(p, "status")) else {
        return;
    };
    let s = &mut st.tx16;
    match status {
        "Preparing" => s
            .remote_starts
            .clear(|r| r.connector.is_none_or(|c| c == connector)),
        "Faulted" | "Unavailable" => s.reservations.retain(|r| r.connector != connector),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
