//! `tx16.*`: transactions on OCPP 1.6 (StartTransaction, MeterValues, StopTransaction).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `tx16/transaction.rs`.

use crate::engine::rules::{Party, Rule, V16};
use crate::finding::Severity;

pub(crate) mod transaction;

/// The rules of this prefix, in registry order.
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
];

pub static START_CONNECTOR_ZERO: Rule = Rule {
    id: "tx16.start-connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StartTransaction for connectorId 0 or below",
    spec: "OCPP 1.6 §6.45",
    doc: "What it checks: a StartTransaction whose `connectorId` is 0 or negative.\n\n\
Why it matters: a transaction runs on one physical connector, numbered from 1; connector 0 \
is the charge point as a whole and cannot carry a session.\n\n\
Example:\n  StartTransaction {connectorId:0, idTag:\"TAG-1\", meterStart:0, timestamp:...}",
};

pub static START_ON_BUSY_CONNECTOR: Rule = Rule {
    id: "tx16.start-on-busy-connector",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StartTransaction on a connector whose previous transaction was never stopped",
    spec: "OCPP 1.6 §3.6, §4.8",
    doc: "What it checks: a StartTransaction for a connector on which a transaction is open: its \
StartTransaction was answered with a transaction id, or it was seen in MeterValues, and no \
StopTransaction for it was sent. An identical resend of the StartTransaction that opened it \
is not reported. A warning: a stop the trace missed cannot be ruled out.\n\n\
Why it matters: a connector carries one transaction at a time; the earlier one stays open \
at the CSMS for ever, and its energy is never billed.\n\n\
Example:\n  StartTransaction {connectorId:1, ...} -> {transactionId:7}, then StartTransaction \
{connectorId:1, ...} without a StopTransaction for 7",
};

pub static TRANSACTION_ID_REUSED: Rule = Rule {
    id: "tx16.transaction-id-reused",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "StartTransaction answered with a transactionId already used for this charger",
    spec: "OCPP 1.6 errata 3.54 (§6.46)",
    doc: "What it checks: a StartTransaction.conf whose `transactionId` is the id of a transaction \
of this charger that is still open, or that was used before in the trace. Answering an \
identical resend of the same StartTransaction with the same id is not reported.\n\n\
Why it matters: the id is the only key that ties MeterValues and StopTransaction to a \
transaction; errata 3.54 recommends unique ids, and a reused id mixes two sessions' meter \
data and bills.\n\n\
Example:\n  StartTransaction -> {transactionId:7}, ... StopTransaction 7, then a new \
StartTransaction -> {transactionId:7}",
};

pub static TRANSACTION_ID_NONPOSITIVE: Rule = Rule {
    id: "tx16.transaction-id-nonpositive",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "StartTransaction answered with a transactionId of 0 or below",
    spec: "OCPP 1.6 errata 3.54, 3.18",
    doc: "What it checks: a StartTransaction.conf whose `transactionId` is 0 or negative.\n\n\
Why it matters: the id is legal, but errata 3.54 recommends positive ids, and `-1` has a \
meaning of its own: chargers use it for a transaction whose StartTransaction never got \
through (errata 3.18), so a CSMS-issued -1 is ambiguous.\n\n\
Example:\n  StartTransaction -> {idTagInfo:{status:\"Accepted\"}, transactionId:0}",
};

pub static START_NOT_ANSWERED: Rule = Rule {
    id: "tx16.start-not-answered",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "StartTransaction not answered with a CALLRESULT within the call timeout",
    spec: "OCPP 1.6 §4.8, §3.7.1",
    doc: "What it checks: a StartTransaction that gets no CALLRESULT within `call_timeout` \
(default 30 s; reported at the StartTransaction line), or that is answered with a \
CALLERROR (reported at the error). A connection that closes before the timeout is not \
reported.\n\n\
Why it matters: the CSMS should answer every StartTransaction, even one that fails its own \
checks, because the charger can only learn the transaction id from that answer; without it \
the charger retries, and its later messages carry transactionId -1.\n\n\
Example:\n  StartTransaction {connectorId:1, ...} -> CALLERROR InternalError",
};

