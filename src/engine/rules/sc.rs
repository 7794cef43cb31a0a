//! `sc.*`: smart charging (charging profiles and schedules).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `sc/charging_profile.rs`.

use crate::engine::rules::{ALL, Party, Rule, V2X, V16_V201, V201};
use crate::finding::Severity;

pub(crate) mod charging_profile;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &FIRST_PERIOD_NOT_ZERO,
    &PERIODS_NOT_ASCENDING,
    &PERIOD_BEYOND_DURATION,
    &NEGATIVE_STACK_LEVEL,
    &STACK_LEVEL_ABOVE_MAX,
    &MAX_PROFILE_NOT_CONNECTOR_ZERO,
    &TXPROFILE_ON_CONNECTOR_ZERO,
    &TXPROFILE_WITHOUT_TRANSACTION_ID,
    &TXPROFILE_WITHOUT_TRANSACTION,
    &EXTERNAL_CONSTRAINTS_SET_BY_CSMS,
    &MAX_PROFILE_RELATIVE,
    &START_SCHEDULE_MISSING,
    &START_SCHEDULE_ON_RELATIVE,
    &RECURRENCY_WITHOUT_RECURRING,
    &RECURRING_WITHOUT_RECURRENCY,
    &VALID_WINDOW_INVERTED,
    &MULTIPLE_SCHEDULES_WITHOUT_15118,
    &DUPLICATE_STACK_LEVEL,
    &PHASE_TO_USE_INVALID,
    &NUMBER_PHASES_INVALID,
    &LIMIT_PRECISION,
    &NEGATIVE_LIMIT,
    &RATE_UNIT_UNSUPPORTED_ACCEPTED,
    &NOT_SUPPORTED_ERROR,
];

pub static FIRST_PERIOD_NOT_ZERO: Rule = Rule {
    id: "sc.first-period-not-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "First chargingSchedulePeriod does not start at 0",
    spec: "OCPP 1.6 errata 3.45/3.70 (§5.16.4, §7.13); 2.0.1 Part 2 K01.FR.31",
    doc: "What it checks: the `startPeriod` of the first period of a charging schedule is not 0. \
Applies to profiles the CSMS sends and to schedules the charger reports (GetCompositeSchedule, \
ReportChargingProfiles, NotifyChargingLimit, NotifyEVChargingSchedule).\n\n\
Why it matters: the time before the first period has no limit at all, so the schedule does \
not say what to do when it starts.\n\n\
Example:\n  chargingSchedulePeriod:[{startPeriod:60, limit:16}]",
};

pub static PERIODS_NOT_ASCENDING: Rule = Rule {
    id: "sc.periods-not-ascending",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Any,
    summary: "chargingSchedulePeriod startPeriod values are not strictly increasing",
    spec: "OCPP 1.6 §7.14; 2.0.1 Part 2 K01.FR.35",
    doc: "What it checks: each period's `startPeriod` must be greater than the previous one's. \
A warning on 1.6, which only implies the order (each period ends where the next starts); an \
error on 2.x, which states it.\n\n\
Why it matters: with periods out of order, or two starting at the same second, the limit \
in force at a given time is ambiguous.\n\n\
Example:\n  [{startPeriod:0,...}, {startPeriod:3600,...}, {startPeriod:1800,...}]",
};

pub static PERIOD_BEYOND_DURATION: Rule = Rule {
    id: "sc.period-beyond-duration",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "A schedule period starts at or after the schedule's duration and never runs",
    spec: "OCPP 1.6 §5.16.4; 2.0.1 Part 2 K01.FR.11",
    doc: "What it checks: a period whose `startPeriod` is at or beyond the schedule's `duration`.\n\n\
Why it matters: the schedule ends before that period starts, so its limit is never applied; \
usually the duration or the period is wrong.\n\n\
Example:\n  duration:3600, periods starting at 0 and 7200",
};

