//! `dm.*`: configuration and device-model replies that must mirror their request
//! (GetVariables, SetVariables, SetVariableMonitoring, 1.6 GetConfiguration and
//! ChangeConfiguration), report requests and the notifications that answer them (requestId,
//! seqNo, tbc), and the write-only secrets that must never be read back (`auth.secret-readback`).
//! The station-wide reset rules of `avail.*` live here too: they need the same knowledge of
//! device-model variables (`AllowReset`) and of running transactions.
//!
//! This file also keeps a small tracker other families read: [`Activity`], the transactions
//! seen running; used by `sc`, `resv`, `sec` and the reset rules. The configuration and
//! device-model values it judges against are the station's
//! ([`Config`](crate::engine::station::Config)).

use super::{
    BYTES_PER_MESSAGE_EXCEEDED, GET_CONFIGURATION_KEY_UNACCOUNTED, GET_CONFIGURATION_MAX_KEYS,
    GET_VARIABLES_ATTRIBUTE_TYPE, GET_VARIABLES_COUNT_MISMATCH, GET_VARIABLES_UNMATCHED_RESULT,
    GET_VARIABLES_VALUE_MISSING, GET_VARIABLES_VALUE_ON_FAILURE, ITEMS_PER_MESSAGE_EXCEEDED,
    MONITORING_COUNT_MISMATCH, READONLY_CHANGE_ACCEPTED, REPORT_AFTER_REJECTION, REPORT_NOT_SENT,
    REPORT_REQUEST_ID_MISMATCH, REPORT_SEQNO, SET_VARIABLES_ATTRIBUTE_TYPE,
    SET_VARIABLES_COUNT_MISMATCH, SET_VARIABLES_DUPLICATE_ENTRY, SET_VARIABLES_UNMATCHED_RESULT,
    UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
};
use crate::engine::rules::auth;
use crate::engine::rules::avail;
use crate::wire::doc::{Array, Json};

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Cfg, MAX_PAIRED, Pairing, attr_type, cv_key, pair};
use crate::engine::support::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

mod configuration;
mod report;
mod variables;
use configuration::*;
use report::*;
use variables::*;

/// Report requests remembered.
const MAX_REPORTS: usize = 32;
/// Transactions remembered.
const MAX_TX: usize = 64;

// ---------------------------------------------------------------------------------------
// Activity: boots and running transactions.

/// A transaction id: an integer on 1.6, a string on 2.x.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxId {
    Int(i64),
    Str(Box<str>),
}

/// A transaction id borrowed from a frame (no allocation on the common path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxRef<'a> {
    Int(i64),
    Str(&'a str),
}

impl TxId {
    pub(crate) fn is(&self, r: TxRef<'_>) -> bool {
        match (self, r) {
            (TxId::Int(a), TxRef::Int(b)) => *a == b,
            (TxId::Str(a), TxRef::Str(b)) => **a == *b,
            _ => false,
        }
    }

    fn of(r: TxRef<'_>) -> TxId {
        match r {
            TxRef::Int(i) => TxId::Int(i),
            TxRef::Str(s) => TxId::Str(Box::from(s)),
        }
    }

    pub(crate) fn borrowed(&self) -> TxRef<'_> {
        match self {
            TxId::Int(i) => TxRef::Int(*i),
            TxId::Str(s) => TxRef::Str(s),
        }
    }
}

impl std::fmt::Display for TxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxId::Int(i) => write!(f, "{i}"),
            TxId::Str(s) => f.write_str(s),
        }
    }
}

/// A transaction seen running.
#[derive(Debug)]
pub(crate) struct RunningTx {
    pub(crate) id: TxId,
    /// The 1.6 connector or 2.x EVSE, when known.
    pub(crate) target: Option<i64>,
    /// The id tag / idToken that started it, when known.
    pub(crate) token: Option<Box<str>>,
}

/// The running transactions seen. The transaction families keep richer state; this is the
/// little the rules of this group need (whether the station booted is a station fact).
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Transactions seen running (started or updated, not yet stopped).
    pub(crate) txs: Vec<RunningTx>,
}

