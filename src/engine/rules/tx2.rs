//! `tx2.*` and the 2.x part of `remote.*`: OCPP 2.0.1 / 2.1 transactions, reported by the
//! charger in TransactionEvent (Started, Updated..., Ended) under a transactionId it chose,
//! and the RequestStartTransaction / RequestStopTransaction that lead to them.
//!
//! ```text
//! TransactionEvent ─► retransmission of a seqNo not acknowledged? ─► ignored
//!                  ─► transactionId known? ─ no ─► Started? else first-event-not-started
//!                  │                         └─ ended before? ─► reused / event-after-ended
//!                  ─► seqNo after the previous one (gap, not increasing), timestamp order,
//!                     EVSE (changed, second transaction), offline flag vs the connection
//!                  ─► Started / Ended carry what they must (chargingState, stoppedReason,
//!                     meter contexts, evse)
//!                  ─► plugged on an EVSE last reported Available: Occupied expected
//! CALLRESULT      ─► idToken sent: idTokenInfo expected (the CSMS's fault)
//! RequestStart/StopTransaction Accepted ─► a TransactionEvent with the remoteStartId /
//!                                          triggerReason RemoteStop within followup_window
//! ```
//!
//! A transaction whose Started the trace did not see (it began before the trace, or before
//! the station's boot the trace saw) is adopted at its first event and reported at most as
//! info. Ended transactions keep only their id (capped), for the reuse rules. This file
//! must not judge connector statuses (status2.rs does) nor 1.6 transactions (tx16.rs).

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use serde_json::Value;

use super::dm::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use super::rpc::rule;
use super::status2::availability_event;
use super::tx16::{
    REMOTE_START_NOT_FOLLOWED, REMOTE_STOP_NOT_FOLLOWED, REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
};
use super::{Rule, V2X};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, ProtoState, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
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
    &REMOTE_START_ID_MISSING,
    &REMOTE_START_TRANSACTION_ID_UNKNOWN,
    &REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
    &REMOTE_STOP_KNOWN_TX_REJECTED,
    &REMOTE_STOP_WRONG_REASON,
    &TRIGGER_REASON_UNKNOWN_CONTEXT,
    &NUMBER_OF_PHASES_MISSING,
];

// ---------------------------------------------------------------------------------------
// Rules: the life of a transaction.

rule!(
    FIRST_EVENT_NOT_STARTED,
    "tx2.first-event-not-started",
    Error,
    None,
    V2X,
    Charger,
    "First TransactionEvent of a transactionId is not eventType Started",
    "OCPP 2.0.1 Part 2 §1.60.1 (eventType), E §1; 2.1 Part 2 E §1",
    "What it checks: the first TransactionEvent the trace sees for a `transactionId` has \
`eventType` Updated or Ended. An error when the station's BootNotification was seen in the \
trace and the event is timestamped after it (within `clock_skew`): its transactions since \
are known. Info otherwise, since the transaction may predate the trace or the boot, and \
info too for an Ended that closes a transaction interrupted by the reboot (stoppedReason \
PowerLoss, Reboot or ImmediateReset, triggerReason ResetCommand or AbnormalCondition).\n\n\
Why it matters: Started is the first message of a transaction; a CSMS that never got one \
has no EVSE, start time or start meter reading for it.\n\n\
Example:\n  (after BootNotification) TransactionEvent {eventType:\"Updated\", \
transactionInfo:{transactionId:\"tx-9\"}, seqNo:1, ...} with no Started for tx-9"
);

rule!(
    DUPLICATE_STARTED,
    "tx2.duplicate-started",
    Error,
    None,
    V2X,
    Charger,
    "Second Started for a transactionId that already started",
    "OCPP 2.0.1 Part 2 §1.60.1 (eventType); 2.1 Part 2 §1.66.1",
    "What it checks: a TransactionEvent Started for a `transactionId` whose Started was \
already sent, and that is not a retransmission (same seqNo, the earlier one not answered \
with a CALLRESULT).\n\n\
Why it matters: a transaction starts once; a second Started makes the CSMS open the \
session again, possibly with another start time and meter value.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", seqNo:0, transactionInfo:{transactionId:\
\"tx-1\"}} -> {}, then {eventType:\"Started\", seqNo:1, transactionInfo:{transactionId:\
\"tx-1\"}}"
);

rule!(
    EVENT_AFTER_ENDED,
    "tx2.event-after-ended",
    Error,
    None,
    V2X,
    Charger,
    "TransactionEvent for a transaction whose Ended was acknowledged",
    "OCPP 2.0.1 Part 2 §1.60.1 (eventType); 2.1 Part 2 §1.66.1",
    "What it checks: an Updated or Ended TransactionEvent for a `transactionId` whose Ended \
was answered with a CALLRESULT, other than a retransmission of that Ended (a Started with \
such an id is tx2.transaction-id-reused).\n\n\
Why it matters: Ended is the last message of a transaction; the CSMS has closed and \
possibly billed it, and later events cannot be booked.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", seqNo:3, ...} -> {}, then \
{eventType:\"Updated\", seqNo:4, ...} for the same transactionId"
);

rule!(
    TRANSACTION_ID_REUSED,
    "tx2.transaction-id-reused",
    Error,
    None,
    V2X,
    Charger,
    "Started with a transactionId the station already used for an ended transaction",
    "OCPP 2.0.1 Part 2 E §1.2, E01.FR.08; 2.1 Part 2 E §1.2",
    "What it checks: a TransactionEvent Started whose `transactionId` belongs to a \
transaction of this station that already ended (its Ended was acknowledged) in the trace.\n\n\
Why it matters: the station generates transaction ids and must keep them unique for its \
lifetime (a UUID is recommended); the CSMS keys billing and meter data on them, and a reused \
id merges two sessions.\n\n\
Example:\n  ... Ended for \"tx-1\" -> {}, then TransactionEvent {eventType:\"Started\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}"
);

rule!(
    SECOND_TRANSACTION_ON_EVSE,
    "tx2.second-transaction-on-evse",
    Error,
    None,
    V2X,
    Charger,
    "Transaction reported on an EVSE that has another transaction not yet ended",
    "OCPP 2.0.1 Part 2 E §1, E01; 2.1 Part 2 E §1",
    "What it checks: the first TransactionEvent of a transaction that names an `evse` (its \
Started, usually) while another transaction on that EVSE was seen and has not sent Ended. \
A warning instead of an error when the other transaction was only adopted mid-life (its \
Started not seen) or was last heard of before the station's latest boot: its Ended may \
have been lost.\n\n\
Why it matters: an EVSE runs at most one transaction at a time; the earlier one stays open \
at the CSMS for ever, and its energy is mixed up with the new session's.\n\n\
Example:\n  Started \"tx-1\" {evse:{id:1}} ..., then Started \"tx-2\" {evse:{id:1}} with no \
Ended for tx-1"
);

// ---------------------------------------------------------------------------------------
// Rules: sequence numbers, timestamps and the offline flag.

rule!(
    SEQNO_NOT_INCREASING,
    "tx2.seqno-not-increasing",
    Error,
    None,
    V2X,
    Charger,
    "TransactionEvent seqNo not above the previous one of the transaction",
    "OCPP 2.0.1 Part 2 E §1.3.2, E01.FR.07; 2.1 Part 2 E §1.3.2",
    "What it checks: within one transaction, a TransactionEvent whose `seqNo` is equal to or \
below the seqNo of an earlier event of it, in send order. A retransmission (the same seqNo \
and eventType again after the earlier message got a CALLERROR, no answer, or a lost \
connection) is not reported.\n\n\
Why it matters: seqNo is incremented by one for every TransactionEvent of a transaction, so \
the CSMS can order them and see whether any is missing; a repeated or falling number breaks \
both.\n\n\
Example:\n  TransactionEvent {seqNo:2, ...} -> {}, then {seqNo:2, eventType:\"Updated\", ...} \
with other content"
);

rule!(
    SEQNO_GAP,
    "tx2.seqno-gap",
    Warning,
    None,
    V2X,
    Charger,
    "TransactionEvent seqNo skips numbers while the station was online",
    "OCPP 2.0.1 Part 2 E §1.3.2, E01.FR.07; 2.1 Part 2 E §1.3.2",
    "What it checks: within one transaction, a TransactionEvent whose `seqNo` is more than one \
above the previous one, on an event not flagged `offline`. Gaps in offline events are legal \
(a station short of memory may drop queued Updated events) and are left to \
tx2.incomplete-sequence. A warning: the missing events may also have been sent on a \
connection the trace did not record.\n\n\
Why it matters: the CSMS uses the sequence to tell that it received every event of the \
transaction; an online gap means events were lost.\n\n\
Example:\n  TransactionEvent {seqNo:1, ...}, then {seqNo:4, ...} (no offline flag)"
);

rule!(
    SEQNO_NOT_RESET,
    "tx2.seqno-not-reset",
    Info,
    None,
    V2X,
    Charger,
    "Started with a seqNo other than 0",
    "OCPP 2.0.1 Part 2 E §1.3.2; 2.1 Part 2 E §1.3.2",
    "What it checks: a TransactionEvent Started whose `seqNo` is not 0.\n\n\
Why it matters: starting each transaction at 0 is the recommended practice and lets the \
CSMS see at once whether the first events are complete; a counter that runs on across \
transactions is allowed, hence info.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", seqNo:17, ...}"
);

