//! Protocol-state rules: the families that remember what happened on a connection (boot,
//! heartbeats, transactions, connector status, reservations, triggers, ...) and judge each
//! new message against it.
//!
//! This module holds what the hooks see: a schema-checked CALL, an answered CALL, what is
//! known when a connection opens. The families, their state and the dispatcher are in
//! [`rules`](super::rules) (registered in one place); the facts they share are in
//! [`station`](super::station). Hooks never see malformed frames: framing faults stop at
//! the `rpc` rules. This module imports no rule.
//!
//! Time-based rules decide from the events' timestamps only: a CALL unanswered 40 s after
//! it was sent is late whether the engine learns it from the next event or at the end of a
//! trace, so live and offline verdicts agree.

use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// A CALL (or SEND) of a known action.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub id: &'a str,
    pub action: &'static str,
    pub from: Side,
    pub payload: Json<'a>,
    /// The payload passed its request schema.
    pub valid: bool,
    /// A 2.1 SEND (no reply will come).
    pub send: bool,
}

/// How a CALL was answered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// A CALLRESULT; `valid` when it passed the response schema.
    Result { payload: Json<'a>, valid: bool },
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
    pub request: Json<'a>,
    pub request_valid: bool,
    pub call_at: Timestamp,
    pub call_line: u64,
    pub outcome: Outcome<'a>,
}

impl<'a> Reply<'a> {
    /// The CALLRESULT payload, if the answer was a schema-valid CALLRESULT.
    pub fn result(&self) -> Option<Json<'a>> {
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
    /// `ws` or `wss`, when the recorder knew it.
    pub scheme: Option<&'a str>,
    /// The negotiated TLS version (`1.2`, `1.3`), for `wss`.
    pub tls_version: Option<&'a str>,
    /// The subject of the charger's TLS client certificate (security profile 3).
    pub client_cert_subject: Option<&'a str>,
    /// The user name of the charger's HTTP Basic authentication (profiles 1 and 2).
    pub basic_auth_user: Option<&'a str>,
    /// The security profile the handshake shows (`Handshake::security_profile`), when the
    /// recorder knew enough.
    pub profile: Option<u8>,
}
