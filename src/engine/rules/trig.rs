//! `trig.*`: TriggerMessage and the messages it asks for.
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `trig/trigger.rs` and `trig/status.rs`
//! (a triggered firmware or log status, called by the `fw` family, which keeps the jobs).

use crate::engine::rules::{ALL, Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod status;
pub(crate) mod trigger;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &MESSAGE_BEFORE_RESPONSE,
    &ACCEPTED_NOT_SENT,
    &REJECTED_BUT_SENT,
    &CONNECTOR_ZERO,
    &STATUS_WITHOUT_CONNECTOR,
    &TRANSACTION_EVENT_WRONG_REASON,
    &METER_VALUES_WRONG_CONTEXT,
    &NOT_IMPLEMENTED_FOR_STANDARD,
    &TRIGGERED_LOG_STATUS_WRONG,
    &TRIGGERED_FIRMWARE_STATUS_NOT_LAST,
];

pub static MESSAGE_BEFORE_RESPONSE: Rule = Rule {
    id: "trig.message-before-response",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Triggered message sent before the TriggerMessage was answered",
    spec: "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.04, Gen §3 FR.05",
    doc: "What it checks: while a TriggerMessage (1.6: or ExtendedTriggerMessage) is not answered \
yet, the charger sends the CALL it requests. A warning: the same message may come from \
normal operation at that moment.\n\n\
Why it matters: the charger SHALL first answer the trigger and only then send the requested \
message; a CSMS that waits for the answer may otherwise take the message for unsolicited.\n\n\
Example:\n  csms: TriggerMessage {requestedMessage:\"Heartbeat\"}\n  charger: Heartbeat {}   (before [3,...,{status:\"Accepted\"}])",
};

pub static ACCEPTED_NOT_SENT: Rule = Rule {
    id: "trig.accepted-not-sent",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Charger,
    summary: "Trigger accepted but the requested message did not follow",
    spec: "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.10",
    doc: "What it checks: a TriggerMessage (1.6: or ExtendedTriggerMessage) answered Accepted, and \
the requested CALL (BootNotification, StatusNotification, SignCertificate for the certificate \
triggers, ...) does not come within `followup_window` (default 60 s). A message of that kind \
sent for another reason satisfies it. An error on 2.x (SHALL), a warning on 1.6 (SHOULD). \
Reported at the trigger; a trace that ends before the window passed is not judged.\n\n\
Why it matters: the CSMS waits for the data it asked for; an accepted trigger that produces \
nothing leaves it guessing.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\"} -> Accepted, then no StatusNotification",
};

pub static REJECTED_BUT_SENT: Rule = Rule {
    id: "trig.rejected-but-sent",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Trigger refused but the requested message follows anyway",
    spec: "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.05",
    doc: "What it checks: a TriggerMessage answered Rejected or NotImplemented, and the requested \
CALL comes within `followup_window` anyway. Info only: the message may come from normal \
operation.\n\n\
Why it matters: a refused trigger should have no effect; a station that sends the message \
anyway answers its triggers wrongly.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"Heartbeat\"} -> Rejected, then Heartbeat {}",
};

pub static CONNECTOR_ZERO: Rule = Rule {
    id: "trig.connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "1.6 TriggerMessage names connector 0 or a negative connector",
    spec: "OCPP 1.6 §6.51; Security white paper §5.5 (ExtendedTriggerMessage)",
    doc: "What it checks: a 1.6 TriggerMessage or ExtendedTriggerMessage whose `connectorId` is \
present and not greater than 0.\n\n\
Why it matters: connectorId is only given for a specific connector and must be > 0; to ask \
about the whole charger the field is left out.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\", connectorId:0}",
};

pub static STATUS_WITHOUT_CONNECTOR: Rule = Rule {
    id: "trig.status-without-connector",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "TriggerMessage for StatusNotification without an EVSE and connector",
    spec: "2.0.1 Part 2 F06.FR.13",
    doc: "What it checks: a 2.x TriggerMessage for StatusNotification without `evse` (error), or \
with `evse` but without `evse.connectorId` (warning: StatusNotification is only sent per \
connector, but the test cases only check `evse.id`).\n\n\
Why it matters: the CSMS SHALL include the EVSE; without it the station cannot tell which \
connector to report.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"StatusNotification\"}",
};

