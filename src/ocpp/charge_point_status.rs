//! The 1.6 connector status (ChargePointStatus, OCPP 1.6 §7.7) and its transition table
//! (§4.9). Facts of the standard only; the `status16` rules judge traffic against them.

/// A 1.6 connector status (ChargePointStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargePointStatus {
    Available,
    Preparing,
    Charging,
    SuspendedEv,
    SuspendedEvse,
    Finishing,
    Reserved,
    Unavailable,
    Faulted,
}

/// Every status, in the order of the transition table.
pub const ALL_STATUSES: [ChargePointStatus; 9] = [
    ChargePointStatus::Available,
    ChargePointStatus::Preparing,
    ChargePointStatus::Charging,
    ChargePointStatus::SuspendedEv,
    ChargePointStatus::SuspendedEvse,
    ChargePointStatus::Finishing,
    ChargePointStatus::Reserved,
    ChargePointStatus::Unavailable,
    ChargePointStatus::Faulted,
];

/// The transition table of OCPP 1.6 §4.9 (catalogue §7.1). Row = previous status, column =
/// new status, both in [`ALL_STATUSES`] order: `x` a listed transition, `-` not listed, `.`
/// the same status.
const TABLE: [&[u8; 9]; 9] = [
    b".xxxx-xxx", // Available:     A2 A3 A4 A5 A7 A8 A9
    b"x.xxxx--x", // Preparing:     B1 B3 B4 B5 B6 B9
    b"x-.xxx-xx", // Charging:      C1 C4 C5 C6 C8 C9
    b"x-x.xx-xx", // SuspendedEV:   D1 D3 D5 D6 D8 D9
    b"x-xx.x-xx", // SuspendedEVSE: E1 E3 E4 E6 E8 E9
    b"xx---.-xx", // Finishing:     F1 F2 F8 F9
    b"xx----.xx", // Reserved:      G1 G2 G8 G9
    b"xxxxx--.x", // Unavailable:   H1 H2 H3 H4 H5 H9
    b"xxxxxxxx.", // Faulted:       I1 .. I8
];

impl ChargePointStatus {
    pub fn parse(s: &str) -> Option<ChargePointStatus> {
        Some(match s {
            "Available" => ChargePointStatus::Available,
            "Preparing" => ChargePointStatus::Preparing,
            "Charging" => ChargePointStatus::Charging,
            "SuspendedEV" => ChargePointStatus::SuspendedEv,
            "SuspendedEVSE" => ChargePointStatus::SuspendedEvse,
            "Finishing" => ChargePointStatus::Finishing,
            "Reserved" => ChargePointStatus::Reserved,
            "Unavailable" => ChargePointStatus::Unavailable,
            "Faulted" => ChargePointStatus::Faulted,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ChargePointStatus::Available => "Available",
            ChargePointStatus::Preparing => "Preparing",
            ChargePointStatus::Charging => "Charging",
            ChargePointStatus::SuspendedEv => "SuspendedEV",
            ChargePointStatus::SuspendedEvse => "SuspendedEVSE",
            ChargePointStatus::Finishing => "Finishing",
            ChargePointStatus::Reserved => "Reserved",
            ChargePointStatus::Unavailable => "Unavailable",
            ChargePointStatus::Faulted => "Faulted",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether `self → to` is a listed transition (or no transition at all).
    pub fn may_become(self, to: ChargePointStatus) -> bool {
        TABLE[self.index()][to.index()] != b'-'
    }

    /// A status in which energy may flow (a transaction is expected).
    pub fn is_energy(self) -> bool {
        matches!(
            self,
            ChargePointStatus::Charging
                | ChargePointStatus::SuspendedEv
                | ChargePointStatus::SuspendedEvse
        )
    }
}
