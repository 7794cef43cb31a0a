//! Sampled-value facts of OCPP 1.6 (MeterValue / SampledValue): the phase, location
//! and reading-context values. Facts of the standard only.

/// The values of the OCPP 1.6 Phase enumeration.
pub const PHASES: &[&str] = &[
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
];
/// The values of the OCPP 1.6 Location enumeration.
pub const LOCATIONS: &[&str] = &["Cable", "EV", "Inlet", "Outlet", "Body"];
/// ReadingContext values of OCPP 1.6 §7.35.
pub const READING_CONTEXTS: &[&str] = &[
    "Interruption.Begin",
    "Interruption.End",
    "Other",
    "Sample.Clock",
    "Sample.Periodic",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
];
