//! OCPP-J frames: `[2,id,action,payload]` CALL, `[3,id,payload]` CALLRESULT,
//! `[4,id,code,description,details]` CALLERROR, and the 2.1 additions
//! `[5,id,code,description,details]` CALLRESULTERROR and `[6,id,action,payload]` SEND.

use serde_json::Value;

use super::doc::{Doc, Json};

/// The message type id, element 0 of every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Call = 2,
    CallResult = 3,
    CallError = 4,
    CallResultError = 5,
    Send = 6,
}

impl MessageType {
    pub fn from_id(id: i64) -> Option<MessageType> {
        Some(match id {
            2 => MessageType::Call,
            3 => MessageType::CallResult,
            4 => MessageType::CallError,
            5 => MessageType::CallResultError,
            6 => MessageType::Send,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageType::Call => "CALL",
            MessageType::CallResult => "CALLRESULT",
            MessageType::CallError => "CALLERROR",
            MessageType::CallResultError => "CALLRESULTERROR",
            MessageType::Send => "SEND",
        }
    }

    /// The number of array elements the type requires.
    pub fn element_count(self) -> usize {
        match self {
            MessageType::Call | MessageType::Send => 4,
            MessageType::CallResult => 3,
            MessageType::CallError | MessageType::CallResultError => 5,
        }
    }
}

/// A structurally sound frame, borrowing from the parsed JSON: a `serde_json::Value`, or
/// with `J` = [`Json`] the engine's arena document.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'v, J = &'v Value> {
    /// `[2,id,action,payload]` or, with `send`, `[6,id,action,payload]`.
    Call {
        id: &'v str,
        action: &'v str,
        payload: J,
        send: bool,
    },
    CallResult {
        id: &'v str,
        payload: J,
    },
    /// `[4,...]`, or with `result_error` the 2.1 `[5,...]`. The three trailing elements are
    /// left for the rules to judge (they may have the wrong types).
    CallError {
        id: &'v str,
        code: J,
        description: J,
        details: J,
        result_error: bool,
    },
}

impl<'v, J: Copy> Frame<'v, J> {
    pub fn id(&self) -> &'v str {
        match *self {
            Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::CallError { id, .. } => {
                id
            }
        }
    }

    pub fn message_type(&self) -> MessageType {
        match *self {
            Frame::Call { send: false, .. } => MessageType::Call,
            Frame::Call { send: true, .. } => MessageType::Send,
            Frame::CallResult { .. } => MessageType::CallResult,
            Frame::CallError {
                result_error: false,
                ..
            } => MessageType::CallError,
            Frame::CallError {
                result_error: true, ..
            } => MessageType::CallResultError,
        }
    }
}

/// Why a payload is not a usable OCPP-J frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameError {
    /// Empty or whitespace only.
    Empty,
    /// Not JSON at all; the parser's message (with column).
    NotJson(String),
    /// JSON, but not an array.
    NotArray,
    /// Element 0 missing or not an integer.
    TypeNotInteger,
    /// Element 0 is an integer but no OCPP-J message type.
    UnknownType(i64),
    /// The array has the wrong length for its type.
    WrongCount {
        message_type: MessageType,
        got: usize,
        /// The unique id, if element 1 is a string (for correlation in reports).
        id: Option<String>,
    },
    /// Element 1 is not a string.
    IdNotString { message_type: MessageType },
    /// Element 2 of a CALL or SEND is not a string.
    ActionNotString { id: String },
}

impl FrameError {
    /// The message id of a CALL (or SEND) that could not be used, when it was readable: the
    /// other side may rightly answer it with a CALLERROR.
    pub fn malformed_call_id(&self) -> Option<&str> {
        match self {
            FrameError::WrongCount {
                message_type: MessageType::Call | MessageType::Send,
                id: Some(id),
                ..
            }
            | FrameError::ActionNotString { id } => Some(id),
            _ => None,
        }
    }
}

/// Parses `text` as JSON. The caller keeps the value alive and classifies it with
/// [`classify`]; [`parse`] does both for callers that do not need the value afterwards.
pub fn parse_json(text: &str) -> Result<Value, FrameError> {
    if text.trim().is_empty() {
        return Err(FrameError::Empty);
    }
    if let Some(value) = super::json::parse(text) {
        return Ok(value);
    }
    serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))
}

/// [`parse_json`] into the engine's reused document: what the fast reader declines is read
/// by serde_json (which words the error) and copied in.
pub fn parse_doc(text: &str, doc: &mut Doc) -> Result<(), FrameError> {
    if text.trim().is_empty() {
        return Err(FrameError::Empty);
    }
    if doc.parse(text) {
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
    doc.set_value(&value);
    Ok(())
}

/// An element of a frame array, as classification reads it.
pub trait Element<'v>: Copy {
    fn integer(self) -> Option<i64>;
    fn string(self) -> Option<&'v str>;
}

impl<'v> Element<'v> for &'v Value {
    fn integer(self) -> Option<i64> {
        self.as_i64()
    }
    fn string(self) -> Option<&'v str> {
        self.as_str()
    }
}

impl<'v> Element<'v> for Json<'v> {
    fn integer(self) -> Option<i64> {
        self.as_i64()
    }
    fn string(self) -> Option<&'v str> {
        self.as_str()
    }
}

