//! The one event model every source produces and every consumer reads: [`Event`] (what
//! happened on one connection, with the time and the trace line), the [`Handshake`] an open
//! carries, and the [`Origin`] of a frame (the peer itself, or the inspector injecting).
//! Trace files, the proxy's tap and the tests all build these; the engine judges them.
//!
//! Plain data, generic over what holds its strings (borrowed for the engine, `Cow` for the
//! trace reader, owned for importers and the terminal UI), with the conversions between
//! the forms here and nowhere else: no parsing, no judging, no I/O.

use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::{AsFrameText, FrameText};

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

/// What happened, with its strings borrowed: the form the engine judges. A frame's text is
/// a [`FrameText`]: a trace record's may still be escaped until something asks for it.
pub type EventKind<'a> = EventKindOf<&'a str, FrameText<'a>>;

/// What happened on a connection, whatever holds its strings: borrowed (`&str`, the
/// engine's [`EventKind`]), borrowed where it can be (`Cow`, the trace reader's record),
/// owned (`String`, an importer's record; `Box<str>`, the terminal UI's copy). A frame's
/// text is held as `T` (by default as the other strings; the engine's and the trace
/// reader's keep it escaped as the record holds it, see [`FrameText`]). The one definition
/// of an event; [`EventKindOf::borrowed`] and [`EventKindOf::to_owned_as`] are the
/// conversions between the forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKindOf<S, T = S> {
    /// The WebSocket opened.
    Open(HandshakeOf<S>),
    /// A text frame, exactly as sent.
    Frame { from: Side, text: T, origin: Origin },
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
        reason: Option<S>,
    },
}

impl<S, T> EventKindOf<S, T> {
    /// The same event with each string passed through `f` and a frame's text through `g`.
    pub fn map<S2, T2>(
        self,
        mut f: impl FnMut(S) -> S2,
        g: impl FnOnce(T) -> T2,
    ) -> EventKindOf<S2, T2> {
        match self {
            EventKindOf::Open(h) => EventKindOf::Open(h.map(f)),
            EventKindOf::Frame { from, text, origin } => EventKindOf::Frame {
                from,
                text: g(text),
                origin,
            },
            EventKindOf::Binary { from, len } => EventKindOf::Binary { from, len },
            EventKindOf::Close { code, by } => EventKindOf::Close { code, by },
            EventKindOf::Gap { frames, reason } => EventKindOf::Gap {
                frames,
                reason: reason.map(&mut f),
            },
        }
    }
}

impl<S: AsRef<str>, T: AsFrameText> EventKindOf<S, T> {
    /// The borrowed form, as the engine takes it.
    pub fn borrowed(&self) -> EventKind<'_> {
        match self {
            EventKindOf::Open(h) => EventKindOf::Open(h.borrowed()),
            EventKindOf::Frame { from, text, origin } => EventKindOf::Frame {
                from: *from,
                text: text.frame_text(),
                origin: *origin,
            },
            EventKindOf::Binary { from, len } => EventKindOf::Binary {
                from: *from,
                len: *len,
            },
            EventKindOf::Close { code, by } => EventKindOf::Close {
                code: *code,
                by: *by,
            },
            EventKindOf::Gap { frames, reason } => EventKindOf::Gap {
                frames: *frames,
                reason: reason.as_ref().map(AsRef::as_ref),
            },
        }
    }

    /// An owned copy, its strings (a frame's text plain) as `U` (`String`, `Box<str>`).
    pub fn to_owned_as<U: for<'s> From<&'s str>>(&self) -> EventKindOf<U> {
        self.borrowed().map(U::from, |t| U::from(t.get()))
    }
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

/// What the WebSocket handshake said, its strings borrowed.
pub type Handshake<'a> = HandshakeOf<&'a str>;

