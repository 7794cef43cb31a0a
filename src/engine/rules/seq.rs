//! `seq.*`: the start-up sequence: registration (BootNotification) and liveness (heartbeats, clocks).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `seq/boot.rs`, `seq/liveness.rs`.

use crate::engine::rules::{ALL, Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod boot;
pub(crate) mod liveness;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &BOOT_FIRST,
    &CALL_WHILE_PENDING,
    &MESSAGE_WHILE_REJECTED,
    &RESPONDED_WHILE_REJECTED,
    &REJECTED_REQUEST_NOT_SECURITY_ERROR,
    &CSMS_CALL_WHILE_REJECTED,
    &NOT_ACCEPTED_CALL_ANSWERED,
    &REMOTE_TX_WHILE_PENDING,
    &REMOTE_TX_ACCEPTED_WHILE_PENDING,
    &BOOT_RETRY_TOO_EARLY,
    &BOOT_RETRY_MISSING,
    &BOOT_INTERVAL_SUSPICIOUS,
    &PENDING_CONNECTION_CLOSED,
    &STATUS_MISSING_AFTER_ACCEPT,
    &TRIGGER_BOOT_AFTER_ACCEPT,
    &TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED,
    &BOOT_REASON_UNEXPECTED,
    &HEARTBEAT_OVERDUE,
    &HEARTBEAT_INTERVAL_IGNORED,
    &NO_DAILY_HEARTBEAT,
    &CSMS_CLOCK_DRIFT,
    &CS_TIMESTAMP_FUTURE,
];

pub static BOOT_FIRST: Rule = Rule {
    id: "seq.boot-first",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger sends another CALL before its BootNotification was answered",
    spec: "OCPP 1.6 §4.2; OCPP-J 1.6 §5.4; 2.0.1 Part 2 B01.FR.08; 2.0.1 Part 4 §5.3",
    doc: "What it checks: a CALL other than BootNotification from a charger that is booting: it \
sent a BootNotification that is not answered yet (or was answered with a CALLERROR), on this \
connection or on one before it. Also, as info only, a charger that reconnects after an \
accepted Reset or a firmware InstallRebooting and does not start with a BootNotification (it \
may not have rebooted yet). A trace that starts mid-life, with no BootNotification seen, is \
never judged: a reconnect without reboot need not boot again.\n\n\
Calls before the boot: a charger that sends CALLs on a connection and only then its \
BootNotification on the same connection sent them before it was registered; reported at the \
first such CALL, per connection: an error when the trace shows the connection from its start \
and no earlier connection was accepted, a warning when one was (then either the CALL or the \
BootNotification is out of place), info when the trace may have missed the connection's start \
or a TriggerMessage asked for the BootNotification.\n\n\
Why it matters: between power-on and an Accepted or Pending answer the charger SHALL NOT send \
anything else, queued messages from earlier sessions included; the CSMS does not know the \
station yet.\n\n\
Example:\n  charger: BootNotification {...}   (no answer yet)\n  charger: StatusNotification {...}",
};

pub static CALL_WHILE_PENDING: Rule = Rule {
    id: "seq.call-while-pending",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger sends a CALL while its registration is Pending that nobody asked for",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.02",
    doc: "What it checks: while the last BootNotification was answered Pending, the charger sends a \
CALL other than BootNotification that is not the message of a TriggerMessage the CSMS sent \
(nor, on 2.x, a NotifyReport after a GetBaseReport / GetReport).\n\n\
Why it matters: a Pending station is not registered yet; it SHALL NOT initiate messages \
except on request, so transactions or statuses it sends may be refused or lost.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:60}\n  charger: Heartbeat {}",
};

pub static MESSAGE_WHILE_REJECTED: Rule = Rule {
    id: "seq.message-while-rejected",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger sends a CALL other than BootNotification while its registration is Rejected",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B03.FR.02",
    doc: "What it checks: while the last BootNotification was answered Rejected, the charger sends \
any CALL other than a new BootNotification. Answers to CSMS requests are judged by \
`seq.responded-while-rejected` (1.6) and `seq.rejected-request-not-security-error` (2.x).\n\n\
Why it matters: a rejected station SHALL NOT send any message until the retry interval has \
passed, and then only a new BootNotification.\n\n\
Example:\n  BootNotification -> {status:\"Rejected\", interval:300}\n  charger: StatusNotification {...}",
};

