//! `value.*`: the format of the values of standardized variables (2.0.1, 2.1) and of the
//! standard configuration keys (1.6), judged against the specification's tables in
//! [`crate::ocpp::variables`] and [`crate::ocpp::config_keys16`].
//!
//! Stateless: each check reads one message (and, for an answer, its request). Variables and
//! keys the tables do not list (vendor ones) are judged only against the characteristics the
//! station declares in the same report; values the station did not send (write-only
//! variables, keys without a value) never are. No I/O, no clock.

use super::{
    CHANGE_CONFIG_FORMAT, CHANGE_CONFIG_MALFORMED_ACCEPTED, CONFIG_KEY_FORMAT,
    OUTSIDE_DECLARED_CHARACTERISTICS, REQUIRED_KEY_UNKNOWN, SET_VARIABLE_FORMAT,
    SET_VARIABLE_MALFORMED_ACCEPTED, VARIABLE_DATATYPE, VARIABLE_FORMAT,
};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, Listen, ProtoState, Rule};
use crate::ocpp::config_keys16::{self, KeyType, PHASE_ROTATIONS_16};
use crate::ocpp::variables::{self, DataType, StdVariable, Values};
use crate::ocpp::{Side, Version};

/// The hooks of this family (see [`Family`]).
pub(crate) struct ValueFormats;

