//! The built-in charger and CSMS simulators: realistic OCPP peers (1.6, 2.0.1, 2.1) for the
//! demo, the end-to-end tests and labs without a real device.
//!
//! - [`csms::Csms`]: a central system that accepts boots, authorizes, runs transactions,
//!   answers every charger-initiated message with a schema-valid reply, and issues the common
//!   CSMS calls on request ([`csms::CsmsHandle`]) or at a configured pace.
//! - [`charger::run_fleet`]: N stations, each a tokio task with its own identity, that boot,
//!   report status, charge with meter values at a configured pace, answer CSMS calls and
//!   reconnect after a drop. [`misbehave::Misbehave`] makes a station break one named rule.
//!
//! Both speak every security profile: the charger connects over `wss://` (trusting a given
//! CA, with a client certificate for profile 3) and sends Basic credentials ([`auth`]); the
//! CSMS serves `wss://`, can require client certificates and Basic credentials (401).
//!
//! Both sides can record what they saw as a trace ([`Tap`]) that `ocpp-inspector check`
//! reads; a password never reaches it. The simulators are peers, not inspectors: they judge nothing (the engine does),
//! and they never panic on what the other side sends.

pub mod auth;
pub mod charger;
pub mod csms;
pub(crate) mod link;
pub mod misbehave;
pub mod msg;

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::engine::{Event, EventKind, Handshake, Origin};
use crate::ocpp::Side;
use crate::sink::recorder::Recorder;
use crate::time::Timestamp;

/// A shared trace recorder: every connection of a simulator writes its open, frames and
/// close here, stamped with the wall clock.
pub type Tap = Arc<Mutex<Recorder<Box<dyn Write + Send>>>>;

/// A [`Tap`] writing to `out`.
pub fn tap(out: Box<dyn Write + Send>) -> Tap {
    Arc::new(Mutex::new(Recorder::new(out)))
}

/// Small WebSocket buffers: OCPP messages are small and a fleet has thousands of sockets.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// What a connection's handshake established (TLS, client certificate, Basic user), for
/// the trace's open event; never a password.
#[derive(Debug, Clone, Default)]
pub(crate) struct Security {
    /// `1.2` or `1.3` on a `wss://` connection; `None` on `ws://`.
    pub(crate) tls_version: Option<&'static str>,
    /// The subject of the charger's client certificate (security profile 3).
    pub(crate) client_cert_subject: Option<String>,
    /// The user of the charger's Basic authentication (profiles 1 and 2).
    pub(crate) basic_auth_user: Option<String>,
}

/// What a tap records (the event kinds the simulators produce).
pub(crate) enum Rec<'a> {
    Open(&'a str, &'a Security),
    Text(Side, &'a str),
    Binary(Side, usize),
    Close(Option<u16>, Option<Side>),
}

/// Records one event on `tap`, if any. A failing recorder is not the traffic's problem: the
/// write error is returned for the caller to report once.
pub(crate) fn record(tap: Option<&Tap>, conn: &str, rec: Rec<'_>) -> std::io::Result<()> {
    let Some(tap) = tap else { return Ok(()) };
    let kind = match rec {
        Rec::Open(sub, sec) => EventKind::Open(Handshake {
            subprotocol: Some(sub),
            scheme: Some(if sec.tls_version.is_some() {
                "wss"
            } else {
                "ws"
            }),
            tls_version: sec.tls_version,
            client_cert_subject: sec.client_cert_subject.as_deref(),
            basic_auth_user: sec.basic_auth_user.as_deref(),
            ..Handshake::default()
        }),
        Rec::Text(from, text) => EventKind::Frame {
            from,
            text: text.into(),
            origin: Origin::Peer,
        },
        Rec::Binary(from, len) => EventKind::Binary { from, len },
        Rec::Close(code, by) => EventKind::Close { code, by },
    };
    let event = Event {
        at: Timestamp::now(),
        conn,
        line: 0,
        kind,
    };
    let mut guard = tap
        .lock()
        .map_err(|_| std::io::Error::other("trace recorder lock poisoned"))?;
    guard.record(&event)
}

/// The current time as an OCPP date-time (`2026-11-22T10:15:03.125Z`).
pub fn now() -> String {
    Timestamp::now().to_rfc3339_millis()
}
