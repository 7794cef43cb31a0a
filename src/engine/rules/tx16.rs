//! `tx16.*` and the 1.6 part of `remote.*`: OCPP 1.6 transactions, meter values and the
//! remote start / stop that lead to them.
//!
//! ```text
//! StartTransaction ──CALLRESULT {transactionId}──► open ──StopTransaction──► stop sent
//!     │  (no answer: start-not-answered)             │  MeterValues             │ CALLRESULT
//!     └─ connector busy? reservation used?           │  (connector, order,      ▼
//!                                                    │   registers, samples)   stop acknowledged
//!                                                    └─ RemoteStopTransaction Accepted:
//!                                                       StopTransaction reason Remote expected
//! RemoteStartTransaction Accepted ──► StartTransaction with the idTag (or Preparing, or a
//!                                     refused Authorize) within followup_window
//! ```
//!
//! The CSMS assigns the transaction id in its StartTransaction answer, so a transaction is
//! open from that answer on. A transaction the trace never saw start (it started before the
//! trace, or its StartTransaction was never answered) is adopted at its first MeterValues or
//! StopTransaction: reported once, at most as a warning, then followed like the others.

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use serde_json::Value;

use super::dm::{self, CallRef, arr_of, int_of, push_capped, status_of, str_of};
use super::rpc::rule;
use super::{ALL, Rule, V16};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, ProtoState, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &START_CONNECTOR_ZERO,
    &START_ON_BUSY_CONNECTOR,
    &TRANSACTION_ID_REUSED,
    &TRANSACTION_ID_NONPOSITIVE,
    &START_NOT_ANSWERED,
    &METER_VALUES_UNKNOWN_TX,
    &METER_VALUES_WRONG_CONNECTOR,
    &METER_VALUES_MAIN_METER_WITH_TX,
    &METER_VALUES_AFTER_STOP,
    &STOP_UNKNOWN_TX,
    &STOP_TWICE,
    &METER_STOP_BELOW_START,
    &STOP_BEFORE_START,
    &TX_MESSAGES_OUT_OF_ORDER,
    &MINUS_ONE_TRANSACTION_ID,
    &MINUS_ONE_REJECTED,
    &STOP_REASON_NOT_REMOTE,
    &STOP_REASON_NOT_DEAUTHORIZED,
    &STOP_REASON_MISSING,
    &RESERVATION_ID_MISSING,
    &SAMPLED_VALUE_NOT_NUMERIC,
    &REGISTER_DECREASING,
    &CONTEXT_MISMATCH,
    &SAMPLE_INTERVAL_MISMATCH,
    &IDTAG_MISSING_ON_STOP,
    &REMOTE_START_CONNECTOR_ZERO,
    &REMOTE_PROFILE_NOT_TXPROFILE,
    &REMOTE_PROFILE_HAS_TRANSACTION_ID,
    &REMOTE_START_NOT_FOLLOWED,
    &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
    &REMOTE_STOP_NOT_FOLLOWED,
];

// ---------------------------------------------------------------------------------------
// Rules: starting a transaction.

rule!(
    START_CONNECTOR_ZERO,
    "tx16.start-connector-zero",
    Error,
    None,
    V16,
    Charger,
    "StartTransaction for connectorId 0 or below",
    "OCPP 1.6 §6.45",
    "What it checks: a StartTransaction whose `connectorId` is 0 or negative.\n\n\
Why it matters: a transaction runs on one physical connector, numbered from 1; connector 0 \
is the charge point as a whole and cannot carry a session.\n\n\
Example:\n  StartTransaction {connectorId:0, idTag:\"TAG-1\", meterStart:0, timestamp:...}"
);

rule!(
    START_ON_BUSY_CONNECTOR,
    "tx16.start-on-busy-connector",
    Warning,
    None,
    V16,
    Charger,
    "StartTransaction on a connector whose previous transaction was never stopped",
    "OCPP 1.6 §3.6, §4.8",
    "What it checks: a StartTransaction for a connector on which a transaction is open: its \
StartTransaction was answered with a transaction id, or it was seen in MeterValues, and no \
StopTransaction for it was sent. An identical resend of the StartTransaction that opened it \
is not reported. A warning: a stop the trace missed cannot be ruled out.\n\n\
Why it matters: a connector carries one transaction at a time; the earlier one stays open \
at the CSMS for ever, and its energy is never billed.\n\n\
Example:\n  StartTransaction {connectorId:1, ...} -> {transactionId:7}, then StartTransaction \
{connectorId:1, ...} without a StopTransaction for 7"
);

rule!(
    TRANSACTION_ID_REUSED,
    "tx16.transaction-id-reused",
    Warning,
    None,
    V16,
    Csms,
    "StartTransaction answered with a transactionId already used for this charger",
    "OCPP 1.6 errata 3.54 (§6.46)",
    "What it checks: a StartTransaction.conf whose `transactionId` is the id of a transaction \
of this charger that is still open, or that was used before in the trace. Answering an \
identical resend of the same StartTransaction with the same id is not reported.\n\n\
Why it matters: the id is the only key that ties MeterValues and StopTransaction to a \
transaction; errata 3.54 recommends unique ids, and a reused id mixes two sessions' meter \
data and bills.\n\n\
Example:\n  StartTransaction -> {transactionId:7}, ... StopTransaction 7, then a new \
StartTransaction -> {transactionId:7}"
);

rule!(
    TRANSACTION_ID_NONPOSITIVE,
    "tx16.transaction-id-nonpositive",
    Info,
    None,
    V16,
    Csms,
    "StartTransaction answered with a transactionId of 0 or below",
    "OCPP 1.6 errata 3.54, 3.18",
    "What it checks: a StartTransaction.conf whose `transactionId` is 0 or negative.\n\n\
Why it matters: the id is legal, but errata 3.54 recommends positive ids, and `-1` has a \
meaning of its own: chargers use it for a transaction whose StartTransaction never got \
through (errata 3.18), so a CSMS-issued -1 is ambiguous.\n\n\
Example:\n  StartTransaction -> {idTagInfo:{status:\"Accepted\"}, transactionId:0}"
);

rule!(
    START_NOT_ANSWERED,
    "tx16.start-not-answered",
    Warning,
    None,
    V16,
    Csms,
    "StartTransaction not answered with a CALLRESULT within the call timeout",
    "OCPP 1.6 §4.8, §3.7.1",
    "What it checks: a StartTransaction that gets no CALLRESULT within `call_timeout` \
(default 30 s; reported at the StartTransaction line), or that is answered with a \
CALLERROR (reported at the error). A connection that closes before the timeout is not \
reported.\n\n\
Why it matters: the CSMS should answer every StartTransaction, even one that fails its own \
checks, because the charger can only learn the transaction id from that answer; without it \
the charger retries, and its later messages carry transactionId -1.\n\n\
Example:\n  StartTransaction {connectorId:1, ...} -> CALLERROR InternalError"
);

// ---------------------------------------------------------------------------------------
// Rules: meter values.

rule!(
    METER_VALUES_UNKNOWN_TX,
    "tx16.meter-values-unknown-tx",
    Warning,
    None,
    V16,
    Charger,
    "MeterValues for a transactionId that is not open on this charger",
    "OCPP 1.6 §4.7; errata 3.16",
    "What it checks: a MeterValues with a `transactionId` (other than -1) that no \
StartTransaction answer in the trace issued. Reported once per id. A warning when the \
station's BootNotification was seen in the trace and the samples are timestamped after it \
(within `clock_skew`): its transactions since are known. Info otherwise, since the \
transaction may have started before the trace or before that boot (queued values of an \
interrupted transaction).\n\n\
Why it matters: meter values must name a transaction the CSMS issued; values for an unknown \
id cannot be booked.\n\n\
Example:\n  MeterValues {connectorId:1, transactionId:99, ...} after a boot, without a \
StartTransaction answered with 99"
);

rule!(
    METER_VALUES_WRONG_CONNECTOR,
    "tx16.meter-values-wrong-connector",
    Warning,
    None,
    V16,
    Charger,
    "MeterValues for a transaction that runs on another connector",
    "OCPP 1.6 §4.7; errata 3.16",
    "What it checks: a MeterValues whose `transactionId` is open on a connector other than \
the message's `connectorId` (connectorId 0, the main meter, is left to \
tx16.meter-values-main-meter-with-tx).\n\n\
Why it matters: the connector and the transaction must agree; a CSMS that trusts either one \
attributes the energy to the wrong session.\n\n\
Example:\n  StartTransaction {connectorId:1} -> {transactionId:7}, then MeterValues \
{connectorId:2, transactionId:7, ...}"
);

rule!(
    METER_VALUES_MAIN_METER_WITH_TX,
    "tx16.meter-values-main-meter-with-tx",
    Info,
    None,
    V16,
    Charger,
    "MeterValues for connectorId 0 carries a transactionId",
    "OCPP 1.6 errata 3.16",
    "What it checks: a MeterValues for connectorId 0 (the main meter of the charge point) \
that carries a `transactionId`.\n\n\
Why it matters: errata 3.16 recommends leaving the transaction out of main-meter values, \
which measure the whole charge point and not one session.\n\n\
Example:\n  MeterValues {connectorId:0, transactionId:7, meterValue:[...]}"
);

rule!(
    METER_VALUES_AFTER_STOP,
    "tx16.meter-values-after-stop",
    Warning,
    None,
    V16,
    Charger,
    "MeterValues for a stopped transaction, sampled after its stop",
    "OCPP 1.6 §3.7, §4.7",
    "What it checks: a MeterValues for a transaction whose StopTransaction was already \
acknowledged, with sample timestamps after the stop's `timestamp`. (Samples taken before the \
stop but delivered after it are an ordering fault: tx16.tx-messages-out-of-order.)\n\n\
Why it matters: after the stop no energy belongs to the transaction; values sampled later \
are attributed to a closed session.\n\n\
Example:\n  StopTransaction {transactionId:7, timestamp:\"10:30:00Z\"} -> {}, then MeterValues \
{transactionId:7, meterValue:[{timestamp:\"10:31:00Z\", ...}]}"
);

// ---------------------------------------------------------------------------------------
// Rules: stopping a transaction.

rule!(
    STOP_UNKNOWN_TX,
    "tx16.stop-unknown-tx",
    Warning,
    None,
    V16,
    Charger,
    "StopTransaction for a transactionId never issued to this charger",
    "OCPP 1.6 §6.49",
    "What it checks: a StopTransaction with a `transactionId` (other than -1) that no \
StartTransaction answer in the trace issued and no MeterValues mentioned. A warning when \
the station's BootNotification was seen in the trace and the stop is timestamped after it \
(within `clock_skew`); info otherwise (the transaction may predate the trace), and info too \
when the stop reason is PowerLoss, Reboot, HardReset or SoftReset (a transaction \
interrupted by a reboot may predate the boot).\n\n\
Why it matters: the CSMS cannot close a transaction it never opened; the stop and its meter \
reading are lost.\n\n\
Example:\n  (after BootNotification) StopTransaction {transactionId:99, reason:\"Local\", ...}"
);

