//! `dm.*`: configuration and device-model replies that must mirror their request
//! (GetVariables, SetVariables, SetVariableMonitoring, 1.6 GetConfiguration and
//! ChangeConfiguration), report requests and the notifications that answer them (requestId,
//! seqNo, tbc), and the write-only secrets that must never be read back (`auth.secret-readback`).
//! The station-wide reset rules of `avail.*` live here too: they need the same knowledge of
//! device-model variables (`AllowReset`) and of running transactions.
//!
//! This file also keeps two small trackers other families read:
//! - [`Activity`]: whether a boot of the station was seen (so the history since that boot is
//!   known) and the transactions seen running; used by `sc`, `resv`, `sec` and the reset rules.
//! - the configuration and device-model values learnt from the traffic ([`State::cfg16`],
//!   [`State::var2`]): `ChargeProfileMaxStackLevel`, `ReserveConnectorZeroSupported`,
//!   `SmartChargingCtrlr.RateUnit`, `SecurityCtrlr.SecurityProfile`, ... Only a fixed list of
//!   variables is kept, so the state stays small whatever the reports hold.

use super::{
    BYTES_PER_MESSAGE_EXCEEDED, GET_CONFIGURATION_KEY_UNACCOUNTED, GET_CONFIGURATION_MAX_KEYS,
    GET_VARIABLES_ATTRIBUTE_TYPE, GET_VARIABLES_COUNT_MISMATCH, GET_VARIABLES_UNMATCHED_RESULT,
    GET_VARIABLES_VALUE_MISSING, GET_VARIABLES_VALUE_ON_FAILURE, ITEMS_PER_MESSAGE_EXCEEDED,
    MONITORING_COUNT_MISMATCH, READONLY_CHANGE_ACCEPTED, REPORT_AFTER_REJECTION, REPORT_NOT_SENT,
    REPORT_REQUEST_ID_MISMATCH, REPORT_SEQNO, SET_VARIABLES_ATTRIBUTE_TYPE,
    SET_VARIABLES_COUNT_MISMATCH, SET_VARIABLES_DUPLICATE_ENTRY, SET_VARIABLES_UNMATCHED_RESULT,
    UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
};
use crate::engine::rules::auth::SECRET_READBACK;
use crate::engine::rules::avail::{
    EVSE_RESET_UNSUPPORTED_ACCEPTED, IMMEDIATE_RESET_NOT_ACCEPTED, ONIDLE_RESET_NOT_SCHEDULED,
    RESET_TX_NOT_STOPPED,
};
use serde_json::Value;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::support::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, ProtoState};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// How many entries of a request/response pair are compared at most (larger payloads are
/// skipped so a hostile frame cannot cost quadratic time).
const MAX_PAIRED: usize = 512;
/// Report requests remembered.
const MAX_REPORTS: usize = 32;
/// Transactions remembered.
const MAX_TX: usize = 64;
/// Keys remembered as read-only or unknown (1.6).
const MAX_KEYS: usize = 256;
/// Device-model values remembered (2.x).
const MAX_VARS: usize = 64;

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
// Learnt configuration.

/// What is known of a 1.6 configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cfg<'a> {
    /// Never seen.
    Unknown,
    /// A full GetConfiguration listing did not contain it (the charger does not have it).
    Absent,
    Value(&'a str),
}

/// The 1.6 keys whose values are kept.
const KEPT_KEYS: &[&str] = &[
    "GetConfigurationMaxKeys",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ReserveConnectorZeroSupported",
    "SecurityProfile",
];

/// The 2.x component/variable pairs whose Actual values are kept.
const KEPT_VARS: &[(&str, &str)] = &[
    ("DeviceDataCtrlr", "ItemsPerMessage"),
    ("DeviceDataCtrlr", "BytesPerMessage"),
    ("MonitoringCtrlr", "ItemsPerMessage"),
    ("MonitoringCtrlr", "BytesPerMessage"),
    ("EVSE", "AllowReset"),
    ("SmartChargingCtrlr", "ProfileStackLevel"),
    ("SmartChargingCtrlr", "RateUnit"),
    ("SecurityCtrlr", "SecurityProfile"),
    ("SecurityCtrlr", "AllowSecurityProfileDowngrade"),
];