rule!(
    INCOMPLETE_SEQUENCE,
    "tx2.incomplete-sequence",
    Info,
    None,
    V2X,
    Charger,
    "Ended transaction whose seqNos from Started to Ended are not all seen",
    "OCPP 2.0.1 Part 2 E §1.3.2, E04; 2.1 Part 2 E §1.3.2",
    "What it checks: at a transaction's Ended, when its Started was seen: the number of \
distinct seqNos seen is smaller than the span from Started's seqNo to Ended's, and \
tx2.seqno-gap did not already report the gap. Dropped offline events are legal, hence \
info.\n\n\
Why it matters: the CSMS cannot prove that it has every event (and every meter value) of \
the transaction.\n\n\
Example:\n  Started seqNo 0, Updated seqNo 1, Ended seqNo 5 (offline events 2-4 dropped)"
);

rule!(
    OFFLINE_FLAG_MISSING,
    "tx2.offline-flag-missing",
    Warning,
    None,
    V2X,
    Charger,
    "Event timestamped during the station's outage is not flagged offline",
    "OCPP 2.0.1 Part 2 §1.60.1 (offline), E04; 2.1 Part 2 E04",
    "What it checks: a TransactionEvent without `offline: true` whose `timestamp` lies inside \
the station's last outage as the trace shows it: more than `clock_skew` after the close of \
its previous connection and more than `clock_skew` before the current connection opened. \
Without a recorded close the outage is unknown and nothing is judged. A warning: the \
station's own view of when it was offline may differ.\n\n\
Why it matters: the flag tells the CSMS that the event happened while the station could \
not reach it (authorization was local, the data is late); without it queued events look \
live.\n\n\
Example:\n  close at 10:00, reconnect at 10:30, then TransactionEvent \
{timestamp:\"10:15:00Z\", ...} without offline"
);

rule!(
    OFFLINE_FLAG_WHILE_ONLINE,
    "tx2.offline-flag-while-online",
    Info,
    None,
    V2X,
    Charger,
    "Event flagged offline although it happened while the station was connected",
    "OCPP 2.0.1 Part 2 §1.60.1 (offline); 2.1 Part 2 §1.66.1",
    "What it checks: a TransactionEvent with `offline: true` whose `timestamp` is more than \
`clock_skew` after the current connection opened.\n\n\
Why it matters: offline means the event happened while the station was not connected; on a \
live event the flag makes the CSMS treat it as late data (and accept local \
authorizations it would have checked).\n\n\
Example:\n  connection open at 10:00, then TransactionEvent {timestamp:\"10:20:00Z\", \
offline:true, ...}"
);

rule!(
    TIMESTAMP_DECREASING,
    "tx2.timestamp-decreasing",
    Warning,
    None,
    V2X,
    Charger,
    "TransactionEvent timestamped before the previous event of the transaction",
    "OCPP 2.0.1 Part 2 E §1.3; 2.1 Part 2 E §1.3",
    "What it checks: within one transaction, an event with a higher seqNo than the previous \
one but an earlier `timestamp`.\n\n\
Why it matters: events are created, numbered and delivered in order; a timestamp that \
goes back means a clock jump or events of another session, and gives the CSMS wrong \
durations.\n\n\
Example:\n  {seqNo:1, timestamp:\"10:10:00Z\"}, then {seqNo:2, timestamp:\"10:05:00Z\"}"
);

// ---------------------------------------------------------------------------------------
// Rules: what the events carry.

