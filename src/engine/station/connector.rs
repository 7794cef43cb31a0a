//! The connectors (1.6) and EVSE connectors (2.x) of a station and their last reported
//! status, as facts: from the charger's StatusNotification (1.6 `connectorId` and `status`,
//! connector 0 the charge point included; 2.x `evseId`, `connectorId` and
//! `connectorStatus`) and, on 2.x, from NotifyEvent `Connector.AvailabilityState`.
//!
//! A report counts when the members read are well-formed (integers, a status of the
//! connection's version); on 1.6 whether or not the message passed its schema, on 2.x (as
//! for the 2.x transactions, and a BootNotification's forgetting below) only when it did.
//! A 2.x StatusNotification for EVSE or connector 0 (or below) names no connector and is
//! not placed (an AvailabilityState event is taken as it names its component).
//! Each connector keeps two views of its status:
//!
//! ```text
//! report ──► last (whatever happened since)            ─► Connectors::last
//!        └─► current (this connection, since the boot) ─► Connector::status, is_available…
//!                 ▲ forgotten on open, close and BootNotification: the next report
//!                 │ is the status then, not a change from the one before
//! report of the current StatusNotification: its current status before it ─► Connectors::before
//! ```
//!
//! Facts only: which reports or changes are wrong, the `status16` / `status2` rules decide,
//! and the order of the reports' own timestamps (judged against a tolerance) is theirs.
//! Bounded: at most [`MAX_CONNECTORS`] connectors, the oldest first forgotten.

use crate::engine::protocol::Call;
use crate::engine::support::{availability_states, int_of, push_capped, str_of};
use crate::ocpp::charge_point_status::ChargePointStatus;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// At most this many connectors are followed (connector ids are small in practice).
pub(crate) const MAX_CONNECTORS: usize = 64;

/// A connector status: one of OCPP 1.6 (ChargePointStatus), or of 2.x (ConnectorStatusEnumType:
/// Available, Reserved, Unavailable and Faulted as in 1.6, and Occupied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Is(ChargePointStatus),
    Occupied,
}

impl Status {
    /// A 1.6 `status`.
    pub(crate) fn parse16(s: &str) -> Option<Status> {
        ChargePointStatus::parse(s).map(Status::Is)
    }

    /// A 2.x `connectorStatus` (or `AvailabilityState`).
    pub(crate) fn parse2(s: &str) -> Option<Status> {
        match s {
            "Occupied" => Some(Status::Occupied),
            "Available" | "Reserved" | "Unavailable" | "Faulted" => Self::parse16(s),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Is(s) => s.name(),
            Status::Occupied => "Occupied",
        }
    }

    /// The 1.6 status (`None` for Occupied).
    pub(crate) fn as16(self) -> Option<ChargePointStatus> {
        match self {
            Status::Is(s) => Some(s),
            Status::Occupied => None,
        }
    }
}

/// What is known of one connector.
#[derive(Debug)]
pub(crate) struct Connector {
    /// Reported on a 1.6 connection (`evse` is then 0).
    pub(crate) v16: bool,
    pub(crate) evse: i64,
    pub(crate) id: i64,
    /// The last status reported, whatever happened since.
    pub(crate) last: Status,
    /// When it was reported.
    pub(crate) at: Timestamp,
    /// `last` was reported on this connection since the last boot.
    current: bool,
}

impl Connector {
    /// Whether this is 1.6 connector `id` (`v16`, `evse` 0) or 2.x EVSE `evse` connector `id`.
    fn is(&self, v16: bool, evse: i64, id: i64) -> bool {
        self.v16 == v16 && self.evse == evse && self.id == id
    }

    /// The status reported on this connection since the last boot (`None`: none, so the
    /// next report is the status then, not a change).
    pub(crate) fn status(&self) -> Option<Status> {
        self.current.then_some(self.last)
    }
}

/// The connectors of one station.
#[derive(Debug, Default)]
pub(crate) struct Connectors {
    list: Vec<Connector>,
    /// The current message is a StatusNotification: the index of its connector in `list`,
    /// and that connector's current status before it.
    reported: Option<(u8, Option<Status>)>,
}

/// The connector statuses a 2.x NotifyEvent reports as `Connector.AvailabilityState` (the
/// 2.x alternative to StatusNotification): (evse, connector, status), in message order.
pub(crate) fn availability_events(
    notify_event: Json<'_>,
) -> impl Iterator<Item = (i64, i64, Status)> + '_ {
    availability_states(notify_event).filter_map(|a| {
        let connector = a.connector.filter(|_| a.of_connector)?;
        Some((a.evse, connector, Status::parse2(a.state)?))
    })
}