#[derive(Debug)]
struct Var {
    comp: &'static str,
    var: &'static str,
    evse: Option<i64>,
    inst: Option<Box<str>>,
    value: Box<str>,
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
    /// 1.6: values of [`KEPT_KEYS`] (`None` = absent from a full listing).
    cfg16: Vec<(&'static str, Option<Box<str>>)>,
    readonly16: Vec<Box<str>>,
    unknown16: Vec<Box<str>>,
    vars2: Vec<Var>,
    reports: Vec<ReportReq>,
    reset: Option<ResetWatch>,
}

impl State {
    /// What is known of the 1.6 configuration key `key` (one of [`KEPT_KEYS`]).
    pub(crate) fn cfg16(&self, key: &str) -> Cfg<'_> {
        match self.cfg16.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            None => Cfg::Unknown,
            Some((_, None)) => Cfg::Absent,
            Some((_, Some(v))) => Cfg::Value(v),
        }
    }

    /// The Actual value of a 2.x variable kept from the traffic ([`KEPT_VARS`]).
    pub(crate) fn var2(
        &self,
        comp: &str,
        evse: Option<i64>,
        var: &str,
        inst: Option<&str>,
    ) -> Option<&str> {
        self.vars2
            .iter()
            .find(|v| v.comp == comp && v.var == var && v.evse == evse && v.inst.as_deref() == inst)
            .map(|v| &*v.value)
    }

    fn learn16(&mut self, key: &str, value: Option<&str>) {
        let Some(kept) = KEPT_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) else {
            return;
        };
        let value = value.map(Box::from);
        match self.cfg16.iter_mut().find(|(k, _)| k == kept) {
            Some(slot) => slot.1 = value,
            None => self.cfg16.push((kept, value)),
        }
    }

    fn learn_var(&mut self, component: &Value, variable: &Value, value: &str) {
        let (Some(comp), Some(name)) = (str_of(component, "name"), str_of(variable, "name")) else {
            return;
        };
        let mut inst = str_of(variable, "instance");
        let mut var = name;
        // Early 2.0 drafts spell `ItemsPerMessage[GetVariables]` as `ItemsPerMessageGetVariables`.
        for base in ["ItemsPerMessage", "BytesPerMessage"] {
            if let Some(rest) = name.strip_prefix(base)
                && !rest.is_empty()
                && inst.is_none()
            {
                var = base;
                inst = Some(rest);
            }
        }
        let Some(&(kc, kv)) = KEPT_VARS.iter().find(|(c, v)| *c == comp && *v == var) else {
            return;
        };
        let evse = component.get("evse").and_then(|e| int_of(e, "id"));
        if let Some(v) = self
            .vars2
            .iter_mut()
            .find(|v| v.comp == kc && v.var == kv && v.evse == evse && v.inst.as_deref() == inst)
        {
            v.value = Box::from(value);
            return;
        }
        push_capped(
            &mut self.vars2,
            Var {
                comp: kc,
                var: kv,
                evse,
                inst: inst.map(Box::from),
                value: Box::from(value),
            },
            MAX_VARS,
        );
    }
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Dm;

