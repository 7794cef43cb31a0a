//! `sc.*`: smart-charging profile sanity. Every charging profile the CSMS sends
//! (SetChargingProfile, and the profile inside 1.6 RemoteStartTransaction / 2.x
//! RequestStartTransaction) is checked for its own consistency (periods, limits, kind and
//! start, validity window, purpose against target); schedules the charger reports
//! (GetCompositeSchedule, ReportChargingProfiles, NotifyChargingLimit,
//! NotifyEVChargingSchedule) get the schedule checks. The installed profiles are remembered
//! (from accepted SetChargingProfile, minus ClearChargingProfile) for the stack-level rules.

use serde_json::Value;

use super::dm::{Cfg, TxId};
use super::support::{arr_of, int_of, push_capped, status_of, str_of};
use super::{ALL, Rule, V2X};
use super::{Family, Party, ProtoState};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
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

const V16_V201: &[Version] = &[Version::V16, Version::V201];
const V201: &[Version] = &[Version::V201];

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

/// Installed profiles remembered.
const MAX_PROFILES: usize = 64;
/// EVSEs with an ISO 15118 session remembered.
const MAX_EV_NEEDS: usize = 16;
/// Periods checked per schedule at most (the 2.x schemas cap them at 1024).
const MAX_PERIODS: usize = 1024;

/// A profile the charger accepted.
#[derive(Debug)]
struct Installed {
    id: i64,
    purpose: Box<str>,
    stack: i64,
    target: i64,
    tx: Option<TxId>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    installed: Vec<Installed>,
    /// EVSEs that sent NotifyEVChargingNeeds (an ISO 15118 session).
    ev_needs: Vec<i64>,
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Sc;

impl Family for Sc {
    const VERSIONS: &'static [Version] = ALL;

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        on_call(st, ctx, call);
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        on_reply(st, ctx, reply);
    }
}

fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let v16 = st.is_v16();
    match (call.action, call.from) {
        ("SetChargingProfile", Side::Csms) => {
            let (profile, target) = if v16 {
                (p.get("csChargingProfiles"), int_of(p, "connectorId"))
            } else {
                (p.get("chargingProfile"), int_of(p, "evseId"))
            };
            if let Some(profile) = profile {
                check_profile(st, ctx, profile, target, true);
            }
        }
        ("RemoteStartTransaction" | "RequestStartTransaction", Side::Csms) => {
            let target = int_of(p, if v16 { "connectorId" } else { "evseId" });
            if let Some(profile) = p.get("chargingProfile") {
                check_profile(st, ctx, profile, target, false);
            }
        }
        ("ReportChargingProfiles", Side::Charger) => {
            for (i, profile) in arr_of(p, "chargingProfile").iter().enumerate() {
                for (j, s) in schedules(profile).enumerate() {
                    check_periods(
                        ctx,
                        s,
                        &format!("chargingProfile[{i}].chargingSchedule[{j}]"),
                    );
                }
            }
        }
        ("NotifyChargingLimit", Side::Charger) => {
            for (i, s) in arr_of(p, "chargingSchedule").iter().enumerate() {
                check_periods(ctx, s, &format!("chargingSchedule[{i}]"));
            }
        }
        ("NotifyEVChargingSchedule", Side::Charger) => {
            if let Some(s) = p.get("chargingSchedule") {
                check_periods(ctx, s, "chargingSchedule");
            }
        }
        ("NotifyEVChargingNeeds", Side::Charger) => {
            if let Some(e) = int_of(p, "evseId")
                && !st.sc.ev_needs.contains(&e)
            {
                push_capped(&mut st.sc.ev_needs, e, MAX_EV_NEEDS);
            }
        }
        ("TransactionEvent", Side::Charger) if str_of(p, "eventType") == Some("Ended") => {
            if let Some(e) = p.get("evse").and_then(|e| int_of(e, "id")) {
                st.sc.ev_needs.retain(|&x| x != e);
            }
        }
        ("BootNotification", Side::Charger) => {
            // Transaction profiles do not survive a reboot.
            st.sc.installed.retain(|i| &*i.purpose != "TxProfile");
        }
        _ => {}
    }
}

fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    match reply.action {
        "GetCompositeSchedule" => {
            let Some(r) = reply.result() else { return };
            let s = r.get("chargingSchedule").or_else(|| r.get("schedule"));
            if let Some(s) = s {
                check_periods(ctx, s, "the composite schedule");
            }
        }
        "SetChargingProfile" => set_profile_reply(st, ctx, reply),
        "ClearChargingProfile" if status_of(reply) == Some("Accepted") => {
            clear_profiles(st, reply.request);
        }
        _ => {}
    }
}

/// The schedules of a profile: one object on 1.6, an array on 2.x.
fn schedules(profile: &Value) -> impl Iterator<Item = &Value> {
    let s = profile.get("chargingSchedule");
    let (one, many) = match s {
        Some(Value::Array(a)) => (None, a.as_slice()),
        Some(o @ Value::Object(_)) => (Some(o), &[][..]),
        _ => (None, &[][..]),
    };
    one.into_iter().chain(many.iter())
}

fn timestamp(v: &Value, key: &str) -> Option<Timestamp> {
    str_of(v, key).and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

/// The checks of a schedule's periods, for any sender.
fn check_periods(ctx: &mut Ctx<'_>, schedule: &Value, label: &str) {
    let periods = arr_of(schedule, "chargingSchedulePeriod");
    if periods.is_empty() || periods.len() > MAX_PERIODS {
        return;
    }
    let start = |p: &Value| int_of(p, "startPeriod");
    if let Some(first) = start(&periods[0])
        && first != 0
    {
        ctx.report(
            &FIRST_PERIOD_NOT_ZERO,
            format!("the first period of {label} starts at {first} s; it must start at 0"),
        );
    }
    let mut prev: Option<i64> = None;
    for (i, p) in periods.iter().enumerate() {
        let Some(s) = start(p) else { continue };
        if let Some(before) = prev
            && s <= before
        {
            ctx.report(
                    &PERIODS_NOT_ASCENDING,
                    format!(
                        "period {i} of {label} starts at {s} s, not after the previous period ({before} s)"
                    ),
                );
            break;
        }
        prev = Some(s);
    }
    if let Some(duration) = int_of(schedule, "duration")
        && let Some((i, s)) = periods
            .iter()
            .enumerate()
            .filter_map(|(i, p)| start(p).map(|s| (i, s)))
            .find(|&(_, s)| s >= duration)
    {
        ctx.report(
                &PERIOD_BEYOND_DURATION,
                format!(
                    "period {i} of {label} starts at {s} s, at or after the schedule's duration of {duration} s; it never runs"
                ),
            );
    }
}

/// The checks of the limits of a profile the CSMS sends.
fn check_limits(ctx: &mut Ctx<'_>, version: Option<Version>, schedule: &Value, label: &str) {
    let periods = arr_of(schedule, "chargingSchedulePeriod");
    if periods.len() > MAX_PERIODS {
        return;
    }
    let v2 = version.is_some_and(Version::is_2x);
    let (mut negative, mut precision, mut phases, mut to_use) = (false, false, false, false);
    for (i, p) in periods.iter().enumerate() {
        let limit = p.get("limit").and_then(Value::as_f64);
        if let Some(l) = limit {
            if l < 0.0 && !negative {
                negative = true;
                ctx.report(
                    &NEGATIVE_LIMIT,
                    format!(
                        "period {i} of {label} has limit {l}; charging limits are not negative"
                    ),
                );
            }
            if version == Some(Version::V201) && !precision {
                let text = l.to_string();
                if text.split_once('.').is_some_and(|(_, f)| f.len() > 1) {
                    precision = true;
                    ctx.report(
                        &LIMIT_PRECISION,
                        format!(
                            "period {i} of {label} has limit {text}, with more than one fractional digit"
                        ),
                    );
                }
            }
        }
        let n = int_of(p, "numberPhases");
        if let Some(n) = n
            && !(1..=3).contains(&n)
            && !phases
        {
            phases = true;
            ctx.report(
                &NUMBER_PHASES_INVALID,
                format!("period {i} of {label} has numberPhases {n}; expected 1, 2 or 3"),
            );
        }
        if let (true, Some(ph)) = (v2, int_of(p, "phaseToUse")) {
            let n = n.unwrap_or(3);
            if (n != 1 || !(1..=3).contains(&ph)) && !to_use {
                to_use = true;
                ctx.report(
                    &PHASE_TO_USE_INVALID,
                    format!(
                        "period {i} of {label} has phaseToUse {ph} with numberPhases {n}{}; phaseToUse (1-3) is only for numberPhases 1",
                        if p.get("numberPhases").is_none() {
                            " (absent, so 3)"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
    }
}

/// A profile sent by the CSMS. `target` is the connector/EVSE; `set` for SetChargingProfile
/// (the profile-target rules and the stack-level memory apply to it only).
fn check_profile(
    st: &mut ProtoState,
    ctx: &mut Ctx<'_>,
    profile: &Value,
    target: Option<i64>,
    set: bool,
) {
    let version = st.station.version;
    let v2 = version.is_some_and(Version::is_2x);
    let purpose = str_of(profile, "chargingProfilePurpose").unwrap_or("");
    let kind = str_of(profile, "chargingProfileKind").unwrap_or("");
    let max_purpose = if v2 {
        "ChargingStationMaxProfile"
    } else {
        "ChargePointMaxProfile"
    };
    let id = int_of(profile, if v2 { "id" } else { "chargingProfileId" });
    let stack = int_of(profile, "stackLevel");

    if let Some(level) = stack {
        if level < 0 {
            ctx.report(
                &NEGATIVE_STACK_LEVEL,
                format!("stackLevel {level}; the lowest stack level is 0"),
            );
        } else {
            let max = if v2 {
                st.dm
                    .var2("SmartChargingCtrlr", None, "ProfileStackLevel", None)
                    .map(|v| ("SmartChargingCtrlr.ProfileStackLevel", v))
            } else if let Cfg::Value(v) = st.dm.cfg16("ChargeProfileMaxStackLevel") {
                Some(("ChargeProfileMaxStackLevel", v))
            } else {
                None
            };
            if let Some((name, max)) =
                max.and_then(|(n, v)| v.trim().parse::<i64>().ok().map(|m| (n, m)))
                && level > max
            {
                ctx.report(
                    &STACK_LEVEL_ABOVE_MAX,
                    format!("stackLevel {level} is above the charger's {name} = {max}"),
                );
            }
        }
    }
    if set {
        if let Some(t) = target {
            if purpose == max_purpose && t != 0 {
                let what = if v2 { "evseId" } else { "connectorId" };
                ctx.report(
                    &MAX_PROFILE_NOT_CONNECTOR_ZERO,
                    format!("{purpose} sent for {what} {t}; it is only defined for {what} 0"),
                );
            }
            if purpose == "TxProfile" && t == 0 {
                ctx.report(
                    &TXPROFILE_ON_CONNECTOR_ZERO,
                    format!(
                        "TxProfile sent for {} 0, which has no transaction",
                        if v2 { "evseId" } else { "connectorId" }
                    ),
                );
            }
        }
        if v2 && purpose == "TxProfile" && profile.get("transactionId").is_none() {
            ctx.report(
                &TXPROFILE_WITHOUT_TRANSACTION_ID,
                "SetChargingProfile with a TxProfile that names no transactionId",
            );
        }
    }
    if v2 && purpose == "ChargingStationExternalConstraints" {
        ctx.report(
            &EXTERNAL_CONSTRAINTS_SET_BY_CSMS,
            "the CSMS sends a ChargingStationExternalConstraints profile; that purpose is reserved for external systems",
        );
    }
    if v2 && purpose == "ChargingStationMaxProfile" && kind == "Relative" {
        ctx.report(
            &MAX_PROFILE_RELATIVE,
            "ChargingStationMaxProfile with chargingProfileKind Relative",
        );
    }
    for (j, s) in schedules(profile).enumerate() {
        let has_start = s.get("startSchedule").is_some();
        if matches!(kind, "Absolute" | "Recurring") && !has_start {
            let msg = format!("{kind} profile whose chargingSchedule has no startSchedule");
            ctx.report(&START_SCHEDULE_MISSING, msg);
        }
        if v2 && kind == "Relative" && has_start {
            ctx.report(
                &START_SCHEDULE_ON_RELATIVE,
                format!("Relative profile whose chargingSchedule[{j}] has a startSchedule"),
            );
        }
        let label = if v2 {
            format!("chargingSchedule[{j}]")
        } else {
            "the chargingSchedule".to_owned()
        };
        check_periods(ctx, s, &label);
        check_limits(ctx, version, s, &label);
    }
    let recurrency = str_of(profile, "recurrencyKind");
    if let Some(r) = recurrency {
        if kind != "Recurring" {
            ctx.report(
                &RECURRENCY_WITHOUT_RECURRING,
                format!("recurrencyKind {r} on a profile of kind {kind}"),
            );
        }
    } else if kind == "Recurring" {
        ctx.report(
            &RECURRING_WITHOUT_RECURRENCY,
            "Recurring profile without recurrencyKind (Daily or Weekly)",
        );
    }
    let (from, to) = (
        timestamp(profile, "validFrom"),
        timestamp(profile, "validTo"),
    );
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        ctx.report(
            &VALID_WINDOW_INVERTED,
            "validFrom is not before validTo; the profile is never valid",
        );
    }
    if v2 && arr_of(profile, "chargingSchedule").len() > 1 {
        let iso = match target {
            Some(t) => st.sc.ev_needs.contains(&t),
            None => !st.sc.ev_needs.is_empty(),
        };
        if !iso {
            ctx.report(
                &MULTIPLE_SCHEDULES_WITHOUT_15118,
                format!(
                    "profile with {} chargingSchedules, but no NotifyEVChargingNeeds (ISO 15118) was seen for {}",
                    arr_of(profile, "chargingSchedule").len(),
                    target.map_or_else(|| "any EVSE".to_owned(), |t| format!("EVSE {t}"))
                ),
            );
        }
    }
    if set && let (Some(id), Some(stack), Some(target)) = (id, stack, target) {
        let tx = tx_of(profile);
        if purpose == "TxProfile" && tx.is_none() {
            return;
        }
        let clash = st.sc.installed.iter().find(|i| {
            i.id != id
                && &*i.purpose == purpose
                && i.stack == stack
                && i.target == target
                && i.tx == tx
                && overlaps((i.from, i.to), (from, to))
        });
        if let Some(other) = clash {
            ctx.report(
                    &DUPLICATE_STACK_LEVEL,
                    format!(
                        "profile {id} ({purpose}, stackLevel {stack}, {} {target}) collides with installed profile {}",
                        if v2 { "EVSE" } else { "connector" },
                        other.id
                    ),
                );
        }
    }
}

fn tx_of(profile: &Value) -> Option<TxId> {
    match profile.get("transactionId")? {
        Value::String(s) => Some(TxId::Str(Box::from(s.as_str()))),
        v => v.as_i64().map(TxId::Int),
    }
}

type Window = (Option<Timestamp>, Option<Timestamp>);

fn overlaps(a: Window, b: Window) -> bool {
    let start = a.0.max(b.0);
    let end = match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    };
    match (start, end) {
        (Some(s), Some(e)) => s < e,
        _ => true,
    }
}

fn set_profile_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if let Outcome::Error { code } = reply.outcome {
        if matches!(code, "NotSupported" | "NotImplemented") {
            ctx.report(
                &NOT_SUPPORTED_ERROR,
                format!("SetChargingProfile answered CALLERROR {code}: the charger does not support smart charging"),
            );
        }
        return;
    }
    if status_of(reply) != Some("Accepted") {
        return;
    }
    let v2 = st.is_2x();
    let (profile, target) = if v2 {
        (
            reply.request.get("chargingProfile"),
            int_of(reply.request, "evseId"),
        )
    } else {
        (
            reply.request.get("csChargingProfiles"),
            int_of(reply.request, "connectorId"),
        )
    };
    let Some(profile) = profile else { return };
    let purpose = str_of(profile, "chargingProfilePurpose").unwrap_or("");

    // The units the charger supports, when known.
    let allowed: Option<(&str, &str)> = if v2 {
        st.dm
            .var2("SmartChargingCtrlr", None, "RateUnit", None)
            .map(|v| ("SmartChargingCtrlr.RateUnit", v))
    } else if let Cfg::Value(v) = st.dm.cfg16("ChargingScheduleAllowedChargingRateUnit") {
        Some(("ChargingScheduleAllowedChargingRateUnit", v))
    } else {
        None
    };
    if let Some((name, list)) = allowed {
        let supports = |unit: &str| {
            let alias = match unit {
                "A" => "Current",
                "W" => "Power",
                _ => unit,
            };
            list.split(',')
                .map(str::trim)
                .any(|u| u.eq_ignore_ascii_case(unit) || u.eq_ignore_ascii_case(alias))
        };
        if let Some(unit) = schedules(profile)
            .filter_map(|s| str_of(s, "chargingRateUnit"))
            .find(|u| !supports(u))
        {
            ctx.report(
                &RATE_UNIT_UNSUPPORTED_ACCEPTED,
                format!(
                    "profile in unit {unit} answered Accepted, but the charger reported {name} = \"{list}\""
                ),
            );
        }
    }

    if purpose == "TxProfile" && st.station.booted() {
        let tx = tx_of(profile);
        let running = match (&tx, target) {
            (Some(id), _) => st.dm.activity.is_running(id.borrowed()),
            (None, Some(t)) => st.dm.activity.running_on(t, true),
            (None, None) => !st.dm.activity.txs.is_empty(),
        };
        if !running {
            ctx.report(
                &TXPROFILE_WITHOUT_TRANSACTION,
                match (&tx, target) {
                    (Some(id), _) => format!(
                        "TxProfile for transaction {id} answered Accepted, but no such transaction runs"
                    ),
                    (None, Some(t)) => format!(
                        "TxProfile for connector {t} answered Accepted, but no transaction runs there"
                    ),
                    (None, None) => {
                        "TxProfile answered Accepted, but no transaction runs".to_owned()
                    }
                },
            );
        }
    }

    // Remember the installed profile.
    let id = int_of(profile, if v2 { "id" } else { "chargingProfileId" });
    let (Some(id), Some(stack), Some(target)) = (id, int_of(profile, "stackLevel"), target) else {
        return;
    };
    let sc = &mut st.sc;
    sc.installed.retain(|i| i.id != id);
    if !v2 {
        // 1.6 §3.13.2: the same purpose and stack level on the connector is replaced.
        sc.installed
            .retain(|i| !(&*i.purpose == purpose && i.stack == stack && i.target == target));
    }
    push_capped(
        &mut sc.installed,
        Installed {
            id,
            purpose: Box::from(purpose),
            stack,
            target,
            tx: tx_of(profile),
            from: timestamp(profile, "validFrom"),
            to: timestamp(profile, "validTo"),
        },
        MAX_PROFILES,
    );
}

fn clear_profiles(st: &mut ProtoState, request: &Value) {
    let v2 = st.is_2x();
    let (id, criteria) = if v2 {
        (
            int_of(request, "chargingProfileId"),
            request
                .get("chargingProfileCriteria")
                .unwrap_or(&Value::Null),
        )
    } else {
        (int_of(request, "id"), request)
    };
    if let Some(id) = id {
        st.sc.installed.retain(|i| i.id != id);
        return;
    }
    let target = int_of(criteria, if v2 { "evseId" } else { "connectorId" });
    let purpose = str_of(criteria, "chargingProfilePurpose");
    let stack = int_of(criteria, "stackLevel");
    st.sc.installed.retain(|i| {
        let hit = target.is_none_or(|t| t == i.target)
            && purpose.is_none_or(|p| p == &*i.purpose)
            && stack.is_none_or(|s| s == i.stack);
        !hit
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_windows_overlap_when_open_ended() {
        let t = Timestamp::from_secs;
        assert!(overlaps((None, None), (Some(t(5)), None)));
        assert!(overlaps(
            (Some(t(0)), Some(t(10))),
            (Some(t(5)), Some(t(20)))
        ));
        assert!(!overlaps((Some(t(0)), Some(t(10))), (Some(t(10)), None)));
        assert!(!overlaps((None, Some(t(3))), (Some(t(4)), None)));
    }

    #[test]
    fn schedules_of_both_versions() {
        let p16: Value = serde_json::json!({"chargingSchedule": {"chargingRateUnit": "A"}});
        let p2: Value = serde_json::json!({"chargingSchedule": [{"id": 1}, {"id": 2}]});
        assert_eq!(schedules(&p16).count(), 1);
        assert_eq!(schedules(&p2).count(), 2);
        assert_eq!(schedules(&Value::Null).count(), 0);
    }
}