pub static NEGATIVE_STACK_LEVEL: Rule = Rule {
    id: "sc.negative-stack-level",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "Charging profile stackLevel below 0",
    spec: "OCPP 1.6 §7.8; 2.0.1 Part 2 §2.10 ChargingProfileType",
    doc: "What it checks: a charging profile with `stackLevel` < 0.\n\n\
Why it matters: the lowest stack level is 0; a negative level is out of range and the charger \
rejects the profile or ranks it unpredictably.\n\n\
Example:\n  {chargingProfileId:1, stackLevel:-1, ...}",
};

pub static STACK_LEVEL_ABOVE_MAX: Rule = Rule {
    id: "sc.stack-level-above-max",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "Charging profile stackLevel above the charger's advertised maximum",
    spec: "OCPP 1.6 §9.4 ChargeProfileMaxStackLevel; 2.0.1 Part 2 K01, SmartChargingCtrlr.ProfileStackLevel",
    doc: "What it checks: `stackLevel` greater than 1.6 `ChargeProfileMaxStackLevel` or 2.x \
`SmartChargingCtrlr.ProfileStackLevel`, when the charger reported that value earlier in the \
trace (GetConfiguration, GetVariables, NotifyReport).\n\n\
Why it matters: the charger cannot store the profile and will reject it.\n\n\
Example:\n  ChargeProfileMaxStackLevel = 3, then SetChargingProfile with stackLevel 5",
};

pub static MAX_PROFILE_NOT_CONNECTOR_ZERO: Rule = Rule {
    id: "sc.max-profile-not-connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "ChargePointMaxProfile / ChargingStationMaxProfile sent for a connector or EVSE other than 0",
    spec: "OCPP 1.6 §3.13.1; 2.0.1 Part 2 K §3.2",
    doc: "What it checks: SetChargingProfile with purpose ChargePointMaxProfile (1.6) or \
ChargingStationMaxProfile (2.x) and a `connectorId` / `evseId` other than 0.\n\n\
Why it matters: the maximum profile limits the whole station and is only defined for \
connector/EVSE 0.\n\n\
Example:\n  SetChargingProfile {connectorId:1, csChargingProfiles:{chargingProfilePurpose:\
\"ChargePointMaxProfile\", ...}}",
};

pub static TXPROFILE_ON_CONNECTOR_ZERO: Rule = Rule {
    id: "sc.txprofile-on-connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "TxProfile sent for connector or EVSE 0",
    spec: "OCPP 1.6 §3.13.1; 2.0.1 Part 2 K01.FR.16",
    doc: "What it checks: SetChargingProfile with purpose TxProfile and `connectorId` / `evseId` \
0.\n\n\
Why it matters: a TxProfile belongs to one transaction on one connector; connector 0 is the \
whole station and has no transaction.\n\n\
Example:\n  SetChargingProfile {evseId:0, chargingProfile:{chargingProfilePurpose:\"TxProfile\", \
...}}",
};

pub static TXPROFILE_WITHOUT_TRANSACTION_ID: Rule = Rule {
    id: "sc.txprofile-without-transaction-id",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "SetChargingProfile with a TxProfile but no transactionId",
    spec: "2.0.1 Part 2 K01.FR.03",
    doc: "What it checks: a 2.x SetChargingProfile whose profile has purpose TxProfile and no \
`transactionId`. (Inside RequestStartTransaction the profile has no transactionId by \
design; that case is not reported here.)\n\n\
Why it matters: the transaction id binds the profile to its transaction; without it the \
charger must reject the profile.\n\n\
Example:\n  SetChargingProfile {evseId:1, chargingProfile:{chargingProfilePurpose:\"TxProfile\", \
stackLevel:0, ...}}",
};