impl Family for Dm {
    const VERSIONS: &'static [Version] = ALL;

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
                ctx.report(
                        &RESET_TX_NOT_STOPPED,
                        format!(
                            "the charger boots after the Reset of line {} without having stopped transaction(s) {} that ran when the reset was accepted",
                            w.call.line,
                            ids.join(", ")
                        ),
                    );
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
            if let Cfg::Value(v) = st.dm.cfg16("GetConfigurationMaxKeys")
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

/// A transaction ended: forget it, and tick it off a pending reset.
fn stopped(st: &mut ProtoState, id: TxRef<'_>) {
    st.dm.activity.stop(id);
    if let Some(w) = &mut st.dm.reset {
        w.txs.retain(|t| !t.is(id));
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
        "GetVariables" => get_variables_reply(st, ctx, reply),
        "SetVariables" => set_variables_reply(st, ctx, reply),
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
        "GetConfiguration" => get_configuration_reply(st, ctx, reply),
        "ChangeConfiguration" => change_configuration_reply(st, ctx, reply),
        "Reset" => reset_reply(st, ctx, reply),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// GetVariables / SetVariables.

/// The component/variable a device-model entry names.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct CvKey<'a> {
    comp: Option<&'a str>,
    comp_inst: Option<&'a str>,
    evse: Option<i64>,
    connector: Option<i64>,
    var: Option<&'a str>,
    var_inst: Option<&'a str>,
}

fn cv_key(entry: &Value) -> CvKey<'_> {
    let c = entry.get("component").unwrap_or(&Value::Null);
    let v = entry.get("variable").unwrap_or(&Value::Null);
    let e = c.get("evse").unwrap_or(&Value::Null);
    CvKey {
        comp: str_of(c, "name"),
        comp_inst: str_of(c, "instance"),
        evse: int_of(e, "id"),
        connector: int_of(e, "connectorId"),
        var: str_of(v, "name"),
        var_inst: str_of(v, "instance"),
    }
}

fn attr_type(entry: &Value) -> &str {
    str_of(entry, "attributeType").unwrap_or("Actual")
}

fn describe(entry: &Value) -> String {
    let k = cv_key(entry);
    let mut s = String::new();
    s.push_str(k.comp.unwrap_or("?"));
    if let Some(i) = k.comp_inst {
        s.push('[');
        s.push_str(i);
        s.push(']');
    }
    if let Some(e) = k.evse {
        s.push_str(&format!("@evse{e}"));
        if let Some(c) = k.connector {
            s.push_str(&format!(":{c}"));
        }
    }
    s.push('.');
    s.push_str(k.var.unwrap_or("?"));
    if let Some(i) = k.var_inst {
        s.push('[');
        s.push_str(i);
        s.push(']');
    }
    s
}

fn list(items: &[String]) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > 3 {
        s.push_str(&format!(" and {} more", items.len() - 3));
    }
    s
}

/// How the results of a GetVariables/SetVariables pair with its request entries.
#[derive(Debug, Default)]
struct Pairing {
    /// (request index, result index), same component/variable and attributeType.
    exact: Vec<(usize, usize)>,
    /// Same component/variable, other attributeType.
    other_type: Vec<(usize, usize)>,
    unmatched_results: Vec<usize>,
    unanswered_requests: Vec<usize>,
}

fn pair(requests: &[Value], results: &[Value]) -> Pairing {
    let mut p = Pairing::default();
    let mut req_used = vec![false; requests.len()];
    let mut res_used = vec![false; results.len()];
    for (ri, res) in results.iter().enumerate() {
        let (k, t) = (cv_key(res), attr_type(res));
        if let Some(qi) = (0..requests.len()).find(|&qi| {
            !req_used[qi] && cv_key(&requests[qi]) == k && attr_type(&requests[qi]) == t
        }) {
            req_used[qi] = true;
            res_used[ri] = true;
            p.exact.push((qi, ri));
        }
    }
    for (ri, res) in results.iter().enumerate() {
        if res_used[ri] {
            continue;
        }
        let k = cv_key(res);
        if let Some(qi) =
            (0..requests.len()).find(|&qi| !req_used[qi] && cv_key(&requests[qi]) == k)
        {
            req_used[qi] = true;
            res_used[ri] = true;
            p.other_type.push((qi, ri));
        } else {
            p.unmatched_results.push(ri);
        }
    }
    p.unanswered_requests = (0..requests.len()).filter(|&qi| !req_used[qi]).collect();
    p
}

