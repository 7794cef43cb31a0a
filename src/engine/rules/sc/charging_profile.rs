//! `sc.*`: smart-charging profile sanity. Every charging profile the CSMS sends
//! (SetChargingProfile, and the profile inside 1.6 RemoteStartTransaction / 2.x
//! RequestStartTransaction) is checked for its own consistency (periods, limits, kind and
//! start, validity window, purpose against target); schedules the charger reports
//! (GetCompositeSchedule, ReportChargingProfiles, NotifyChargingLimit,
//! NotifyEVChargingSchedule) get the schedule checks. The installed profiles are remembered
//! (from accepted SetChargingProfile, minus ClearChargingProfile) for the stack-level rules.

use super::{
    DUPLICATE_STACK_LEVEL, EXTERNAL_CONSTRAINTS_SET_BY_CSMS, FIRST_PERIOD_NOT_ZERO,
    LIMIT_PRECISION, MAX_PROFILE_NOT_CONNECTOR_ZERO, MAX_PROFILE_RELATIVE,
    MULTIPLE_SCHEDULES_WITHOUT_15118, NEGATIVE_LIMIT, NEGATIVE_STACK_LEVEL, NOT_SUPPORTED_ERROR,
    NUMBER_PHASES_INVALID, PERIOD_BEYOND_DURATION, PERIODS_NOT_ASCENDING, PHASE_TO_USE_INVALID,
    RATE_UNIT_UNSUPPORTED_ACCEPTED, RECURRENCY_WITHOUT_RECURRING, RECURRING_WITHOUT_RECURRENCY,
    STACK_LEVEL_ABOVE_MAX, START_SCHEDULE_MISSING, START_SCHEDULE_ON_RELATIVE,
    TXPROFILE_ON_CONNECTOR_ZERO, TXPROFILE_WITHOUT_TRANSACTION, TXPROFILE_WITHOUT_TRANSACTION_ID,
    VALID_WINDOW_INVERTED,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Cfg, TxId};
use crate::engine::support::{arr_of, int_of, push_capped, status_of, str_of};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

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
    const CALLS: Listen = Listen::Only(&[
        "SetChargingProfile",
        "RemoteStartTransaction",
        "RequestStartTransaction",
        "ReportChargingProfiles",
        "NotifyChargingLimit",
        "NotifyEVChargingSchedule",
        "NotifyEVChargingNeeds",
        "TransactionEvent",
        "BootNotification",
    ]);
    const REPLIES: Listen = Listen::Only(&[
        "GetCompositeSchedule",
        "SetChargingProfile",
        "ClearChargingProfile",
    ]);

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
}

/// The schedules of a profile: one object on 1.6, an array on 2.x.
fn schedules(profile: Json<'_>) -> impl Iterator<Item = Json<'_>> {
    let s = profile.get("chargingSchedule");
    let (one, many) = match s {
        Some(a) if a.is_array() => (None, a.items()),
        Some(o) if o.is_object() => (Some(o), Json::null().items()),
        _ => (None, Json::null().items()),
    };
    one.into_iter().chain(many)
}

fn timestamp(v: Json<'_>, key: &str) -> Option<Timestamp> {
    str_of(v, key).and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

/// The checks of a schedule's periods, for any sender.
fn check_periods(ctx: &mut Ctx<'_>, schedule: Json<'_>, label: &str) {
    let periods = arr_of(schedule, "chargingSchedulePeriod");
    if periods.is_empty() || periods.len() > MAX_PERIODS {
        return;
    }
    let start = |p: Json<'_>| int_of(p, "startPeriod");
    if let Some(first) = periods.first().and_then(start)
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
fn check_limits(ctx: &mut Ctx<'_>, version: Option<Version>, schedule: Json<'_>, label: &str) {
    let periods = arr_of(schedule, "chargingSchedulePeriod");
    if periods.len() > MAX_PERIODS {
        return;
    }
    let v2 = version.is_some_and(Version::is_2x);
    let (mut negative, mut precision, mut phases, mut to_use) = (false, false, false, false);
    for (i, p) in periods.iter().enumerate() {
        let limit = p.get("limit").and_then(Json::as_f64);
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
    profile: Json<'_>,
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
                st.station
                    .config
                    .var("SmartChargingCtrlr", None, "ProfileStackLevel", None)
                    .map(|v| ("SmartChargingCtrlr.ProfileStackLevel", v))
            } else if let Cfg::Value(v) = st.station.config.key("ChargeProfileMaxStackLevel") {
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

fn tx_of(profile: Json<'_>) -> Option<TxId> {
    let v = profile.get("transactionId")?;
    match v.as_str() {
        Some(s) => Some(TxId::Str(Box::from(s))),
        None => v.as_i64().map(TxId::Int),
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
        st.station
            .config
            .var("SmartChargingCtrlr", None, "RateUnit", None)
            .map(|v| ("SmartChargingCtrlr.RateUnit", v))
    } else if let Cfg::Value(v) = st
        .station
        .config
        .key("ChargingScheduleAllowedChargingRateUnit")
    {
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
            (Some(id), _) => st.station.transactions.is_running(id.borrowed()),
            (None, Some(t)) => st.station.transactions.running_on(t, true),
            (None, None) => st.station.transactions.any_running(),
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

fn clear_profiles(st: &mut ProtoState, request: Json<'_>) {
    let v2 = st.is_2x();
    let (id, criteria) = if v2 {
        (
            int_of(request, "chargingProfileId"),
            request
                .get("chargingProfileCriteria")
                .unwrap_or(Json::null()),
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
mod tests;