impl Family for ValueFormats {
    const VERSIONS: &'static [Version] = ALL;
    const CALLS: Listen = Listen::Only(&["ChangeConfiguration", "SetVariables", "NotifyReport"]);
    const REPLIES: Listen = Listen::Only(&[
        "GetConfiguration",
        "ChangeConfiguration",
        "GetVariables",
        "SetVariables",
    ]);

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let Some(version) = st.station.version else {
            return;
        };
        if !call.valid {
            return;
        }
        let p = call.payload;
        match (version, call.action, call.from) {
            (Version::V16, "ChangeConfiguration", Side::Csms) => {
                if let Some((key, problem)) = change_config_problem(p) {
                    ctx.report_at(
                        &CHANGE_CONFIG_FORMAT,
                        "/value".into(),
                        format!("ChangeConfiguration {key}: {problem}"),
                    );
                }
            }
            (Version::V201 | Version::V21, "SetVariables", Side::Csms) => entry_values(
                version,
                ctx,
                p,
                "setVariableData",
                |_| true,
                &SET_VARIABLE_FORMAT,
                "SetVariables",
            ),
            (Version::V201 | Version::V21, "NotifyReport", Side::Charger) => {
                notify_report(version, ctx, p);
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        let Some(version) = st.station.version else {
            return;
        };
        let Some(result) = reply.result() else {
            return;
        };
        match (version, reply.action, reply.caller) {
            (Version::V16, "GetConfiguration", Side::Csms) => {
                for (i, k) in entries(result, "unknownKey").enumerate() {
                    if let Some(key) = k.as_str().and_then(config_keys16::lookup)
                        && key.core_required
                    {
                        ctx.report_at(
                            &REQUIRED_KEY_UNKNOWN,
                            format!("/unknownKey/{i}"),
                            format!(
                                "{} is a required Core key (OCPP 1.6 §9.1), answered as unknown",
                                key.name
                            ),
                        );
                    }
                }
                for (i, e) in entries(result, "configurationKey").enumerate() {
                    let (Some(key), Some(value)) = (str_at(e, "key"), str_at(e, "value")) else {
                        continue;
                    };
                    if let Some(problem) = config_value_problem(key, value) {
                        ctx.report_at(
                            &CONFIG_KEY_FORMAT,
                            format!("/configurationKey/{i}/value"),
                            format!("{key} = {value:?}: {problem}"),
                        );
                    }
                }
            }
            (Version::V16, "ChangeConfiguration", Side::Csms) => {
                let status = str_at(result, "status").unwrap_or("");
                if !matches!(status, "Accepted" | "RebootRequired") || !reply.request_valid {
                    return;
                }
                if let Some((key, problem)) = change_config_problem(reply.request) {
                    ctx.report_at(
                        &CHANGE_CONFIG_MALFORMED_ACCEPTED,
                        "/status".into(),
                        format!(
                            "ChangeConfiguration {key} (line {}) answered {status}, but {problem}",
                            reply.call_line
                        ),
                    );
                }
            }
            (Version::V201 | Version::V21, "GetVariables", Side::Csms) => entry_values(
                version,
                ctx,
                result,
                "getVariableResult",
                |e| str_at(e, "attributeStatus") == Some("Accepted"),
                &VARIABLE_FORMAT,
                "GetVariables result",
            ),
            (Version::V201 | Version::V21, "SetVariables", Side::Csms) => {
                if !reply.request_valid {
                    return;
                }
                set_variables_reply(version, ctx, reply, result);
            }
            _ => {}
        }
    }
}

/// `rule` at each entry of the array `key` of `p` that `judged` keeps and whose
/// attributeValue is malformed; `what` names the message in the finding.
fn entry_values(
    version: Version,
    ctx: &mut Ctx<'_>,
    p: Json<'_>,
    key: &str,
    judged: fn(Json<'_>) -> bool,
    rule: &'static Rule,
    what: &str,
) {
    for (i, e) in entries(p, key).enumerate() {
        if !judged(e) {
            continue;
        }
        if let Some((name, problem)) = entry_problem(version, e, "attributeValue") {
            ctx.report_at(
                rule,
                format!("/{key}/{i}/attributeValue"),
                format!("{what} {name}: {problem}"),
            );
        }
    }
}

/// A SetVariables answer: which accepted entries set a malformed value.
fn set_variables_reply(version: Version, ctx: &mut Ctx<'_>, reply: &Reply<'_>, result: Json<'_>) {
    let requested: Vec<Json<'_>> = entries(reply.request, "setVariableData").collect();
    for (i, r) in entries(result, "setVariableResult").enumerate() {
        let status = str_at(r, "attributeStatus").unwrap_or("");
        if !matches!(status, "Accepted" | "RebootRequired") {
            continue;
        }
        // The request entry this result answers: same component, variable and attributeType.
        let Some(req) = requested.iter().copied().find(|&q| same_target(q, r)) else {
            continue;
        };
        if let Some((name, problem)) = entry_problem(version, req, "attributeValue") {
            ctx.report_at(
                &SET_VARIABLE_MALFORMED_ACCEPTED,
                format!("/setVariableResult/{i}/attributeStatus"),
                format!(
                    "SetVariables {name} (line {}) answered {status}, but {problem}",
                    reply.call_line
                ),
            );
        }
    }
}

fn notify_report(version: Version, ctx: &mut Ctx<'_>, p: Json<'_>) {
    for (i, e) in entries(p, "reportData").enumerate() {
        declared_characteristics(ctx, i, e);
        let Some((std, name)) = standard(version, e) else {
            continue;
        };
        if let Some(declared) = e
            .get("variableCharacteristics")
            .and_then(|c| str_at(c, "dataType"))
            && declared != std.data_type.as_str()
        {
            ctx.report_at(
                &VARIABLE_DATATYPE,
                format!("/reportData/{i}/variableCharacteristics/dataType"),
                format!(
                    "{name} is declared {declared}; the specification makes it {}",
                    std.data_type.as_str()
                ),
            );
        }
        for (j, a) in entries(e, "variableAttribute").enumerate() {
            let Some(value) = str_at(a, "value") else {
                continue;
            };
            if let Some(problem) = variable_value_problem(std, value) {
                ctx.report_at(
                    &VARIABLE_FORMAT,
                    format!("/reportData/{i}/variableAttribute/{j}/value"),
                    format!("NotifyReport {name} = {value:?}: {problem}"),
                );
            }
        }
    }
}

/// The values of one reportData entry against the characteristics the same entry declares.
fn declared_characteristics(ctx: &mut Ctx<'_>, i: usize, e: Json<'_>) {
    let Some(ch) = e.get("variableCharacteristics") else {
        return;
    };
    let data_type = str_at(ch, "dataType").unwrap_or("");
    let min = ch.get("minLimit").and_then(Json::as_f64);
    let max = ch.get("maxLimit").and_then(Json::as_f64);
    let list: Option<Vec<&str>> = str_at(ch, "valuesList")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::trim).collect());
    let name = format!(
        "{}.{}",
        e.get("component")
            .and_then(|c| str_at(c, "name"))
            .unwrap_or("?"),
        e.get("variable")
            .and_then(|c| str_at(c, "name"))
            .unwrap_or("?")
    );
    for (j, a) in entries(e, "variableAttribute").enumerate() {
        let Some(value) = str_at(a, "value") else {
            continue;
        };
        let problem = match data_type {
            "integer" | "decimal" => value.trim().parse::<f64>().ok().and_then(|n| {
                if min.is_some_and(|m| n < m) {
                    Some(format!("below the declared minLimit {}", min.unwrap_or(n)))
                } else if max.is_some_and(|m| n > m) {
                    Some(format!("above the declared maxLimit {}", max.unwrap_or(n)))
                } else {
                    None
                }
            }),
            "string" | "OptionList" | "MemberList" | "SequenceList" => {
                let len = value.chars().count();
                if max.is_some_and(|m| len as f64 > m) {
                    Some(format!(
                        "{len} characters, longer than the declared maxLimit {}",
                        max.unwrap_or(0.0)
                    ))
                } else {
                    list_outside(data_type, value, list.as_deref())
                }
            }
            _ => None,
        };
        if let Some(problem) = problem {
            ctx.report_at(
                &OUTSIDE_DECLARED_CHARACTERISTICS,
                format!("/reportData/{i}/variableAttribute/{j}/value"),
                format!("NotifyReport {name} = {value:?}: {problem}"),
            );
        }
    }
}