/// The count, pairing and attributeType checks shared by GetVariables and SetVariables.
fn check_pairing(
    ctx: &mut Ctx<'_>,
    action: &str,
    requests: &[Value],
    results: &[Value],
    rules: [&'static Rule; 3],
) -> Option<Pairing> {
    let [count_rule, unmatched_rule, type_rule] = rules;
    if requests.len() != results.len() {
        ctx.report(
            count_rule,
            format!(
                "the {action} request had {} entries; the response has {} result{}",
                requests.len(),
                results.len(),
                if results.len() == 1 { "" } else { "s" }
            ),
        );
    }
    if requests.len() > MAX_PAIRED || results.len() > MAX_PAIRED {
        return None;
    }
    let p = pair(requests, results);
    if !p.unmatched_results.is_empty() || !p.unanswered_requests.is_empty() {
        let extra: Vec<String> = p
            .unmatched_results
            .iter()
            .map(|&i| describe(&results[i]))
            .collect();
        let missing: Vec<String> = p
            .unanswered_requests
            .iter()
            .map(|&i| describe(&requests[i]))
            .collect();
        let mut msg = String::new();
        if !extra.is_empty() {
            msg.push_str(&format!(
                "result(s) for {} that were not requested",
                list(&extra)
            ));
        }
        if !missing.is_empty() {
            if !msg.is_empty() {
                msg.push_str("; ");
            }
            msg.push_str(&format!("no result for requested {}", list(&missing)));
        }
        ctx.report(unmatched_rule, msg);
    }
    if !p.other_type.is_empty() {
        let items: Vec<String> = p
            .other_type
            .iter()
            .map(|&(q, r)| {
                format!(
                    "{} (requested {}, answered {})",
                    describe(&requests[q]),
                    attr_type(&requests[q]),
                    attr_type(&results[r])
                )
            })
            .collect();
        ctx.report(
            type_rule,
            format!(
                "attributeType differs from the request for {}",
                list(&items)
            ),
        );
    }
    Some(p)
}

fn is_basic_auth_password(entry: &Value) -> bool {
    let k = cv_key(entry);
    k.comp == Some("SecurityCtrlr") && k.var == Some("BasicAuthPassword")
}

fn get_variables_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let requests = arr_of(reply.request, "getVariableData");
    let results = arr_of(result, "getVariableResult");
    check_pairing(
        ctx,
        "GetVariables",
        requests,
        results,
        [
            &GET_VARIABLES_COUNT_MISMATCH,
            &GET_VARIABLES_UNMATCHED_RESULT,
            &GET_VARIABLES_ATTRIBUTE_TYPE,
        ],
    );
    let mut on_failure = Vec::new();
    let mut missing = Vec::new();
    for r in results {
        let status = str_of(r, "attributeStatus").unwrap_or("");
        let value = str_of(r, "attributeValue");
        match (status, value) {
            ("UnknownComponent" | "UnknownVariable" | "NotSupportedAttributeType", Some(_)) => {
                on_failure.push(format!("{} ({status})", describe(r)));
            }
            ("Accepted", None) => missing.push(describe(r)),
            _ => {}
        }
        if is_basic_auth_password(r) && (status != "Rejected" || value.is_some()) {
            ctx.report(
                &SECRET_READBACK,
                format!(
                    "GetVariables of SecurityCtrlr.BasicAuthPassword answered with status {status}{}; the password is write-only and must be answered Rejected",
                    if value.is_some() { " and a value" } else { "" }
                ),
            );
        }
        if status == "Accepted"
            && attr_type(r) == "Actual"
            && let (Some(c), Some(v), Some(val)) = (r.get("component"), r.get("variable"), value)
        {
            st.dm.learn_var(c, v, val);
        }
    }
    if !on_failure.is_empty() {
        ctx.report(
            &GET_VARIABLES_VALUE_ON_FAILURE,
            format!(
                "attributeValue given with a failure status for {}",
                list(&on_failure)
            ),
        );
    }
    if !missing.is_empty() {
        ctx.report(
            &GET_VARIABLES_VALUE_MISSING,
            format!(
                "Accepted without attributeValue for {} (an unset value is answered with \"\")",
                list(&missing)
            ),
        );
    }
}

fn set_variables_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let requests = arr_of(reply.request, "setVariableData");
    let results = arr_of(result, "setVariableResult");
    let Some(p) = check_pairing(
        ctx,
        "SetVariables",
        requests,
        results,
        [
            &SET_VARIABLES_COUNT_MISMATCH,
            &SET_VARIABLES_UNMATCHED_RESULT,
            &SET_VARIABLES_ATTRIBUTE_TYPE,
        ],
    ) else {
        return;
    };
    for &(q, r) in &p.exact {
        let (req, res) = (&requests[q], &results[r]);
        if str_of(res, "attributeStatus") == Some("Accepted")
            && attr_type(req) == "Actual"
            && let (Some(c), Some(v), Some(val)) = (
                req.get("component"),
                req.get("variable"),
                str_of(req, "attributeValue"),
            )
        {
            st.dm.learn_var(c, v, val);
        }
    }
}

