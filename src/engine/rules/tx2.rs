//! `tx2.*`: transactions on OCPP 2.x (TransactionEvent).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `tx2/transaction.rs`.

use crate::engine::rules::{Party, Rule, V2X};
use crate::finding::Severity;

pub(crate) mod transaction;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &FIRST_EVENT_NOT_STARTED,
    &DUPLICATE_STARTED,
    &EVENT_AFTER_ENDED,
    &TRANSACTION_ID_REUSED,
    &SECOND_TRANSACTION_ON_EVSE,
    &SEQNO_NOT_INCREASING,
    &SEQNO_GAP,
    &SEQNO_NOT_RESET,
    &INCOMPLETE_SEQUENCE,
    &OFFLINE_FLAG_MISSING,
    &OFFLINE_FLAG_WHILE_ONLINE,
    &TIMESTAMP_DECREASING,
    &STARTED_WITHOUT_CHARGING_STATE,
    &CHARGING_STATE_TRIGGER_WITHOUT_STATE,
    &EVSE_NEVER_REPORTED,
    &EVSE_CHANGED,
    &IDTOKEN_INFO_MISSING,
    &STOPPED_REASON_MISSING,
    &IDTOKEN_ON_REMOTE_OR_RESET_STOP,
    &METER_CONTEXT_MISMATCH,
    &STATUS_NOT_OCCUPIED_ON_PLUG,
    &TRIGGER_REASON_UNKNOWN_CONTEXT,
    &NUMBER_OF_PHASES_MISSING,
];

pub static FIRST_EVENT_NOT_STARTED: Rule = Rule {
    id: "tx2.first-event-not-started",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "First TransactionEvent of a transactionId is not eventType Started",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (eventType), E §1; 2.1 Part 2 E §1",
    doc: "What it checks: the first TransactionEvent the trace sees for a `transactionId` has \
`eventType` Updated or Ended. An error when the station's BootNotification was seen in the \
trace and the event is timestamped after it (within `clock_skew`): its transactions since \
are known. Info otherwise, since the transaction may predate the trace or the boot, and \
info too for an Ended that closes a transaction interrupted by the reboot (stoppedReason \
PowerLoss, Reboot or ImmediateReset, triggerReason ResetCommand or AbnormalCondition).\n\n\
Why it matters: Started is the first message of a transaction; a CSMS that never got one \
has no EVSE, start time or start meter reading for it.\n\n\
Example:\n  (after BootNotification) TransactionEvent {eventType:\"Updated\", \
transactionInfo:{transactionId:\"tx-9\"}, seqNo:1, ...} with no Started for tx-9",
};