rule!(
    STOP_TWICE,
    "tx16.stop-twice",
    Error,
    None,
    V16,
    Charger,
    "StopTransaction for a transaction whose stop was already acknowledged",
    "OCPP 1.6 §3.7.1, §4.10",
    "What it checks: a StopTransaction for a transaction whose earlier StopTransaction \
already received a CALLRESULT. A resend after a CALLERROR or a timeout is a legal retry; \
when the earlier CALLRESULT came only after the call timeout (the charger may have given up \
on it) the finding is a warning.\n\n\
Why it matters: a transaction ends once; a second stop may close it again with another \
meter reading and confuses billing.\n\n\
Example:\n  StopTransaction {transactionId:7} -> {}, then StopTransaction {transactionId:7}"
);

rule!(
    METER_STOP_BELOW_START,
    "tx16.meter-stop-below-start",
    Warning,
    None,
    V16,
    Charger,
    "StopTransaction meterStop is below the transaction's meterStart",
    "OCPP 1.6 §6.45, §6.49",
    "What it checks: a StopTransaction whose `meterStop` is smaller than the `meterStart` of \
the StartTransaction that opened the transaction.\n\n\
Why it matters: both are readings of the same energy register in Wh, which only counts up; \
a lower stop reading means a meter reset, a swapped meter or a wrong value, and a negative \
amount of energy to bill. A warning: the specification states no explicit requirement.\n\n\
Example:\n  StartTransaction {meterStart:15000} ... StopTransaction {meterStop:1200}"
);

rule!(
    STOP_BEFORE_START,
    "tx16.stop-before-start",
    Warning,
    None,
    V16,
    Charger,
    "StopTransaction timestamp earlier than the StartTransaction timestamp",
    "OCPP 1.6 §6.45, §6.49",
    "What it checks: a StopTransaction whose `timestamp` is earlier than the `timestamp` of \
the StartTransaction of the same transaction.\n\n\
Why it matters: a transaction cannot end before it began; the charger's clock jumped, or \
the two messages belong to different sessions.\n\n\
Example:\n  StartTransaction {timestamp:\"10:00:00Z\"} ... StopTransaction \
{timestamp:\"09:58:00Z\"}"
);

rule!(
    TX_MESSAGES_OUT_OF_ORDER,
    "tx16.tx-messages-out-of-order",
    Warning,
    None,
    V16,
    Charger,
    "Transaction-related messages of one transaction delivered with decreasing timestamps",
    "OCPP 1.6 §3.7",
    "What it checks: within one transaction, a MeterValues whose periodic or clock-aligned \
samples (context Sample.Periodic, the default, or Sample.Clock) are timestamped before the \
latest of the transaction's earlier delivered messages (its start, earlier samples), or a \
StopTransaction timestamped before the latest sample. Triggered samples may overtake the \
queue and are not compared; a stop before the start is tx16.stop-before-start.\n\n\
Why it matters: transaction-related messages are queued and must be delivered in the order \
they were created, also after an offline period; a CSMS that processes them in arrival \
order computes wrong energy curves and totals.\n\n\
Example:\n  MeterValues {transactionId:7, meterValue:[{timestamp:\"10:10:00Z\"...}]}, then \
MeterValues {transactionId:7, meterValue:[{timestamp:\"10:05:00Z\"...}]}"
);

rule!(
    MINUS_ONE_TRANSACTION_ID,
    "tx16.minus-one-transaction-id",
    Info,
    None,
    V16,
    Charger,
    "MeterValues or StopTransaction with transactionId -1",
    "OCPP 1.6 errata 3.18",
    "What it checks: a MeterValues or StopTransaction with `transactionId` -1.\n\n\
Why it matters: it is legal (a charger whose StartTransaction never got through uses -1, \
and the CSMS must accept it), but it means a transaction the CSMS does not know; worth a \
look at why the StartTransaction failed.\n\n\
Example:\n  StopTransaction {transactionId:-1, meterStop:1500, ...}"
);

rule!(
    MINUS_ONE_REJECTED,
    "tx16.minus-one-rejected",
    Error,
    None,
    V16,
    Csms,
    "CSMS answers a MeterValues or StopTransaction with transactionId -1 with a CALLERROR",
    "OCPP 1.6 errata 3.18",
    "What it checks: a MeterValues or StopTransaction with `transactionId` -1 answered with a \
CALLERROR.\n\n\
Why it matters: errata 3.18 makes -1 the id of a transaction whose start never got \
through and requires the CSMS to accept such messages; rejecting them makes the charger \
retry and then drop the transaction's data.\n\n\
Example:\n  StopTransaction {transactionId:-1, ...} -> CALLERROR PropertyConstraintViolation"
);

rule!(
    STOP_REASON_NOT_REMOTE,
    "tx16.stop-reason-not-remote",
    Warning,
    None,
    V16,
    Charger,
    "Transaction stopped after an accepted RemoteStopTransaction with a reason other than Remote",
    "OCPP 1.6 §4.10, §5.12, §7.36; OCTT TC_012",
    "What it checks: a StopTransaction for a transaction whose RemoteStopTransaction the \
charger accepted, with a `reason` other than Remote, or none (which means Local). A stop \
timestamped more than `clock_skew` before the RemoteStopTransaction was sent is not judged \
(it ended for its own reason first).\n\n\
Why it matters: the reason tells the CSMS and the driver who ended the session; Local after \
a remote stop suggests the charger did not act on the request.\n\n\
Example:\n  RemoteStopTransaction {transactionId:7} -> Accepted, then StopTransaction \
{transactionId:7, meterStop:...} (no reason)"
);

rule!(
    STOP_REASON_NOT_DEAUTHORIZED,
    "tx16.stop-reason-not-deauthorized",
    Warning,
    None,
    V16,
    Charger,
    "Transaction with a refused idTag not stopped with reason DeAuthorized",
    "OCPP 1.6 errata 3.17; §9.1 StopTransactionOnInvalidId",
    "What it checks: the StartTransaction.conf gave an `idTagInfo.status` other than \
Accepted, the charger's `StopTransactionOnInvalidId` is known to be true (GetConfiguration \
or an accepted ChangeConfiguration), and either the transaction's StopTransaction has a \
reason other than DeAuthorized, or no StopTransaction follows within `followup_window` \
(not judged when `MaxEnergyOnInvalidId` is known to be above 0: the charger may go on \
until that energy is used). Silent when the key is not known, and for a stop timestamped \
more than `clock_skew` before the answer came (a transaction completed offline could not be \
stopped for it).\n\n\
Why it matters: with that setting the charger must end a transaction the CSMS refused, and \
say so with the reason DeAuthorized.\n\n\
Example:\n  StartTransaction -> {idTagInfo:{status:\"Blocked\"}, transactionId:7}, then \
StopTransaction {transactionId:7, reason:\"Local\"}"
);

rule!(
    STOP_REASON_MISSING,
    "tx16.stop-reason-missing",
    Info,
    None,
    V16,
    Charger,
    "StopTransaction without reason although the context shows a non-local stop",
    "OCPP 1.6 §4.10, §6.49, §7.36",
    "What it checks: a StopTransaction without `reason` (which means Local) while the \
observed context shows another cause: a Reset the charger did not reject, for a \
transaction started before it (expected HardReset or SoftReset; until `followup_window` \
after the next BootNotification), or an \
UnlockConnector for the transaction's connector that was not refused, within \
`followup_window` (expected UnlockCommand). A stop after a remote stop is judged by \
tx16.stop-reason-not-remote; an EV-side unplug cannot be told from the traffic and is not \
judged.\n\n\
Why it matters: the reason is optional only for a local stop; a missing reason misreports \
why the session ended.\n\n\
Example:\n  Reset {type:\"Hard\"} -> Accepted, then StopTransaction {transactionId:7, ...} \
without reason"
);

rule!(
    RESERVATION_ID_MISSING,
    "tx16.reservation-id-missing",
    Error,
    None,
    V16,
    Charger,
    "StartTransaction that uses a reservation does not carry its reservationId",
    "OCPP 1.6 §4.8, §5.13",
    "What it checks: a StartTransaction without `reservationId` on a connector that has an \
accepted, unexpired, not cancelled reservation (or any connector, for a reservation of \
connector 0), for the same idTag (compared case-insensitively): an error. When only the \
parent idTag matches (the parent learnt from Authorize or StartTransaction answers), a \
warning. A reservation ends with its expiry, a CancelReservation the charger accepted, a \
Faulted or Unavailable status of its connector, or a transaction that used it.\n\n\
Why it matters: the reservationId tells the CSMS the reservation was used; without it the \
CSMS keeps the reservation open and may bill or report it as a no-show.\n\n\
Example:\n  ReserveNow {connectorId:1, idTag:\"TAG-1\", reservationId:5} -> Accepted, then \
StartTransaction {connectorId:1, idTag:\"TAG-1\", ...} without reservationId"
);

// ---------------------------------------------------------------------------------------
// Rules: sampled values.

rule!(
    SAMPLED_VALUE_NOT_NUMERIC,
    "tx16.sampled-value-not-numeric",
    Warning,
    None,
    V16,
    Charger,
    "Raw sampledValue value is not a decimal number",
    "OCPP 1.6 §7.43",
    "What it checks: a `sampledValue` in MeterValues or StopTransaction `transactionData` \
whose `format` is absent or Raw and whose `value` is not a decimal number (`-12.5`, `3e2` \
are; `12 kWh`, `1,5`, `NaN`, `\"\"` are not).\n\n\
Why it matters: a raw value is the reading as a number; anything else cannot be used, and \
SignedData is the format for non-numeric payloads.\n\n\
Example:\n  sampledValue:[{value:\"15.2 kWh\", measurand:\"Energy.Active.Import.Register\"}]"
);

rule!(
    REGISTER_DECREASING,
    "tx16.register-decreasing",
    Info,
    None,
    V16,
    Charger,
    "Energy.Active.Import.Register readings of a transaction decrease",
    "OCPP 1.6 §7.31",
    "What it checks: within one transaction, an Energy.Active.Import.Register sample (the \
default measurand) lower than the transaction's previous one with the same context, phase, \
location and unit, in timestamp order (a Transaction.Begin reading is not compared with a \
periodic one). Reported once per transaction.\n\n\
Why it matters: a register is cumulative and only counts up; a falling value means a meter \
reset or a mix-up of meters.\n\n\
Example:\n  MeterValues {transactionId:7, value:\"1500\"}, then {transactionId:7, value:\"1200\"}"
);

