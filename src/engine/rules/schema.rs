//! `schema.*`: payloads against the JSON schema of (version, action, request or response).

use serde_json::Value;

use super::Party;
use super::rpc::{PAYLOAD_NOT_OBJECT, json_kind};
use super::{ALL, Rule, V16, V21};
use crate::engine::Ctx;
use crate::engine::schema::{Direction, SchemaSet, Verdict};
use crate::finding::Severity;
use crate::ocpp::Version;
use crate::ocpp::action::catalogue;
use crate::wire::doc::Json;

/// At most this many schema violations are reported per frame.
const MAX_VIOLATIONS: usize = 8;

pub static REQUEST_INVALID: Rule = Rule {
    id: "schema.request-invalid",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL payload fails its action's request schema",
    spec: "OCPP-J 1.6 errata §3.8; 2.0.1 Part 4 §4.1.2, §4.1.7; 2.1 Part 4 §4.1.2, §4.1.7",
    doc: "What it checks: the CALL payload against the official request schema of its action for \
the negotiated version: types, required members, enums, lengths, additionalProperties, \
multipleOf (judged on the decimal digits as sent: 15.3 is a multiple of 0.1) and formats. \
Each finding names the member by JSON pointer, what was expected and what came.\n\n\
Why it matters: the receiver must reject an invalid payload (FormatViolation, \
TypeConstraintViolation, ...) or may silently drop it.\n\n\
Example:\n  [2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"VendorX\"}]   (chargePointModel missing)",
};

pub static RESPONSE_INVALID: Rule = Rule {
    id: "schema.response-invalid",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLRESULT payload fails the response schema of the CALL it answers",
    spec: "OCPP-J 1.6 errata §3.8; 2.0.1 Part 4 §4.1.2; 2.1 Part 4 §4.1.2",
    doc: "What it checks: a CALLRESULT is matched to its CALL by message id (per connection, from \
the other side) and its payload is checked against that action's response schema.\n\n\
Why it matters: an invalid answer leaves the caller without a usable result, e.g. a \
BootNotification response without `interval` leaves the heartbeat interval undefined.",
};

pub static SEND_INVALID: Rule = Rule {
    id: "schema.send-invalid",
    severity: Severity::Error,
    severity_16: None,
    versions: V21,
    by: Party::Any,
    summary: "SEND payload fails its schema",
    spec: "2.1 Part 4 §4.2.4",
    doc: "What it checks: the payload of a SEND (type 6) against the action's schema.\n\n\
Why it matters: SEND gets no answer, so nobody else will tell the sender that its stream \
data was unusable.",
};

pub static DATETIME_INVALID: Rule = Rule {
    id: "schema.datetime-invalid",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "A date-time field is not an RFC 3339 date-time",
    spec: "OCPP 1.6 §3.15; 2.0.1 Part 2 Gen §2.1.4, §3.1; RFC 3339 §5.6",
    doc: "What it checks: a member whose schema says `format: date-time` holds a string that is not \
an RFC 3339 date-time: no offset (`2026-11-22T10:15:03`), a space instead of `T`, the ISO basic \
format, or an impossible date.\n\n\
Why it matters: receivers parse timestamps strictly; a timestamp without offset is ambiguous \
by hours, which corrupts transaction and meter data.",
};

pub static PAYLOAD_NULL: Rule = Rule {
    id: "schema.payload-null",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Payload is null where an empty object is meant",
    spec: "OCPP-J 1.6 §4.2.1, §4.2.2; 2.0.1 Part 4 §4.1.5",
    doc: "What it checks: a CALL, CALLRESULT or SEND payload of `null` for an action whose schema \
requires no member (Heartbeat, ClearCache, empty responses). For other actions `null` fails \
the schema and is reported by the schema rules.\n\n\
Why it matters: the transport text tolerates `null` for empty payloads but the schemas \
(`type: object`) do not; `{}` is the portable form.",
};

pub static CUSTOM_DATA_ON_16: Rule = Rule {
    id: "schema.custom-data-on-16",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Any,
    summary: "customData member in a 1.6 payload",
    spec: "2.0.1 Part 4 §9 (customData exists only in 2.x)",
    doc: "What it checks: a `customData` member anywhere in a 1.6 payload. It replaces the generic \
additionalProperties finding for that member.\n\n\
Why it matters: customData is the 2.x extension point; 1.6 schemas forbid unknown members, \
so 1.6 receivers reject the message. Use DataTransfer for vendor data on 1.6.",
};