/// An OptionList value, or a MemberList/SequenceList item, that the declared valuesList lacks.
fn list_outside(data_type: &str, value: &str, list: Option<&[&str]>) -> Option<String> {
    let list = list?;
    let missing = |item: &str| !list.contains(&item);
    match data_type {
        "OptionList" if missing(value) => Some(format!(
            "not in the declared valuesList ({})",
            list.join(",")
        )),
        "MemberList" | "SequenceList" if !value.is_empty() => value
            .split(',')
            .map(str::trim)
            .find(|i| missing(i))
            .map(|i| {
                format!(
                    "item {i:?} is not in the declared valuesList ({})",
                    list.join(",")
                )
            }),
        _ => None,
    }
}

/// The items of the array member `key` of an object (none when absent or not an array).
fn entries<'v>(v: Json<'v>, key: &str) -> impl Iterator<Item = Json<'v>> {
    v.get(key)
        .and_then(Json::as_array)
        .into_iter()
        .flat_map(|a| a.iter())
}

fn str_at<'v>(v: Json<'v>, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Json::as_str)
}

/// Whether a SetVariables result names the same component, variable and attributeType as a
/// request entry (absent attributeType means Actual).
fn same_target(req: Json<'_>, res: Json<'_>) -> bool {
    let attr = |v: Json<'_>| str_at(v, "attributeType").unwrap_or("Actual").to_owned();
    req.get("component") == res.get("component")
        && req.get("variable") == res.get("variable")
        && attr(req) == attr(res)
}

/// The standardized variable an entry (with `component` and `variable` objects) names, and
/// its printable name.
fn standard(version: Version, e: Json<'_>) -> Option<(&'static StdVariable, String)> {
    let comp = e.get("component").and_then(|c| str_at(c, "name"))?;
    let var = e.get("variable").and_then(|c| str_at(c, "name"))?;
    let std = variables::lookup(version, comp, var)?;
    let inst = e
        .get("variable")
        .and_then(|c| str_at(c, "instance"))
        .map(|i| format!("[{i}]"))
        .unwrap_or_default();
    Some((std, format!("{comp}.{var}{inst}")))
}

/// What is wrong with the value member `field` of a device-model entry, if it names a
/// standardized variable and carries a value.
fn entry_problem(version: Version, e: Json<'_>, field: &str) -> Option<(String, String)> {
    let (std, name) = standard(version, e)?;
    let value = str_at(e, field)?;
    let problem = variable_value_problem(std, value)?;
    Some((format!("{name} = {value:?}"), problem))
}

/// What is wrong with the value of a ChangeConfiguration request, if it sets a standard key.
fn change_config_problem(p: Json<'_>) -> Option<(String, String)> {
    let key = str_at(p, "key")?;
    let value = str_at(p, "value")?;
    let problem = config_value_problem(key, value)?;
    Some((format!("{key} = {value:?}"), problem))
}

