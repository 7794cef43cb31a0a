//! `dm.*`: device model and configuration (variables, configuration keys, reports, resets).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `dm/device_model.rs`.

use crate::engine::rules::{Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod device_model;

/// The rules of this prefix, in registry order.
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
];

pub static GET_VARIABLES_COUNT_MISMATCH: Rule = Rule {
    id: "dm.get-variables-count-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "GetVariablesResponse has a different number of results than the request had entries",
    spec: "2.0.1 Part 2 B06.FR.01",
    doc: "What it checks: the number of `getVariableResult` entries differs from the number of \
`getVariableData` entries of the request it answers.\n\n\
Why it matters: every requested variable gets exactly one result, so the CSMS can pair them; \
a missing or extra result leaves a request unanswered or an answer unexplained.\n\n\
Example:\n  CSMS:    GetVariables {getVariableData:[HeartbeatInterval, OfflineThreshold]}\n  \
charger: {getVariableResult:[HeartbeatInterval]}",
};

pub static GET_VARIABLES_UNMATCHED_RESULT: Rule = Rule {
    id: "dm.get-variables-unmatched-result",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "GetVariables result for a variable that was not requested, or a requested variable without result",
    spec: "2.0.1 Part 2 B06.FR.02, B06.FR.14",
    doc: "What it checks: each result's component (name, instance, EVSE) and variable (name, \
instance) must be one of the requested pairs, and each requested pair must get a result. \
Entries are paired one to one; a pair requested twice needs two results.\n\n\
Why it matters: the result carries the component and variable so the CSMS knows what the \
value belongs to; a renamed or dropped variable is read as a different setting or lost.\n\n\
Example:\n  requested OCPPCommCtrlr.HeartbeatInterval, answered OCPPCommCtrlr.HeartbeatIntervall",
};

pub static GET_VARIABLES_ATTRIBUTE_TYPE: Rule = Rule {
    id: "dm.get-variables-attribute-type",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "GetVariables result has another attributeType than requested (absent means Actual)",
    spec: "2.0.1 Part 2 B06.FR.03, B06.FR.11",
    doc: "What it checks: a result whose component and variable match a request entry but whose \
`attributeType` differs from the requested one. An absent `attributeType` means `Actual` on \
both sides.\n\n\
Why it matters: Actual, Target, MinSet and MaxSet are different values of one variable; a \
MaxSet answered as Actual is read as the live value.\n\n\
Example:\n  requested {variable:{name:\"Power\"}, attributeType:\"MaxSet\"}, answered with \
attributeType \"Actual\"",
};

pub static GET_VARIABLES_VALUE_ON_FAILURE: Rule = Rule {
    id: "dm.get-variables-value-on-failure",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "GetVariables result with an unknown/unsupported status still carries an attributeValue",
    spec: "2.0.1 Part 2 B06.FR.06-B06.FR.08",
    doc: "What it checks: a result with `attributeStatus` UnknownComponent, UnknownVariable or \
NotSupportedAttributeType that nevertheless has an `attributeValue`.\n\n\
Why it matters: the status says there is no such value; a value beside it is contradictory \
and may be stored by a CSMS that reads the value first.\n\n\
Example:\n  {attributeStatus:\"UnknownVariable\", attributeValue:\"0\", ...}",
};

pub static GET_VARIABLES_VALUE_MISSING: Rule = Rule {
    id: "dm.get-variables-value-missing",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "GetVariables result Accepted without attributeValue",
    spec: "2.0.1 Part 2 B06.FR.04, B06.FR.10, B06.FR.13",
    doc: "What it checks: a result with `attributeStatus` Accepted but no `attributeValue`. A \
variable that is supported but unset is answered with an empty string.\n\n\
Why it matters: Accepted promises the value; without it the CSMS cannot tell an unset \
variable from a broken answer.\n\n\
Example:\n  {attributeStatus:\"Accepted\", component:{name:\"OCPPCommCtrlr\"}, \
variable:{name:\"HeartbeatInterval\"}}",
};

pub static SET_VARIABLES_COUNT_MISMATCH: Rule = Rule {
    id: "dm.set-variables-count-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "SetVariablesResponse has a different number of results than the request had entries",
    spec: "2.0.1 Part 2 B05.FR.01",
    doc: "What it checks: the number of `setVariableResult` entries differs from the number of \
`setVariableData` entries of the request.\n\n\
Why it matters: each write gets exactly one result; without it the CSMS does not know whether \
the setting took effect.\n\n\
Example:\n  two setVariableData entries answered with one setVariableResult",
};

pub static SET_VARIABLES_UNMATCHED_RESULT: Rule = Rule {
    id: "dm.set-variables-unmatched-result",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "SetVariables result for a variable that was not set, or a written variable without result",
    spec: "2.0.1 Part 2 B05.FR.02",
    doc: "What it checks: each result's component (name, instance, EVSE) and variable (name, \
instance) must be one of the request entries, and each entry must get a result (paired one to \
one).\n\n\
Why it matters: the CSMS pairs results with its writes by component and variable.\n\n\
Example:\n  wrote TxCtrlr.EVConnectionTimeOut, result names TxCtrlr.EVConnectionTimeout",
};

