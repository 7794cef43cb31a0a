//! What a station does by itself: boot, status notifications, charging sessions with meter
//! values, stopping a transaction, and what a TriggerMessage asks for.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use serde_json::{Value, json};

use super::station::{Pending, Station, Stop, Tx, WsLink};
use super::stopped;
use crate::ocpp::Version;
use crate::sim::misbehave::Misbehave;
use crate::sim::msg::{self, ConnStatus, TxEvent};
use crate::sim::now;

/// How many times a session's length a remotely started session waits for the CSMS's stop.
const REMOTE_SESSION_FACTOR: u32 = 10;

impl Station {
    pub(super) async fn boot(&mut self, link: &mut WsLink) -> Result<(), Stop> {
        for _ in 0..5 {
            let p = msg::boot(self.v, &self.info, self.boot_reason);
            let r = self.call(link, "BootNotification", p).await?;
            let r = r.unwrap_or(Value::Null);
            let interval = r.get("interval").and_then(Value::as_u64).unwrap_or(300);
            if r.get("status").and_then(Value::as_str) == Some("Accepted") {
                if interval > 0 {
                    self.heartbeat = Duration::from_secs(interval);
                }
                self.boots += 1;
                if self.v.is_2x() {
                    // 2.x lists the start-up (or reboot) as a critical security event.
                    let kind = if self.boot_reason == "PowerUp" {
                        "StartupOfTheDevice"
                    } else {
                        "ResetOrReboot"
                    };
                    let p = json!({ "type": kind, "timestamp": crate::sim::now() });
                    self.call(link, "SecurityEventNotification", p).await?;
                }
                self.boot_reason = "PowerUp";
                return Ok(());
            }
            // Pending or Rejected: try again after the interval the CSMS gave.
            let mut sd = self.shutdown.clone();
            tokio::select! {
                _ = stopped(&mut sd) => return Err(Stop::Shutdown),
                _ = tokio::time::sleep(Duration::from_secs(interval.clamp(1, 60))) => {}
            }
        }
        Err(Stop::Link(
            "the CSMS did not accept the BootNotification".into(),
        ))
    }

    pub(super) async fn status(
        &mut self,
        link: &mut WsLink,
        connector: u32,
        st: ConnStatus,
        ts: &str,
    ) -> Result<(), Stop> {
        let p = msg::status(self.v, connector, st, ts);
        self.call(link, "StatusNotification", p).await?;
        Ok(())
    }

    /// The current status of a connector.
    pub(super) fn status_of(&self, connector: u32) -> ConnStatus {
        match &self.tx {
            Some(t) if t.connector == connector => ConnStatus::Charging,
            _ => ConnStatus::Available,
        }
    }

    pub(super) fn meter(&self, context: &str) -> Value {
        msg::meter_value(self.v, &now(), self.register_wh, 7400, context)
    }

    /// One charging session, started locally (`None`) or by the CSMS.
    pub(super) async fn session(
        &mut self,
        link: &mut WsLink,
        remote: Option<(u32, String, Option<i64>)>,
    ) -> Result<(), Stop> {
        let is_remote = remote.is_some();
        let (connector, tag, remote_start_id) =
            remote.unwrap_or((1, format!("TAG-{}", self.identity), None));
        let connector = connector.clamp(1, self.cfg.connectors);
        if !is_remote {
            self.call(link, "Authorize", msg::authorize(self.v, &tag))
                .await?;
        }
        self.status(link, connector, ConnStatus::Preparing, &now())
            .await?;
        self.tx_counter += 1;
        let mut tx = Tx {
            connector,
            id16: 0,
            id2: {
                let mut h = DefaultHasher::new();
                self.identity.hash(&mut h);
                format!("{:016x}-{}", h.finish(), self.tx_counter)
            },
            seq: 0,
            tag: tag.clone(),
            meter_start: self.register_wh,
        };
        if self.v == Version::V16 {
            let p = msg::start_transaction(connector, &tag, self.register_wh, &now());
            let r = self.call(link, "StartTransaction", p).await?;
            let Some(id) = r.and_then(|r| r.get("transactionId").and_then(Value::as_i64)) else {
                // No transaction: back to Available.
                self.status(link, connector, ConnStatus::Finishing, &now())
                    .await?;
                self.status(link, connector, ConnStatus::Available, &now())
                    .await?;
                return Ok(());
            };
            tx.id16 = id;
            self.tx = Some(tx);
            self.status(link, connector, ConnStatus::Charging, &now())
                .await?;
        } else {
            let mv = self.meter("Transaction.Begin");
            let ts = now();
            let e = TxEvent {
                event: "Started",
                trigger: if is_remote {
                    "RemoteStart"
                } else {
                    "Authorized"
                },
                seq_no: 0,
                tx_id: &tx.id2,
                charging_state: Some("Charging"),
                evse: connector,
                id_tag: Some(&tag),
                remote_start_id,
                stopped_reason: None,
                meter_value: Some(mv),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            tx.seq = 1;
            self.tx = Some(tx);
            self.call(link, "TransactionEvent", p).await?;
        }
        let mut reason = "Local";
        // A session the CSMS started lasts until the CSMS stops it (at most
        // REMOTE_SESSION_FACTOR times a session's length): as a station under test in a lab,
        // it does not end on its own what the tester means to stop.
        let samples = if is_remote {
            self.cfg.pace.samples.saturating_mul(REMOTE_SESSION_FACTOR)
        } else {
            self.cfg.pace.samples
        };
        for _ in 0..samples {
            self.wait(link, self.cfg.pace.meter_interval).await?;
            if let Some(r) = self.interrupting() {
                reason = r;
                break;
            }
            let secs = self.cfg.pace.meter_interval.as_secs_f64();
            self.register_wh += ((7400.0 * secs / 3600.0) as u64).max(1);
            self.meter_sample(link).await?;
        }
        // One more look: a stop or reset may have come in during the last sample.
        if reason == "Local"
            && let Some(r) = self.interrupting()
        {
            reason = r;
        }
        self.stop_tx(link, reason).await?;
        self.sessions += 1;
        Ok(())
    }

    /// A queued remote stop or reset that ends the running session now, as a stop reason.
    pub(super) fn interrupting(&mut self) -> Option<&'static str> {
        let pos = self.pending.iter().position(|p| {
            matches!(
                p,
                Pending::RemoteStop | Pending::Reset { on_idle: false, .. }
            )
        })?;
        match self.pending.get(pos)? {
            Pending::RemoteStop => {
                self.pending.remove(pos);
                Some("Remote")
            }
            Pending::Reset { hard, .. } => Some(self.reset_reason(*hard)),
            _ => None,
        }
    }