/// Classifies a parsed JSON value as an OCPP-J frame.
pub fn classify(value: &Value) -> Result<Frame<'_>, FrameError> {
    let Value::Array(items) = value else {
        return Err(FrameError::NotArray);
    };
    classify_items(items.len(), items.iter().take(5))
}

/// [`classify`] over the engine's arena document.
pub fn classify_doc(value: Json<'_>) -> Result<Frame<'_, Json<'_>>, FrameError> {
    let Some(items) = value.as_array() else {
        return Err(FrameError::NotArray);
    };
    classify_items(items.len(), items.iter().take(5))
}

/// Classifies an array of `len` elements, given its first (up to five) elements.
fn classify_items<'v, J: Element<'v>>(
    len: usize,
    first: impl Iterator<Item = J>,
) -> Result<Frame<'v, J>, FrameError> {
    let mut items: [Option<J>; 5] = [None; 5];
    for (slot, item) in items.iter_mut().zip(first) {
        *slot = Some(item);
    }
    let type_id = items[0]
        .and_then(Element::integer)
        .ok_or(FrameError::TypeNotInteger)?;
    let Some(message_type) = MessageType::from_id(type_id) else {
        return Err(FrameError::UnknownType(type_id));
    };
    let id = match items[1].and_then(Element::string) {
        Some(s) => s,
        None if len != message_type.element_count() => {
            return Err(FrameError::WrongCount {
                message_type,
                got: len,
                id: None,
            });
        }
        None => return Err(FrameError::IdNotString { message_type }),
    };
    if len != message_type.element_count() {
        return Err(FrameError::WrongCount {
            message_type,
            got: len,
            id: Some(id.to_owned()),
        });
    }
    // The count is the type's: the elements it needs are there.
    let [_, _, Some(e2), e3, e4] = items else {
        return Err(FrameError::WrongCount {
            message_type,
            got: len,
            id: Some(id.to_owned()),
        });
    };
    Ok(match message_type {
        MessageType::Call | MessageType::Send => {
            let (Some(action), Some(payload)) = (e2.string(), e3) else {
                return Err(FrameError::ActionNotString { id: id.to_owned() });
            };
            Frame::Call {
                id,
                action,
                payload,
                send: message_type == MessageType::Send,
            }
        }
        MessageType::CallResult => Frame::CallResult { id, payload: e2 },
        MessageType::CallError | MessageType::CallResultError => {
            let (Some(description), Some(details)) = (e3, e4) else {
                return Err(FrameError::WrongCount {
                    message_type,
                    got: len,
                    id: Some(id.to_owned()),
                });
            };
            Frame::CallError {
                id,
                code: e2,
                description,
                details,
                result_error: message_type == MessageType::CallResultError,
            }
        }
    })
}

/// Parses and classifies in one step, returning an owned summary; for tests and fuzzing.
pub fn parse(text: &str) -> Result<(Value, MessageType), FrameError> {
    let value = parse_json(text)?;
    let t = classify(&value)?.message_type();
    Ok((value, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Result<MessageType, FrameError> {
        parse(text).map(|(_, t)| t)
    }

    #[test]
    fn classifies_every_type() {
        assert_eq!(kind(r#"[2,"1","Heartbeat",{}]"#), Ok(MessageType::Call));
        assert_eq!(kind(r#"[3,"1",{}]"#), Ok(MessageType::CallResult));
        assert_eq!(
            kind(r#"[4,"1","GenericError","",{}]"#),
            Ok(MessageType::CallError)
        );
        assert_eq!(
            kind(r#"[5,"1","GenericError","",{}]"#),
            Ok(MessageType::CallResultError)
        );
        assert_eq!(
            kind(r#"[6,"1","NotifyPeriodicEventStream",{}]"#),
            Ok(MessageType::Send)
        );
    }

    #[test]
    fn reports_structural_faults() {
        assert_eq!(kind("  "), Err(FrameError::Empty));
        assert!(matches!(kind("[2,"), Err(FrameError::NotJson(_))));
        assert_eq!(kind("{}"), Err(FrameError::NotArray));
        assert_eq!(
            kind(r#"["2","1","Heartbeat",{}]"#),
            Err(FrameError::TypeNotInteger)
        );
        assert_eq!(
            kind(r#"[2.0,"1","Heartbeat",{}]"#),
            Err(FrameError::TypeNotInteger)
        );
        assert_eq!(kind("[]"), Err(FrameError::TypeNotInteger));
        assert_eq!(kind(r#"[7,"1"]"#), Err(FrameError::UnknownType(7)));
        assert_eq!(
            kind(r#"[2,"1","Heartbeat"]"#),
            Err(FrameError::WrongCount {
                message_type: MessageType::Call,
                got: 3,
                id: Some("1".into())
            })
        );
        assert_eq!(
            kind(r#"[2,1,"Heartbeat",{}]"#),
            Err(FrameError::IdNotString {
                message_type: MessageType::Call
            })
        );
        assert_eq!(
            kind(r#"[2,"1",5,{}]"#),
            Err(FrameError::ActionNotString { id: "1".into() })
        );
    }

    #[test]
    fn lone_surrogates_and_deep_nesting_are_errors_not_panics() {
        assert!(matches!(
            kind(r#"[2,"\ud800","Heartbeat",{}]"#),
            Err(FrameError::NotJson(_))
        ));
        let deep = "[".repeat(100_000);
        assert!(matches!(kind(&deep), Err(FrameError::NotJson(_))));
    }
}
