//! The reservations of a station (1.6 and 2.x ReserveNow), as the messages tell them: each
//! with its id, target (1.6 connector, 0 = any; 2.x EVSE, `None` = any), idToken and group,
//! expiry, the call that asked for it, and its state:
//!
//! ```text
//! ReserveNow ──Accepted──► Active ──StartTransaction / TransactionEvent with it──► Consumed
//!     │                      ├──CancelReservation Accepted (before its expiry)───► Cancelled
//!     └─other answer: gone   ├──2.x ReservationStatusUpdate Expired──────────────► Expired
//!                            └──Faulted / Unavailable (1.6 status; 2.x
//!                                  ReservationStatusUpdate Removed)──────────────► Removed
//! ```
//!
//! Also per reservation: whether its target reported Reserved, and whether its idToken (or
//! group) was presented since. For the current message: which reservation it consumed, what
//! a CancelReservation answer found, and whether a ReserveNow answer's target was held by
//! that same reservation.
//!
//! Facts only: which of these are wrong, what is late, and any end that depends on a setting
//! (the clock skew, the follow-up window) the `resv` and `tx16` rules decide. Lazily
//! allocated: a station never sent a ReserveNow holds one empty pointer.

use crate::engine::protocol::{Call, Reply};
use crate::engine::support::{
    CallRef, availability_states, int_of, push_capped, status_of, str_of,
};
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// Reservations kept (requested, active or ended); the oldest goes first.
pub(crate) const MAX_RESERVATIONS: usize = 32;

/// How a reservation ended, as a message said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Consumed,
    Cancelled,
    Expired,
    Removed,
}

impl End {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            End::Consumed => "used by a transaction",
            End::Cancelled => "cancelled",
            End::Expired => "expired",
            End::Removed => "removed (connector faulted or unavailable)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RState {
    /// ReserveNow sent, not answered yet.
    Requested,
    Active,
    Ended(End),
}

#[derive(Debug)]
pub(crate) struct Reservation {
    /// Numbers the reservations of the station in the order they were requested.
    pub(crate) serial: u64,
    pub(crate) id: i64,
    /// 1.6 connector (0 = any); 2.x EVSE (`None` = any).
    pub(crate) target: Option<i64>,
    pub(crate) token: Box<str>,
    pub(crate) group: Option<Box<str>>,
    pub(crate) expiry: Option<Timestamp>,
    pub(crate) call: CallRef,
    pub(crate) state: RState,
    /// Its target reported Reserved (or the reservation it replaced had).
    pub(crate) reserved_seen: bool,
    /// Its idToken or group was presented (Authorize, TransactionEvent) while active.
    pub(crate) token_presented: bool,
}

impl Reservation {
    pub(crate) fn is_active(&self) -> bool {
        self.state == RState::Active
    }

    fn by_token(&self, token: &str) -> bool {
        &*self.token == token || self.group.as_deref() == Some(token)
    }
}

#[derive(Debug, Default)]
struct Inner {
    list: Vec<Reservation>,
    next_serial: u64,
    /// The reservation the current message consumed.
    consumed: Option<u64>,
    /// The current message answers a CancelReservation: the reservation found for its id
    /// (its serial and state before the answer), `Some(None)` when none was.
    cancel_found: Option<Option<(u64, RState)>>,
    /// The current message answers a ReserveNow Accepted: whether its target was held
    /// (active, or requested and reported Reserved) by a reservation of the same id.
    held_by_itself: bool,
}

/// The reservations of one station.
#[derive(Debug, Default)]
pub(crate) struct Reservations(Option<Box<Inner>>);

