//! `status2.*`: OCPP 2.0.1 / 2.1 connector status, from StatusNotification (evseId,
//! connectorId, connectorStatus) and from NotifyEvent `Connector.AvailabilityState`.
//!
//! The last status of every (EVSE, connector) is remembered per station; the transaction
//! family reads it (`tx2.status-not-occupied-on-plug`). The first report of a connector on a
//! connection, or after a boot, is its current status and never makes a transition. This
//! file must not judge transactions: it only keeps and checks statuses.
//!
//! ```text
//! StatusNotification ─► evseId / connectorId 0 ─► status2.connector-zero
//!                    ─► not in a complete FullInventory report ─► status2.id-range
//!                    ─► previous status known? ─► edges 2.x does not allow (warning)
//!                    ─► timestamp older than the previous report of the connector
//! ```

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use serde_json::Value;

use super::dm::{self, arr_of, int_of, push_capped, str_of};
use super::rpc::rule;
use super::{Rule, V2X};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, ProtoState, Reply};
use crate::ocpp::Side;
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &CONNECTOR_ZERO,
    &ID_RANGE,
    &UNEXPECTED_TRANSITION,
    &TIMESTAMP_OUT_OF_ORDER,
];

rule!(
    CONNECTOR_ZERO,
    "status2.connector-zero",
    Error,
    None,
    V2X,
    Charger,
    "StatusNotification for evseId 0 or connectorId 0 (or below)",
    "OCPP 2.0.1 Part 1 §7.1, §7.2; Part 2 G03 note; 2.1 Part 1 §7",
    "What it checks: a 2.x StatusNotification whose `evseId` or `connectorId` is 0 or \
negative.\n\n\
Why it matters: in 2.x a status belongs to one connector of one EVSE, both numbered from 1; \
0 stands for the whole station (EVSE) or is no connector at all, so the CSMS cannot place \
the status. (1.6 reported the charge point as connector 0; 2.x does not.)\n\n\
Example:\n  StatusNotification {evseId:0, connectorId:0, connectorStatus:\"Available\", ...}"
);

rule!(
    ID_RANGE,
    "status2.id-range",
    Error,
    None,
    V2X,
    Charger,
    "StatusNotification for an EVSE or connector the station's full inventory does not list",
    "OCPP 2.0.1 Part 1 §7.1, §7.2; Part 2 B07 (Get Base Report)",
    "What it checks: a StatusNotification whose `evseId` is not among the EVSE components, or \
whose `connectorId` is not among the Connector components of that EVSE, of the station's \
last complete FullInventory report (GetBaseReport FullInventory answered with NotifyReport \
parts up to `tbc` false). Silent while no complete inventory was seen, and for an EVSE whose \
connectors the inventory does not list.\n\n\
Why it matters: the device model is the station's own list of its EVSEs and connectors; a \
status for one it does not have is a numbering fault the CSMS cannot map.\n\n\
Example:\n  FullInventory lists EVSE 1 with connector 1, then StatusNotification {evseId:2, \
connectorId:1, ...}"
);

rule!(
    UNEXPECTED_TRANSITION,
    "status2.unexpected-transition",
    Warning,
    None,
    V2X,
    Charger,
    "Connector status change that the 2.x use cases do not allow",
    "OCPP 2.0.1 Part 2 G01, G03, H01; errata 2.30",
    "What it checks: two consecutive status reports of one connector (same connection, no \
boot between) going Occupied -> Reserved or Unavailable -> Reserved. Only an Available \
connector can be reserved (ReserveNow on an occupied or unavailable EVSE is answered \
Occupied / Unavailable), so a reservation cannot take effect from those states. 2.x has no \
full transition table; the other changes are all possible through plug, unplug, \
availability, reservation and fault events, and are not judged. A warning: a short \
Available between the two may have been skipped.\n\n\
Why it matters: a status the use cases cannot produce means the station's state machine and \
the CSMS's view of the connector diverge.\n\n\
Example:\n  StatusNotification {evseId:1, connectorId:1, connectorStatus:\"Occupied\"}, then \
{..., connectorStatus:\"Reserved\"}"
);