pub static ENUM_CASE_MISMATCH: Rule = Rule {
    id: "schema.enum-case-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Enum value matches a valid value only when case is ignored",
    spec: "OCPP-J 1.6 §4.2.1; 2.0.1 Part 4 §4.2.1",
    doc: "What it checks: an enum member such as `\"accepted\"` where the schema allows \
`\"Accepted\"`. It replaces the generic schema finding for that member.\n\n\
Why it matters: enum values are case-sensitive JSON strings, even where 1.6 calls the type \
CiString; the receiver rejects the value.",
};

/// Checks a payload against the schema of (version, action, direction) and reports every
/// violation under `rule` (or a more specific schema rule).
pub(crate) fn check_payload(
    ctx: &mut Ctx<'_>,
    schemas: &SchemaSet,
    version: Version,
    action: usize,
    direction: Direction,
    payload: Json<'_>,
    rule: &'static Rule,
) -> bool {
    // Fast path: the compiled verdict over the document; a `Value` and jsonschema only for
    // a payload it does not call valid (jsonschema decides and words the violations).
    if payload.is_object()
        && matches!(
            schemas.verdict(version, action, direction, payload),
            Verdict::Valid | Verdict::NoSchema
        )
    {
        return true;
    }
    let payload = &payload.to_value();
    match payload {
        Value::Object(_) => {}
        Value::Null => {
            let empty_ok = schemas
                .is_valid(
                    version,
                    action,
                    direction,
                    &Value::Object(serde_json::Map::new()),
                )
                .unwrap_or(false);
            if empty_ok {
                ctx.report(
                    &PAYLOAD_NULL,
                    "payload is null; send {} for an empty payload",
                );
                return false;
            }
        }
        other => {
            ctx.report(
                &PAYLOAD_NOT_OBJECT,
                format!(
                    "the payload must be a JSON object, got {}",
                    json_kind(other)
                ),
            );
            return false;
        }
    }
    // Without a fast program (or to confirm its "not valid"): jsonschema's verdict, then
    // the detailed walk only on failure.
    if schemas.is_valid(version, action, direction, payload) != Some(false) {
        return true;
    }
    let name = catalogue(version)[action].name;
    let what = match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    };
    let violations = schemas.violations(version, action, direction, payload, MAX_VIOLATIONS + 1);
    for (i, v) in violations.iter().enumerate() {
        if i == MAX_VIOLATIONS {
            ctx.report(
                rule,
                format!("more than {MAX_VIOLATIONS} schema violations; the rest are not listed"),
            );
            break;
        }
        let at = if v.pointer.is_empty() {
            "(payload)"
        } else {
            v.pointer.as_str()
        };
        let instance = payload.pointer(&v.pointer);
        if v.keyword == "format" && v.message.contains("date-time") {
            ctx.report_at(
                &DATETIME_INVALID,
                v.pointer.clone(),
                format!(
                    "{name} {what} {at}: {} is not an RFC 3339 date-time",
                    short(instance)
                ),
            );
            continue;
        }
        if v.keyword == "additionalProperties"
            && version == Version::V16
            && v.message.contains("'customData'")
        {
            ctx.report_at(
                &CUSTOM_DATA_ON_16,
                v.pointer.clone(),
                format!("{name} {what} {at}: customData is a 2.x member; OCPP 1.6 payloads have no extension point"),
            );
            continue;
        }
        if let Some(options) = &v.enum_options
            && let Some(Value::String(s)) = instance
            && let Some(fix) = options.iter().find(|a| a.eq_ignore_ascii_case(s))
        {
            ctx.report_at(
                        &ENUM_CASE_MISMATCH,
                        v.pointer.clone(),
                        format!("{name} {what} {at}: \"{s}\" must be written \"{fix}\" (enum values are case-sensitive)"),
                    );
            continue;
        }
        ctx.report_at(
            rule,
            v.pointer.clone(),
            format!("{name} {what} {at}: {}", v.message),
        );
    }
    false
}

fn short(v: Option<&Value>) -> String {
    v.map_or_else(
        || "the value".into(),
        |v| crate::finding::shorten(&v.to_string(), 60),
    )
}
