//! `dm.*`: configuration and device-model replies that must mirror their request
//! (GetVariables, SetVariables, SetVariableMonitoring, 1.6 GetConfiguration and
//! ChangeConfiguration), report requests and the notifications that answer them (requestId,
//! seqNo, tbc), and the write-only secrets that must never be read back (`auth.secret-readback`).
//! The station-wide reset rules of `avail.*` live here too: they need the same knowledge of
//! device-model variables (`AllowReset`) and of running transactions.
//!
//! It judges against the station's facts: its configuration and device-model values
//! ([`Config`](crate::engine::station::Config)), its running transactions and the resets
//! asked of it ([`Transactions`](crate::engine::station::Transactions),
//! [`Resets`](crate::engine::station::Resets)); it keeps only its report requests.

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
use crate::engine::station::{Cfg, MAX_PAIRED, Pairing, Wake, attr_type, cv_key, pair};
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

    /// The report a request (`action` with `payload`) asks for, and its requestId.
    fn asked(action: &str, payload: Json<'_>) -> Option<(ReportKind, i64)> {
        Some((Self::of_request(action)?, int_of(payload, "requestId")?))
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

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    reports: Vec<ReportReq>,
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Dm;

impl Family for Dm {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&[
        "BootNotification",
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

    fn next_due(st: &ProtoState, ctx: &Ctx<'_>, wake: &mut Wake) {
        let window = ctx.config().tol.followup_window_us;
        for r in &st.dm.reports {
            if let ReqState::Accepted { at } = r.state
                && !r.flagged
                && r.parts == 0
                && matches!(r.kind, ReportKind::Report | ReportKind::Monitoring)
            {
                wake.at(at.after(window));
            }
        }
    }

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
                let station = &st.station;
                if let Some(reset) = station.resets.completed()
                    && !reset.hard16
                {
                    let ids: Vec<String> = reset
                        .txs
                        .iter()
                        .filter(|t| station.transactions.still_running(t))
                        .take(5)
                        .map(|t| t.id.to_string())
                        .collect();
                    if !ids.is_empty() {
                        avail::reset::boot_with_transactions(ctx, reset.line, &ids);
                    }
                }
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

// ---------------------------------------------------------------------------------------
// GetVariables / SetVariables.

#[cfg(test)]
mod tests;
