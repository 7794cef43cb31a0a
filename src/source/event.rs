//! The one event model every source produces and every consumer reads: [`Event`] (what
//! happened on one connection, with the time and the trace line), the [`Handshake`] an open
//! carries, and the [`Origin`] of a frame (the peer itself, or the inspector injecting).
//! Trace files, the proxy's tap and the tests all build these; the engine judges them.
//!
//! Plain data, borrowed from whatever holds the bytes: no parsing, no judging, no I/O.

use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::FrameText;

/// Something that happened on one connection.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub at: Timestamp,
    /// The station identity (last path segment of its URL).
    pub conn: &'a str,
    /// 1-based line of the trace record this event came from (0 if none).
    pub line: u64,
    pub kind: EventKind<'a>,
}

#[derive(Debug, Clone, Copy)]
pub enum EventKind<'a> {
    /// The WebSocket opened.
    Open(Handshake<'a>),
    /// A text frame, exactly as sent (`text.get()`; a trace record's may still be escaped
    /// until something asks for it, see [`FrameText`]).
    Frame {
        from: Side,
        text: FrameText<'a>,
        origin: Origin,
    },
    /// A binary frame (OCPP-J uses text frames only); its length.
    Binary { from: Side, len: usize },
    /// The WebSocket closed.
    Close { code: Option<u16>, by: Option<Side> },
    /// Frames are missing from the observation here (a recorder that lagged, a capture that
    /// lost segments, a log with lines skipped): what follows is judged like a trace that
    /// starts mid-life. `frames` is how many are missing, when known.
    Gap {
        frames: Option<u64>,
        /// Why, as the recorder or importer said it (`recorder lagged`, `capture loss`).
        reason: Option<&'a str>,
    },
}

/// Who put a frame on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Origin {
    /// The charger or the CSMS, as itself.
    #[default]
    Peer,
    /// The inspector: a CALL it injected as if from the CSMS, or the charger's answer to
    /// one (the trace's `"injected":true`).
    Inspector,
}

impl Origin {
    /// The trace's `injected` flag.
    pub fn injected(self) -> bool {
        self == Origin::Inspector
    }

    pub fn of_injected(injected: bool) -> Origin {
        if injected {
            Origin::Inspector
        } else {
            Origin::Peer
        }
    }
}

/// What the WebSocket handshake said, as far as the recorder (the proxy) knew it. Every
/// member is optional: a trace from elsewhere may know none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handshake<'a> {
    /// The negotiated subprotocol (the CSMS's pick), if any.
    pub subprotocol: Option<&'a str>,
    /// The subprotocols the charger offered (`Sec-WebSocket-Protocol`, comma-separated as
    /// sent), when the recorder saw the handshake. Lets the engine judge the CSMS's choice.
    pub offered_subprotocols: Option<&'a str>,
    /// `ws` or `wss`.
    pub scheme: Option<&'a str>,
    /// The negotiated TLS version (`1.2`, `1.3`).
    pub tls_version: Option<&'a str>,
    /// The subject of the charger's TLS client certificate (security profile 3).
    pub client_cert_subject: Option<&'a str>,
    /// The DNS names and URIs among that certificate's subject alternative names,
    /// comma-separated.
    pub client_cert_san: Option<&'a str>,
    /// The user name of the charger's HTTP Basic authentication (never the password).
    pub basic_auth_user: Option<&'a str>,
}

impl Handshake<'_> {
    /// The OCPP security profile (1-3) as far as the handshake tells it: wss with a client
    /// certificate 3, wss with Basic auth 2, ws with Basic auth 1; `None` otherwise.
    pub fn security_profile(&self) -> Option<u8> {
        match (
            self.scheme?,
            self.client_cert_subject.is_some(),
            self.basic_auth_user.is_some(),
        ) {
            ("wss", true, _) => Some(3),
            ("wss", false, true) => Some(2),
            ("ws", _, true) => Some(1),
            _ => None,
        }
    }

    /// `ws`, `wss 1.3 SP3`, …: the transport and the security profile as far as the
    /// handshake tells it; `-` when the scheme is unknown.
    pub fn security_label(&self) -> String {
        let Some(scheme) = self.scheme else {
            return "-".into();
        };
        let mut s = scheme.to_owned();
        if let Some(v) = self.tls_version {
            s.push(' ');
            s.push_str(v);
        }
        if let Some(p) = self.security_profile() {
            s.push_str(&format!(" SP{p}"));
        }
        s
    }
}

/// A message for the operator about a connection or the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A charger's handshake was refused (by the proxy or, mirrored, by the CSMS).
    Refused,
    /// The CSMS could not be reached or dropped the connection.
    Upstream,
    /// Anything else about a connection (TLS failure, oversized message).
    Conn,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Refused => "refused",
            NoticeKind::Upstream => "upstream",
            NoticeKind::Conn => "conn",
        }
    }
}