rule!(
    TIMESTAMP_OUT_OF_ORDER,
    "status2.timestamp-out-of-order",
    Warning,
    None,
    V2X,
    Charger,
    "StatusNotification timestamped earlier than the connector's previous report",
    "OCPP 2.0.1 Part 2 G01 (by analogy with OCPP 1.6 §4.9)",
    "What it checks: a StatusNotification whose `timestamp` is earlier than the timestamp of \
the previous StatusNotification of the same EVSE and connector, with no BootNotification \
between (a clock set at boot makes the two incomparable). A warning: 2.x states no explicit \
ordering requirement for status reports.\n\n\
Why it matters: statuses describe a timeline; reports that go back in time make the CSMS \
show an old status as the current one.\n\n\
Example:\n  StatusNotification {timestamp:\"10:05:00Z\", evseId:1, connectorId:1, ...}, then \
{timestamp:\"10:04:00Z\", evseId:1, connectorId:1, ...}"
);

// ---------------------------------------------------------------------------------------
// State.

const MAX_CONNECTORS: usize = 64;
const MAX_INVENTORY: usize = 256;
const MAX_REQUESTS: usize = 8;

/// The 2.x connector statuses (ConnectorStatusEnumType).
const STATUSES: &[&str] = &[
    "Available",
    "Occupied",
    "Reserved",
    "Unavailable",
    "Faulted",
];

/// What is known of one connector.
#[derive(Debug)]
struct Connector {
    evse: i64,
    id: i64,
    /// The last status reported on this connection since the last boot (`None`: not seen,
    /// so the next report is not a transition).
    status: Option<&'static str>,
    /// The `timestamp` of the last StatusNotification, and the boot count then.
    stamp: Option<(Timestamp, u32)>,
}

/// The EVSEs and connectors of a FullInventory report.
#[derive(Debug, Default)]
struct Inventory {
    evses: Vec<i64>,
    connectors: Vec<(i64, i64)>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    connectors: Vec<Connector>,
    boots: u32,
    /// requestIds of accepted GetBaseReport FullInventory requests.
    inventory_requests: Vec<i64>,
    /// The inventory being reported (requestId, parts so far).
    building: Option<(i64, Inventory)>,
    /// The last complete inventory.
    inventory: Option<Inventory>,
}

impl State {
    fn connector(&mut self, evse: i64, id: i64) -> &mut Connector {
        let pos = match self
            .connectors
            .iter()
            .position(|c| c.evse == evse && c.id == id)
        {
            Some(pos) => pos,
            None => {
                push_capped(
                    &mut self.connectors,
                    Connector {
                        evse,
                        id,
                        status: None,
                        stamp: None,
                    },
                    MAX_CONNECTORS,
                );
                self.connectors.len() - 1
            }
        };
        &mut self.connectors[pos]
    }

    fn forget_statuses(&mut self) {
        for c in &mut self.connectors {
            c.status = None;
        }
    }

    /// Whether the EVSE (or its connector `connector`, when given) was last reported
    /// Available on this connection: every known connector of it Available, at least one.
    pub(crate) fn is_available(&self, evse: i64, connector: Option<i64>) -> bool {
        let mut any = false;
        for c in self
            .connectors
            .iter()
            .filter(|c| c.evse == evse && connector.is_none_or(|k| k == c.id))
        {
            match c.status {
                Some("Available") => any = true,
                None => {}
                Some(_) => return false,
            }
        }
        any
    }

    /// Whether every connector of the EVSE reported on this connection (at least one) was
    /// last reported Unavailable or Faulted.
    pub(crate) fn is_out_of_service(&self, evse: i64) -> bool {
        let mut any = false;
        for c in self.connectors.iter().filter(|c| c.evse == evse) {
            match c.status {
                Some("Unavailable" | "Faulted") => any = true,
                None => {}
                Some(_) => return false,
            }
        }
        any
    }
}

