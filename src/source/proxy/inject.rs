//! Injection: the proxy itself sends a CSMS-side CALL to a connected charger (a test case
//! driving the device under test) and takes the charger's answer out of the stream, so the
//! CSMS never sees either frame.
//!
//! [`ProxyHandle::inject`] finds the identity's live relay in the [`Registry`] and hands it an
//! [`Injection`]; the relay writes the CALL in order with the CSMS's own frames, taps both it
//! and the answer as injected ([`super::tap::TapKind::Injected`]), and answers the waiting
//! caller. It must not change anything else on the connection: frames that are not the answer
//! to an injected id pass as before. Message ids are `inspector-<n>`, counted per proxy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Prefix of every injected message id.
pub const ID_PREFIX: &str = "inspector-";
/// Injected CALLs awaiting an answer per connection, at most.
pub const MAX_OUTSTANDING: usize = 64;

/// The charger's answer to an injected CALL.
#[derive(Debug, Clone, PartialEq)]
pub enum InjectedReply {
    /// A CALLRESULT and its payload.
    Result { id: String, payload: Value },
    /// A CALLERROR.
    Error {
        id: String,
        code: String,
        description: String,
        details: Value,
    },
}

impl InjectedReply {
    /// The message id of the injected CALL.
    pub fn id(&self) -> &str {
        match self {
            InjectedReply::Result { id, .. } | InjectedReply::Error { id, .. } => id,
        }
    }
}

/// Why an injection got no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InjectError {
    #[error("cannot inject {action} to `{identity}`: no charger with that identity is connected")]
    NotConnected { identity: String, action: String },
    #[error("cannot inject {action} to `{identity}`: the payload is not a JSON object")]
    NotAnObject { identity: String, action: String },
    #[error(
        "cannot inject {action} to `{identity}`: {MAX_OUTSTANDING} injected calls are already awaiting an answer"
    )]
    TooMany { identity: String, action: String },
    #[error("injected {action} `{id}` to `{identity}`: no answer within {secs:.1} s")]
    Timeout {
        identity: String,
        action: String,
        id: String,
        secs: f64,
    },
    #[error("injected {action} `{id}` to `{identity}`: the connection closed before the answer")]
    Closed {
        identity: String,
        action: String,
        id: String,
    },
}

/// One CALL for a relay to send.
pub(crate) struct Injection {
    pub id: String,
    /// The whole frame `[2,"<id>","<action>",<payload>]`.
    pub text: String,
    pub reply: oneshot::Sender<Result<InjectedReply, ()>>,
}

struct Slot {
    generation: u64,
    tx: mpsc::Sender<Injection>,
    /// The charger's address.
    peer: String,
}

/// The live relays by identity (the newest connection of an identity wins).
#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<HashMap<Arc<str>, Slot>>,
    generations: AtomicU64,
    ids: AtomicU64,
}

/// Unregisters a relay when it ends.
pub(crate) struct Registration {
    registry: Arc<Registry>,
    conn: Arc<str>,
    generation: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut conns) = self.registry.conns.lock()
            && conns
                .get(&self.conn)
                .is_some_and(|s| s.generation == self.generation)
        {
            conns.remove(&self.conn);
        }
    }
}

impl Registry {
    /// Registers a relay of the charger at `peer`; its injections arrive on the returned
    /// receiver. The last value is the peer of a relay of the same identity that is still
    /// live (this one takes its place for injections).
    pub(crate) fn register(
        self: &Arc<Self>,
        conn: &Arc<str>,
        peer: &str,
    ) -> (Registration, mpsc::Receiver<Injection>, Option<String>) {
        let (tx, rx) = mpsc::channel(MAX_OUTSTANDING);
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let slot = Slot {
            generation,
            tx,
            peer: peer.to_owned(),
        };
        let previous = match self.conns.lock() {
            Ok(mut conns) => conns.insert(conn.clone(), slot).map(|s| s.peer),
            Err(_) => None,
        };
        (
            Registration {
                registry: self.clone(),
                conn: conn.clone(),
                generation,
            },
            rx,
            previous,
        )
    }

    fn sender(&self, identity: &str) -> Option<mpsc::Sender<Injection>> {
        let conns = self.conns.lock().ok()?;
        conns.get(identity).map(|s| s.tx.clone())
    }
}

/// Lets a caller inject CALLs on the proxy's connections; cheap to clone, usable from any
/// task while the proxy runs.
#[derive(Clone)]
pub struct ProxyHandle {
    pub(crate) registry: Arc<Registry>,
}

impl ProxyHandle {
    /// Identities with a live relay now, sorted.
    pub fn connected(&self) -> Vec<String> {
        let mut v: Vec<String> = match self.registry.conns.lock() {
            Ok(c) => c.keys().map(|k| k.to_string()).collect(),
            Err(_) => Vec::new(),
        };
        v.sort();
        v
    }

