//! One simulator WebSocket: send and receive OCPP-J text frames, recording each on the tap.
//!
//! It only moves frames and splits them into CALL / CALLRESULT / CALLERROR for the peer
//! logic; it never judges them (a frame it cannot read is handed up as [`Rpc::Other`]).

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{Rec, Security, Tap, record};
use crate::ocpp::Side;

/// A received frame, as far as the peer logic cares.
#[derive(Debug)]
pub(crate) enum Rpc {
    Call {
        id: String,
        action: String,
        payload: Value,
    },
    Result {
        id: String,
        payload: Value,
    },
    Error {
        id: String,
    },
    /// Anything else (not JSON, 2.1 SEND, ...): ignored by the peers.
    Other,
}

impl Rpc {
    pub(crate) fn parse(text: &str) -> Rpc {
        let Ok(Value::Array(mut a)) = serde_json::from_str::<Value>(text) else {
            return Rpc::Other;
        };
        let kind = a.first().and_then(Value::as_i64);
        let id = a.get(1).and_then(Value::as_str).map(str::to_owned);
        match (kind, id, a.len()) {
            (Some(2), Some(id), 4) => {
                let payload = a.pop().unwrap_or(Value::Null);
                let action = a.pop().and_then(|v| v.as_str().map(str::to_owned));
                match action {
                    Some(action) => Rpc::Call {
                        id,
                        action,
                        payload,
                    },
                    None => Rpc::Other,
                }
            }
            (Some(3), Some(id), 3) => Rpc::Result {
                id,
                payload: a.pop().unwrap_or(Value::Null),
            },
            (Some(4), Some(id), 5) => Rpc::Error { id },
            _ => Rpc::Other,
        }
    }
}

/// The text of a CALL.
pub(crate) fn call_text(id: &str, action: &str, payload: &Value) -> String {
    json!([2, id, action, payload]).to_string()
}

/// The text of a CALLRESULT.
pub(crate) fn result_text(id: &str, payload: &Value) -> String {
    json!([3, id, payload]).to_string()
}

/// The text of a CALLERROR.
pub(crate) fn error_text(id: &str, code: &str, description: &str) -> String {
    json!([4, id, code, description, {}]).to_string()
}

/// Why a link stopped delivering frames.
#[derive(Debug)]
pub(crate) enum LinkError {
    /// The peer closed the WebSocket (with this code).
    Closed(Option<u16>),
    /// The connection broke.
    Io(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Closed(Some(c)) => write!(f, "the peer closed the connection (code {c})"),
            LinkError::Closed(None) => write!(f, "the peer closed the connection"),
            LinkError::Io(e) => write!(f, "connection broken: {e}"),
        }
    }
}

/// A WebSocket with its identity, our side, and the tap.
pub(crate) struct Link<S> {
    ws: WebSocketStream<S>,
    pub(crate) conn: Arc<str>,
    me: Side,
    tap: Option<Tap>,
    closed: bool,
    /// The first recorder failure, kept for the report.
    pub(crate) tap_error: Option<String>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    /// Wraps an open WebSocket and records the `open` event.
    pub(crate) fn open(
        ws: WebSocketStream<S>,
        conn: Arc<str>,
        me: Side,
        subprotocol: &str,
        security: &Security,
        tap: Option<Tap>,
    ) -> Self {
        let mut link = Link {
            ws,
            conn,
            me,
            tap,
            closed: false,
            tap_error: None,
        };
        link.rec(Rec::Open(subprotocol, security));
        link
    }

    fn rec(&mut self, rec: Rec<'_>) {
        if let Err(e) = record(self.tap.as_ref(), &self.conn, rec)
            && self.tap_error.is_none()
        {
            self.tap_error = Some(format!("cannot record the trace: {e}"));
        }
    }

    /// Sends one text frame.
    pub(crate) async fn send(&mut self, text: String) -> Result<(), LinkError> {
        // Recorded before it leaves, so the trace never shows the answer before the call.
        self.rec(Rec::Text(self.me, &text));
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| LinkError::Io(e.to_string()))
    }

    /// Sends one binary frame (a misbehaviour: OCPP-J uses text frames).
    pub(crate) async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), LinkError> {
        self.rec(Rec::Binary(self.me, bytes.len()));
        self.ws
            .send(Message::binary(bytes))
            .await
            .map_err(|e| LinkError::Io(e.to_string()))
    }

    /// The next text frame from the peer; binary frames are recorded and skipped.
    pub(crate) async fn recv(&mut self) -> Result<String, LinkError> {
        let peer = self.me.other();
        loop {
            let msg = match self.ws.next().await {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    self.gone(None, None);
                    return Err(LinkError::Io(e.to_string()));
                }
                None => {
                    self.gone(None, None);
                    return Err(LinkError::Closed(None));
                }
            };
            match msg {
                Message::Text(t) => {
                    let text = t.as_str().to_owned();
                    self.rec(Rec::Text(peer, &text));
                    return Ok(text);
                }
                Message::Binary(b) => self.rec(Rec::Binary(peer, b.len())),
                Message::Close(frame) => {
                    let code = frame.map(|f| u16::from(f.code));
                    self.gone(code, Some(peer));
                    return Err(LinkError::Closed(code));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Records the end of the connection once.
    fn gone(&mut self, code: Option<u16>, by: Option<Side>) {
        if !self.closed {
            self.closed = true;
            self.rec(Rec::Close(code, by));
        }
    }

    /// Closes the WebSocket from our side with `code` (best effort).
    pub(crate) async fn close(&mut self, code: u16) {
        if self.closed {
            return;
        }
        self.gone(Some(code), Some(self.me));
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: "".into(),
        };
        let _ = self.ws.close(Some(frame)).await;
        // Wait (briefly) for the peer's close frame: a station that reconnects at once must
        // not have its new connection overtake the end of the old one on the peer's side.
        let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
    }

    /// Drops the connection without a close frame (as a power cut would).
    pub(crate) fn abandon(&mut self) {
        self.gone(None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_into_their_kinds() {
        assert!(matches!(
            Rpc::parse(r#"[2,"1","Heartbeat",{}]"#),
            Rpc::Call { ref id, ref action, .. } if id == "1" && action == "Heartbeat"
        ));
        assert!(matches!(
            Rpc::parse(r#"[3,"7",{"a":1}]"#),
            Rpc::Result { ref id, .. } if id == "7"
        ));
        assert!(matches!(
            Rpc::parse(r#"[4,"7","NotImplemented","",{}]"#),
            Rpc::Error { ref id } if id == "7"
        ));
        for bad in [
            "",
            "{",
            "{}",
            "[2,1,\"X\",{}]",
            "[2,\"1\",{}]",
            "[6,\"1\",\"X\",{}]",
        ] {
            assert!(matches!(Rpc::parse(bad), Rpc::Other), "{bad}");
        }
    }
}
