//! The TriggerMessage and (1.6 security white paper) ExtendedTriggerMessage requests the
//! CSMS sent a station, as facts: each with its CALL, the message it requests and the
//! charger CALL(s) that answer that (the protocol's table below), the connector (1.6) or
//! EVSE (2.x) it names, when it was sent, its answer and when, and the charger CALLs that
//! came for it (before the answer, and after it). Also when a trigger for BootNotification
//! was last accepted, and which request the current message made, answered or came for.
//!
//! ```text
//! BootNotification, Heartbeat, StatusNotification, MeterValues, TransactionEvent,
//! DiagnosticsStatusNotification, LogStatusNotification,
//! PublishFirmwareStatusNotification                       -> the CALL of that name
//! FirmwareStatusNotification                              -> FirmwareStatusNotification
//!                                                            (1.6: or SignedFirmwareStatusNotification)
//! Sign{ChargePoint,ChargingStation,V2G,V2G20,Combined}Certificate -> SignCertificate
//! CustomTrigger, anything else                            -> (not followed, not kept)
//! ```
//!
//! A charger CALL of an expected kind (and of the named connector or EVSE, when both say
//! one) comes for the newest request it may answer: first one not refused whose message has
//! not come, then a refused one whose message has not come, then a StatusNotification,
//! MeterValues or TransactionEvent request already answered by a message (those may be
//! answered once per connector, EVSE or transaction). A request that got its message before
//! its answer takes no other until answered.
//!
//! Facts only: no window, no timeout, no finding. How long a request is followed, and what
//! is wrong, the `trig`, `seq`, `fw` and `sec` rules decide from the times kept here. Lazily
//! allocated: a station never sent a trigger holds one empty pointer.

use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::support::{CallRef, int_of, status_of, str_of};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// Requests kept (unanswered, answered or done); the oldest done one goes first.
pub(crate) const MAX_TRIGGERS: usize = 16;

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Accepted,
    Rejected,
    NotImplemented,
    /// A CALLERROR, or a CALLRESULT without one of the statuses above.
    Other,
}

impl Status {
    /// Rejected or NotImplemented: the charger declined to send the message.
    pub(crate) fn refused(self) -> bool {
        matches!(self, Status::Rejected | Status::NotImplemented)
    }
}

/// The answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: Status,
    pub(crate) at: Timestamp,
}

/// One TriggerMessage or ExtendedTriggerMessage the CSMS sent.
#[derive(Debug)]
pub(crate) struct Request {
    /// Its CALL (line, time it was sent, id, action).
    pub(crate) call: CallRef,
    /// The `requestedMessage`.
    pub(crate) requested: &'static str,
    /// The charger CALLs that answer it.
    pub(crate) expects: &'static [&'static str],
    /// The 1.6 connector or the 2.x EVSE it names (only a positive one).
    pub(crate) target: Option<i64>,
    pub(crate) answer: Option<Answer>,
    /// A message came for it before it was answered.
    pub(crate) early: bool,
    /// How many messages came for it after it was answered.
    pub(crate) after: u32,
}

impl Request {
    /// It may be answered by several messages (one per connector, EVSE or transaction).
    pub(crate) fn multi(&self) -> bool {
        matches!(
            self.requested,
            "StatusNotification" | "MeterValues" | "TransactionEvent"
        )
    }

    fn status(&self) -> Option<Status> {
        self.answer.map(|a| a.status)
    }

    /// Whether a message can still come for it, and how readily (lower first): 0 asked and
    /// not refused, nothing came yet; 1 refused, nothing came after; 2 a request answered
    /// once per connector, EVSE or transaction that already got a message.
    fn takes(&self) -> Option<u8> {
        match self.status() {
            None if !self.early => Some(0),
            Some(Status::Accepted) if !self.early && self.after == 0 => Some(0),
            Some(Status::Accepted) if self.multi() => Some(2),
            Some(s) if s.refused() && self.after == 0 => Some(1),
            _ => None,
        }
    }