pub static DUPLICATE_STARTED: Rule = Rule {
    id: "tx2.duplicate-started",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Second Started for a transactionId that already started",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (eventType); 2.1 Part 2 §1.66.1",
    doc: "What it checks: a TransactionEvent Started for a `transactionId` whose Started was \
already sent, and that is not a retransmission (same seqNo, the earlier one not answered \
with a CALLRESULT).\n\n\
Why it matters: a transaction starts once; a second Started makes the CSMS open the \
session again, possibly with another start time and meter value.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", seqNo:0, transactionInfo:{transactionId:\
\"tx-1\"}} -> {}, then {eventType:\"Started\", seqNo:1, transactionInfo:{transactionId:\
\"tx-1\"}}",
};

pub static EVENT_AFTER_ENDED: Rule = Rule {
    id: "tx2.event-after-ended",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "TransactionEvent for a transaction whose Ended was acknowledged",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (eventType); 2.1 Part 2 §1.66.1",
    doc: "What it checks: an Updated or Ended TransactionEvent for a `transactionId` whose Ended \
was answered with a CALLRESULT, other than a retransmission of that Ended (a Started with \
such an id is tx2.transaction-id-reused).\n\n\
Why it matters: Ended is the last message of a transaction; the CSMS has closed and \
possibly billed it, and later events cannot be booked.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", seqNo:3, ...} -> {}, then \
{eventType:\"Updated\", seqNo:4, ...} for the same transactionId",
};

pub static TRANSACTION_ID_REUSED: Rule = Rule {
    id: "tx2.transaction-id-reused",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Started with a transactionId the station already used for an ended transaction",
    spec: "OCPP 2.0.1 Part 2 E §1.2, E01.FR.08; 2.1 Part 2 E §1.2",
    doc: "What it checks: a TransactionEvent Started whose `transactionId` belongs to a \
transaction of this station that already ended (its Ended was acknowledged) in the trace.\n\n\
Why it matters: the station generates transaction ids and must keep them unique for its \
lifetime (a UUID is recommended); the CSMS keys billing and meter data on them, and a reused \
id merges two sessions.\n\n\
Example:\n  ... Ended for \"tx-1\" -> {}, then TransactionEvent {eventType:\"Started\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}",
};

pub static SECOND_TRANSACTION_ON_EVSE: Rule = Rule {
    id: "tx2.second-transaction-on-evse",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Transaction reported on an EVSE that has another transaction not yet ended",
    spec: "OCPP 2.0.1 Part 2 E §1, E01; 2.1 Part 2 E §1",
    doc: "What it checks: the first TransactionEvent of a transaction that names an `evse` (its \
Started, usually) while another transaction on that EVSE was seen and has not sent Ended. \
A warning instead of an error when the other transaction was only adopted mid-life (its \
Started not seen) or was last heard of before the station's latest boot: its Ended may \
have been lost.\n\n\
Why it matters: an EVSE runs at most one transaction at a time; the earlier one stays open \
at the CSMS for ever, and its energy is mixed up with the new session's.\n\n\
Example:\n  Started \"tx-1\" {evse:{id:1}} ..., then Started \"tx-2\" {evse:{id:1}} with no \
Ended for tx-1",
};

pub static SEQNO_NOT_INCREASING: Rule = Rule {
    id: "tx2.seqno-not-increasing",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "TransactionEvent seqNo not above the previous one of the transaction",
    spec: "OCPP 2.0.1 Part 2 E §1.3.2, E01.FR.07; 2.1 Part 2 E §1.3.2",
    doc: "What it checks: within one transaction, a TransactionEvent whose `seqNo` is equal to or \
below the seqNo of an earlier event of it, in send order. A retransmission (the same seqNo \
and eventType again after the earlier message got a CALLERROR, no answer, or a lost \
connection) is not reported.\n\n\
Why it matters: seqNo is incremented by one for every TransactionEvent of a transaction, so \
the CSMS can order them and see whether any is missing; a repeated or falling number breaks \
both.\n\n\
Example:\n  TransactionEvent {seqNo:2, ...} -> {}, then {seqNo:2, eventType:\"Updated\", ...} \
with other content",
};

pub static SEQNO_GAP: Rule = Rule {
    id: "tx2.seqno-gap",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "TransactionEvent seqNo skips numbers while the station was online",
    spec: "OCPP 2.0.1 Part 2 E §1.3.2, E01.FR.07; 2.1 Part 2 E §1.3.2",
    doc: "What it checks: within one transaction, a TransactionEvent whose `seqNo` is more than one \
above the previous one, on an event not flagged `offline`. Gaps in offline events are legal \
(a station short of memory may drop queued Updated events) and are left to \
tx2.incomplete-sequence. A warning: the missing events may also have been sent on a \
connection the trace did not record.\n\n\
Why it matters: the CSMS uses the sequence to tell that it received every event of the \
transaction; an online gap means events were lost.\n\n\
Example:\n  TransactionEvent {seqNo:1, ...}, then {seqNo:4, ...} (no offline flag)",
};

pub static SEQNO_NOT_RESET: Rule = Rule {
    id: "tx2.seqno-not-reset",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Started with a seqNo other than 0",
    spec: "OCPP 2.0.1 Part 2 E §1.3.2; 2.1 Part 2 E §1.3.2",
    doc: "What it checks: a TransactionEvent Started whose `seqNo` is not 0.\n\n\
Why it matters: starting each transaction at 0 is the recommended practice and lets the \
CSMS see at once whether the first events are complete; a counter that runs on across \
transactions is allowed, hence info.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", seqNo:17, ...}",
};