rule!(
    CONTEXT_MISMATCH,
    "tx16.context-mismatch",
    Info,
    None,
    V16,
    Charger,
    "Transaction.Begin sample well after the start, or Transaction.End sample well before the stop",
    "OCPP 1.6 §7.35; errata 4.25",
    "What it checks: a MeterValues or StopTransaction `transactionData` sample with context \
Transaction.Begin timestamped more than `followup_window` after the transaction's start, \
or with context Transaction.End timestamped more than `followup_window` before its stop.\n\n\
Why it matters: the reading context says when a value was taken; a Begin value from the \
middle of the session (or an End value from before its end) gives the CSMS wrong start or \
stop readings. Info: the window is a tolerance of this tool, not of the specification.\n\n\
Example:\n  StartTransaction {timestamp:\"10:00:00Z\"}, then MeterValues \
{sampledValue:[{context:\"Transaction.Begin\"}], timestamp:\"10:30:00Z\"}"
);

rule!(
    SAMPLE_INTERVAL_MISMATCH,
    "tx16.sample-interval-mismatch",
    Info,
    None,
    V16,
    Charger,
    "Periodic samples spaced unlike MeterValueSampleInterval",
    "OCPP 1.6 §3.16.1, §9.1 MeterValueSampleInterval",
    "What it checks: two consecutive Sample.Periodic samples of a transaction (the default \
context) whose spacing differs from the known `MeterValueSampleInterval` (GetConfiguration \
or an accepted ChangeConfiguration, when above 0) by more than half of it. Reported once per \
transaction; a change of the key restarts the comparison.\n\n\
Why it matters: the interval is the CSMS's choice of resolution; a charger that ignores it \
sends too much or too little data.\n\n\
Example:\n  MeterValueSampleInterval = 60, periodic samples at 10:00:00 and 10:05:00"
);

rule!(
    IDTAG_MISSING_ON_STOP,
    "tx16.idtag-missing-on-stop",
    Info,
    None,
    V16,
    Charger,
    "Local stop right after the transaction's idTag was presented, and no idTag in StopTransaction",
    "OCPP 1.6 §6.49",
    "What it checks: a StopTransaction without `idTag` and with reason Local (or none) for a \
transaction whose idTag (or an idTag with the same parent) was presented in an Authorize \
within `followup_window` before the stop.\n\n\
Why it matters: the idTag that stopped the transaction must be sent when it is known; the \
CSMS uses it to tell who ended the session.\n\n\
Example:\n  Authorize {idTag:\"TAG-1\"}, then StopTransaction {transactionId:7, ...} without \
idTag"
);

// ---------------------------------------------------------------------------------------
// Rules: remote start and stop, 1.6. The catalogue gives profile-not-txprofile,
// profile-has-transaction-id, start-not-followed, stop-unknown-tx-accepted and
// stop-not-followed to all versions; only the 1.6 checks are here, so they are registered
// for 1.6. A 2.x check of the same fault should reuse these statics (and widen `versions`)
// rather than register the id a second time: start-not-followed and stop-not-followed are
// widened so (as is stop-unknown-tx-accepted), their 2.x checks live in tx2.rs.

rule!(
    REMOTE_START_CONNECTOR_ZERO,
    "remote.start-connector-zero",
    Error,
    None,
    V16,
    Csms,
    "RemoteStartTransaction for connectorId 0 or below",
    "OCPP 1.6 §6.33",
    "What it checks: a RemoteStartTransaction with a `connectorId` that is present and 0 or \
negative.\n\n\
Why it matters: the connectorId, when given, names the connector to start on and must be \
above 0; to let the charger choose, leave it out.\n\n\
Example:\n  RemoteStartTransaction {connectorId:0, idTag:\"TAG-1\"}"
);

rule!(
    REMOTE_PROFILE_NOT_TXPROFILE,
    "remote.profile-not-txprofile",
    Error,
    None,
    V16,
    Csms,
    "Charging profile of a remote start has a purpose other than TxProfile",
    "OCPP 1.6 §5.11, §5.16.2, §6.33",
    "What it checks: a RemoteStartTransaction (1.6) whose `chargingProfile` has a \
`chargingProfilePurpose` other than TxProfile.\n\n\
Why it matters: the profile sent with a remote start applies to the transaction it starts; \
only a TxProfile can, and the charger rejects (or misapplies) any other.\n\n\
Example:\n  RemoteStartTransaction {idTag:\"TAG-1\", chargingProfile:{chargingProfilePurpose:\
\"TxDefaultProfile\", ...}}"
);

rule!(
    REMOTE_PROFILE_HAS_TRANSACTION_ID,
    "remote.profile-has-transaction-id",
    Error,
    None,
    V16,
    Csms,
    "Charging profile of a remote start carries a transactionId",
    "OCPP 1.6 errata 3.41",
    "What it checks: a RemoteStartTransaction (1.6) whose `chargingProfile` contains a \
`transactionId`.\n\n\
Why it matters: the transaction does not exist yet when the remote start is sent; the \
profile is bound to it by the charger, and an id here is at best stale.\n\n\
Example:\n  RemoteStartTransaction {idTag:\"TAG-1\", chargingProfile:{transactionId:7, \
chargingProfilePurpose:\"TxProfile\", ...}}"
);

rule!(
    REMOTE_START_NOT_FOLLOWED,
    "remote.start-not-followed",
    Warning,
    None,
    ALL,
    Charger,
    "Remote start accepted and the charger shows no sign of starting",
    "OCPP 1.6 §5.11, §4.8; 2.0.1 Part 2 F01, F02",
    "What it checks: a RemoteStartTransaction answered Accepted, and within \
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
Heartbeats"
);

rule!(
    REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
    "remote.stop-unknown-tx-accepted",
    Error,
    None,
    ALL,
    Charger,
    "Remote stop accepted for a transaction that is not running",
    "OCPP 1.6 §5.12; errata 3.33; 2.0.1 Part 2 F03",
    "What it checks: a RemoteStopTransaction answered Accepted for a transactionId whose \
StopTransaction the charger had already sent (error), or that the trace never saw although \
it saw the station boot (warning: the transaction may have been missed). Before a boot was \
seen an unknown transaction may predate the trace, and nothing is reported. On 2.x \
(checked by the tx2 family) the same for RequestStopTransaction, the transaction ended \
meaning its Ended TransactionEvent was acknowledged.\n\n\
Why it matters: Accepted is only for a transaction that runs; for any other id the answer \
is Rejected, and the CSMS waits for a StopTransaction that will not come.\n\n\
Example:\n  StopTransaction {transactionId:7} -> {}, then RemoteStopTransaction \
{transactionId:7} -> Accepted"
);

rule!(
    REMOTE_STOP_NOT_FOLLOWED,
    "remote.stop-not-followed",
    Warning,
    None,
    ALL,
    Charger,
    "Remote stop accepted and the transaction was not stopped",
    "OCPP 1.6 §5.12; 2.0.1 Part 2 F03",
    "What it checks: a RemoteStopTransaction answered Accepted, and no StopTransaction for \
that transactionId within `followup_window` (default 60 s). Reported at the \
RemoteStopTransaction line. On 2.x (checked by the tx2 family): a RequestStopTransaction \
answered Accepted, and no TransactionEvent with triggerReason RemoteStop, and no Ended, for \
that transactionId within `followup_window`.\n\n\
Why it matters: an accepted remote stop must end the transaction like a local stop, with a \
StopTransaction; without it the session stays open at the CSMS.\n\n\
Example:\n  RemoteStopTransaction {transactionId:7} -> Accepted, then only Heartbeats"
);

// ---------------------------------------------------------------------------------------
// State.

const MAX_TXS: usize = 64;
const MAX_USED_IDS: usize = 4096;
const MAX_STARTS: usize = 16;
const MAX_WATCHES: usize = 16;
const MAX_RESERVATIONS: usize = 16;
const MAX_PARENTS: usize = 64;
const MAX_REGISTERS: usize = 8;
const MAX_UNLOCKS: usize = 8;

/// How many followup windows a Reset stays in force when no BootNotification follows.
const RESET_WINDOWS: i64 = 10;

/// The StopTransaction of a transaction.
#[derive(Debug, Clone, Copy)]
struct Stop {
    /// When it was sent (observer time).
    sent_at: Timestamp,
    /// Its `timestamp`.
    ts: Option<Timestamp>,
    /// A CALLRESULT came; `in_time` when within the call timeout.
    acked: Option<bool>,
}

/// The last Energy.Active.Import.Register reading of one (phase, location, unit).
#[derive(Debug, Clone, Copy)]
struct Register {
    key: RegisterKey,
    ts: Option<Timestamp>,
    value: f64,
}

/// A transaction of this charger.
#[derive(Debug)]
struct Tx {
    id: i64,
    connector: Option<i64>,
    id_tag: Option<Box<str>>,
    parent: Option<Box<str>>,
    meter_start: Option<i64>,
    start_ts: Option<Timestamp>,
    /// The StartTransaction CALL, when the trace saw it.
    start: Option<CallRef>,
    /// The latest timestamp of the transaction's delivered messages.
    last_ts: Option<Timestamp>,
    stop: Option<Stop>,
    /// The idTag (or one of its group) was presented in an Authorize at this time.
    reauth_at: Option<Timestamp>,
    registers: Vec<Register>,
    register_flagged: bool,
    /// The last periodic sample and the MeterValueSampleInterval in force then.
    last_periodic: Option<(Timestamp, i64)>,
    interval_flagged: bool,
    begin_flagged: bool,
    /// The earliest Transaction.End sample delivered in MeterValues.
    end_sample: Option<Timestamp>,
}

impl Tx {
    fn new(id: i64) -> Tx {
        Tx {
            id,
            connector: None,
            id_tag: None,
            parent: None,
            meter_start: None,
            start_ts: None,
            start: None,
            last_ts: None,
            stop: None,
            reauth_at: None,
            registers: Vec::new(),
            register_flagged: false,
            last_periodic: None,
            interval_flagged: false,
            begin_flagged: false,
            end_sample: None,
        }
    }

    fn is_open(&self) -> bool {
        self.stop.is_none()
    }

    fn see(&mut self, ts: Timestamp) {
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }
}

/// A StartTransaction CALL without a transaction id (yet).
#[derive(Debug)]
struct Start {
    call: CallRef,
    connector: i64,
    /// No answer with an id will come any more (CALLERROR, connection closed).
    dead: bool,
    /// Already reported by tx16.start-not-answered.
    reported: bool,
}

