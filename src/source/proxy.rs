//! The man-in-the-middle proxy: chargers connect here, each connection is relayed to the
//! CSMS, and every event is tapped for the engine beside the forwarding path.
//!
//! It must never change, reorder or hold back traffic for the sake of inspection.
//! (Not built yet: see the proxy issue.)

pub mod tls;