fn check_duplicate_entries(ctx: &mut Ctx<'_>, payload: &Value) {
    let entries = arr_of(payload, "setVariableData");
    if entries.len() > MAX_PAIRED {
        return;
    }
    for (i, a) in entries.iter().enumerate() {
        let (ka, ta) = (cv_key(a), attr_type(a));
        if entries[..i]
            .iter()
            .any(|b| cv_key(b) == ka && attr_type(b) == ta)
        {
            ctx.report(
                &SET_VARIABLES_DUPLICATE_ENTRY,
                format!(
                    "setVariableData[{i}] writes {} ({ta}) a second time in the same request",
                    describe(a)
                ),
            );
            return;
        }
    }
}

/// ItemsPerMessage / BytesPerMessage of a request, when the charger reported them.
fn check_limits(
    st: &ProtoState,
    ctx: &mut Ctx<'_>,
    call: &Call<'_>,
    component: &str,
    instance: &str,
    list_key: &str,
) {
    let dm = &st.dm;
    if dm.vars2.is_empty() {
        return;
    }
    let n = arr_of(call.payload, list_key).len();
    if let Some(max) = dm
        .var2(component, None, "ItemsPerMessage", Some(instance))
        .and_then(|v| v.trim().parse::<usize>().ok())
        && n > max
    {
        ctx.report(
                &ITEMS_PER_MESSAGE_EXCEEDED,
                format!(
                    "{} has {n} entries in `{list_key}`; the charger reported {component}.ItemsPerMessage[{instance}] = {max}",
                    call.action
                ),
            );
    }
    if let Some(max) = dm
        .var2(component, None, "BytesPerMessage", Some(instance))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        let len = serde_json::to_string(call.payload).map_or(0, |s| s.len());
        if len > max {
            ctx.report(
                &BYTES_PER_MESSAGE_EXCEEDED,
                format!(
                    "the {} payload alone is {len} bytes; the charger reported {component}.BytesPerMessage[{instance}] = {max}",
                    call.action
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reports.

fn report_request(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let (Some(kind), Some(request_id)) = (
        ReportKind::of_request(call.action),
        int_of(call.payload, "requestId"),
    ) else {
        return;
    };
    let reports = &mut st.dm.reports;
    reports.retain(|r| !(r.kind == kind && r.request_id == request_id));
    push_capped(
        reports,
        ReportReq {
            kind,
            request_id,
            call: CallRef::of_call(ctx, call),
            state: ReqState::Sent,
            next_seq: 0,
            finished: false,
            parts: 0,
            flagged: false,
        },
        MAX_REPORTS,
    );
}

fn report_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(kind), Some(request_id)) = (
        ReportKind::of_request(reply.action),
        int_of(reply.request, "requestId"),
    ) else {
        return;
    };
    let Some(r) = st
        .dm
        .reports
        .iter_mut()
        .rev()
        .find(|r| r.kind == kind && r.request_id == request_id && &*r.call.id == reply.id)
    else {
        return;
    };
    r.state = match (reply.outcome, status_of(reply)) {
        (Outcome::Error { code }, _) => ReqState::Refused(Box::from(format!("CALLERROR {code}"))),
        (_, Some("Accepted")) => ReqState::Accepted { at: ctx.now() },
        (_, Some(other)) => ReqState::Refused(Box::from(other)),
        // An invalid answer: judge the parts as if it was accepted.
        (_, None) => ReqState::Accepted { at: ctx.now() },
    };
}

fn report_part(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let Some(kind) = ReportKind::of_report(call.action) else {
        return;
    };
    if kind == ReportKind::Report {
        for d in arr_of(p, "reportData") {
            let attrs = arr_of(d, "variableAttribute");
            if is_basic_auth_password(d) && attrs.iter().any(|a| a.get("value").is_some()) {
                ctx.report(
                    &SECRET_READBACK,
                    "NotifyReport gives a value for the write-only SecurityCtrlr.BasicAuthPassword",
                );
            }
            for a in attrs {
                if str_of(a, "type").unwrap_or("Actual") == "Actual"
                    && let (Some(c), Some(v), Some(val)) =
                        (d.get("component"), d.get("variable"), str_of(a, "value"))
                {
                    st.dm.learn_var(c, v, val);
                }
            }
        }
    }
    let Some(request_id) = int_of(p, "requestId") else {
        return;
    };
    let boot_seen = st.station.booted();
    let Some(r) = st
        .dm
        .reports
        .iter_mut()
        .rev()
        .find(|r| r.kind == kind && r.request_id == request_id)
    else {
        let other = st
            .dm
            .reports
            .iter()
            .rev()
            .find(|r| r.request_id == request_id)
            .map(|r| r.call.action);
        let msg = format!(
            "{} carries requestId {request_id}, which belongs to no {} seen{}",
            call.action,
            kind.requests(),
            other.map_or_else(
                || {
                    if boot_seen {
                        String::new()
                    } else {
                        " (the request may predate the trace)".to_owned()
                    }
                },
                |a| format!(" (it is the requestId of a {a})")
            )
        );
        if boot_seen || other.is_some() {
            ctx.report(&REPORT_REQUEST_ID_MISMATCH, msg);
        } else {
            ctx.report_as(&REPORT_REQUEST_ID_MISMATCH, Severity::Info, msg);
        }
        return;
    };
    if let ReqState::Refused(status) = &r.state {
        if kind == ReportKind::Report && !r.flagged {
            r.flagged = true;
            ctx.report(
                &REPORT_AFTER_REJECTION,
                format!(
                    "NotifyReport for requestId {request_id}, although the {} of line {} was answered {status}",
                    r.call.action, r.call.line
                ),
            );
        }
        return;
    }
    r.parts += 1;
    let tbc = p.get("tbc").and_then(Value::as_bool).unwrap_or(false);
    if r.finished {
        ctx.report(
            &REPORT_SEQNO,
            format!(
                "{} for requestId {request_id} arrives after the part with tbc=false that ended the report",
                call.action
            ),
        );
    } else if kind.has_seq_no()
        && let Some(seq) = int_of(p, "seqNo")
    {
        if seq != r.next_seq {
            ctx.report(
                &REPORT_SEQNO,
                format!(
                    "{} for requestId {request_id} has seqNo {seq}; expected {}",
                    call.action, r.next_seq
                ),
            );
        }
        r.next_seq = seq.saturating_add(1);
    }
    r.finished = !tbc;
}

// ---------------------------------------------------------------------------------------
// 1.6 configuration.

fn get_configuration_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let asked = arr_of(reply.request, "key");
    let known = arr_of(result, "configurationKey");
    let unknown = arr_of(result, "unknownKey");
    let listed = |key: &str| {
        known
            .iter()
            .any(|k| str_of(k, "key").is_some_and(|k| k.eq_ignore_ascii_case(key)))
            || unknown
                .iter()
                .any(|k| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key)))
    };
    if asked.is_empty() {
        if known.is_empty() {
            ctx.report(
                &GET_CONFIGURATION_KEY_UNACCOUNTED,
                "GetConfiguration without keys asks for the whole configuration; the reply lists no key at all",
            );
        }
    } else {
        let missing: Vec<String> = asked
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| !listed(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !missing.is_empty() {
            ctx.report(
                &GET_CONFIGURATION_KEY_UNACCOUNTED,
                format!(
                    "requested key(s) {} appear neither in configurationKey nor in unknownKey",
                    list(&missing)
                ),
            );
        }
    }
    let dm = &mut st.dm;
    for k in known {
        let Some(key) = str_of(k, "key") else {
            continue;
        };
        let value = str_of(k, "value");
        if key.eq_ignore_ascii_case("AuthorizationKey") && value.is_some_and(|v| !v.is_empty()) {
            ctx.report(
                &SECRET_READBACK,
                "GetConfiguration returns a value for the write-only AuthorizationKey (the Basic-auth password)",
            );
        }
        dm.learn16(key, value.or(Some("")));
        let readonly = k.get("readonly").and_then(Value::as_bool) == Some(true);
        let pos = dm
            .readonly16
            .iter()
            .position(|r| r.eq_ignore_ascii_case(key));
        match (readonly, pos) {
            (true, None) => push_capped(&mut dm.readonly16, Box::from(key), MAX_KEYS),
            (false, Some(i)) => {
                dm.readonly16.remove(i);
            }
            _ => {}
        }
        dm.unknown16.retain(|u| !u.eq_ignore_ascii_case(key));
    }
    for u in unknown.iter().filter_map(Value::as_str) {
        if !dm.unknown16.iter().any(|x| x.eq_ignore_ascii_case(u)) {
            push_capped(&mut dm.unknown16, Box::from(u), MAX_KEYS);
        }
        dm.learn16(u, None);
    }
    if asked.is_empty() && !known.is_empty() {
        // A full listing: the kept keys it lacks are absent.
        for key in KEPT_KEYS {
            if !known
                .iter()
                .any(|k| str_of(k, "key").is_some_and(|k| k.eq_ignore_ascii_case(key)))
            {
                dm.learn16(key, None);
            }
        }
    }
}