rule!(
    STARTED_WITHOUT_CHARGING_STATE,
    "tx2.started-without-charging-state",
    Warning,
    None,
    V2X,
    Charger,
    "Started without transactionInfo.chargingState",
    "OCPP 2.0.1 Part 2 E §1.5 (optional fields); 2.1 Part 2 E §1.5",
    "What it checks: a TransactionEvent Started whose `transactionInfo` has no \
`chargingState`.\n\n\
Why it matters: chargingState is sent whenever it changes, and the start of a transaction \
is its first value; without it the CSMS does not know whether an EV is connected or \
charging.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", transactionInfo:{transactionId:\"tx-1\"}, \
...}"
);

rule!(
    CHARGING_STATE_TRIGGER_WITHOUT_STATE,
    "tx2.charging-state-trigger-without-state",
    Error,
    None,
    V2X,
    Charger,
    "triggerReason ChargingStateChanged without the new chargingState",
    "OCPP 2.0.1 Part 2 E §1.5, TriggerReasonEnumType; 2.1 Part 2 E §1.5",
    "What it checks: a TransactionEvent with `triggerReason` ChargingStateChanged whose \
`transactionInfo` has no `chargingState`.\n\n\
Why it matters: the event exists to report the new charging state; without it the CSMS \
learns that the state changed but not to what.\n\n\
Example:\n  TransactionEvent {triggerReason:\"ChargingStateChanged\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}"
);

rule!(
    EVSE_NEVER_REPORTED,
    "tx2.evse-never-reported",
    Warning,
    None,
    V2X,
    Charger,
    "Transaction ended without any of its events naming the EVSE",
    "OCPP 2.0.1 Part 2 E §1.5 (evse); 2.1 Part 2 E §1.5",
    "What it checks: an Ended for a transaction whose Started was seen, when none of its \
events (Ended included) carried `evse`.\n\n\
Why it matters: the EVSE is sent in the first event after the EV is connected; without it \
the CSMS cannot tell where the session ran, nor match it with the connector statuses.\n\n\
Example:\n  Started, Updated, Ended for \"tx-1\", none with evse"
);

rule!(
    EVSE_CHANGED,
    "tx2.evse-changed",
    Error,
    None,
    V2X,
    Charger,
    "evse.id or evse.connectorId differs between events of one transaction",
    "OCPP 2.0.1 Part 2 §1.60.1 (evse); 2.1 Part 2 §1.66.1",
    "What it checks: a TransactionEvent whose `evse.id` differs from the EVSE an earlier event \
of the same transaction named, or whose `evse.connectorId` differs from an earlier one (when \
both are present).\n\n\
Why it matters: a transaction runs on one EVSE and connector; a change means two sessions \
share an id, or the station mislabels the EVSE.\n\n\
Example:\n  Started \"tx-1\" {evse:{id:1, connectorId:1}}, then Updated \"tx-1\" \
{evse:{id:2, connectorId:1}}"
);

rule!(
    IDTOKEN_INFO_MISSING,
    "tx2.idtoken-info-missing",
    Error,
    None,
    V2X,
    Csms,
    "TransactionEvent with idToken answered without idTokenInfo",
    "OCPP 2.0.1 Part 2 §1.60.2 (idTokenInfo), E01, E03; 2.1 Part 2 §1.66.2",
    "What it checks: a TransactionEvent that carried `idToken`, answered with a schema-valid \
CALLRESULT that has no `idTokenInfo`.\n\n\
Why it matters: the response must give the authorization status of the token the station \
sent; without it the station cannot tell whether the driver may charge, and may keep \
charging on a token the CSMS would refuse.\n\n\
Example:\n  TransactionEvent {..., idToken:{idToken:\"TAG-1\", type:\"ISO14443\"}} -> {}"
);

rule!(
    STOPPED_REASON_MISSING,
    "tx2.stopped-reason-missing",
    Warning,
    None,
    V2X,
    Charger,
    "Ended without stoppedReason although its triggerReason shows a stop not by the driver",
    "OCPP 2.0.1 Part 2 E06, E §1.5 (stoppedReason); 2.1 Part 2 E06",
    "What it checks: a TransactionEvent Ended with no `transactionInfo.stoppedReason` while its \
`triggerReason` names a cause other than the driver: RemoteStop, Deauthorized, \
EVCommunicationLost, EVConnectTimeout, ResetCommand, AbnormalCondition, EnergyLimitReached, \
TimeLimitReached (and on 2.1 CostLimitReached, SoCLimitReached).\n\n\
Why it matters: stoppedReason may be left out only for a normal local stop (Local); \
leaving it out after a remote, reset or limit stop misreports why the session ended.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", triggerReason:\"EVCommunicationLost\", \
transactionInfo:{transactionId:\"tx-1\"}, ...}"
);

rule!(
    IDTOKEN_ON_REMOTE_OR_RESET_STOP,
    "tx2.idtoken-on-remote-or-reset-stop",
    Warning,
    None,
    V2X,
    Charger,
    "Ended by a remote stop or a reset carries an idToken",
    "OCPP 2.0.1 Part 2 E §1.5 (idToken), §1.60.1; 2.1 Part 2 E §1.5",
    "What it checks: a TransactionEvent Ended with triggerReason RemoteStop or ResetCommand \
that carries `idToken`.\n\n\
Why it matters: idToken is sent once per authorization, when a driver presents a token to \
start or stop; a stop by RequestStopTransaction or Reset involves no token, and one sent \
here makes the CSMS authorize (and attribute the stop to) a driver who did nothing.\n\n\
Example:\n  TransactionEvent {eventType:\"Ended\", triggerReason:\"RemoteStop\", \
idToken:{idToken:\"TAG-1\", type:\"ISO14443\"}, ...}"
);

rule!(
    METER_CONTEXT_MISMATCH,
    "tx2.meter-context-mismatch",
    Info,
    None,
    V2X,
    Charger,
    "Meter value context does not fit the event (Begin in Started, End in Ended)",
    "OCPP 2.0.1 Part 2 E01, E06 (TxStartedMeasurands, TxEndedMeasurands); 2.1 Part 2 E01, E06",
    "What it checks: a sampled value with an explicit `context` other than Transaction.Begin \
in a Started, or other than Transaction.End, Sample.Periodic or Sample.Clock in an Ended. \
Info: the catalogue's reading of the measurand configuration, not a numbered requirement \
the tool could quote.\n\n\
Why it matters: the context tells the CSMS which reading is the start and which the end \
of the session; a mislabelled value gives wrong start or stop readings.\n\n\
Example:\n  TransactionEvent {eventType:\"Started\", meterValue:[{sampledValue:[{value:0, \
context:\"Transaction.End\"}], ...}], ...}"
);

rule!(
    STATUS_NOT_OCCUPIED_ON_PLUG,
    "tx2.status-not-occupied-on-plug",
    Warning,
    None,
    V2X,
    Charger,
    "EV plugged in on a connector last reported Available, and no Occupied followed",
    "OCPP 2.0.1 Part 2 G01, E02; 2.1 Part 2 G01",
    "What it checks: a TransactionEvent that shows an EV connected (triggerReason \
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
and no Occupied"
);

// ---------------------------------------------------------------------------------------
// Rules: remote start and stop, 2.x (the not-followed rules are shared with 1.6, in tx16).

rule!(
    REMOTE_START_ID_MISSING,
    "remote.start-id-missing",
    Error,
    None,
    V2X,
    Charger,
    "Transaction started by RequestStartTransaction does not carry its remoteStartId",
    "OCPP 2.0.1 Part 2 F01, F02, E §1.5 (remoteStartId); 2.1 Part 2 F01, F02",
    "What it checks: while a RequestStartTransaction answered Accepted is pending, a \
TransactionEvent with triggerReason RemoteStart and no `transactionInfo.remoteStartId`; or, \
when the answer named an existing transaction (`transactionId`), that transaction's next \
event without the request's remoteStartId.\n\n\
Why it matters: the remoteStartId is how the CSMS ties the transaction to the request (and \
to the app or operator that asked); without it the remote start looks unanswered.\n\n\
Example:\n  RequestStartTransaction {remoteStartId:7, idToken:{...}} -> Accepted, then \
TransactionEvent {triggerReason:\"RemoteStart\", transactionInfo:{transactionId:\"tx-1\"}, \
...}"
);

rule!(
    REMOTE_START_TRANSACTION_ID_UNKNOWN,
    "remote.start-transaction-id-unknown",
    Warning,
    None,
    V2X,
    Charger,
    "RequestStartTransaction answered with a transactionId that is not running",
    "OCPP 2.0.1 Part 2 F01, F02 (RequestStartTransactionResponse transactionId); 2.1 Part 2 F01",
    "What it checks: a RequestStartTransactionResponse whose `transactionId` names a \
transaction whose Ended was acknowledged, or one the trace never saw although it saw the \
station boot (before a boot an unknown transaction may predate the trace, and nothing is \
reported).\n\n\
Why it matters: the id is for a transaction already running on the EVSE (started by a \
plug-in before authorization), so the CSMS can bind the remote start to it; an id of a \
finished or unknown transaction binds it to nothing.\n\n\
Example:\n  Ended for \"tx-1\" -> {}, then RequestStartTransaction {...} -> \
{status:\"Accepted\", transactionId:\"tx-1\"}"
);

rule!(
    REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
    "remote.start-on-unavailable-accepted",
    Warning,
    None,
    V2X,
    Charger,
    "RequestStartTransaction accepted for an EVSE last reported Unavailable or Faulted",
    "OCPP 2.0.1 Part 2 F01, F02, G03; 2.1 Part 2 F01",
    "What it checks: a RequestStartTransaction with `evseId` answered Accepted while every \
connector of that EVSE whose status was reported on this connection was last reported \
Unavailable or Faulted (at least one). A warning: a status change the station did not \
report yet cannot be ruled out.\n\n\
Why it matters: an EVSE that is out of service cannot start a transaction; Accepted makes \
the driver and the CSMS wait for one that will not come.\n\n\
Example:\n  StatusNotification {evseId:1, connectorId:1, connectorStatus:\"Unavailable\"}, \
then RequestStartTransaction {evseId:1, ...} -> Accepted"
);

rule!(
    REMOTE_STOP_KNOWN_TX_REJECTED,
    "remote.stop-known-tx-rejected",
    Warning,
    None,
    V2X,
    Charger,
    "RequestStopTransaction for a running transaction answered Rejected",
    "OCPP 2.0.1 Part 2 F03; 2.1 Part 2 F03",
    "What it checks: a RequestStopTransaction answered Rejected for a transaction the trace \
saw start (or adopted) and not end, and that sent an event since the station's latest \
boot. A warning: the station may have ended it an instant before.\n\n\
Why it matters: the request stops a running transaction; rejecting it leaves the driver \
unable to end the session from the app, and the CSMS billing a session it asked to stop.\n\n\
Example:\n  Started \"tx-1\" ..., then RequestStopTransaction {transactionId:\"tx-1\"} -> \
{status:\"Rejected\"}"
);

rule!(
    REMOTE_STOP_WRONG_REASON,
    "remote.stop-wrong-reason",
    Warning,
    None,
    V2X,
    Charger,
    "Transaction ended after an accepted RequestStopTransaction, not as a remote stop",
    "OCPP 2.0.1 Part 2 F03; 2.1 Part 2 F03",
    "What it checks: the first event of a transaction after its RequestStopTransaction was \
accepted is an Ended whose triggerReason is not RemoteStop or whose stoppedReason is not \
Remote. An Ended timestamped more than `clock_skew` before the request was sent is not \
judged (it ended for its own reason first). A warning: the station may have stopped for \
another cause at the same moment.\n\n\
Why it matters: the reason tells the CSMS and the driver who ended the session; another \
reason suggests the station did not act on the request.\n\n\
Example:\n  RequestStopTransaction {transactionId:\"tx-1\"} -> Accepted, then \
TransactionEvent {eventType:\"Ended\", triggerReason:\"StopAuthorized\", \
transactionInfo:{transactionId:\"tx-1\", stoppedReason:\"Local\"}, ...}"
);

rule!(
    NUMBER_OF_PHASES_MISSING,
    "tx2.number-of-phases-missing",
    Info,
    None,
    V2X,
    Charger,
    "A transaction charged and none of its events carried numberOfPhasesUsed",
    "OCPP 2.0.1 Part 2 E02.FR.18 (TransactionEventRequest numberOfPhasesUsed); 2.1 Part 2 E02",
    "What it checks: a transaction seen from its Started to its Ended, one of whose events said \
chargingState Charging, and no event of which carried `numberOfPhasesUsed`.\n\n\
Why it matters: the number of phases in use is what a smart-charging CSMS needs to turn a \
limit in amperes into power; a station that can measure it is to report it once energy flows. \
Info only: the requirement holds for stations able to report it.\n\n\
Example:\n  Started {chargingState:\"Charging\"}, ..., Ended (no numberOfPhasesUsed in any event)"
);

rule!(
    TRIGGER_REASON_UNKNOWN_CONTEXT,
    "tx2.trigger-reason-unknown-context",
    Info,
    None,
    V2X,
    Charger,
    "triggerReason RemoteStart or RemoteStop although the CSMS asked for no remote start or stop",
    "OCPP 2.0.1 Part 2 E §1.5, TriggerReasonEnumType (RemoteStart, RemoteStop), F01-F03; 2.1 Part 2 E",
    "What it checks: a TransactionEvent (not flagged offline) whose `triggerReason` is \
RemoteStart while no RequestStartTransaction has been answered Accepted in the whole \
observation, or RemoteStop while no RequestStopTransaction for that transaction has. Only \
when the observation saw the station connect (a trace that starts mid-life may have missed \
the request).\n\n\
Why it matters: the trigger reason tells the CSMS why the event was sent; RemoteStart and \
RemoteStop claim a request of the CSMS that never came, so the CSMS looks for a request it \
cannot find (often the charger reuses the reason of an earlier session).\n\n\
Example:\n  (no RequestStartTransaction) TransactionEvent {eventType:\"Started\", \
triggerReason:\"RemoteStart\", ...}"
);

// ---------------------------------------------------------------------------------------
// State.

/// Transactions followed (open ones, and recently ended ones with their details).
const MAX_TXS: usize = 64;
/// Ended transactions remembered (by a hash of the id) for the reuse rules.
const MAX_ENDED_IDS: usize = 1024;
/// Recent events of one transaction with their delivery outcome.
const MAX_SENT: usize = 8;
const MAX_REMOTE: usize = 16;
/// Transactions remembered as asked to stop (8 bytes each).
const MAX_REMOTE_STOPS_ASKED: usize = 64;
const MAX_WATCHES: usize = 16;

/// How a sent event was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Not answered yet.
    Pending,
    /// A CALLRESULT came.
    Acked,
    /// A CALLERROR came, or the connection closed first: the station will resend it.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventType {
    Started,
    Updated,
    Ended,
}

impl EventType {
    fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "Started" => EventType::Started,
            "Updated" => EventType::Updated,
            "Ended" => EventType::Ended,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Sent {
    seq: i64,
    kind: EventType,
    delivery: Delivery,
}

/// One transaction of the station.
#[derive(Debug)]
struct Tx {
    id: Box<str>,
    /// The EVSE and connector its events named.
    evse: Option<i64>,
    connector: Option<i64>,
    /// The seqNo of its Started, when the trace saw it.
    started: Option<i64>,
    last_seq: Option<i64>,
    last_ts: Option<Timestamp>,
    /// When its last event was sent (observer time).
    last_at: Timestamp,
    /// Distinct seqNos seen.
    seen: u32,
    /// tx2.seqno-gap was reported (tx2.incomplete-sequence would say it again).
    gap_reported: bool,
    /// The seqNo of its Ended, once sent.
    ended: Option<i64>,
    sent: Vec<Sent>,
    /// An event said chargingState Charging (energy was transferred).
    charged: bool,
    /// An event carried numberOfPhasesUsed.
    phases_reported: bool,
}

impl Tx {
    fn ended_acked(&self) -> bool {
        self.ended.is_some_and(|e| {
            self.sent
                .iter()
                .any(|s| s.seq == e && s.kind == EventType::Ended && s.delivery == Delivery::Acked)
        })
    }

    fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

#[derive(Debug)]
struct RemoteStart {
    call: CallRef,
    remote_start_id: i64,
    /// The transaction the answer named (one already running on the EVSE).
    tx: Option<Box<str>>,
    due: Timestamp,
}

#[derive(Debug)]
struct RemoteStop {
    call: CallRef,
    tx: Box<str>,
    due: Timestamp,
}

/// A plug-in on an EVSE last reported Available, waiting for its Occupied.
#[derive(Debug)]
struct PlugWatch {
    call: CallRef,
    evse: i64,
    connector: Option<i64>,
    due: Timestamp,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    txs: Vec<Tx>,
    /// Hashes of the ids of ended transactions (8 bytes each, whatever the id's length).
    ended_ids: Vec<u64>,
    /// The latest BootNotification of the station (observer time).
    boot_at: Option<Timestamp>,
    /// When the current connection opened, and when the previous one closed.
    open_at: Option<Timestamp>,
    outage_from: Option<Timestamp>,
    last_close: Option<Timestamp>,
    remote_starts: Vec<RemoteStart>,
    remote_stops: Vec<RemoteStop>,
    watches: Vec<PlugWatch>,
    /// A RequestStartTransaction was answered Accepted in this observation.
    remote_start_asked: bool,
    /// Hashes of the transactions a RequestStopTransaction was accepted for.
    remote_stop_asked: Vec<u64>,
    /// RequestStartTransaction / RequestStopTransaction sent by the CSMS and not answered
    /// yet: their remoteStartId / transaction id hash. The charger may act on a request
    /// before its answer goes out (OCPP-J orders a reply only against the replier's own
    /// outstanding CALL, not against its next CALLs), so an event that crosses the answer
    /// is judged against the request, not against the answer.
    starts_in_flight: Vec<i64>,
    stops_in_flight: Vec<u64>,
    /// The remoteStartIds of recent events, with when each was sent: an answer Accepted
    /// that comes after the transaction it started (a crossing) needs no follow-up.
    remote_start_ids_seen: Vec<(i64, Timestamp)>,
}

impl State {
    /// Transactions started (or first seen) and not ended.
    pub(crate) fn open_transactions(&self) -> usize {
        self.txs.iter().filter(|t| t.is_open()).count()
    }

    /// Whether a transaction with this id ended and was forgotten but for its id.
    fn ended_before(&self, id: &str) -> bool {
        self.ended_ids.contains(&id_hash(id))
    }

    fn tx_pos(&self, id: &str) -> Option<usize> {
        self.txs.iter().rposition(|t| &*t.id == id)
    }

    fn add_tx(&mut self, tx: Tx) -> usize {
        if self.txs.len() >= MAX_TXS {
            // Forget the oldest ended transaction (its id stays in ended_ids), or the oldest.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            let old = self.txs.remove(pos);
            if !old.is_open() {
                self.remember_ended(&old.id);
            }
        }
        self.txs.push(tx);
        self.txs.len() - 1
    }

