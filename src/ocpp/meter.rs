//! Sampled-value facts (MeterValue / SampledValue): the phase, location and reading-context
//! values of OCPP 1.6, and the measurands of 1.6 and 2.0.1. Facts of the standard only.

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

/// The measurands of OCPP 1.6 (§7.31 Measurand) and 2.0.1 (`MeasurandEnumType`), each once,
/// in the order both specifications list them: the name, and whether 1.6 and 2.0.1 have it.
const MEASURANDS: [(&str, bool, bool); 27] = [
    ("Current.Export", true, true),
    ("Current.Import", true, true),
    ("Current.Offered", true, true),
    ("Energy.Active.Export.Register", true, true),
    ("Energy.Active.Import.Register", true, true),
    ("Energy.Reactive.Export.Register", true, true),
    ("Energy.Reactive.Import.Register", true, true),
    ("Energy.Active.Export.Interval", true, true),
    ("Energy.Active.Import.Interval", true, true),
    ("Energy.Active.Net", false, true),
    ("Energy.Reactive.Export.Interval", true, true),
    ("Energy.Reactive.Import.Interval", true, true),
    ("Energy.Reactive.Net", false, true),
    ("Energy.Apparent.Net", false, true),
    ("Energy.Apparent.Import", false, true),
    ("Energy.Apparent.Export", false, true),
    ("Frequency", true, true),
    ("Power.Active.Export", true, true),
    ("Power.Active.Import", true, true),
    ("Power.Factor", true, true),
    ("Power.Offered", true, true),
    ("Power.Reactive.Export", true, true),
    ("Power.Reactive.Import", true, true),
    ("RPM", true, false),
    ("SoC", true, true),
    ("Temperature", true, false),
    ("Voltage", true, true),
];

/// The measurands of OCPP 1.6, for the `*Data` configuration keys.
pub const MEASURANDS_16: &[&str] = &measurands::<22>(true);

/// The measurands of 2.0.1, for the `*Measurands` variables.
pub const MEASURANDS_201: &[&str] = &measurands::<25>(false);

/// The `N` measurands [`MEASURANDS`] gives 1.6 (`v16`) or 2.0.1, in order; evaluated at
/// compile time, where a wrong `N` fails the build.
const fn measurands<const N: usize>(v16: bool) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < MEASURANDS.len() {
        let (name, in16, in201) = MEASURANDS[i];
        if (v16 && in16) || (!v16 && in201) {
            out[n] = name;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "the measurand count of the version is wrong");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_keeps_its_measurands_in_order() {
        assert_eq!(MEASURANDS_16.len(), 22);
        assert_eq!(MEASURANDS_16[11], "Frequency");
        assert_eq!(
            &MEASURANDS_16[18..],
            ["RPM", "SoC", "Temperature", "Voltage"]
        );
        assert_eq!(MEASURANDS_201[9], "Energy.Active.Net");
        assert_eq!(&MEASURANDS_201[23..], ["SoC", "Voltage"]);
        assert!(!MEASURANDS_201.contains(&"RPM"));
    }
}
