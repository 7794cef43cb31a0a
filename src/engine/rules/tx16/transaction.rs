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
    CallRef, arr_of, int_of, push_capped, status_of, str_of, ts_of,
};
use crate::engine::rules::{Family, ProtoState};
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
    key: (u8, u8, u8),
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
    due: Timestamp,
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
    due: Option<Timestamp>,
}

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

/// The 1.6 configuration keys these rules need, as the charger reported them.
#[derive(Debug, Default, Clone, Copy)]
struct Keys {
    number_of_connectors: Option<i64>,
    stop_on_invalid_id: Option<bool>,
    max_energy_on_invalid_id: Option<i64>,
    meter_value_sample_interval: Option<i64>,
    connection_timeout: Option<i64>,
}

impl Keys {
    fn learn(&mut self, key: &str, value: &str) {
        let value = value.trim();
        let int = value.parse::<i64>().ok();
        let key = key.trim();
        if key.eq_ignore_ascii_case("NumberOfConnectors") {
            self.number_of_connectors = int;
        } else if key.eq_ignore_ascii_case("StopTransactionOnInvalidId") {
            self.stop_on_invalid_id = if value.eq_ignore_ascii_case("true") {
                Some(true)
            } else if value.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            };
        } else if key.eq_ignore_ascii_case("MaxEnergyOnInvalidId") {
            self.max_energy_on_invalid_id = int;
        } else if key.eq_ignore_ascii_case("MeterValueSampleInterval") {
            self.meter_value_sample_interval = int;
        } else if key.eq_ignore_ascii_case("ConnectionTimeOut") {
            self.connection_timeout = int;
        }
    }
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
    remote_starts: Vec<RemoteStart>,
    remote_stops: Vec<RemoteStop>,
    deauths: Vec<Deauth>,
    reservations: Vec<Reservation>,
    /// idTag → parentIdTag, from Authorize and StartTransaction answers.
    parents: Vec<(Box<str>, Box<str>)>,
    reset: Option<ResetWatch>,
    /// UnlockConnector requests: (connector, when).
    unlocks: Vec<(i64, Timestamp)>,
    keys: Keys,
}

impl State {
    /// Whether a transaction runs on this connector: a StartTransaction for it was sent
    /// (answered or not) or a transaction was seen on it, and no StopTransaction followed.
    pub(crate) fn open_on_connector(&self, connector: i64) -> bool {
        self.starts.iter().any(|s| s.connector == connector)
            || self
                .txs
                .iter()
                .any(|t| t.is_open() && t.connector == Some(connector))
    }

