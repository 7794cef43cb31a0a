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
use crate::engine::support::int_of;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// A transaction id: an integer on 1.6, a string on 2.x.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxId {
    Int(i64),
    Str(Box<str>),
}

/// A transaction id borrowed from a frame or from the model (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxRef<'a> {
    Int(i64),
    Str(&'a str),
}

impl TxId {
    pub(crate) fn borrowed(&self) -> TxRef<'_> {
        match self {
            TxId::Int(i) => TxRef::Int(*i),
            TxId::Str(s) => TxRef::Str(s),
        }
    }
}

impl TxRef<'_> {
    pub(crate) fn owned(self) -> TxId {
        match self {
            TxRef::Int(i) => TxId::Int(i),
            TxRef::Str(s) => TxId::Str(Box::from(s)),
        }
    }
}

impl std::fmt::Display for TxRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxRef::Int(i) => write!(f, "{i}"),
            TxRef::Str(s) => f.write_str(s),
        }
    }
}

impl std::fmt::Display for TxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.borrowed().fmt(f)
    }
}

/// A running transaction, as the rules that need only "what runs where" see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Running<'a> {
    pub(crate) id: TxRef<'a>,
    /// The 1.6 connector or 2.x EVSE it runs on, when known.
    pub(crate) target: Option<i64>,
    /// Which transaction of the model it is: its version's serial (see [`Running::is`]).
    serial: (bool, u64),
}

/// Which transaction of the model a [`Running`] was, kept to ask later whether it still
/// runs (an id the CSMS or station reuses names another transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxKey {
    pub(crate) id: TxId,
    /// 2.x (else 1.6), and the serial within that version's model.
    serial: (bool, u64),
}

impl Running<'_> {
    pub(crate) fn key(&self) -> TxKey {
        TxKey {
            id: self.id.owned(),
            serial: self.serial,
        }
    }
}

/// The transactions of one station (both versions: a station keeps its model across
/// reconnects, whatever each connection speaks).
///
/// Each version's model is allocated at its first transaction message: a station that
/// never ran a transaction (most connections of a large trace) holds two empty pointers.
#[derive(Debug, Default)]
pub(crate) struct Transactions {
    v16: Option<Box<v16::Txs>>,
    v2: Option<Box<v2::Txs>>,
}

impl Transactions {
    /// The 1.6 transactions (none before the first 1.6 transaction message).
    pub(crate) fn v16(&self) -> &v16::Txs {
        self.v16.as_deref().unwrap_or(&v16::EMPTY)
    }

    /// The 2.x transactions (none before the first TransactionEvent).
    pub(crate) fn v2(&self) -> &v2::Txs {
        self.v2.as_deref().unwrap_or(&v2::EMPTY)
    }

    /// Transactions running on a connection of `version`: see [`v16::Txs::open_count`] and
    /// [`v2::Txs::open_count`].
    pub(crate) fn open_count(&self, version: Option<Version>) -> usize {
        match version {
            Some(Version::V16) => self.v16().open_count(),
            Some(_) => self.v2().open_count(),
            None => 0,
        }
    }

    /// The transactions running, 1.6 ones first: 1.6 transactions a StartTransaction answer
    /// opened (or adopted at a MeterValues or StopTransaction), not stopped; 2.x transactions
    /// whose events the model follows, not ended. A 1.6 StartTransaction not answered yet has
    /// no id and is not among them (see [`v16::Txs::open_count`] for the count that holds
    /// its connector).
    pub(crate) fn running(&self) -> impl Iterator<Item = Running<'_>> {
        let v16 = self.v16().iter().filter(|t| t.is_open()).map(|t| Running {
            id: TxRef::Int(t.id),
            target: t.connector,
            serial: (false, t.serial),
        });
        let v2 = self.v2().iter().filter(|t| t.is_open()).map(|t| Running {
            id: TxRef::Str(&t.id),
            target: t.evse,
            serial: (true, t.serial),
        });
        v16.chain(v2)
    }

    /// Whether any transaction runs.
    pub(crate) fn any_running(&self) -> bool {
        self.running().next().is_some()
    }

    /// Whether the transaction with this id runs.
    pub(crate) fn is_running(&self, id: TxRef<'_>) -> bool {
        self.running().any(|t| t.id == id)
    }

    /// Whether a transaction runs on this 1.6 connector / 2.x EVSE (one whose connector or
    /// EVSE is unknown counts when `unknown_counts`).
    pub(crate) fn running_on(&self, target: i64, unknown_counts: bool) -> bool {
        self.running()
            .any(|t| t.target.map_or(unknown_counts, |x| x == target))
    }

    /// Whether the transaction `key` names (taken from [`Transactions::running`]) still
    /// runs: followed and not stopped or ended.
    pub(crate) fn still_running(&self, key: &TxKey) -> bool {
        match key.serial {
            (false, serial) => self.v16().iter().any(|t| t.serial == serial && t.is_open()),
            (true, serial) => self.v2().iter().any(|t| t.serial == serial && t.is_open()),
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
        self.forget_change();
        match version {
            Some(Version::V16) if call.from == Side::Charger => {
                if let Some(txs) = &mut self.v16 {
                    txs.observe_call(call, now, line);
                } else if match call.action {
                    "StartTransaction" | "StopTransaction" => true,
                    "MeterValues" => {
                        int_of(call.payload, "transactionId").is_some_and(|id| id != -1)
                    }
                    _ => false,
                } {
                    self.v16
                        .get_or_insert_default()
                        .observe_call(call, now, line);
                }
            }
            Some(v)
                if v.is_2x()
                    && call.from == Side::Charger
                    && call.valid
                    && call.action == "TransactionEvent" =>
            {
                self.v2.get_or_insert_default().observe_call(call, now);
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
        self.forget_change();
        match (version, &mut self.v16, &mut self.v2) {
            (Some(Version::V16), Some(txs), _) if reply.caller == Side::Charger => {
                txs.observe_reply(reply, now);
            }
            (Some(v), _, Some(txs)) if v.is_2x() && reply.caller == Side::Charger => {
                txs.observe_reply(reply);
            }
            _ => {}
        }
    }

    /// The connection (of `version`) closed: what was sent and not answered gets no answer
    /// any more (the station will send it again).
    pub(crate) fn observe_close(&mut self, version: Option<Version>) {
        match (version, &mut self.v16, &mut self.v2) {
            (Some(Version::V16), Some(txs), _) => txs.observe_close(),
            (Some(v), _, Some(txs)) if v.is_2x() => txs.observe_close(),
            _ => {}
        }
    }

    /// A new message: what the previous one did is past.
    fn forget_change(&mut self) {
        if let Some(txs) = &mut self.v16 {
            txs.change = v16::Change::None;
        }
        if let Some(txs) = &mut self.v2 {
            txs.seen = v2::Seen::None;
        }
    }
}