fn status_name(s: &str) -> Option<&'static str> {
    STATUSES.iter().copied().find(|x| *x == s)
}

fn is_2x(st: &ProtoState) -> bool {
    st.version.is_some_and(crate::ocpp::Version::is_2x)
}

/// Records a status report of a connector; returns the previous status on this connection.
fn record(st: &mut State, evse: i64, id: i64, status: &'static str) -> Option<&'static str> {
    let c = st.connector(evse, id);
    let prev = c.status;
    c.status = Some(status);
    prev
}

// ---------------------------------------------------------------------------------------
// Hooks.

pub(crate) fn on_open(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
    if is_2x(st) {
        // After a reconnect the station reports its current statuses, not its history.
        st.status2.forget_statuses();
    }
}

pub(crate) fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
    if is_2x(st) {
        st.status2.forget_statuses();
    }
}

pub(crate) fn on_time(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _now: Timestamp, _end: bool) {}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    if !is_2x(st) || !call.valid {
        return;
    }
    match (call.action, call.from) {
        ("StatusNotification", Side::Charger) => status_notification(st, ctx, call.payload),
        ("NotifyEvent", Side::Charger) => {
            for e in arr_of(call.payload, "eventData") {
                if let Some((evse, id, status)) = availability_event(e) {
                    record(&mut st.status2, evse, id, status);
                }
            }
        }
        ("NotifyReport", Side::Charger) => notify_report(&mut st.status2, call.payload),
        ("BootNotification", Side::Charger) => {
            let s = &mut st.status2;
            s.boots = s.boots.wrapping_add(1);
            s.forget_statuses();
        }
        _ => {}
    }
}

pub(crate) fn on_reply(st: &mut ProtoState, _ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    if !is_2x(st) || reply.action != "GetBaseReport" || reply.caller != Side::Csms {
        return;
    }
    let accepted = reply
        .result()
        .and_then(|r| str_of(r, "status"))
        .is_some_and(|s| s == "Accepted");
    if accepted
        && str_of(reply.request, "reportBase") == Some("FullInventory")
        && let Some(id) = int_of(reply.request, "requestId")
    {
        push_capped(&mut st.status2.inventory_requests, id, MAX_REQUESTS);
    }
}

/// A NotifyEvent entry reporting `Connector.AvailabilityState` (the 2.x alternative to
/// StatusNotification): (evse, connector, status).
pub(crate) fn availability_event(e: &Value) -> Option<(i64, i64, &'static str)> {
    let component = e.get("component")?;
    if str_of(component, "name")? != "Connector"
        || str_of(e.get("variable")?, "name")? != "AvailabilityState"
    {
        return None;
    }
    let evse = component.get("evse")?;
    let status = status_name(str_of(e, "actualValue")?)?;
    Some((int_of(evse, "id")?, int_of(evse, "connectorId")?, status))
}

fn notify_report(s: &mut State, p: &Value) {
    let Some(request) = int_of(p, "requestId") else {
        return;
    };
    if !s.inventory_requests.contains(&request) {
        return;
    }
    if s.building.as_ref().is_none_or(|(r, _)| *r != request) {
        s.building = Some((request, Inventory::default()));
    }
    let Some((_, inv)) = s.building.as_mut() else {
        return;
    };
    for d in arr_of(p, "reportData") {
        let Some(component) = d.get("component") else {
            continue;
        };
        let Some(evse) = component.get("evse") else {
            continue;
        };
        let Some(id) = int_of(evse, "id") else {
            continue;
        };
        match str_of(component, "name") {
            Some("EVSE") if !inv.evses.contains(&id) => {
                push_capped(&mut inv.evses, id, MAX_INVENTORY);
            }
            Some("Connector") => {
                if let Some(c) = int_of(evse, "connectorId")
                    && !inv.connectors.contains(&(id, c))
                {
                    push_capped(&mut inv.connectors, (id, c), MAX_INVENTORY);
                }
            }
            _ => {}
        }
    }
    if p.get("tbc").and_then(Value::as_bool) != Some(true)
        && let Some((_, inv)) = s.building.take()
    {
        s.inventory_requests.retain(|r| *r != request);
        if !inv.evses.is_empty() {
            s.inventory = Some(inv);
        }
    }
}