pub static RESPONDED_WHILE_REJECTED: Rule = Rule {
    id: "seq.responded-while-rejected",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "1.6 charger answers a Central System request while its registration is Rejected",
    spec: "OCPP 1.6 §4.2",
    doc: "What it checks: a 1.6 charger whose last BootNotification was answered Rejected answers a \
Central System CALL (CALLRESULT or CALLERROR) before the retry interval has passed (with \
interval 0: before its next BootNotification).\n\n\
Why it matters: during the Rejected wait a 1.6 charger SHALL NOT respond to Central System \
initiated messages at all.\n\n\
Example:\n  BootNotification -> Rejected, then csms: GetConfiguration {}  charger: [3,...,{...}]",
};

pub static REJECTED_REQUEST_NOT_SECURITY_ERROR: Rule = Rule {
    id: "seq.rejected-request-not-security-error",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Rejected 2.x station answers a CSMS request with something other than CALLERROR SecurityError",
    spec: "2.0.1 Part 2 B03.FR.08; 2.0.1 Part 6 TC_B_30_CS",
    doc: "What it checks: a 2.x station whose last BootNotification was answered Rejected answers a \
CSMS CALL (other than TriggerMessage for BootNotification) with a CALLRESULT or with a CALLERROR \
whose code is not SecurityError.\n\n\
Why it matters: a rejected station is not allowed to act on CSMS requests; the required \
answer tells the CSMS why nothing happens.\n\n\
Example:\n  BootNotification -> Rejected, then GetVariables {...} -> [3,...,{getVariableResult:[...]}]",
};

pub static CSMS_CALL_WHILE_REJECTED: Rule = Rule {
    id: "seq.csms-call-while-rejected",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Csms,
    summary: "CSMS sends a request to a station whose registration it rejected",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B03.FR.03",
    doc: "What it checks: the CSMS sends a CALL (other than TriggerMessage for BootNotification) \
while the station's last BootNotification was answered Rejected. An error on 2.x (SHALL \
NOT), a warning on 1.6 (SHOULD NOT).\n\n\
Why it matters: the station will not act on it (a 1.6 charger does not even answer), so the \
request times out or fails with SecurityError.\n\n\
Example:\n  BootNotification -> Rejected, then csms: ChangeConfiguration {...}",
};

pub static NOT_ACCEPTED_CALL_ANSWERED: Rule = Rule {
    id: "seq.not-accepted-call-answered",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Csms,
    summary: "CSMS answers a CALL the unregistered station was not allowed to send, without SecurityError",
    spec: "OCPP-J 1.6 errata §3.10; 2.0.1 Part 2 B01.FR.10, B02.FR.09, B03.FR.07, Gen §3 FR.04 (errata 2.3)",
    doc: "What it checks: the CSMS answers a CALL that `seq.boot-first`, `seq.call-while-pending` \
or `seq.message-while-rejected` flagged with anything other than CALLERROR SecurityError. An \
error on 2.x (SHALL), a warning on 1.6 (recommended by the OCPP-J errata).\n\n\
Why it matters: a normal answer tells the station its message was processed, so it never \
learns that it must register first.\n\n\
Example:\n  BootNotification -> Pending, then charger: Heartbeat {}  csms: [3,...,{currentTime:...}]",
};

pub static REMOTE_TX_WHILE_PENDING: Rule = Rule {
    id: "seq.remote-tx-while-pending",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "CSMS asks a Pending station to start or stop a transaction",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.05",
    doc: "What it checks: RemoteStartTransaction / RemoteStopTransaction (1.6) or \
RequestStartTransaction / RequestStopTransaction (2.x) sent while the station's last \
BootNotification was answered Pending.\n\n\
Why it matters: while Pending the CSMS may only read and configure the station; remote \
transaction control is not allowed until it is Accepted.\n\n\
Example:\n  BootNotification -> Pending, then csms: RemoteStartTransaction {idTag:\"T1\"}",
};

