//! OCPP 2.0.1 / 2.1 transactions, reported by the station in TransactionEvents (Started,
//! Updated..., Ended) under a transactionId it chose.
//!
//! ```text
//! TransactionEvent ─► an event sent and not acknowledged, again? ─► Retransmitted (no change)
//!                  ─► id followed? ─ no ─► ended before? Started: a new transaction (reused)
//!                  │                 │                  else AfterEnded (no change)
//!                  │                 └──► First (Started, or adopted mid-life)
//!                  └─ yes: its Ended acknowledged? Started: a new transaction (reused)
//!                                                  else AfterEnded (no change)
//!                     else Known: seqNo, timestamp, EVSE and connector follow the event
//! CALLRESULT / CALLERROR ─► the event's delivery; an acknowledged Ended ends the id for good
//! ```
//!
//! Ended transactions keep only their id (as a hash, capped) once forgotten.

use crate::wire::doc::Json;

use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::support::{push_capped, str_of};
use crate::time::Timestamp;

/// Transactions followed (open ones, and recently ended ones with their details).
const MAX_TXS: usize = 64;
/// Ended transactions remembered (by a hash of the id) for the reuse rules.
const MAX_ENDED_IDS: usize = 1024;
/// Recent events of one transaction with their delivery outcome.
const MAX_SENT: usize = 8;

/// How a sent event was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Not answered yet.
    Pending,
    /// A CALLRESULT came.
    Acked,
    /// A CALLERROR came, or the connection closed first: the station will resend it.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Started,
    Updated,
    Ended,
}

impl EventType {
    fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "Started" => EventType::Started,
            "Updated" => EventType::Updated,
            "Ended" => EventType::Ended,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Sent {
    seq: i64,
    kind: EventType,
    delivery: Delivery,
}

/// The parts of a TransactionEvent the model and the rules read.
#[derive(Debug)]
pub(crate) struct Event<'a> {
    pub(crate) kind: EventType,
    pub(crate) id: &'a str,
    pub(crate) seq: i64,
    pub(crate) ts: Option<Timestamp>,
    pub(crate) trigger: &'a str,
    pub(crate) info: Json<'a>,
    pub(crate) offline: bool,
    pub(crate) evse: Option<i64>,
    pub(crate) connector: Option<i64>,
}

impl<'a> Event<'a> {
    /// The event of a TransactionEvent payload (`None` without a type, id or seqNo).
    ///
    /// One pass over the members instead of a lookup per member: the model, `tx2` and
    /// `remote` each read the event, and a lookup in a JSON object compares keys.
    pub(crate) fn of(p: Json<'a>) -> Option<Event<'a>> {
        let (mut kind, mut info, mut seq, mut ts, mut trigger, mut offline, mut evse) =
            (None, None, None, None, None, false, None);
        for (key, member) in p.as_object()? {
            match key {
                "eventType" => kind = member.as_str(),
                "transactionInfo" => info = Some(member),
                "seqNo" => seq = member.as_i64(),
                "timestamp" => ts = member.as_str(),
                "triggerReason" => trigger = member.as_str(),
                "offline" => offline = member.as_bool() == Some(true),
                "evse" => evse = Some(member),
                _ => {}
            }
        }
        let info = info?;
        let (mut evse_id, mut connector) = (None, None);
        if let Some(members) = evse.and_then(Json::as_object) {
            for (key, member) in members {
                match key {
                    "id" => evse_id = member.as_i64(),
                    "connectorId" => connector = member.as_i64(),
                    _ => {}
                }
            }
        }
        Some(Event {
            kind: EventType::parse(kind?)?,
            id: str_of(info, "transactionId")?,
            seq: seq?,
            ts: ts.and_then(|t| Timestamp::parse_rfc3339(t).ok()),
            trigger: trigger.unwrap_or(""),
            info,
            offline,
            evse: evse_id,
            connector,
        })
    }
}

/// The transaction id, seqNo and type of a TransactionEvent payload (what pairs an answer
/// with the event it answers), read as [`Event::of`] reads them.
fn key_of(p: Json<'_>) -> Option<(&str, i64, EventType)> {
    let (mut kind, mut info, mut seq) = (None, None, None);
    for (key, member) in p.as_object()? {
        match key {
            "eventType" => kind = member.as_str(),
            "transactionInfo" => info = Some(member),
            "seqNo" => seq = member.as_i64(),
            _ => {}
        }
    }
    let kind = EventType::parse(kind?)?;
    Some((str_of(info?, "transactionId")?, seq?, kind))
}

/// One transaction of the station.
#[derive(Debug)]
pub(crate) struct Tx {
    /// Unique per transaction followed by this station (a reused id gets a new one).
    pub(crate) serial: u64,
    pub(crate) id: Box<str>,
    /// The EVSE and connector its events named.
    pub(crate) evse: Option<i64>,
    pub(crate) connector: Option<i64>,
    /// The seqNo of its Started, when the trace saw it.
    pub(crate) started: Option<i64>,
    pub(crate) last_seq: Option<i64>,
    pub(crate) last_ts: Option<Timestamp>,
    /// When its last event was sent (observer time).
    pub(crate) last_at: Timestamp,
    /// Distinct seqNos seen.
    pub(crate) seen: u32,
    /// The seqNo of its Ended, once sent.
    pub(crate) ended: Option<i64>,
    sent: Vec<Sent>,
    /// An event said chargingState Charging (energy was transferred).
    pub(crate) charged: bool,
    /// An event carried numberOfPhasesUsed.
    pub(crate) phases_reported: bool,
}

impl Tx {
    /// A transaction followed from `ev`, its first event seen (`started`: it is its Started).
    fn first_seen(serial: u64, ev: &Event<'_>, started: bool, now: Timestamp) -> Tx {
        Tx {
            serial,
            id: Box::from(ev.id),
            evse: ev.evse,
            connector: ev.connector,
            started: started.then_some(ev.seq),
            last_seq: Some(ev.seq),
            last_ts: ev.ts,
            last_at: now,
            seen: 1,
            ended: None,
            sent: Vec::new(),
            charged: false,
            phases_reported: false,
        }
    }