pub static TXPROFILE_WITHOUT_TRANSACTION: Rule = Rule {
    id: "sc.txprofile-without-transaction",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "TxProfile accepted although no such transaction runs",
    spec: "OCPP 1.6 §3.13.1, §5.16.4; 2.0.1 Part 2 K01.FR.09, K01.FR.33",
    doc: "What it checks: SetChargingProfile with a TxProfile answered Accepted while no \
transaction with its `transactionId` (or, on 1.6 without transactionId, no transaction on \
its connector) runs. Only reported when the station's boot was seen, so every transaction \
since is known; a warning because a transaction the trace missed cannot be ruled out.\n\n\
Why it matters: a TxProfile without its transaction must be rejected; accepting it lets the \
CSMS believe a limit is in force.\n\n\
Example:\n  (no StartTransaction on connector 2) SetChargingProfile {connectorId:2, \
TxProfile} -> Accepted",
};

pub static EXTERNAL_CONSTRAINTS_SET_BY_CSMS: Rule = Rule {
    id: "sc.external-constraints-set-by-csms",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "CSMS sends a profile with purpose ChargingStationExternalConstraints",
    spec: "2.0.1 Part 2 K01.FR.22",
    doc: "What it checks: SetChargingProfile or RequestStartTransaction carrying a profile with \
purpose ChargingStationExternalConstraints.\n\n\
Why it matters: that purpose is reserved for limits set by an external system (an energy \
manager); the CSMS must not set it and the charger rejects it.\n\n\
Example:\n  {chargingProfilePurpose:\"ChargingStationExternalConstraints\", ...}",
};

pub static MAX_PROFILE_RELATIVE: Rule = Rule {
    id: "sc.max-profile-relative",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "ChargingStationMaxProfile with chargingProfileKind Relative",
    spec: "2.0.1 Part 2 K01.FR.38",
    doc: "What it checks: a ChargingStationMaxProfile whose `chargingProfileKind` is Relative.\n\n\
Why it matters: a relative schedule starts with a transaction; the station maximum has no \
transaction to start from.\n\n\
Example:\n  {chargingProfilePurpose:\"ChargingStationMaxProfile\", chargingProfileKind:\"Relative\"}",
};

pub static START_SCHEDULE_MISSING: Rule = Rule {
    id: "sc.start-schedule-missing",
    severity: Severity::Error,
    severity_16: Some(Severity::Info),
    versions: ALL,
    by: Party::Csms,
    summary: "Absolute or Recurring charging schedule without startSchedule",
    spec: "2.0.1 Part 2 K01.FR.40; OCPP 1.6 §7.13",
    doc: "What it checks: a profile of kind Absolute or Recurring with a schedule lacking \
`startSchedule`. An error on 2.x; `info` on 1.6, where an Absolute schedule without \
startSchedule is taken as relative to the start of charging.\n\n\
Why it matters: without a start time the periods of an absolute schedule cannot be placed \
in time.\n\n\
Example:\n  {chargingProfileKind:\"Absolute\", chargingSchedule:[{id:1, chargingRateUnit:\"A\", \
chargingSchedulePeriod:[...]}]}",
};

pub static START_SCHEDULE_ON_RELATIVE: Rule = Rule {
    id: "sc.start-schedule-on-relative",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "Relative charging schedule with a startSchedule",
    spec: "2.0.1 Part 2 K01.FR.41",
    doc: "What it checks: a profile of kind Relative whose schedule has a `startSchedule`.\n\n\
Why it matters: a relative schedule starts when the transaction starts; a fixed start time \
contradicts it.\n\n\
Example:\n  {chargingProfileKind:\"Relative\", chargingSchedule:[{startSchedule:\"2026-...\", ...}]}",
};

pub static RECURRENCY_WITHOUT_RECURRING: Rule = Rule {
    id: "sc.recurrency-without-recurring",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "recurrencyKind set on a profile whose kind is not Recurring",
    spec: "OCPP 1.6 errata 3.56; 2.0.1 Part 2 §2.10 ChargingProfileType",
    doc: "What it checks: a profile with `recurrencyKind` (Daily, Weekly) and \
`chargingProfileKind` Absolute or Relative.\n\n\
Why it matters: recurrencyKind only has a meaning for recurring profiles; the sender likely \
meant Recurring.\n\n\
Example:\n  {chargingProfileKind:\"Absolute\", recurrencyKind:\"Daily\", ...}",
};

