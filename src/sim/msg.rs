//! OCPP payload builders for the simulators, per version: what a well-behaved charger sends
//! and what a well-behaved CSMS answers. Every builder returns a `serde_json::Value` meant to
//! be valid against the built-in schemas (the unit tests check each one against them).
//!
//! Builders only build; they keep no state and send nothing.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::engine::schema::builtin_documents;
use crate::ocpp::Version;

/// The status of one connector, in 1.6 terms; 2.x maps it to its coarser set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    Available,
    Preparing,
    Charging,
    Finishing,
    Unavailable,
}

impl ConnStatus {
    pub fn as_str(self, v: Version) -> &'static str {
        match (self, v.is_2x()) {
            (ConnStatus::Available, _) => "Available",
            (ConnStatus::Unavailable, _) => "Unavailable",
            (_, true) => "Occupied",
            (ConnStatus::Preparing, false) => "Preparing",
            (ConnStatus::Charging, false) => "Charging",
            (ConnStatus::Finishing, false) => "Finishing",
        }
    }
}

/// A charger's description for BootNotification.
#[derive(Debug, Clone)]
pub struct StationInfo {
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
}

/// `BootNotification` request. `reason` is the 2.x BootReason (`PowerUp`, `RemoteReset`, ...).
pub fn boot(v: Version, info: &StationInfo, reason: &str) -> Value {
    match v {
        Version::V16 => json!({
            "chargePointVendor": info.vendor,
            "chargePointModel": info.model,
            "chargePointSerialNumber": info.serial,
            "firmwareVersion": info.firmware,
        }),
        _ => json!({
            "reason": reason,
            "chargingStation": {
                "model": info.model,
                "vendorName": info.vendor,
                "serialNumber": info.serial,
                "firmwareVersion": info.firmware,
            },
        }),
    }
}

/// `StatusNotification` request for `connector` (1.6; 0 is the whole charger) or EVSE
/// `connector` with its connector 1 (2.x).
pub fn status(v: Version, connector: u32, st: ConnStatus, ts: &str) -> Value {
    match v {
        Version::V16 => json!({
            "connectorId": connector,
            "errorCode": "NoError",
            "status": st.as_str(v),
            "timestamp": ts,
        }),
        _ => json!({
            "timestamp": ts,
            "connectorStatus": st.as_str(v),
            "evseId": connector,
            "connectorId": 1,
        }),
    }
}

/// A 2.x `IdTokenType`.
pub fn id_token(tag: &str) -> Value {
    json!({"idToken": tag, "type": "ISO14443"})
}

/// `Authorize` request.
pub fn authorize(v: Version, tag: &str) -> Value {
    match v {
        Version::V16 => json!({ "idTag": tag }),
        _ => json!({ "idToken": id_token(tag) }),
    }
}