    pub(super) async fn meter_sample(&mut self, link: &mut WsLink) -> Result<(), Stop> {
        let Some(tx) = self.tx.clone() else {
            return Ok(());
        };
        if self.v == Version::V16 {
            let p = msg::meter_values(
                self.v,
                tx.connector,
                Some(tx.id16),
                self.meter("Sample.Periodic"),
            );
            self.call(link, "MeterValues", p).await?;
        } else {
            let ts = now();
            let e = TxEvent {
                event: "Updated",
                trigger: "MeterValuePeriodic",
                seq_no: tx.seq,
                tx_id: &tx.id2,
                charging_state: None,
                evse: tx.connector,
                id_tag: None,
                remote_start_id: None,
                stopped_reason: None,
                meter_value: Some(self.meter("Sample.Periodic")),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            if let Some(t) = self.tx.as_mut() {
                t.seq += 1;
            }
            self.call(link, "TransactionEvent", p).await?;
        }
        Ok(())
    }

    /// Ends the running transaction with `reason` and frees its connector.
    pub(super) async fn stop_tx(&mut self, link: &mut WsLink, reason: &str) -> Result<(), Stop> {
        let Some(tx) = self.tx.clone() else {
            return Ok(());
        };
        let local = reason == "Local";
        let ts = now();
        if self.v == Version::V16 {
            let mut meter_stop = self.register_wh;
            let faulty = !self.session_faults_done;
            if faulty && self.has(Misbehave::MeterStopBelowStart) {
                meter_stop = tx.meter_start.saturating_sub(1);
            }
            let tag = local.then_some(tx.tag.as_str());
            let p = msg::stop_transaction(tx.id16, tag, meter_stop, &ts, reason);
            // Stopped from now on: a remote stop that crosses this StopTransaction is for a
            // transaction that no longer runs, and is rejected.
            self.tx = None;
            self.call(link, "StopTransaction", p.clone()).await?;
            if faulty && self.has(Misbehave::StopTwice) {
                self.call(link, "StopTransaction", p).await?;
            }
            self.session_faults_done = true;
            self.status(link, tx.connector, ConnStatus::Finishing, &now())
                .await?;
        } else {
            let trigger = match reason {
                "Local" => "StopAuthorized",
                "Remote" => "RemoteStop",
                "ImmediateReset" => "ResetCommand",
                _ => "AbnormalCondition",
            };
            let e = TxEvent {
                event: "Ended",
                trigger,
                seq_no: tx.seq,
                tx_id: &tx.id2,
                charging_state: Some("EVConnected"),
                evse: tx.connector,
                id_tag: local.then_some(tx.tag.as_str()),
                remote_start_id: None,
                stopped_reason: Some(reason),
                meter_value: Some(self.meter("Transaction.End")),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            self.tx = None;
            self.call(link, "TransactionEvent", p).await?;
        }
        self.status(link, tx.connector, ConnStatus::Available, &now())
            .await
    }

    /// Sends what a TriggerMessage asked for.
    pub(super) async fn triggered(
        &mut self,
        link: &mut WsLink,
        what: &str,
        connector: Option<u32>,
    ) -> Result<(), Stop> {
        match what {
            "Heartbeat" => {
                self.call(link, "Heartbeat", json!({})).await?;
            }
            "BootNotification" => {
                let p = msg::boot(self.v, &self.info, "Triggered");
                self.call(link, "BootNotification", p).await?;
            }
            "StatusNotification" => {
                let ts = now();
                let all: Vec<u32> = match connector {
                    Some(c) => vec![c],
                    None => (1..=self.cfg.connectors).collect(),
                };
                for c in all {
                    let st = self.status_of(c);
                    self.status(link, c, st, &ts).await?;
                }
            }
            "MeterValues" => {
                let c = self
                    .tx
                    .as_ref()
                    .map(|t| t.connector)
                    .or(connector)
                    .unwrap_or(1);
                let tx = if self.v == Version::V16 {
                    self.tx.as_ref().map(|t| t.id16)
                } else {
                    None
                };
                let p = msg::meter_values(self.v, c, tx, self.meter("Trigger"));
                self.call(link, "MeterValues", p).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
