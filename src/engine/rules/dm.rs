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

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use serde_json::Value;

use super::rpc::rule;
use super::{ALL, Rule, V2X, V16};
use crate::engine::protocol::{Call, OpenInfo, Outcome, ProtoState, Reply};
use crate::engine::{About, Ctx};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &GET_VARIABLES_COUNT_MISMATCH,
    &GET_VARIABLES_UNMATCHED_RESULT,
    &GET_VARIABLES_ATTRIBUTE_TYPE,
    &GET_VARIABLES_VALUE_ON_FAILURE,
    &GET_VARIABLES_VALUE_MISSING,
    &SET_VARIABLES_COUNT_MISMATCH,
    &SET_VARIABLES_UNMATCHED_RESULT,
    &SET_VARIABLES_ATTRIBUTE_TYPE,
    &SET_VARIABLES_DUPLICATE_ENTRY,
    &MONITORING_COUNT_MISMATCH,
    &ITEMS_PER_MESSAGE_EXCEEDED,
    &BYTES_PER_MESSAGE_EXCEEDED,
    &REPORT_REQUEST_ID_MISMATCH,
    &REPORT_SEQNO,
    &REPORT_AFTER_REJECTION,
    &REPORT_NOT_SENT,
    &GET_CONFIGURATION_KEY_UNACCOUNTED,
    &GET_CONFIGURATION_MAX_KEYS,
    &READONLY_CHANGE_ACCEPTED,
    &UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
    &SECRET_READBACK,
    &EVSE_RESET_UNSUPPORTED_ACCEPTED,
    &ONIDLE_RESET_NOT_SCHEDULED,
    &IMMEDIATE_RESET_NOT_ACCEPTED,
    &RESET_TX_NOT_STOPPED,
];

rule!(
    GET_VARIABLES_COUNT_MISMATCH,
    "dm.get-variables-count-mismatch",
    Error,
    None,
    V2X,
    Charger,
    "GetVariablesResponse has a different number of results than the request had entries",
    "2.0.1 Part 2 B06.FR.01",
    "What it checks: the number of `getVariableResult` entries differs from the number of \
`getVariableData` entries of the request it answers.\n\n\
Why it matters: every requested variable gets exactly one result, so the CSMS can pair them; \
a missing or extra result leaves a request unanswered or an answer unexplained.\n\n\
Example:\n  CSMS:    GetVariables {getVariableData:[HeartbeatInterval, OfflineThreshold]}\n  \
charger: {getVariableResult:[HeartbeatInterval]}"
);

rule!(
    GET_VARIABLES_UNMATCHED_RESULT,
    "dm.get-variables-unmatched-result",
    Error,
    None,
    V2X,
    Charger,
    "GetVariables result for a variable that was not requested, or a requested variable without result",
    "2.0.1 Part 2 B06.FR.02, B06.FR.14",
    "What it checks: each result's component (name, instance, EVSE) and variable (name, \
instance) must be one of the requested pairs, and each requested pair must get a result. \
Entries are paired one to one; a pair requested twice needs two results.\n\n\
Why it matters: the result carries the component and variable so the CSMS knows what the \
value belongs to; a renamed or dropped variable is read as a different setting or lost.\n\n\
Example:\n  requested OCPPCommCtrlr.HeartbeatInterval, answered OCPPCommCtrlr.HeartbeatIntervall"
);

rule!(
    GET_VARIABLES_ATTRIBUTE_TYPE,
    "dm.get-variables-attribute-type",
    Error,
    None,
    V2X,
    Charger,
    "GetVariables result has another attributeType than requested (absent means Actual)",
    "2.0.1 Part 2 B06.FR.03, B06.FR.11",
    "What it checks: a result whose component and variable match a request entry but whose \
`attributeType` differs from the requested one. An absent `attributeType` means `Actual` on \
both sides.\n\n\
Why it matters: Actual, Target, MinSet and MaxSet are different values of one variable; a \
MaxSet answered as Actual is read as the live value.\n\n\
Example:\n  requested {variable:{name:\"Power\"}, attributeType:\"MaxSet\"}, answered with \
attributeType \"Actual\""
);

