//! `status16.*`: OCPP 1.6 connector status, from StatusNotification.
//!
//! The last status of every connector (connectorId > 0) is judged against the transition
//! table of OCPP 1.6 §4.9 (catalogue §7.1); connectorId 0 (the whole charge point) has its
//! own reduced set of statuses and is never part of a transition check. The status before a
//! report is the station model's
//! ([`Connectors::before`](crate::engine::station::Connectors::before)): a previous status
//! the engine did not see (first report, or the first report after a reconnect or a reboot,
//! when the charger reports its current status rather than its history) never makes a
//! transition. What this family keeps is its own: the last credible `timestamp` of each
//! connector (judged with `clock_skew`) and its waits for a StartTransaction; it must not
//! keep connector statuses.
//!
//! ```text
//! StatusNotification ─► connectorId range, connector 0 statuses, errorCode vs status
//!                    ─► previous status known? ─► table of §4.9 (unlisted → warning)
//!                    ─► timestamp not older than the previous report of the connector
//!                    ─► Charging / Suspended* without a transaction ─► wait followup_window
//!                                                                    for a StartTransaction
//! ```

use super::{
    CONNECTOR_ID_RANGE, CONNECTOR0_STATUS, ENERGY_STATUS_WITHOUT_TRANSACTION,
    EVCOMMUNICATIONERROR_STATUS, FAULTED_WITHOUT_ERROR, OUT_OF_ORDER, UNLISTED_TRANSITION,
};
use crate::engine::Ctx;
use crate::engine::protocol::Call;
use crate::engine::rules::V16;
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{ConnectorStatus, Deadlines, Wake};
use crate::engine::support::{
    CallRef, credible_stamp, find_or_push_capped, int_of, report_not_followed,
    report_unless_excused, str_of,
};
use crate::finding::Severity;
use crate::ocpp::charge_point_status::ChargePointStatus as Status;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// At most this many connector timestamps are kept (as many as the model's connectors).
const MAX_STAMPS: usize = crate::engine::station::MAX_CONNECTORS;
const MAX_WATCHES: usize = 16;

/// The `timestamp` of the last report of a connector that had a credible one, and the boot
/// count at that time.
#[derive(Debug)]
struct Stamp {
    connector: i64,
    ts: Timestamp,
    boots: u32,
}

/// A Charging/Suspended status waiting for its StartTransaction.
#[derive(Debug)]
struct EnergyWatch {
    connector: i64,
    status: Status,
    call: CallRef,
}