    /// The record of `ev` as sent and not acknowledged yet (there is at most one: a
    /// retransmission finds it instead of adding another).
    fn unacked(&mut self, seq: i64, kind: EventType) -> Option<&mut Sent> {
        self.sent
            .iter_mut()
            .rev()
            .find(|e| e.seq == seq && e.kind == kind && e.delivery != Delivery::Acked)
    }

    /// Its Ended was sent and acknowledged.
    pub(crate) fn ended_acked(&self) -> bool {
        self.ended.is_some_and(|e| {
            self.sent
                .iter()
                .any(|s| s.seq == e && s.kind == EventType::Ended && s.delivery == Delivery::Acked)
        })
    }

    pub(crate) fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

/// A transaction as it was before the current event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Before {
    pub(crate) evse: Option<i64>,
    pub(crate) connector: Option<i64>,
    pub(crate) started: Option<i64>,
    pub(crate) last_seq: Option<i64>,
    pub(crate) last_ts: Option<Timestamp>,
}

/// What the current TransactionEvent did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not a TransactionEvent (or not one that reads).
    #[default]
    None,
    /// The same event again, sent before and not acknowledged: nothing else changed.
    Retransmitted,
    /// An event for a transaction that ended: not followed. `ended`: the seqNo of its
    /// acknowledged Ended, while the transaction is still kept.
    AfterEnded { ended: Option<i64> },
    /// The first event of a transaction now followed: its Started (`reused`: the id was
    /// that of a transaction that ended), or a later event (adopted mid-life).
    First { started: bool, reused: bool },
    /// A further event of a followed transaction, which was `before` it.
    Known { before: Before },
}

impl Seen {
    /// Whether the event is followed (its transaction is kept with it).
    pub(crate) fn followed(self) -> bool {
        matches!(self, Seen::First { .. } | Seen::Known { .. })
    }
}

/// No transaction at all: what a station that never sent a TransactionEvent has.
pub(crate) static EMPTY: Txs = Txs {
    txs: Vec::new(),
    ended_ids: Vec::new(),
    next_serial: 0,
    seen: Seen::None,
};

/// The 2.x transactions of one station.
#[derive(Debug, Default)]
pub(crate) struct Txs {
    txs: Vec<Tx>,
    /// Hashes of the ids of ended transactions (8 bytes each, whatever the id's length).
    ended_ids: Vec<u64>,
    next_serial: u64,
    /// What the current TransactionEvent did.
    pub(crate) seen: Seen,
}