pub static REMOTE_TX_ACCEPTED_WHILE_PENDING: Rule = Rule {
    id: "seq.remote-tx-accepted-while-pending",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Pending station accepts a RequestStart/StopTransaction",
    spec: "2.0.1 Part 2 B02.FR.05",
    doc: "What it checks: a 2.x station whose registration is Pending answers \
RequestStartTransaction or RequestStopTransaction with status Accepted.\n\n\
Why it matters: the station SHALL answer Rejected while Pending; accepting starts or stops a \
transaction the CSMS cannot yet account for.\n\n\
Example:\n  BootNotification -> Pending, then RequestStartTransaction {...} -> {status:\"Accepted\"}",
};

pub static BOOT_RETRY_TOO_EARLY: Rule = Rule {
    id: "seq.boot-retry-too-early",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Charger,
    summary: "BootNotification repeated before the interval of the Pending/Rejected answer passed",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.04, B03.FR.02",
    doc: "What it checks: after a BootNotification answered Pending or Rejected with `interval` > 0, \
the next BootNotification comes earlier than `interval` minus the boot tolerance (10 % of the \
interval, at least 5 s; `boot_tolerance`, `boot_tolerance_min`), and no TriggerMessage for \
BootNotification was accepted in between. On a new connection it is info only (the station \
may have rebooted).\n\n\
Why it matters: the interval is how the CSMS spreads the load of stations it cannot accept \
yet; retrying early floods it.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:300}, then BootNotification 10 s later",
};

pub static BOOT_RETRY_MISSING: Rule = Rule {
    id: "seq.boot-retry-missing",
    severity: Severity::Warning,
    severity_16: Some(Severity::Info),
    versions: ALL,
    by: Party::Charger,
    summary: "No new BootNotification after the interval of a Pending/Rejected answer",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.08, B03.FR.06",
    doc: "What it checks: after a BootNotification answered Pending or Rejected with `interval` > 0, \
the connection stays open and no new BootNotification comes within `interval` plus the boot \
tolerance. A closed connection ends the watch (the station may be rebooting). A warning on \
2.x, info on 1.6.\n\n\
Why it matters: a station that does not retry stays unregistered and unusable.\n\n\
Example:\n  BootNotification -> {status:\"Pending\", interval:60}, then 10 minutes without a BootNotification",
};

pub static BOOT_INTERVAL_SUSPICIOUS: Rule = Rule {
    id: "seq.boot-interval-suspicious",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "BootNotification answer with interval 0 on Accepted, or a negative interval",
    spec: "OCPP 1.6 §6.4; 2.0.1 Part 2 B01.FR.04, B02.FR.07",
    doc: "What it checks: a BootNotification response whose `interval` is 0 with status Accepted \
(info: the station keeps its own heartbeat interval) or negative (warning: no meaning at \
all).\n\n\
Why it matters: with Accepted the interval is the heartbeat interval; 0 leaves the station \
without one from the CSMS, which is rarely intended.\n\n\
Example:\n  BootNotification -> {status:\"Accepted\", currentTime:\"...\", interval:0}",
};

pub static PENDING_CONNECTION_CLOSED: Rule = Rule {
    id: "seq.pending-connection-closed",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Any,
    summary: "WebSocket closed while the station's registration is Pending",
    spec: "OCPP 1.6 §4.2; 2.0.1 Part 2 B02.FR.06",
    doc: "What it checks: either side closes the connection while the station's last \
BootNotification was answered Pending, unless a Reset was accepted since (the station \
reboots). An error on 2.x (SHALL NOT), a warning on 1.6 (SHOULD).\n\n\
Why it matters: Pending exists so that the CSMS can configure the station over the open \
connection; closing it defeats that and makes the station boot again.\n\n\
Example:\n  BootNotification -> {status:\"Pending\"}, then close",
};