/// What is wrong with `value` as a value of the 2.x variable `std`.
pub(crate) fn variable_value_problem(std: &StdVariable, value: &str) -> Option<String> {
    let ty = std.data_type.as_str();
    match std.data_type {
        DataType::String => None,
        DataType::Boolean => {
            (value != "true" && value != "false").then(|| format!("a {ty} is `true` or `false`"))
        }
        DataType::Integer => integer_problem(value, std.min),
        DataType::Decimal => decimal_problem(value),
        DataType::DateTime => crate::time::Timestamp::parse_rfc3339(value)
            .is_err()
            .then(|| format!("a {ty} is an RFC 3339 time such as 2025-01-31T12:00:00Z")),
        DataType::OptionList => match std.values {
            Values::OneOf(allowed) if !allowed.contains(&value) => {
                Some(format!("an {ty} value is one of {}", allowed.join(", ")))
            }
            _ => None,
        },
        DataType::MemberList | DataType::SequenceList => list_problem(std, value),
    }
}

fn list_problem(std: &StdVariable, value: &str) -> Option<String> {
    let ty = std.data_type.as_str();
    if value.is_empty() {
        return None; // the empty list
    }
    if value.starts_with('[') || value.starts_with('{') || value.starts_with('"') {
        return Some(format!(
            "a {ty} is written as plain comma-separated items (like a,b,c), not as a JSON array or string"
        ));
    }
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        return Some(format!("a {ty} has an empty item"));
    }
    match std.values {
        Values::OneOf(allowed) => {
            if let Some(bad) = items.iter().find(|i| !allowed.contains(i)) {
                return Some(format!(
                    "{bad:?} is not one of the values of this {ty} ({})",
                    allowed.join(", ")
                ));
            }
        }
        Values::Integers => {
            if let Some(bad) = items.iter().find(|i| i.parse::<u32>().is_err()) {
                return Some(format!(
                    "{bad:?} is not a whole number; the items of this {ty} are slot numbers (like 0,1)"
                ));
            }
        }
        Values::Any => {}
    }
    if std.data_type == DataType::MemberList {
        for (k, item) in items.iter().enumerate() {
            if items[..k].contains(item) {
                return Some(format!("{item:?} is listed twice in a {ty} (a set)"));
            }
        }
    }
    None
}

fn integer_problem(value: &str, min: Option<i64>) -> Option<String> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some("an integer is written as a whole number in decimal digits".into());
    }
    let Ok(n) = value.parse::<i64>() else {
        return Some("the integer is out of range".into());
    };
    match min {
        Some(m) if n < m => Some(format!("the value must not be below {m}")),
        _ => None,
    }
}

fn decimal_problem(value: &str) -> Option<String> {
    let body = value.strip_prefix('-').unwrap_or(value);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (!digits(int) || !digits(frac))
        .then(|| "a decimal is written in decimal digits with an optional point (like 12.5)".into())
}

/// What is wrong with `value` as the value of the 1.6 configuration key `key`, if it is a
/// standard key.
pub(crate) fn config_value_problem(key: &str, value: &str) -> Option<String> {
    let std = config_keys16::lookup(key)?;
    match std.ty {
        KeyType::String => None,
        KeyType::Boolean => (!value.eq_ignore_ascii_case("true")
            && !value.eq_ignore_ascii_case("false"))
        .then(|| "a boolean key is `true` or `false`".into()),
        KeyType::Integer => integer_problem(value, Some(0)),
        KeyType::Csl(allowed) => csl_problem(value, |item| allowed.contains(&item)).map(|bad| {
            format!(
                "{bad:?} is not one of the values of this list ({})",
                allowed.join(", ")
            )
        }),
        KeyType::PhaseRotationCsl => csl_problem(value, |item| {
            item.split_once('.').is_some_and(|(c, r)| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_digit())
                    && PHASE_ROTATIONS_16.contains(&r)
            })
        })
        .map(|bad| format!("{bad:?} is not <connector>.<rotation> (like 0.RST, 1.NotApplicable)")),
    }
}

/// The first item of a comma-separated list that `ok` refuses (an empty list is fine).
fn csl_problem(value: &str, ok: impl Fn(&str) -> bool) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    value
        .split(',')
        .map(str::trim)
        .find(|i| !ok(i))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