rule!(
    GET_VARIABLES_VALUE_ON_FAILURE,
    "dm.get-variables-value-on-failure",
    Error,
    None,
    V2X,
    Charger,
    "GetVariables result with an unknown/unsupported status still carries an attributeValue",
    "2.0.1 Part 2 B06.FR.06-B06.FR.08",
    "What it checks: a result with `attributeStatus` UnknownComponent, UnknownVariable or \
NotSupportedAttributeType that nevertheless has an `attributeValue`.\n\n\
Why it matters: the status says there is no such value; a value beside it is contradictory \
and may be stored by a CSMS that reads the value first.\n\n\
Example:\n  {attributeStatus:\"UnknownVariable\", attributeValue:\"0\", ...}"
);

rule!(
    GET_VARIABLES_VALUE_MISSING,
    "dm.get-variables-value-missing",
    Error,
    None,
    V2X,
    Charger,
    "GetVariables result Accepted without attributeValue",
    "2.0.1 Part 2 B06.FR.04, B06.FR.10, B06.FR.13",
    "What it checks: a result with `attributeStatus` Accepted but no `attributeValue`. A \
variable that is supported but unset is answered with an empty string.\n\n\
Why it matters: Accepted promises the value; without it the CSMS cannot tell an unset \
variable from a broken answer.\n\n\
Example:\n  {attributeStatus:\"Accepted\", component:{name:\"OCPPCommCtrlr\"}, \
variable:{name:\"HeartbeatInterval\"}}"
);

rule!(
    SET_VARIABLES_COUNT_MISMATCH,
    "dm.set-variables-count-mismatch",
    Error,
    None,
    V2X,
    Charger,
    "SetVariablesResponse has a different number of results than the request had entries",
    "2.0.1 Part 2 B05.FR.01",
    "What it checks: the number of `setVariableResult` entries differs from the number of \
`setVariableData` entries of the request.\n\n\
Why it matters: each write gets exactly one result; without it the CSMS does not know whether \
the setting took effect.\n\n\
Example:\n  two setVariableData entries answered with one setVariableResult"
);

rule!(
    SET_VARIABLES_UNMATCHED_RESULT,
    "dm.set-variables-unmatched-result",
    Error,
    None,
    V2X,
    Charger,
    "SetVariables result for a variable that was not set, or a written variable without result",
    "2.0.1 Part 2 B05.FR.02",
    "What it checks: each result's component (name, instance, EVSE) and variable (name, \
instance) must be one of the request entries, and each entry must get a result (paired one to \
one).\n\n\
Why it matters: the CSMS pairs results with its writes by component and variable.\n\n\
Example:\n  wrote TxCtrlr.EVConnectionTimeOut, result names TxCtrlr.EVConnectionTimeout"
);

rule!(
    SET_VARIABLES_ATTRIBUTE_TYPE,
    "dm.set-variables-attribute-type",
    Error,
    None,
    V2X,
    Charger,
    "SetVariables result has another attributeType than the request entry (absent means Actual)",
    "2.0.1 Part 2 B05.FR.03, B05.FR.12",
    "What it checks: a result whose component and variable match a request entry but whose \
`attributeType` differs from that entry's (absent means Actual on both sides).\n\n\
Why it matters: the result must say which attribute was written; a Target write answered as \
Actual is misread.\n\n\
Example:\n  wrote attributeType \"Target\", result says \"Actual\""
);

rule!(
    SET_VARIABLES_DUPLICATE_ENTRY,
    "dm.set-variables-duplicate-entry",
    Error,
    None,
    V2X,
    Csms,
    "Two setVariableData entries of one request share component, variable and attributeType",
    "2.0.1 Part 2 B05.FR.13",
    "What it checks: a SetVariablesRequest with two entries for the same component (name, \
instance, EVSE), variable (name, instance) and attributeType (absent = Actual).\n\n\
Why it matters: the order in which the charger applies them is not defined, so the end value \
is unpredictable.\n\n\
Example:\n  setVariableData:[{...HeartbeatInterval, \"60\"}, {...HeartbeatInterval, \"300\"}]"
);