pub static STATUS_MISSING_AFTER_ACCEPT: Rule = Rule {
    id: "seq.status-missing-after-accept",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "No StatusNotification after the BootNotification was accepted",
    spec: "OCPP 1.6 errata 3.22; 2.0.1 Part 2 B01.FR.05, G01",
    doc: "What it checks: a BootNotification answered Accepted and no StatusNotification (2.x: or \
NotifyEvent) within `boot_status_window` (default 300 s) while the connection stays open. Only one \
status is required: the number of connectors is usually unknown. Reported at the \
BootNotification.\n\n\
Why it matters: after a boot the CSMS knows nothing of the connectors; the station shall \
report the status of each.\n\n\
Example:\n  BootNotification -> Accepted, then only Heartbeats for minutes",
};

pub static TRIGGER_BOOT_AFTER_ACCEPT: Rule = Rule {
    id: "seq.trigger-boot-after-accept",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "Central System triggers a BootNotification although the charger is already accepted",
    spec: "OCPP 1.6 errata 3.40 (an accepted charger should refuse it); OCPP 1.6 §5.17",
    doc: "What it checks: a 1.6 TriggerMessage / ExtendedTriggerMessage for BootNotification sent \
while the charger's last BootNotification was answered Accepted. Info only: the base text \
allows any trigger; the errata only ask the charger to refuse this one (see \
`seq.trigger-boot-after-accept-accepted`), and some Central Systems use it to read the \
charger's identity.\n\n\
Why it matters: a conforming charger refuses it, so the Central System learns nothing; one \
that obeys may reset its registration state.\n\n\
Example:\n  BootNotification -> Accepted, then csms: TriggerMessage {requestedMessage:\"BootNotification\"}",
};

pub static TRIGGER_BOOT_AFTER_ACCEPT_ACCEPTED: Rule = Rule {
    id: "seq.trigger-boot-after-accept-accepted",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Charger,
    summary: "Accepted station agrees to a TriggerMessage for BootNotification",
    spec: "2.0.1 Part 2 F06.FR.17; OCPP 1.6 errata 3.40",
    doc: "What it checks: the station answers Accepted to a TriggerMessage (1.6: or \
ExtendedTriggerMessage) for BootNotification while its last BootNotification was answered \
Accepted. An error on 2.x (SHALL answer Rejected), a warning on 1.6 (recommended).\n\n\
Why it matters: an accepted station that boots again on request resets its registration \
for nothing and may restart its connector status reports.\n\n\
Example:\n  BootNotification -> Accepted, then TriggerMessage {requestedMessage:\"BootNotification\"} -> Accepted",
};

pub static BOOT_REASON_UNEXPECTED: Rule = Rule {
    id: "seq.boot-reason-unexpected",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "BootNotification reason does not match what caused the boot",
    spec: "2.0.1 Part 2 B01.FR.09, §3 BootReasonEnumType; 2.0.1 Part 6 TC_B_21_CSMS, TC_B_22_CSMS",
    doc: "What it checks: the `reason` of a 2.x BootNotification against what was seen before it: \
after an accepted TriggerMessage for BootNotification it should be Triggered, after an \
accepted Reset RemoteReset or ScheduledReset, after a firmware status InstallRebooting \
FirmwareUpdate. Info only: the station may have rebooted for another cause in between.\n\n\
Why it matters: the reason is how the CSMS learns why a station restarted; a wrong one hides \
crashes or makes resets look spontaneous.\n\n\
Example:\n  Reset {type:\"Immediate\"} -> Accepted, then BootNotification {reason:\"PowerUp\", ...}",
};

pub static HEARTBEAT_OVERDUE: Rule = Rule {
    id: "seq.heartbeat-overdue",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Accepted charger silent for longer than its heartbeat interval allows",
    spec: "OCPP 1.6 §4.6; 2.0.1 Part 2 G02.FR.02, G02.FR.05",
    doc: "What it checks: a charger whose BootNotification was accepted sends no CALL at all \
(Heartbeat or any other) on an open connection for longer than the heartbeat interval in force \
times (1 + `heartbeat_slack`, default 0.5). The interval is the one of the last Accepted \
BootNotification answer or of a later accepted HeartbeatInterval change. Reported once per \
silence, at the last CALL before it. Info: WebSocket pings may stand in for heartbeats.\n\n\
Why it matters: the CSMS uses heartbeats to tell a live station from a dead one; a silent \
station is soon shown offline.\n\n\
Example:\n  BootNotification -> {status:\"Accepted\", interval:60}, then nothing from the charger for 5 minutes",
};