pub static METER_VALUES_UNKNOWN_TX: Rule = Rule {
    id: "tx16.meter-values-unknown-tx",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "MeterValues for a transactionId that is not open on this charger",
    spec: "OCPP 1.6 §4.7; errata 3.16",
    doc: "What it checks: a MeterValues with a `transactionId` (other than -1) that no \
StartTransaction answer in the trace issued. Reported once per id. A warning when the \
station's BootNotification was seen in the trace and the samples are timestamped after it \
(within `clock_skew`): its transactions since are known. Info otherwise, since the \
transaction may have started before the trace or before that boot (queued values of an \
interrupted transaction).\n\n\
Why it matters: meter values must name a transaction the CSMS issued; values for an unknown \
id cannot be booked.\n\n\
Example:\n  MeterValues {connectorId:1, transactionId:99, ...} after a boot, without a \
StartTransaction answered with 99",
};

pub static METER_VALUES_WRONG_CONNECTOR: Rule = Rule {
    id: "tx16.meter-values-wrong-connector",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "MeterValues for a transaction that runs on another connector",
    spec: "OCPP 1.6 §4.7; errata 3.16",
    doc: "What it checks: a MeterValues whose `transactionId` is open on a connector other than \
the message's `connectorId` (connectorId 0, the main meter, is left to \
tx16.meter-values-main-meter-with-tx).\n\n\
Why it matters: the connector and the transaction must agree; a CSMS that trusts either one \
attributes the energy to the wrong session.\n\n\
Example:\n  StartTransaction {connectorId:1} -> {transactionId:7}, then MeterValues \
{connectorId:2, transactionId:7, ...}",
};

pub static METER_VALUES_MAIN_METER_WITH_TX: Rule = Rule {
    id: "tx16.meter-values-main-meter-with-tx",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "MeterValues for connectorId 0 carries a transactionId",
    spec: "OCPP 1.6 errata 3.16",
    doc: "What it checks: a MeterValues for connectorId 0 (the main meter of the charge point) \
that carries a `transactionId`.\n\n\
Why it matters: errata 3.16 recommends leaving the transaction out of main-meter values, \
which measure the whole charge point and not one session.\n\n\
Example:\n  MeterValues {connectorId:0, transactionId:7, meterValue:[...]}",
};

pub static METER_VALUES_AFTER_STOP: Rule = Rule {
    id: "tx16.meter-values-after-stop",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "MeterValues for a stopped transaction, sampled after its stop",
    spec: "OCPP 1.6 §3.7, §4.7",
    doc: "What it checks: a MeterValues for a transaction whose StopTransaction was already \
acknowledged, with sample timestamps after the stop's `timestamp`. (Samples taken before the \
stop but delivered after it are an ordering fault: tx16.tx-messages-out-of-order.)\n\n\
Why it matters: after the stop no energy belongs to the transaction; values sampled later \
are attributed to a closed session.\n\n\
Example:\n  StopTransaction {transactionId:7, timestamp:\"10:30:00Z\"} -> {}, then MeterValues \
{transactionId:7, meterValue:[{timestamp:\"10:31:00Z\", ...}]}",
};

pub static STOP_UNKNOWN_TX: Rule = Rule {
    id: "tx16.stop-unknown-tx",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StopTransaction for a transactionId never issued to this charger",
    spec: "OCPP 1.6 §6.49",
    doc: "What it checks: a StopTransaction with a `transactionId` (other than -1) that no \
StartTransaction answer in the trace issued and no MeterValues mentioned. A warning when \
the station's BootNotification was seen in the trace and the stop is timestamped after it \
(within `clock_skew`); info otherwise (the transaction may predate the trace), and info too \
when the stop reason is PowerLoss, Reboot, HardReset or SoftReset (a transaction \
interrupted by a reboot may predate the boot).\n\n\
Why it matters: the CSMS cannot close a transaction it never opened; the stop and its meter \
reading are lost.\n\n\
Example:\n  (after BootNotification) StopTransaction {transactionId:99, reason:\"Local\", ...}",
};