pub static RECURRING_WITHOUT_RECURRENCY: Rule = Rule {
    id: "sc.recurring-without-recurrency",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "Recurring charging profile without recurrencyKind",
    spec: "OCPP 1.6 §7.8",
    doc: "What it checks: a profile of kind Recurring with no `recurrencyKind`. No requirement \
states it explicitly, hence a warning.\n\n\
Why it matters: without Daily or Weekly the charger cannot know when the schedule repeats.\n\n\
Example:\n  {chargingProfileKind:\"Recurring\", chargingSchedule:{startSchedule:..., ...}}",
};

pub static VALID_WINDOW_INVERTED: Rule = Rule {
    id: "sc.valid-window-inverted",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "Charging profile validFrom is not before validTo",
    spec: "OCPP 1.6 §7.8; 2.0.1 Part 2 K01.FR.36, K01.FR.37",
    doc: "What it checks: a profile whose `validFrom` is equal to or later than its `validTo`.\n\n\
Why it matters: the profile is never valid; it is installed and does nothing.\n\n\
Example:\n  {validFrom:\"2026-11-23T00:00:00Z\", validTo:\"2026-11-22T00:00:00Z\", ...}",
};

pub static MULTIPLE_SCHEDULES_WITHOUT_15118: Rule = Rule {
    id: "sc.multiple-schedules-without-15118",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "Profile with more than one chargingSchedule for an EVSE without an ISO 15118 session",
    spec: "2.0.1 Part 2 K01.FR.34",
    doc: "What it checks: a profile with two or three `chargingSchedule` entries for an EVSE that \
sent no NotifyEVChargingNeeds (so no ISO 15118 session is known there).\n\n\
Why it matters: alternative schedules are offered to an ISO 15118 EV to choose from; without \
one the charger has no way to pick.\n\n\
Example:\n  SetChargingProfile {evseId:1, chargingProfile:{chargingSchedule:[{id:1,...},{id:2,...}]}}",
};

pub static DUPLICATE_STACK_LEVEL: Rule = Rule {
    id: "sc.duplicate-stack-level",
    severity: Severity::Warning,
    severity_16: Some(Severity::Info),
    versions: ALL,
    by: Party::Csms,
    summary: "Another installed profile has the same purpose and stackLevel on the same target",
    spec: "OCPP 1.6 §3.13.2; 2.0.1 Part 2 K01.FR.06, K01.FR.39",
    doc: "What it checks: SetChargingProfile with a purpose, stackLevel and connector/EVSE (and, \
for TxProfile, transactionId) equal to those of a profile with a different id that an \
earlier accepted SetChargingProfile installed and that is not cleared, with overlapping \
validity. `info` on 1.6, where the charger replaces the older profile by design; a warning on \
2.x, where the CSMS shall not send it.\n\n\
Why it matters: two profiles on one stack level compete; which one wins is not defined.\n\n\
Example:\n  profile 1 (TxDefaultProfile, stackLevel 0, EVSE 1) installed, then profile 2 with \
the same purpose, level and EVSE",
};

pub static PHASE_TO_USE_INVALID: Rule = Rule {
    id: "sc.phase-to-use-invalid",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "phaseToUse set while numberPhases is not 1, or outside 1-3",
    spec: "2.0.1 Part 2 K01.FR.19, §2.11 ChargingSchedulePeriodType",
    doc: "What it checks: a schedule period with `phaseToUse` while `numberPhases` is not 1 \
(absent means 3), or with phaseToUse outside 1-3.\n\n\
Why it matters: the phase to use only means something when charging on one phase.\n\n\
Example:\n  {startPeriod:0, limit:16, numberPhases:3, phaseToUse:2}",
};