pub static SET_VARIABLES_ATTRIBUTE_TYPE: Rule = Rule {
    id: "dm.set-variables-attribute-type",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "SetVariables result has another attributeType than the request entry (absent means Actual)",
    spec: "2.0.1 Part 2 B05.FR.03, B05.FR.12",
    doc: "What it checks: a result whose component and variable match a request entry but whose \
`attributeType` differs from that entry's (absent means Actual on both sides).\n\n\
Why it matters: the result must say which attribute was written; a Target write answered as \
Actual is misread.\n\n\
Example:\n  wrote attributeType \"Target\", result says \"Actual\"",
};

pub static SET_VARIABLES_DUPLICATE_ENTRY: Rule = Rule {
    id: "dm.set-variables-duplicate-entry",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "Two setVariableData entries of one request share component, variable and attributeType",
    spec: "2.0.1 Part 2 B05.FR.13",
    doc: "What it checks: a SetVariablesRequest with two entries for the same component (name, \
instance, EVSE), variable (name, instance) and attributeType (absent = Actual).\n\n\
Why it matters: the order in which the charger applies them is not defined, so the end value \
is unpredictable.\n\n\
Example:\n  setVariableData:[{...HeartbeatInterval, \"60\"}, {...HeartbeatInterval, \"300\"}]",
};

pub static MONITORING_COUNT_MISMATCH: Rule = Rule {
    id: "dm.monitoring-count-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "SetVariableMonitoringResponse has a different number of results than the request had entries",
    spec: "2.0.1 Part 2 N04.FR.01",
    doc: "What it checks: the number of `setMonitoringResult` entries differs from the number of \
`setMonitoringData` entries of the request.\n\n\
Why it matters: each monitor gets one result carrying its id; without it the CSMS cannot \
tell which monitors exist.\n\n\
Example:\n  three setMonitoringData entries answered with two results",
};

pub static ITEMS_PER_MESSAGE_EXCEEDED: Rule = Rule {
    id: "dm.items-per-message-exceeded",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "Request has more entries than the charger's ItemsPerMessage limit",
    spec: "2.0.1 Part 2 B05.FR.11, B06.FR.05, B06.FR.16",
    doc: "What it checks: a GetVariables, SetVariables, GetReport, SetVariableMonitoring or \
ClearVariableMonitoring request with more entries than the charger reported in \
`DeviceDataCtrlr.ItemsPerMessage` (instance GetVariables, SetVariables, GetReport) or \
`MonitoringCtrlr.ItemsPerMessage` (SetVariableMonitoring, ClearVariableMonitoring). Only \
when the limit was seen in a GetVariables result, a SetVariables write or a NotifyReport.\n\n\
Why it matters: the charger may answer with CALLERROR OccurrenceConstraintViolation; the \
CSMS must split the request.\n\n\
Example:\n  ItemsPerMessage[GetVariables] = 2, then a GetVariables with 3 entries",
};

pub static BYTES_PER_MESSAGE_EXCEEDED: Rule = Rule {
    id: "dm.bytes-per-message-exceeded",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "Request larger than the charger's BytesPerMessage limit",
    spec: "2.0.1 Part 2 B06.FR.17, B08.FR.18",
    doc: "What it checks: a GetVariables, SetVariables, GetReport, SetVariableMonitoring or \
ClearVariableMonitoring request whose payload, written compactly, is longer than the \
charger's `DeviceDataCtrlr.BytesPerMessage` / `MonitoringCtrlr.BytesPerMessage` for that \
request (when known from the traffic). The compact payload is a lower bound of the frame, so \
a finding is never a false alarm.\n\n\
Why it matters: the charger may answer CALLERROR FormatViolation.\n\n\
Example:\n  BytesPerMessage[SetVariables] = 100, then a SetVariables of 180 bytes",
};

pub static REPORT_REQUEST_ID_MISMATCH: Rule = Rule {
    id: "dm.report-request-id-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Report message whose requestId belongs to no request of the matching type",
    spec: "2.0.1 Part 2 Gen §3 FR.05, B07.FR.04, B08.FR.04",
    doc: "What it checks: NotifyReport (GetBaseReport, GetReport), NotifyMonitoringReport \
(GetMonitoringReport), ReportChargingProfiles (GetChargingProfiles), NotifyCustomerInformation \
(CustomerInformation) and NotifyDisplayMessages (GetDisplayMessages) must carry the requestId \
of a request of the matching type. `error` when the station's boot was seen (the whole \
history since then is known); `info` otherwise, since the request may predate the trace.\n\n\
Why it matters: the CSMS files the report under the request it started; an unknown id is \
dropped or misfiled.\n\n\
Example:\n  CSMS: GetBaseReport {requestId:7}  charger: NotifyReport {requestId:8, ...}",
};