pub static STOP_TWICE: Rule = Rule {
    id: "tx16.stop-twice",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StopTransaction for a transaction whose stop was already acknowledged",
    spec: "OCPP 1.6 §3.7.1, §4.10",
    doc: "What it checks: a StopTransaction for a transaction whose earlier StopTransaction \
already received a CALLRESULT. A resend after a CALLERROR or a timeout is a legal retry; \
when the earlier CALLRESULT came only after the call timeout (the charger may have given up \
on it) the finding is a warning.\n\n\
Why it matters: a transaction ends once; a second stop may close it again with another \
meter reading and confuses billing.\n\n\
Example:\n  StopTransaction {transactionId:7} -> {}, then StopTransaction {transactionId:7}",
};

pub static METER_STOP_BELOW_START: Rule = Rule {
    id: "tx16.meter-stop-below-start",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StopTransaction meterStop is below the transaction's meterStart",
    spec: "OCPP 1.6 §6.45, §6.49",
    doc: "What it checks: a StopTransaction whose `meterStop` is smaller than the `meterStart` of \
the StartTransaction that opened the transaction.\n\n\
Why it matters: both are readings of the same energy register in Wh, which only counts up; \
a lower stop reading means a meter reset, a swapped meter or a wrong value, and a negative \
amount of energy to bill. A warning: the specification states no explicit requirement.\n\n\
Example:\n  StartTransaction {meterStart:15000} ... StopTransaction {meterStop:1200}",
};

pub static STOP_BEFORE_START: Rule = Rule {
    id: "tx16.stop-before-start",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StopTransaction timestamp earlier than the StartTransaction timestamp",
    spec: "OCPP 1.6 §6.45, §6.49",
    doc: "What it checks: a StopTransaction whose `timestamp` is earlier than the `timestamp` of \
the StartTransaction of the same transaction.\n\n\
Why it matters: a transaction cannot end before it began; the charger's clock jumped, or \
the two messages belong to different sessions.\n\n\
Example:\n  StartTransaction {timestamp:\"10:00:00Z\"} ... StopTransaction \
{timestamp:\"09:58:00Z\"}",
};

pub static TX_MESSAGES_OUT_OF_ORDER: Rule = Rule {
    id: "tx16.tx-messages-out-of-order",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Transaction-related messages of one transaction delivered with decreasing timestamps",
    spec: "OCPP 1.6 §3.7",
    doc: "What it checks: within one transaction, a MeterValues whose periodic or clock-aligned \
samples (context Sample.Periodic, the default, or Sample.Clock) are timestamped before the \
latest of the transaction's earlier delivered messages (its start, earlier samples), or a \
StopTransaction timestamped before the latest sample. Triggered samples may overtake the \
queue and are not compared; a stop before the start is tx16.stop-before-start.\n\n\
Why it matters: transaction-related messages are queued and must be delivered in the order \
they were created, also after an offline period; a CSMS that processes them in arrival \
order computes wrong energy curves and totals.\n\n\
Example:\n  MeterValues {transactionId:7, meterValue:[{timestamp:\"10:10:00Z\"...}]}, then \
MeterValues {transactionId:7, meterValue:[{timestamp:\"10:05:00Z\"...}]}",
};

pub static MINUS_ONE_TRANSACTION_ID: Rule = Rule {
    id: "tx16.minus-one-transaction-id",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "MeterValues or StopTransaction with transactionId -1",
    spec: "OCPP 1.6 errata 3.18",
    doc: "What it checks: a MeterValues or StopTransaction with `transactionId` -1.\n\n\
Why it matters: it is legal (a charger whose StartTransaction never got through uses -1, \
and the CSMS must accept it), but it means a transaction the CSMS does not know; worth a \
look at why the StartTransaction failed.\n\n\
Example:\n  StopTransaction {transactionId:-1, meterStop:1500, ...}",
};