/// How a connector is named to the queries: 1.6 connector `id` with `evse` None, 2.x EVSE
/// `evse` connector `id` otherwise; as (`v16`, evse) of [`Connector::is`].
fn place(evse: Option<i64>) -> (bool, i64) {
    (evse.is_none(), evse.unwrap_or(0))
}

impl Connectors {
    fn find(&self, evse: Option<i64>, id: i64) -> Option<&Connector> {
        let (v16, evse) = place(evse);
        self.list.iter().find(|c| c.is(v16, evse, id))
    }

    /// Every connector known, the first reported first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Connector> {
        self.list.iter()
    }

    /// The last status reported of 1.6 connector `id` (`evse` None) or of 2.x EVSE `evse`
    /// connector `id`, whatever happened since.
    pub(crate) fn last(&self, evse: Option<i64>, id: i64) -> Option<Status> {
        Some(self.find(evse, id)?.last)
    }

    /// The current message is a StatusNotification of this connector: its status on this
    /// connection since the last boot before the message (`None` also for any other
    /// message or connector).
    pub(crate) fn before(&self, evse: Option<i64>, id: i64) -> Option<Status> {
        let (i, before) = self.reported?;
        let (v16, evse) = place(evse);
        let c = self.list.get(usize::from(i))?;
        c.is(v16, evse, id).then_some(before).flatten()
    }

    /// Whether every connector of the 2.x EVSE `evse` (its connector `connector` only, when
    /// given) reported on this connection since the boot, at least one, was last reported
    /// a status `ok` takes.
    fn all_current(&self, evse: i64, connector: Option<i64>, ok: impl Fn(Status) -> bool) -> bool {
        let mut any = false;
        for s in self
            .list
            .iter()
            .filter(|c| !c.v16 && c.evse == evse && connector.is_none_or(|k| k == c.id))
            .filter_map(Connector::status)
        {
            if !ok(s) {
                return false;
            }
            any = true;
        }
        any
    }

    /// Whether the 2.x EVSE (or its connector `connector`, when given) was last reported
    /// Available on this connection since the boot: every connector of it reported so,
    /// at least one.
    pub(crate) fn is_available(&self, evse: i64, connector: Option<i64>) -> bool {
        self.all_current(evse, connector, |s| {
            s == Status::Is(ChargePointStatus::Available)
        })
    }

    /// Whether every connector of the 2.x EVSE reported on this connection since the boot
    /// (at least one) was last reported Unavailable or Faulted.
    pub(crate) fn is_out_of_service(&self, evse: i64) -> bool {
        self.all_current(evse, None, |s| {
            matches!(
                s,
                Status::Is(ChargePointStatus::Unavailable | ChargePointStatus::Faulted)
            )
        })
    }

    /// Forgets the current statuses (a connection opened or closed, the station booted):
    /// the next report of each connector is its status then.
    pub(crate) fn forget_current(&mut self) {
        for c in &mut self.list {
            c.current = false;
        }
    }

    /// Records a report; returns the index of the connector and its current status before.
    fn record(
        &mut self,
        v16: bool,
        evse: i64,
        id: i64,
        status: Status,
        now: Timestamp,
    ) -> (u8, Option<Status>) {
        let i = match self.list.iter().position(|c| c.is(v16, evse, id)) {
            Some(i) => i,
            None => {
                let new = Connector {
                    v16,
                    evse,
                    id,
                    last: status,
                    at: now,
                    current: false,
                };
                push_capped(&mut self.list, new, MAX_CONNECTORS);
                self.list.len() - 1
            }
        };
        let c = &mut self.list[i];
        let before = c.status();
        c.last = status;
        c.at = now;
        c.current = true;
        let i = u8::try_from(i).unwrap_or(u8::MAX);
        (i, before)
    }

    /// A CALL was sent at `now` on a connection of `version`.
    pub(crate) fn observe_call(
        &mut self,
        call: &Call<'_>,
        version: Option<Version>,
        now: Timestamp,
    ) {
        self.reported = None;
        // On 2.x, as for its transactions, only a schema-valid CALL counts.
        if call.from != Side::Charger || (version.is_some_and(Version::is_2x) && !call.valid) {
            return;
        }
        let p = call.payload;
        match (call.action, version) {
            ("BootNotification", _) => self.forget_current(),
            ("StatusNotification", Some(Version::V16)) => {
                if let (Some(id), Some(status)) = (
                    int_of(p, "connectorId"),
                    str_of(p, "status").and_then(Status::parse16),
                ) {
                    self.reported = Some(self.record(true, 0, id, status, now));
                }
            }
            ("StatusNotification", Some(v)) if v.is_2x() => {
                if let (Some(evse), Some(id), Some(status)) = (
                    int_of(p, "evseId"),
                    int_of(p, "connectorId"),
                    str_of(p, "connectorStatus").and_then(Status::parse2),
                ) && evse > 0
                    && id > 0
                {
                    self.reported = Some(self.record(false, evse, id, status, now));
                }
            }
            ("NotifyEvent", Some(v)) if v.is_2x() => {
                for (evse, id, status) in availability_events(p) {
                    self.record(false, evse, id, status, now);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::call;
    use crate::wire::doc::Doc;
    use serde_json::json;

    const AVAILABLE: Status = Status::Is(ChargePointStatus::Available);
    const CHARGING: Status = Status::Is(ChargePointStatus::Charging);
    const FAULTED: Status = Status::Is(ChargePointStatus::Faulted);
    const UNAVAILABLE: Status = Status::Is(ChargePointStatus::Unavailable);

    impl Connectors {
        /// The status of a connector reported on this connection since the last boot.
        fn status(&self, evse: Option<i64>, id: i64) -> Option<Status> {
            self.find(evse, id)?.status()
        }
    }

    fn send(
        cs: &mut Connectors,
        version: Version,
        action: &'static str,
        payload: &serde_json::Value,
        at: i64,
    ) {
        let doc = Doc::from_value(payload);
        cs.observe_call(
            &call("m", action, Side::Charger, doc.root()),
            Some(version),
            Timestamp::from_secs(at),
        );
    }

    fn sn16(c: i64, s: &str) -> serde_json::Value {
        json!({"connectorId": c, "errorCode": "NoError", "status": s})
    }

    fn sn2(e: i64, c: i64, s: &str) -> serde_json::Value {
        json!({"timestamp": "2026-11-22T10:00:00Z", "evseId": e, "connectorId": c, "connectorStatus": s})
    }

    #[test]
    fn a_16_status_is_kept_with_the_one_before_it_until_a_boot_or_reconnect() {
        let mut cs = Connectors::default();
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(1, "Available"),
            1,
        );
        assert_eq!(cs.status(None, 1), Some(AVAILABLE));
        assert_eq!(cs.before(None, 1), None, "a first report changes nothing");
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(1, "Charging"),
            2,
        );
        assert_eq!(cs.before(None, 1), Some(AVAILABLE));
        assert_eq!(cs.before(None, 2), None, "another connector");
        assert_eq!(
            cs.status(Some(0), 1),
            None,
            "a 1.6 connector is not a 2.x one"
        );
        let at = cs.iter().map(|c| c.at).next();
        assert_eq!(at, Some(Timestamp::from_secs(2)));

        // Connector 0 is the charge point; a status of the other version is no report.
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(0, "Unavailable"),
            3,
        );
        assert_eq!(
            cs.before(None, 1),
            None,
            "only for the message's own connector"
        );
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(1, "Occupied"),
            4,
        );
        assert_eq!(cs.status(None, 1), Some(CHARGING));
        assert_eq!(cs.status(None, 0), Some(UNAVAILABLE));

        let boot = json!({"chargePointVendor": "V", "chargePointModel": "M"});
        send(&mut cs, Version::V16, "BootNotification", &boot, 5);
        assert_eq!(
            cs.status(None, 1),
            None,
            "the boot forgets the current status"
        );
        assert_eq!(cs.last(None, 1), Some(CHARGING), "but not the last one");
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(1, "Available"),
            6,
        );
        assert_eq!(
            cs.before(None, 1),
            None,
            "the first report after a boot changes nothing"
        );
        cs.forget_current();
        assert_eq!(
            (cs.status(None, 1), cs.last(None, 1)),
            (None, Some(AVAILABLE))
        );
    }

    #[test]
    fn a_2x_evse_is_available_or_out_of_service_from_its_connectors_and_events() {
        let mut cs = Connectors::default();
        assert!(
            !cs.is_available(1, None) && !cs.is_out_of_service(1),
            "nothing known"
        );
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 1, "Available"),
            1,
        );
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 2, "Faulted"),
            2,
        );
        assert!(cs.is_available(1, Some(1)) && !cs.is_available(1, None));
        assert!(!cs.is_out_of_service(1));
        let event = json!({"generatedAt": "2026-11-22T10:00:00Z", "seqNo": 0, "tbc": false,
            "eventData": [{"eventId": 1, "timestamp": "2026-11-22T10:00:00Z",
                "trigger": "Delta", "actualValue": "Unavailable", "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"}},
                {"eventId": 2, "timestamp": "2026-11-22T10:00:00Z",
                "trigger": "Delta", "actualValue": "Unavailable", "eventNotificationType": "HardWiredNotification",
                "component": {"name": "EVSE", "evse": {"id": 2}},
                "variable": {"name": "AvailabilityState"}}]});
        send(&mut cs, Version::V201, "NotifyEvent", &event, 3);
        assert_eq!(cs.status(Some(1), 1), Some(UNAVAILABLE));
        assert!(cs.is_out_of_service(1));
        assert!(
            cs.status(Some(2), 0).is_none(),
            "an EVSE's state is no connector's"
        );
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 1, "Occupied"),
            4,
        );
        assert_eq!(cs.before(Some(1), 1), Some(UNAVAILABLE));
        assert_eq!(cs.status(Some(1), 1).map(Status::name), Some("Occupied"));
        assert!(!cs.is_out_of_service(1));
        // Connector 0 of a 2.x EVSE is no connector.
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 0, "Available"),
            5,
        );
        assert!(cs.last(Some(1), 0).is_none() && cs.before(Some(1), 0).is_none());
        // A 1.6 name is no 2.x status.
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 1, "Charging"),
            5,
        );
        assert_eq!(cs.status(Some(1), 1), Some(Status::Occupied));
        assert_eq!(cs.before(Some(1), 1), None);
        let boot =
            json!({"reason": "PowerUp", "chargingStation": {"vendorName": "V", "model": "M"}});
        send(&mut cs, Version::V201, "BootNotification", &boot, 6);
        assert!(!cs.is_out_of_service(1) && !cs.is_available(1, None));
        assert_eq!(cs.last(Some(1), 2), Some(FAULTED));
    }

    #[test]
    fn a_schema_invalid_call_counts_on_16_only() {
        let mut cs = Connectors::default();
        let invalid = |cs: &mut Connectors, version, action, payload: &serde_json::Value| {
            let doc = Doc::from_value(payload);
            let mut c = call("m", action, Side::Charger, doc.root());
            c.valid = false;
            cs.observe_call(&c, Some(version), Timestamp::from_secs(1));
        };
        // errorCode missing: still what the 1.6 charger reported.
        let faulted = json!({"connectorId": 1, "status": "Faulted"});
        invalid(&mut cs, Version::V16, "StatusNotification", &faulted);
        assert_eq!(cs.last(None, 1), Some(FAULTED));
        // timestamp missing: a 2.x report counts only when schema-valid, as does its boot.
        let faulted = json!({"evseId": 1, "connectorId": 1, "connectorStatus": "Faulted"});
        invalid(&mut cs, Version::V201, "StatusNotification", &faulted);
        assert_eq!(cs.last(Some(1), 1), None);
        send(
            &mut cs,
            Version::V201,
            "StatusNotification",
            &sn2(1, 1, "Available"),
            2,
        );
        invalid(
            &mut cs,
            Version::V201,
            "BootNotification",
            &json!({"reason": "PowerUp"}),
        );
        assert!(cs.is_available(1, None));
        // What the CSMS sends is no report of the charger.
        let doc = Doc::from_value(&sn2(1, 1, "Faulted"));
        let csms = call("m", "StatusNotification", Side::Csms, doc.root());
        cs.observe_call(&csms, Some(Version::V201), Timestamp::from_secs(3));
        assert_eq!(cs.status(Some(1), 1), Some(AVAILABLE));
    }

    #[test]
    fn connectors_are_bounded() {
        let mut cs = Connectors::default();
        for c in 0..(MAX_CONNECTORS as i64 + 10) {
            send(
                &mut cs,
                Version::V16,
                "StatusNotification",
                &sn16(c, "Available"),
                c,
            );
        }
        assert_eq!(cs.iter().count(), MAX_CONNECTORS);
        assert_eq!(cs.last(None, 0), None, "the oldest went first");
        let c = MAX_CONNECTORS as i64 + 9;
        assert_eq!(cs.status(None, c), Some(AVAILABLE));
        send(
            &mut cs,
            Version::V16,
            "StatusNotification",
            &sn16(c, "Faulted"),
            100,
        );
        assert_eq!(cs.before(None, c), Some(AVAILABLE));
    }
}
