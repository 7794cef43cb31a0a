//! Where events come from: trace files (our JSON Lines, or captures, Open OCPP Trace files
//! and text logs through [`input`]) and the proxy's tap, all turned into the one event
//! model ([`event`]). Sources turn bytes into events and judge nothing.

pub mod event;
pub mod input;
pub mod log;
pub mod merge;
pub mod oot;
pub mod pcap;
pub mod proxy;
pub mod trace_reader;