pub static REPORT_SEQNO: Rule = Rule {
    id: "dm.report-seqno",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Report parts out of order: first seqNo not 0, a gap, or a part after the last one",
    spec: "2.0.1 Part 2 B07.FR.10, B08.FR.14, §1.40",
    doc: "What it checks: the parts of one report (same requestId) of a request seen in the trace: \
`seqNo` starts at 0 and grows by one, and no part follows a part with `tbc` false or absent \
(`tbc` = to be continued). Applies to NotifyReport, NotifyMonitoringReport, \
NotifyCustomerInformation (seqNo and tbc) and to ReportChargingProfiles and \
NotifyDisplayMessages (tbc only).\n\n\
Why it matters: the CSMS reassembles the report by seqNo and closes it at tbc=false; a gap or \
a late part loses data.\n\n\
Example:\n  NotifyReport {requestId:7, seqNo:0, tbc:true}, NotifyReport {requestId:7, seqNo:2}",
};

pub static REPORT_AFTER_REJECTION: Rule = Rule {
    id: "dm.report-after-rejection",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "NotifyReport sent for a GetBaseReport/GetReport the charger refused",
    spec: "2.0.1 Part 2 B07.FR.05, B08.FR.02, B08.FR.15",
    doc: "What it checks: a NotifyReport whose requestId is that of a GetBaseReport or GetReport \
the charger refused (status NotSupported, Rejected or EmptyResultSet, or a CALLERROR).\n\n\
Why it matters: the response already told the CSMS that no report will come.\n\n\
Example:\n  GetReport {requestId:3} -> {status:\"EmptyResultSet\"}, then NotifyReport \
{requestId:3, ...}",
};

pub static REPORT_NOT_SENT: Rule = Rule {
    id: "dm.report-not-sent",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Accepted GetBaseReport/GetReport/GetMonitoringReport not followed by a report in time",
    spec: "2.0.1 Part 2 B07.FR.03, B08 (GetReport), N02 (GetMonitoringReport)",
    doc: "What it checks: a GetBaseReport, GetReport or GetMonitoringReport answered Accepted, and \
no NotifyReport / NotifyMonitoringReport with its requestId within `followup_window` \
(default 60 s). Not in the rules catalogue as a row of its own; a warning because the window \
is a heuristic (a large report may take long to assemble).\n\n\
Why it matters: Accepted promises the report (B07.FR.03: the charger SHALL send the \
requested information); a CSMS waiting for it stalls.\n\n\
Example:\n  GetBaseReport {requestId:1} -> Accepted, then only Heartbeats for minutes",
};

pub static GET_CONFIGURATION_KEY_UNACCOUNTED: Rule = Rule {
    id: "dm.get-configuration-key-unaccounted",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "GetConfiguration reply leaves a requested key out of both configurationKey and unknownKey",
    spec: "OCPP 1.6 §5.8",
    doc: "What it checks: with keys in the request, every requested key must come back in \
`configurationKey` (recognised) or in `unknownKey`. Without keys, the reply must list the \
configuration (an empty reply lists nothing, although every 1.6 charger has required keys). \
Keys are compared ignoring case.\n\n\
Why it matters: the CSMS cannot tell whether a missing key is unsupported or was forgotten.\n\n\
Example:\n  GetConfiguration {key:[\"HeartbeatInterval\",\"MeterValueSampleInterval\"]} -> \
{configurationKey:[{key:\"HeartbeatInterval\",...}]}",
};

pub static GET_CONFIGURATION_MAX_KEYS: Rule = Rule {
    id: "dm.get-configuration-max-keys",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "GetConfiguration asks for more keys than the charger's GetConfigurationMaxKeys",
    spec: "OCPP 1.6 §5.8, §9.1",
    doc: "What it checks: a GetConfiguration whose `key` list is longer than \
`GetConfigurationMaxKeys`, when that value was seen in an earlier GetConfiguration reply.\n\n\
Why it matters: the charger may refuse or truncate the reply.\n\n\
Example:\n  GetConfigurationMaxKeys = 2, then GetConfiguration with three keys",
};

pub static READONLY_CHANGE_ACCEPTED: Rule = Rule {
    id: "dm.readonly-change-accepted",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "ChangeConfiguration Accepted for a key the charger reported read-only",
    spec: "OCPP 1.6 §5.3, §6.24",
    doc: "What it checks: ChangeConfiguration answered Accepted (or RebootRequired) for a key an \
earlier GetConfiguration reply listed with `readonly: true`.\n\n\
Why it matters: a read-only key cannot be changed; the answer should be Rejected, and the \
CSMS now believes a value that is not in force.\n\n\
Example:\n  GetConfiguration -> {key:\"NumberOfConnectors\", readonly:true}, then \
ChangeConfiguration NumberOfConnectors -> Accepted",
};

pub static UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED: Rule = Rule {
    id: "dm.unknown-key-change-not-notsupported",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "ChangeConfiguration for a key reported unknown is answered other than NotSupported",
    spec: "OCPP 1.6 §5.3",
    doc: "What it checks: ChangeConfiguration for a key that an earlier GetConfiguration reply \
listed in `unknownKey`, answered with anything but NotSupported.\n\n\
Why it matters: the key does not exist on the charger; Accepted or Rejected suggest it does.\n\n\
Example:\n  GetConfiguration -> {unknownKey:[\"FooBar\"]}, then ChangeConfiguration FooBar -> \
Rejected",
};