#[derive(Debug)]
struct RemoteStart {
    call: CallRef,
    id_tag: Box<str>,
    connector: Option<i64>,
    due: Timestamp,
}

#[derive(Debug)]
struct RemoteStop {
    call: CallRef,
    tx: i64,
    /// `None` once tx16.remote-stop-not-followed was reported.
    due: Option<Timestamp>,
}

#[derive(Debug)]
struct Deauth {
    tx: i64,
    start: CallRef,
    status: Box<str>,
    /// When the refusing StartTransaction.conf came.
    answered_at: Timestamp,
    due: Option<Timestamp>,
}

#[derive(Debug)]
struct Reservation {
    id: i64,
    connector: i64,
    id_tag: Box<str>,
    parent: Option<Box<str>>,
    expiry: Option<Timestamp>,
}

/// A Reset in force: stops are expected with its reason.
#[derive(Debug, Clone, Copy)]
struct ResetWatch {
    reason: &'static str,
    at: Timestamp,
    /// Set by the first BootNotification after the Reset.
    until: Option<Timestamp>,
}

/// The 1.6 configuration keys these rules need, as the charger reported them.
#[derive(Debug, Default, Clone, Copy)]
struct Keys {
    number_of_connectors: Option<i64>,
    stop_on_invalid_id: Option<bool>,
    max_energy_on_invalid_id: Option<i64>,
    meter_value_sample_interval: Option<i64>,
    connection_timeout: Option<i64>,
}

impl Keys {
    fn learn(&mut self, key: &str, value: &str) {
        let value = value.trim();
        let int = value.parse::<i64>().ok();
        let key = key.trim();
        if key.eq_ignore_ascii_case("NumberOfConnectors") {
            self.number_of_connectors = int;
        } else if key.eq_ignore_ascii_case("StopTransactionOnInvalidId") {
            self.stop_on_invalid_id = if value.eq_ignore_ascii_case("true") {
                Some(true)
            } else if value.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            };
        } else if key.eq_ignore_ascii_case("MaxEnergyOnInvalidId") {
            self.max_energy_on_invalid_id = int;
        } else if key.eq_ignore_ascii_case("MeterValueSampleInterval") {
            self.meter_value_sample_interval = int;
        } else if key.eq_ignore_ascii_case("ConnectionTimeOut") {
            self.connection_timeout = int;
        }
    }
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// When the last BootNotification of this station was seen: its transactions since
    /// are known.
    boot_at: Option<Timestamp>,
    txs: Vec<Tx>,
    /// Transaction ids the CSMS issued, oldest first.
    used_ids: Vec<i64>,
    starts: Vec<Start>,
    remote_starts: Vec<RemoteStart>,
    /// Recent StartTransactions (idTag, connector, when sent): a RemoteStartTransaction
    /// answered Accepted after the transaction it asked for had started (the charger acted
    /// before its answer went out, a legal crossing) needs no follow-up.
    recent_starts: Vec<(Box<str>, i64, Timestamp)>,
    remote_stops: Vec<RemoteStop>,
    deauths: Vec<Deauth>,
    reservations: Vec<Reservation>,
    /// idTag → parentIdTag, from Authorize and StartTransaction answers.
    parents: Vec<(Box<str>, Box<str>)>,
    reset: Option<ResetWatch>,
    /// UnlockConnector requests: (connector, when).
    unlocks: Vec<(i64, Timestamp)>,
    keys: Keys,
}

impl State {
    /// Whether a transaction runs on this connector: a StartTransaction for it was sent
    /// (answered or not) or a transaction was seen on it, and no StopTransaction followed.
    pub(crate) fn open_on_connector(&self, connector: i64) -> bool {
        self.starts.iter().any(|s| s.connector == connector)
            || self
                .txs
                .iter()
                .any(|t| t.is_open() && t.connector == Some(connector))
    }

    /// Transactions running: connectors with an open transaction or a StartTransaction
    /// sent for them and not refused, plus open transactions of no known connector. A
    /// resent StartTransaction counts once (one connector runs one transaction).
    pub(crate) fn open_transactions(&self) -> usize {
        let mut connectors: Vec<i64> = self
            .starts
            .iter()
            .filter(|s| !s.dead)
            .map(|s| s.connector)
            .chain(
                self.txs
                    .iter()
                    .filter(|t| t.is_open())
                    .filter_map(|t| t.connector),
            )
            .collect();
        connectors.sort_unstable();
        connectors.dedup();
        connectors.len()
            + self
                .txs
                .iter()
                .filter(|t| t.is_open() && t.connector.is_none())
                .count()
    }

    /// Whether the station's BootNotification was seen, so its transactions since are
    /// known (rules that judge a missing transaction need it).
    pub(crate) fn history_known(&self) -> bool {
        self.boot_at.is_some()
    }

    /// Whether a message timestamped `ts` belongs to the time since the last boot (within
    /// `skew`): a transaction it mentions should have been seen starting.
    fn since_boot(&self, ts: Option<Timestamp>, skew: i64) -> bool {
        self.boot_at
            .is_some_and(|b| ts.is_none_or(|t| after(t, skew) >= b))
    }

    /// The `NumberOfConnectors` the charger reported, if seen.
    pub(crate) fn number_of_connectors(&self) -> Option<i64> {
        self.keys.number_of_connectors
    }

    fn tx(&mut self, id: i64) -> Option<&mut Tx> {
        self.txs.iter_mut().rev().find(|t| t.id == id)
    }

    fn add_tx(&mut self, tx: Tx) -> &mut Tx {
        if self.txs.len() >= MAX_TXS {
            // Drop the oldest closed transaction, or the oldest one.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            self.txs.remove(pos);
        }
        self.txs.push(tx);
        let last = self.txs.len() - 1;
        &mut self.txs[last]
    }

    fn parent_of(&self, id_tag: &str) -> Option<&str> {
        self.parents
            .iter()
            .rev()
            .find(|(t, _)| t.eq_ignore_ascii_case(id_tag))
            .map(|(_, p)| &**p)
    }

