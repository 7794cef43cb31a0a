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

use super::{CONNECTOR_ZERO, ID_RANGE, TIMESTAMP_OUT_OF_ORDER, UNEXPECTED_TRANSITION};
use crate::wire::doc::Json;

use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::rules::V2X;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::support::{
    arr_of, credible_stamp, find_or_push_capped, int_of, push_capped, str_of,
};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

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
    /// requestIds of accepted GetBaseReport FullInventory requests.
    inventory_requests: Vec<i64>,
    /// The inventory being reported (requestId, parts so far).
    building: Option<(i64, Inventory)>,
    /// The last complete inventory.
    inventory: Option<Inventory>,
}

impl State {
    fn connector(&mut self, evse: i64, id: i64) -> &mut Connector {
        let new = || Connector {
            evse,
            id,
            status: None,
            stamp: None,
        };
        let is = |c: &Connector| c.evse == evse && c.id == id;
        find_or_push_capped(&mut self.connectors, is, new, MAX_CONNECTORS)
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

/// Records a status report of a connector; returns the previous status on this connection.
fn record(st: &mut State, evse: i64, id: i64, status: &'static str) -> Option<&'static str> {
    let c = st.connector(evse, id);
    let prev = c.status;
    c.status = Some(status);
    prev
}

// ---------------------------------------------------------------------------------------
// Hooks.

/// The hooks of this family (see [`Family`]).
pub(crate) struct Status2;

impl Family for Status2 {
    const VERSIONS: &'static [Version] = V2X;
    const CALLS: Listen = Listen::Only(&[
        "StatusNotification",
        "NotifyEvent",
        "NotifyReport",
        "BootNotification",
    ]);
    const REPLIES: Listen = Listen::Only(&["GetBaseReport"]);

    fn on_open(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
        // After a reconnect the station reports its current statuses, not its history.
        st.status2.forget_statuses();
    }

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        st.status2.forget_statuses();
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if !call.valid {
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
            ("BootNotification", Side::Charger) => st.status2.forget_statuses(),
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, _ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        if reply.action != "GetBaseReport" || reply.caller != Side::Csms {
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
}

/// A NotifyEvent entry reporting `Connector.AvailabilityState` (the 2.x alternative to
/// StatusNotification): (evse, connector, status).
pub(crate) fn availability_event(e: Json<'_>) -> Option<(i64, i64, &'static str)> {
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

fn notify_report(s: &mut State, p: Json<'_>) {
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
    if p.get("tbc").and_then(Json::as_bool) != Some(true)
        && let Some((_, inv)) = s.building.take()
    {
        s.inventory_requests.retain(|r| *r != request);
        if !inv.evses.is_empty() {
            s.inventory = Some(inv);
        }
    }
}

fn status_notification(st: &mut ProtoState, ctx: &mut Ctx<'_>, p: Json<'_>) {
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
    let boots = st.station.boots;
    let ts = str_of(p, "timestamp").and_then(|t| Timestamp::parse_rfc3339(t).ok());
    let credible = ts.is_some_and(|ts| credible_stamp(ctx, ts));
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
mod tests;