/// What this group remembers per station (the statuses are the model's).
#[derive(Debug, Default)]
pub(crate) struct State {
    stamps: Vec<Stamp>,
    watches: Deadlines<EnergyWatch, MAX_WATCHES>,
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Status16;

impl Family for Status16 {
    const VERSIONS: &'static [Version] = V16;
    const CALLS: Listen = Listen::Only(&["StatusNotification", "StartTransaction", "MeterValues"]);
    const REPLIES: Listen = Listen::Only(&[]);

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        wake.at(st.status16.watches.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        if st.status16.watches.is_empty() {
            return;
        }
        for (_, w) in st.status16.watches.expired(now) {
            report_not_followed(
                ctx,
                &ENERGY_STATUS_WITHOUT_TRANSACTION,
                w.call.about(),
                &format!(
                    "connector {} reported {} while no transaction ran on it, and no StartTransaction for it",
                    w.connector,
                    w.status.name()
                ),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        if call.from != Side::Charger {
            return;
        }
        match call.action {
            "StatusNotification" => status_notification(st, ctx, call),
            "StartTransaction" => {
                if let Some(c) = int_of(call.payload, "connectorId") {
                    st.status16.watches.clear(|w| w.connector == c);
                }
            }
            "MeterValues" => {
                // Values of a transaction on the connector: one runs there, seen or not.
                let p = call.payload;
                if let (Some(c), Some(_)) = (int_of(p, "connectorId"), int_of(p, "transactionId")) {
                    st.status16.watches.clear(|w| w.connector == c);
                }
            }
            _ => {}
        }
    }
}

fn status_notification(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let (Some(id), Some(status)) = (
        int_of(p, "connectorId"),
        str_of(p, "status").and_then(Status::parse),
    ) else {
        return;
    };
    let error_code = str_of(p, "errorCode");

    if id < 0 {
        ctx.report(
            &CONNECTOR_ID_RANGE,
            format!("StatusNotification for connectorId {id}; connector ids are 0 (the charge point) or 1 and up"),
        );
        return;
    }
    if let Some(n) = st.station.config.key_int("NumberOfConnectors")
        && id > n
    {
        ctx.report(
                &CONNECTOR_ID_RANGE,
                format!("StatusNotification for connectorId {id}, but the charger reports NumberOfConnectors = {n}"),
            );
    }
    if id == 0
        && !matches!(
            status,
            Status::Available | Status::Unavailable | Status::Faulted
        )
    {
        ctx.report(
            &CONNECTOR0_STATUS,
            format!(
                "connectorId 0 (the charge point) reported {}; it may only be Available, Unavailable or Faulted",
                status.name()
            ),
        );
    }
    if error_code == Some("EVCommunicationError")
        && !matches!(
            status,
            Status::Preparing | Status::SuspendedEv | Status::SuspendedEvse | Status::Finishing
        )
    {
        ctx.report(
            &EVCOMMUNICATIONERROR_STATUS,
            format!(
                "errorCode EVCommunicationError with status {}; it may only accompany Preparing, SuspendedEV, SuspendedEVSE or Finishing",
                status.name()
            ),
        );
    }
    if status == Status::Faulted && error_code == Some("NoError") {
        ctx.report(
            &FAULTED_WITHOUT_ERROR,
            format!("connector {id} reported Faulted with errorCode NoError; the error code should say what failed"),
        );
    }

    let stamp = str_of(p, "timestamp").and_then(|t| Timestamp::parse_rfc3339(t).ok());
    let credible = stamp.is_some_and(|ts| credible_stamp(ctx, ts));
    // A clock set at boot makes timestamps of different boots incomparable.
    let boots = st.station.boots;
    let stamps = &mut st.status16.stamps;
    let prev = stamps
        .iter()
        .find(|s| s.connector == id)
        .map(|s| (s.ts, s.boots));
    if let (Some(ts), Some((prev, prev_boots))) = (stamp, prev)
        && ts < prev
    {
        let message = format!(
            "StatusNotification for connector {id} is timestamped {ts}, before the previous report of that connector ({prev}); status changes must be sent in the order they happened"
        );
        report_unless_excused(
            ctx,
            &OUT_OF_ORDER,
            prev_boots == boots,
            (
                Severity::Warning,
                "a BootNotification came between the two; the clock may have been set then",
            ),
            message,
        );
    }
    if let Some(ts) = stamp
        && credible
    {
        let new = || Stamp {
            connector: id,
            ts,
            boots,
        };
        let kept = find_or_push_capped(stamps, |s| s.connector == id, new, MAX_STAMPS);
        (kept.ts, kept.boots) = (ts, boots);
    }
    // The connector's status before this report, as the station model kept it.
    if id > 0
        && let Some(prev) = st
            .station
            .connectors
            .before(None, id)
            .and_then(ConnectorStatus::as16)
        && !prev.may_become(status)
    {
        ctx.report(
                    &UNLISTED_TRANSITION,
                    format!(
                        "connector {id} went from {} to {}, which is not a transition of the OCPP 1.6 connector state table (§4.9)",
                        prev.name(),
                        status.name()
                    ),
                );
    }

    if id > 0
        && status.is_energy()
        && st.station.booted()
        && !st.station.transactions.v16().open_on_connector(id)
        && !st.status16.watches.iter().any(|w| w.connector == id)
    {
        let due = ctx.now().after(ctx.config().tol.followup_window_us);
        st.status16.watches.arm(
            due,
            EnergyWatch {
                connector: id,
                status,
                call: CallRef::of_call(ctx, call),
            },
        );
    }
    // A watch survives the connector leaving Charging: energy flowed without a transaction
    // all the same.
}

#[cfg(test)]
mod tests;
