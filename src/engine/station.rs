//! What is known about one station identity, kept once: its version, its connections, its
//! registration and boots, its configuration, its transactions, the resets asked of it, its
//! reservations, the TriggerMessages sent to it, its security profile, its clock offset,
//! its connectors and their status.
//! [`Station::observe_call`] and [`Station::observe_reply`] update it for each message
//! BEFORE the rule families run ([`Station::observe_open`] / [`Station::observe_close`] for
//! the connection), so every family reads the same facts instead of keeping a private
//! copy; a family keeps only what is truly its own.
//!
//! Facts only: nothing here reports a finding or reads the configuration.

mod clock;
mod config;
mod connector;
mod deadline;
mod registration;
mod reservation;
mod reset;
mod security;
#[cfg(test)]
mod testing;
mod transaction;
mod trigger;

pub(crate) use clock::Clock;
pub(crate) use config::{Cfg, Config, MAX_PAIRED, Pairing, attr_type, cv_key, pair};
pub(crate) use connector::{
    Connectors, MAX_CONNECTORS, Status as ConnectorStatus, availability_events,
};
pub(crate) use deadline::{Deadline, Deadlines, Wake};
pub use registration::Registration;
pub(crate) use reservation::{End, MAX_RESERVATIONS, RState, Reservation, Reservations};
pub(crate) use reset::Resets;
pub(crate) use security::{Change as ProfileChange, Security};
pub(crate) use transaction::{Transactions, TxId, v2, v16};
pub(crate) use trigger::{Followed, Request as TriggerRequest, Status as TriggerStatus, Triggers};

use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// The facts of one station identity. It survives reconnects (a station that only lost its
/// WebSocket need not boot again).
#[derive(Debug, Default)]
pub(crate) struct Station {
    /// The version of the current connection (`None` when unknown or without rules here).
    pub(crate) version: Option<Version>,
    /// How many connections of this identity have opened so far (the current one included).
    pub(crate) connections_seen: u32,
    /// Whether the observation of the current connection is complete from its start: its
    /// `open` was seen, or its first frame was the charger's BootNotification, and no gap
    /// (and no forgotten outstanding call) since. Only then can what needs the connection's
    /// history (an answer to no known CALL, calls before the boot) be proven wrong.
    pub(crate) seen_from_start: bool,
    /// The registration as the BootNotifications were answered, after the current message.
    pub(crate) registration: Registration,
    /// The registration the current message was sent in (before it changed it): what a
    /// BootNotification and its answer are judged against.
    pub(crate) registration_before: Registration,
    /// When the charger last sent a BootNotification (valid or not), and how many it sent.
    pub(crate) last_boot_at: Option<Timestamp>,
    pub(crate) boots: u32,
    /// The configuration keys and device-model variables learnt from the traffic.
    pub(crate) config: Config,
    /// What the station said about itself in its last BootNotification.
    pub(crate) identity: Identity,
    /// Its transactions (1.6 and 2.x), as the traffic showed them.
    pub(crate) transactions: Transactions,
    /// The Resets asked of it: unanswered, and accepted until the next boot.
    pub(crate) resets: Resets,
    /// Its reservations (ReserveNow), as the messages told them.
    pub(crate) reservations: Reservations,
    /// The TriggerMessages (and ExtendedTriggerMessages) sent to it, their answers and the
    /// messages that came for them.
    pub(crate) triggers: Triggers,
    /// Its security profile: as each connection showed it, as configured, the changes asked.
    pub(crate) security: Security,
    /// Its clock's offset, as its last timestamped CALL showed it.
    pub(crate) clock: Clock,
    /// Its connectors (1.6) and EVSE connectors (2.x) and their last reported status.
    pub(crate) connectors: Connectors,
}

/// What a station says about itself in its BootNotification (1.6: `chargePointVendor`,
/// `chargePointModel`, `chargePointSerialNumber` or else the deprecated `chargeBoxSerialNumber`,
/// `firmwareVersion`; 2.x: the same inside `chargingStation` as `vendorName`, `model`,
/// `serialNumber`, `firmwareVersion`), each cut to 100 characters. Read from every BootNotification CALL, valid or not; a member that is
/// missing or not a string is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware: Option<String>,
}