/// What the WebSocket handshake said, as far as the recorder (the proxy) knew it. Every
/// member is optional: a trace from elsewhere may know none of them. Generic over what holds
/// its strings, as [`EventKindOf`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandshakeOf<S> {
    /// The negotiated subprotocol (the CSMS's pick), if any.
    pub subprotocol: Option<S>,
    /// The subprotocols the charger offered (`Sec-WebSocket-Protocol`, comma-separated as
    /// sent), when the recorder saw the handshake. Lets the engine judge the CSMS's choice.
    pub offered_subprotocols: Option<S>,
    /// `ws` or `wss`.
    pub scheme: Option<S>,
    /// The negotiated TLS version (`1.2`, `1.3`).
    pub tls_version: Option<S>,
    /// The subject of the charger's TLS client certificate (security profile 3).
    pub client_cert_subject: Option<S>,
    /// The DNS names and URIs among that certificate's subject alternative names,
    /// comma-separated.
    pub client_cert_san: Option<S>,
    /// The user name of the charger's HTTP Basic authentication (never the password).
    pub basic_auth_user: Option<S>,
}

impl<S> HandshakeOf<S> {
    /// The same handshake with each string passed through `f`.
    pub fn map<T>(self, mut f: impl FnMut(S) -> T) -> HandshakeOf<T> {
        HandshakeOf {
            subprotocol: self.subprotocol.map(&mut f),
            offered_subprotocols: self.offered_subprotocols.map(&mut f),
            scheme: self.scheme.map(&mut f),
            tls_version: self.tls_version.map(&mut f),
            client_cert_subject: self.client_cert_subject.map(&mut f),
            client_cert_san: self.client_cert_san.map(&mut f),
            basic_auth_user: self.basic_auth_user.map(&mut f),
        }
    }
}

impl<S: AsRef<str>> HandshakeOf<S> {
    /// The borrowed form.
    pub fn borrowed(&self) -> Handshake<'_> {
        fn b<S: AsRef<str>>(s: &Option<S>) -> Option<&str> {
            s.as_ref().map(AsRef::as_ref)
        }
        HandshakeOf {
            subprotocol: b(&self.subprotocol),
            offered_subprotocols: b(&self.offered_subprotocols),
            scheme: b(&self.scheme),
            tls_version: b(&self.tls_version),
            client_cert_subject: b(&self.client_cert_subject),
            client_cert_san: b(&self.client_cert_san),
            basic_auth_user: b(&self.basic_auth_user),
        }
    }
}

impl<S: AsRef<str>> HandshakeOf<S> {
    /// The OCPP security profile (1-3) as far as the handshake tells it: wss with a client
    /// certificate 3, wss with Basic auth 2, ws with Basic auth 1; `None` otherwise.
    pub fn security_profile(&self) -> Option<u8> {
        match (
            self.scheme.as_ref()?.as_ref(),
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
        let Some(scheme) = &self.scheme else {
            return "-".into();
        };
        let mut s = scheme.as_ref().to_owned();
        if let Some(v) = &self.tls_version {
            s.push(' ');
            s.push_str(v.as_ref());
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

#[cfg(test)]
mod tests {
    use super::Handshake;

    #[test]
    fn the_handshake_shows_the_security_profile() {
        let profile = |scheme, cert, user| {
            Handshake {
                scheme,
                client_cert_subject: cert,
                basic_auth_user: user,
                ..Handshake::default()
            }
            .security_profile()
        };
        assert_eq!(profile(Some("ws"), None, Some("A")), Some(1));
        assert_eq!(profile(Some("wss"), None, Some("A")), Some(2));
        assert_eq!(profile(Some("wss"), Some("CN=A"), None), Some(3));
        assert_eq!(profile(Some("wss"), Some("CN=A"), Some("A")), Some(3));
        assert_eq!(profile(None, None, Some("A")), None);
        assert_eq!(profile(Some("ws"), None, None), None);
        assert_eq!(profile(Some("wss"), None, None), None);
    }
}