    fn remember_ended(&mut self, id: &str) {
        let h = id_hash(id);
        if !self.ended_ids.contains(&h) {
            push_capped(&mut self.ended_ids, h, MAX_ENDED_IDS);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// A stable 64-bit hash of a transaction id (collisions are negligible at these counts).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn is_2x(st: &ProtoState) -> bool {
    st.version.is_some_and(Version::is_2x)
}

fn ts_of(v: &Value, key: &str) -> Option<Timestamp> {
    str_of(v, key).and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

fn plus(t: Timestamp, us: i64) -> Timestamp {
    Timestamp::from_micros(t.micros().saturating_add(us))
}

fn minus(t: Timestamp, us: i64) -> Timestamp {
    Timestamp::from_micros(t.micros().saturating_sub(us))
}

/// Trigger reasons of a stop that the driver did not make (stoppedReason must say so).
const NON_DRIVER_STOPS: &[&str] = &[
    "RemoteStop",
    "Deauthorized",
    "EVCommunicationLost",
    "EVConnectTimeout",
    "ResetCommand",
    "AbnormalCondition",
    "EnergyLimitReached",
    "TimeLimitReached",
    "CostLimitReached",
    "SoCLimitReached",
];

/// The parts of a TransactionEvent the rules read.
struct Event<'a> {
    kind: EventType,
    id: &'a str,
    seq: i64,
    ts: Option<Timestamp>,
    trigger: &'a str,
    info: &'a Value,
    offline: bool,
    evse: Option<i64>,
    connector: Option<i64>,
}

impl<'a> Event<'a> {
    fn of(p: &'a Value) -> Option<Event<'a>> {
        let info = p.get("transactionInfo")?;
        let evse = p.get("evse");
        Some(Event {
            kind: EventType::parse(str_of(p, "eventType")?)?,
            id: str_of(info, "transactionId")?,
            seq: int_of(p, "seqNo")?,
            ts: ts_of(p, "timestamp"),
            trigger: str_of(p, "triggerReason").unwrap_or(""),
            info,
            offline: p.get("offline").and_then(Value::as_bool) == Some(true),
            evse: evse.and_then(|e| int_of(e, "id")),
            connector: evse.and_then(|e| int_of(e, "connectorId")),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

pub(crate) fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
    if !is_2x(st) {
        return;
    }
    let now = ctx.now();
    let s = &mut st.tx2;
    s.open_at = Some(now);
    s.outage_from = s.last_close.filter(|c| *c <= now);
}

pub(crate) fn on_close(st: &mut ProtoState, ctx: &mut Ctx<'_>, _by: Option<Side>) {
    if !is_2x(st) {
        return;
    }
    let s = &mut st.tx2;
    s.last_close = Some(ctx.now());
    s.open_at = None;
    // Statuses are reported afresh after a reconnect: a plug-in is not judged across it.
    s.watches.clear();
    // Unanswered events get no answer any more: the station will resend them.
    for t in &mut s.txs {
        for e in &mut t.sent {
            if e.delivery == Delivery::Pending {
                e.delivery = Delivery::Failed;
            }
        }
    }
}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
    if !is_2x(st) {
        return;
    }
    let s = &mut st.tx2;
    if s.remote_starts.is_empty() && s.remote_stops.is_empty() && s.watches.is_empty() {
        return;
    }
    let secs = ctx.config().tol.followup_window_us as f64 / 1e6;
    let mut i = 0;
    while i < s.remote_starts.len() {
        if now > s.remote_starts[i].due {
            let r = s.remote_starts.remove(i);
            ctx.report_about(
                &REMOTE_START_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RequestStartTransaction with remoteStartId {} was accepted, but no TransactionEvent carrying that remoteStartId followed within {secs:.0} s",
                    r.remote_start_id
                ),
            );
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < s.remote_stops.len() {
        if now > s.remote_stops[i].due {
            let r = s.remote_stops.remove(i);
            ctx.report_about(
                &REMOTE_STOP_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RequestStopTransaction for transaction {} was accepted, but no TransactionEvent with triggerReason RemoteStop (nor an Ended) for it followed within {secs:.0} s",
                    r.tx
                ),
            );
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < s.watches.len() {
        if now > s.watches[i].due {
            let w = s.watches.remove(i);
            ctx.report_about(
                &STATUS_NOT_OCCUPIED_ON_PLUG,
                w.call.about(),
                format!(
                    "an EV was connected on EVSE {}{} while it was last reported Available, and no Occupied status for it followed within {secs:.0} s",
                    w.evse,
                    w.connector
                        .map_or(String::new(), |c| format!(" connector {c}"))
                ),
            );
        } else {
            i += 1;
        }
    }
    if end {
        // The observation ends before these windows closed: nothing can be concluded.
        s.remote_starts.clear();
        s.remote_stops.clear();
        s.watches.clear();
    }
}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    if !is_2x(st) || !call.valid {
        return;
    }
    if call.from == Side::Csms {
        match call.action {
            "RequestStartTransaction" => {
                if let Some(r) = int_of(call.payload, "remoteStartId") {
                    push_capped(&mut st.tx2.starts_in_flight, r, MAX_REMOTE);
                }
            }
            "RequestStopTransaction" => {
                if let Some(id) = str_of(call.payload, "transactionId") {
                    push_capped(&mut st.tx2.stops_in_flight, id_hash(id), MAX_REMOTE);
                }
            }
            _ => {}
        }
        return;
    }
    match call.action {
        "TransactionEvent" => {
            if let Some(ev) = Event::of(call.payload) {
                transaction_event(st, ctx, call, &ev);
            }
        }
        "StatusNotification" => {
            let p = call.payload;
            if str_of(p, "connectorStatus") == Some("Occupied")
                && let (Some(e), Some(c)) = (int_of(p, "evseId"), int_of(p, "connectorId"))
            {
                occupied(&mut st.tx2, e, c);
            }
        }
        "NotifyEvent" => {
            for e in arr_of(call.payload, "eventData") {
                if let Some((evse, c, "Occupied")) = availability_event(e) {
                    occupied(&mut st.tx2, evse, c);
                }
            }
        }
        "BootNotification" => st.tx2.boot_at = Some(ctx.now()),
        _ => {}
    }
}

pub(crate) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if !is_2x(st) {
        return;
    }
    match (reply.action, reply.caller) {
        ("TransactionEvent", Side::Charger) => event_answered(st, ctx, reply),
        ("RequestStartTransaction", Side::Csms) => {
            let remote_start_id = int_of(reply.request, "remoteStartId");
            if let Some(r) = remote_start_id
                && let Some(i) = st.tx2.starts_in_flight.iter().position(|x| *x == r)
            {
                st.tx2.starts_in_flight.remove(i);
            }
            if status_of(reply) != Some("Accepted") {
                return;
            }
            st.tx2.remote_start_asked = true;
            if let Some(evse) = int_of(reply.request, "evseId")
                && st.status2.is_out_of_service(evse)
            {
                ctx.report(
                    &REMOTE_START_ON_UNAVAILABLE_ACCEPTED,
                    format!(
                        "RequestStartTransaction for EVSE {evse} answered Accepted, but the EVSE was last reported Unavailable or Faulted"
                    ),
                );
            }
            let tx = reply
                .result()
                .and_then(|r| str_of(r, "transactionId"))
                .map(Box::from);
            if let Some(id) = tx.as_deref() {
                let s = &st.tx2;
                let why = match s.tx_pos(id) {
                    Some(p) if s.txs[p].ended_acked() => Some("has ended"),
                    Some(_) => None,
                    None if s.ended_before(id) => Some("has ended"),
                    None if s.boot_at.is_some() => Some("was never seen since the station booted"),
                    None => None,
                };
                if let Some(why) = why {
                    ctx.report(
                        &REMOTE_START_TRANSACTION_ID_UNKNOWN,
                        format!(
                            "RequestStartTransaction answered with transactionId {id}, a transaction that {why}; the id must name the transaction running on the EVSE"
                        ),
                    );
                }
            }
            let Some(remote_start_id) = remote_start_id else {
                return;
            };
            // The transaction may have started before the answer went out (a crossing):
            // then the follow-up is already there.
            if st
                .tx2
                .remote_start_ids_seen
                .iter()
                .any(|(r, at)| *r == remote_start_id && *at >= reply.call_at)
            {
                return;
            }
            let due = plus(ctx.now(), ctx.config().tol.followup_window_us);
            push_capped(
                &mut st.tx2.remote_starts,
                RemoteStart {
                    call: CallRef::of_reply(reply),
                    remote_start_id,
                    tx,
                    due,
                },
                MAX_REMOTE,
            );
        }
        ("RequestStopTransaction", Side::Csms) => {
            let Some(id) = str_of(reply.request, "transactionId") else {
                return;
            };
            let s = &mut st.tx2;
            if let Some(i) = s.stops_in_flight.iter().position(|h| *h == id_hash(id)) {
                s.stops_in_flight.remove(i);
            }
            let pos = s.tx_pos(id);
            if status_of(reply) == Some("Rejected") {
                if let Some(p) = pos
                    && s.txs[p].is_open()
                    && s.boot_at.is_none_or(|b| s.txs[p].last_at >= b)
                {
                    ctx.report(
                        &REMOTE_STOP_KNOWN_TX_REJECTED,
                        format!(
                            "RequestStopTransaction for transaction {id} answered Rejected, but that transaction is running (it sent an event at {} and no Ended)",
                            s.txs[p].last_at
                        ),
                    );
                }
                return;
            }
            if status_of(reply) != Some("Accepted") {
                return;
            }
            push_capped(
                &mut s.remote_stop_asked,
                id_hash(id),
                MAX_REMOTE_STOPS_ASKED,
            );
            // Judged by the state when the request was sent: an Ended sent after it (the
            // charger acted on the request before answering) does not make the answer wrong.
            let acked_end = pos.map_or_else(
                || s.ended_before(id),
                |p| s.txs[p].ended_acked() && s.txs[p].last_at <= reply.call_at,
            );
            if acked_end {
                ctx.report(
                    &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
                    format!(
                        "RequestStopTransaction for transaction {id} answered Accepted, but that transaction had already ended; the answer must be Rejected"
                    ),
                );
                return;
            }
            if pos.is_some_and(|p| !s.txs[p].is_open()) {
                return; // its Ended is on its way: nothing more can follow
            }
            if pos.is_none() && s.boot_at.is_some() {
                ctx.report_as(
                    &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
                    Severity::Warning,
                    format!(
                        "RequestStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"
                    ),
                );
                return;
            }
            let due = plus(ctx.now(), ctx.config().tol.followup_window_us);
            push_capped(
                &mut s.remote_stops,
                RemoteStop {
                    call: CallRef::of_reply(reply),
                    tx: Box::from(id),
                    due,
                },
                MAX_REMOTE,
            );
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// TransactionEvent.

fn occupied(s: &mut State, evse: i64, connector: i64) {
    s.watches
        .retain(|w| !(w.evse == evse && w.connector.is_none_or(|c| c == connector)));
}

fn event_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(ev) = Event::of(reply.request) else {
        return;
    };
    let delivery = match reply.outcome {
        Outcome::Result { .. } => Delivery::Acked,
        Outcome::Error { .. } => Delivery::Failed,
    };
    let s = &mut st.tx2;
    if let Some(pos) = s.tx_pos(ev.id) {
        let tx = &mut s.txs[pos];
        if let Some(e) = tx
            .sent
            .iter_mut()
            .rev()
            .find(|e| e.seq == ev.seq && e.kind == ev.kind && e.delivery != Delivery::Acked)
        {
            e.delivery = delivery;
        }
        if tx.ended_acked() {
            let id = tx.id.clone();
            s.remember_ended(&id);
        }
    }
    if let Some(result) = reply.result()
        && reply.request.get("idToken").is_some_and(Value::is_object)
        && result.get("idTokenInfo").is_none()
    {
        let token = reply
            .request
            .get("idToken")
            .and_then(|t| str_of(t, "idToken"))
            .unwrap_or("?");
        ctx.report(
            &IDTOKEN_INFO_MISSING,
            format!(
                "TransactionEvent {} of transaction {} carried idToken {token}, but the response has no idTokenInfo",
                ev.seq, ev.id
            ),
        );
    }
}

fn transaction_event(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>, ev: &Event<'_>) {
    let now = ctx.now();
    let tol = ctx.config().tol;
    let s = &mut st.tx2;

    // A retransmission of an event that was not acknowledged is the same event again.
    if let Some(pos) = s.tx_pos(ev.id) {
        let tx = &mut s.txs[pos];
        if let Some(e) = tx
            .sent
            .iter_mut()
            .find(|e| e.seq == ev.seq && e.kind == ev.kind && e.delivery != Delivery::Acked)
        {
            e.delivery = Delivery::Pending;
            tx.last_at = now;
            return;
        }
    }

    check_content(ctx, ev, call.payload);
    check_offline(s, ctx, ev, tol.clock_skew_us);

    let pos = match s.tx_pos(ev.id) {
        Some(pos) => follow(s, ctx, pos, ev),
        None => adopt(s, ctx, ev, now, tol.clock_skew_us),
    };
    let Some(pos) = pos else {
        return;
    };
    let s = &mut st.tx2;
    let tx = &mut s.txs[pos];
    tx.last_at = now;
    tx.charged |= str_of(ev.info, "chargingState") == Some("Charging");
    tx.phases_reported |= call.payload.get("numberOfPhasesUsed").is_some();
    push_capped(
        &mut tx.sent,
        Sent {
            seq: ev.seq,
            kind: ev.kind,
            delivery: Delivery::Pending,
        },
        MAX_SENT,
    );

    if ev.kind == EventType::Ended {
        tx.ended = Some(ev.seq);
        if tx.started.is_some() && tx.charged && !tx.phases_reported {
            ctx.report(
                &NUMBER_OF_PHASES_MISSING,
                format!(
                    "transaction {} charged (chargingState Charging) and ended, and none of its events carried numberOfPhasesUsed",
                    tx.id
                ),
            );
        }
        if let Some(start) = tx.started {
            if tx.evse.is_none() {
                ctx.report(
                    &EVSE_NEVER_REPORTED,
                    format!(
                        "transaction {} ended, and none of its events named the EVSE it ran on",
                        tx.id
                    ),
                );
            }
            let span = ev.seq.saturating_sub(start).saturating_add(1);
            if span > i64::from(tx.seen) && !tx.gap_reported {
                ctx.report(
                    &INCOMPLETE_SEQUENCE,
                    format!(
                        "transaction {} ended with seqNo {}; of the {span} seqNos from its Started ({start}) only {} were seen",
                        tx.id, ev.seq, tx.seen
                    ),
                );
            }
        }
    }

    // The EV is connected on an EVSE last reported Available: Occupied should follow.
    let plugged = ev.trigger == "CablePluggedIn"
        || (ev.kind == EventType::Started
            && matches!(
                str_of(ev.info, "chargingState"),
                Some("EVConnected" | "Charging" | "SuspendedEV" | "SuspendedEVSE")
            ));
    if plugged
        && !ev.offline
        && let Some(evse) = ev.evse
        && st.status2.is_available(evse, ev.connector)
    {
        push_capped(
            &mut st.tx2.watches,
            PlugWatch {
                call: CallRef::of_call(ctx, call),
                evse,
                connector: ev.connector,
                due: plus(now, tol.followup_window_us),
            },
            MAX_WATCHES,
        );
    }

    // Connections seen: the observation did not start mid-life, past a request it missed.
    if st.connections_seen > 0 {
        unasked_remote_trigger(&st.tx2, ctx, ev);
    }
    remote_followups(&mut st.tx2, ctx, ev, tol.clock_skew_us);
}

/// RemoteStart / RemoteStop as the trigger of an event no request of the CSMS explains.
fn unasked_remote_trigger(s: &State, ctx: &mut Ctx<'_>, ev: &Event<'_>) {
    if ev.offline {
        return;
    }
    let unasked = match ev.trigger {
        "RemoteStart" => !s.remote_start_asked && s.starts_in_flight.is_empty(),
        "RemoteStop" => {
            let h = id_hash(ev.id);
            !s.remote_stop_asked.contains(&h) && !s.stops_in_flight.contains(&h)
        }
        _ => false,
    };
    if unasked {
        let request = if ev.trigger == "RemoteStart" {
            "no RequestStartTransaction was accepted".to_owned()
        } else {
            "no RequestStopTransaction for it was accepted".to_owned()
        };
        ctx.report(
            &TRIGGER_REASON_UNKNOWN_CONTEXT,
            format!(
                "TransactionEvent {} of transaction {} has triggerReason {}, but {request} in this observation",
                ev.seq, ev.id, ev.trigger
            ),
        );
    }
}

/// Checks of the event on its own.
fn check_content(ctx: &mut Ctx<'_>, ev: &Event<'_>, p: &Value) {
    let state = str_of(ev.info, "chargingState");
    if ev.trigger == "ChargingStateChanged" && state.is_none() {
        ctx.report_at(
            &CHARGING_STATE_TRIGGER_WITHOUT_STATE,
            "/transactionInfo".to_owned(),
            format!(
                "TransactionEvent {} of transaction {} has triggerReason ChargingStateChanged but no transactionInfo.chargingState",
                ev.seq, ev.id
            ),
        );
    }
    if ev.kind == EventType::Started && state.is_none() {
        ctx.report_at(
            &STARTED_WITHOUT_CHARGING_STATE,
            "/transactionInfo".to_owned(),
            format!(
                "Started of transaction {} has no transactionInfo.chargingState",
                ev.id
            ),
        );
    }
    if ev.kind == EventType::Ended
        && str_of(ev.info, "stoppedReason").is_none()
        && NON_DRIVER_STOPS.contains(&ev.trigger)
    {
        ctx.report_at(
            &STOPPED_REASON_MISSING,
            "/transactionInfo".to_owned(),
            format!(
                "Ended of transaction {} has triggerReason {} but no stoppedReason; absent means Local, a stop by the driver",
                ev.id, ev.trigger
            ),
        );
    }
    if ev.kind == EventType::Ended
        && matches!(ev.trigger, "RemoteStop" | "ResetCommand")
        && p.get("idToken").is_some()
    {
        ctx.report_at(
            &IDTOKEN_ON_REMOTE_OR_RESET_STOP,
            "/idToken".to_owned(),
            format!(
                "Ended of transaction {} with triggerReason {} carries an idToken; no token is presented for a remote or reset stop",
                ev.id, ev.trigger
            ),
        );
    }
    let allowed: &[&str] = match ev.kind {
        EventType::Started => &["Transaction.Begin"],
        EventType::Ended => &["Transaction.End", "Sample.Periodic", "Sample.Clock"],
        EventType::Updated => return,
    };
    for (i, mv) in arr_of(p, "meterValue").iter().enumerate() {
        for (j, sv) in arr_of(mv, "sampledValue").iter().enumerate() {
            if let Some(c) = str_of(sv, "context")
                && !allowed.contains(&c)
            {
                ctx.report_at(
                    &METER_CONTEXT_MISMATCH,
                    format!("/meterValue/{i}/sampledValue/{j}/context"),
                    format!(
                        "sampled value with context {c} in the {} event of transaction {}; expected {}",
                        if ev.kind == EventType::Started { "Started" } else { "Ended" },
                        ev.id,
                        allowed.join(" or ")
                    ),
                );
                return;
            }
        }
    }
}

/// The offline flag against the connection's open time and the outage before it.
fn check_offline(s: &State, ctx: &mut Ctx<'_>, ev: &Event<'_>, skew: i64) {
    let (Some(ts), Some(open)) = (ev.ts, s.open_at) else {
        return;
    };
    if ev.offline {
        if ts > plus(open, skew) {
            ctx.report_at(
                &OFFLINE_FLAG_WHILE_ONLINE,
                "/offline".to_owned(),
                format!(
                    "TransactionEvent {} of transaction {} is flagged offline, but it is timestamped {ts}, {:.0} s after the connection opened ({open})",
                    ev.seq,
                    ev.id,
                    ts.secs_since(open)
                ),
            );
        }
    } else if let Some(closed) = s.outage_from
        && ts > plus(closed, skew)
        && ts < minus(open, skew)
    {
        ctx.report(
            &OFFLINE_FLAG_MISSING,
            format!(
                "TransactionEvent {} of transaction {} is timestamped {ts}, while the station was disconnected ({closed} to {open}), but has no offline: true",
                ev.seq, ev.id
            ),
        );
    }
}

/// A further event of a known transaction. Returns where the transaction is now kept, or
/// `None` when the event is not followed.
fn follow(s: &mut State, ctx: &mut Ctx<'_>, pos: usize, ev: &Event<'_>) -> Option<usize> {
    let boot_at = s.boot_at;
    let tx = &s.txs[pos];
    if tx.ended_acked() {
        if ev.kind == EventType::Started {
            ctx.report(
                &TRANSACTION_ID_REUSED,
                format!(
                    "Started for transaction {}, an id this station already used for a transaction that ended",
                    ev.id
                ),
            );
            let id = tx.id.clone();
            s.txs.remove(pos);
            s.remember_ended(&id);
            // Follow the new transaction from here.
            return Some(adopt_started(s, ctx, ev));
        }
        ctx.report(
            &EVENT_AFTER_ENDED,
            format!(
                "{:?} event (seqNo {}) for transaction {}, whose Ended (seqNo {}) was already acknowledged",
                ev.kind,
                ev.seq,
                ev.id,
                tx.ended.unwrap_or_default()
            ),
        );
        return None;
    }
    if ev.kind == EventType::Started && tx.started.is_some() {
        ctx.report(
            &DUPLICATE_STARTED,
            format!(
                "second Started for transaction {} (seqNo {}; its Started had seqNo {})",
                ev.id,
                ev.seq,
                tx.started.unwrap_or_default()
            ),
        );
    }
    let tx = &mut s.txs[pos];
    let mut new_seq = true;
    if let Some(last) = tx.last_seq {
        if ev.seq <= last {
            new_seq = false;
            ctx.report_at(
                &SEQNO_NOT_INCREASING,
                "/seqNo".to_owned(),
                format!(
                    "TransactionEvent of transaction {} has seqNo {}, not above the previous event's {last}",
                    ev.id, ev.seq
                ),
            );
        } else {
            if ev.seq > last.saturating_add(1) && !ev.offline {
                tx.gap_reported = true;
                ctx.report_at(
                    &SEQNO_GAP,
                    "/seqNo".to_owned(),
                    format!(
                        "TransactionEvent of transaction {} has seqNo {} after {last}; {} event(s) are missing and this one is not flagged offline",
                        ev.id,
                        ev.seq,
                        ev.seq - last - 1
                    ),
                );
            }
            if let (Some(ts), Some(prev)) = (ev.ts, tx.last_ts)
                && ts < prev
            {
                ctx.report(
                    &TIMESTAMP_DECREASING,
                    format!(
                        "TransactionEvent {} of transaction {} is timestamped {ts}, before the previous event of the transaction ({prev})",
                        ev.seq, ev.id
                    ),
                );
            }
        }
    }
    if new_seq {
        tx.last_seq = Some(ev.seq);
        tx.seen = tx.seen.saturating_add(1);
        if ev.ts.is_some() {
            tx.last_ts = ev.ts;
        }
    }
    if ev.kind == EventType::Started && tx.started.is_none() {
        tx.started = Some(ev.seq);
    }
    if let Some(evse) = ev.evse {
        match tx.evse {
            Some(old) if old != evse => {
                ctx.report(
                    &EVSE_CHANGED,
                    format!(
                        "TransactionEvent {} of transaction {} names EVSE {evse}; earlier events named EVSE {old}",
                        ev.seq, ev.id
                    ),
                );
            }
            Some(_) => {}
            None => {
                check_evse_free(s, ctx, ev.id, evse, boot_at);
                s.txs[pos].evse = Some(evse);
            }
        }
        let tx = &mut s.txs[pos];
        if let Some(c) = ev.connector {
            match tx.connector {
                Some(old) if old != c && tx.evse == Some(evse) => ctx.report(
                    &EVSE_CHANGED,
                    format!(
                        "TransactionEvent {} of transaction {} names connector {c} of EVSE {evse}; earlier events named connector {old}",
                        ev.seq, ev.id
                    ),
                ),
                _ => tx.connector = Some(c),
            }
        }
    }
    Some(pos)
}

/// The first event of a transaction the trace has not followed yet.
fn adopt(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    ev: &Event<'_>,
    now: Timestamp,
    skew: i64,
) -> Option<usize> {
    if s.ended_before(ev.id) {
        if ev.kind == EventType::Started {
            ctx.report(
                &TRANSACTION_ID_REUSED,
                format!(
                    "Started for transaction {}, an id this station already used for a transaction that ended",
                    ev.id
                ),
            );
        } else {
            ctx.report(
                &EVENT_AFTER_ENDED,
                format!(
                    "{:?} event (seqNo {}) for transaction {}, which already ended",
                    ev.kind, ev.seq, ev.id
                ),
            );
            return None;
        }
    }
    if ev.kind == EventType::Started {
        return Some(adopt_started(s, ctx, ev));
    }
    // Not Started: was it ever seen starting, or may it predate the trace?
    let interrupted = ev.kind == EventType::Ended
        && (matches!(
            str_of(ev.info, "stoppedReason"),
            Some("PowerLoss" | "Reboot" | "ImmediateReset")
        ) || matches!(ev.trigger, "ResetCommand" | "AbnormalCondition"));
    let known_since_boot = s
        .boot_at
        .is_some_and(|b| ev.ts.is_none_or(|t| t >= minus(b, skew)));
    let severity = if known_since_boot && !interrupted {
        Severity::Error
    } else {
        Severity::Info
    };
    let why = if severity == Severity::Error {
        "; the station's boot was seen, so its Started should have been too"
    } else {
        " (it may have started before the trace)"
    };
    ctx.report_as(
        &FIRST_EVENT_NOT_STARTED,
        severity,
        format!(
            "first TransactionEvent seen for transaction {} is {:?} (seqNo {}), not Started{why}",
            ev.id, ev.kind, ev.seq
        ),
    );
    if let Some(evse) = ev.evse {
        let boot_at = s.boot_at;
        check_evse_free(s, ctx, ev.id, evse, boot_at);
    }
    Some(s.add_tx(Tx {
        id: Box::from(ev.id),
        evse: ev.evse,
        connector: ev.connector,
        started: None,
        last_seq: Some(ev.seq),
        last_ts: ev.ts,
        last_at: now,
        seen: 1,
        gap_reported: false,
        ended: None,
        sent: Vec::new(),
        charged: false,
        phases_reported: false,
    }))
}

/// Starts following a transaction at its Started; returns where it is kept.
fn adopt_started(s: &mut State, ctx: &mut Ctx<'_>, ev: &Event<'_>) -> usize {
    if ev.seq != 0 {
        ctx.report_at(
            &SEQNO_NOT_RESET,
            "/seqNo".to_owned(),
            format!(
                "Started of transaction {} has seqNo {}; starting each transaction at 0 is recommended",
                ev.id, ev.seq
            ),
        );
    }
    if let Some(evse) = ev.evse {
        let boot_at = s.boot_at;
        check_evse_free(s, ctx, ev.id, evse, boot_at);
    }
    s.add_tx(Tx {
        id: Box::from(ev.id),
        evse: ev.evse,
        connector: ev.connector,
        started: Some(ev.seq),
        last_seq: Some(ev.seq),
        last_ts: ev.ts,
        last_at: ctx.now(),
        seen: 1,
        gap_reported: false,
        ended: None,
        sent: Vec::new(),
        charged: false,
        phases_reported: false,
    })
}

/// Reports another transaction still open on `evse`.
fn check_evse_free(s: &State, ctx: &mut Ctx<'_>, id: &str, evse: i64, boot_at: Option<Timestamp>) {
    let Some(other) = s
        .txs
        .iter()
        .rev()
        .find(|t| &*t.id != id && t.is_open() && t.evse == Some(evse))
    else {
        return;
    };
    let stale = other.started.is_none() || boot_at.is_some_and(|b| other.last_at < b);
    let msg = format!(
        "transaction {id} runs on EVSE {evse}, where transaction {} has not ended{}",
        other.id,
        if stale {
            " (that one was adopted mid-life or last heard of before the latest boot: its Ended may have been lost)"
        } else {
            ""
        }
    );
    if stale {
        ctx.report_as(&SECOND_TRANSACTION_ON_EVSE, Severity::Warning, msg);
    } else {
        ctx.report(&SECOND_TRANSACTION_ON_EVSE, msg);
    }
}

/// Matches the event with accepted RequestStartTransaction / RequestStopTransaction.
fn remote_followups(s: &mut State, ctx: &mut Ctx<'_>, ev: &Event<'_>, skew: i64) {
    let rsid = int_of(ev.info, "remoteStartId");
    if let Some(r) = rsid
        && !s.remote_start_ids_seen.iter().any(|(x, _)| *x == r)
    {
        push_capped(&mut s.remote_start_ids_seen, (r, ctx.now()), MAX_REMOTE);
    }
    if !s.remote_starts.is_empty() {
        if let Some(r) = rsid {
            s.remote_starts.retain(|x| x.remote_start_id != r);
        }
        // The transaction the answer named must carry the remoteStartId in its next event.
        if let Some(i) = s
            .remote_starts
            .iter()
            .position(|x| x.tx.as_deref() == Some(ev.id))
        {
            let r = s.remote_starts.remove(i);
            ctx.report(
                &REMOTE_START_ID_MISSING,
                format!(
                    "RequestStartTransaction of line {} (remoteStartId {}) was answered with transaction {}, whose next event carries {}",
                    r.call.line,
                    r.remote_start_id,
                    ev.id,
                    rsid.map_or("no remoteStartId".to_owned(), |x| format!("remoteStartId {x}"))
                ),
            );
        } else if ev.trigger == "RemoteStart" && rsid.is_none() {
            let r = s.remote_starts.remove(0);
            ctx.report(
                &REMOTE_START_ID_MISSING,
                format!(
                    "TransactionEvent of transaction {} has triggerReason RemoteStart but no remoteStartId (the RequestStartTransaction of line {} had remoteStartId {})",
                    ev.id, r.call.line, r.remote_start_id
                ),
            );
        }
    }
    let Some(i) = s.remote_stops.iter().position(|r| &*r.tx == ev.id) else {
        return;
    };
    let remote = ev.trigger == "RemoteStop";
    if ev.kind != EventType::Ended {
        if remote {
            s.remote_stops.remove(i);
        }
        return;
    }
    let r = s.remote_stops.remove(i);
    let before = ev.ts.is_some_and(|t| t < minus(r.call.at, skew));
    let reason = str_of(ev.info, "stoppedReason");
    if !before && (!remote || reason != Some("Remote")) {
        ctx.report(
            &REMOTE_STOP_WRONG_REASON,
            format!(
                "transaction {} ended after its RequestStopTransaction (line {}) was accepted, with triggerReason {} and stoppedReason {}; expected RemoteStop and Remote",
                ev.id,
                r.call.line,
                ev.trigger,
                reason.unwrap_or("absent (Local)")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::dm::tests::{frame, run};
    use super::*;

    const BOOT: &str = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
    const BOOT_OK: &str =
        r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;

    /// `HH:MM:SS` of 2026-11-22 at `secs` after 10:00:00.
    fn clock(secs: u32) -> String {
        format!("10:{:02}:{:02}", secs / 60, secs % 60)
    }

    fn open(secs: u32) -> String {
        format!(
            "{{\"ts\":\"2026-11-22T{}.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp2.0.1\"}}\n",
            clock(secs)
        )
    }

    fn close(secs: u32) -> String {
        format!(
            "{{\"ts\":\"2026-11-22T{}.000Z\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1006,\"by\":\"charger\"}}\n",
            clock(secs)
        )
    }

    /// A TransactionEvent CALL with id `id`, event time `at` (seconds after 10:00:00).
    fn te(id: &str, kind: &str, seq: u32, at: u32, extra: &str) -> String {
        format!(
            r#"[2,"{id}","TransactionEvent",{{"eventType":"{kind}","timestamp":"2026-11-22T{}Z","triggerReason":"MeterValuePeriodic","seqNo":{seq},"transactionInfo":{{"transactionId":"T1","chargingState":"Charging"}},"numberOfPhasesUsed":3,"evse":{{"id":1,"connectorId":1}}{extra}}}]"#,
            clock(at)
        )
    }

    fn ok(id: &str) -> String {
        format!(r#"[3,"{id}",{{}}]"#)
    }

    fn err(id: &str) -> String {
        format!(r#"[4,"{id}","InternalError","",{{}}]"#)
    }

    /// Builds a trace from (time, from, text) frames and raw event lines.
    enum L {
        F(u32, &'static str, String),
        Raw(String),
    }

    fn build(lines: Vec<L>) -> String {
        lines
            .into_iter()
            .map(|l| match l {
                L::F(t, from, text) => frame(t, from, &text),
                L::Raw(s) => s,
            })
            .collect()
    }

    fn ids(found: &[(&'static str, Severity, u64)]) -> Vec<&'static str> {
        found.iter().map(|f| f.0).collect()
    }

    #[test]
    fn a_retransmission_after_a_callerror_is_not_a_second_event() {
        let t = |last: String| {
            build(vec![
                L::Raw(open(0)),
                L::F(1, "charger", te("a", "Started", 0, 1, "")),
                L::F(2, "csms", ok("a")),
                L::F(3, "charger", te("b", "Updated", 1, 3, "")),
                L::F(4, "csms", last),
                L::F(10, "charger", te("c", "Updated", 1, 3, "")),
                L::F(11, "csms", ok("c")),
            ])
        };
        let found = run(&t(err("b")));
        assert!(found.is_empty(), "{found:?}");
        // The same seqNo again after a CALLRESULT is a second event with that number.
        let found = run(&t(ok("b")));
        assert_eq!(ids(&found), vec!["tx2.seqno-not-increasing"]);
        assert_eq!(found[0].2, 6);
    }

    #[test]
    fn an_unanswered_event_is_resent_after_a_reconnect_and_the_transaction_goes_on() {
        let trace = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", BOOT.to_owned()),
            L::F(2, "csms", BOOT_OK.to_owned()),
            L::F(3, "charger", te("a", "Started", 0, 3, "")),
            L::F(4, "csms", ok("a")),
            L::F(5, "charger", te("b", "Updated", 1, 5, "")),
            // no answer: the connection drops, and comes back 20 s later
            L::Raw(close(6)),
            L::Raw(open(26)),
            L::F(27, "charger", te("b2", "Updated", 1, 5, "")),
            L::F(28, "csms", ok("b2")),
            L::F(40, "charger", te("c", "Ended", 2, 40, "")),
            L::F(41, "csms", ok("c")),
        ]);
        let found = run(&trace);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn an_offline_queue_is_flushed_in_order_with_the_flag() {
        let events = |flag: &str, seqs: [u32; 3]| {
            build(vec![
                L::Raw(open(0)),
                L::F(1, "charger", te("a", "Started", 0, 1, "")),
                L::F(2, "csms", ok("a")),
                L::Raw(close(10)),
                // offline from 10:00:10 to 10:10:00; events queued at 10:04, 10:05, 10:06
                L::Raw(open(600)),
                L::F(601, "charger", te("b", "Updated", seqs[0], 240, flag)),
                L::F(602, "csms", ok("b")),
                L::F(603, "charger", te("c", "Updated", seqs[1], 300, flag)),
                L::F(604, "csms", ok("c")),
                L::F(605, "charger", te("d", "Ended", seqs[2], 360, flag)),
                L::F(606, "csms", ok("d")),
            ])
        };
        let found = run(&events(r#","offline":true"#, [1, 2, 3]));
        assert!(found.is_empty(), "{found:?}");
        let found = run(&events("", [1, 2, 3]));
        assert_eq!(
            ids(&found),
            vec![
                "tx2.offline-flag-missing",
                "tx2.offline-flag-missing",
                "tx2.offline-flag-missing"
            ]
        );
        // Queued events delivered out of order.
        let found = run(&events(r#","offline":true"#, [2, 1, 3]));
        assert!(
            ids(&found).contains(&"tx2.seqno-not-increasing"),
            "{found:?}"
        );
    }

    #[test]
    fn a_transaction_that_may_predate_the_trace_is_info_only() {
        let mid_life = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Updated", 7, 1, "")),
            L::F(2, "csms", ok("a")),
            L::F(3, "charger", te("b", "Ended", 8, 3, "")),
            L::F(4, "csms", ok("b")),
        ]);
        let found = run(&mid_life);
        assert_eq!(
            found,
            vec![("tx2.first-event-not-started", Severity::Info, 2)]
        );
        // After a boot the trace saw: its Started should have been seen.
        let after_boot = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", BOOT.to_owned()),
            L::F(2, "csms", BOOT_OK.to_owned()),
            L::F(3, "charger", te("a", "Updated", 7, 3, "")),
            L::F(4, "csms", ok("a")),
        ]);
        assert_eq!(
            run(&after_boot),
            vec![("tx2.first-event-not-started", Severity::Error, 4)]
        );
        // ... unless it is the Ended of a transaction the reboot interrupted.
        let interrupted = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", BOOT.to_owned()),
            L::F(2, "csms", BOOT_OK.to_owned()),
            L::F(
                3,
                "charger",
                te("a", "Ended", 7, 3, "").replace(
                    r#""chargingState":"Charging""#,
                    r#""chargingState":"Idle","stoppedReason":"PowerLoss""#,
                ),
            ),
            L::F(4, "csms", ok("a")),
        ]);
        assert_eq!(
            run(&interrupted),
            vec![("tx2.first-event-not-started", Severity::Info, 4)]
        );
    }

    #[test]
    fn an_adopted_transaction_on_the_evse_makes_a_second_one_a_warning() {
        let trace = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Updated", 7, 1, "")),
            L::F(2, "csms", ok("a")),
            L::F(
                3,
                "charger",
                te("b", "Started", 0, 3, "").replace(r#""T1""#, r#""T2""#),
            ),
            L::F(4, "csms", ok("b")),
        ]);
        assert_eq!(
            run(&trace),
            vec![
                ("tx2.first-event-not-started", Severity::Info, 2),
                ("tx2.second-transaction-on-evse", Severity::Warning, 4)
            ]
        );
    }

    fn remote(request: &str, answer: &str, then: Vec<L>) -> String {
        let mut lines = vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Started", 0, 1, "")),
            L::F(2, "csms", ok("a")),
            L::F(3, "csms", request.to_owned()),
            L::F(4, "charger", answer.to_owned()),
        ];
        lines.extend(then);
        build(lines)
    }

    #[test]
    fn remote_start_and_stop_wait_for_their_followup_window() {
        let start = r#"[2,"r","RequestStartTransaction",{"idToken":{"idToken":"A","type":"ISO14443"},"remoteStartId":9}]"#;
        let accepted = r#"[3,"r",{"status":"Accepted"}]"#;
        let hb = |t: u32| {
            vec![
                L::F(t, "charger", r#"[2,"h","Heartbeat",{}]"#.to_owned()),
                L::F(
                    t + 1,
                    "csms",
                    format!(r#"[3,"h",{{"currentTime":"2026-11-22T{}Z"}}]"#, clock(t)),
                ),
            ]
        };
        // Past the window: reported at the request.
        let found = run(&remote(start, accepted, hb(90)));
        assert_eq!(
            found,
            vec![("remote.start-not-followed", Severity::Warning, 4)]
        );
        // The trace ends inside the window: nothing can be concluded.
        assert!(run(&remote(start, accepted, hb(20))).is_empty());
        // Rejected: nothing is expected.
        let rejected = r#"[3,"r",{"status":"Rejected"}]"#;
        assert!(run(&remote(start, rejected, hb(90))).is_empty());

        let stop = r#"[2,"s","RequestStopTransaction",{"transactionId":"T1"}]"#;
        let stop_ok = r#"[3,"s",{"status":"Accepted"}]"#;
        assert_eq!(
            run(&remote(stop, stop_ok, hb(90))),
            vec![("remote.stop-not-followed", Severity::Warning, 4)]
        );
        let mut ended = vec![L::F(
            10,
            "charger",
            te("e", "Ended", 1, 10, "")
                .replace("MeterValuePeriodic", "RemoteStop")
                .replace(
                    r#""chargingState":"Charging""#,
                    r#""chargingState":"Idle","stoppedReason":"Remote""#,
                ),
        )];
        ended.push(L::F(11, "csms", ok("e")));
        ended.extend(hb(90));
        assert!(run(&remote(stop, stop_ok, ended)).is_empty());
    }

    #[test]
    fn a_remote_stop_accepted_for_a_transaction_not_running_is_reported_on_2x() {
        let stop = r#"[2,"s","RequestStopTransaction",{"transactionId":"T1"}]"#;
        let accepted = r#"[3,"s",{"status":"Accepted"}]"#;
        // Ended and acknowledged before the request: an error.
        let trace = build(vec![
            L::Raw(open(0)),
            L::F(1, "charger", te("a", "Started", 0, 1, "")),
            L::F(2, "csms", ok("a")),
            L::F(3, "charger", te("b", "Ended", 1, 3, "")),
            L::F(4, "csms", ok("b")),
            L::F(5, "csms", stop.to_owned()),
            L::F(6, "charger", accepted.to_owned()),
        ]);
        assert_eq!(
            run(&trace),
            vec![("remote.stop-unknown-tx-accepted", Severity::Error, 7)]
        );
        // Never seen although the boot was: a warning. Without the boot: silent.
        let unknown = |boot: bool| {
            let mut lines = vec![L::Raw(open(0))];
            if boot {
                lines.push(L::F(1, "charger", BOOT.to_owned()));
                lines.push(L::F(2, "csms", BOOT_OK.to_owned()));
            }
            lines.push(L::F(5, "csms", stop.to_owned()));
            lines.push(L::F(6, "charger", accepted.to_owned()));
            build(lines)
        };
        assert_eq!(
            run(&unknown(true)),
            vec![("remote.stop-unknown-tx-accepted", Severity::Warning, 5)]
        );
        assert!(run(&unknown(false)).is_empty());
    }

    #[test]
    fn a_plug_in_is_satisfied_by_a_notify_event_and_offline_events_are_not_watched() {
        let available = r#"[2,"s","StatusNotification",{"timestamp":"2026-11-22T10:00:01Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#;
        let plugged = te("a", "Started", 0, 3, "").replace("MeterValuePeriodic", "CablePluggedIn");
        let occupied = r#"[2,"n","NotifyEvent",{"generatedAt":"2026-11-22T10:00:05Z","seqNo":0,"eventData":[{"eventId":1,"timestamp":"2026-11-22T10:00:05Z","trigger":"Delta","actualValue":"Occupied","component":{"name":"Connector","evse":{"id":1,"connectorId":1}},"variable":{"name":"AvailabilityState"},"eventNotificationType":"HardWiredNotification"}]}]"#;
        let hb = r#"[2,"h","Heartbeat",{}]"#;
        let hb_ok = r#"[3,"h",{"currentTime":"2026-11-22T10:01:30Z"}]"#;
        let trace = |event: String, then: Option<&str>| {
            let mut lines = vec![
                L::Raw(open(0)),
                L::F(1, "charger", available.to_owned()),
                L::F(2, "csms", ok("s")),
                L::F(3, "charger", event),
                L::F(4, "csms", ok("a")),
            ];
            if let Some(t) = then {
                lines.push(L::F(5, "charger", t.to_owned()));
                lines.push(L::F(6, "csms", ok("n")));
            }
            lines.push(L::F(90, "charger", hb.to_owned()));
            lines.push(L::F(91, "csms", hb_ok.to_owned()));
            build(lines)
        };
        assert_eq!(
            run(&trace(plugged.clone(), None)),
            vec![("tx2.status-not-occupied-on-plug", Severity::Warning, 4)]
        );
        assert!(run(&trace(plugged.clone(), Some(occupied))).is_empty());
        // An offline event (queued before the reconnect) is not judged against the fresh
        // statuses; it is flagged offline-while-online only if stamped after the open.
        let offline = plugged
            .replace("10:00:03", "09:59:00")
            .replace(r#""evse""#, r#""offline":true,"evse""#);
        assert!(run(&trace(offline, None)).is_empty());
    }

    #[test]
    fn ended_transactions_are_kept_within_bounds() {
        let mut s = State::default();
        for i in 0..(MAX_TXS * 3) {
            let id: Box<str> = Box::from(format!("T{i}").as_str());
            s.add_tx(Tx {
                id,
                evse: Some(1),
                connector: None,
                started: Some(0),
                last_seq: Some(1),
                last_ts: None,
                last_at: Timestamp::from_secs(0),
                seen: 2,
                gap_reported: false,
                ended: Some(1),
                sent: Vec::new(),
                charged: false,
                phases_reported: false,
            });
        }
        assert_eq!(s.txs.len(), MAX_TXS);
        // The forgotten ones are still known as ended, for the reuse rules.
        assert_eq!(s.ended_ids.len(), MAX_TXS * 2);
        assert!(s.ended_before("T0"));
        assert!(!s.ended_before("T-unknown"));
        for i in 0..MAX_ENDED_IDS * 2 {
            s.remember_ended(&format!("X{i}"));
        }
        assert_eq!(s.ended_ids.len(), MAX_ENDED_IDS);
    }
}