pub static HEARTBEAT_INTERVAL_IGNORED: Rule = Rule {
    id: "seq.heartbeat-interval-ignored",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Heartbeats keep a spacing far from the interval the CSMS set",
    spec: "OCPP 1.6 §4.2, §4.6; 2.0.1 Part 2 B01.FR.04, G02.FR.01",
    doc: "What it checks: three consecutive Heartbeats with no other CALL of the charger in between \
(and not triggered) whose two spacings are both below interval × (1 − `heartbeat_slack`) or \
both above interval × (1 + `heartbeat_slack`), where the interval is the one of the last \
Accepted BootNotification answer or of a later accepted HeartbeatInterval change \
(ChangeConfiguration on 1.6, SetVariables OCPPCommCtrlr.HeartbeatInterval on 2.x).\n\n\
Why it matters: the station SHALL adopt the interval from the BootNotification answer; too \
fast loads the CSMS, too slow makes the station look offline.\n\n\
Example:\n  BootNotification -> {status:\"Accepted\", interval:300}, then Heartbeats every 10 s",
};

pub static NO_DAILY_HEARTBEAT: Rule = Rule {
    id: "seq.no-daily-heartbeat",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Connection open for more than 24 hours without a single Heartbeat",
    spec: "OCPP-J 1.6 §5.3; 2.0.1 Part 4 §5.2",
    doc: "What it checks: a connection stays open for more than 24 hours (by the event timestamps) \
and the charger sends no Heartbeat on it. Reported once per connection, at its open event. \
Info: with WebSocket pings heartbeats are not mandatory.\n\n\
Why it matters: the Heartbeat answer is how the station keeps its clock in step with the \
CSMS; at least one a day is advised even when pings keep the connection alive.\n\n\
Example:\n  open at 10:00, then only StatusNotification and MeterValues until 10:05 the next day",
};

pub static CSMS_CLOCK_DRIFT: Rule = Rule {
    id: "seq.csms-clock-drift",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "CSMS currentTime differs from the observer's clock by more than clock_skew",
    spec: "OCPP 1.6 §4.6; 2.0.1 Part 2 G02.FR.03",
    doc: "What it checks: the `currentTime` of a BootNotification or Heartbeat answer differs from \
the time the observer recorded the frame by more than `clock_skew` (default 120 s). Reported \
once until the clocks agree again. Info: the recorder's clock may be the wrong one.\n\n\
Why it matters: stations set their clock from this value; a wrong CSMS clock puts wrong \
timestamps on transactions and meter values.\n\n\
Example:\n  frame recorded at 10:00:00Z: [3,\"h1\",{\"currentTime\":\"2026-11-22T09:40:00Z\"}]",
};

pub static CS_TIMESTAMP_FUTURE: Rule = Rule {
    id: "seq.cs-timestamp-future",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Timestamp in a charger message lies in the future of the observer's clock",
    spec: "OCPP 1.6 §4.2, §4.6; 2.0.1 Part 2 B01.FR.06, G02.FR.03",
    doc: "What it checks: a `timestamp` or `generatedAt` of a charger CALL other than \
SecurityEventNotification (judged by `sec.event-timestamp-future`) (top level, or of its \
meterValue / transactionData entries) is later than the time the observer recorded the frame \
plus `clock_skew` (default 120 s). Past timestamps are fine (queued messages). Reported once \
until a charger timestamp is plausible again.\n\n\
Why it matters: a station whose clock runs ahead has not synchronised with the CSMS; its \
transaction and meter timestamps cannot be trusted.\n\n\
Example:\n  frame recorded at 10:00:00Z: StatusNotification {timestamp:\"2026-11-22T11:00:00Z\", ...}",
};