rule!(
    MONITORING_COUNT_MISMATCH,
    "dm.monitoring-count-mismatch",
    Error,
    None,
    V2X,
    Charger,
    "SetVariableMonitoringResponse has a different number of results than the request had entries",
    "2.0.1 Part 2 N04.FR.01",
    "What it checks: the number of `setMonitoringResult` entries differs from the number of \
`setMonitoringData` entries of the request.\n\n\
Why it matters: each monitor gets one result carrying its id; without it the CSMS cannot \
tell which monitors exist.\n\n\
Example:\n  three setMonitoringData entries answered with two results"
);

rule!(
    ITEMS_PER_MESSAGE_EXCEEDED,
    "dm.items-per-message-exceeded",
    Error,
    None,
    V2X,
    Csms,
    "Request has more entries than the charger's ItemsPerMessage limit",
    "2.0.1 Part 2 B05.FR.11, B06.FR.05, B06.FR.16",
    "What it checks: a GetVariables, SetVariables, GetReport, SetVariableMonitoring or \
ClearVariableMonitoring request with more entries than the charger reported in \
`DeviceDataCtrlr.ItemsPerMessage` (instance GetVariables, SetVariables, GetReport) or \
`MonitoringCtrlr.ItemsPerMessage` (SetVariableMonitoring, ClearVariableMonitoring). Only \
when the limit was seen in a GetVariables result, a SetVariables write or a NotifyReport.\n\n\
Why it matters: the charger may answer with CALLERROR OccurrenceConstraintViolation; the \
CSMS must split the request.\n\n\
Example:\n  ItemsPerMessage[GetVariables] = 2, then a GetVariables with 3 entries"
);

rule!(
    BYTES_PER_MESSAGE_EXCEEDED,
    "dm.bytes-per-message-exceeded",
    Warning,
    None,
    V2X,
    Csms,
    "Request larger than the charger's BytesPerMessage limit",
    "2.0.1 Part 2 B06.FR.17, B08.FR.18",
    "What it checks: a GetVariables, SetVariables, GetReport, SetVariableMonitoring or \
ClearVariableMonitoring request whose payload, written compactly, is longer than the \
charger's `DeviceDataCtrlr.BytesPerMessage` / `MonitoringCtrlr.BytesPerMessage` for that \
request (when known from the traffic). The compact payload is a lower bound of the frame, so \
a finding is never a false alarm.\n\n\
Why it matters: the charger may answer CALLERROR FormatViolation.\n\n\
Example:\n  BytesPerMessage[SetVariables] = 100, then a SetVariables of 180 bytes"
);

rule!(
    REPORT_REQUEST_ID_MISMATCH,
    "dm.report-request-id-mismatch",
    Error,
    None,
    V2X,
    Charger,
    "Report message whose requestId belongs to no request of the matching type",
    "2.0.1 Part 2 Gen §3 FR.05, B07.FR.04, B08.FR.04",
    "What it checks: NotifyReport (GetBaseReport, GetReport), NotifyMonitoringReport \
(GetMonitoringReport), ReportChargingProfiles (GetChargingProfiles), NotifyCustomerInformation \
(CustomerInformation) and NotifyDisplayMessages (GetDisplayMessages) must carry the requestId \
of a request of the matching type. `error` when the station's boot was seen (the whole \
history since then is known); `info` otherwise, since the request may predate the trace.\n\n\
Why it matters: the CSMS files the report under the request it started; an unknown id is \
dropped or misfiled.\n\n\
Example:\n  CSMS: GetBaseReport {requestId:7}  charger: NotifyReport {requestId:8, ...}"
);