pub static INCOMPLETE_SEQUENCE: Rule = Rule {
    id: "tx2.incomplete-sequence",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Ended transaction whose seqNos from Started to Ended are not all seen",
    spec: "OCPP 2.0.1 Part 2 E §1.3.2, E04; 2.1 Part 2 E §1.3.2",
    doc: "What it checks: at a transaction's Ended, when its Started was seen: the number of \
distinct seqNos seen is smaller than the span from Started's seqNo to Ended's, and \
tx2.seqno-gap did not already report the gap. Dropped offline events are legal, hence \
info.\n\n\
Why it matters: the CSMS cannot prove that it has every event (and every meter value) of \
the transaction.\n\n\
Example:\n  Started seqNo 0, Updated seqNo 1, Ended seqNo 5 (offline events 2-4 dropped)",
};

pub static OFFLINE_FLAG_MISSING: Rule = Rule {
    id: "tx2.offline-flag-missing",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Event timestamped during the station's outage is not flagged offline",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (offline), E04; 2.1 Part 2 E04",
    doc: "What it checks: a TransactionEvent without `offline: true` whose `timestamp` lies inside \
the station's last outage as the trace shows it: more than `clock_skew` after the close of \
its previous connection and more than `clock_skew` before the current connection opened. \
Without a recorded close the outage is unknown and nothing is judged. A warning: the \
station's own view of when it was offline may differ.\n\n\
Why it matters: the flag tells the CSMS that the event happened while the station could \
not reach it (authorization was local, the data is late); without it queued events look \
live.\n\n\
Example:\n  close at 10:00, reconnect at 10:30, then TransactionEvent \
{timestamp:\"10:15:00Z\", ...} without offline",
};

pub static OFFLINE_FLAG_WHILE_ONLINE: Rule = Rule {
    id: "tx2.offline-flag-while-online",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Event flagged offline although it happened while the station was connected",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (offline); 2.1 Part 2 §1.66.1",
    doc: "What it checks: a TransactionEvent with `offline: true` whose `timestamp` is more than \
`clock_skew` after the current connection opened.\n\n\
Why it matters: offline means the event happened while the station was not connected; on a \
live event the flag makes the CSMS treat it as late data (and accept local \
authorizations it would have checked).\n\n\
Example:\n  connection open at 10:00, then TransactionEvent {timestamp:\"10:20:00Z\", \
offline:true, ...}",
};

pub static TIMESTAMP_DECREASING: Rule = Rule {
    id: "tx2.timestamp-decreasing",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "TransactionEvent timestamped before the previous event of the transaction",
    spec: "OCPP 2.0.1 Part 2 E §1.3; 2.1 Part 2 E §1.3",
    doc: "What it checks: within one transaction, an event with a higher seqNo than the previous \
one but an earlier `timestamp`.\n\n\
Why it matters: events are created, numbered and delivered in order; a timestamp that \
goes back means a clock jump or events of another session, and gives the CSMS wrong \
durations.\n\n\
Example:\n  {seqNo:1, timestamp:\"10:10:00Z\"}, then {seqNo:2, timestamp:\"10:05:00Z\"}",
};