    fn learn_parent(&mut self, id_tag: &str, parent: &str) {
        self.parents
            .retain(|(t, _)| !t.eq_ignore_ascii_case(id_tag));
        push_capped(
            &mut self.parents,
            (Box::from(id_tag), Box::from(parent)),
            MAX_PARENTS,
        );
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers.

fn is_v16(st: &ProtoState) -> bool {
    st.version == Some(Version::V16)
}

fn ts_of(v: &Value, key: &str) -> Option<Timestamp> {
    str_of(v, key).and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

fn after(t: Timestamp, us: i64) -> Timestamp {
    Timestamp::from_micros(t.micros().saturating_add(us))
}

fn same_tag(a: &str, b: &str) -> bool {
    // IdToken is case-insensitive (OCPP 1.6 §7.28).
    a.eq_ignore_ascii_case(b)
}

/// A decimal number as OCPP 1.6 raw sampled values carry them: an optional sign, digits
/// with an optional fraction, an optional exponent.
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

const PHASES: &[&str] = &[
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
];
const LOCATIONS: &[&str] = &["Cable", "EV", "Inlet", "Outlet", "Body"];
const UNITS: &[&str] = &["Wh", "kWh"];
/// ReadingContext values of OCPP 1.6 §7.35.
const CONTEXTS: &[&str] = &[
    "Interruption.Begin",
    "Interruption.End",
    "Other",
    "Sample.Clock",
    "Sample.Periodic",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
];

fn index_of(list: &[&str], v: Option<&str>) -> u8 {
    v.and_then(|v| list.iter().position(|x| *x == v))
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

/// One sampled value, with the defaults of OCPP 1.6 §7.43 applied.
struct Sample<'a> {
    value: &'a str,
    context: &'a str,
    raw: bool,
    register_key: Option<RegisterKey>,
}

/// What makes two register readings comparable: the same reading context, phase, location
/// and unit. Readings of different contexts (a Transaction.Begin reading beside a periodic
/// one in the same meterValue) may come from different sources and are not successive
/// readings of one register.
type RegisterKey = (u8, u8, u8, u8);

fn sample(v: &Value) -> Option<Sample<'_>> {
    let value = str_of(v, "value")?;
    let format = str_of(v, "format");
    let measurand = str_of(v, "measurand").unwrap_or("Energy.Active.Import.Register");
    let unit = str_of(v, "unit").unwrap_or("Wh");
    let context = str_of(v, "context").unwrap_or("Sample.Periodic");
    let register_key =
        (measurand == "Energy.Active.Import.Register" && matches!(unit, "Wh" | "kWh")).then(|| {
            (
                index_of(CONTEXTS, Some(context)),
                index_of(PHASES, str_of(v, "phase")),
                index_of(LOCATIONS, str_of(v, "location")),
                index_of(UNITS, Some(unit)),
            )
        });
    Some(Sample {
        value,
        context,
        raw: format.is_none_or(|f| f == "Raw"),
        register_key,
    })
}

/// Reports the first raw sampled value of `values` (the `meterValue` or `transactionData`
/// array named `member`) that is not a number.
fn check_numeric(ctx: &mut Ctx<'_>, values: &[Value], member: &str) {
    let mut bad = 0usize;
    let mut first = None;
    for (i, mv) in values.iter().enumerate() {
        for (j, sv) in arr_of(mv, "sampledValue").iter().enumerate() {
            if let Some(s) = sample(sv)
                && s.raw
                && !is_decimal(s.value)
            {
                bad += 1;
                if first.is_none() {
                    first = Some((i, j, s.value));
                }
            }
        }
    }
    if let Some((i, j, value)) = first {
        let more = if bad > 1 {
            format!(" ({} more in this message)", bad - 1)
        } else {
            String::new()
        };
        ctx.report_at(
            &SAMPLED_VALUE_NOT_NUMERIC,
            format!("/{member}/{i}/sampledValue/{j}/value"),
            format!(
                "raw sampled value {value:?} is not a decimal number{more}; non-numeric data belongs in format SignedData"
            ),
        );
    }
}

/// Follows the samples of `values` in a transaction: register readings, Transaction.Begin
/// / End contexts, periodic spacing. Returns the earliest and latest timestamp of the
/// periodic and clock-aligned samples.
fn follow_samples(
    tx: &mut Tx,
    ctx: &mut Ctx<'_>,
    values: &[Value],
    interval: Option<i64>,
) -> Option<(Timestamp, Timestamp)> {
    let window = ctx.config().tol.followup_window_us;
    let mut span: Option<(Timestamp, Timestamp)> = None;
    for mv in values {
        let ts = ts_of(mv, "timestamp");
        let mut periodic = false;
        for sv in arr_of(mv, "sampledValue") {
            let Some(s) = sample(sv) else { continue };
            match s.context {
                "Sample.Periodic" | "Sample.Clock" => {
                    periodic |= s.context == "Sample.Periodic";
                    if let Some(ts) = ts {
                        span = Some(match span {
                            None => (ts, ts),
                            Some((lo, hi)) => (lo.min(ts), hi.max(ts)),
                        });
                    }
                }
                "Transaction.Begin" => {
                    if let (Some(ts), Some(start)) = (ts, tx.start_ts)
                        && !tx.begin_flagged
                        && ts > after(start, window)
                    {
                        tx.begin_flagged = true;
                        ctx.report(
                                &CONTEXT_MISMATCH,
                                format!(
                                    "sample of transaction {} labelled Transaction.Begin is timestamped {ts}, {:.0} s after the transaction started ({start})",
                                    tx.id,
                                    ts.secs_since(start)
                                ),
                            );
                    }
                }
                "Transaction.End" => {
                    if let Some(ts) = ts
                        && tx.end_sample.is_none_or(|e| ts < e)
                    {
                        tx.end_sample = Some(ts);
                    }
                }
                _ => {}
            }
            if let (Some(key), true) = (s.register_key, s.raw)
                && let Ok(value) = s.value.parse::<f64>()
            {
                follow_register(tx, ctx, key, ts, value);
            }
        }
        if let (true, Some(ts), Some(interval)) = (periodic, ts, interval.filter(|i| *i > 0)) {
            match tx.last_periodic {
                Some((prev, i)) if i == interval && ts > prev => {
                    let gap = ts.micros() - prev.micros();
                    let want = interval.saturating_mul(1_000_000);
                    if !tx.interval_flagged && (gap < want / 2 || gap > want + want / 2) {
                        tx.interval_flagged = true;
                        ctx.report(
                            &SAMPLE_INTERVAL_MISMATCH,
                            format!(
                                "periodic samples of transaction {} are {:.0} s apart (at {prev} and {ts}); MeterValueSampleInterval is {interval} s",
                                tx.id,
                                ts.secs_since(prev)
                            ),
                        );
                    }
                    tx.last_periodic = Some((ts, interval));
                }
                Some((prev, i)) if i == interval && ts <= prev => {}
                _ => tx.last_periodic = Some((ts, interval)),
            }
        }
    }
    span
}

fn follow_register(
    tx: &mut Tx,
    ctx: &mut Ctx<'_>,
    key: RegisterKey,
    ts: Option<Timestamp>,
    value: f64,
) {
    match tx.registers.iter_mut().find(|r| r.key == key) {
        Some(r) => {
            if let (Some(new), Some(old)) = (ts, r.ts)
                && new < old
            {
                return; // delivered out of order: not a successive reading
            }
            if value < r.value && !tx.register_flagged {
                tx.register_flagged = true;
                ctx.report(
                    &REGISTER_DECREASING,
                    format!(
                        "Energy.Active.Import.Register of transaction {} fell from {} to {value}; a register only counts up",
                        tx.id, r.value
                    ),
                );
            }
            r.value = value;
            if ts.is_some() {
                r.ts = ts;
            }
        }
        None => push_capped(
            &mut tx.registers,
            Register { key, ts, value },
            MAX_REGISTERS,
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Hooks.

pub(crate) fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}

pub(crate) fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
    if !is_v16(st) {
        return;
    }
    // Unanswered StartTransactions get no answer any more (the charger will resend).
    for s in &mut st.tx16.starts {
        s.dead = true;
    }
}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
    if !is_v16(st) {
        return;
    }
    let s = &mut st.tx16;
    if s.starts.is_empty()
        && s.remote_starts.is_empty()
        && s.remote_stops.is_empty()
        && s.deauths.is_empty()
    {
        return;
    }
    let tol = ctx.config().tol;
    let secs = tol.followup_window_us as f64 / 1e6;
    for start in &mut s.starts {
        if !start.dead
            && !start.reported
            && now.micros().saturating_sub(start.call.at.micros()) > tol.call_timeout_us
        {
            start.reported = true;
            ctx.report_about(
                &START_NOT_ANSWERED,
                start.call.about(),
                format!(
                    "StartTransaction for connector {} got no CALLRESULT within {:.0} s; the charger cannot learn its transaction id",
                    start.connector,
                    tol.call_timeout_us as f64 / 1e6
                ),
            );
        }
    }
    let mut i = 0;
    while i < s.remote_starts.len() {
        if now > s.remote_starts[i].due {
            let r = s.remote_starts.remove(i);
            let total = r.due.secs_since(r.call.at);
            ctx.report_about(
                &REMOTE_START_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RemoteStartTransaction for idTag {}{} was accepted, but within {total:.0} s no StartTransaction for it came, no connector went Preparing and no Authorize of it was refused",
                    r.id_tag,
                    r.connector
                        .map_or(String::new(), |c| format!(" on connector {c}"))
                ),
            );
        } else {
            i += 1;
        }
    }
    for r in &mut s.remote_stops {
        if r.due.is_some_and(|d| now > d) {
            r.due = None;
            ctx.report_about(
                &REMOTE_STOP_NOT_FOLLOWED,
                r.call.about(),
                format!(
                    "RemoteStopTransaction for transaction {} was accepted, but no StopTransaction for it followed within {secs:.0} s",
                    r.tx
                ),
            );
        }
    }
    let mut i = 0;
    while i < s.deauths.len() {
        if s.deauths[i].due.is_some_and(|d| now > d) {
            let d = s.deauths.remove(i);
            ctx.report_about(
                &STOP_REASON_NOT_DEAUTHORIZED,
                d.start.about(),
                format!(
                    "transaction {} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and no StopTransaction followed within {secs:.0} s",
                    d.tx, d.status
                ),
            );
        } else {
            i += 1;
        }
    }
}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    if !is_v16(st) {
        return;
    }
    match (call.action, call.from) {
        ("StartTransaction", Side::Charger) => start_transaction(st, ctx, call),
        ("MeterValues", Side::Charger) => meter_values(st, ctx, call),
        ("StopTransaction", Side::Charger) => stop_transaction(st, ctx, call),
        ("StatusNotification", Side::Charger) => status_notification(st, call.payload),
        ("Authorize", Side::Charger) => {
            if let Some(tag) = str_of(call.payload, "idTag") {
                let now = ctx.now();
                for t in &mut st.tx16.txs {
                    if t.is_open() && t.id_tag.as_deref().is_some_and(|x| same_tag(x, tag)) {
                        t.reauth_at = Some(now);
                    }
                }
            }
        }
        ("BootNotification", Side::Charger) => {
            let s = &mut st.tx16;
            s.boot_at = Some(ctx.now());
            s.starts.retain(|x| !x.dead);
            let window = ctx.config().tol.followup_window_us;
            if let Some(r) = &mut s.reset
                && r.until.is_none()
            {
                r.until = Some(after(ctx.now(), window));
            }
        }
        ("RemoteStartTransaction", Side::Csms) => remote_start_request(ctx, call.payload),
        ("Reset", Side::Csms) => {
            let reason = match str_of(call.payload, "type") {
                Some("Hard") => "HardReset",
                Some("Soft") => "SoftReset",
                _ => return,
            };
            st.tx16.reset = Some(ResetWatch {
                reason,
                at: ctx.now(),
                until: None,
            });
        }
        ("UnlockConnector", Side::Csms) => {
            if let Some(c) = int_of(call.payload, "connectorId") {
                push_capped(&mut st.tx16.unlocks, (c, ctx.now()), MAX_UNLOCKS);
            }
        }
        _ => {}
    }
}