rule!(
    REPORT_SEQNO,
    "dm.report-seqno",
    Error,
    None,
    V2X,
    Charger,
    "Report parts out of order: first seqNo not 0, a gap, or a part after the last one",
    "2.0.1 Part 2 B07.FR.10, B08.FR.14, §1.40",
    "What it checks: the parts of one report (same requestId) of a request seen in the trace: \
`seqNo` starts at 0 and grows by one, and no part follows a part with `tbc` false or absent \
(`tbc` = to be continued). Applies to NotifyReport, NotifyMonitoringReport, \
NotifyCustomerInformation (seqNo and tbc) and to ReportChargingProfiles and \
NotifyDisplayMessages (tbc only).\n\n\
Why it matters: the CSMS reassembles the report by seqNo and closes it at tbc=false; a gap or \
a late part loses data.\n\n\
Example:\n  NotifyReport {requestId:7, seqNo:0, tbc:true}, NotifyReport {requestId:7, seqNo:2}"
);

rule!(
    REPORT_AFTER_REJECTION,
    "dm.report-after-rejection",
    Error,
    None,
    V2X,
    Charger,
    "NotifyReport sent for a GetBaseReport/GetReport the charger refused",
    "2.0.1 Part 2 B07.FR.05, B08.FR.02, B08.FR.15",
    "What it checks: a NotifyReport whose requestId is that of a GetBaseReport or GetReport \
the charger refused (status NotSupported, Rejected or EmptyResultSet, or a CALLERROR).\n\n\
Why it matters: the response already told the CSMS that no report will come.\n\n\
Example:\n  GetReport {requestId:3} -> {status:\"EmptyResultSet\"}, then NotifyReport \
{requestId:3, ...}"
);

rule!(
    REPORT_NOT_SENT,
    "dm.report-not-sent",
    Warning,
    None,
    V2X,
    Charger,
    "Accepted GetBaseReport/GetReport/GetMonitoringReport not followed by a report in time",
    "2.0.1 Part 2 B07.FR.03, B08 (GetReport), N02 (GetMonitoringReport)",
    "What it checks: a GetBaseReport, GetReport or GetMonitoringReport answered Accepted, and \
no NotifyReport / NotifyMonitoringReport with its requestId within `followup_window` \
(default 60 s). Not in the rules catalogue as a row of its own; a warning because the window \
is a heuristic (a large report may take long to assemble).\n\n\
Why it matters: Accepted promises the report (B07.FR.03: the charger SHALL send the \
requested information); a CSMS waiting for it stalls.\n\n\
Example:\n  GetBaseReport {requestId:1} -> Accepted, then only Heartbeats for minutes"
);

rule!(
    GET_CONFIGURATION_KEY_UNACCOUNTED,
    "dm.get-configuration-key-unaccounted",
    Error,
    None,
    V16,
    Charger,
    "GetConfiguration reply leaves a requested key out of both configurationKey and unknownKey",
    "OCPP 1.6 §5.8",
    "What it checks: with keys in the request, every requested key must come back in \
`configurationKey` (recognised) or in `unknownKey`. Without keys, the reply must list the \
configuration (an empty reply lists nothing, although every 1.6 charger has required keys). \
Keys are compared ignoring case.\n\n\
Why it matters: the CSMS cannot tell whether a missing key is unsupported or was forgotten.\n\n\
Example:\n  GetConfiguration {key:[\"HeartbeatInterval\",\"MeterValueSampleInterval\"]} -> \
{configurationKey:[{key:\"HeartbeatInterval\",...}]}"
);

rule!(
    GET_CONFIGURATION_MAX_KEYS,
    "dm.get-configuration-max-keys",
    Warning,
    None,
    V16,
    Csms,
    "GetConfiguration asks for more keys than the charger's GetConfigurationMaxKeys",
    "OCPP 1.6 §5.8, §9.1",
    "What it checks: a GetConfiguration whose `key` list is longer than \
`GetConfigurationMaxKeys`, when that value was seen in an earlier GetConfiguration reply.\n\n\
Why it matters: the charger may refuse or truncate the reply.\n\n\
Example:\n  GetConfigurationMaxKeys = 2, then GetConfiguration with three keys"
);