    /// Sends `[2,"inspector-<n>",action,payload]` to the charger `identity` and waits at most
    /// `timeout` for its CALLRESULT or CALLERROR (which the CSMS does not get).
    pub async fn inject(
        &self,
        identity: &str,
        action: &str,
        payload: Value,
        timeout: Duration,
    ) -> Result<InjectedReply, InjectError> {
        let not_connected = || InjectError::NotConnected {
            identity: identity.to_owned(),
            action: action.to_owned(),
        };
        if !payload.is_object() {
            return Err(InjectError::NotAnObject {
                identity: identity.to_owned(),
                action: action.to_owned(),
            });
        }
        let tx = self.registry.sender(identity).ok_or_else(not_connected)?;
        let n = self.registry.ids.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("{ID_PREFIX}{n}");
        let text = Value::Array(vec![
            Value::from(2),
            Value::from(id.as_str()),
            Value::from(action),
            payload,
        ])
        .to_string();
        let (reply, answer) = oneshot::channel();
        let closed = || InjectError::Closed {
            identity: identity.to_owned(),
            action: action.to_owned(),
            id: id.clone(),
        };
        match tx.try_send(Injection {
            id: id.clone(),
            text,
            reply,
        }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return Err(InjectError::TooMany {
                    identity: identity.to_owned(),
                    action: action.to_owned(),
                });
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(not_connected()),
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(Ok(r))) => Ok(r),
            Ok(Ok(Err(()))) | Ok(Err(_)) => Err(closed()),
            Err(_) => Err(InjectError::Timeout {
                identity: identity.to_owned(),
                action: action.to_owned(),
                id: id.clone(),
                secs: timeout.as_secs_f64(),
            }),
        }
    }
}

/// The injected CALLs of one relay still awaiting an answer.
#[derive(Default)]
pub(crate) struct Outstanding {
    waiting: Mutex<HashMap<String, oneshot::Sender<Result<InjectedReply, ()>>>>,
    /// Non-zero while something waits: the charger's frames are only parsed then.
    count: AtomicU64,
}

impl Outstanding {
    pub(crate) fn insert(
        &self,
        id: String,
        reply: oneshot::Sender<Result<InjectedReply, ()>>,
    ) -> bool {
        let Ok(mut w) = self.waiting.lock() else {
            return false;
        };
        if w.len() >= MAX_OUTSTANDING {
            return false;
        }
        w.insert(id, reply);
        self.count.store(w.len() as u64, Ordering::Relaxed);
        true
    }

    /// If `text` answers an outstanding injected CALL: the answer, to deliver once it is
    /// tapped (the frame must not be forwarded).
    pub(crate) fn take_answer(&self, text: &str) -> Option<Answer> {
        if self.count.load(Ordering::Relaxed) == 0 || !text.contains(ID_PREFIX) {
            return None;
        }
        let reply = parse_answer(text)?;
        let mut w = self.waiting.lock().ok()?;
        let tx = w.remove(reply.id())?;
        self.count.store(w.len() as u64, Ordering::Relaxed);
        Some(Answer { tx, reply })
    }
}

/// The charger's answer to an injected CALL, not yet handed to its caller.
pub(crate) struct Answer {
    tx: oneshot::Sender<Result<InjectedReply, ()>>,
    reply: InjectedReply,
}

impl Answer {
    /// Hands the answer over (the caller may have given up on a timeout: then nothing).
    pub(crate) fn deliver(self) {
        let _ = self.tx.send(Ok(self.reply));
    }
}

/// A CALLRESULT (`[3,id,payload]`) or CALLERROR (`[4,id,code,description,details]`).
fn parse_answer(text: &str) -> Option<InjectedReply> {
    let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    let items = v.as_array()?;
    let id = items.get(1)?.as_str()?.to_owned();
    if !id.starts_with(ID_PREFIX) {
        return None;
    }
    match items.first()?.as_u64()? {
        3 => Some(InjectedReply::Result {
            id,
            payload: items.get(2).cloned().unwrap_or(Value::Null),
        }),
        4 => Some(InjectedReply::Error {
            id,
            code: items
                .get(2)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            description: items
                .get(3)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details: items.get(4).cloned().unwrap_or(Value::Null),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_taken_only_for_outstanding_ids() {
        let o = Outstanding::default();
        let taken = |t: &str| o.take_answer(t).map(Answer::deliver).is_some();
        assert!(!taken(r#"[3,"inspector-1",{}]"#), "nothing waits");
        let (tx, mut rx) = oneshot::channel();
        assert!(o.insert("inspector-1".into(), tx));
        assert!(!taken(r#"[3,"42",{}]"#), "a CSMS id passes");
        assert!(!taken(r#"[2,"inspector-1","Heartbeat",{}]"#));
        assert!(!taken(r#"[3,"inspector-2",{}]"#), "another id passes");
        assert!(taken(r#"[4,"inspector-1","NotSupported","no",{}]"#));
        assert_eq!(
            rx.try_recv(),
            Ok(Ok(InjectedReply::Error {
                id: "inspector-1".into(),
                code: "NotSupported".into(),
                description: "no".into(),
                details: serde_json::json!({}),
            }))
        );
        assert!(!taken(r#"[3,"inspector-1",{}]"#), "answered once");
    }

    #[tokio::test]
    async fn unknown_identity_is_a_clear_error() {
        let h = ProxyHandle {
            registry: Arc::default(),
        };
        let e = h
            .inject(
                "CP-X",
                "Reset",
                serde_json::json!({}),
                Duration::from_secs(1),
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot inject Reset to `CP-X`: no charger with that identity is connected"
        );
    }
}