impl Reservations {
    /// All reservations kept, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Reservation> {
        self.0.as_deref().into_iter().flat_map(|i| i.list.iter())
    }

    /// The serial of the reservation the current message consumed.
    pub(crate) fn consumed_now(&self) -> Option<u64> {
        self.0.as_ref()?.consumed
    }

    /// The current message answers a CancelReservation: the reservation of its id (serial
    /// and state before the answer), or `Some(None)` when none was known.
    pub(crate) fn cancel_found(&self) -> Option<Option<(u64, RState)>> {
        self.0.as_ref()?.cancel_found
    }

    /// The current message accepts a ReserveNow whose target a reservation of the same id
    /// already held (so a Reserved status there is its own).
    pub(crate) fn held_by_itself(&self) -> bool {
        self.0.as_ref().is_some_and(|i| i.held_by_itself)
    }

    /// The latest accepted (not merely requested) reservation with this id.
    fn find(list: &mut [Reservation], id: i64) -> Option<&mut Reservation> {
        list.iter_mut()
            .rev()
            .find(|r| r.id == id && r.state != RState::Requested)
    }

    /// A CALL was sent at `now` (on line `line`); `v16`: the connection speaks 1.6.
    pub(crate) fn observe_call(&mut self, call: &Call<'_>, v16: bool, now: Timestamp, line: u64) {
        if let Some(inner) = &mut self.0 {
            inner.consumed = None;
            inner.cancel_found = None;
            inner.held_by_itself = false;
        }
        let p = call.payload;
        if call.action == "ReserveNow" && call.from == Side::Csms {
            let (id, target, token, group, expiry) = if v16 {
                (
                    int_of(p, "reservationId"),
                    int_of(p, "connectorId"),
                    str_of(p, "idTag"),
                    str_of(p, "parentIdTag"),
                    str_of(p, "expiryDate"),
                )
            } else {
                (
                    int_of(p, "id"),
                    int_of(p, "evseId"),
                    p.get("idToken").and_then(|t| str_of(t, "idToken")),
                    p.get("groupIdToken").and_then(|t| str_of(t, "idToken")),
                    str_of(p, "expiryDateTime"),
                )
            };
            let (Some(id), Some(token)) = (id, token) else {
                return;
            };
            let inner = self.0.get_or_insert_default();
            inner
                .list
                .retain(|r| !(r.id == id && r.state == RState::Requested));
            inner.next_serial += 1;
            let r = Reservation {
                serial: inner.next_serial,
                id,
                target,
                token: Box::from(token),
                group: group.map(Box::from),
                expiry: expiry.and_then(|e| Timestamp::parse_rfc3339(e).ok()),
                call: CallRef::of_call_at(call, now, line),
                state: RState::Requested,
                reserved_seen: false,
                token_presented: false,
            };
            push_capped(&mut inner.list, r, MAX_RESERVATIONS);
            return;
        }
        let Some(inner) = &mut self.0 else { return };
        if call.from != Side::Charger {
            return;
        }
        match call.action {
            "StatusNotification" => {
                if v16 {
                    if let (Some(c), Some(s)) = (int_of(p, "connectorId"), str_of(p, "status")) {
                        inner.status(c, s, v16);
                    }
                } else if let (Some(e), Some(_), Some(s)) = (
                    int_of(p, "evseId"),
                    int_of(p, "connectorId"),
                    str_of(p, "connectorStatus"),
                ) {
                    inner.status(e, s, v16);
                }
            }
            "NotifyEvent" if !v16 => {
                for a in availability_states(p) {
                    inner.status(a.evse, a.state, v16);
                }
            }
            "ReservationStatusUpdate" => {
                if let (Some(id), Some(s)) = (
                    int_of(p, "reservationId"),
                    str_of(p, "reservationUpdateStatus"),
                ) && let Some(r) = Self::find(&mut inner.list, id)
                    && r.is_active()
                {
                    r.state = RState::Ended(if s == "Removed" {
                        End::Removed
                    } else {
                        End::Expired
                    });
                }
            }
            "StartTransaction" if v16 => {
                let connector = int_of(p, "connectorId");
                inner.consume(int_of(p, "reservationId"), connector, str_of(p, "idTag"));
            }
            "TransactionEvent" if !v16 => {
                let token = p.get("idToken").and_then(|t| str_of(t, "idToken"));
                if let Some(t) = token {
                    inner.presented(t);
                }
                let by_id = p.get("reservationId").and_then(Json::as_i64);
                let started = str_of(p, "eventType") == Some("Started");
                let evse = p.get("evse").and_then(|e| int_of(e, "id"));
                if by_id.is_some() || started {
                    inner.consume(by_id, evse, if started { token } else { None });
                }
            }
            "Authorize" => {
                let token = if v16 {
                    str_of(p, "idTag")
                } else {
                    p.get("idToken").and_then(|t| str_of(t, "idToken"))
                };
                if let Some(t) = token {
                    inner.presented(t);
                }
            }
            _ => {}
        }
    }

    /// A CALL was answered at `now`; `v16`: the connection speaks 1.6.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>, v16: bool, now: Timestamp) {
        let Some(inner) = &mut self.0 else { return };
        inner.consumed = None;
        inner.cancel_found = None;
        inner.held_by_itself = false;
        if reply.caller != Side::Csms {
            return;
        }
        match reply.action {
            "ReserveNow" => {
                let key = if v16 { "reservationId" } else { "id" };
                let Some(id) = int_of(reply.request, key) else {
                    return;
                };
                if status_of(reply) != Some("Accepted") {
                    inner
                        .list
                        .retain(|r| !(r.id == id && r.state == RState::Requested));
                    return;
                }
                let target = int_of(reply.request, if v16 { "connectorId" } else { "evseId" });
                inner.held_by_itself = target.is_some_and(|t| {
                    inner.list.iter().any(|r| {
                        r.id == id
                            && r.target == Some(t)
                            && (r.is_active() || (r.state == RState::Requested && r.reserved_seen))
                    })
                });
                // A reservation with the same id is replaced.
                let replaced_reserved = inner
                    .list
                    .iter()
                    .any(|r| r.id == id && r.is_active() && r.reserved_seen && r.target == target);
                inner
                    .list
                    .retain(|r| !(r.id == id && r.state != RState::Requested));
                if let Some(r) = inner
                    .list
                    .iter_mut()
                    .rev()
                    .find(|r| r.id == id && r.state == RState::Requested)
                {
                    r.state = RState::Active;
                    r.reserved_seen |= replaced_reserved;
                }
            }
            "CancelReservation" => {
                let (Some(id), Some(status)) =
                    (int_of(reply.request, "reservationId"), status_of(reply))
                else {
                    return;
                };
                let found = Self::find(&mut inner.list, id);
                inner.cancel_found = Some(found.as_ref().map(|r| (r.serial, r.state)));
                if status == "Accepted"
                    && let Some(r) = found
                    && r.is_active()
                    && r.expiry.is_none_or(|e| now <= e)
                {
                    r.state = RState::Ended(End::Cancelled);
                }
            }
            _ => {}
        }
    }
}

