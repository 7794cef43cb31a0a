//! `resv.*`: reservations (ReserveNow, CancelReservation).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `resv/reservation.rs`.

use crate::engine::rules::{ALL, Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod reservation;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &CONNECTOR_ZERO_ACCEPTED_UNSUPPORTED,
    &BUSY_TARGET_ACCEPTED,
    &STATUS_NOT_RESERVED,
    &EXPIRY_NOT_REPORTED,
    &REMOVED_NOT_REPORTED,
    &CANCEL_UNKNOWN_ACCEPTED,
    &CANCEL_KNOWN_REJECTED,
    &CANCEL_STATUS_MISSING,
    &OCCUPIED_WITHOUT_TOKEN,
];

pub static CONNECTOR_ZERO_ACCEPTED_UNSUPPORTED: Rule = Rule {
    id: "resv.connector-zero-accepted-unsupported",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "ReserveNow for connector 0 accepted although ReserveConnectorZeroSupported is false or absent",
    spec: "OCPP 1.6 §5.13",
    doc: "What it checks: ReserveNow with `connectorId` 0 answered Accepted while the charger \
reported `ReserveConnectorZeroSupported` = false, or left it out of a full GetConfiguration \
listing. When the key was never seen nothing is reported.\n\n\
Why it matters: a charger without that capability must answer Rejected; the CSMS now counts \
on a reservation of the whole station that does not exist.\n\n\
Example:\n  GetConfiguration -> {ReserveConnectorZeroSupported: \"false\"}, then ReserveNow \
{connectorId:0, ...} -> Accepted",
};

pub static BUSY_TARGET_ACCEPTED: Rule = Rule {
    id: "resv.busy-target-accepted",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "ReserveNow accepted for a connector or EVSE that is occupied, reserved, faulted or unavailable",
    spec: "OCPP 1.6 §5.13; 2.0.1 Part 2 H01.FR.11, H01.FR.12, H01.FR.14",
    doc: "What it checks: ReserveNow answered Accepted while the last status the charger reported \
for the target was 1.6 Preparing, Charging, SuspendedEV, SuspendedEVSE, Finishing, Reserved \
(by another reservation), Faulted or Unavailable; 2.x Occupied, Reserved (by another \
reservation), Faulted or Unavailable for a connector of the EVSE. Only when such a status \
was seen.\n\n\
Why it matters: the charger must answer Occupied, Faulted or Unavailable; accepting promises \
a connector that the driver will not get.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\"}, then ReserveNow \
{connectorId:1, ...} -> Accepted",
};

pub static STATUS_NOT_RESERVED: Rule = Rule {
    id: "resv.status-not-reserved",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Reservation of a specific connector accepted and no Reserved status reported for it",
    spec: "OCPP 1.6 §4.9; 2.0.1 Part 2 H01.FR.23",
    doc: "What it checks: ReserveNow for a specific connector (1.6 connectorId > 0) or EVSE (2.x \
evseId) answered Accepted, the reservation still holds after `followup_window` (default \
60 s), and no StatusNotification (2.x: or NotifyEvent AvailabilityState) reported Reserved \
for it. Reported at the ReserveNow line.\n\n\
Why it matters: the CSMS and other drivers learn from the status that the connector is held.\n\n\
Example:\n  ReserveNow {connectorId:1, ...} -> Accepted, and no StatusNotification Reserved",
};

pub static EXPIRY_NOT_REPORTED: Rule = Rule {
    id: "resv.expiry-not-reported",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Reservation expired and the charger did not report it",
    spec: "OCPP 1.6 §5.13; 2.0.1 Part 2 H04.FR.01",
    doc: "What it checks: a reservation neither used nor cancelled whose expiry time passed more \
than `followup_window` ago, and: 1.6, the reserved connector (which had reported Reserved) \
reported no new status since; 2.x, no ReservationStatusUpdate with status Expired came for \
it. Reported at the ReserveNow line.\n\n\
Why it matters: on expiry the connector must become available again, and the CSMS learns it \
from this report.\n\n\
Example:\n  ReserveNow {expiryDateTime: 10:20} -> Accepted, at 10:25 still no \
ReservationStatusUpdate",
};