    /// It is done: answered, and no message will be taken for it any more.
    fn done(&self) -> bool {
        self.answer.is_some() && self.takes().is_none()
    }

    /// Whether it asks for the charger CALL `action` and awaits it: unanswered, or accepted
    /// and (unless [`multi`](Request::multi)) no message came yet; `current`: the current
    /// message is one that came for it (it was awaited when sent).
    fn awaits(&self, action: &str, current: bool) -> bool {
        self.expects.contains(&action)
            && match self.status() {
                None => true,
                Some(Status::Accepted) => self.multi() || current || self.takes() == Some(0),
                Some(_) => false,
            }
    }
}

/// How far back a caller follows requests (the rules compute it from their settings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Followed {
    /// Unanswered requests sent at or after this time.
    pub(crate) sent_since: Timestamp,
    /// Accepted requests answered at or after this time.
    pub(crate) accepted_since: Timestamp,
}

#[derive(Debug, Default)]
struct Inner {
    requests: Vec<Request>,
    /// The request the current message made, answered or came for (an index).
    current: Option<usize>,
    /// The current message is a charger CALL that came for the `current` request.
    came: bool,
    /// When a trigger for BootNotification was last accepted.
    boot_accepted_at: Option<Timestamp>,
}

impl Inner {
    /// A charger CALL (not a SEND) was sent: the request it comes for, if any.
    fn observe_message(&mut self, call: &Call<'_>, version: Option<Version>) {
        // Read from the payload only when a request asks for this message.
        let mut target = None;
        // The newest request it may answer, most readily first.
        let came = self
            .requests
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, r)| {
                let rank = r.takes()?;
                let fits = r.expects.contains(&call.action)
                    && match (
                        r.target,
                        *target
                            .get_or_insert_with(|| target_of(call, version == Some(Version::V16))),
                    ) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                fits.then_some((rank, i))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, i)| i);
        let Some(i) = came else {
            return;
        };
        let r = &mut self.requests[i];
        if r.answer.is_none() {
            r.early = true;
        } else {
            r.after = r.after.saturating_add(1);
        }
        self.current = Some(i);
        self.came = true;
    }
}

/// The trigger requests of one station.
#[derive(Debug, Default)]
pub(crate) struct Triggers(Option<Box<Inner>>);