rule!(
    READONLY_CHANGE_ACCEPTED,
    "dm.readonly-change-accepted",
    Warning,
    None,
    V16,
    Charger,
    "ChangeConfiguration Accepted for a key the charger reported read-only",
    "OCPP 1.6 §5.3, §6.24",
    "What it checks: ChangeConfiguration answered Accepted (or RebootRequired) for a key an \
earlier GetConfiguration reply listed with `readonly: true`.\n\n\
Why it matters: a read-only key cannot be changed; the answer should be Rejected, and the \
CSMS now believes a value that is not in force.\n\n\
Example:\n  GetConfiguration -> {key:\"NumberOfConnectors\", readonly:true}, then \
ChangeConfiguration NumberOfConnectors -> Accepted"
);

rule!(
    UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
    "dm.unknown-key-change-not-notsupported",
    Warning,
    None,
    V16,
    Charger,
    "ChangeConfiguration for a key reported unknown is answered other than NotSupported",
    "OCPP 1.6 §5.3",
    "What it checks: ChangeConfiguration for a key that an earlier GetConfiguration reply \
listed in `unknownKey`, answered with anything but NotSupported.\n\n\
Why it matters: the key does not exist on the charger; Accepted or Rejected suggest it does.\n\n\
Example:\n  GetConfiguration -> {unknownKey:[\"FooBar\"]}, then ChangeConfiguration FooBar -> \
Rejected"
);

rule!(
    SECRET_READBACK,
    "auth.secret-readback",
    Error,
    Some(Severity::Warning),
    ALL,
    Charger,
    "Charger reveals its write-only Basic-auth secret (AuthorizationKey, BasicAuthPassword)",
    "OCPP-J 1.6 §6.2.2 + errata §3.12; 2.0.1 Part 2 B06.FR.09, B07.FR.03 (E201 2.10)",
    "What it checks: 1.6: a GetConfiguration reply gives a non-empty `value` for \
`AuthorizationKey`. 2.x: a GetVariables result for SecurityCtrlr.BasicAuthPassword has a \
status other than Rejected or carries an `attributeValue`, or a NotifyReport gives a value \
for it. A warning on 1.6, where the write-only rule comes from the errata.\n\n\
Why it matters: the password authenticates the charger; anyone who can read the CSMS \
traffic or logs can then impersonate it.\n\n\
Example:\n  GetConfiguration -> {configurationKey:[{key:\"AuthorizationKey\", \
value:\"0011...\", readonly:false}]}"
);

rule!(
    EVSE_RESET_UNSUPPORTED_ACCEPTED,
    "avail.evse-reset-unsupported-accepted",
    Info,
    None,
    V2X,
    Charger,
    "Reset of one EVSE accepted although the EVSE reports AllowReset false",
    "2.0.1 Part 2 B11.FR.09, B11.FR.10",
    "What it checks: a ResetRequest with `evseId` answered Accepted or Scheduled while the \
charger reported `EVSE.AllowReset` = false for that EVSE (GetVariables or NotifyReport). \
When AllowReset is unknown nothing is reported.\n\n\
Why it matters: the charger announced that the EVSE cannot be reset on its own; accepting \
contradicts its own device model (recorded as information).\n\n\
Example:\n  EVSE 1 AllowReset=false, then Reset {type:\"Immediate\", evseId:1} -> Accepted"
);

rule!(
    ONIDLE_RESET_NOT_SCHEDULED,
    "avail.onidle-reset-not-scheduled",
    Error,
    None,
    V2X,
    Charger,
    "ResetRequest OnIdle while a transaction runs answered Accepted instead of Scheduled",
    "2.0.1 Part 2 B12.FR.01",
    "What it checks: a ResetRequest of type OnIdle (for the station, or for an EVSE) while a \
transaction seen in the trace runs there, answered Accepted. Rejected is not reported (a \
charger may be unable to reset at all).\n\n\
Why it matters: OnIdle means after the transactions end; Scheduled tells the CSMS the reset \
waits, Accepted claims it happens now.\n\n\
Example:\n  TransactionEvent Started, then Reset {type:\"OnIdle\"} -> {status:\"Accepted\"}"
);

