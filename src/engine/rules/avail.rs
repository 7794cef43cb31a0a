//! `avail.*`: availability and resets (ChangeAvailability, Reset).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `avail/reset.rs` (called by the `dm`
//! family with the transactions and the reset in force, which are the station's facts).

use crate::engine::rules::{ALL, Party, Rule, V2X};
use crate::finding::Severity;

pub(crate) mod reset;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &EVSE_RESET_UNSUPPORTED_ACCEPTED,
    &ONIDLE_RESET_NOT_SCHEDULED,
    &IMMEDIATE_RESET_NOT_ACCEPTED,
    &RESET_TX_NOT_STOPPED,
];

pub static EVSE_RESET_UNSUPPORTED_ACCEPTED: Rule = Rule {
    id: "avail.evse-reset-unsupported-accepted",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Reset of one EVSE accepted although the EVSE reports AllowReset false",
    spec: "2.0.1 Part 2 B11.FR.09, B11.FR.10",
    doc: "What it checks: a ResetRequest with `evseId` answered Accepted or Scheduled while the \
charger reported `EVSE.AllowReset` = false for that EVSE (GetVariables or NotifyReport). \
When AllowReset is unknown nothing is reported.\n\n\
Why it matters: the charger announced that the EVSE cannot be reset on its own; accepting \
contradicts its own device model (recorded as information).\n\n\
Example:\n  EVSE 1 AllowReset=false, then Reset {type:\"Immediate\", evseId:1} -> Accepted",
};

pub static ONIDLE_RESET_NOT_SCHEDULED: Rule = Rule {
    id: "avail.onidle-reset-not-scheduled",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "ResetRequest OnIdle while a transaction runs answered Accepted instead of Scheduled",
    spec: "2.0.1 Part 2 B12.FR.01",
    doc: "What it checks: a ResetRequest of type OnIdle (for the station, or for an EVSE) while a \
transaction seen in the trace runs there, answered Accepted. Rejected is not reported (a \
charger may be unable to reset at all).\n\n\
Why it matters: OnIdle means after the transactions end; Scheduled tells the CSMS the reset \
waits, Accepted claims it happens now.\n\n\
Example:\n  TransactionEvent Started, then Reset {type:\"OnIdle\"} -> {status:\"Accepted\"}",
};

pub static IMMEDIATE_RESET_NOT_ACCEPTED: Rule = Rule {
    id: "avail.immediate-reset-not-accepted",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "ResetRequest Immediate while a transaction runs answered other than Accepted",
    spec: "2.0.1 Part 2 B12.FR.02",
    doc: "What it checks: a ResetRequest of type Immediate (or 2.1 ImmediateAndResume) while a \
transaction seen in the trace runs on the target, answered Scheduled or Rejected. A warning: \
Rejected is legal when the charger cannot reset.\n\n\
Why it matters: an immediate reset stops the transactions and resets now; Scheduled turns it \
into an OnIdle reset the CSMS did not ask for.\n\n\
Example:\n  TransactionEvent Started, then Reset {type:\"Immediate\"} -> {status:\"Scheduled\"}",
};

pub static RESET_TX_NOT_STOPPED: Rule = Rule {
    id: "avail.reset-tx-not-stopped",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger rebooted after an accepted reset without stopping the transactions that ran",
    spec: "OCPP 1.6 errata 3.36; 2.0.1 Part 2 B12.FR.03, B12.FR.04, B12.FR.07, B12.FR.08",
    doc: "What it checks: a station-wide Reset was accepted (or scheduled) while transactions seen \
in the trace ran, and the next BootNotification comes while some of them were never stopped \
(1.6 StopTransaction; 2.x TransactionEvent Ended). 1.6 Hard resets are exempt (the stop may \
come after the reboot).\n\n\
Why it matters: a transaction left open is billed wrong and blocks the connector in the CSMS.\n\n\
Example:\n  StartTransaction -> transactionId 5, Reset {type:\"Soft\"} -> Accepted, \
BootNotification (no StopTransaction 5)",
};