/// One meter reading: the energy register (Wh) and the power (W), with its reading context.
pub fn meter_value(v: Version, ts: &str, wh: u64, watts: u64, context: &str) -> Value {
    match v {
        Version::V16 => json!({
            "timestamp": ts,
            "sampledValue": [
                {"value": wh.to_string(), "context": context, "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": watts.to_string(), "context": context, "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }),
        _ => json!({
            "timestamp": ts,
            "sampledValue": [
                {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
                {"value": watts, "context": context, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
            ],
        }),
    }
}

/// 1.6 `StartTransaction` request.
pub fn start_transaction(connector: u32, tag: &str, meter_start: u64, ts: &str) -> Value {
    json!({"connectorId": connector, "idTag": tag, "meterStart": meter_start, "timestamp": ts})
}

/// 1.6 `StopTransaction` request.
pub fn stop_transaction(
    tx: i64,
    tag: Option<&str>,
    meter_stop: u64,
    ts: &str,
    reason: &str,
) -> Value {
    let mut p =
        json!({"transactionId": tx, "meterStop": meter_stop, "timestamp": ts, "reason": reason});
    if let (Some(tag), Some(o)) = (tag, p.as_object_mut()) {
        o.insert("idTag".into(), json!(tag));
    }
    p
}

/// `MeterValues` request: 1.6 with its transaction, 2.x for an EVSE.
pub fn meter_values(v: Version, connector: u32, tx: Option<i64>, mv: Value) -> Value {
    match v {
        Version::V16 => {
            let mut p = json!({"connectorId": connector, "meterValue": [mv]});
            if let (Some(tx), Some(o)) = (tx, p.as_object_mut()) {
                o.insert("transactionId".into(), json!(tx));
            }
            p
        }
        _ => json!({"evseId": connector, "meterValue": [mv]}),
    }
}

/// One 2.x `TransactionEvent`.
#[derive(Debug, Clone)]
pub struct TxEvent<'a> {
    /// `Started`, `Updated` or `Ended`.
    pub event: &'a str,
    pub trigger: &'a str,
    pub seq_no: u64,
    pub tx_id: &'a str,
    /// Sent when the charging state changes (Started, Ended).
    pub charging_state: Option<&'a str>,
    pub evse: u32,
    pub id_tag: Option<&'a str>,
    pub remote_start_id: Option<i64>,
    pub stopped_reason: Option<&'a str>,
    pub meter_value: Option<Value>,
    pub ts: &'a str,
}

/// 2.x `TransactionEvent` request.
pub fn transaction_event(e: &TxEvent<'_>) -> Value {
    let mut info = Map::new();
    info.insert("transactionId".into(), json!(e.tx_id));
    if let Some(c) = e.charging_state {
        info.insert("chargingState".into(), json!(c));
    }
    if let Some(r) = e.remote_start_id {
        info.insert("remoteStartId".into(), json!(r));
    }
    if let Some(r) = e.stopped_reason {
        info.insert("stoppedReason".into(), json!(r));
    }
    let mut p = Map::new();
    p.insert("eventType".into(), json!(e.event));
    p.insert("timestamp".into(), json!(e.ts));
    p.insert("triggerReason".into(), json!(e.trigger));
    p.insert("seqNo".into(), json!(e.seq_no));
    p.insert("transactionInfo".into(), Value::Object(info));
    if e.event == "Started" {
        p.insert("evse".into(), json!({"id": e.evse, "connectorId": 1}));
    }
    if let Some(tag) = e.id_tag {
        p.insert("idToken".into(), id_token(tag));
    }
    if e.charging_state == Some("Charging") {
        // A station that measures its phases reports them once energy flows.
        p.insert("numberOfPhasesUsed".into(), json!(3));
    }
    if let Some(mv) = &e.meter_value {
        p.insert("meterValue".into(), json!([mv]));
    }
    Value::Object(p)
}

/// The raw schema document of (version, `<Action>Request`/`<Action>Response`), parsed once.
pub fn schema_doc(v: Version, name: &str) -> Option<&'static Value> {
    static DOCS: OnceLock<HashMap<(Version, String), Value>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        builtin_documents()
            .filter_map(|(v, name, text)| {
                Some(((v, name.to_owned()), serde_json::from_str(text).ok()?))
            })
            .collect()
    });
    docs.get(&(v, name.to_owned()))
}

/// The smallest payload the schema accepts: required members only, the first enum value,
/// minimum numbers, the current time for date-times. The CSMS answers with it any action it
/// has no specific logic for, so every charger-initiated message gets a valid reply.
pub fn minimal(v: Version, name: &str, now: &str) -> Value {
    match schema_doc(v, name) {
        Some(doc) => minimal_of(doc, doc, now, 0),
        None => json!({}),
    }
}

fn minimal_of(root: &Value, s: &Value, now: &str, depth: u32) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/definitions/")
            .and_then(|n| root.get("definitions")?.get(n));
        return match target {
            Some(t) => minimal_of(root, t, now, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return first.clone();
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.first().and_then(Value::as_str).unwrap_or("null"),
        _ => "object",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = s.get("properties");
            for name in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let sub = props.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                out.insert(name.to_owned(), minimal_of(root, sub, now, depth + 1));
            }
            Value::Object(out)
        }
        "array" => {
            let n = s
                .get("minItems")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .min(4);
            let item = s.get("items").unwrap_or(&Value::Null);
            Value::Array(
                (0..n)
                    .map(|_| minimal_of(root, item, now, depth + 1))
                    .collect(),
            )
        }
        "string" => {
            if s.get("format").and_then(Value::as_str) == Some("date-time") {
                return json!(now);
            }
            let n = s
                .get("minLength")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .min(64);
            json!("x".repeat(usize::try_from(n).unwrap_or(0)))
        }
        "integer" => json!(s.get("minimum").and_then(Value::as_i64).unwrap_or(0).max(0)),
        "number" => json!(
            s.get("minimum")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                .max(0.0)
        ),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic, reason = "test code")]