/// The requested message as kept, and the charger CALLs that answer it (`None`: not
/// followed).
pub(crate) fn expected(
    requested: &str,
    version: Option<Version>,
) -> Option<(&'static str, &'static [&'static str])> {
    Some(match requested {
        "BootNotification" => ("BootNotification", &["BootNotification"]),
        "Heartbeat" => ("Heartbeat", &["Heartbeat"]),
        "StatusNotification" => ("StatusNotification", &["StatusNotification"]),
        "MeterValues" => ("MeterValues", &["MeterValues"]),
        "TransactionEvent" => ("TransactionEvent", &["TransactionEvent"]),
        "DiagnosticsStatusNotification" => (
            "DiagnosticsStatusNotification",
            &["DiagnosticsStatusNotification"],
        ),
        "LogStatusNotification" => ("LogStatusNotification", &["LogStatusNotification"]),
        "PublishFirmwareStatusNotification" => (
            "PublishFirmwareStatusNotification",
            &["PublishFirmwareStatusNotification"],
        ),
        "FirmwareStatusNotification" if version == Some(Version::V16) => (
            "FirmwareStatusNotification",
            &[
                "FirmwareStatusNotification",
                "SignedFirmwareStatusNotification",
            ],
        ),
        "FirmwareStatusNotification" => (
            "FirmwareStatusNotification",
            &["FirmwareStatusNotification"],
        ),
        "SignChargePointCertificate" => ("SignChargePointCertificate", &["SignCertificate"]),
        "SignChargingStationCertificate" => {
            ("SignChargingStationCertificate", &["SignCertificate"])
        }
        "SignV2GCertificate" => ("SignV2GCertificate", &["SignCertificate"]),
        "SignV2G20Certificate" => ("SignV2G20Certificate", &["SignCertificate"]),
        "SignCombinedCertificate" => ("SignCombinedCertificate", &["SignCertificate"]),
        _ => return None,
    })
}

/// The connector (1.6) or EVSE (2.x) a charger message is about, if it says.
fn target_of(call: &Call<'_>, v16: bool) -> Option<i64> {
    let p = call.payload;
    if v16 {
        return int_of(p, "connectorId");
    }
    match call.action {
        "TransactionEvent" => p.get("evse").and_then(|e| int_of(e, "id")),
        _ => int_of(p, "evseId"),
    }
}

fn is_trigger(action: &str) -> bool {
    matches!(action, "TriggerMessage" | "ExtendedTriggerMessage")
}

impl Triggers {
    fn requests(&self) -> &[Request] {
        self.0.as_deref().map_or(&[], |i| &i.requests)
    }

    /// The request the current message made (a trigger CALL) or answered.
    pub(crate) fn current(&self) -> Option<&Request> {
        let inner = self.0.as_deref()?;
        inner.requests.get(inner.current?).filter(|_| !inner.came)
    }

    /// The request the current charger CALL came for.
    pub(crate) fn came(&self) -> Option<&Request> {
        let inner = self.0.as_deref()?;
        inner.requests.get(inner.current?).filter(|_| inner.came)
    }

    /// The request sent on `line` with message id `id`, while kept.
    pub(crate) fn get(&self, line: u64, id: &str) -> Option<&Request> {
        self.requests()
            .iter()
            .find(|r| r.call.line == line && *r.call.id == *id)
    }

    /// Whether a request for the charger CALL `action` awaits it (within what the caller
    /// follows): the charger may send `action` now because the CSMS asked for it. The
    /// request the current message came for counts (it was awaited when the message was
    /// sent).
    pub(crate) fn awaits(&self, action: &str, followed: Followed) -> bool {
        let Some(inner) = self.0.as_deref() else {
            return false;
        };
        inner.requests.iter().enumerate().any(|(i, r)| {
            r.awaits(action, inner.came && inner.current == Some(i))
                && match r.answer {
                    None => r.call.at >= followed.sent_since,
                    Some(a) => a.at >= followed.accepted_since,
                }
        })
    }

    /// Whether a trigger for BootNotification was accepted at or after `since`.
    pub(crate) fn boot_accepted_since(&self, since: Timestamp) -> bool {
        self.0
            .as_deref()
            .and_then(|i| i.boot_accepted_at)
            .is_some_and(|t| t >= since)
    }

    /// The connection closed: an unanswered request will never be answered.
    pub(crate) fn observe_close(&mut self) {
        if let Some(inner) = &mut self.0 {
            inner.current = None;
            inner.came = false;
            inner.requests.retain(|r| r.answer.is_some());
        }
    }

    /// A CALL was sent at `now` on line `line`; `version`: the connection's.
    pub(crate) fn observe_call(
        &mut self,
        call: &Call<'_>,
        version: Option<Version>,
        now: Timestamp,
        line: u64,
    ) {
        if let Some(inner) = &mut self.0 {
            inner.current = None;
            inner.came = false;
        }
        match call.from {
            Side::Csms if is_trigger(call.action) => {
                self.observe_trigger(call, version, now, line);
            }
            Side::Charger if !call.send => {
                if let Some(inner) = &mut self.0 {
                    inner.observe_message(call, version);
                }
            }
            _ => {}
        }
    }

    fn observe_trigger(
        &mut self,
        call: &Call<'_>,
        version: Option<Version>,
        now: Timestamp,
        line: u64,
    ) {
        let p = call.payload;
        let Some((requested, expects)) =
            str_of(p, "requestedMessage").and_then(|r| expected(r, version))
        else {
            return;
        };
        let target = if version == Some(Version::V16) {
            int_of(p, "connectorId")
        } else {
            p.get("evse").and_then(|e| int_of(e, "id"))
        };
        let inner = self.0.get_or_insert_default();
        if inner.requests.len() >= MAX_TRIGGERS {
            let oldest = inner.requests.iter().position(Request::done).unwrap_or(0);
            inner.requests.remove(oldest);
        }
        inner.requests.push(Request {
            call: CallRef::of_call_at(call, now, line),
            requested,
            expects,
            target: target.filter(|t| *t > 0),
            answer: None,
            early: false,
            after: 0,
        });
        inner.current = Some(inner.requests.len() - 1);
    }

    /// A CALL was answered at `now`.
    pub(crate) fn observe_reply(&mut self, reply: &Reply<'_>, now: Timestamp) {
        if let Some(inner) = &mut self.0 {
            inner.current = None;
            inner.came = false;
        }
        if reply.caller == Side::Csms && is_trigger(reply.action) {
            self.observe_trigger_answer(reply, now);
        }
    }

    fn observe_trigger_answer(&mut self, reply: &Reply<'_>, now: Timestamp) {
        let status = match (reply.outcome, status_of(reply)) {
            (Outcome::Result { .. }, Some("Accepted")) => Status::Accepted,
            (Outcome::Result { .. }, Some("Rejected")) => Status::Rejected,
            (Outcome::Result { .. }, Some("NotImplemented")) => Status::NotImplemented,
            _ => Status::Other,
        };
        let boot = str_of(reply.request, "requestedMessage") == Some("BootNotification");
        if status == Status::Accepted && boot {
            self.0.get_or_insert_default().boot_accepted_at = Some(now);
        }
        let Some(inner) = &mut self.0 else {
            return;
        };
        let Some(i) = inner.requests.iter().position(|r| {
            r.answer.is_none() && r.call.line == reply.call_line && *r.call.id == *reply.id
        }) else {
            return;
        };
        inner.requests[i].answer = Some(Answer { status, at: now });
        inner.current = Some(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::station::testing::{answer, call};
    use crate::wire::doc::Doc;
    use serde_json::json;

    const V16: Option<Version> = Some(Version::V16);
    const V2: Option<Version> = Some(Version::V201);
    /// Follows every request, whatever its age.
    const ALL: Followed = Followed {
        sent_since: Timestamp(i64::MIN),
        accepted_since: Timestamp(i64::MIN),
    };

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(s)
    }

    /// The CSMS sends trigger `id` on `line` at `at`.
    fn trigger(tr: &mut Triggers, v: Option<Version>, id: &str, body: &Doc, at: i64, line: u64) {
        tr.observe_call(
            &call(id, "TriggerMessage", Side::Csms, body.root()),
            v,
            t(at),
            line,
        );
    }

    /// The charger answers trigger `id` (sent on `line`) with `status` at `at`.
    fn reply(tr: &mut Triggers, id: &str, body: &Doc, line: u64, status: &str, at: i64) {
        let result = Doc::from_value(&json!({ "status": status }));
        let mut r = answer(
            id,
            "TriggerMessage",
            Side::Csms,
            body.root(),
            t(0),
            result.root(),
        );
        r.call_line = line;
        tr.observe_reply(&r, t(at));
    }

    /// The charger sends `action` with `payload`.
    fn send(tr: &mut Triggers, v: Option<Version>, action: &'static str, payload: &Doc, at: i64) {
        tr.observe_call(
            &call("m", action, Side::Charger, payload.root()),
            v,
            t(at),
            99,
        );
    }

    #[test]
    fn a_request_is_kept_with_its_target_and_messages_and_a_quiet_station_allocates_nothing() {
        let mut tr = Triggers::default();
        let empty = Doc::from_value(&json!({}));
        send(&mut tr, V16, "Heartbeat", &empty, 1);
        tr.observe_close();
        assert!(
            tr.0.is_none(),
            "nothing allocated for a station never triggered"
        );
        let custom = Doc::from_value(&json!({"requestedMessage": "CustomTrigger"}));
        trigger(&mut tr, V2, "c", &custom, 1, 1);
        assert!(
            tr.0.is_none() && tr.current().is_none(),
            "not followed, not kept"
        );

        let status =
            Doc::from_value(&json!({"requestedMessage": "StatusNotification", "connectorId": 2}));
        trigger(&mut tr, V16, "s", &status, 2, 5);
        let r = tr.current().expect("the request the CALL made");
        assert_eq!(
            (r.requested, r.expects, r.target, r.call.line, r.call.at),
            (
                "StatusNotification",
                &["StatusNotification"][..],
                Some(2),
                5,
                t(2)
            )
        );
        assert!(r.answer.is_none() && r.multi());
        let zero = Doc::from_value(&json!({"requestedMessage": "Heartbeat", "connectorId": 0}));
        trigger(&mut tr, V16, "h", &zero, 3, 6);
        assert_eq!(
            tr.current().map(|r| r.target),
            Some(None),
            "connector 0 names none"
        );
        let evse = Doc::from_value(&json!({"requestedMessage": "MeterValues", "evse": {"id": 3}}));
        trigger(&mut tr, V2, "e", &evse, 4, 7);
        assert_eq!(tr.current().map(|r| r.target), Some(Some(3)));
        // The next message is about none of them.
        send(&mut tr, V16, "Authorize", &empty, 5);
        assert!(tr.current().is_none() && tr.came().is_none());
        assert!(tr.get(5, "s").is_some() && tr.get(5, "h").is_none());
    }

    #[test]
    fn answers_are_kept_and_an_accepted_boot_trigger_remembered() {
        let mut tr = Triggers::default();
        let boot = Doc::from_value(&json!({"requestedMessage": "BootNotification"}));
        let hb = Doc::from_value(&json!({"requestedMessage": "Heartbeat"}));
        trigger(&mut tr, V16, "b", &boot, 1, 1);
        assert!(!tr.boot_accepted_since(t(0)));
        reply(&mut tr, "b", &boot, 1, "Accepted", 2);
        let answered = tr.current().and_then(|r| r.answer);
        assert_eq!(
            answered,
            Some(Answer {
                status: Status::Accepted,
                at: t(2)
            })
        );
        assert!(tr.boot_accepted_since(t(2)) && !tr.boot_accepted_since(t(3)));

        trigger(&mut tr, V16, "r", &hb, 3, 2);
        reply(&mut tr, "r", &hb, 2, "Rejected", 4);
        let r = tr.get(2, "r").and_then(|r| r.answer).expect("answered");
        assert!(r.status == Status::Rejected && r.status.refused());
        assert!(
            !tr.awaits("Heartbeat", ALL),
            "a refused trigger awaits nothing"
        );

        trigger(&mut tr, V16, "n", &hb, 5, 3);
        reply(&mut tr, "n", &hb, 3, "NotImplemented", 6);
        assert_eq!(
            tr.get(3, "n").and_then(|r| r.answer).map(|a| a.status),
            Some(Status::NotImplemented)
        );

        trigger(&mut tr, V16, "x", &hb, 7, 4);
        let err = Reply {
            outcome: Outcome::Error {
                code: "NotSupported",
            },
            call_line: 4,
            ..answer(
                "x",
                "TriggerMessage",
                Side::Csms,
                hb.root(),
                t(7),
                hb.root(),
            )
        };
        tr.observe_reply(&err, t(8));
        assert_eq!(
            tr.get(4, "x").and_then(|r| r.answer).map(|a| a.status),
            Some(Status::Other)
        );
        // A second answer to the same CALL changes nothing; neither does an unknown one.
        reply(&mut tr, "x", &hb, 4, "Accepted", 9);
        reply(&mut tr, "zz", &hb, 4, "Accepted", 9);
        assert_eq!(
            tr.get(4, "x").and_then(|r| r.answer).map(|a| a.status),
            Some(Status::Other)
        );
        assert!(tr.current().is_none());
    }

    #[test]
    fn the_triggered_message_comes_for_its_request_once_and_is_awaited_until_then() {
        let mut tr = Triggers::default();
        let hb = Doc::from_value(&json!({"requestedMessage": "Heartbeat"}));
        let empty = Doc::from_value(&json!({}));
        trigger(&mut tr, V16, "h", &hb, 1, 1);
        assert!(tr.awaits("Heartbeat", ALL) && !tr.awaits("StatusNotification", ALL));
        reply(&mut tr, "h", &hb, 1, "Accepted", 2);
        assert!(tr.awaits("Heartbeat", ALL));
        send(&mut tr, V16, "Heartbeat", &empty, 3);
        let r = tr.came().expect("the Heartbeat came for the trigger");
        assert_eq!((&*r.call.id, r.early, r.after), ("h", false, 1));
        assert!(tr.current().is_none(), "came for, not made or answered");
        assert!(
            tr.awaits("Heartbeat", ALL),
            "it was awaited when it was sent"
        );
        send(&mut tr, V16, "Heartbeat", &empty, 4);
        assert!(tr.came().is_none(), "the next Heartbeat is not triggered");
        assert!(!tr.awaits("Heartbeat", ALL));
    }

    #[test]
    fn a_message_before_the_answer_and_after_a_refusal_comes_for_its_request() {
        let mut tr = Triggers::default();
        let hb = Doc::from_value(&json!({"requestedMessage": "Heartbeat"}));
        let empty = Doc::from_value(&json!({}));
        trigger(&mut tr, V2, "h", &hb, 1, 1);
        send(&mut tr, V2, "Heartbeat", &empty, 2);
        assert_eq!(tr.came().map(|r| (r.early, r.after)), Some((true, 0)));
        send(&mut tr, V2, "Heartbeat", &empty, 3);
        assert!(tr.came().is_none(), "one early message per request");
        assert!(tr.awaits("Heartbeat", ALL), "still unanswered");
        reply(&mut tr, "h", &hb, 1, "Rejected", 4);
        send(&mut tr, V2, "Heartbeat", &empty, 5);
        assert_eq!(tr.came().map(|r| (r.early, r.after)), Some((true, 1)));
        assert!(
            !tr.awaits("Heartbeat", ALL),
            "a refused request is not awaited"
        );
        send(&mut tr, V2, "Heartbeat", &empty, 6);
        assert!(tr.came().is_none());
    }

    #[test]
    fn a_status_trigger_takes_one_message_per_connector_of_its_target_only() {
        let mut tr = Triggers::default();
        let one =
            Doc::from_value(&json!({"requestedMessage": "StatusNotification", "connectorId": 2}));
        let all = Doc::from_value(&json!({"requestedMessage": "StatusNotification"}));
        let sn = |c: i64| {
            Doc::from_value(
                &json!({"connectorId": c, "errorCode": "NoError", "status": "Available"}),
            )
        };
        trigger(&mut tr, V16, "one", &one, 1, 1);
        reply(&mut tr, "one", &one, 1, "Accepted", 2);
        send(&mut tr, V16, "StatusNotification", &sn(1), 3);
        assert!(tr.came().is_none(), "connector 1 is not the one asked");
        send(&mut tr, V16, "StatusNotification", &sn(2), 3);
        assert_eq!(tr.came().map(|r| &*r.call.id), Some("one"));
        trigger(&mut tr, V16, "all", &all, 4, 2);
        reply(&mut tr, "all", &all, 2, "Accepted", 5);
        for c in [1, 2, 3] {
            send(&mut tr, V16, "StatusNotification", &sn(c), 6);
            assert_eq!(tr.came().map(|r| &*r.call.id), Some("all"), "connector {c}");
        }
        assert_eq!(tr.get(2, "all").map(|r| r.after), Some(3));
        assert!(
            tr.awaits("StatusNotification", ALL),
            "more connectors may answer"
        );
    }

    #[test]
    fn awaits_only_within_what_the_caller_follows() {
        let mut tr = Triggers::default();
        let hb = Doc::from_value(&json!({"requestedMessage": "Heartbeat"}));
        trigger(&mut tr, V16, "a", &hb, 10, 1);
        let since = |sent, accepted| Followed {
            sent_since: t(sent),
            accepted_since: t(accepted),
        };
        assert!(tr.awaits("Heartbeat", since(10, 100)));
        assert!(!tr.awaits("Heartbeat", since(11, 0)), "sent too long ago");
        reply(&mut tr, "a", &hb, 1, "Accepted", 20);
        assert!(tr.awaits("Heartbeat", since(100, 20)));
        assert!(
            !tr.awaits("Heartbeat", since(0, 21)),
            "accepted too long ago"
        );
    }

    #[test]
    fn the_list_is_bounded_dropping_a_done_request_first_and_a_close_forgets_unanswered_ones() {
        let mut tr = Triggers::default();
        let hb = Doc::from_value(&json!({"requestedMessage": "Heartbeat"}));
        let empty = Doc::from_value(&json!({}));
        let ids: Vec<String> = (0..=MAX_TRIGGERS + 1).map(|i| format!("t{i}")).collect();
        // t0 accepted and answered by its Heartbeat (done), t1 accepted (awaiting).
        trigger(&mut tr, V16, &ids[0], &hb, 0, 0);
        reply(&mut tr, &ids[0], &hb, 0, "Accepted", 0);
        send(&mut tr, V16, "Heartbeat", &empty, 0);
        trigger(&mut tr, V16, &ids[1], &hb, 1, 1);
        reply(&mut tr, &ids[1], &hb, 1, "Accepted", 1);
        for (i, id) in ids.iter().enumerate().take(MAX_TRIGGERS).skip(2) {
            trigger(&mut tr, V16, id, &hb, i as i64, i as u64);
        }
        assert_eq!(tr.requests().len(), MAX_TRIGGERS);
        let n = MAX_TRIGGERS;
        trigger(&mut tr, V16, &ids[n], &hb, n as i64, n as u64);
        assert_eq!(tr.requests().len(), MAX_TRIGGERS);
        assert!(tr.get(0, "t0").is_none(), "the done one went first");
        assert!(tr.get(1, "t1").is_some());
        trigger(&mut tr, V16, &ids[n + 1], &hb, n as i64 + 1, n as u64 + 1);
        assert!(tr.get(1, "t1").is_none(), "then the oldest");
        assert!(tr.get(2, "t2").is_some());

        tr.observe_close();
        assert_eq!(tr.requests().len(), 0, "only unanswered ones were left");
        trigger(&mut tr, V16, "a", &hb, 50, 50);
        reply(&mut tr, "a", &hb, 50, "Accepted", 51);
        trigger(&mut tr, V16, "u", &hb, 52, 52);
        tr.observe_close();
        assert!(tr.get(50, "a").is_some() && tr.get(52, "u").is_none());
        assert!(tr.current().is_none());
    }

    #[test]
    fn the_16_and_2x_trigger_enumerations_map_to_their_messages() {
        let expects = |r, v| expected(r, v).map(|(_, e)| e);
        assert_eq!(
            expects("FirmwareStatusNotification", V16),
            Some(
                &[
                    "FirmwareStatusNotification",
                    "SignedFirmwareStatusNotification"
                ][..]
            )
        );
        assert_eq!(
            expects("FirmwareStatusNotification", V2),
            Some(&["FirmwareStatusNotification"][..])
        );
        assert_eq!(
            expects("SignChargePointCertificate", V16),
            Some(&["SignCertificate"][..])
        );
        assert_eq!(
            expects("SignV2GCertificate", V2),
            Some(&["SignCertificate"][..])
        );
        assert_eq!(
            expected("LogStatusNotification", V2).map(|(r, _)| r),
            Some("LogStatusNotification")
        );
        assert!(expected("CustomTrigger", Some(Version::V21)).is_none());
    }
}