rule!(
    IMMEDIATE_RESET_NOT_ACCEPTED,
    "avail.immediate-reset-not-accepted",
    Warning,
    None,
    V2X,
    Charger,
    "ResetRequest Immediate while a transaction runs answered other than Accepted",
    "2.0.1 Part 2 B12.FR.02",
    "What it checks: a ResetRequest of type Immediate (or 2.1 ImmediateAndResume) while a \
transaction seen in the trace runs on the target, answered Scheduled or Rejected. A warning: \
Rejected is legal when the charger cannot reset.\n\n\
Why it matters: an immediate reset stops the transactions and resets now; Scheduled turns it \
into an OnIdle reset the CSMS did not ask for.\n\n\
Example:\n  TransactionEvent Started, then Reset {type:\"Immediate\"} -> {status:\"Scheduled\"}"
);

rule!(
    RESET_TX_NOT_STOPPED,
    "avail.reset-tx-not-stopped",
    Warning,
    None,
    ALL,
    Charger,
    "Charger rebooted after an accepted reset without stopping the transactions that ran",
    "OCPP 1.6 errata 3.36; 2.0.1 Part 2 B12.FR.03, B12.FR.04, B12.FR.07, B12.FR.08",
    "What it checks: a station-wide Reset was accepted (or scheduled) while transactions seen \
in the trace ran, and the next BootNotification comes while some of them were never stopped \
(1.6 StopTransaction; 2.x TransactionEvent Ended). 1.6 Hard resets are exempt (the stop may \
come after the reboot).\n\n\
Why it matters: a transaction left open is billed wrong and blocks the connector in the CSMS.\n\n\
Example:\n  StartTransaction -> transactionId 5, Reset {type:\"Soft\"} -> Accepted, \
BootNotification (no StopTransaction 5)"
);

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
// Small JSON helpers shared by the families of this group.

/// The string member `key` of an object.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

/// The integer member `key` of an object.
pub(crate) fn int_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key)?.as_i64()
}

/// The array member `key` of an object (empty when absent or not an array).
pub(crate) fn arr_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The `status` of a schema-valid CALLRESULT.
pub(crate) fn status_of<'a>(reply: &Reply<'a>) -> Option<&'a str> {
    reply.result().and_then(|r| str_of(r, "status"))
}

/// A remembered CALL, for findings reported later about it.
#[derive(Debug, Clone)]
pub(crate) struct CallRef {
    pub(crate) line: u64,
    pub(crate) at: Timestamp,
    pub(crate) from: Side,
    pub(crate) id: Box<str>,
    pub(crate) action: &'static str,
}

impl CallRef {
    pub(crate) fn of_call(ctx: &Ctx<'_>, call: &Call<'_>) -> CallRef {
        CallRef {
            line: ctx.line(),
            at: ctx.now(),
            from: call.from,
            id: Box::from(call.id),
            action: call.action,
        }
    }

    pub(crate) fn of_reply(reply: &Reply<'_>) -> CallRef {
        CallRef {
            line: reply.call_line,
            at: reply.call_at,
            from: reply.caller,
            id: Box::from(reply.id),
            action: reply.action,
        }
    }

    pub(crate) fn about(&self) -> About<'_> {
        About {
            line: self.line,
            at: self.at,
            from: Some(self.from),
            unique_id: Some(&self.id),
            action: Some(self.action),
        }
    }
}

