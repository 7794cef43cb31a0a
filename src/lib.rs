//! `ocpp-inspector`: makes OCPP traffic inspectable and provably conformant.
//!
//! ```text
//! source (trace file, proxy tap) ──► Event ──► engine::Engine::feed ──► Finding ──► sink
//!    source::trace_reader             (wire::frame parse once,            (reports: text,
//!                                      rules of the registry,              json, junit)
//!                                      schemas, session state)
//! ```
//!
//! - [`alloc_trim`]: idle threads hand their allocator heap's free pages back (the crate's
//!   only `unsafe`, one FFI call).
//! - [`ocpp`]: protocol facts (versions, sides, action catalogue, error codes).
//! - [`wire`]: a text payload → an OCPP-J frame.
//! - [`engine`]: the sans-io inspection engine: schemas, rules, per-connection state.
//! - [`finding`]: what the engine says.
//! - [`source`]: where events come from (trace files).
//! - [`sink`]: where findings go (reports, the trace recorder).
//! - [`pipeline`]: live runs behind the proxy's tap (the consumer: recorder, engine, sinks;
//!   one builder for `proxy`, `testcase run --live` and `demo`).
//! - [`testcase`]: conformance test cases (scenarios) judged case by case, and the lab report.
//! - [`cli`]: the command line.

pub mod admin;
pub mod alloc_trim;
pub mod certs;
pub mod checker;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod finding;
pub mod ocpp;
pub mod pipeline;
pub mod sim;
pub mod sink;
pub mod source;
pub mod testcase;
pub mod time;
pub mod wire;
