//! The transactions of a station as the traffic shows them, kept once for every family: on
//! OCPP 1.6 the StartTransactions sent and the transactions their answers opened (by the
//! CSMS's integer id: connector, idTag, meterStart, start time, the StopTransaction and its
//! acknowledgement); on 2.x the transactions the TransactionEvents report (by the station's
//! string id: EVSE and connector, seqNos, each event's delivery, Ended).
//!
//! [`Transactions::observe_call`] / [`Transactions::observe_reply`] update it once per
//! message, before any rule runs, with the same decisions the transaction rules judge by (a
//! retransmission is the same event, a reused id starts a new transaction, a transaction the
//! trace never saw start is adopted at its first message). What the current message did is
//! kept beside ([`v16::Change`], [`v2::Seen`]) for the rules that judge it against the state
//! before it, as [`Registration`](super::Registration) keeps `registration_before`.
//!
//! Facts only: nothing here reports a finding or reads the configuration. Bounded: a fixed
//! number of transactions and ids per station.

pub(crate) mod v16;
pub(crate) mod v2;

use crate::engine::protocol::{Call, Reply};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The transactions of one station (both versions: a station keeps its model across
/// reconnects, whatever each connection speaks).
#[derive(Debug, Default)]
pub(crate) struct Transactions {
    pub(crate) v16: v16::Txs,
    pub(crate) v2: v2::Txs,
}

impl Transactions {
    /// Transactions running on a connection of `version`: see [`v16::Txs::open_count`] and
    /// [`v2::Txs::open_count`].
    pub(crate) fn open_count(&self, version: Option<Version>) -> usize {
        match version {
            Some(Version::V16) => self.v16.open_count(),
            Some(_) => self.v2.open_count(),
            None => 0,
        }
    }

    /// A CALL of a connection of `version` was sent at `now` (line `line`).
    pub(crate) fn observe_call(
        &mut self,
        version: Option<Version>,
        call: &Call<'_>,
        now: Timestamp,
        line: u64,
    ) {
        self.v16.change = v16::Change::None;
        self.v2.seen = v2::Seen::None;
        match version {
            Some(Version::V16) if call.from == Side::Charger => {
                self.v16.observe_call(call, now, line);
            }
            Some(v) if v.is_2x() && call.from == Side::Charger && call.valid => {
                self.v2.observe_call(call, now);
            }
            _ => {}
        }
    }

    /// A CALL of a connection of `version` was answered at `now`.
    pub(crate) fn observe_reply(
        &mut self,
        version: Option<Version>,
        reply: &Reply<'_>,
        now: Timestamp,
    ) {
        self.v16.change = v16::Change::None;
        self.v2.seen = v2::Seen::None;
        match version {
            Some(Version::V16) if reply.caller == Side::Charger => {
                self.v16.observe_reply(reply, now);
            }
            Some(v) if v.is_2x() && reply.caller == Side::Charger => self.v2.observe_reply(reply),
            _ => {}
        }
    }

    /// The connection (of `version`) closed: what was sent and not answered gets no answer
    /// any more (the station will send it again).
    pub(crate) fn observe_close(&mut self, version: Option<Version>) {
        match version {
            Some(Version::V16) => self.v16.observe_close(),
            Some(v) if v.is_2x() => self.v2.observe_close(),
            _ => {}
        }
    }
}