pub(crate) fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if !is_v16(st) {
        return;
    }
    match (reply.action, reply.caller) {
        ("StartTransaction", Side::Charger) => start_answered(st, ctx, reply),
        ("StopTransaction", Side::Charger) => {
            let Some(id) = int_of(reply.request, "transactionId") else {
                return;
            };
            match reply.outcome {
                Outcome::Error { code } if id == -1 => ctx.report(
                    &MINUS_ONE_REJECTED,
                    format!("StopTransaction with transactionId -1 answered with CALLERROR {code}; errata 3.18 requires the CSMS to accept it"),
                ),
                Outcome::Error { .. } => {}
                Outcome::Result { .. } => {
                    let in_time = ctx.now().micros().saturating_sub(reply.call_at.micros())
                        <= ctx.config().tol.call_timeout_us;
                    if let Some(stop) = st.tx16.tx(id).and_then(|t| t.stop.as_mut())
                        && stop.acked.is_none() {
                            stop.acked = Some(in_time);
                        }
                }
            }
        }
        ("MeterValues", Side::Charger) => {
            if let Outcome::Error { code } = reply.outcome
                && int_of(reply.request, "transactionId") == Some(-1)
            {
                ctx.report(
                        &MINUS_ONE_REJECTED,
                        format!("MeterValues with transactionId -1 answered with CALLERROR {code}; errata 3.18 requires the CSMS to accept it"),
                    );
            }
        }
        ("Authorize", Side::Charger) => authorize_answered(st, reply),
        ("RemoteStartTransaction", Side::Csms) => {
            if status_of(reply) != Some("Accepted") {
                return;
            }
            let p = reply.request;
            let Some(tag) = str_of(p, "idTag") else {
                return;
            };
            let connector = int_of(p, "connectorId");
            if st.tx16.recent_starts.iter().any(|(t, c, at)| {
                same_tag(t, tag) && connector.is_none_or(|x| x == *c) && *at >= reply.call_at
            }) {
                return; // started before the answer went out: already followed
            }
            let tol = ctx.config().tol;
            let wait = st
                .tx16
                .keys
                .connection_timeout
                .filter(|t| *t > 0)
                .map_or(0, |t| t.saturating_mul(1_000_000));
            push_capped(
                &mut st.tx16.remote_starts,
                RemoteStart {
                    call: CallRef::of_reply(reply),
                    id_tag: Box::from(tag),
                    connector,
                    due: after(ctx.now(), tol.followup_window_us.saturating_add(wait)),
                },
                MAX_WATCHES,
            );
        }
        ("RemoteStopTransaction", Side::Csms) => remote_stop_answered(st, ctx, reply),
        ("ReserveNow", Side::Csms) => {
            let p = reply.request;
            if status_of(reply) != Some("Accepted") {
                return;
            }
            let (Some(id), Some(connector), Some(tag)) = (
                int_of(p, "reservationId"),
                int_of(p, "connectorId"),
                str_of(p, "idTag"),
            ) else {
                return;
            };
            let s = &mut st.tx16;
            s.reservations.retain(|r| r.id != id);
            push_capped(
                &mut s.reservations,
                Reservation {
                    id,
                    connector,
                    id_tag: Box::from(tag),
                    parent: str_of(p, "parentIdTag").map(Box::from),
                    expiry: ts_of(p, "expiryDate"),
                },
                MAX_RESERVATIONS,
            );
        }
        ("CancelReservation", Side::Csms) if status_of(reply) == Some("Accepted") => {
            if let Some(id) = int_of(reply.request, "reservationId") {
                st.tx16.reservations.retain(|r| r.id != id);
            }
        }
        ("Reset", Side::Csms)
            if matches!(reply.outcome, Outcome::Error { .. })
                || status_of(reply).is_some_and(|s| s != "Accepted") =>
        {
            st.tx16.reset = None;
        }
        ("UnlockConnector", Side::Csms) => {
            let refused = matches!(reply.outcome, Outcome::Error { .. })
                || status_of(reply).is_some_and(|s| s != "Unlocked");
            if refused && let Some(c) = int_of(reply.request, "connectorId") {
                st.tx16
                    .unlocks
                    .retain(|(x, at)| !(*x == c && *at == reply.call_at));
            }
        }
        ("GetConfiguration", Side::Csms) => {
            if let Some(r) = reply.result() {
                for k in arr_of(r, "configurationKey") {
                    if let (Some(key), Some(value)) = (str_of(k, "key"), str_of(k, "value")) {
                        st.tx16.keys.learn(key, value);
                    }
                }
            }
        }
        ("ChangeConfiguration", Side::Csms) if status_of(reply) == Some("Accepted") => {
            if let (Some(key), Some(value)) =
                (str_of(reply.request, "key"), str_of(reply.request, "value"))
            {
                st.tx16.keys.learn(key, value);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// StartTransaction.

fn start_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let (Some(connector), Some(tag)) = (int_of(p, "connectorId"), str_of(p, "idTag")) else {
        return;
    };
    if connector <= 0 {
        ctx.report(
            &START_CONNECTOR_ZERO,
            format!("StartTransaction for connectorId {connector}; a transaction runs on a connector numbered from 1"),
        );
    }
    let s = &mut st.tx16;
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    if let Some(open) = s
        .txs
        .iter()
        .rev()
        .find(|t| t.is_open() && t.connector == Some(connector))
    {
        let resend = open.start_ts.is_some()
            && open.start_ts == start_ts
            && open.meter_start == meter_start
            && open.id_tag.as_deref().is_some_and(|t| same_tag(t, tag));
        if !resend {
            ctx.report(
                &START_ON_BUSY_CONNECTOR,
                format!(
                    "StartTransaction on connector {connector}, where transaction {} is still open (no StopTransaction was sent for it)",
                    open.id
                ),
            );
        }
    }

    // Reservations: the one named is used; an unnamed one that fits is an omission.
    match int_of(p, "reservationId") {
        Some(rid) => s.reservations.retain(|r| r.id != rid),
        None => {
            let now = ctx.now();
            let parent = s.parent_of(tag);
            let live = |r: &Reservation| {
                (r.connector == connector || r.connector == 0)
                    && r.expiry
                        .is_none_or(|e| now <= e && start_ts.is_none_or(|t| t <= e))
            };
            let exact = s
                .reservations
                .iter()
                .position(|r| live(r) && same_tag(&r.id_tag, tag));
            let by_parent = exact.is_none().then(|| {
                s.reservations.iter().position(|r| {
                    live(r) && matches!((&r.parent, parent), (Some(a), Some(b)) if same_tag(a, b))
                })
            });
            if let Some(pos) = exact {
                let r = s.reservations.remove(pos);
                ctx.report(
                    &RESERVATION_ID_MISSING,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} uses reservation {} (connector {}, same idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            } else if let Some(Some(pos)) = by_parent {
                let r = s.reservations.remove(pos);
                ctx.report_as(
                    &RESERVATION_ID_MISSING,
                    Severity::Warning,
                    format!(
                        "StartTransaction for idTag {tag} on connector {connector} may use reservation {} (connector {}, same parent idTag) but carries no reservationId",
                        r.id, r.connector
                    ),
                );
            }
        }
    }

    // A remote start that this StartTransaction follows.
    s.remote_starts
        .retain(|r| !(same_tag(&r.id_tag, tag) && r.connector.is_none_or(|c| c == connector)));
    push_capped(
        &mut s.recent_starts,
        (Box::from(tag), connector, ctx.now()),
        MAX_WATCHES,
    );

    s.starts.retain(|x| !(x.dead && x.connector == connector));
    if let Some(x) = s.starts.iter_mut().find(|x| *x.call.id == *call.id) {
        x.call = CallRef::of_call(ctx, call);
        x.connector = connector;
    } else {
        push_capped(
            &mut s.starts,
            Start {
                call: CallRef::of_call(ctx, call),
                connector,
                dead: false,
                reported: false,
            },
            MAX_STARTS,
        );
    }
}

fn start_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let s = &mut st.tx16;
    let Some(pos) = s
        .starts
        .iter()
        .position(|x| *x.call.id == *reply.id && x.call.at == reply.call_at)
    else {
        return;
    };
    let start = match reply.outcome {
        Outcome::Error { code } => {
            let x = &mut s.starts[pos];
            x.dead = true;
            if !x.reported {
                x.reported = true;
                ctx.report(
                    &START_NOT_ANSWERED,
                    format!("StartTransaction answered with CALLERROR {code} instead of a StartTransaction.conf; the charger cannot learn its transaction id"),
                );
            }
            return;
        }
        Outcome::Result { .. } => s.starts.remove(pos),
    };
    let Some(result) = reply.result() else {
        return;
    };
    let Some(id) = int_of(result, "transactionId") else {
        return;
    };
    let p = reply.request;
    let tag = str_of(p, "idTag");
    let start_ts = ts_of(p, "timestamp");
    let meter_start = int_of(p, "meterStart");
    let info = result.get("idTagInfo");
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));

    if id <= 0 {
        ctx.report(
            &TRANSACTION_ID_NONPOSITIVE,
            format!("StartTransaction answered with transactionId {id}; positive ids are recommended (and -1 means \"never acknowledged\" to chargers)"),
        );
    }
    // The same id for an identical resend is the CSMS being idempotent.
    let same = s.tx(id).is_some_and(|t| {
        t.connector == Some(start.connector)
            && t.start_ts.is_some()
            && t.start_ts == start_ts
            && t.meter_start == meter_start
    });
    if same {
        return;
    }
    let open = s.tx(id).is_some_and(|t| t.is_open());
    if open || s.used_ids.contains(&id) {
        ctx.report(
            &TRANSACTION_ID_REUSED,
            format!(
                "StartTransaction answered with transactionId {id}, the id of {} transaction of this charger",
                if open { "a still open" } else { "an earlier" }
            ),
        );
        s.txs.retain(|t| t.id != id);
    }
    push_capped(&mut s.used_ids, id, MAX_USED_IDS);
    if let (Some(tag), Some(parent)) = (tag, parent) {
        s.learn_parent(tag, parent);
    }
    let deauth = status.filter(|st| *st != "Accepted");
    let keys = s.keys;
    let tx = s.add_tx(Tx::new(id));
    tx.connector = Some(start.connector);
    tx.id_tag = tag.map(Box::from);
    tx.parent = parent.map(Box::from);
    tx.meter_start = meter_start;
    tx.start_ts = start_ts;
    tx.last_ts = start_ts;
    tx.start = Some(start.call.clone());
    if let (Some(status), Some(true)) = (deauth, keys.stop_on_invalid_id) {
        let may_go_on = keys.max_energy_on_invalid_id.is_some_and(|e| e > 0);
        let due = (!may_go_on).then(|| after(ctx.now(), ctx.config().tol.followup_window_us));
        push_capped(
            &mut s.deauths,
            Deauth {
                tx: id,
                start: start.call,
                status: Box::from(status),
                answered_at: ctx.now(),
                due,
            },
            MAX_WATCHES,
        );
    }
}

fn authorize_answered(st: &mut ProtoState, reply: &Reply<'_>) {
    let Some(tag) = str_of(reply.request, "idTag") else {
        return;
    };
    let info = reply.result().and_then(|r| r.get("idTagInfo"));
    let status = info.and_then(|i| str_of(i, "status"));
    let parent = info.and_then(|i| str_of(i, "parentIdTag"));
    let s = &mut st.tx16;
    if let Some(parent) = parent {
        s.learn_parent(tag, parent);
        for t in &mut s.txs {
            if t.is_open() && t.parent.as_deref().is_some_and(|x| same_tag(x, parent)) {
                t.reauth_at = Some(reply.call_at);
            }
        }
    }
    if status.is_some_and(|x| x != "Accepted") {
        // A refused idTag ends the attempt of a remote start.
        s.remote_starts.retain(|r| !same_tag(&r.id_tag, tag));
    }
}

// ---------------------------------------------------------------------------------------
// MeterValues.

fn meter_values(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let values = arr_of(p, "meterValue");
    check_numeric(ctx, values, "meterValue");
    let (Some(connector), Some(id)) = (int_of(p, "connectorId"), int_of(p, "transactionId")) else {
        return;
    };
    if connector == 0 {
        ctx.report(
            &METER_VALUES_MAIN_METER_WITH_TX,
            format!("MeterValues for connectorId 0 (the main meter) carries transactionId {id}; errata 3.16 recommends leaving it out"),
        );
    }
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "MeterValues with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        return;
    }
    let s = &mut st.tx16;
    let interval = s.keys.meter_value_sample_interval;
    let tx = if s.tx(id).is_some() {
        s.tx(id)
    } else {
        let message = format!(
            "MeterValues for transactionId {id}, which no StartTransaction answer in the trace issued"
        );
        let earliest = values.iter().filter_map(|mv| ts_of(mv, "timestamp")).min();
        if s.since_boot(earliest, ctx.config().tol.clock_skew_us) && !s.used_ids.contains(&id) {
            ctx.report(&METER_VALUES_UNKNOWN_TX, message);
        } else {
            ctx.report_as(
                &METER_VALUES_UNKNOWN_TX,
                Severity::Info,
                format!("{message} (it may have started before the trace or the last boot)"),
            );
        }
        let tx = s.add_tx(Tx::new(id));
        tx.connector = (connector > 0).then_some(connector);
        Some(tx)
    };
    let Some(tx) = tx else { return };
    if connector > 0 {
        match tx.connector {
            Some(c) if c != connector => ctx.report(
                &METER_VALUES_WRONG_CONNECTOR,
                format!("MeterValues for connector {connector} names transaction {id}, which runs on connector {c}"),
            ),
            None => tx.connector = Some(connector),
            Some(_) => {}
        }
    }
    let span = follow_samples(tx, ctx, values, interval);
    if let Some((lo, hi)) = span {
        let stop = tx.stop.filter(|x| x.acked.is_some());
        match (stop, stop.and_then(|x| x.ts)) {
            (Some(_), Some(stop_ts)) if hi > stop_ts => ctx.report(
                &METER_VALUES_AFTER_STOP,
                format!("MeterValues for transaction {id}, sampled at {hi}, after its StopTransaction ({stop_ts}) was acknowledged"),
            ),
            _ => {
                if let Some(last) = tx.last_ts
                    && lo < last {
                        ctx.report(
                            &TX_MESSAGES_OUT_OF_ORDER,
                            format!("MeterValues of transaction {id} sampled at {lo}, before the transaction's earlier delivered message ({last}); transaction messages must be delivered in the order they were created"),
                        );
                    }
            }
        }
        if dm::credible_stamp(ctx, hi) {
            tx.see(hi);
        }
    }
}