pub static MINUS_ONE_REJECTED: Rule = Rule {
    id: "tx16.minus-one-rejected",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "CSMS answers a MeterValues or StopTransaction with transactionId -1 with a CALLERROR",
    spec: "OCPP 1.6 errata 3.18",
    doc: "What it checks: a MeterValues or StopTransaction with `transactionId` -1 answered with a \
CALLERROR.\n\n\
Why it matters: errata 3.18 makes -1 the id of a transaction whose start never got \
through and requires the CSMS to accept such messages; rejecting them makes the charger \
retry and then drop the transaction's data.\n\n\
Example:\n  StopTransaction {transactionId:-1, ...} -> CALLERROR PropertyConstraintViolation",
};

pub static STOP_REASON_NOT_REMOTE: Rule = Rule {
    id: "tx16.stop-reason-not-remote",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Transaction stopped after an accepted RemoteStopTransaction with a reason other than Remote",
    spec: "OCPP 1.6 §4.10, §5.12, §7.36; OCTT TC_012",
    doc: "What it checks: a StopTransaction for a transaction whose RemoteStopTransaction the \
charger accepted, with a `reason` other than Remote, or none (which means Local). A stop \
timestamped more than `clock_skew` before the RemoteStopTransaction was sent is not judged \
(it ended for its own reason first).\n\n\
Why it matters: the reason tells the CSMS and the driver who ended the session; Local after \
a remote stop suggests the charger did not act on the request.\n\n\
Example:\n  RemoteStopTransaction {transactionId:7} -> Accepted, then StopTransaction \
{transactionId:7, meterStop:...} (no reason)",
};

