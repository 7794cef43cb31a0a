//! How a station answers the CSMS's calls (1.6 and 2.x): configuration keys and variables,
//! remote start/stop, reset, trigger message. Effects are queued as pending actions for the
//! flow; a call it does not know gets a NotImplemented CALLERROR. Never panics on a payload.

use serde_json::{Value, json};

use super::station::{Pending, Station, Stop, WsLink};
use crate::sim::link::{error_text, result_text};
use crate::sim::misbehave::Misbehave;

impl Station {
    /// Answers one CALL of the CSMS; effects are queued as pending actions.
    pub(super) async fn on_call(
        &mut self,
        link: &mut WsLink,
        id: &str,
        action: &str,
        p: &Value,
    ) -> Result<(), Stop> {
        let answer = if self.v.is_2x() {
            self.answer_2x(action, p)
        } else {
            self.answer_16(action, p)
        };
        let text = match answer {
            Ok(payload) => result_text(id, &payload),
            Err(code) => error_text(id, code, "not supported by the simulated charger"),
        };
        self.send(link, text).await
    }

    pub(super) fn status_json(accepted: bool) -> Value {
        json!({"status": if accepted { "Accepted" } else { "Rejected" }})
    }

    /// The one-time fault in a configuration answer, if this station has one left.
    pub(super) fn answer_fault(&mut self, kinds: &[Misbehave]) -> Option<Misbehave> {
        if self.answer_fault_done {
            return None;
        }
        let m = kinds.iter().copied().find(|m| self.faults.contains(m))?;
        self.answer_fault_done = true;
        Some(m)
    }

