//! The wire layer: one WebSocket text payload → one OCPP-J RPC frame.
//!
//! It parses the JSON once (into the engine's reused arena document, [`doc`], or a
//! `serde_json::Value` for callers that want one) and classifies the array by its message
//! type id. It knows no versions, actions or schemas; judging the frame is the engine's work.
//! It never panics on input: every malformed payload comes back as a [`FrameError`].

pub mod doc;
pub mod frame;
pub mod json;
pub mod text;
pub mod view;

pub use frame::{Frame, FrameError, MessageType, parse};
pub use text::{AsFrameText, FrameText, TextCell};