fn change_configuration_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(key), Some(status)) = (str_of(reply.request, "key"), status_of(reply)) else {
        return;
    };
    let dm = &mut st.dm;
    let accepted = matches!(status, "Accepted" | "RebootRequired");
    if accepted && dm.readonly16.iter().any(|r| r.eq_ignore_ascii_case(key)) {
        ctx.report(
            &READONLY_CHANGE_ACCEPTED,
            format!(
                "ChangeConfiguration of `{key}` answered {status}, but the charger reported `{key}` as read-only"
            ),
        );
    }
    if status != "NotSupported" && dm.unknown16.iter().any(|u| u.eq_ignore_ascii_case(key)) {
        ctx.report(
            &UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
            format!(
                "ChangeConfiguration of `{key}` answered {status}; the charger reported `{key}` as an unknown key, so NotSupported is expected"
            ),
        );
    }
    if accepted && let Some(value) = str_of(reply.request, "value") {
        dm.learn16(key, Some(value));
    }
}

// ---------------------------------------------------------------------------------------
// Resets.

fn reset_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(kind), Some(status)) = (str_of(reply.request, "type"), status_of(reply)) else {
        return;
    };
    let evse = int_of(reply.request, "evseId");
    let v2 = st.is_2x();
    let dm = &mut st.dm;
    if v2 {
        let running = match evse {
            Some(e) if e > 0 => dm.activity.running_on(e, false),
            _ => !dm.activity.txs.is_empty(),
        };
        if running && kind == "OnIdle" && status == "Accepted" {
            ctx.report(
                &ONIDLE_RESET_NOT_SCHEDULED,
                "Reset OnIdle answered Accepted while a transaction runs; the reset must wait for it (Scheduled)",
            );
        }
        if running && kind != "OnIdle" && status != "Accepted" {
            ctx.report(
                &IMMEDIATE_RESET_NOT_ACCEPTED,
                format!(
                    "Reset {kind} answered {status} while a transaction runs; an immediate reset is answered Accepted"
                ),
            );
        }
        if let Some(e) = evse.filter(|&e| e > 0)
            && matches!(status, "Accepted" | "Scheduled")
            && dm
                .var2("EVSE", Some(e), "AllowReset", None)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
        {
            ctx.report(
                    &EVSE_RESET_UNSUPPORTED_ACCEPTED,
                    format!(
                        "Reset of EVSE {e} answered {status}, although the charger reported EVSE {e} AllowReset = false"
                    ),
                );
        }
    }
    let station_wide = evse.is_none_or(|e| e == 0);
    let watched = if v2 {
        matches!(status, "Accepted" | "Scheduled")
    } else {
        status == "Accepted" && kind == "Soft"
    };
    if station_wide && watched && !dm.activity.txs.is_empty() {
        dm.reset = Some(ResetWatch {
            call: CallRef::of_reply(reply),
            txs: dm.activity.txs.iter().map(|t| t.id.clone()).collect(),
        });
    }
}

#[cfg(test)]
mod tests;