impl Identity {
    /// Nothing known (no BootNotification seen).
    pub const UNKNOWN: Identity = Identity {
        vendor: None,
        model: None,
        serial: None,
        firmware: None,
    };

    fn of_boot(payload: Json<'_>) -> Identity {
        let station = payload.get("chargingStation").unwrap_or(payload);
        // The first of `names` that is present and a string.
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| station.get(n).and_then(Json::as_str))
                .map(|v| crate::finding::shorten(v, 100))
        };
        Identity {
            vendor: field(&["vendorName", "chargePointVendor"]),
            model: field(&["model", "chargePointModel"]),
            serial: field(&[
                "serialNumber",
                "chargePointSerialNumber",
                "chargeBoxSerialNumber",
            ]),
            firmware: field(&["firmwareVersion"]),
        }
    }
}

impl Station {
    /// The connection speaks OCPP 1.6.
    pub(crate) fn is_v16(&self) -> bool {
        self.version == Some(Version::V16)
    }

    /// The connection speaks OCPP 2.0.1 or 2.1.
    pub(crate) fn is_2x(&self) -> bool {
        self.version.is_some_and(Version::is_2x)
    }

    /// Whether a BootNotification of this station was seen, so what happened since is known
    /// (a trace that starts mid-life has none).
    pub(crate) fn booted(&self) -> bool {
        self.boots > 0
    }

    /// Whether a message timestamped `ts` belongs to the time since the last boot (within
    /// `skew`): a transaction it mentions should have been seen starting.
    pub(crate) fn since_boot(&self, ts: Option<Timestamp>, skew: i64) -> bool {
        self.last_boot_at
            .is_some_and(|b| ts.is_none_or(|t| t.after(skew) >= b))
    }

    /// Whether the station is known to be accepted (its last BootNotification was answered
    /// Accepted). `Unknown` is not accepted, but neither is it known to be refused.
    pub(crate) fn is_accepted(&self) -> bool {
        self.registration == Registration::Accepted
    }

    /// A connection of this identity opened, with the handshake `open`.
    pub(crate) fn observe_open(&mut self, open: &OpenInfo<'_>) {
        self.connections_seen += 1;
        self.security.observe_open(open);
        self.connectors.forget_current();
    }

    /// The connection closed.
    pub(crate) fn observe_close(&mut self) {
        self.transactions.observe_close(self.version);
        self.triggers.observe_close();
        self.connectors.forget_current();
    }

    /// A CALL was sent at `now` (on line `line`).
    pub(crate) fn observe_call(&mut self, call: &Call<'_>, now: Timestamp, line: u64) {
        self.registration_before = self.registration;
        if call.from == Side::Charger && call.action == "BootNotification" {
            self.registration = Registration::Booting;
            self.last_boot_at = Some(now);
            self.boots = self.boots.wrapping_add(1);
            self.identity = Identity::of_boot(call.payload);
        }
        self.config.observe_call(call);
        self.transactions
            .observe_call(self.version, call, now, line);
        self.resets.observe_call(call, &self.transactions, now);
        if self.version.is_some() {
            self.reservations
                .observe_call(call, self.is_v16(), now, line);
        }
        self.triggers.observe_call(call, self.version, now, line);
        self.security
            .observe_call(call, &self.config, self.is_v16());
        self.clock.observe_call(call, now);
        self.connectors.observe_call(call, self.version, now);
    }

    /// A CALL was answered at `now`.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>, now: Timestamp) {
        self.registration_before = self.registration;
        if reply.caller == Side::Charger && reply.action == "BootNotification" {
            self.registration = Registration::answered(&reply.outcome);
        }
        self.config.observe_reply(reply);
        self.transactions.observe_reply(self.version, reply, now);
        self.resets
            .observe_reply(reply, &self.transactions, self.is_2x());
        if self.version.is_some() {
            self.reservations.observe_reply(reply, self.is_v16(), now);
        }
        self.triggers.observe_reply(reply, now);
        self.security.observe_reply(reply, self.is_2x());
    }
}