fn status_notification(st: &mut ProtoState, ctx: &mut Ctx<'_>, p: &Value) {
    let (Some(evse), Some(id), Some(status)) = (
        int_of(p, "evseId"),
        int_of(p, "connectorId"),
        str_of(p, "connectorStatus").and_then(status_name),
    ) else {
        return;
    };
    if evse <= 0 || id <= 0 {
        ctx.report(
            &CONNECTOR_ZERO,
            format!(
                "StatusNotification for evseId {evse}, connectorId {id}; a 2.x status belongs to one connector (numbered from 1) of one EVSE (numbered from 1)"
            ),
        );
        return;
    }
    let s = &mut st.status2;
    if let Some(inv) = &s.inventory {
        if !inv.evses.contains(&evse) {
            ctx.report(
                &ID_RANGE,
                format!(
                    "StatusNotification for evseId {evse}, but the station's FullInventory report lists EVSE{} {}",
                    if inv.evses.len() == 1 { "" } else { "s" },
                    join(&inv.evses)
                ),
            );
        } else {
            let listed: Vec<i64> = inv
                .connectors
                .iter()
                .filter(|(e, _)| *e == evse)
                .map(|(_, c)| *c)
                .collect();
            if !listed.is_empty() && !listed.contains(&id) {
                ctx.report(
                    &ID_RANGE,
                    format!(
                        "StatusNotification for connectorId {id} of EVSE {evse}, but the station's FullInventory report lists connector{} {} there",
                        if listed.len() == 1 { "" } else { "s" },
                        join(&listed)
                    ),
                );
            }
        }
    }
    let boots = s.boots;
    let ts = str_of(p, "timestamp").and_then(|t| Timestamp::parse_rfc3339(t).ok());
    let credible = ts.is_some_and(|ts| dm::credible_stamp(ctx, ts));
    let c = s.connector(evse, id);
    if let (Some(ts), Some((prev, b))) = (ts, c.stamp)
        && b == boots
        && ts < prev
    {
        ctx.report(
            &TIMESTAMP_OUT_OF_ORDER,
            format!(
                "StatusNotification of EVSE {evse} connector {id} is timestamped {ts}, before the previous report of that connector ({prev})"
            ),
        );
    }
    if let Some(ts) = ts
        && credible
        && c.stamp.is_none_or(|(prev, b)| b != boots || ts >= prev)
    {
        c.stamp = Some((ts, boots));
    }
    let prev = record(s, evse, id, status);
    if let Some(prev) = prev
        && status == "Reserved"
        && matches!(prev, "Occupied" | "Unavailable")
    {
        ctx.report(
            &UNEXPECTED_TRANSITION,
            format!(
                "EVSE {evse} connector {id} went from {prev} to Reserved; only an Available connector can be reserved"
            ),
        );
    }
}

