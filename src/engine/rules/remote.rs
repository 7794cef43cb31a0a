//! `remote.*`: remote start and stop of transactions.
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `remote/request.rs` (with `request/v16.rs`
//! and `request/v2.rs`), reading the station's transactions.

use crate::engine::rules::{ALL, Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod request;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &REMOTE_START_CONNECTOR_ZERO,
    &REMOTE_PROFILE_NOT_TXPROFILE,
    &REMOTE_PROFILE_HAS_TRANSACTION_ID,
    &REMOTE_START_NOT_FOLLOWED,
    &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
    &REMOTE_STOP_NOT_FOLLOWED,
    &REMOTE_START_ID_MISSING,
    &REMOTE_START_TRANSACTION_ID_UNKNOWN,
    &REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
    &REMOTE_STOP_KNOWN_TX_REJECTED,
    &REMOTE_STOP_WRONG_REASON,
];

pub static REMOTE_START_CONNECTOR_ZERO: Rule = Rule {
    id: "remote.start-connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "RemoteStartTransaction for connectorId 0 or below",
    spec: "OCPP 1.6 §6.33",
    doc: "What it checks: a RemoteStartTransaction with a `connectorId` that is present and 0 or \
negative.\n\n\
Why it matters: the connectorId, when given, names the connector to start on and must be \
above 0; to let the charger choose, leave it out.\n\n\
Example:\n  RemoteStartTransaction {connectorId:0, idTag:\"TAG-1\"}",
};

pub static REMOTE_PROFILE_NOT_TXPROFILE: Rule = Rule {
    id: "remote.profile-not-txprofile",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "Charging profile of a remote start has a purpose other than TxProfile",
    spec: "OCPP 1.6 §5.11, §5.16.2, §6.33",
    doc: "What it checks: a RemoteStartTransaction (1.6) whose `chargingProfile` has a \
`chargingProfilePurpose` other than TxProfile.\n\n\
Why it matters: the profile sent with a remote start applies to the transaction it starts; \
only a TxProfile can, and the charger rejects (or misapplies) any other.\n\n\
Example:\n  RemoteStartTransaction {idTag:\"TAG-1\", chargingProfile:{chargingProfilePurpose:\
\"TxDefaultProfile\", ...}}",
};

pub static REMOTE_PROFILE_HAS_TRANSACTION_ID: Rule = Rule {
    id: "remote.profile-has-transaction-id",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "Charging profile of a remote start carries a transactionId",
    spec: "OCPP 1.6 errata 3.41",
    doc: "What it checks: a RemoteStartTransaction (1.6) whose `chargingProfile` contains a \
`transactionId`.\n\n\
Why it matters: the transaction does not exist yet when the remote start is sent; the \
profile is bound to it by the charger, and an id here is at best stale.\n\n\
Example:\n  RemoteStartTransaction {idTag:\"TAG-1\", chargingProfile:{transactionId:7, \
chargingProfilePurpose:\"TxProfile\", ...}}",
};

pub static REMOTE_START_NOT_FOLLOWED: Rule = Rule {
    id: "remote.start-not-followed",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Remote start accepted and the charger shows no sign of starting",
    spec: "OCPP 1.6 §5.11, §4.8; 2.0.1 Part 2 F01, F02",
    doc: "What it checks: a RemoteStartTransaction answered Accepted, and within \
`followup_window` (default 60 s) plus the charger's `ConnectionTimeOut` when known: no \
StartTransaction with that idTag (on that connector, if one was named), no StatusNotification \
Preparing for the connector (any connector if none was named), and no Authorize of the idTag \
that was refused. Reported at the RemoteStartTransaction line. A warning: the driver may \
never have plugged in. On 2.x (checked by the tx2 family): a RequestStartTransaction \
answered Accepted, and no TransactionEvent carrying its `remoteStartId` within \
`followup_window` of the answer.\n\n\
Why it matters: Accepted promises that the charger will try to start; a charger that does \
nothing leaves the driver waiting and the CSMS with a start that never comes.\n\n\
Example:\n  RemoteStartTransaction {connectorId:1, idTag:\"TAG-1\"} -> Accepted, then only \
Heartbeats",
};

pub static REMOTE_STOP_UNKNOWN_TX_ACCEPTED: Rule = Rule {
    id: "remote.stop-unknown-tx-accepted",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Remote stop accepted for a transaction that is not running",
    spec: "OCPP 1.6 §5.12; errata 3.33; 2.0.1 Part 2 F03",
    doc: "What it checks: a RemoteStopTransaction answered Accepted for a transactionId whose \
StopTransaction the charger had already sent (error), or that the trace never saw although \
it saw the station boot (warning: the transaction may have been missed). Before a boot was \
seen an unknown transaction may predate the trace, and nothing is reported. On 2.x \
(checked by the tx2 family) the same for RequestStopTransaction, the transaction ended \
meaning its Ended TransactionEvent was acknowledged.\n\n\
Why it matters: Accepted is only for a transaction that runs; for any other id the answer \
is Rejected, and the CSMS waits for a StopTransaction that will not come.\n\n\
Example:\n  StopTransaction {transactionId:7} -> {}, then RemoteStopTransaction \
{transactionId:7} -> Accepted",
};

pub static REMOTE_STOP_NOT_FOLLOWED: Rule = Rule {
    id: "remote.stop-not-followed",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Remote stop accepted and the transaction was not stopped",
    spec: "OCPP 1.6 §5.12; 2.0.1 Part 2 F03",
    doc: "What it checks: a RemoteStopTransaction answered Accepted, and no StopTransaction for \
that transactionId within `followup_window` (default 60 s). Reported at the \
RemoteStopTransaction line. On 2.x (checked by the tx2 family): a RequestStopTransaction \
answered Accepted, and no TransactionEvent with triggerReason RemoteStop, and no Ended, for \
that transactionId within `followup_window`.\n\n\
Why it matters: an accepted remote stop must end the transaction like a local stop, with a \
StopTransaction; without it the session stays open at the CSMS.\n\n\
Example:\n  RemoteStopTransaction {transactionId:7} -> Accepted, then only Heartbeats",
};

pub static REMOTE_START_ID_MISSING: Rule = Rule {
    id: "remote.start-id-missing",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Transaction started by RequestStartTransaction does not carry its remoteStartId",
    spec: "OCPP 2.0.1 Part 2 F01, F02, E §1.5 (remoteStartId); 2.1 Part 2 F01, F02",
    doc: "What it checks: while a RequestStartTransaction answered Accepted is pending, a \
TransactionEvent with triggerReason RemoteStart and no `transactionInfo.remoteStartId`; or, \
when the answer named an existing transaction (`transactionId`), that transaction's next \
event without the request's remoteStartId.\n\n\
Why it matters: the remoteStartId is how the CSMS ties the transaction to the request (and \
to the app or operator that asked); without it the remote start looks unanswered.\n\n\
Example:\n  RequestStartTransaction {remoteStartId:7, idToken:{...}} -> Accepted, then \
TransactionEvent {triggerReason:\"RemoteStart\", transactionInfo:{transactionId:\"tx-1\"}, \
...}",
};

pub static REMOTE_START_TRANSACTION_ID_UNKNOWN: Rule = Rule {
    id: "remote.start-transaction-id-unknown",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "RequestStartTransaction answered with a transactionId that is not running",
    spec: "OCPP 2.0.1 Part 2 F01, F02 (RequestStartTransactionResponse transactionId); 2.1 Part 2 F01",
    doc: "What it checks: a RequestStartTransactionResponse whose `transactionId` names a \
transaction whose Ended was acknowledged, or one the trace never saw although it saw the \
station boot (before a boot an unknown transaction may predate the trace, and nothing is \
reported).\n\n\
Why it matters: the id is for a transaction already running on the EVSE (started by a \
plug-in before authorization), so the CSMS can bind the remote start to it; an id of a \
finished or unknown transaction binds it to nothing.\n\n\
Example:\n  Ended for \"tx-1\" -> {}, then RequestStartTransaction {...} -> \
{status:\"Accepted\", transactionId:\"tx-1\"}",
};

pub static REMOTE_START_ON_UNAVAILABLE_ACCEPTED: Rule = Rule {
    id: "remote.start-on-unavailable-accepted",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "RequestStartTransaction accepted for an EVSE last reported Unavailable or Faulted",
    spec: "OCPP 2.0.1 Part 2 F01, F02, G03; 2.1 Part 2 F01",
    doc: "What it checks: a RequestStartTransaction with `evseId` answered Accepted while every \
connector of that EVSE whose status was reported on this connection was last reported \
Unavailable or Faulted (at least one). A warning: a status change the station did not \
report yet cannot be ruled out.\n\n\
Why it matters: an EVSE that is out of service cannot start a transaction; Accepted makes \
the driver and the CSMS wait for one that will not come.\n\n\
Example:\n  StatusNotification {evseId:1, connectorId:1, connectorStatus:\"Unavailable\"}, \
then RequestStartTransaction {evseId:1, ...} -> Accepted",
};

pub static REMOTE_STOP_KNOWN_TX_REJECTED: Rule = Rule {
    id: "remote.stop-known-tx-rejected",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "RequestStopTransaction for a running transaction answered Rejected",
    spec: "OCPP 2.0.1 Part 2 F03; 2.1 Part 2 F03",
    doc: "What it checks: a RequestStopTransaction answered Rejected for a transaction the trace \
saw start (or adopted) and not end, and that sent an event since the station's latest \
boot. A warning: the station may have ended it an instant before.\n\n\
Why it matters: the request stops a running transaction; rejecting it leaves the driver \
unable to end the session from the app, and the CSMS billing a session it asked to stop.\n\n\
Example:\n  Started \"tx-1\" ..., then RequestStopTransaction {transactionId:\"tx-1\"} -> \
{status:\"Rejected\"}",
};

pub static REMOTE_STOP_WRONG_REASON: Rule = Rule {
    id: "remote.stop-wrong-reason",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Transaction ended after an accepted RequestStopTransaction, not as a remote stop",
    spec: "OCPP 2.0.1 Part 2 F03; 2.1 Part 2 F03",
    doc: "What it checks: the first event of a transaction after its RequestStopTransaction was \
accepted is an Ended whose triggerReason is not RemoteStop or whose stoppedReason is not \
Remote. An Ended timestamped more than `clock_skew` before the request was sent is not \
judged (it ended for its own reason first). A warning: the station may have stopped for \
another cause at the same moment.\n\n\
Why it matters: the reason tells the CSMS and the driver who ended the session; another \
reason suggests the station did not act on the request.\n\n\
Example:\n  RequestStopTransaction {transactionId:\"tx-1\"} -> Accepted, then \
TransactionEvent {eventType:\"Ended\", triggerReason:\"StopAuthorized\", \
transactionInfo:{transactionId:\"tx-1\", stoppedReason:\"Local\"}, ...}",
};
