//! `tx16.*`: OCPP 1.6 transactions and their meter values, judged against the station's
//! model of its transactions ([`station::v16`](crate::engine::station::v16)), which follows
//! each StartTransaction, its answer, the MeterValues and the StopTransaction before this
//! family runs.
//!
//! ```text
//! StartTransaction ──CALLRESULT {transactionId}──► open ──StopTransaction──► stop sent
//!     │  (no answer: start-not-answered)             │  MeterValues             │ CALLRESULT
//!     └─ connector busy? reservation used?           │  (connector, order,      ▼
//!                                                    │   registers, samples)   stop acknowledged
//!                                                    └─ refused idTag with StopTransactionOnInvalidId:
//!                                                       StopTransaction reason DeAuthorized expected
//! ```
//!
//! A transaction the trace never saw start is adopted by the model at its first MeterValues
//! or StopTransaction: reported here once, at most as a warning, then followed like the
//! others. What this family keeps is its own: per transaction the register readings, the
//! periodic spacing and the order of its messages ([`PerTx`]), the reservations whose use
//! it reported (the reservations themselves are the station model's, see
//! [`station::Reservations`](crate::engine::station::Reservations)), idTag groups, Reset and
//! UnlockConnector in force that a start or a stop is judged against. The
//! remote start and stop are judged by `remote/`, which tells this family the
//! RemoteStopTransaction accepted for a transaction (what `tx16.stop-reason-not-remote` and
//! `tx16.stop-reason-missing` judge the stop's reason against).

use super::{
    CONTEXT_MISMATCH, IDTAG_MISSING_ON_STOP, METER_STOP_BELOW_START, METER_VALUES_AFTER_STOP,
    METER_VALUES_MAIN_METER_WITH_TX, METER_VALUES_UNKNOWN_TX, METER_VALUES_WRONG_CONNECTOR,
    MINUS_ONE_REJECTED, MINUS_ONE_TRANSACTION_ID, REGISTER_DECREASING, RESERVATION_ID_MISSING,
    SAMPLE_INTERVAL_MISMATCH, SAMPLED_VALUE_NOT_NUMERIC, START_CONNECTOR_ZERO, START_NOT_ANSWERED,
    START_ON_BUSY_CONNECTOR, STOP_BEFORE_START, STOP_REASON_MISSING, STOP_REASON_NOT_DEAUTHORIZED,
    STOP_REASON_NOT_REMOTE, STOP_TWICE, STOP_UNKNOWN_TX, TRANSACTION_ID_NONPOSITIVE,
    TRANSACTION_ID_REUSED, TX_MESSAGES_OUT_OF_ORDER,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::V16;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Deadlines, RState, Reservation, Wake, v16};
use crate::engine::support::{
    CallRef, arr_of, credible_stamp, id_tag_info, int_of, push_capped, report_not_followed,
    report_unless_excused, status_of, str_of, ts_of,
};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

mod meter;
mod start;
mod stop;
use meter::*;
use start::*;
use stop::*;

const MAX_WATCHES: usize = 16;
/// Reservations of the model whose use this family reported (at most one per start).
const MAX_USED: usize = 16;
const MAX_PARENTS: usize = 64;
const MAX_REGISTERS: usize = 8;
const MAX_UNLOCKS: usize = 8;
/// StartTransactions waiting for their answer (the model keeps 16).
const MAX_STARTS: usize = 16;

/// How many followup windows a Reset stays in force when no BootNotification follows.
const RESET_WINDOWS: i64 = 10;

/// The last Energy.Active.Import.Register reading of one (phase, location, unit).
#[derive(Debug, Clone, Copy)]
struct Register {
    key: RegisterKey,
    ts: Option<Timestamp>,
    value: f64,
}