    /// The `NumberOfConnectors` the charger reported, if seen.
    pub(crate) fn number_of_connectors(&self) -> Option<i64> {
        self.keys.number_of_connectors
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

/// A decimal number as OCPP 1.6 raw sampled values carry them: an optional sign, digits
/// with an optional fraction, an optional exponent.
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

const PHASES: &[&str] = &[
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
];
const LOCATIONS: &[&str] = &["Cable", "EV", "Inlet", "Outlet", "Body"];
const UNITS: &[&str] = &["Wh", "kWh"];

fn index_of(list: &[&str], v: Option<&str>) -> u8 {
    v.and_then(|v| list.iter().position(|x| *x == v))
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// One sampled value, with the defaults of OCPP 1.6 §7.43 applied.
struct Sample<'a> {
    value: &'a str,
    context: &'a str,
    raw: bool,
    register_key: Option<(u8, u8, u8)>,
}

fn sample(v: &Value) -> Option<Sample<'_>> {
    let value = str_of(v, "value")?;
    let format = str_of(v, "format");
    let measurand = str_of(v, "measurand").unwrap_or("Energy.Active.Import.Register");
    let unit = str_of(v, "unit").unwrap_or("Wh");
    let register_key =
        (measurand == "Energy.Active.Import.Register" && matches!(unit, "Wh" | "kWh")).then(|| {
            (
                index_of(PHASES, str_of(v, "phase")),
                index_of(LOCATIONS, str_of(v, "location")),
                index_of(UNITS, Some(unit)),
            )
        });
    Some(Sample {
        value,
        context: str_of(v, "context").unwrap_or("Sample.Periodic"),
        raw: format.is_none_or(|f| f == "Raw"),
        register_key,
    })
}

/// Reports the first raw sampled value of `values` (the `meterValue` or `transactionData`
/// array named `member`) that is not a number.
fn check_numeric(ctx: &mut Ctx<'_>, values: &[Value], member: &str) {
    let mut bad = 0usize;
    let mut first = None;
    for (i, mv) in values.iter().enumerate() {
        for (j, sv) in arr_of(mv, "sampledValue").iter().enumerate() {
            if let Some(s) = sample(sv)
                && s.raw
                && !is_decimal(s.value)
            {
                bad += 1;
                if first.is_none() {
                    first = Some((i, j, s.value));
                }
            }
        }
    }
    if let Some((i, j, value)) = first {
        let more = if bad > 1 {
            format!(" ({} more in this message)", bad - 1)
        } else {
            String::new()
        };
        ctx.report_at(
            &SAMPLED_VALUE_NOT_NUMERIC,
            format!("/{member}/{i}/sampledValue/{j}/value"),
            format!(
                "raw sampled value {value:?} is not a decimal number{more}; non-numeric data belongs in format SignedData"
            ),
        );
    }
}

/// Follows the samples of `values` in a transaction: register readings, Transaction.Begin
/// / End contexts, periodic spacing. Returns the earliest and latest timestamp of the
/// periodic and clock-aligned samples.
fn follow_samples(
    tx: &mut Tx,
    ctx: &mut Ctx<'_>,
    values: &[Value],
    interval: Option<i64>,
) -> Option<(Timestamp, Timestamp)> {
    let window = ctx.config().tol.followup_window_us;
    let mut span: Option<(Timestamp, Timestamp)> = None;
    for mv in values {
        let ts = ts_of(mv, "timestamp");
        let mut periodic = false;
        for sv in arr_of(mv, "sampledValue") {
            let Some(s) = sample(sv) else { continue };
            match s.context {
                "Sample.Periodic" | "Sample.Clock" => {
                    periodic |= s.context == "Sample.Periodic";
                    if let Some(ts) = ts {
                        span = Some(match span {
                            None => (ts, ts),
                            Some((lo, hi)) => (lo.min(ts), hi.max(ts)),
                        });
                    }
                }
                "Transaction.Begin" => {
                    if let (Some(ts), Some(start)) = (ts, tx.start_ts)
                        && !tx.begin_flagged
                        && ts > Timestamp::after(start, window)
                    {
                        tx.begin_flagged = true;
                        ctx.report(
                                &CONTEXT_MISMATCH,
                                format!(
                                    "sample of transaction {} labelled Transaction.Begin is timestamped {ts}, {:.0} s after the transaction started ({start})",
                                    tx.id,
                                    ts.secs_since(start)
                                ),
                            );
                    }
                }
                "Transaction.End" => {
                    if let Some(ts) = ts
                        && tx.end_sample.is_none_or(|e| ts < e)
                    {
                        tx.end_sample = Some(ts);
                    }
                }
                _ => {}
            }
            if let (Some(key), true) = (s.register_key, s.raw)
                && let Ok(value) = s.value.parse::<f64>()
            {
                follow_register(tx, ctx, key, ts, value);
            }
        }
        if let (true, Some(ts), Some(interval)) = (periodic, ts, interval.filter(|i| *i > 0)) {
            match tx.last_periodic {
                Some((prev, i)) if i == interval && ts > prev => {
                    let gap = ts.micros() - prev.micros();
                    let want = interval.saturating_mul(1_000_000);
                    if !tx.interval_flagged && (gap < want / 2 || gap > want + want / 2) {
                        tx.interval_flagged = true;
                        ctx.report(
                            &SAMPLE_INTERVAL_MISMATCH,
                            format!(
                                "periodic samples of transaction {} are {:.0} s apart (at {prev} and {ts}); MeterValueSampleInterval is {interval} s",
                                tx.id,
                                ts.secs_since(prev)
                            ),
                        );
                    }
                    tx.last_periodic = Some((ts, interval));
                }
                Some((prev, i)) if i == interval && ts <= prev => {}
                _ => tx.last_periodic = Some((ts, interval)),
            }
        }
    }
    span
}

fn follow_register(
    tx: &mut Tx,
    ctx: &mut Ctx<'_>,
    key: (u8, u8, u8),
    ts: Option<Timestamp>,
    value: f64,
) {
    match tx.registers.iter_mut().find(|r| r.key == key) {
        Some(r) => {
            if let (Some(new), Some(old)) = (ts, r.ts)
                && new < old
            {
                return; // delivered out of order: not a successive reading
            }
            if value < r.value && !tx.register_flagged {
                tx.register_flagged = true;
                ctx.report(
                    &REGISTER_DECREASING,
                    format!(
                        "Energy.Active.Import.Register of transaction {} fell from {} to {value}; a register only counts up",
                        tx.id, r.value
                    ),
                );
            }
            r.value = value;
            if ts.is_some() {
                r.ts = ts;
            }
        }
        None => push_capped(
            &mut tx.registers,
            Register { key, ts, value },
            MAX_REGISTERS,
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

/// The hooks of this family (see [`Family`]).
pub(crate) struct Tx16;

impl Family for Tx16 {
    const VERSIONS: &'static [Version] = V16;

    fn on_close(st: &mut ProtoState, ctx: &mut Ctx<'_>, by: Option<Side>) {
        on_close(st, ctx, by);
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        on_time(st, ctx, now, end);
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        on_call(st, ctx, call);
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        on_reply(st, ctx, reply);
    }
}

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
    let mut i = 0;
    while i < s.remote_starts.len() {
        if now > s.remote_starts[i].due {
            let r = s.remote_starts.remove(i);
            let total = r.due.secs_since(r.call.at);
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
        } else {
            i += 1;
        }
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
    let mut i = 0;
    while i < s.deauths.len() {
        if s.deauths[i].due.is_some_and(|d| now > d) {
            let d = s.deauths.remove(i);
            ctx.report_about(
                &STOP_REASON_NOT_DEAUTHORIZED,
                d.start.about(),
                format!(
                    "transaction {} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and no StopTransaction followed within {secs:.0} s",
                    d.tx, d.status
                ),
            );
        } else {
            i += 1;
        }
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
            let tol = ctx.config().tol;
            let wait = st
                .tx16
                .keys
                .connection_timeout
                .filter(|t| *t > 0)
                .map_or(0, |t| t.saturating_mul(1_000_000));
            push_capped(
                &mut st.tx16.remote_starts,
                RemoteStart {
                    call: CallRef::of_reply(reply),
                    id_tag: Box::from(tag),
                    connector: int_of(p, "connectorId"),
                    due: Timestamp::after(ctx.now(), tol.followup_window_us.saturating_add(wait)),
                },
                MAX_WATCHES,
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
        ("GetConfiguration", Side::Csms) => {
            if let Some(r) = reply.result() {
                for k in arr_of(r, "configurationKey") {
                    if let (Some(key), Some(value)) = (str_of(k, "key"), str_of(k, "value")) {
                        st.tx16.keys.learn(key, value);
                    }
                }
            }
        }
        ("ChangeConfiguration", Side::Csms) if status_of(reply) == Some("Accepted") => {
            if let (Some(key), Some(value)) =
                (str_of(reply.request, "key"), str_of(reply.request, "value"))
            {
                st.tx16.keys.learn(key, value);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// StartTransaction.

fn start_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let (Some(connector), Some(tag)) = (int_of(p, "connectorId"), str_of(p, "idTag")) else {
        return;
    };
    if connector <= 0 {
        ctx.report(
            &START_CONNECTOR_ZERO,
            format!("StartTransaction for connectorId {connector}; a transaction runs on a connector numbered from 1"),
        );
    }
    let s = &mut st.tx16;
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    if let Some(open) = s
        .txs
        .iter()
        .rev()
        .find(|t| t.is_open() && t.connector == Some(connector))
    {
        let resend = open.start_ts.is_some()
            && open.start_ts == start_ts
            && open.meter_start == meter_start
            && open.id_tag.as_deref().is_some_and(|t| same_tag(t, tag));
        if !resend {
            ctx.report(
                &START_ON_BUSY_CONNECTOR,
                format!(
                    "StartTransaction on connector {connector}, where transaction {} is still open (no StopTransaction was sent for it)",
                    open.id
                ),
            );
        }
    }

    // Reservations: the one named is used; an unnamed one that fits is an omission.
    match int_of(p, "reservationId") {
        Some(rid) => s.reservations.retain(|r| r.id != rid),
        None => {
            let now = ctx.now();
            let parent = s.parent_of(tag);
            let live = |r: &Reservation| {
                (r.connector == connector || r.connector == 0)
                    && r.expiry
                        .is_none_or(|e| now <= e && start_ts.is_none_or(|t| t <= e))
            };
            let exact = s
                .reservations
                .iter()
                .position(|r| live(r) && same_tag(&r.id_tag, tag));
            let by_parent = exact.is_none().then(|| {
                s.reservations.iter().position(|r| {
                    live(r) && matches!((&r.parent, parent), (Some(a), Some(b)) if same_tag(a, b))
                })
            });
            if let Some(pos) = exact {
                let r = s.reservations.remove(pos);
                ctx.report(
                    &RESERVATION_ID_MISSING,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} uses reservation {} (connector {}, same idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            } else if let Some(Some(pos)) = by_parent {
                let r = s.reservations.remove(pos);
                ctx.report_as(
                    &RESERVATION_ID_MISSING,
                    Severity::Warning,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} may use reservation {} (connector {}, same parent idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            }
        }
    }

    // A remote start that this StartTransaction follows.
    s.remote_starts
        .retain(|r| !(same_tag(&r.id_tag, tag) && r.connector.is_none_or(|c| c == connector)));

    s.starts.retain(|x| !(x.dead && x.connector == connector));
    if let Some(x) = s.starts.iter_mut().find(|x| *x.call.id == *call.id) {
        x.call = CallRef::of_call(ctx, call);
        x.connector = connector;
    } else {
        push_capped(
            &mut s.starts,
            Start {
                call: CallRef::of_call(ctx, call),
                connector,
                dead: false,
                reported: false,
            },
            MAX_STARTS,
        );
    }
}

fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let s = &mut st.tx16;
    let Some(pos) = s
        .starts
        .iter()
        .position(|x| *x.call.id == *reply.id && x.call.at == reply.call_at)
    else {
        return;
    };
    let start = match reply.outcome {
        Outcome::Error { code } => {
            let x = &mut s.starts[pos];
            x.dead = true;
            if !x.reported {
                x.reported = true;
                ctx.report(
                    &START_NOT_ANSWERED,
                    format!("StartTransaction answered with CALLERROR {code} instead of a StartTransaction.conf; the charger cannot learn its transaction id"),
                );
            }
            return;
        }
        Outcome::Result { .. } => s.starts.remove(pos),
    };
    let Some(result) = reply.result() else {
        return;
    };
    let Some(id) = int_of(result, "transactionId") else {
        return;
    };
    let p = reply.request;
    let tag = str_of(p, "idTag");
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    let info = result.get("idTagInfo");
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));

    if id <= 0 {
        ctx.report(
            &TRANSACTION_ID_NONPOSITIVE,
            format!("StartTransaction answered with transactionId {id}; positive ids are recommended (and -1 means \"never acknowledged\" to chargers)"),
        );
    }
    // The same id for an identical resend is the CSMS being idempotent.
    let same = s.tx(id).is_some_and(|t| {
        t.connector == Some(start.connector)
            && t.start_ts.is_some()
            && t.start_ts == start_ts
            && t.meter_start == meter_start
    });
    if same {
        return;
    }
    let open = s.tx(id).is_some_and(|t| t.is_open());
    if open || s.used_ids.contains(&id) {
        ctx.report(
            &TRANSACTION_ID_REUSED,
            format!(
                "StartTransaction answered with transactionId {id}, the id of {} transaction of this charger",
                if open { "a still open" } else { "an earlier" }
            ),
        );
        s.txs.retain(|t| t.id != id);
    }
    push_capped(&mut s.used_ids, id, MAX_USED_IDS);
    if let (Some(tag), Some(parent)) = (tag, parent) {
        s.learn_parent(tag, parent);
    }
    let deauth = status.filter(|st| *st != "Accepted");
    let keys = s.keys;
    let tx = s.add_tx(Tx::new(id));
    tx.connector = Some(start.connector);
    tx.id_tag = tag.map(Box::from);
    tx.parent = parent.map(Box::from);
    tx.meter_start = meter_start;
    tx.start_ts = start_ts;
    tx.last_ts = start_ts;
    tx.start = Some(start.call.clone());
    if let (Some(status), Some(true)) = (deauth, keys.stop_on_invalid_id) {
        let may_go_on = keys.max_energy_on_invalid_id.is_some_and(|e| e > 0);
        let due =
            (!may_go_on).then(|| Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us));
        push_capped(
            &mut s.deauths,
            Deauth {
                tx: id,
                start: start.call,
                status: Box::from(status),
                answered_at: ctx.now(),
                due,
            },
            MAX_WATCHES,
        );
    }
}

fn authorize_answered(st: &mut ProtoState, reply: &Reply<'_>) {
    let Some(tag) = str_of(reply.request, "idTag") else {
        return;
    };
    let info = reply.result().and_then(|r| r.get("idTagInfo"));
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));
    let s = &mut st.tx16;
    if let Some(parent) = parent {
        s.learn_parent(tag, parent);
        for t in &mut s.txs {
            if t.is_open() && t.parent.as_deref().is_some_and(|x| same_tag(x, parent)) {
                t.reauth_at = Some(reply.call_at);
            }
        }
    }
    if status.is_some_and(|x| x != "Accepted") {
        // A refused idTag ends the attempt of a remote start.
        s.remote_starts.retain(|r| !same_tag(&r.id_tag, tag));
    }
}

// ---------------------------------------------------------------------------------------
// MeterValues.

fn meter_values(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let values = arr_of(p, "meterValue");
    check_numeric(ctx, values, "meterValue");
    let (Some(connector), Some(id)) = (int_of(p, "connectorId"), int_of(p, "transactionId")) else {
        return;
    };
    if connector == 0 {
        ctx.report(
            &METER_VALUES_MAIN_METER_WITH_TX,
            format!("MeterValues for connectorId 0 (the main meter) carries transactionId {id}; errata 3.16 recommends leaving it out"),
        );
    }
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "MeterValues with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        return;
    }
    let since_boot = |ts| st.station.since_boot(ts, ctx.config().tol.clock_skew_us);
    let s = &mut st.tx16;
    let interval = s.keys.meter_value_sample_interval;
    let tx = if s.tx(id).is_some() {
        s.tx(id)
    } else {
        let message = format!(
            "MeterValues for transactionId {id}, which no StartTransaction answer in the trace issued"
        );
        let earliest = values.iter().filter_map(|mv| ts_of(mv, "timestamp")).min();
        if since_boot(earliest) && !s.used_ids.contains(&id) {
            ctx.report(&METER_VALUES_UNKNOWN_TX, message);
        } else {
            ctx.report_as(
                &METER_VALUES_UNKNOWN_TX,
                Severity::Info,
                format!("{message} (it may have started before the trace or the last boot)"),
            );
        }
        let tx = s.add_tx(Tx::new(id));
        tx.connector = (connector > 0).then_some(connector);
        Some(tx)
    };
    let Some(tx) = tx else { return };
    if connector > 0 {
        match tx.connector {
            Some(c) if c != connector => ctx.report(
                &METER_VALUES_WRONG_CONNECTOR,
                format!("MeterValues for connector {connector} names transaction {id}, which runs on connector {c}"),
            ),
            None => tx.connector = Some(connector),
            Some(_) => {}
        }
    }
    let span = follow_samples(tx, ctx, values, interval);
    if let Some((lo, hi)) = span {
        let stop = tx.stop.filter(|x| x.acked.is_some());
        match (stop, stop.and_then(|x| x.ts)) {
            (Some(_), Some(stop_ts)) if hi > stop_ts => ctx.report(
                &METER_VALUES_AFTER_STOP,
                format!("MeterValues for transaction {id}, sampled at {hi}, after its StopTransaction ({stop_ts}) was acknowledged"),
            ),
            _ => {
                if let Some(last) = tx.last_ts
                    && lo < last {
                        ctx.report(
                            &TX_MESSAGES_OUT_OF_ORDER,
                            format!("MeterValues of transaction {id} sampled at {lo}, before the transaction's earlier delivered message ({last}); transaction messages must be delivered in the order they were created"),
                        );
                    }
            }
        }
        tx.see(hi);
    }
}

// ---------------------------------------------------------------------------------------
// StopTransaction.

fn stop_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let data = arr_of(p, "transactionData");
    check_numeric(ctx, data, "transactionData");
    let Some(id) = int_of(p, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "StopTransaction with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        return;
    }
    let now = ctx.now();
    let tol = ctx.config().tol;
    let window = tol.followup_window_us;
    let stop_ts = ts_of(p, "timestamp");
    let reason = str_of(p, "reason");
    let meter_stop = int_of(p, "meterStop");
    let interval = s.keys.meter_value_sample_interval;
    let since_boot = st.station.since_boot(stop_ts, tol.clock_skew_us);
    let stop = Stop {
        sent_at: now,
        ts: stop_ts,
        acked: None,
    };

    if s.tx(id).is_none() {
        let known_before = s.used_ids.contains(&id);
        if !known_before {
            let message = format!(
                "StopTransaction for transactionId {id}, which no StartTransaction answer in the trace issued"
            );
            let after_reboot = matches!(
                reason,
                Some("PowerLoss" | "Reboot" | "HardReset" | "SoftReset")
            );
            if since_boot && !after_reboot {
                ctx.report(&STOP_UNKNOWN_TX, message);
            } else {
                ctx.report_as(
                    &STOP_UNKNOWN_TX,
                    Severity::Info,
                    format!("{message} (it may have started before the trace or the last boot)"),
                );
            }
        }
        let tx = s.add_tx(Tx::new(id));
        tx.stop = Some(stop);
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        remote_stop_judged(s, ctx, id, reason, stop_ts);
        return;
    }

    let Some(tx) = s.tx(id) else { return };
    match tx.stop {
        Some(Stop {
            acked: Some(in_time),
            ..
        }) => {
            let message = format!(
                "StopTransaction for transaction {id}, whose earlier StopTransaction was already acknowledged"
            );
            if in_time {
                ctx.report(&STOP_TWICE, message);
            } else {
                ctx.report_as(
                    &STOP_TWICE,
                    Severity::Warning,
                    format!("{message} (that acknowledgement came after the call timeout; the charger may have given up on it)"),
                );
            }
            return;
        }
        // A retry of an unacknowledged stop: judged the first time.
        Some(_) => return,
        None => {}
    }
    tx.stop = Some(stop);
    let connector = tx.connector;
    let started_at = tx.start.as_ref().map(|c| c.at);

    if let (Some(stop_m), Some(start_m)) = (meter_stop, tx.meter_start)
        && stop_m < start_m
    {
        ctx.report(
                &METER_STOP_BELOW_START,
                format!("transaction {id} stopped with meterStop {stop_m} Wh, below its meterStart {start_m} Wh; the register only counts up"),
            );
    }
    if let Some(ts) = stop_ts {
        match (tx.start_ts, tx.last_ts) {
            (Some(start), _) if ts < start => ctx.report(
                &STOP_BEFORE_START,
                format!("transaction {id} stopped at {ts}, before it started ({start})"),
            ),
            (_, Some(last)) if ts < last => ctx.report(
                &TX_MESSAGES_OUT_OF_ORDER,
                format!("StopTransaction of transaction {id} is timestamped {ts}, before the transaction's earlier delivered sample ({last}); transaction messages must be delivered in the order they were created"),
            ),
            _ => {}
        }
    }

    // The samples sent with the stop.
    follow_samples(tx, ctx, data, interval);
    if let Some(ts) = stop_ts {
        let mut end = tx.end_sample;
        for mv in data {
            let is_end = arr_of(mv, "sampledValue")
                .iter()
                .any(|sv| str_of(sv, "context") == Some("Transaction.End"));
            if let (true, Some(t)) = (is_end, ts_of(mv, "timestamp")) {
                end = Some(end.map_or(t, |e| e.min(t)));
            }
        }
        if let Some(e) = end
            && Timestamp::after(e, window) < ts
        {
            ctx.report(
                    &CONTEXT_MISMATCH,
                    format!(
                        "sample of transaction {id} labelled Transaction.End is timestamped {e}, {:.0} s before the transaction stopped ({ts})",
                        ts.secs_since(e)
                    ),
                );
        }
        tx.see(ts);
    }

    // The idTag that stopped it, if it was just presented.
    let local = reason.is_none_or(|r| r == "Local");
    if local
        && str_of(p, "idTag").is_none()
        && tx
            .reauth_at
            .is_some_and(|at| now.micros().saturating_sub(at.micros()) <= window)
    {
        ctx.report(
            &IDTAG_MISSING_ON_STOP,
            format!("StopTransaction of transaction {id} has no idTag, although its idTag was presented (Authorize) just before the stop"),
        );
    }

    // Invalid id with StopTransactionOnInvalidId.
    if let Some(pos) = s.deauths.iter().position(|d| d.tx == id) {
        let d = s.deauths.remove(pos);
        // A transaction that ended before the charger learnt the answer (queued offline)
        // could not be stopped for it.
        let ended_first =
            stop_ts.is_some_and(|t| Timestamp::after(t, tol.clock_skew_us) < d.answered_at);
        if reason != Some("DeAuthorized") && !ended_first {
            ctx.report(
                &STOP_REASON_NOT_DEAUTHORIZED,
                format!(
                    "transaction {id} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and stopped with reason {} instead of DeAuthorized",
                    d.status,
                    reason.unwrap_or("Local (none given)")
                ),
            );
        }
    }

    let remote = remote_stop_judged(s, ctx, id, reason, stop_ts);

    // A Reset or an UnlockConnector in force makes a missing reason suspicious.
    if reason.is_none() && !remote {
        let reset = s.reset.filter(|r| {
            let in_force = match r.until {
                Some(until) => now <= until,
                None => now.micros().saturating_sub(r.at.micros()) <= window * RESET_WINDOWS,
            };
            in_force && started_at.is_none_or(|at| at < r.at)
        });
        let unlock = connector.is_some_and(|c| {
            s.unlocks
                .iter()
                .any(|(x, at)| *x == c && now.micros().saturating_sub(at.micros()) <= window)
        });
        let expected = if unlock {
            Some("UnlockCommand (an UnlockConnector for its connector was just sent)")
        } else {
            reset.map(|r| {
                if r.reason == "HardReset" {
                    "HardReset (a hard Reset is in progress)"
                } else {
                    "SoftReset (a soft Reset is in progress)"
                }
            })
        };
        if let Some(expected) = expected {
            ctx.report(
                &STOP_REASON_MISSING,
                format!("StopTransaction of transaction {id} gives no reason (which means Local); expected {expected}"),
            );
        }
    }
}

/// Settles the remote stop of transaction `id` (if one was accepted) now that its
/// StopTransaction came. Returns whether there was one.
fn remote_stop_judged(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    id: i64,
    reason: Option<&str>,
    stop_ts: Option<Timestamp>,
) -> bool {
    let Some(pos) = s.remote_stops.iter().position(|r| r.tx == id) else {
        return false;
    };
    let r = s.remote_stops.remove(pos);
    let skew = ctx.config().tol.clock_skew_us;
    let ended_first = stop_ts.is_some_and(|t| Timestamp::after(t, skew) < r.call.at);
    if !ended_first && reason != Some("Remote") {
        ctx.report(
            &STOP_REASON_NOT_REMOTE,
            format!(
                "transaction {id} was stopped after its RemoteStopTransaction (line {}) was accepted, with reason {} instead of Remote",
                r.call.line,
                reason.unwrap_or("Local (none given)")
            ),
        );
    }
    true
}

// ---------------------------------------------------------------------------------------
// Remote start / stop.

fn remote_start_request(ctx: &mut Ctx<'_>, p: &Value) {
    if let Some(c) = int_of(p, "connectorId")
        && c <= 0
    {
        ctx.report(
                &REMOTE_START_CONNECTOR_ZERO,
                format!("RemoteStartTransaction for connectorId {c}; name a connector from 1 up, or leave connectorId out to let the charger choose"),
            );
    }
    let Some(profile) = p.get("chargingProfile") else {
        return;
    };
    if let Some(purpose) = str_of(profile, "chargingProfilePurpose")
        && purpose != "TxProfile"
    {
        ctx.report_at(
                &REMOTE_PROFILE_NOT_TXPROFILE,
                "/chargingProfile/chargingProfilePurpose".to_owned(),
                format!("RemoteStartTransaction carries a charging profile with purpose {purpose}; only a TxProfile applies to the transaction it starts"),
            );
    }
    if let Some(t) = profile.get("transactionId") {
        ctx.report_at(
            &REMOTE_PROFILE_HAS_TRANSACTION_ID,
            "/chargingProfile/transactionId".to_owned(),
            format!("the charging profile of RemoteStartTransaction carries transactionId {t}, but the transaction does not exist yet (errata 3.41)"),
        );
    }
}

fn remote_stop_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let Some(id) = int_of(reply.request, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    let ended = match s.tx(id) {
        Some(t) => t.stop.is_some_and(|x| x.sent_at <= reply.call_at),
        None => s.used_ids.contains(&id),
    };
    if ended {
        ctx.report(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but the charger had already stopped that transaction; the answer must be Rejected"),
        );
        return;
    }
    if s.tx(id).is_none() && st.station.booted() {
        ctx.report_as(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            Severity::Warning,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"),
        );
        return;
    }
    s.remote_stops.retain(|r| r.tx != id);
    push_capped(
        &mut s.remote_stops,
        RemoteStop {
            call: CallRef::of_reply(reply),
            tx: id,
            due: Some(Timestamp::after(
                ctx.now(),
                ctx.config().tol.followup_window_us,
            )),
        },
        MAX_WATCHES,
    );
}

fn status_notification(st: &mut ProtoState, p: &Value) {
    let (Some(connector), Some(status)) = (int_of(p, "connectorId"), str_of(p, "status")) else {
        return;
    };
    let s = &mut st.tx16;
    match status {
        "Preparing" => s
            .remote_starts
            .retain(|r| r.connector.is_some_and(|c| c != connector)),
        "Faulted" | "Unavailable" => s.reservations.retain(|r| r.connector != connector),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