pub static NUMBER_PHASES_INVALID: Rule = Rule {
    id: "sc.number-phases-invalid",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16_V201,
    by: Party::Csms,
    summary: "Schedule period numberPhases outside 1-3",
    spec: "OCPP 1.6 §7.14; 2.0.1 Part 2 §2.11 ChargingSchedulePeriodType",
    doc: "What it checks: a schedule period of a profile the CSMS sends with `numberPhases` below 1 \
or above 3 (the schemas allow any integer). Not a row of the rules catalogue; a warning \
because the range comes from the field's meaning (AC phases), not from a numbered \
requirement. Not applied to 2.1, whose schema bounds the value itself.\n\n\
Why it matters: an AC connection has one to three phases; other values are rejected or \
misread.\n\n\
Example:\n  {startPeriod:0, limit:16, numberPhases:4}",
};

pub static LIMIT_PRECISION: Rule = Rule {
    id: "sc.limit-precision",
    severity: Severity::Info,
    severity_16: None,
    versions: V201,
    by: Party::Csms,
    summary: "Schedule period limit with more than one fractional digit",
    spec: "2.0.1 SetChargingProfileRequest.json (limit description); Part 2 §2.11",
    doc: "What it checks: a `limit` with more than one digit after the decimal point. The 2.0.1 \
field description keeps the 1.6 wording \"accepts at most one digit fraction\" but the schema \
does not enforce it, hence info.\n\n\
Why it matters: chargers that follow the description may round or reject the value.\n\n\
Example:\n  {startPeriod:0, limit:16.25}",
};

pub static NEGATIVE_LIMIT: Rule = Rule {
    id: "sc.negative-limit",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16_V201,
    by: Party::Csms,
    summary: "Schedule period limit below 0",
    spec: "OCPP 1.6 §7.14; 2.0.1 Part 2 §2.11",
    doc: "What it checks: a schedule period with a negative `limit` in a profile the CSMS sends. \
1.6 and 2.0.1 have no discharging; 2.1 has separate discharge fields and is not checked.\n\n\
Why it matters: a negative charging limit has no defined meaning in these versions.\n\n\
Example:\n  {startPeriod:0, limit:-10}",
};

pub static RATE_UNIT_UNSUPPORTED_ACCEPTED: Rule = Rule {
    id: "sc.rate-unit-unsupported-accepted",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Profile in a chargingRateUnit the charger does not support answered Accepted",
    spec: "OCPP 1.6 §9.4 ChargingScheduleAllowedChargingRateUnit; 2.0.1 Part 2 K01.FR.26",
    doc: "What it checks: SetChargingProfile answered Accepted while a schedule's \
`chargingRateUnit` is not among the units the charger reported: 1.6 \
`ChargingScheduleAllowedChargingRateUnit` (Current, Power), 2.x \
`SmartChargingCtrlr.RateUnit` (A, W). Only when those values were seen in the trace.\n\n\
Why it matters: the charger cannot apply a limit in a unit it does not support; it must \
reject the profile.\n\n\
Example:\n  ChargingScheduleAllowedChargingRateUnit = Current, then a profile in W -> Accepted",
};

pub static NOT_SUPPORTED_ERROR: Rule = Rule {
    id: "sc.not-supported-error",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger answers SetChargingProfile with CALLERROR NotSupported/NotImplemented (no smart charging)",
    spec: "OCPP 1.6 errata 3.39; 2.0.1 Part 2 K01.FR.29",
    doc: "What it checks: SetChargingProfile answered with a CALLERROR NotSupported or \
NotImplemented. That is the required answer of a charger without smart charging; recorded \
as a capability.\n\n\
Why it matters: the CSMS should stop sending profiles to this charger.\n\n\
Example:\n  [4,\"42\",\"NotImplemented\",\"Smart charging not supported\",{}]",
};