/// Pushes onto a list bounded at `cap` entries, dropping the oldest.
/// Whether a timestamp the station wrote is credible as a reference for ordering: not ahead
/// of the time the frame was observed by more than `clock_skew`. A stamp from a clock that
/// runs ahead (local time marked Z before the boot answer set the clock) is itself the fault
/// (`seq.cs-timestamp-future`); the correct stamps after the clock was set must not be
/// blamed for going backwards from it.
pub(crate) fn credible_stamp(ctx: &Ctx<'_>, ts: Timestamp) -> bool {
    ts.micros()
        <= ctx
            .now()
            .micros()
            .saturating_add(ctx.config().tol.clock_skew_us)
}

pub(crate) fn push_capped<T>(list: &mut Vec<T>, item: T, cap: usize) {
    if list.len() >= cap {
        list.remove(0);
    }
    list.push(item);
}

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

/// What was seen of the station's life: its boots and its running transactions. The
/// transaction families keep richer state; this is the little the rules of this group need.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// A BootNotification of this identity was seen: the history since that boot is known,
    /// so a request that is not in the trace was never sent.
    pub(crate) boot_seen: bool,
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
    /// Reset requests of the CSMS not answered yet, with whether a transaction ran on their
    /// target when each was sent: the answer is judged by that, not by what the charger did
    /// between (it may end or start a transaction before its answer goes out).
    resets_in_flight: Vec<(Box<str>, bool)>,
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

fn is_2x(st: &ProtoState) -> bool {
    st.version.is_some_and(Version::is_2x)
}