fn join(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::dm::tests::{run, trace};
    use crate::finding::Severity;

    const BOOT: &str = r#"[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#;
    const BOOT_OK: &str =
        r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;

    fn status(id: &str, ts: &str, evse: i64, conn: i64, s: &str) -> String {
        format!(
            r#"[2,"{id}","StatusNotification",{{"timestamp":"2026-11-22T10:{ts}Z","connectorStatus":"{s}","evseId":{evse},"connectorId":{conn}}}]"#
        )
    }

    #[test]
    fn a_reconnect_or_boot_forgets_the_previous_status() {
        let a = status("s1", "00:10", 1, 1, "Occupied");
        let b = status("s2", "00:20", 1, 1, "Reserved");
        let ok1 = r#"[3,"s1",{}]"#;
        let ok2 = r#"[3,"s2",{}]"#;
        // Same connection: a transition that cannot happen.
        let found = run(&trace(
            "ocpp2.0.1",
            &[
                ("charger", &a),
                ("csms", ok1),
                ("charger", &b),
                ("csms", ok2),
            ],
        ));
        assert_eq!(
            found,
            vec![("status2.unexpected-transition", Severity::Warning, 4)]
        );
        // A boot between: the second report is the current status, not a transition.
        let found = run(&trace(
            "ocpp2.0.1",
            &[
                ("charger", &a),
                ("csms", ok1),
                ("charger", BOOT),
                ("csms", BOOT_OK),
                ("charger", &b),
                ("csms", ok2),
            ],
        ));
        // (The status sent before the boot on the same connection is `seq.boot-first`'s.)
        let found: Vec<_> = found
            .into_iter()
            .filter(|f| f.0.starts_with("status2."))
            .collect();
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn timestamps_are_compared_per_connector_and_not_across_a_boot() {
        // Status times stay behind the frames' own (a later one would be a clock fault).
        let a = status("s1", "00:01", 1, 1, "Available");
        let b = status("s2", "00:00", 1, 2, "Available");
        let c = status("s3", "00:00.500", 1, 1, "Available");
        let found = run(&trace(
            "ocpp2.0.1",
            &[
                ("charger", &a),
                ("csms", r#"[3,"s1",{}]"#),
                ("charger", &b),
                ("csms", r#"[3,"s2",{}]"#),
                ("charger", &c),
                ("csms", r#"[3,"s3",{}]"#),
            ],
        ));
        assert_eq!(
            found,
            vec![("status2.timestamp-out-of-order", Severity::Warning, 6)]
        );
        let found = run(&trace(
            "ocpp2.0.1",
            &[
                ("charger", &a),
                ("csms", r#"[3,"s1",{}]"#),
                ("charger", BOOT),
                ("csms", BOOT_OK),
                ("charger", &c),
                ("csms", r#"[3,"s3",{}]"#),
            ],
        ));
        let found: Vec<_> = found
            .into_iter()
            .filter(|f| f.0.starts_with("status2."))
            .collect();
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn inventory_counts_only_once_complete() {
        let get = r#"[2,"g","GetBaseReport",{"requestId":3,"reportBase":"FullInventory"}]"#;
        let part = |seq: u32, tbc: bool| {
            format!(
                r#"[2,"n{seq}","NotifyReport",{{"requestId":3,"generatedAt":"2026-11-22T10:00:05Z","seqNo":{seq},"tbc":{tbc},"reportData":[{{"component":{{"name":"EVSE","evse":{{"id":1}}}},"variable":{{"name":"Available"}},"variableAttribute":[{{"value":"true"}}]}}]}}]"#
            )
        };
        let (p0, p1) = (part(0, true), part(1, false));
        let late = status("s1", "00:30", 2, 1, "Available");
        let mut frames = vec![
            ("csms", get),
            ("charger", r#"[3,"g",{"status":"Accepted"}]"#),
            ("charger", p0.as_str()),
            ("csms", r#"[3,"n0",{}]"#),
        ];
        let mut early = frames.clone();
        early.push(("charger", late.as_str()));
        early.push(("csms", r#"[3,"s1",{}]"#));
        let found = run(&trace("ocpp2.0.1", &early));
        assert!(found.is_empty(), "incomplete report: {found:?}");
        frames.push(("charger", p1.as_str()));
        frames.push(("csms", r#"[3,"n1",{}]"#));
        frames.push(("charger", late.as_str()));
        frames.push(("csms", r#"[3,"s1",{}]"#));
        let found = run(&trace("ocpp2.0.1", &frames));
        assert_eq!(found, vec![("status2.id-range", Severity::Error, 8)]);
    }
}