    pub(super) fn answer_16(&mut self, action: &str, p: &Value) -> Result<Value, &'static str> {
        let str_of = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(match action {
            "RemoteStartTransaction" => self.remote_start(
                p.get("connectorId").and_then(Value::as_u64).unwrap_or(1),
                str_of("idTag").unwrap_or_default(),
                None,
            ),
            "RemoteStopTransaction" => {
                let want = p.get("transactionId").and_then(Value::as_i64);
                let ok = self.tx.as_ref().is_some_and(|t| Some(t.id16) == want);
                if ok {
                    self.pending.push_back(Pending::RemoteStop);
                }
                Self::status_json(ok)
            }
            "Reset" => {
                let hard = str_of("type").as_deref() == Some("Hard");
                self.pending.push_back(Pending::Reset {
                    hard,
                    on_idle: false,
                });
                Self::status_json(true)
            }
            "TriggerMessage" => self.trigger_answer(p),
            "GetConfiguration" => {
                match self.answer_fault(&[
                    Misbehave::BadResponse,
                    Misbehave::UnknownErrorCode,
                    Misbehave::ConfigKeyUnaccounted,
                ]) {
                    Some(Misbehave::BadResponse) => {
                        return Ok(
                            json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": "no"}]}),
                        );
                    }
                    Some(Misbehave::UnknownErrorCode) => return Err("ChargerOnFire"),
                    Some(_) => return Ok(json!({"configurationKey": [], "unknownKey": []})),
                    None => {}
                }
                let asked: Vec<String> = p
                    .get("key")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut keys: Vec<&String> = if asked.is_empty() {
                    let mut all: Vec<&String> = self.settings.keys().collect();
                    all.sort();
                    all
                } else {
                    asked.iter().collect()
                };
                keys.dedup();
                let mut known = Vec::new();
                let mut unknown = Vec::new();
                for k in keys {
                    match self.settings.get(k.as_str()) {
                        Some(s) => {
                            known.push(json!({"key": k, "readonly": !s.writable, "value": s.value}))
                        }
                        None => unknown.push(json!(k)),
                    }
                }
                let mut out = json!({ "configurationKey": known });
                if !unknown.is_empty()
                    && let Some(o) = out.as_object_mut()
                {
                    o.insert("unknownKey".into(), Value::Array(unknown));
                }
                out
            }
            "ChangeConfiguration" => {
                let key = str_of("key").unwrap_or_default();
                let value = str_of("value").unwrap_or_default();
                json!({ "status": self.set_setting(&key, value, "NotSupported") })
            }
            _ => return Err("NotImplemented"),
        })
    }

    /// Writes the setting `key` (a 1.6 configuration key, a 2.x variable) when it is writable:
    /// `Accepted`, `Rejected` when it is read-only, `unknown` (the version's word) when the
    /// station has no such setting.
    fn set_setting(&mut self, key: &str, value: String, unknown: &'static str) -> &'static str {
        match self.settings.get_mut(key) {
            Some(s) if s.writable => {
                s.value = value;
                "Accepted"
            }
            Some(_) => "Rejected",
            None => unknown,
        }
    }

    /// A remote start (1.6 RemoteStartTransaction, 2.x RequestStartTransaction) on
    /// `connector`: accepted, and queued, when the station is idle with no start pending and
    /// has that connector.
    fn remote_start(&mut self, connector: u64, tag: String, remote_start_id: Option<i64>) -> Value {
        let ok = self.tx.is_none()
            && !self.pending_start()
            && (1..=u64::from(self.cfg.connectors)).contains(&connector);
        if ok {
            self.pending.push_back(Pending::RemoteStart {
                connector: u32::try_from(connector).unwrap_or(1),
                tag,
                remote_start_id,
            });
        }
        Self::status_json(ok)
    }

    pub(super) fn pending_start(&self) -> bool {
        self.pending
            .iter()
            .any(|p| matches!(p, Pending::RemoteStart { .. }))
    }

    pub(super) fn trigger_answer(&mut self, p: &Value) -> Value {
        let what = p
            .get("requestedMessage")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let connector = if self.v.is_2x() {
            p.pointer("/evse/id").and_then(Value::as_u64)
        } else {
            p.get("connectorId").and_then(Value::as_u64)
        }
        .and_then(|c| u32::try_from(c).ok())
        .filter(|c| (1..=self.cfg.connectors).contains(c));
        let status = match what.as_str() {
            "BootNotification" if self.v.is_2x() => "Rejected",
            "Heartbeat" | "StatusNotification" | "BootNotification" | "MeterValues" => {
                self.pending.push_back(Pending::Trigger { what, connector });
                "Accepted"
            }
            _ => "NotImplemented",
        };
        json!({ "status": status })
    }

    pub(super) fn answer_2x(&mut self, action: &str, p: &Value) -> Result<Value, &'static str> {
        Ok(match action {
            "RequestStartTransaction" => self.remote_start(
                p.get("evseId").and_then(Value::as_u64).unwrap_or(1),
                p.pointer("/idToken/idToken")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                p.get("remoteStartId").and_then(Value::as_i64),
            ),
            "RequestStopTransaction" => {
                let want = p.get("transactionId").and_then(Value::as_str);
                let ok = self
                    .tx
                    .as_ref()
                    .is_some_and(|t| Some(t.id2.as_str()) == want);
                if ok {
                    self.pending.push_back(Pending::RemoteStop);
                }
                Self::status_json(ok)
            }
            "Reset" => {
                if p.get("evseId").is_some() {
                    return Ok(Self::status_json(false));
                }
                let on_idle = p.get("type").and_then(Value::as_str) == Some("OnIdle");
                let status = if on_idle && self.tx.is_some() {
                    "Scheduled"
                } else {
                    "Accepted"
                };
                // OnIdle with nothing running is an immediate reset.
                self.pending.push_back(Pending::Reset {
                    hard: !on_idle,
                    on_idle: on_idle && self.tx.is_some(),
                });
                json!({ "status": status })
            }
            "TriggerMessage" => self.trigger_answer(p),
            "GetVariables" => {
                let fault = self.answer_fault(&[
                    Misbehave::BadResponse,
                    Misbehave::UnknownErrorCode,
                    Misbehave::GetVariablesCountMismatch,
                ]);
                if fault == Some(Misbehave::UnknownErrorCode) {
                    return Err("ChargerOnFire");
                }
                let mut results: Vec<Value> = entries(p, "getVariableData")
                    .map(|(e, key)| {
                        let mut r = mirror(e);
                        let status = match self.settings.get(&key) {
                            Some(s) => {
                                r.insert("attributeValue".into(), json!(s.value));
                                "Accepted"
                            }
                            None if self
                                .settings
                                .keys()
                                .any(|k| k.starts_with(&component_prefix(&key))) =>
                            {
                                "UnknownVariable"
                            }
                            None => "UnknownComponent",
                        };
                        r.insert("attributeStatus".into(), json!(status));
                        Value::Object(r)
                    })
                    .collect();
                match fault {
                    Some(Misbehave::BadResponse) => {
                        for r in &mut results {
                            if let Some(o) = r.as_object_mut() {
                                o.insert("attributeStatus".into(), json!("Fine"));
                            }
                        }
                    }
                    Some(Misbehave::GetVariablesCountMismatch) => {
                        results.pop();
                    }
                    _ => {}
                }
                json!({ "getVariableResult": results })
            }
            "SetVariables" => {
                let mut results = Vec::new();
                for (e, key) in entries(p, "setVariableData") {
                    let value = e
                        .get("attributeValue")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let mut r = mirror(e);
                    let status = self.set_setting(&key, value, "UnknownVariable");
                    r.insert("attributeStatus".into(), json!(status));
                    results.push(Value::Object(r));
                }
                json!({ "setVariableResult": results })
            }
            _ => return Err("NotImplemented"),
        })
    }
}

fn entries<'a>(p: &'a Value, member: &str) -> impl Iterator<Item = (&'a Value, String)> + 'a {
    p.get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let c = e
                .pointer("/component/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let v = e
                .pointer("/variable/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (e, format!("{c}/{v}"))
        })
}

/// A result entry echoing the request entry's component, variable and attribute type.
fn mirror(e: &Value) -> serde_json::Map<String, Value> {
    let mut r = serde_json::Map::new();
    for k in ["component", "variable", "attributeType"] {
        if let Some(x) = e.get(k) {
            r.insert(k.into(), x.clone());
        }
    }
    r
}

fn component_prefix(key: &str) -> String {
    match key.split_once('/') {
        Some((c, _)) => format!("{c}/"),
        None => key.to_owned(),
    }
}