pub(crate) fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}
pub(crate) fn on_close(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
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

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
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
            st.dm.activity.boot_seen = true;
        }
        ("StopTransaction", Side::Charger) => {
            if let Some(id) = int_of(p, "transactionId") {
                stopped(st, TxRef::Int(id));
            }
        }
        ("MeterValues", Side::Charger) if st.version == Some(Version::V16) => {
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
        ("Reset", Side::Csms) if is_2x(st) => {
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

pub(crate) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
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
    let boot_seen = st.dm.activity.boot_seen;
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

const MAX_RESETS_IN_FLIGHT: usize = 4;

/// Whether a transaction runs on the target of a 2.x Reset (an EVSE, or the station).
fn running_for_reset(dm: &State, evse: Option<i64>) -> bool {
    match evse {
        Some(e) if e > 0 => dm.activity.running_on(e, false),
        _ => !dm.activity.txs.is_empty(),
    }
}

fn reset_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(kind), Some(status)) = (str_of(reply.request, "type"), status_of(reply)) else {
        return;
    };
    let evse = int_of(reply.request, "evseId");
    let v2 = is_2x(st);
    let dm = &mut st.dm;
    if v2 {
        let at_request = dm
            .resets_in_flight
            .iter()
            .position(|(id, _)| **id == *reply.id)
            .map(|i| dm.resets_in_flight.remove(i).1);
        let running = at_request.unwrap_or_else(|| running_for_reset(dm, evse));
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
pub(crate) mod tests {
    use super::*;
    use crate::checker::{CheckOptions, check_reader};
    use crate::engine::schema::ErrataSelection;
    use crate::engine::{Config, SchemaSet};
    use std::sync::Arc;

    pub(crate) fn run(text: &str) -> Vec<(&'static str, Severity, u64)> {
        let opts = CheckOptions {
            schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
            config: Arc::new(Config::default()),
            default_version: None,
            jobs: 1,
        };
        let r = check_reader(text.as_bytes(), &opts, 1);
        assert!(r.input_errors.is_empty(), "{:?}", r.input_errors);
        r.findings
            .iter()
            .map(|f| (f.rule.id, f.severity, f.line))
            .collect()
    }

    pub(crate) fn frame(ts: u32, from: &str, text: &str) -> String {
        let text = serde_json::to_string(text).unwrap();
        format!(
            "{{\"ts\":\"2026-11-22T10:{:02}:{:02}.000Z\",\"conn\":\"CS-1\",\"from\":\"{from}\",\"text\":{text}}}\n",
            ts / 60,
            ts % 60
        )
    }

    pub(crate) fn trace(version: &str, frames: &[(&str, &str)]) -> String {
        let mut s = format!(
            "{{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"{version}\"}}\n"
        );
        for (i, (from, text)) in frames.iter().enumerate() {
            s.push_str(&frame(u32::try_from(i).unwrap() + 1, from, text));
        }
        s
    }

    #[test]
    fn pairing_separates_type_mismatches_from_unmatched() {
        let req: Vec<Value> = serde_json::from_str(
            r#"[{"component":{"name":"A"},"variable":{"name":"x"}},
                {"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"Target"},
                {"component":{"name":"B"},"variable":{"name":"y"}}]"#,
        )
        .unwrap();
        let res: Vec<Value> = serde_json::from_str(
            r#"[{"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"Target"},
                {"component":{"name":"A"},"variable":{"name":"x"},"attributeType":"MaxSet"},
                {"component":{"name":"C"},"variable":{"name":"y"}}]"#,
        )
        .unwrap();
        let p = pair(&req, &res);
        assert_eq!(p.exact, vec![(1, 0)]);
        assert_eq!(p.other_type, vec![(0, 1)]);
        assert_eq!(p.unmatched_results, vec![2]);
        assert_eq!(p.unanswered_requests, vec![2]);
    }

    #[test]
    fn report_parts_in_order_pass_and_a_gap_fires() {
        let boot = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
        let boot_ok =
            r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;
        let part = |seq: u32, tbc: bool| {
            format!(
                r#"[2,"n{seq}","NotifyReport",{{"requestId":7,"generatedAt":"2026-11-22T10:00:05Z","seqNo":{seq},"tbc":{tbc}}}]"#
            )
        };
        let ok = |id: &str| format!(r#"[3,"{id}",{{}}]"#);
        let (p0, p1, p2) = (part(0, true), part(1, false), part(2, false));
        let (a0, a1, a2) = (ok("n0"), ok("n1"), ok("n2"));
        let frames = vec![
            ("charger", boot),
            ("csms", boot_ok),
            (
                "csms",
                r#"[2,"g","GetBaseReport",{"requestId":7,"reportBase":"FullInventory"}]"#,
            ),
            ("charger", r#"[3,"g",{"status":"Accepted"}]"#),
            ("charger", p0.as_str()),
            ("csms", a0.as_str()),
            ("charger", p1.as_str()),
            ("csms", a1.as_str()),
        ];
        let found = run(&trace("ocpp2.0.1", &frames));
        assert!(found.is_empty(), "{found:?}");
        let mut frames2 = frames.clone();
        frames2.push(("charger", p2.as_str()));
        frames2.push(("csms", a2.as_str()));
        let found = run(&trace("ocpp2.0.1", &frames2));
        assert_eq!(found, vec![("dm.report-seqno", Severity::Error, 10)]);
    }

    #[test]
    fn unknown_request_id_is_info_without_a_boot() {
        let frames = [
            (
                "charger",
                r#"[2,"n","NotifyReport",{"requestId":9,"generatedAt":"2026-11-22T10:00:05Z","seqNo":0}]"#,
            ),
            ("csms", r#"[3,"n",{}]"#),
        ];
        let found = run(&trace("ocpp2.0.1", &frames));
        assert_eq!(
            found,
            vec![("dm.report-request-id-mismatch", Severity::Info, 2)]
        );
    }

    #[test]
    fn transactions_are_tracked_across_versions() {
        let mut a = Activity::default();
        a.start(TxRef::Int(5), Some(1), Some("TAG"));
        a.start(TxRef::Int(5), None, None);
        assert!(a.is_running(TxRef::Int(5)));
        assert!(!a.is_running(TxRef::Str("5")));
        assert!(a.running_on(1, false));
        assert!(!a.running_on(2, false));
        a.stop(TxRef::Int(5));
        assert!(a.txs.is_empty());
        a.start(TxRef::Str("t"), None, None);
        assert!(a.running_on(3, true));
        assert!(!a.running_on(3, false));
    }
}