/// A stable 64-bit hash of a transaction id (collisions are negligible at these counts).
pub(crate) fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Txs {
    /// Transactions started (or first seen) and not ended.
    pub(crate) fn open_count(&self) -> usize {
        self.txs.iter().filter(|t| t.is_open()).count()
    }

    /// The transaction with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&Tx> {
        self.txs.iter().rev().find(|t| &*t.id == id)
    }

    /// The transactions followed, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Tx> {
        self.txs.iter()
    }

    /// Whether a serial is that of a transaction still followed.
    pub(crate) fn has_serial(&self, serial: u64) -> bool {
        self.txs.iter().any(|t| t.serial == serial)
    }

    /// Whether a transaction with this id ended and was forgotten but for its id.
    pub(crate) fn ended_before(&self, id: &str) -> bool {
        self.ended_ids.contains(&id_hash(id))
    }

    fn pos(&self, id: &str) -> Option<usize> {
        self.txs.iter().rposition(|t| &*t.id == id)
    }

    fn add(&mut self, ev: &Event<'_>, started: bool, now: Timestamp) -> usize {
        if self.txs.len() >= MAX_TXS {
            // Forget the oldest ended transaction (its id stays in ended_ids), or the oldest.
            let pos = self.txs.iter().position(|t| !t.is_open()).unwrap_or(0);
            let old = self.txs.remove(pos);
            if !old.is_open() {
                self.remember_ended(&old.id);
            }
        }
        self.next_serial = self.next_serial.wrapping_add(1);
        self.txs
            .push(Tx::first_seen(self.next_serial, ev, started, now));
        self.txs.len() - 1
    }

    fn remember_ended(&mut self, id: &str) {
        let h = id_hash(id);
        if !self.ended_ids.contains(&h) {
            push_capped(&mut self.ended_ids, h, MAX_ENDED_IDS);
        }
    }

    pub(super) fn observe_close(&mut self) {
        for t in &mut self.txs {
            for e in &mut t.sent {
                if e.delivery == Delivery::Pending {
                    e.delivery = Delivery::Failed;
                }
            }
        }
    }

    /// A schema-valid CALL of the station.
    pub(super) fn observe_call(&mut self, call: &Call<'_>, now: Timestamp) {
        if call.action != "TransactionEvent" {
            return;
        }
        let Some(ev) = Event::of(call.payload) else {
            return;
        };
        self.seen = self.event(&ev, now);
        if !self.seen.followed() {
            return;
        }
        let Some(pos) = self.pos(ev.id) else {
            return;
        };
        let tx = &mut self.txs[pos];
        tx.last_at = now;
        tx.charged |= str_of(ev.info, "chargingState") == Some("Charging");
        tx.phases_reported |= call.payload.get("numberOfPhasesUsed").is_some();
        push_capped(
            &mut tx.sent,
            Sent {
                seq: ev.seq,
                kind: ev.kind,
                delivery: Delivery::Pending,
            },
            MAX_SENT,
        );
        if ev.kind == EventType::Ended {
            tx.ended = Some(ev.seq);
        }
    }

    /// Where `ev` stands against the transactions, following its transaction with it.
    fn event(&mut self, ev: &Event<'_>, now: Timestamp) -> Seen {
        let started = ev.kind == EventType::Started;
        let Some(pos) = self.pos(ev.id) else {
            let reused = self.ended_before(ev.id);
            if reused && !started {
                return Seen::AfterEnded { ended: None };
            }
            self.add(ev, started, now);
            return Seen::First { started, reused };
        };
        let tx = &mut self.txs[pos];
        if let Some(e) = tx.unacked(ev.seq, ev.kind) {
            e.delivery = Delivery::Pending;
            tx.last_at = now;
            return Seen::Retransmitted;
        }
        if tx.ended_acked() {
            if !started {
                return Seen::AfterEnded { ended: tx.ended };
            }
            let old = self.txs.remove(pos);
            self.remember_ended(&old.id);
            self.add(ev, true, now);
            return Seen::First {
                started: true,
                reused: true,
            };
        }
        let before = Before {
            evse: tx.evse,
            connector: tx.connector,
            started: tx.started,
            last_seq: tx.last_seq,
            last_ts: tx.last_ts,
        };
        if tx.last_seq.is_none_or(|last| ev.seq > last) {
            tx.last_seq = Some(ev.seq);
            tx.seen = tx.seen.saturating_add(1);
            if ev.ts.is_some() {
                tx.last_ts = ev.ts;
            }
        }
        if started && tx.started.is_none() {
            tx.started = Some(ev.seq);
        }
        if let Some(evse) = ev.evse {
            if tx.evse.is_none() {
                tx.evse = Some(evse);
            }
            if let Some(c) = ev.connector
                && !(tx.connector.is_some_and(|old| old != c) && tx.evse == Some(evse))
            {
                tx.connector = Some(c);
            }
        }
        Seen::Known { before }
    }

    /// An answer to a CALL of the station.
    pub(super) fn observe_reply(&mut self, reply: &Reply<'_>) {
        if reply.action != "TransactionEvent" {
            return;
        }
        let Some((id, seq, kind)) = key_of(reply.request) else {
            return;
        };
        let delivery = match reply.outcome {
            Outcome::Result { .. } => Delivery::Acked,
            Outcome::Error { .. } => Delivery::Failed,
        };
        if let Some(pos) = self.pos(id) {
            let tx = &mut self.txs[pos];
            if let Some(e) = tx.unacked(seq, kind) {
                e.delivery = delivery;
            }
            if tx.ended_acked() {
                let id = tx.id.clone();
                self.remember_ended(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_transactions_are_kept_within_bounds() {
        let mut s = Txs::default();
        for i in 0..(MAX_TXS * 3) {
            let p = serde_json::json!({
                "eventType": "Started",
                "seqNo": 0,
                "transactionInfo": {"transactionId": format!("T{i}")},
                "evse": {"id": 1}
            });
            let p = crate::wire::doc::Doc::from_value(&p);
            let ev = Event::of(p.root()).unwrap();
            let pos = s.add(&ev, true, Timestamp::from_secs(0));
            s.txs[pos].ended = Some(1);
        }
        assert_eq!(s.txs.len(), MAX_TXS);
        // The forgotten ones are still known as ended, for the reuse rules.
        assert_eq!(s.ended_ids.len(), MAX_TXS * 2);
        assert!(s.ended_before("T0"));
        assert!(!s.ended_before("T-unknown"));
        for i in 0..MAX_ENDED_IDS * 2 {
            s.remember_ended(&format!("X{i}"));
        }
        assert_eq!(s.ended_ids.len(), MAX_ENDED_IDS);
    }
}