mod tests {
    use super::*;
    use crate::engine::SchemaSet;
    use crate::engine::schema::{Direction, ErrataSelection};
    use crate::ocpp::Side;
    use crate::ocpp::action::{catalogue, lookup};

    const TS: &str = "2026-11-22T10:15:03.125Z";

    fn valid(set: &SchemaSet, v: Version, action: &str, dir: Direction, p: &Value) {
        let (i, _) = lookup(v, action).unwrap_or_else(|| panic!("{v} has no {action}"));
        let errs = set.violations(v, i, dir, p, 5);
        assert!(errs.is_empty(), "{v} {action} {dir:?} {p}: {errs:?}");
    }

    #[test]
    fn charger_messages_are_schema_valid_in_every_version() {
        let set = SchemaSet::builtin(&ErrataSelection::all()).expect("schemas");
        let info = StationInfo {
            vendor: "Sim".into(),
            model: "S1".into(),
            serial: "SN-1".into(),
            firmware: "1.0".into(),
        };
        for v in Version::ALL {
            let req = Direction::Request;
            valid(&set, v, "BootNotification", req, &boot(v, &info, "PowerUp"));
            for st in [
                ConnStatus::Available,
                ConnStatus::Preparing,
                ConnStatus::Charging,
                ConnStatus::Finishing,
                ConnStatus::Unavailable,
            ] {
                valid(&set, v, "StatusNotification", req, &status(v, 1, st, TS));
            }
            valid(&set, v, "Authorize", req, &authorize(v, "TAG1"));
            let mv = meter_value(v, TS, 1234, 7400, "Sample.Periodic");
            valid(
                &set,
                v,
                "MeterValues",
                req,
                &meter_values(v, 1, Some(3), mv.clone()),
            );
            if v == Version::V16 {
                valid(
                    &set,
                    v,
                    "StartTransaction",
                    req,
                    &start_transaction(1, "T", 0, TS),
                );
                valid(
                    &set,
                    v,
                    "StopTransaction",
                    req,
                    &stop_transaction(3, Some("T"), 9, TS, "Local"),
                );
            } else {
                for (event, trig, reason) in [
                    ("Started", "RemoteStart", None),
                    ("Updated", "MeterValuePeriodic", None),
                    ("Ended", "StopAuthorized", Some("Local")),
                ] {
                    let e = TxEvent {
                        event,
                        trigger: trig,
                        seq_no: 1,
                        tx_id: "abc",
                        charging_state: Some("Charging"),
                        evse: 1,
                        id_tag: Some("T"),
                        remote_start_id: Some(4),
                        stopped_reason: reason,
                        meter_value: Some(mv.clone()),
                        ts: TS,
                    };
                    valid(&set, v, "TransactionEvent", req, &transaction_event(&e));
                }
            }
        }
    }

    #[test]
    fn minimal_answers_are_schema_valid_for_every_charger_initiated_action() {
        let set = SchemaSet::builtin(&ErrataSelection::all()).expect("schemas");
        let mut checked = 0;
        for v in Version::ALL {
            for a in catalogue(v) {
                if !a.dir.allows(Side::Charger) {
                    continue;
                }
                let Some((i, _)) = lookup(v, a.name) else {
                    continue;
                };
                if !set.has(v, i, Direction::Response) {
                    continue;
                }
                let p = minimal(v, &format!("{}Response", a.name), TS);
                valid(&set, v, a.name, Direction::Response, &p);
                checked += 1;
            }
        }
        assert!(checked > 60, "only {checked} actions checked");
    }
}