/// What this family keeps of one transaction of the model (by its serial).
#[derive(Debug)]
struct PerTx {
    serial: u64,
    /// The latest timestamp of the transaction's delivered messages.
    last_ts: Option<Timestamp>,
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

impl PerTx {
    fn see(&mut self, ts: Timestamp) {
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }
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

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Per transaction of the model, created when first needed.
    per_tx: Vec<PerTx>,
    /// The starts of the model (by serial) waiting for their answer, due once the call
    /// timeout passed; taken out when `tx16.start-not-answered` is reported about them.
    unanswered: Deadlines<u64, MAX_STARTS>,
    /// The latest start serial armed in `unanswered` (a resend of a start already
    /// reported is not waited for again).
    last_start: u64,
    deauths: Deadlines<Deauth, MAX_WATCHES>,
    /// The serials of the reservations of the station model a StartTransaction without
    /// `reservationId` used (reported once, then no longer live for this family).
    #[expect(
        clippy::box_collection,
        reason = "most stations never use a reservation: 8 bytes against 24 for an empty Vec"
    )]
    used: Option<Box<Vec<u64>>>,
    /// idTag → parentIdTag, from Authorize and StartTransaction answers.
    parents: Vec<(Box<str>, Box<str>)>,
    /// UnlockConnector requests: (connector, when).
    unlocks: Vec<(i64, Timestamp)>,
}

/// What this family keeps of transaction `tx` of the model `txs`: created (its order
/// starting at the transaction's start time) when first needed; what belongs to
/// transactions the model forgot goes when the list is full.
fn per_tx<'a>(per: &'a mut Vec<PerTx>, txs: &v16::Txs, tx: &v16::Tx) -> &'a mut PerTx {
    if let Some(pos) = per.iter().position(|p| p.serial == tx.serial) {
        return &mut per[pos];
    }
    if per.len() >= v16::MAX_TXS {
        per.retain(|p| txs.has_serial(p.serial));
    }
    push_capped(
        per,
        PerTx {
            serial: tx.serial,
            last_ts: tx.start_ts,
            reauth_at: None,
            registers: Vec::new(),
            register_flagged: false,
            last_periodic: None,
            interval_flagged: false,
            begin_flagged: false,
            end_sample: None,
        },
        v16::MAX_TXS,
    );
    let last = per.len() - 1;
    &mut per[last]
}

impl State {
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

use v16::same_tag;

/// The hooks of this family (see [`Family`]).
pub(crate) struct Tx16;

impl Family for Tx16 {
    const VERSIONS: &'static [Version] = V16;
    const CALLS: Listen = Listen::Only(&[
        "StartTransaction",
        "MeterValues",
        "StopTransaction",
        "Authorize",
        "UnlockConnector",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "StartTransaction",
        "StopTransaction",
        "MeterValues",
        "Authorize",
        "UnlockConnector",
    ]);

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.tx16.unanswered.next_due());
        wake.at(st.tx16.deauths.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let s = &mut st.tx16;
        if s.unanswered.is_empty() && s.deauths.is_empty() {
            return;
        }
        let tol = ctx.config().tol;
        let starts = st.station.transactions.v16().starts();
        for (_, serial) in s.unanswered.expired(now) {
            if let Some(start) = starts.iter().find(|x| x.serial == serial && !x.dead) {
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
        for (_, d) in s.deauths.expired(now) {
            report_not_followed(
                ctx,
                &STOP_REASON_NOT_DEAUTHORIZED,
                d.start.about(),
                &format!(
                    "transaction {} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and no StopTransaction",
                    d.tx, d.status
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        match (call.action, call.from) {
            ("StartTransaction", Side::Charger) => {
                wait_for_answer(st, ctx);
                start_transaction(st, ctx, call);
            }
            ("MeterValues", Side::Charger) => meter_values(st, ctx, call),
            ("StopTransaction", Side::Charger) => stop_transaction(st, ctx, call),
            ("Authorize", Side::Charger) => {
                if let Some(tag) = str_of(call.payload, "idTag") {
                    let now = ctx.now();
                    let txs = &st.station.transactions.v16();
                    for t in txs.iter() {
                        if t.is_open() && t.id_tag.as_deref().is_some_and(|x| same_tag(x, tag)) {
                            per_tx(&mut st.tx16.per_tx, txs, t).reauth_at = Some(now);
                        }
                    }
                }
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
            ("StopTransaction" | "MeterValues", Side::Charger) => {
                if let Outcome::Error { code } = reply.outcome
                    && int_of(reply.request, "transactionId") == Some(-1)
                {
                    ctx.report(
                        &MINUS_ONE_REJECTED,
                        format!("{} with transactionId -1 answered with CALLERROR {code}; errata 3.18 requires the CSMS to accept it", reply.action),
                    );
                }
            }
            ("Authorize", Side::Charger) => authorize_answered(st, reply),
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

#[cfg(test)]
mod tests;