impl Activity {
    pub(crate) fn is_running(&self, id: TxRef<'_>) -> bool {
        self.txs.iter().any(|t| t.id.is(id))
    }

    /// A transaction runs on this connector / EVSE (one with an unknown target counts when
    /// `unknown_counts`).
    pub(crate) fn running_on(&self, target: i64, unknown_counts: bool) -> bool {
        self.txs
            .iter()
            .any(|t| t.target.map_or(unknown_counts, |x| x == target))
    }

    fn start(&mut self, id: TxRef<'_>, target: Option<i64>, token: Option<&str>) {
        if let Some(t) = self.txs.iter_mut().find(|t| t.id.is(id)) {
            if target.is_some() {
                t.target = target;
            }
            if let Some(tok) = token
                && t.token.is_none()
            {
                t.token = Some(Box::from(tok));
            }
            return;
        }
        push_capped(
            &mut self.txs,
            RunningTx {
                id: TxId::of(id),
                target,
                token: token.map(Box::from),
            },
            MAX_TX,
        );
    }

    fn stop(&mut self, id: TxRef<'_>) {
        self.txs.retain(|t| !t.id.is(id));
    }
}

// ---------------------------------------------------------------------------------------
// Report requests.

/// Which report message answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    /// GetBaseReport, GetReport → NotifyReport.
    Report,
    /// GetMonitoringReport → NotifyMonitoringReport.
    Monitoring,
    /// GetChargingProfiles → ReportChargingProfiles.
    Profiles,
    /// CustomerInformation → NotifyCustomerInformation.
    Customer,
    /// GetDisplayMessages → NotifyDisplayMessages.
    Display,
}

impl ReportKind {
    fn of_request(action: &str) -> Option<ReportKind> {
        Some(match action {
            "GetBaseReport" | "GetReport" => ReportKind::Report,
            "GetMonitoringReport" => ReportKind::Monitoring,
            "GetChargingProfiles" => ReportKind::Profiles,
            "CustomerInformation" => ReportKind::Customer,
            "GetDisplayMessages" => ReportKind::Display,
            _ => return None,
        })
    }

    fn of_report(action: &str) -> Option<ReportKind> {
        Some(match action {
            "NotifyReport" => ReportKind::Report,
            "NotifyMonitoringReport" => ReportKind::Monitoring,
            "ReportChargingProfiles" => ReportKind::Profiles,
            "NotifyCustomerInformation" => ReportKind::Customer,
            "NotifyDisplayMessages" => ReportKind::Display,
            _ => return None,
        })
    }

