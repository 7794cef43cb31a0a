//! The registration lifecycle of a station, as its BootNotifications are answered:
//!
//! ```text
//! Unknown ──BootNotification──► Booting ──Accepted──► Accepted
//!                                  │  └────Pending───► Pending ──BootNotification──► Booting
//!                                  └───────Rejected──► Rejected ─BootNotification──► Booting
//! ```
//!
//! A CALLERROR (or an unreadable status) answering the BootNotification leaves it `Unknown`:
//! what the station makes of it is not specified. The `seq` rules judge the traffic against
//! this state; only [`Station`](super::Station) changes it.

use crate::wire::doc::Json;

use crate::engine::protocol::Outcome;

/// The registration state of a station.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Nothing seen yet (the trace may have started mid-life): rules that need the
    /// registration state stay silent or report `info` only.
    #[default]
    Unknown,
    /// A BootNotification was sent and is not answered yet: the station is booting, on this
    /// connection or an earlier one.
    Booting,
    Pending,
    Rejected,
    Accepted,
}

impl Registration {
    /// The state a BootNotification answered with `outcome` leaves. An answer that breaks
    /// its schema still tells the station its status, if readable.
    pub(crate) fn answered(outcome: &Outcome<'_>) -> Registration {
        let Outcome::Result { payload, .. } = outcome else {
            return Registration::Unknown;
        };
        match payload.get("status").and_then(Json::as_str) {
            Some("Accepted") => Registration::Accepted,
            Some("Pending") => Registration::Pending,
            Some("Rejected") => Registration::Rejected,
            _ => Registration::Unknown,
        }
    }
}