impl Inner {
    /// A status of a 1.6 connector or of a 2.x EVSE (or one of its connectors).
    fn status(&mut self, target: i64, status: &str, v16: bool) {
        for r in &mut self.list {
            if r.target != Some(target) || matches!(r.state, RState::Ended(_)) {
                continue;
            }
            match status {
                "Reserved" => r.reserved_seen = true,
                "Faulted" | "Unavailable" if v16 && r.is_active() => {
                    r.state = RState::Ended(End::Removed);
                }
                _ => {}
            }
        }
    }

    /// The reserved token (or its group) was presented.
    fn presented(&mut self, token: &str) {
        for r in self.list.iter_mut().filter(|r| r.is_active()) {
            if r.by_token(token) {
                r.token_presented = true;
            }
        }
    }

    /// A transaction started: with the reservation's id, or with its token on its target.
    fn consume(&mut self, by_id: Option<i64>, target: Option<i64>, token: Option<&str>) {
        for r in self.list.iter_mut().filter(|r| r.is_active()) {
            let same_target = match (r.target, target) {
                (None | Some(0), _) => true,
                (Some(a), Some(b)) => a == b,
                (Some(_), None) => false,
            };
            let by_token = token.is_some_and(|t| r.by_token(t));
            if by_id == Some(r.id) || (by_token && same_target) {
                r.state = RState::Ended(End::Consumed);
                self.consumed = Some(r.serial);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::{answer, call};
    use crate::wire::doc::Doc;
    use serde_json::json;

    /// Feeds `r` the CALL (`id`, `action`, from whom) with `payload`, at `at` s on `line`.
    fn called(
        r: &mut Reservations,
        v16: bool,
        (id, action, from): (&str, &'static str, Side),
        payload: &Doc,
        at: i64,
        line: u64,
    ) {
        let c = call(id, action, from, payload.root());
        r.observe_call(&c, v16, Timestamp::from_secs(at), line);
    }

    /// Feeds `r` the answer `result` to the CSMS's CALL (`id`, `action`) with `request`, at
    /// `at` s.
    fn answered(
        r: &mut Reservations,
        v16: bool,
        (id, action): (&str, &'static str),
        request: &Doc,
        result: &Doc,
        at: i64,
    ) {
        let a = answer(
            id,
            action,
            Side::Csms,
            request.root(),
            Timestamp::from_secs(1),
            result.root(),
        );
        r.observe_reply(&a, v16, Timestamp::from_secs(at));
    }

    #[test]
    fn a_reservation_follows_its_messages_and_a_quiet_station_allocates_nothing() {
        let mut r = Reservations::default();
        let hb = Doc::from_value(&json!({}));
        called(&mut r, true, ("h", "Heartbeat", Side::Charger), &hb, 1, 1);
        assert!(r.0.is_none(), "nothing allocated before a ReserveNow");
        let reserve = Doc::from_value(
            &json!({"connectorId": 1, "expiryDate": "2026-11-22T11:00:00Z",
            "idTag": "T", "parentIdTag": "G", "reservationId": 5}),
        );
        called(
            &mut r,
            true,
            ("r", "ReserveNow", Side::Csms),
            &reserve,
            2,
            3,
        );
        let first = r.iter().next().expect("requested");
        assert_eq!(
            (first.id, first.target, first.state),
            (5, Some(1), RState::Requested)
        );
        assert_eq!(first.call.line, 3);
        let ok = Doc::from_value(&json!({"status": "Accepted"}));
        answered(&mut r, true, ("r", "ReserveNow"), &reserve, &ok, 3);
        assert!(!r.held_by_itself());
        let reserved = Doc::from_value(
            &json!({"connectorId": 1, "errorCode": "NoError", "status": "Reserved"}),
        );
        called(
            &mut r,
            true,
            ("s", "StatusNotification", Side::Charger),
            &reserved,
            4,
            5,
        );
        let auth = Doc::from_value(&json!({"idTag": "G"}));
        called(&mut r, true, ("a", "Authorize", Side::Charger), &auth, 5, 6);
        let res = r.iter().next().expect("kept");
        assert!(res.is_active() && res.reserved_seen && res.token_presented);
        // A start on another connector with its token does not use it; on its own, it does.
        let elsewhere = Doc::from_value(&json!({"connectorId": 2, "idTag": "T", "meterStart": 0,
            "timestamp": "2026-11-22T10:00:07Z"}));
        called(
            &mut r,
            true,
            ("x", "StartTransaction", Side::Charger),
            &elsewhere,
            6,
            7,
        );
        assert_eq!(r.consumed_now(), None);
        let here = Doc::from_value(&json!({"connectorId": 1, "idTag": "T", "meterStart": 0,
            "timestamp": "2026-11-22T10:00:08Z"}));
        called(
            &mut r,
            true,
            ("y", "StartTransaction", Side::Charger),
            &here,
            7,
            8,
        );
        assert_eq!(r.consumed_now(), Some(res_serial(&r)));
        assert_eq!(
            r.iter().next().map(|x| x.state),
            Some(RState::Ended(End::Consumed))
        );
        // A cancel afterwards finds it ended, and changes nothing.
        let cancel = Doc::from_value(&json!({"reservationId": 5}));
        answered(&mut r, true, ("c", "CancelReservation"), &cancel, &ok, 8);
        assert_eq!(
            r.cancel_found(),
            Some(Some((res_serial(&r), RState::Ended(End::Consumed))))
        );
        called(&mut r, true, ("h", "Heartbeat", Side::Charger), &hb, 9, 10);
        assert_eq!((r.consumed_now(), r.cancel_found()), (None, None));
    }

    fn res_serial(r: &Reservations) -> u64 {
        r.iter().next().map_or(0, |x| x.serial)
    }

    #[test]
    fn a_refused_reservation_goes_and_a_cancel_after_the_expiry_is_not_the_models_to_decide() {
        let mut r = Reservations::default();
        let reserve = Doc::from_value(
            &json!({"id": 7, "evseId": 1, "expiryDateTime": "1970-01-01T00:00:10Z",
            "idToken": {"idToken": "T", "type": "ISO14443"}}),
        );
        called(
            &mut r,
            false,
            ("r", "ReserveNow", Side::Csms),
            &reserve,
            1,
            1,
        );
        let rejected = Doc::from_value(&json!({"status": "Rejected"}));
        answered(&mut r, false, ("r", "ReserveNow"), &reserve, &rejected, 2);
        assert_eq!(r.iter().count(), 0, "a refused request is gone");
        called(
            &mut r,
            false,
            ("r2", "ReserveNow", Side::Csms),
            &reserve,
            3,
            3,
        );
        let reserved = Doc::from_value(
            &json!({"evseId": 1, "connectorId": 1, "connectorStatus": "Reserved",
            "timestamp": "1970-01-01T00:00:03Z"}),
        );
        called(
            &mut r,
            false,
            ("s", "StatusNotification", Side::Charger),
            &reserved,
            4,
            4,
        );
        let ok = Doc::from_value(&json!({"status": "Accepted"}));
        answered(&mut r, false, ("r2", "ReserveNow"), &reserve, &ok, 5);
        assert!(r.held_by_itself(), "the Reserved status was its own");
        // 2.x: Faulted does not end it (a ReservationStatusUpdate Removed does).
        let faulted = Doc::from_value(
            &json!({"evseId": 1, "connectorId": 1, "connectorStatus": "Faulted",
            "timestamp": "1970-01-01T00:00:06Z"}),
        );
        called(
            &mut r,
            false,
            ("f", "StatusNotification", Side::Charger),
            &faulted,
            6,
            6,
        );
        assert!(r.iter().all(Reservation::is_active));
        let cancel = Doc::from_value(&json!({"reservationId": 7}));
        answered(&mut r, false, ("c", "CancelReservation"), &cancel, &ok, 11);
        assert!(
            r.iter().all(Reservation::is_active),
            "past its expiry: not cancelled"
        );
        let update =
            Doc::from_value(&json!({"reservationId": 7, "reservationUpdateStatus": "Removed"}));
        called(
            &mut r,
            false,
            ("u", "ReservationStatusUpdate", Side::Charger),
            &update,
            12,
            8,
        );
        assert_eq!(
            r.iter().next().map(|x| x.state),
            Some(RState::Ended(End::Removed))
        );
    }
}
