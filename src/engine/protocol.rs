//! Protocol-state rules: the families that remember what happened on a connection (boot,
//! heartbeats, transactions, connector status, reservations, triggers, ...) and judge each
//! new message against it.
//!
//! The session calls the hooks below for every schema-checked CALL, every answered CALL,
//! every open/close and every step of time (each event of the connection, and the end of
//! the trace). Each family keeps its state in [`ProtoState`] and may read the others'.
//! Hooks never see malformed frames: framing faults stop at the `rpc` rules.
//!
//! Time-based rules decide from the events' timestamps only: a CALL unanswered 40 s after
//! it was sent is late whether the engine learns it from the next event or at the end of a
//! trace, so live and offline verdicts agree.

#![allow(
    dead_code,
    reason = "hooks and fields for the protocol-state families being filled in"
)]

use serde_json::Value;

use super::Ctx;
use super::rules::{
    boot, dm, fw, liveness, resv, sc, sec, status2, status16, trig, tx2, tx16, value,
};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// A CALL (or SEND) of a known action.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub id: &'a str,
    pub action: &'static str,
    pub from: Side,
    pub payload: &'a Value,
    /// The payload passed its request schema.
    pub valid: bool,
    /// A 2.1 SEND (no reply will come).
    pub send: bool,
}

/// How a CALL was answered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// A CALLRESULT; `valid` when it passed the response schema.
    Result { payload: &'a Value, valid: bool },
    /// A CALLERROR with this code (empty if the code was not a string).
    Error { code: &'a str },
}

/// A CALL and its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reply<'a> {
    pub id: &'a str,
    pub action: &'static str,
    /// The side that sent the CALL.
    pub caller: Side,
    /// The CALL's payload (`Null` if it was not an object).
    pub request: &'a Value,
    pub request_valid: bool,
    pub call_at: Timestamp,
    pub call_line: u64,
    pub outcome: Outcome<'a>,
}

impl<'a> Reply<'a> {
    /// The CALLRESULT payload, if the answer was a schema-valid CALLRESULT.
    pub fn result(&self) -> Option<&'a Value> {
        match self.outcome {
            Outcome::Result {
                payload,
                valid: true,
            } => Some(payload),
            _ => None,
        }
    }
}

/// What is known about the connection when it opens.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OpenInfo<'a> {
    pub subprotocol: Option<&'a str>,
    /// `ws` or `wss`, when the recorder knew it.
    pub scheme: Option<&'a str>,
    /// The negotiated TLS version (`1.2`, `1.3`), for `wss`.
    pub tls_version: Option<&'a str>,
    /// The subject of the charger's TLS client certificate (security profile 3).
    pub client_cert_subject: Option<&'a str>,
    /// The user name of the charger's HTTP Basic authentication (profiles 1 and 2).
    pub basic_auth_user: Option<&'a str>,
}

/// The state of every protocol family for one station identity. It survives reconnects
/// (a station that only lost its WebSocket need not boot again).
#[derive(Debug, Default)]
pub(crate) struct ProtoState {
    pub version: Option<Version>,
    /// Whether any event of this identity has been seen before the current connection.
    pub connections_seen: u32,
    /// Whether the observation of the current connection is complete from its start: its
    /// `open` was seen, or its first frame was the charger's BootNotification, and no gap
    /// (and no forgotten outstanding call) since. Only then can what needs the connection's
    /// history (an answer to no known CALL, calls before the boot) be proven wrong.
    pub seen_from_start: bool,
    pub boot: boot::State,
    pub liveness: liveness::State,
    pub status16: status16::State,
    pub tx16: tx16::State,
    pub tx2: tx2::State,
    pub status2: status2::State,
    pub dm: dm::State,
    pub trig: trig::State,
    pub sc: sc::State,
    pub fw: fw::State,
    pub resv: resv::State,
    pub sec: sec::State,
}

/// Calls one hook of every family, in this order. Version-specific families return early
/// on connections of the other version.
macro_rules! each_family {
    ($hook:ident ( $($arg:expr),* )) => {{
        boot::$hook($($arg),*);
        liveness::$hook($($arg),*);
        status16::$hook($($arg),*);
        tx16::$hook($($arg),*);
        tx2::$hook($($arg),*);
        status2::$hook($($arg),*);
        dm::$hook($($arg),*);
        trig::$hook($($arg),*);
        sc::$hook($($arg),*);
        fw::$hook($($arg),*);
        resv::$hook($($arg),*);
        sec::$hook($($arg),*);
        value::$hook($($arg),*);
    }};
}

impl ProtoState {
    pub(crate) fn on_open(&mut self, ctx: &mut Ctx<'_>, open: &OpenInfo<'_>) {
        self.connections_seen += 1;
        each_family!(on_open(self, ctx, open));
    }

    pub(crate) fn on_close(&mut self, ctx: &mut Ctx<'_>, by: Option<Side>) {
        each_family!(on_close(self, ctx, by));
    }

    /// Time has advanced to `now` (an event of this connection, or with `end` the end of
    /// the observation).
    pub(crate) fn on_time(&mut self, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        each_family!(on_time(self, ctx, now, end));
    }

    pub(crate) fn on_call(&mut self, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        each_family!(on_call(self, ctx, call));
    }

    pub(crate) fn on_reply(&mut self, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        each_family!(on_reply(self, ctx, reply));
    }
}
