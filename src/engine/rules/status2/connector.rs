//! `status2.*`: OCPP 2.0.1 / 2.1 connector status, from StatusNotification (evseId,
//! connectorId, connectorStatus) and from NotifyEvent `Connector.AvailabilityState`.
//!
//! The statuses of the (EVSE, connector)s are the station model's
//! ([`Connectors`](crate::engine::station::Connectors), which `tx2` and `remote` read too):
//! the first report of a connector on a connection, or after a boot, is its current status
//! and never makes a transition. What this family keeps is its own: the last credible
//! `timestamp` of each connector (judged with `clock_skew`) and the station's FullInventory
//! report. This file must not judge transactions, nor keep connector statuses.
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
use crate::engine::protocol::{Call, Reply};
use crate::engine::rules::V2X;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::ConnectorStatus;
use crate::engine::support::{
    arr_of, credible_stamp, find_or_push_capped, int_of, push_capped, str_of,
};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------
// State.

/// At most this many connector timestamps are kept (as many as the model's connectors).
const MAX_STAMPS: usize = crate::engine::station::MAX_CONNECTORS;
const MAX_INVENTORY: usize = 256;
const MAX_REQUESTS: usize = 8;

/// The `timestamp` of the last StatusNotification of a connector that had a credible one not
/// older than the one before of the same boot, and the boot count then.
#[derive(Debug)]
struct Stamp {
    evse: i64,
    connector: i64,
    ts: Timestamp,
    boots: u32,
}

/// The EVSEs and connectors of a FullInventory report.
#[derive(Debug, Default)]
struct Inventory {
    evses: Vec<i64>,
    connectors: Vec<(i64, i64)>,
}

/// What this group remembers per station (the statuses are the model's).
#[derive(Debug, Default)]
pub(crate) struct State {
    stamps: Vec<Stamp>,
    /// requestIds of accepted GetBaseReport FullInventory requests.
    inventory_requests: Vec<i64>,
    /// The inventory being reported (requestId, parts so far).
    building: Option<(i64, Inventory)>,
    /// The last complete inventory.
    inventory: Option<Inventory>,
}

// ---------------------------------------------------------------------------------------
// Hooks.

/// The hooks of this family (see [`Family`]).
pub(crate) struct Status2;

impl Family for Status2 {
    const VERSIONS: &'static [Version] = V2X;
    const CALLS: Listen = Listen::Only(&["StatusNotification", "NotifyReport"]);
    const REPLIES: Listen = Listen::Only(&["GetBaseReport"]);

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if !call.valid {
            return;
        }
        match (call.action, call.from) {
            ("StatusNotification", Side::Charger) => status_notification(st, ctx, call.payload),
            ("NotifyReport", Side::Charger) => notify_report(&mut st.status2, call.payload),
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
        str_of(p, "connectorStatus")
            .and_then(ConnectorStatus::parse2)
            .map(ConnectorStatus::name),
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
    let is = |x: &Stamp| x.evse == evse && x.connector == id;
    let prev = s.stamps.iter().find(|x| is(x)).map(|x| (x.ts, x.boots));
    if let (Some(ts), Some((prev, b))) = (ts, prev)
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
        && prev.is_none_or(|(prev, b)| b != boots || ts >= prev)
    {
        let new = || Stamp {
            evse,
            connector: id,
            ts,
            boots,
        };
        let kept = find_or_push_capped(&mut s.stamps, is, new, MAX_STAMPS);
        (kept.ts, kept.boots) = (ts, boots);
    }
    // The connector's status before this report, as the station model kept it.
    if let Some(prev) = st
        .station
        .connectors
        .before(Some(evse), id)
        .map(ConnectorStatus::name)
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