pub static REMOVED_NOT_REPORTED: Rule = Rule {
    id: "resv.removed-not-reported",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Reserved EVSE became Faulted or Unavailable and no ReservationStatusUpdate Removed followed",
    spec: "2.0.1 Part 2 H01.FR.16, H01.FR.17",
    doc: "What it checks: an EVSE with an active reservation reports Faulted or Unavailable, and no \
ReservationStatusUpdate with status Removed for the reservation within `followup_window`.\n\n\
Why it matters: the reservation ends with the EVSE's availability; the CSMS must be told so \
it can reserve elsewhere.\n\n\
Example:\n  ReserveNow {evseId:1} -> Accepted, StatusNotification {evseId:1, \
connectorStatus:\"Faulted\"}, no ReservationStatusUpdate",
};

pub static CANCEL_UNKNOWN_ACCEPTED: Rule = Rule {
    id: "resv.cancel-unknown-accepted",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "CancelReservation accepted for a reservation that does not exist (any more)",
    spec: "OCPP 1.6 §5.1; 2.0.1 Part 2 H02.FR.01",
    doc: "What it checks: CancelReservation answered Accepted for a reservationId that was used, \
cancelled or removed earlier in the trace (error), that expired (warning: the clocks may \
differ), or that was never seen (warning: it may predate the trace).\n\n\
Why it matters: an unknown reservation must be answered Rejected; Accepted tells the CSMS it \
cancelled something.\n\n\
Example:\n  CancelReservation {reservationId:5} -> Accepted (twice)",
};

pub static CANCEL_KNOWN_REJECTED: Rule = Rule {
    id: "resv.cancel-known-rejected",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "CancelReservation for an active reservation answered Rejected",
    spec: "OCPP 1.6 §5.1; 2.0.1 Part 2 H02.FR.02",
    doc: "What it checks: CancelReservation answered Rejected for a reservation the charger \
accepted, that was not used, cancelled or removed, and whose expiry time has not passed.\n\n\
Why it matters: the reservation keeps holding the connector although the CSMS wants it free.\n\n\
Example:\n  ReserveNow {reservationId:5} -> Accepted, CancelReservation {reservationId:5} -> \
Rejected",
};

pub static CANCEL_STATUS_MISSING: Rule = Rule {
    id: "resv.cancel-status-missing",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Reservation of an EVSE cancelled and no Available status followed",
    spec: "2.0.1 errata E201 2.31 (H02.FR.03, H02.FR.04)",
    doc: "What it checks: CancelReservation accepted for a reservation of a specific EVSE whose \
connector had reported Reserved, and no StatusNotification (or NotifyEvent AvailabilityState) \
Available for a connector of that EVSE within `followup_window`.\n\n\
Why it matters: the connectors go back to Available when the reservation is cancelled, and \
the CSMS learns it from the status.\n\n\
Example:\n  CancelReservation {reservationId:5} -> Accepted, no StatusNotification Available",
};

pub static OCCUPIED_WITHOUT_TOKEN: Rule = Rule {
    id: "resv.occupied-without-token",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Reserved connector reported Occupied before the reserved idToken was presented",
    spec: "2.0.1 errata E201 2.28 (G01.FR.09); 2.0.1 Part 2 G03.FR.09",
    doc: "What it checks: an EVSE with an active reservation reports Occupied while neither the \
reserved idToken nor its groupIdToken was presented (Authorize or TransactionEvent) since \
the reservation.\n\n\
Why it matters: a reserved connector stays Reserved until the driver it is reserved for \
arrives; Occupied suggests someone else took it.\n\n\
Example:\n  ReserveNow {evseId:1, idToken:\"A\"} -> Accepted, StatusNotification {evseId:1, \
connectorStatus:\"Occupied\"} (no Authorize of A)",
};