pub static TRANSACTION_EVENT_WRONG_REASON: Rule = Rule {
    id: "trig.transaction-event-wrong-reason",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Triggered TransactionEvent without triggerReason Trigger or without chargingState",
    spec: "2.0.1 Part 2 F06.FR.07",
    doc: "What it checks: after a TriggerMessage for TransactionEvent was accepted, the \
TransactionEvent that answers it has `triggerReason` Trigger but no \
`transactionInfo.chargingState`, or no TransactionEvent with triggerReason Trigger comes \
within `followup_window` and the one that came has another reason (reported at it).\n\n\
Why it matters: the triggered event SHALL say it was triggered and carry the charging state; \
otherwise the CSMS cannot tell the answer from a normal update.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"TransactionEvent\", evse:{id:1}} -> Accepted, then \
TransactionEvent {eventType:\"Updated\", triggerReason:\"MeterValuePeriodic\", ...}",
};

pub static METER_VALUES_WRONG_CONTEXT: Rule = Rule {
    id: "trig.meter-values-wrong-context",
    severity: Severity::Warning,
    severity_16: Some(Severity::Info),
    versions: ALL,
    by: Party::Charger,
    summary: "Triggered MeterValues with a reading context other than Trigger",
    spec: "OCPP 1.6 §7.35 ReadingContext; 2.0.1 Part 2 §3 ReadingContextEnumType; 2.0.1 Part 6 TC_F_11_CSMS",
    doc: "What it checks: after a TriggerMessage for MeterValues was accepted, no MeterValues whose \
sampled values all have context Trigger (or none) came within `followup_window`, and one \
whose sampled values name another context did (reported at it). A warning: a periodic \
MeterValues may have crossed the trigger.\n\n\
Why it matters: the context tells the CSMS why the values were taken; triggered values \
marked Sample.Periodic are booked as periodic samples. On OCPP 1.6 this is info only: 1.6 \
defines the Trigger context but does not require it for a triggered MeterValues (2.x does).\n\n\
Example:\n  TriggerMessage {requestedMessage:\"MeterValues\"} -> Accepted, then MeterValues \
{... sampledValue:[{value:\"10\", context:\"Sample.Periodic\"}]}",
};

pub static NOT_IMPLEMENTED_FOR_STANDARD: Rule = Rule {
    id: "trig.not-implemented-for-standard",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Trigger for a message of the standard set answered NotImplemented",
    spec: "OCPP 1.6 §5.17; 2.0.1 Part 2 F06.FR.08",
    doc: "What it checks: a TriggerMessage for a message of the version's own enumeration answered \
NotImplemented. Allowed; recorded as a capability of the station.\n\n\
Why it matters: a CSMS that relies on triggers (status resynchronisation, meter readings) \
needs to know which ones the station does not support.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"MeterValues\"} -> NotImplemented",
};

pub static TRIGGERED_LOG_STATUS_WRONG: Rule = Rule {
    id: "trig.log-status-wrong",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Triggered LogStatusNotification does not say whether an upload is in progress",
    spec: "OCPP 2.0.1 Part 2 F06.FR.14/15 (TriggerMessage LogStatusNotification); 2.1 Part 2 F06",
    doc: "What it checks: the LogStatusNotification that answers an accepted TriggerMessage for it: \
Idle while a log upload the observer saw accepted (GetLog) has not ended, or any status but \
Idle while no upload is in progress. The second only when the observation saw the station \
connect, so an upload started before the trace is not missed.\n\n\
Why it matters: the triggered status is how the CSMS asks \"is an upload running?\"; Uploading \
answers yes, Idle no. Any other answer, or the wrong one, leaves the CSMS guessing.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"LogStatusNotification\"} -> Accepted, then \
LogStatusNotification {status:\"Uploaded\"}   (no GetLog accepted)",
};

pub static TRIGGERED_FIRMWARE_STATUS_NOT_LAST: Rule = Rule {
    id: "trig.firmware-status-not-last",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Triggered FirmwareStatusNotification does not repeat the last status, or Idle when no update runs",
    spec: "OCPP 2.0.1 Part 2 L01.FR.25/26, F06.FR.16 (TriggerMessage FirmwareStatusNotification); 2.1 Part 2 L01, F06",
    doc: "What it checks: the FirmwareStatusNotification that answers an accepted TriggerMessage for \
it. While an update the observer saw accepted (UpdateFirmware) has not ended, it must repeat \
the last status sent for that update; when none runs (the last one ended, Installed or a \
failure), it must say Idle. The second only when the observation saw the station connect.\n\n\
Why it matters: the triggered status is how the CSMS asks where an update stands; a status \
that differs from the last one reported invents a step, and anything but Idle after the end \
suggests an update that is not running.\n\n\
Example:\n  ... FirmwareStatusNotification {status:\"Downloading\"}, TriggerMessage \
{requestedMessage:\"FirmwareStatusNotification\"} -> Accepted, then FirmwareStatusNotification \
{status:\"Installing\"}",
};