    fn requests(self) -> &'static str {
        match self {
            ReportKind::Report => "GetBaseReport or GetReport",
            ReportKind::Monitoring => "GetMonitoringReport",
            ReportKind::Profiles => "GetChargingProfiles",
            ReportKind::Customer => "CustomerInformation",
            ReportKind::Display => "GetDisplayMessages",
        }
    }

    fn has_seq_no(self) -> bool {
        matches!(
            self,
            ReportKind::Report | ReportKind::Monitoring | ReportKind::Customer
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReqState {
    /// Sent, not answered yet.
    Sent,
    Accepted {
        at: Timestamp,
    },
    /// Answered with another status (or a CALLERROR).
    Refused(Box<str>),
}

#[derive(Debug)]
struct ReportReq {
    kind: ReportKind,
    request_id: i64,
    call: CallRef,
    state: ReqState,
    next_seq: i64,
    finished: bool,
    parts: u32,
    /// Already reported (report-not-sent, report-after-rejection).
    flagged: bool,
}

// ---------------------------------------------------------------------------------------
// Resets.

#[derive(Debug)]
struct ResetWatch {
    call: CallRef,
    /// Transactions that ran when the reset was accepted and were not stopped yet.
    txs: Vec<TxId>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) activity: Activity,
    reports: Vec<ReportReq>,
    reset: Option<ResetWatch>,
    /// Reset requests of the CSMS not answered yet, with whether a transaction ran on their
    /// target when each was sent: the answer is judged by that, not by what the charger did
    /// between (it may end or start a transaction before its answer goes out).
    resets_in_flight: Vec<(Box<str>, bool)>,
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Dm;

impl Family for Dm {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&[
        "BootNotification",
        "StopTransaction",
        "MeterValues",
        "TransactionEvent",
        "Reset",
        "SetVariables",
        "GetVariables",
        "GetReport",
        "SetVariableMonitoring",
        "ClearVariableMonitoring",
        "GetConfiguration",
        "GetBaseReport",
        "GetMonitoringReport",
        "GetChargingProfiles",
        "CustomerInformation",
        "GetDisplayMessages",
        "NotifyReport",
        "NotifyMonitoringReport",
        "ReportChargingProfiles",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "StartTransaction",
        "GetVariables",
        "SetVariables",
        "SetVariableMonitoring",
        "GetBaseReport",
        "GetReport",
        "GetMonitoringReport",
        "GetChargingProfiles",
        "CustomerInformation",
        "GetDisplayMessages",
        "GetConfiguration",
        "ChangeConfiguration",
        "Reset",
    ]);

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let window = ctx.config().tol.followup_window_us;
        for r in &mut st.dm.reports {
            let ReqState::Accepted { at } = r.state else {
                continue;
            };
            if r.flagged || r.parts > 0 || now.micros().saturating_sub(at.micros()) <= window {
                continue;
            }
            if !matches!(r.kind, ReportKind::Report | ReportKind::Monitoring) {
                continue;
            }
            r.flagged = true;
            let answer = if r.kind == ReportKind::Report {
                "NotifyReport"
            } else {
                "NotifyMonitoringReport"
            };
            ctx.report_about(
                &REPORT_NOT_SENT,
                r.call.about(),
                format!(
                    "{} {{requestId:{}}} was accepted but no {answer} with that requestId came within {:.0} s",
                    r.call.action,
                    r.request_id,
                    window as f64 / 1e6
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        match (call.action, call.from) {
            ("BootNotification", Side::Charger) => {
                if let Some(w) = st.dm.reset.take()
                    && !w.txs.is_empty()
                {
                    let ids: Vec<String> = w.txs.iter().take(5).map(ToString::to_string).collect();
                    avail::reset::boot_with_transactions(ctx, w.call.line, &ids);
                }
            }
            ("StopTransaction", Side::Charger) => {
                if let Some(id) = int_of(p, "transactionId") {
                    stopped(st, TxRef::Int(id));
                }
            }
            ("MeterValues", Side::Charger) if st.is_v16() => {
                if let Some(id) = int_of(p, "transactionId") {
                    let id = TxRef::Int(id);
                    if !st.dm.activity.is_running(id) {
                        st.dm.activity.start(id, int_of(p, "connectorId"), None);
                    }
                }
            }
            ("TransactionEvent", Side::Charger) => {
                let Some(id) = p
                    .get("transactionInfo")
                    .and_then(|t| str_of(t, "transactionId"))
                else {
                    return;
                };
                let id = TxRef::Str(id);
                match str_of(p, "eventType") {
                    Some("Ended") => stopped(st, id),
                    Some(_) => {
                        let evse = p.get("evse").and_then(|e| int_of(e, "id"));
                        let token = p.get("idToken").and_then(|t| str_of(t, "idToken"));
                        st.dm.activity.start(id, evse, token);
                    }
                    None => {}
                }
            }
            ("Reset", Side::Csms) if st.is_2x() => {
                let running = running_for_reset(&st.dm, int_of(p, "evseId"));
                push_capped(
                    &mut st.dm.resets_in_flight,
                    (Box::from(call.id), running),
                    MAX_RESETS_IN_FLIGHT,
                );
            }
            ("SetVariables", Side::Csms) => {
                check_duplicate_entries(ctx, p);
                check_limits(
                    st,
                    ctx,
                    call,
                    "DeviceDataCtrlr",
                    "SetVariables",
                    "setVariableData",
                );
            }
            ("GetVariables", Side::Csms) => {
                check_limits(
                    st,
                    ctx,
                    call,
                    "DeviceDataCtrlr",
                    "GetVariables",
                    "getVariableData",
                );
            }
            ("GetReport", Side::Csms) => {
                check_limits(
                    st,
                    ctx,
                    call,
                    "DeviceDataCtrlr",
                    "GetReport",
                    "componentVariable",
                );
                report_request(st, ctx, call);
            }
            ("SetVariableMonitoring", Side::Csms) => {
                check_limits(
                    st,
                    ctx,
                    call,
                    "MonitoringCtrlr",
                    "SetVariableMonitoring",
                    "setMonitoringData",
                );
            }
            ("ClearVariableMonitoring", Side::Csms) => {
                check_limits(
                    st,
                    ctx,
                    call,
                    "MonitoringCtrlr",
                    "ClearVariableMonitoring",
                    "id",
                );
            }
            ("GetConfiguration", Side::Csms) => {
                let n = arr_of(p, "key").len();
                if let Cfg::Value(v) = st.station.config.key("GetConfigurationMaxKeys")
                    && let Ok(max) = v.trim().parse::<usize>()
                    && n > max
                {
                    ctx.report(
                                &GET_CONFIGURATION_MAX_KEYS,
                                format!(
                                    "GetConfiguration asks for {n} keys; the charger reported GetConfigurationMaxKeys = {max}"
                                ),
                            );
                }
            }
            (
                "GetBaseReport"
                | "GetMonitoringReport"
                | "GetChargingProfiles"
                | "CustomerInformation"
                | "GetDisplayMessages",
                Side::Csms,
            ) => report_request(st, ctx, call),
            (
                "NotifyReport"
                | "NotifyMonitoringReport"
                | "ReportChargingProfiles"
                | "NotifyCustomerInformation"
                | "NotifyDisplayMessages",
                Side::Charger,
            ) => report_part(st, ctx, call),
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match reply.action {
            "StartTransaction" => {
                if let Some(id) = reply.result().and_then(|r| int_of(r, "transactionId")) {
                    st.dm.activity.start(
                        TxRef::Int(id),
                        int_of(reply.request, "connectorId"),
                        str_of(reply.request, "idTag"),
                    );
                }
            }
            "GetVariables" => get_variables_reply(ctx, reply),
            "SetVariables" => set_variables_reply(ctx, reply),
            "SetVariableMonitoring" => {
                let Some(result) = reply.result() else { return };
                let asked = arr_of(reply.request, "setMonitoringData").len();
                let got = arr_of(result, "setMonitoringResult").len();
                if asked != got {
                    ctx.report(
                        &MONITORING_COUNT_MISMATCH,
                        format!(
                            "SetVariableMonitoring had {asked} setMonitoringData entries; the response has {got} setMonitoringResult entr{}",
                            if got == 1 { "y" } else { "ies" }
                        ),
                    );
                }
            }
            "GetBaseReport"
            | "GetReport"
            | "GetMonitoringReport"
            | "GetChargingProfiles"
            | "CustomerInformation"
            | "GetDisplayMessages" => report_answered(st, ctx, reply),
            "GetConfiguration" => get_configuration_reply(ctx, reply),
            "ChangeConfiguration" => change_configuration_reply(st, ctx, reply),
            "Reset" => reset_reply(st, ctx, reply),
            _ => {}
        }
    }
}

/// A transaction ended: forget it, and tick it off a pending reset.
fn stopped(st: &mut ProtoState, id: TxRef<'_>) {
    st.dm.activity.stop(id);
    if let Some(w) = &mut st.dm.reset {
        w.txs.retain(|t| !t.is(id));
    }
}

// ---------------------------------------------------------------------------------------
// GetVariables / SetVariables.

#[cfg(test)]
mod tests;