pub static STOP_REASON_NOT_DEAUTHORIZED: Rule = Rule {
    id: "tx16.stop-reason-not-deauthorized",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Transaction with a refused idTag not stopped with reason DeAuthorized",
    spec: "OCPP 1.6 errata 3.17; §9.1 StopTransactionOnInvalidId",
    doc: "What it checks: the StartTransaction.conf gave an `idTagInfo.status` other than \
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
StopTransaction {transactionId:7, reason:\"Local\"}",
};

pub static STOP_REASON_MISSING: Rule = Rule {
    id: "tx16.stop-reason-missing",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StopTransaction without reason although the context shows a non-local stop",
    spec: "OCPP 1.6 §4.10, §6.49, §7.36",
    doc: "What it checks: a StopTransaction without `reason` (which means Local) while the \
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
without reason",
};

pub static RESERVATION_ID_MISSING: Rule = Rule {
    id: "tx16.reservation-id-missing",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "StartTransaction that uses a reservation does not carry its reservationId",
    spec: "OCPP 1.6 §4.8, §5.13",
    doc: "What it checks: a StartTransaction without `reservationId` on a connector that has an \
accepted, unexpired, not cancelled reservation (or any connector, for a reservation of \
connector 0), for the same idTag (compared case-insensitively): an error. When only the \
parent idTag matches (the parent learnt from Authorize or StartTransaction answers), a \
warning. A reservation ends with its expiry, a CancelReservation the charger accepted, a \
Faulted or Unavailable status of its connector, or a transaction that used it.\n\n\
Why it matters: the reservationId tells the CSMS the reservation was used; without it the \
CSMS keeps the reservation open and may bill or report it as a no-show.\n\n\
Example:\n  ReserveNow {connectorId:1, idTag:\"TAG-1\", reservationId:5} -> Accepted, then \
StartTransaction {connectorId:1, idTag:\"TAG-1\", ...} without reservationId",
};

pub static SAMPLED_VALUE_NOT_NUMERIC: Rule = Rule {
    id: "tx16.sampled-value-not-numeric",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Raw sampledValue value is not a decimal number",
    spec: "OCPP 1.6 §7.43",
    doc: "What it checks: a `sampledValue` in MeterValues or StopTransaction `transactionData` \
whose `format` is absent or Raw and whose `value` is not a decimal number (`-12.5`, `3e2` \
are; `12 kWh`, `1,5`, `NaN`, `\"\"` are not).\n\n\
Why it matters: a raw value is the reading as a number; anything else cannot be used, and \
SignedData is the format for non-numeric payloads.\n\n\
Example:\n  sampledValue:[{value:\"15.2 kWh\", measurand:\"Energy.Active.Import.Register\"}]",
};

pub static REGISTER_DECREASING: Rule = Rule {
    id: "tx16.register-decreasing",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Energy.Active.Import.Register readings of a transaction decrease",
    spec: "OCPP 1.6 §7.31",
    doc: "What it checks: within one transaction, an Energy.Active.Import.Register sample (the \
default measurand) lower than the transaction's previous one with the same context, phase, \
location and unit, in timestamp order (a Transaction.Begin reading is not compared with a \
periodic one). Reported once per transaction.\n\n\
Why it matters: a register is cumulative and only counts up; a falling value means a meter \
reset or a mix-up of meters.\n\n\
Example:\n  MeterValues {transactionId:7, value:\"1500\"}, then {transactionId:7, value:\"1200\"}",
};

pub static CONTEXT_MISMATCH: Rule = Rule {
    id: "tx16.context-mismatch",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Transaction.Begin sample well after the start, or Transaction.End sample well before the stop",
    spec: "OCPP 1.6 §7.35; errata 4.25",
    doc: "What it checks: a MeterValues or StopTransaction `transactionData` sample with context \
Transaction.Begin timestamped more than `followup_window` after the transaction's start, \
or with context Transaction.End timestamped more than `followup_window` before its stop.\n\n\
Why it matters: the reading context says when a value was taken; a Begin value from the \
middle of the session (or an End value from before its end) gives the CSMS wrong start or \
stop readings. Info: the window is a tolerance of this tool, not of the specification.\n\n\
Example:\n  StartTransaction {timestamp:\"10:00:00Z\"}, then MeterValues \
{sampledValue:[{context:\"Transaction.Begin\"}], timestamp:\"10:30:00Z\"}",
};

pub static SAMPLE_INTERVAL_MISMATCH: Rule = Rule {
    id: "tx16.sample-interval-mismatch",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Periodic samples spaced unlike MeterValueSampleInterval",
    spec: "OCPP 1.6 §3.16.1, §9.1 MeterValueSampleInterval",
    doc: "What it checks: two consecutive Sample.Periodic samples of a transaction (the default \
context) whose spacing differs from the known `MeterValueSampleInterval` (GetConfiguration \
or an accepted ChangeConfiguration, when above 0) by more than half of it. Reported once per \
transaction; a change of the key restarts the comparison.\n\n\
Why it matters: the interval is the CSMS's choice of resolution; a charger that ignores it \
sends too much or too little data.\n\n\
Example:\n  MeterValueSampleInterval = 60, periodic samples at 10:00:00 and 10:05:00",
};

pub static IDTAG_MISSING_ON_STOP: Rule = Rule {
    id: "tx16.idtag-missing-on-stop",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Local stop right after the transaction's idTag was presented, and no idTag in StopTransaction",
    spec: "OCPP 1.6 §6.49",
    doc: "What it checks: a StopTransaction without `idTag` and with reason Local (or none) for a \
transaction whose idTag (or an idTag with the same parent) was presented in an Authorize \
within `followup_window` before the stop.\n\n\
Why it matters: the idTag that stopped the transaction must be sent when it is known; the \
CSMS uses it to tell who ended the session.\n\n\
Example:\n  Authorize {idTag:\"TAG-1\"}, then StopTransaction {transactionId:7, ...} without \
idTag",
};
