//! The pre-session faults a misbehaving station commits once (see [`Misbehave`]): each
//! breaks exactly the rule its table row names, and nothing else.

use serde_json::{Value, json};

use tokio::time::Instant;

use super::station::{NEVER_STARTED_TX, Station, Stop, WsLink};
use crate::ocpp::Version;
use crate::sim::link::{call_text, result_text};
use crate::sim::misbehave::Misbehave;
use crate::sim::msg::{self, ConnStatus};
use crate::sim::now;

impl Station {
    /// Commits one pre-session fault.
    pub(super) async fn inject(&mut self, link: &mut WsLink, m: Misbehave) -> Result<(), Stop> {
        let v = self.v;
        let v16 = v == Version::V16;
        match m {
            Misbehave::NotJson => {
                let id = self.new_id();
                self.send(link, format!("[2,\"{id}\",\"Heartbeat\",{{"))
                    .await?;
            }
            Misbehave::NotArray => {
                self.send(link, r#"{"action":"Heartbeat"}"#.into()).await?;
            }
            Misbehave::EmptyFrame => self.send(link, String::new()).await?,
            Misbehave::BinaryFrame => {
                let id = self.new_id();
                let text = call_text(&id, "Heartbeat", &json!({}));
                self.last_sent = Instant::now();
                link.send_binary(text.into_bytes())
                    .await
                    .map_err(|e| Stop::Link(e.to_string()))?;
            }
            Misbehave::UnknownAction => {
                self.call(link, "FlyToTheMoon", json!({})).await?;
            }
            Misbehave::ActionSuffix => {
                self.call(link, "HeartbeatRequest", json!({})).await?;
            }
            Misbehave::ActionCase => {
                self.call(link, "heartbeat", json!({})).await?;
            }
            Misbehave::LongMessageId => {
                let id = "x".repeat(40);
                self.send(link, call_text(&id, "Heartbeat", &json!({})))
                    .await?;
                self.reply(link, &id).await?;
            }
            Misbehave::DuplicateId => {
                let id = self.new_id();
                let text = call_text(&id, "Heartbeat", &json!({}));
                self.send(link, text.clone()).await?;
                self.send(link, text).await?;
                self.reply(link, &id).await?;
                self.reply(link, &id).await?;
            }
            Misbehave::UnknownResponseId => {
                self.send(link, result_text("no-such-call", &json!({})))
                    .await?;
            }
            Misbehave::WrongType => {
                let p = if v16 {
                    json!({"idTag": 12345})
                } else {
                    json!({"idToken": {"idToken": 12345, "type": "ISO14443"}})
                };
                self.call(link, "Authorize", p).await?;
            }
            Misbehave::BadEnum | Misbehave::EnumCase | Misbehave::BadDatetime => {
                let mut p = msg::status(v, 1, ConnStatus::Available, &now());
                let field = if v16 { "status" } else { "connectorStatus" };
                if let Some(o) = p.as_object_mut() {
                    match m {
                        Misbehave::BadEnum => {
                            o.insert(field.into(), json!("Free"));
                        }
                        Misbehave::EnumCase => {
                            o.insert(field.into(), json!("available"));
                        }
                        _ => {
                            let ts = now();
                            o.insert("timestamp".into(), json!(ts.trim_end_matches('Z')));
                        }
                    }
                }
                self.call(link, "StatusNotification", p).await?;
            }
            Misbehave::CustomDataOn16 => {
                self.call(
                    link,
                    "Heartbeat",
                    json!({"customData": {"vendorId": "sim"}}),
                )
                .await?;
            }
            Misbehave::WrongDirection => {
                let ty = if v16 { "Soft" } else { "Immediate" };
                self.call(link, "Reset", json!({ "type": ty })).await?;
            }
            Misbehave::OtherVersionAction => {
                if v16 {
                    self.call(link, "NotifyEvent", json!({})).await?;
                } else {
                    let p = msg::start_transaction(1, "TAG", self.register_wh, &now());
                    self.call(link, "StartTransaction", p).await?;
                }
            }
            Misbehave::UnknownTransaction => {
                let p = msg::stop_transaction(
                    NEVER_STARTED_TX,
                    None,
                    self.register_wh,
                    &now(),
                    "Other",
                );
                self.call(link, "StopTransaction", p).await?;
            }
            Misbehave::MeterValuesUnknownTx => {
                let p =
                    msg::meter_values(v, 1, Some(NEVER_STARTED_TX), self.meter("Sample.Periodic"));
                self.call(link, "MeterValues", p).await?;
            }
            Misbehave::ForbiddenTransition => {
                self.status(link, 1, ConnStatus::Finishing, &now()).await?;
                self.status(link, 1, ConnStatus::Available, &now()).await?;
            }
            Misbehave::Connector0Status => {
                self.status(link, 0, ConnStatus::Charging, &now()).await?;
                self.status(link, 0, ConnStatus::Available, &now()).await?;
            }
            Misbehave::StartConnectorZero => {
                let tag = format!("TAG-{}", self.identity);
                let p = msg::start_transaction(0, &tag, self.register_wh, &now());
                let r = self.call(link, "StartTransaction", p).await?;
                if let Some(id) = r.and_then(|r| r.get("transactionId").and_then(Value::as_i64)) {
                    let p =
                        msg::stop_transaction(id, Some(&tag), self.register_wh, &now(), "Local");
                    self.call(link, "StopTransaction", p).await?;
                }
            }
            // Committed later: in the answer to the CSMS's configuration read, or at the end
            // of the first session.
            Misbehave::BadResponse
            | Misbehave::UnknownErrorCode
            | Misbehave::ConfigKeyUnaccounted
            | Misbehave::GetVariablesCountMismatch
            | Misbehave::MeterStopBelowStart
            | Misbehave::StopTwice => {}
        }
        Ok(())
    }
}