// ---------------------------------------------------------------------------------------
// StopTransaction.

fn stop_transaction(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let data = arr_of(p, "transactionData");
    check_numeric(ctx, data, "transactionData");
    let Some(id) = int_of(p, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    if id == -1 {
        ctx.report(
            &MINUS_ONE_TRANSACTION_ID,
            "StopTransaction with transactionId -1: a transaction whose StartTransaction was never acknowledged",
        );
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        return;
    }
    let now = ctx.now();
    let tol = ctx.config().tol;
    let window = tol.followup_window_us;
    let stop_ts = ts_of(p, "timestamp");
    let reason = str_of(p, "reason");
    let meter_stop = int_of(p, "meterStop");
    let interval = s.keys.meter_value_sample_interval;
    let since_boot = s.since_boot(stop_ts, tol.clock_skew_us);
    let stop = Stop {
        sent_at: now,
        ts: stop_ts,
        acked: None,
    };

    if s.tx(id).is_none() {
        let known_before = s.used_ids.contains(&id);
        if !known_before {
            let message = format!(
                "StopTransaction for transactionId {id}, which no StartTransaction answer in the trace issued"
            );
            let after_reboot = matches!(
                reason,
                Some("PowerLoss" | "Reboot" | "HardReset" | "SoftReset")
            );
            if since_boot && !after_reboot {
                ctx.report(&STOP_UNKNOWN_TX, message);
            } else {
                ctx.report_as(
                    &STOP_UNKNOWN_TX,
                    Severity::Info,
                    format!("{message} (it may have started before the trace or the last boot)"),
                );
            }
        }
        let tx = s.add_tx(Tx::new(id));
        tx.stop = Some(stop);
        if let Some(pos) = s.starts.iter().position(|x| x.dead) {
            s.starts.remove(pos);
        }
        remote_stop_judged(s, ctx, id, reason, stop_ts);
        return;
    }

    let Some(tx) = s.tx(id) else { return };
    match tx.stop {
        Some(Stop {
            acked: Some(in_time),
            ..
        }) => {
            let message = format!(
                "StopTransaction for transaction {id}, whose earlier StopTransaction was already acknowledged"
            );
            if in_time {
                ctx.report(&STOP_TWICE, message);
            } else {
                ctx.report_as(
                    &STOP_TWICE,
                    Severity::Warning,
                    format!("{message} (that acknowledgement came after the call timeout; the charger may have given up on it)"),
                );
            }
            return;
        }
        // A retry of an unacknowledged stop: judged the first time.
        Some(_) => return,
        None => {}
    }
    tx.stop = Some(stop);
    let connector = tx.connector;
    let started_at = tx.start.as_ref().map(|c| c.at);

    if let (Some(stop_m), Some(start_m)) = (meter_stop, tx.meter_start)
        && stop_m < start_m
    {
        ctx.report(
                &METER_STOP_BELOW_START,
                format!("transaction {id} stopped with meterStop {stop_m} Wh, below its meterStart {start_m} Wh; the register only counts up"),
            );
    }
    if let Some(ts) = stop_ts {
        match (tx.start_ts, tx.last_ts) {
            (Some(start), _) if ts < start => ctx.report(
                &STOP_BEFORE_START,
                format!("transaction {id} stopped at {ts}, before it started ({start})"),
            ),
            (_, Some(last)) if ts < last => ctx.report(
                &TX_MESSAGES_OUT_OF_ORDER,
                format!("StopTransaction of transaction {id} is timestamped {ts}, before the transaction's earlier delivered sample ({last}); transaction messages must be delivered in the order they were created"),
            ),
            _ => {}
        }
    }

    // The samples sent with the stop.
    follow_samples(tx, ctx, data, interval);
    if let Some(ts) = stop_ts {
        let mut end = tx.end_sample;
        for mv in data {
            let is_end = arr_of(mv, "sampledValue")
                .iter()
                .any(|sv| str_of(sv, "context") == Some("Transaction.End"));
            if let (true, Some(t)) = (is_end, ts_of(mv, "timestamp")) {
                end = Some(end.map_or(t, |e| e.min(t)));
            }
        }
        if let Some(e) = end
            && after(e, window) < ts
        {
            ctx.report(
                    &CONTEXT_MISMATCH,
                    format!(
                        "sample of transaction {id} labelled Transaction.End is timestamped {e}, {:.0} s before the transaction stopped ({ts})",
                        ts.secs_since(e)
                    ),
                );
        }
        tx.see(ts);
    }

    // The idTag that stopped it, if it was just presented.
    let local = reason.is_none_or(|r| r == "Local");
    if local
        && str_of(p, "idTag").is_none()
        && tx
            .reauth_at
            .is_some_and(|at| now.micros().saturating_sub(at.micros()) <= window)
    {
        ctx.report(
            &IDTAG_MISSING_ON_STOP,
            format!("StopTransaction of transaction {id} has no idTag, although its idTag was presented (Authorize) just before the stop"),
        );
    }

    // Invalid id with StopTransactionOnInvalidId.
    if let Some(pos) = s.deauths.iter().position(|d| d.tx == id) {
        let d = s.deauths.remove(pos);
        // A transaction that ended before the charger learnt the answer (queued offline)
        // could not be stopped for it.
        let ended_first = stop_ts.is_some_and(|t| after(t, tol.clock_skew_us) < d.answered_at);
        if reason != Some("DeAuthorized") && !ended_first {
            ctx.report(
                &STOP_REASON_NOT_DEAUTHORIZED,
                format!(
                    "transaction {id} was answered with idTagInfo status {} while StopTransactionOnInvalidId is true, and stopped with reason {} instead of DeAuthorized",
                    d.status,
                    reason.unwrap_or("Local (none given)")
                ),
            );
        }
    }

    let remote = remote_stop_judged(s, ctx, id, reason, stop_ts);

    // A Reset or an UnlockConnector in force makes a missing reason suspicious.
    if reason.is_none() && !remote {
        let reset = s.reset.filter(|r| {
            let in_force = match r.until {
                Some(until) => now <= until,
                None => now.micros().saturating_sub(r.at.micros()) <= window * RESET_WINDOWS,
            };
            in_force && started_at.is_none_or(|at| at < r.at)
        });
        let unlock = connector.is_some_and(|c| {
            s.unlocks
                .iter()
                .any(|(x, at)| *x == c && now.micros().saturating_sub(at.micros()) <= window)
        });
        let expected = if unlock {
            Some("UnlockCommand (an UnlockConnector for its connector was just sent)")
        } else {
            reset.map(|r| {
                if r.reason == "HardReset" {
                    "HardReset (a hard Reset is in progress)"
                } else {
                    "SoftReset (a soft Reset is in progress)"
                }
            })
        };
        if let Some(expected) = expected {
            ctx.report(
                &STOP_REASON_MISSING,
                format!("StopTransaction of transaction {id} gives no reason (which means Local); expected {expected}"),
            );
        }
    }
}

/// Settles the remote stop of transaction `id` (if one was accepted) now that its
/// StopTransaction came. Returns whether there was one.
fn remote_stop_judged(
    s: &mut State,
    ctx: &mut Ctx<'_>,
    id: i64,
    reason: Option<&str>,
    stop_ts: Option<Timestamp>,
) -> bool {
    let Some(pos) = s.remote_stops.iter().position(|r| r.tx == id) else {
        return false;
    };
    let r = s.remote_stops.remove(pos);
    let skew = ctx.config().tol.clock_skew_us;
    let ended_first = stop_ts.is_some_and(|t| after(t, skew) < r.call.at);
    if !ended_first && reason != Some("Remote") {
        ctx.report(
            &STOP_REASON_NOT_REMOTE,
            format!(
                "transaction {id} was stopped after its RemoteStopTransaction (line {}) was accepted, with reason {} instead of Remote",
                r.call.line,
                reason.unwrap_or("Local (none given)")
            ),
        );
    }
    true
}

// ---------------------------------------------------------------------------------------
// Remote start / stop.

fn remote_start_request(ctx: &mut Ctx<'_>, p: &Value) {
    if let Some(c) = int_of(p, "connectorId")
        && c <= 0
    {
        ctx.report(
                &REMOTE_START_CONNECTOR_ZERO,
                format!("RemoteStartTransaction for connectorId {c}; name a connector from 1 up, or leave connectorId out to let the charger choose"),
            );
    }
    let Some(profile) = p.get("chargingProfile") else {
        return;
    };
    if let Some(purpose) = str_of(profile, "chargingProfilePurpose")
        && purpose != "TxProfile"
    {
        ctx.report_at(
                &REMOTE_PROFILE_NOT_TXPROFILE,
                "/chargingProfile/chargingProfilePurpose".to_owned(),
                format!("RemoteStartTransaction carries a charging profile with purpose {purpose}; only a TxProfile applies to the transaction it starts"),
            );
    }
    if let Some(t) = profile.get("transactionId") {
        ctx.report_at(
            &REMOTE_PROFILE_HAS_TRANSACTION_ID,
            "/chargingProfile/transactionId".to_owned(),
            format!("the charging profile of RemoteStartTransaction carries transactionId {t}, but the transaction does not exist yet (errata 3.41)"),
        );
    }
}

fn remote_stop_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let Some(id) = int_of(reply.request, "transactionId") else {
        return;
    };
    let s = &mut st.tx16;
    let ended = match s.tx(id) {
        Some(t) => t.stop.is_some_and(|x| x.sent_at <= reply.call_at),
        None => s.used_ids.contains(&id),
    };
    if ended {
        ctx.report(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but the charger had already stopped that transaction; the answer must be Rejected"),
        );
        return;
    }
    if s.tx(id).is_none() && s.boot_at.is_some() {
        ctx.report_as(
            &REMOTE_STOP_UNKNOWN_TX_ACCEPTED,
            Severity::Warning,
            format!("RemoteStopTransaction for transaction {id} answered Accepted, but no transaction {id} was seen since the station booted; the answer should be Rejected"),
        );
        return;
    }
    s.remote_stops.retain(|r| r.tx != id);
    push_capped(
        &mut s.remote_stops,
        RemoteStop {
            call: CallRef::of_reply(reply),
            tx: id,
            due: Some(after(ctx.now(), ctx.config().tol.followup_window_us)),
        },
        MAX_WATCHES,
    );
}

