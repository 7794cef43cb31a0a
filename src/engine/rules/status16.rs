//! `status16.*`: connector status on OCPP 1.6 (StatusNotification).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `status16/connector.rs`.

use crate::engine::rules::{Party, Rule, V16};
use crate::finding::Severity;

pub(crate) mod connector;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &UNLISTED_TRANSITION,
    &CONNECTOR0_STATUS,
    &CONNECTOR_ID_RANGE,
    &EVCOMMUNICATIONERROR_STATUS,
    &FAULTED_WITHOUT_ERROR,
    &OUT_OF_ORDER,
    &ENERGY_STATUS_WITHOUT_TRANSACTION,
];

pub static UNLISTED_TRANSITION: Rule = Rule {
    id: "status16.unlisted-transition",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Connector status changed along an edge the 1.6 state table does not list",
    spec: "OCPP 1.6 §4.9; errata 3.19, 3.20",
    doc: "What it checks: two consecutive StatusNotifications for the same connector (connectorId \
> 0) whose pair of statuses is not a transition of the table in OCPP 1.6 §4.9, e.g. \
Charging → Preparing, Finishing → Charging, Reserved → Charging, Available → Finishing, \
Preparing → Reserved. A repeat of the same status is never a transition. The previous status \
must have been seen on the current connection since the last boot: the first report after a \
connect or a BootNotification is the current status, not a transition.\n\n\
Why it matters: the table describes how a connector moves through a session; a jump \
outside it usually means a lost or reordered report, or a state machine that does not follow \
the protocol. A warning, not an error: errata 3.19 lets a charger skip states shorter than \
`MinimumStatusDuration`, so an unlisted pair may hide a legal short-lived state.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\"}, then \
{connectorId:1, status:\"Preparing\"}",
};

pub static CONNECTOR0_STATUS: Rule = Rule {
    id: "status16.connector0-status",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StatusNotification for connectorId 0 with a status other than Available, Unavailable or Faulted",
    spec: "OCPP 1.6 §4.9",
    doc: "What it checks: a StatusNotification with connectorId 0 (the charge point as a whole) \
and a status other than Available, Unavailable or Faulted.\n\n\
Why it matters: connector 0 has no session of its own; Preparing, Charging, Suspended*, \
Finishing and Reserved only exist for a physical connector.\n\n\
Example:\n  StatusNotification {connectorId:0, errorCode:\"NoError\", status:\"Charging\"}",
};

pub static CONNECTOR_ID_RANGE: Rule = Rule {
    id: "status16.connector-id-range",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StatusNotification connectorId negative or above NumberOfConnectors",
    spec: "OCPP 1.6 §3.8, §6.47; §9.1 NumberOfConnectors",
    doc: "What it checks: a StatusNotification whose connectorId is below 0, or greater than the \
`NumberOfConnectors` the charger reported (GetConfiguration, or an accepted \
ChangeConfiguration). When the key was never seen only negative ids are reported.\n\n\
Why it matters: connectors are numbered 1..NumberOfConnectors without gaps, 0 being the \
charge point; a status for any other id cannot be attributed to a connector.\n\n\
Example:\n  GetConfiguration -> {NumberOfConnectors: \"2\"}, then StatusNotification \
{connectorId:3, ...}",
};

pub static EVCOMMUNICATIONERROR_STATUS: Rule = Rule {
    id: "status16.evcommunicationerror-status",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "errorCode EVCommunicationError with a status other than Preparing, SuspendedEV(SE) or Finishing",
    spec: "OCPP 1.6 §4.9, §7.6",
    doc: "What it checks: a StatusNotification with errorCode `EVCommunicationError` and a status \
other than Preparing, SuspendedEV, SuspendedEVSE or Finishing.\n\n\
Why it matters: OCPP 1.6 §4.9 limits this error to those statuses: it describes a vehicle \
that is connected but cannot be talked to, which is not a state of an Available, Charging or \
Faulted connector.\n\n\
Example:\n  StatusNotification {connectorId:1, errorCode:\"EVCommunicationError\", \
status:\"Available\"}",
};

pub static FAULTED_WITHOUT_ERROR: Rule = Rule {
    id: "status16.faulted-without-error",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Status Faulted reported with errorCode NoError",
    spec: "OCPP 1.6 §4.9, §7.6 (ChargePointErrorCode)",
    doc: "What it checks: a StatusNotification with status Faulted and errorCode `NoError`.\n\n\
Why it matters: a fault without an error code gives the operator nothing to act on; the \
error code (or `OtherError` with `vendorErrorCode`) says what failed. Reported as info \
because the specification does not forbid the combination in so many words.\n\n\
Example:\n  StatusNotification {connectorId:1, errorCode:\"NoError\", status:\"Faulted\"}",
};

pub static OUT_OF_ORDER: Rule = Rule {
    id: "status16.out-of-order",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StatusNotification timestamps of one connector go backwards in send order",
    spec: "OCPP 1.6 §4.9 (reporting after an offline period)",
    doc: "What it checks: a StatusNotification whose `timestamp` is earlier than the `timestamp` of \
the previous StatusNotification for the same connector (connector 0 included). Reports \
without a timestamp are not compared. When a BootNotification came between the two reports \
the finding is a warning: the charger's clock may have been set at that boot.\n\n\
Why it matters: status changes must be sent in the order they happened, also when they \
were queued during an offline period; a CSMS that applies them in arrival order ends with a \
wrong connector status.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\", \
timestamp:\"10:05:00Z\"}, then {connectorId:1, status:\"Preparing\", timestamp:\"10:04:00Z\"}",
};

pub static ENERGY_STATUS_WITHOUT_TRANSACTION: Rule = Rule {
    id: "status16.energy-status-without-transaction",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Charging or Suspended status reported and no transaction runs on the connector",
    spec: "OCPP 1.6 §4.8, §4.9; OCTT TC_003, TC_004",
    doc: "What it checks: a StatusNotification Charging, SuspendedEV or SuspendedEVSE for a \
connector on which no transaction runs (no StartTransaction since the last \
StopTransaction), and no StartTransaction for that connector follows within \
`followup_window` (default 60 s); the StartTransaction may come before or after the status, \
and MeterValues naming a transaction on the connector also show that one runs. \
Only judged once the station's BootNotification was seen, so a transaction started before \
the trace is not mistaken for a missing one. Reported at the status line.\n\n\
Why it matters: energy flows only within a transaction; a Charging connector without one \
means energy the CSMS cannot bill, or a StartTransaction that was lost.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\"}, and no StartTransaction \
for connector 1",
};
