//! `status2.*`: connector status on OCPP 2.x (StatusNotification, availability events).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `status2/connector.rs`.

use crate::engine::rules::{Party, Rule, V2X};
use crate::finding::Severity;

pub(crate) mod connector;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &CONNECTOR_ZERO,
    &ID_RANGE,
    &UNEXPECTED_TRANSITION,
    &TIMESTAMP_OUT_OF_ORDER,
];

pub static CONNECTOR_ZERO: Rule = Rule {
    id: "status2.connector-zero",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "StatusNotification for evseId 0 or connectorId 0 (or below)",
    spec: "OCPP 2.0.1 Part 1 §7.1, §7.2; Part 2 G03 note; 2.1 Part 1 §7",
    doc: "What it checks: a 2.x StatusNotification whose `evseId` or `connectorId` is 0 or \
negative.\n\n\
Why it matters: in 2.x a status belongs to one connector of one EVSE, both numbered from 1; \
0 stands for the whole station (EVSE) or is no connector at all, so the CSMS cannot place \
the status. (1.6 reported the charge point as connector 0; 2.x does not.)\n\n\
Example:\n  StatusNotification {evseId:0, connectorId:0, connectorStatus:\"Available\", ...}",
};

pub static ID_RANGE: Rule = Rule {
    id: "status2.id-range",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "StatusNotification for an EVSE or connector the station's full inventory does not list",
    spec: "OCPP 2.0.1 Part 1 §7.1, §7.2; Part 2 B07 (Get Base Report)",
    doc: "What it checks: a StatusNotification whose `evseId` is not among the EVSE components, or \
whose `connectorId` is not among the Connector components of that EVSE, of the station's \
last complete FullInventory report (GetBaseReport FullInventory answered with NotifyReport \
parts up to `tbc` false). Silent while no complete inventory was seen, and for an EVSE whose \
connectors the inventory does not list.\n\n\
Why it matters: the device model is the station's own list of its EVSEs and connectors; a \
status for one it does not have is a numbering fault the CSMS cannot map.\n\n\
Example:\n  FullInventory lists EVSE 1 with connector 1, then StatusNotification {evseId:2, \
connectorId:1, ...}",
};

pub static UNEXPECTED_TRANSITION: Rule = Rule {
    id: "status2.unexpected-transition",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Connector status change that the 2.x use cases do not allow",
    spec: "OCPP 2.0.1 Part 2 G01, G03, H01; errata 2.30",
    doc: "What it checks: two consecutive status reports of one connector (same connection, no \
boot between) going Occupied -> Reserved or Unavailable -> Reserved. Only an Available \
connector can be reserved (ReserveNow on an occupied or unavailable EVSE is answered \
Occupied / Unavailable), so a reservation cannot take effect from those states. 2.x has no \
full transition table; the other changes are all possible through plug, unplug, \
availability, reservation and fault events, and are not judged. A warning: a short \
Available between the two may have been skipped.\n\n\
Why it matters: a status the use cases cannot produce means the station's state machine and \
the CSMS's view of the connector diverge.\n\n\
Example:\n  StatusNotification {evseId:1, connectorId:1, connectorStatus:\"Occupied\"}, then \
{..., connectorStatus:\"Reserved\"}",
};

pub static TIMESTAMP_OUT_OF_ORDER: Rule = Rule {
    id: "status2.timestamp-out-of-order",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "StatusNotification timestamped earlier than the connector's previous report",
    spec: "OCPP 2.0.1 Part 2 G01 (by analogy with OCPP 1.6 §4.9)",
    doc: "What it checks: a StatusNotification whose `timestamp` is earlier than the timestamp of \
the previous StatusNotification of the same EVSE and connector, with no BootNotification \
between (a clock set at boot makes the two incomparable). A warning: 2.x states no explicit \
ordering requirement for status reports.\n\n\
Why it matters: statuses describe a timeline; reports that go back in time make the CSMS \
show an old status as the current one.\n\n\
Example:\n  StatusNotification {timestamp:\"10:05:00Z\", evseId:1, connectorId:1, ...}, then \
{timestamp:\"10:04:00Z\", evseId:1, connectorId:1, ...}",
};