pub static STARTED_WITHOUT_CHARGING_STATE: Rule = Rule {
    id: "tx2.started-without-charging-state",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Started without transactionInfo.chargingState",
    spec: "OCPP 2.0.1 Part 2 E §1.5 (optional fields); 2.1 Part 2 E §1.5",
    doc: "What it checks: a TransactionEvent Started whose `transactionInfo` has no \
`chargingState`.\n\n\
Why it matters: chargingState is sent whenever it changes, and the start of a transaction \
is its first value; without it the CSMS does not know whether an EV is connected or \
charging.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", transactionInfo:{transactionId:\"tx-1\"}, \
...}",
};

pub static CHARGING_STATE_TRIGGER_WITHOUT_STATE: Rule = Rule {
    id: "tx2.charging-state-trigger-without-state",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "triggerReason ChargingStateChanged without the new chargingState",
    spec: "OCPP 2.0.1 Part 2 E §1.5, TriggerReasonEnumType; 2.1 Part 2 E §1.5",
    doc: "What it checks: a TransactionEvent with `triggerReason` ChargingStateChanged whose \
`transactionInfo` has no `chargingState`.\n\n\
Why it matters: the event exists to report the new charging state; without it the CSMS \
learns that the state changed but not to what.\n\n\
Example:\n  TransactionEvent {triggerReason:\"ChargingStateChanged\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}",
};

pub static EVSE_NEVER_REPORTED: Rule = Rule {
    id: "tx2.evse-never-reported",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Transaction ended without any of its events naming the EVSE",
    spec: "OCPP 2.0.1 Part 2 E §1.5 (evse); 2.1 Part 2 E §1.5",
    doc: "What it checks: an Ended for a transaction whose Started was seen, when none of its \
events (Ended included) carried `evse`.\n\n\
Why it matters: the EVSE is sent in the first event after the EV is connected; without it \
the CSMS cannot tell where the session ran, nor match it with the connector statuses.\n\n\
Example:\n  Started, Updated, Ended for \"tx-1\", none with evse",
};

pub static EVSE_CHANGED: Rule = Rule {
    id: "tx2.evse-changed",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "evse.id or evse.connectorId differs between events of one transaction",
    spec: "OCPP 2.0.1 Part 2 §1.60.1 (evse); 2.1 Part 2 §1.66.1",
    doc: "What it checks: a TransactionEvent whose `evse.id` differs from the EVSE an earlier event \
of the same transaction named, or whose `evse.connectorId` differs from an earlier one (when \
both are present).\n\n\
Why it matters: a transaction runs on one EVSE and connector; a change means two sessions \
share an id, or the station mislabels the EVSE.\n\n\
Example:\n  Started \"tx-1\" {evse:{id:1, connectorId:1}}, then Updated \"tx-1\" \
{evse:{id:2, connectorId:1}}",
};

pub static IDTOKEN_INFO_MISSING: Rule = Rule {
    id: "tx2.idtoken-info-missing",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "TransactionEvent with idToken answered without idTokenInfo",
    spec: "OCPP 2.0.1 Part 2 §1.60.2 (idTokenInfo), E01, E03; 2.1 Part 2 §1.66.2",
    doc: "What it checks: a TransactionEvent that carried `idToken`, answered with a schema-valid \
CALLRESULT that has no `idTokenInfo`.\n\n\
Why it matters: the response must give the authorization status of the token the station \
sent; without it the station cannot tell whether the driver may charge, and may keep \
charging on a token the CSMS would refuse.\n\n\
Example:\n  TransactionEvent {..., idToken:{idToken:\"TAG-1\", type:\"ISO14443\"}} -> {}",
};

pub static STOPPED_REASON_MISSING: Rule = Rule {
    id: "tx2.stopped-reason-missing",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Ended without stoppedReason although its triggerReason shows a stop not by the driver",
    spec: "OCPP 2.0.1 Part 2 E06, E §1.5 (stoppedReason); 2.1 Part 2 E06",
    doc: "What it checks: a TransactionEvent Ended with no `transactionInfo.stoppedReason` while its \
`triggerReason` names a cause other than the driver: RemoteStop, Deauthorized, \
EVCommunicationLost, EVConnectTimeout, ResetCommand, AbnormalCondition, EnergyLimitReached, \
TimeLimitReached (and on 2.1 CostLimitReached, SoCLimitReached).\n\n\
Why it matters: stoppedReason may be left out only for a normal local stop (Local); \
leaving it out after a remote, reset or limit stop misreports why the session ended.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", triggerReason:\"EVCommunicationLost\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}",
};

pub static IDTOKEN_ON_REMOTE_OR_RESET_STOP: Rule = Rule {
    id: "tx2.idtoken-on-remote-or-reset-stop",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Ended by a remote stop or a reset carries an idToken",
    spec: "OCPP 2.0.1 Part 2 E §1.5 (idToken), §1.60.1; 2.1 Part 2 E §1.5",
    doc: "What it checks: a TransactionEvent Ended with triggerReason RemoteStop or ResetCommand \
that carries `idToken`.\n\n\
Why it matters: idToken is sent once per authorization, when a driver presents a token to \
start or stop; a stop by RequestStopTransaction or Reset involves no token, and one sent \
here makes the CSMS authorize (and attribute the stop to) a driver who did nothing.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", triggerReason:\"RemoteStop\", \
idToken:{idToken:\"TAG-1\", type:\"ISO14443\"}, ...}",
};

pub static METER_CONTEXT_MISMATCH: Rule = Rule {
    id: "tx2.meter-context-mismatch",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Meter value context does not fit the event (Begin in Started, End in Ended)",
    spec: "OCPP 2.0.1 Part 2 E01, E06 (TxStartedMeasurands, TxEndedMeasurands); 2.1 Part 2 E01, E06",
    doc: "What it checks: a sampled value with an explicit `context` other than Transaction.Begin \
in a Started, or other than Transaction.End, Sample.Periodic or Sample.Clock in an Ended. \
Info: the catalogue's reading of the measurand configuration, not a numbered requirement \
the tool could quote.\n\n\
Why it matters: the context tells the CSMS which reading is the start and which the end \
of the session; a mislabelled value gives wrong start or stop readings.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", meterValue:[{sampledValue:[{value:0, \
context:\"Transaction.End\"}], ...}], ...}",
};

pub static STATUS_NOT_OCCUPIED_ON_PLUG: Rule = Rule {
    id: "tx2.status-not-occupied-on-plug",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "EV plugged in on a connector last reported Available, and no Occupied followed",
    spec: "OCPP 2.0.1 Part 2 G01, E02; 2.1 Part 2 G01",
    doc: "What it checks: a TransactionEvent that shows an EV connected (triggerReason \
CablePluggedIn, or a Started with chargingState EVConnected, Charging, SuspendedEV or \
SuspendedEVSE) on an EVSE (and connector, when given) whose last status on this connection \
was Available, when no StatusNotification (or NotifyEvent AvailabilityState) Occupied for \
it follows within `followup_window`. Reported at the TransactionEvent line. Events flagged \
offline, and windows cut by a disconnect, are not judged. A warning: the report may have \
been skipped for a status that lasted very briefly.\n\n\
Why it matters: a plugged connector is Occupied; a CSMS that still sees it Available \
offers it to other drivers and shows a wrong map.\n\n\
Example:\n  StatusNotification {evseId:1, connectorId:1, connectorStatus:\"Available\"}, then \
TransactionEvent {eventType:\"Started\", triggerReason:\"CablePluggedIn\", evse:{id:1}, ...} \
and no Occupied",
};

pub static TRIGGER_REASON_UNKNOWN_CONTEXT: Rule = Rule {
    id: "tx2.trigger-reason-unknown-context",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "triggerReason RemoteStart or RemoteStop although the CSMS asked for no remote start or stop",
    spec: "OCPP 2.0.1 Part 2 E §1.5, TriggerReasonEnumType (RemoteStart, RemoteStop), F01-F03; 2.1 Part 2 E",
    doc: "What it checks: a TransactionEvent (not flagged offline) whose `triggerReason` is \
RemoteStart while no RequestStartTransaction has been answered Accepted in the whole \
observation, or RemoteStop while no RequestStopTransaction for that transaction has. Only \
when the observation saw the station connect (a trace that starts mid-life may have missed \
the request).\n\n\
Why it matters: the trigger reason tells the CSMS why the event was sent; RemoteStart and \
RemoteStop claim a request of the CSMS that never came, so the CSMS looks for a request it \
cannot find (often the charger reuses the reason of an earlier session).\n\n\
Example:\n  (no RequestStartTransaction) TransactionEvent {eventType:\"Started\", \
triggerReason:\"RemoteStart\", ...}",
};

pub static NUMBER_OF_PHASES_MISSING: Rule = Rule {
    id: "tx2.number-of-phases-missing",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "A transaction charged and none of its events carried numberOfPhasesUsed",
    spec: "OCPP 2.0.1 Part 2 E02.FR.18 (TransactionEventRequest numberOfPhasesUsed); 2.1 Part 2 E02",
    doc: "What it checks: a transaction seen from its Started to its Ended, one of whose events said \
chargingState Charging, and no event of which carried `numberOfPhasesUsed`.\n\n\
Why it matters: the number of phases in use is what a smart-charging CSMS needs to turn a \
limit in amperes into power; a station that can measure it is to report it once energy flows. \
Info only: the requirement holds for stations able to report it.\n\n\
Example:\n  Started {chargingState:\"Charging\"}, ..., Ended (no numberOfPhasesUsed in any event)",
};