fn status_notification(st: &mut ProtoState, p: &Value) {
    let (Some(connector), Some(status)) = (int_of(p, "connectorId"), str_of(p, "status")) else {
        return;
    };
    let s = &mut st.tx16;
    match status {
        "Preparing" => s
            .remote_starts
            .retain(|r| r.connector.is_some_and(|c| c != connector)),
        "Faulted" | "Unavailable" => s.reservations.retain(|r| r.connector != connector),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rules::dm::tests::{frame, run};

    #[test]
    fn decimals() {
        for ok in ["0", "-12.5", "+3", "3e2", "1.", ".5", "1E-3", "15000"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "", "-", ".", "12 kWh", "1,5", "NaN", "inf", "0x10", "1e", " 1",
        ] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    /// A 1.6 trace from `(seconds, from, frame)` triples.
    fn trace(frames: &[(u32, &str, &str)]) -> String {
        let mut s = String::from(
            "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp1.6\"}\n",
        );
        for (t, from, text) in frames {
            s.push_str(&frame(*t, from, text));
        }
        s
    }

    const BOOT: &str =
        r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    const BOOT_OK: &str =
        r#"[3,"b1",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;
    const START: &str = r#"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"TAG-1","meterStart":1000,"timestamp":"2026-11-22T10:00:03Z"}]"#;

    fn count(found: &[(&'static str, Severity, u64)], id: &str) -> Vec<Severity> {
        found.iter().filter(|f| f.0 == id).map(|f| f.1).collect()
    }

    #[test]
    fn an_identical_resend_answered_with_the_same_id_is_not_reuse() {
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (40, "charger", &START.replace("\"s1\"", "\"s2\"")),
            (
                41,
                "csms",
                r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
            (
                42,
                "csms",
                r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
            (43, "charger", &START.replace("\"s1\"", "\"s3\"")),
            (
                44,
                "csms",
                r#"[3,"s3",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "tx16.transaction-id-reused").is_empty(),
            "{found:?}"
        );
        assert!(
            count(&found, "tx16.start-on-busy-connector").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_transaction_is_reported_once_and_leniently_before_a_boot() {
        let mv = r#"[2,"m1","MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-11-22T10:00:01Z","sampledValue":[{"value":"100"}]}]}]"#;
        let mv2 = r#"[2,"m2","MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2026-11-22T10:01:01Z","sampledValue":[{"value":"200"}]}]}]"#;
        let t = trace(&[
            (1, "charger", mv),
            (2, "csms", r#"[3,"m1",{}]"#),
            (61, "charger", mv2),
            (62, "csms", r#"[3,"m2",{}]"#),
        ]);
        let found = run(&t);
        assert_eq!(
            count(&found, "tx16.meter-values-unknown-tx"),
            vec![Severity::Info],
            "{found:?}"
        );
    }

    #[test]
    fn a_late_acknowledgement_makes_a_second_stop_a_warning() {
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
        let stop2 = r#"[2,"x2","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (
                4,
                "csms",
                r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
            (60, "charger", stop),
            (100, "csms", r#"[3,"x1",{}]"#),
            (101, "charger", stop2),
            (102, "csms", r#"[3,"x2",{}]"#),
        ]);
        let found = run(&t);
        assert_eq!(
            count(&found, "tx16.stop-twice"),
            vec![Severity::Warning],
            "{found:?}"
        );
    }

    #[test]
    fn a_retry_after_callerror_is_not_a_second_stop() {
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
        let stop2 = r#"[2,"x2","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (
                4,
                "csms",
                r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
            (60, "charger", stop),
            (61, "csms", r#"[4,"x1","InternalError","",{}]"#),
            (70, "charger", stop2),
            (71, "csms", r#"[3,"x2",{}]"#),
        ]);
        let found = run(&t);
        assert!(count(&found, "tx16.stop-twice").is_empty(), "{found:?}");
        assert!(
            count(&found, "tx16.stop-unknown-tx").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn connector_is_busy_until_the_stop_is_sent() {
        let start2 = r#"[2,"s2","StartTransaction",{"connectorId":1,"idTag":"TAG-2","meterStart":2000,"timestamp":"2026-11-22T10:02:00Z"}]"#;
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:01:00Z"}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (
                4,
                "csms",
                r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#,
            ),
            (60, "charger", stop),
            (61, "csms", r#"[3,"x1",{}]"#),
            (120, "charger", start2),
            (
                121,
                "csms",
                r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":8}]"#,
            ),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "tx16.start-on-busy-connector").is_empty(),
            "{found:?}"
        );
        assert!(found.iter().all(|f| !f.0.starts_with("tx16.")), "{found:?}");
    }

    const START_OK: &str = r#"[3,"s1",{"idTagInfo":{"status":"Accepted"},"transactionId":7}]"#;

    #[test]
    fn remote_stop_of_an_unseen_transaction_is_judged_only_after_a_boot() {
        let rs = r#"[2,"r1","RemoteStopTransaction",{"transactionId":42}]"#;
        let ok = r#"[3,"r1",{"status":"Accepted"}]"#;
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":42,"meterStop":5,"timestamp":"2026-11-22T10:00:04Z","reason":"Remote"}]"#;
        // Mid-life trace: the transaction may predate it; the stop follows; all is well.
        let t = trace(&[
            (1, "csms", rs),
            (2, "charger", ok),
            (3, "charger", stop),
            (4, "csms", r#"[3,"x1",{}]"#),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "remote.stop-unknown-tx-accepted").is_empty(),
            "{found:?}"
        );
        assert!(
            count(&found, "remote.stop-not-followed").is_empty(),
            "{found:?}"
        );
        assert!(
            count(&found, "tx16.stop-reason-not-remote").is_empty(),
            "{found:?}"
        );
        assert_eq!(count(&found, "tx16.stop-unknown-tx"), vec![Severity::Info]);
        // After a boot, an id never seen is suspicious (warning), and not also "not followed".
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "csms", rs),
            (4, "charger", ok),
            (200, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                201,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:03:21Z"}]"#,
            ),
        ]);
        let found = run(&t);
        assert_eq!(
            count(&found, "remote.stop-unknown-tx-accepted"),
            vec![Severity::Warning],
            "{found:?}"
        );
        assert!(
            count(&found, "remote.stop-not-followed").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn a_stop_that_happened_before_the_remote_stop_keeps_its_reason() {
        let rs = r#"[2,"r1","RemoteStopTransaction",{"transactionId":7}]"#;
        // Stopped locally at 10:00:05, the remote stop crossed it at 10:05:00.
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T10:00:05Z","reason":"Local"}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (4, "csms", START_OK),
            (300, "csms", rs),
            (301, "charger", r#"[3,"r1",{"status":"Accepted"}]"#),
            (302, "charger", stop),
            (303, "csms", r#"[3,"x1",{}]"#),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "tx16.stop-reason-not-remote").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn refused_id_without_a_stop_is_reported_at_the_start() {
        let getconf = r#"[2,"g1","GetConfiguration",{"key":["StopTransactionOnInvalidId"]}]"#;
        let conf = r#"[3,"g1",{"configurationKey":[{"key":"StopTransactionOnInvalidId","readonly":false,"value":"true"}]}]"#;
        let blocked = r#"[3,"s1",{"idTagInfo":{"status":"Blocked"},"transactionId":7}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "csms", getconf),
            (4, "charger", conf),
            (5, "charger", START),
            (6, "csms", blocked),
            (100, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                101,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:01:41Z"}]"#,
            ),
        ]);
        let found: Vec<_> = run(&t)
            .into_iter()
            .filter(|f| f.0 == "tx16.stop-reason-not-deauthorized")
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, 6, "reported at the StartTransaction line");
        // A transaction completed offline (stopped before the answer came) is not judged.
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":7,"meterStop":2000,"timestamp":"2026-11-22T09:30:00Z","reason":"Local"}]"#;
        let start = START.replace("10:00:03", "09:20:00");
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "csms", getconf),
            (4, "charger", conf),
            (5, "charger", &start),
            (6, "csms", blocked),
            (7, "charger", stop),
            (8, "csms", r#"[3,"x1",{}]"#),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "tx16.stop-reason-not-deauthorized").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn unanswered_start_is_reported_at_its_line_unless_the_connection_closed_first() {
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
            (60, "charger", r#"[2,"h1","Heartbeat",{}]"#),
            (
                61,
                "csms",
                r#"[3,"h1",{"currentTime":"2026-11-22T10:01:01Z"}]"#,
            ),
        ]);
        let found: Vec<_> = run(&t)
            .into_iter()
            .filter(|f| f.0 == "tx16.start-not-answered")
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, 4);
        let mut t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "charger", START),
        ]);
        t.push_str("{\"ts\":\"2026-11-22T10:00:05.000Z\",\"conn\":\"CS-1\",\"event\":\"close\",\"code\":1006,\"by\":\"charger\"}\n");
        t.push_str(&frame(90, "charger", r#"[2,"h1","Heartbeat",{}]"#));
        let found = run(&t);
        assert!(
            count(&found, "tx16.start-not-answered").is_empty(),
            "{found:?}"
        );
    }

    #[test]
    fn a_reset_explains_only_transactions_it_interrupted() {
        let reset = r#"[2,"r1","Reset",{"type":"Hard"}]"#;
        let start2 = r#"[2,"s2","StartTransaction",{"connectorId":2,"idTag":"TAG-2","meterStart":0,"timestamp":"2026-11-22T10:00:12Z"}]"#;
        let stop = r#"[2,"x1","StopTransaction",{"transactionId":8,"meterStop":10,"timestamp":"2026-11-22T10:00:14Z"}]"#;
        let t = trace(&[
            (1, "charger", BOOT),
            (2, "csms", BOOT_OK),
            (3, "csms", reset),
            (4, "charger", r#"[3,"r1",{"status":"Accepted"}]"#),
            (10, "charger", BOOT),
            (11, "csms", BOOT_OK),
            (12, "charger", start2),
            (
                13,
                "csms",
                r#"[3,"s2",{"idTagInfo":{"status":"Accepted"},"transactionId":8}]"#,
            ),
            (14, "charger", stop),
            (15, "csms", r#"[3,"x1",{}]"#),
        ]);
        let found = run(&t);
        assert!(
            count(&found, "tx16.stop-reason-missing").is_empty(),
            "{found:?}"
        );
    }
}
