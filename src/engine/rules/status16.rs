//! `status16.*`: OCPP 1.6 connector status, from StatusNotification.
//!
//! The last status of every connector (connectorId > 0) is judged against the transition
//! table of OCPP 1.6 §4.9 (catalogue §7.1); connectorId 0 (the whole charge point) has its
//! own reduced set of statuses and is never part of a transition check. A previous status
//! the engine did not see (first report, or the first report after a reconnect or a reboot,
//! when the charger reports its current status rather than its history) never makes a
//! transition.
//!
//! ```text
//! StatusNotification ─► connectorId range, connector 0 statuses, errorCode vs status
//!                    ─► previous status known? ─► table of §4.9 (unlisted → warning)
//!                    ─► timestamp not older than the previous report of the connector
//!                    ─► Charging / Suspended* without a transaction ─► wait followup_window
//!                                                                    for a StartTransaction
//! ```

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use super::dm::{self, CallRef, int_of, push_capped, str_of};
use super::rpc::rule;
use super::{Rule, V16};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, ProtoState, Reply};
use crate::finding::Severity;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[
    &UNLISTED_TRANSITION,
    &CONNECTOR0_STATUS,
    &CONNECTOR_ID_RANGE,
    &EVCOMMUNICATIONERROR_STATUS,
    &FAULTED_WITHOUT_ERROR,
    &OUT_OF_ORDER,
    &ENERGY_STATUS_WITHOUT_TRANSACTION,
];

rule!(
    UNLISTED_TRANSITION,
    "status16.unlisted-transition",
    Warning,
    None,
    V16,
    Charger,
    "Connector status changed along an edge the 1.6 state table does not list",
    "OCPP 1.6 §4.9; errata 3.19, 3.20",
    "What it checks: two consecutive StatusNotifications for the same connector (connectorId \
> 0) whose pair of statuses is not a transition of the table in OCPP 1.6 §4.9, e.g. \
Charging → Preparing, Finishing → Charging, Reserved → Charging, Available → Finishing, \
Preparing → Reserved. A repeat of the same status is never a transition. The previous status \
must have been seen on the current connection since the last boot: the first report after a \
connect or a BootNotification is the current status, not a transition.\n\n\
Why it matters: the table describes how a connector moves through a session; a jump \
outside it usually means a lost or reordered report, or a state machine that does not follow \
the protocol. A warning, not an error: errata 3.19 lets a charger skip states shorter than \
`MinimumStatusDuration`, so an unlisted pair may hide a legal short-lived state.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\"}, then \
{connectorId:1, status:\"Preparing\"}"
);

rule!(
    CONNECTOR0_STATUS,
    "status16.connector0-status",
    Error,
    None,
    V16,
    Charger,
    "StatusNotification for connectorId 0 with a status other than Available, Unavailable or Faulted",
    "OCPP 1.6 §4.9",
    "What it checks: a StatusNotification with connectorId 0 (the charge point as a whole) \
and a status other than Available, Unavailable or Faulted.\n\n\
Why it matters: connector 0 has no session of its own; Preparing, Charging, Suspended*, \
Finishing and Reserved only exist for a physical connector.\n\n\
Example:\n  StatusNotification {connectorId:0, errorCode:\"NoError\", status:\"Charging\"}"
);

rule!(
    CONNECTOR_ID_RANGE,
    "status16.connector-id-range",
    Error,
    None,
    V16,
    Charger,
    "StatusNotification connectorId negative or above NumberOfConnectors",
    "OCPP 1.6 §3.8, §6.47; §9.1 NumberOfConnectors",
    "What it checks: a StatusNotification whose connectorId is below 0, or greater than the \
`NumberOfConnectors` the charger reported (GetConfiguration, or an accepted \
ChangeConfiguration). When the key was never seen only negative ids are reported.\n\n\
Why it matters: connectors are numbered 1..NumberOfConnectors without gaps, 0 being the \
charge point; a status for any other id cannot be attributed to a connector.\n\n\
Example:\n  GetConfiguration -> {NumberOfConnectors: \"2\"}, then StatusNotification \
{connectorId:3, ...}"
);

rule!(
    EVCOMMUNICATIONERROR_STATUS,
    "status16.evcommunicationerror-status",
    Error,
    None,
    V16,
    Charger,
    "errorCode EVCommunicationError with a status other than Preparing, SuspendedEV(SE) or Finishing",
    "OCPP 1.6 §4.9, §7.6",
    "What it checks: a StatusNotification with errorCode `EVCommunicationError` and a status \
other than Preparing, SuspendedEV, SuspendedEVSE or Finishing.\n\n\
Why it matters: OCPP 1.6 §4.9 limits this error to those statuses: it describes a vehicle \
that is connected but cannot be talked to, which is not a state of an Available, Charging or \
Faulted connector.\n\n\
Example:\n  StatusNotification {connectorId:1, errorCode:\"EVCommunicationError\", \
status:\"Available\"}"
);

rule!(
    FAULTED_WITHOUT_ERROR,
    "status16.faulted-without-error",
    Info,
    None,
    V16,
    Charger,
    "Status Faulted reported with errorCode NoError",
    "OCPP 1.6 §4.9, §7.6 (ChargePointErrorCode)",
    "What it checks: a StatusNotification with status Faulted and errorCode `NoError`.\n\n\
Why it matters: a fault without an error code gives the operator nothing to act on; the \
error code (or `OtherError` with `vendorErrorCode`) says what failed. Reported as info \
because the specification does not forbid the combination in so many words.\n\n\
Example:\n  StatusNotification {connectorId:1, errorCode:\"NoError\", status:\"Faulted\"}"
);

rule!(
    OUT_OF_ORDER,
    "status16.out-of-order",
    Error,
    None,
    V16,
    Charger,
    "StatusNotification timestamps of one connector go backwards in send order",
    "OCPP 1.6 §4.9 (reporting after an offline period)",
    "What it checks: a StatusNotification whose `timestamp` is earlier than the `timestamp` of \
the previous StatusNotification for the same connector (connector 0 included). Reports \
without a timestamp are not compared. When a BootNotification came between the two reports \
the finding is a warning: the charger's clock may have been set at that boot.\n\n\
Why it matters: status changes must be sent in the order they happened, also when they \
were queued during an offline period; a CSMS that applies them in arrival order ends with a \
wrong connector status.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\", \
timestamp:\"10:05:00Z\"}, then {connectorId:1, status:\"Preparing\", timestamp:\"10:04:00Z\"}"
);

rule!(
    ENERGY_STATUS_WITHOUT_TRANSACTION,
    "status16.energy-status-without-transaction",
    Info,
    None,
    V16,
    Charger,
    "Charging or Suspended status reported and no transaction runs on the connector",
    "OCPP 1.6 §4.8, §4.9; OCTT TC_003, TC_004",
    "What it checks: a StatusNotification Charging, SuspendedEV or SuspendedEVSE for a \
connector on which no transaction runs (no StartTransaction since the last \
StopTransaction), and no StartTransaction for that connector follows within \
`followup_window` (default 60 s); the StartTransaction may come before or after the status, \
and MeterValues naming a transaction on the connector also show that one runs. \
Only judged once the station's BootNotification was seen, so a transaction started before \
the trace is not mistaken for a missing one. Reported at the status line.\n\n\
Why it matters: energy flows only within a transaction; a Charging connector without one \
means energy the CSMS cannot bill, or a StartTransaction that was lost.\n\n\
Example:\n  StatusNotification {connectorId:1, status:\"Charging\"}, and no StartTransaction \
for connector 1"
);

/// At most this many connectors are followed (connector ids are small in practice).
const MAX_CONNECTORS: usize = 64;
const MAX_WATCHES: usize = 16;

/// A 1.6 connector status (ChargePointStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
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

#[cfg(test)]
const ALL_STATUSES: [Status; 9] = [
    Status::Available,
    Status::Preparing,
    Status::Charging,
    Status::SuspendedEv,
    Status::SuspendedEvse,
    Status::Finishing,
    Status::Reserved,
    Status::Unavailable,
    Status::Faulted,
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

impl Status {
    fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "Available" => Status::Available,
            "Preparing" => Status::Preparing,
            "Charging" => Status::Charging,
            "SuspendedEV" => Status::SuspendedEv,
            "SuspendedEVSE" => Status::SuspendedEvse,
            "Finishing" => Status::Finishing,
            "Reserved" => Status::Reserved,
            "Unavailable" => Status::Unavailable,
            "Faulted" => Status::Faulted,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Status::Available => "Available",
            Status::Preparing => "Preparing",
            Status::Charging => "Charging",
            Status::SuspendedEv => "SuspendedEV",
            Status::SuspendedEvse => "SuspendedEVSE",
            Status::Finishing => "Finishing",
            Status::Reserved => "Reserved",
            Status::Unavailable => "Unavailable",
            Status::Faulted => "Faulted",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Whether `self → to` is a listed transition (or no transition at all).
    fn may_become(self, to: Status) -> bool {
        TABLE[self.index()][to.index()] != b'-'
    }

    /// A status in which energy may flow (a transaction is expected).
    fn is_energy(self) -> bool {
        matches!(
            self,
            Status::Charging | Status::SuspendedEv | Status::SuspendedEvse
        )
    }
}

/// What is known of one connector.
#[derive(Debug)]
struct Connector {
    id: i64,
    /// The last status reported on this connection since the last boot (`None`: not seen,
    /// so the next report is not a transition).
    status: Option<Status>,
    /// The `timestamp` of the last report that had one, and the boot count at that time.
    stamp: Option<(Timestamp, u32)>,
}

/// A Charging/Suspended status waiting for its StartTransaction.
#[derive(Debug)]
struct EnergyWatch {
    connector: i64,
    status: Status,
    call: CallRef,
    due: Timestamp,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    connectors: Vec<Connector>,
    watches: Vec<EnergyWatch>,
    /// BootNotifications seen (a clock set at boot makes timestamps incomparable).
    boots: u32,
}

impl State {
    fn connector(&mut self, id: i64) -> &mut Connector {
        let pos = match self.connectors.iter().position(|c| c.id == id) {
            Some(pos) => pos,
            None => {
                push_capped(
                    &mut self.connectors,
                    Connector {
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

    /// Forgets the previous statuses: the next report of each connector is its current
    /// status, not a transition.
    fn forget_statuses(&mut self) {
        for c in &mut self.connectors {
            c.status = None;
        }
    }
}

fn is_v16(st: &ProtoState) -> bool {
    st.version == Some(Version::V16)
}

pub(crate) fn on_open(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {
    if !is_v16(st) {
        return;
    }
    // After an offline period the charger reports its current status, not its history.
    st.status16.forget_statuses();
}

pub(crate) fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
    if !is_v16(st) {
        return;
    }
    st.status16.forget_statuses();
}

pub(crate) fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
    if !is_v16(st) || st.status16.watches.is_empty() {
        return;
    }
    let secs = ctx.config().tol.followup_window_us as f64 / 1e6;
    let watches = &mut st.status16.watches;
    let mut i = 0;
    while i < watches.len() {
        if now > watches[i].due {
            let w = watches.remove(i);
            ctx.report_about(
                &ENERGY_STATUS_WITHOUT_TRANSACTION,
                w.call.about(),
                format!(
                    "connector {} reported {} while no transaction ran on it, and no StartTransaction for it followed within {secs:.0} s",
                    w.connector,
                    w.status.name()
                ),
            );
        } else {
            i += 1;
        }
    }
}

pub(crate) fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    if !is_v16(st) || call.from != Side::Charger {
        return;
    }
    match call.action {
        "StatusNotification" => status_notification(st, ctx, call),
        "StartTransaction" => {
            if let Some(c) = int_of(call.payload, "connectorId") {
                st.status16.watches.retain(|w| w.connector != c);
            }
        }
        "MeterValues" => {
            // Values of a transaction on the connector: one runs there, seen or not.
            let p = call.payload;
            if let (Some(c), Some(_)) = (int_of(p, "connectorId"), int_of(p, "transactionId")) {
                st.status16.watches.retain(|w| w.connector != c);
            }
        }
        "BootNotification" => {
            let s = &mut st.status16;
            s.boots = s.boots.wrapping_add(1);
            s.forget_statuses();
        }
        _ => {}
    }
}

pub(crate) fn on_reply(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _reply: &Reply<'_>) {}

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
    if let Some(n) = st.tx16.number_of_connectors()
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
    let credible = stamp.is_some_and(|ts| dm::credible_stamp(ctx, ts));
    let boots = st.status16.boots;
    let conn = st.status16.connector(id);
    if let (Some(ts), Some((prev, prev_boots))) = (stamp, conn.stamp)
        && ts < prev
    {
        let message = format!(
            "StatusNotification for connector {id} is timestamped {ts}, before the previous report of that connector ({prev}); status changes must be sent in the order they happened"
        );
        if prev_boots == boots {
            ctx.report(&OUT_OF_ORDER, message);
        } else {
            ctx.report_as(
                    &OUT_OF_ORDER,
                    Severity::Warning,
                    format!("{message} (a BootNotification came between the two; the clock may have been set then)"),
                );
        }
    }
    if let Some(ts) = stamp
        && credible
    {
        conn.stamp = Some((ts, boots));
    }
    let prev = conn.status.replace(status);
    if id > 0
        && let Some(prev) = prev
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
        && st.tx16.history_known()
        && !st.tx16.open_on_connector(id)
        && !st.status16.watches.iter().any(|w| w.connector == id)
    {
        let due = Timestamp::from_micros(
            ctx.now()
                .micros()
                .saturating_add(ctx.config().tol.followup_window_us),
        );
        push_capped(
            &mut st.status16.watches,
            EnergyWatch {
                connector: id,
                status,
                call: CallRef::of_call(ctx, call),
                due,
            },
            MAX_WATCHES,
        );
    }
    // A watch survives the connector leaving Charging: energy flowed without a transaction
    // all the same.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rules::dm::tests::{run, trace};

    #[test]
    fn table_matches_the_catalogue() {
        use Status::*;
        let listed = [
            (Available, Finishing, false),
            (Available, Reserved, true),
            (Preparing, Finishing, true),
            (Preparing, Reserved, false),
            (Preparing, Unavailable, false),
            (Charging, Preparing, false),
            (Charging, Unavailable, true),
            (Finishing, Preparing, true),
            (Finishing, Charging, false),
            (Reserved, Preparing, true),
            (Reserved, Charging, false),
            (Unavailable, Charging, true),
            (Unavailable, Finishing, false),
            (Faulted, Reserved, true),
            (Charging, Charging, true),
        ];
        for (from, to, ok) in listed {
            assert_eq!(from.may_become(to), ok, "{from:?} -> {to:?}");
        }
        for s in ALL_STATUSES {
            assert!(s.may_become(s));
            assert_eq!(Status::parse(s.name()), Some(s));
            assert!(Status::Faulted.may_become(s));
            assert!(s.may_become(Status::Faulted));
        }
    }

    const BOOT: (&str, &str) = (
        "charger",
        r#"[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
    );
    const BOOT_OK: (&str, &str) = (
        "csms",
        r#"[3,"b1",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#,
    );

    fn status(id: &str, conn: i64, status: &str, ts: Option<&str>) -> String {
        let ts = ts.map_or(String::new(), |t| format!(r#","timestamp":"{t}""#));
        format!(
            r#"[2,"{id}","StatusNotification",{{"connectorId":{conn},"errorCode":"NoError","status":"{status}"{ts}}}]"#
        )
    }

    fn ids(found: &[(&'static str, Severity, u64)]) -> Vec<&'static str> {
        found.iter().map(|f| f.0).collect()
    }

    #[test]
    fn first_report_and_report_after_reboot_are_not_transitions() {
        let s1 = status("s1", 1, "Charging", None);
        let s2 = status("s2", 1, "Preparing", None);
        let s3 = status("s3", 1, "Charging", None);
        let t = trace(
            "ocpp1.6",
            &[
                ("charger", &s1),
                ("csms", r#"[3,"s1",{}]"#),
                BOOT,
                BOOT_OK,
                ("charger", &s2),
                ("csms", r#"[3,"s2",{}]"#),
                ("charger", &s3),
                ("csms", r#"[3,"s3",{}]"#),
            ],
        );
        let found = run(&t);
        assert!(
            !ids(&found).contains(&"status16.unlisted-transition"),
            "{found:?}"
        );
        // Preparing -> Charging is listed (B3); now Charging -> Preparing is not.
        let s4 = status("s4", 1, "Preparing", None);
        let t = trace(
            "ocpp1.6",
            &[
                BOOT,
                BOOT_OK,
                ("charger", &s3),
                ("csms", r#"[3,"s3",{}]"#),
                ("charger", &s4),
                ("csms", r#"[3,"s4",{}]"#),
            ],
        );
        let found = run(&t);
        assert_eq!(
            found
                .iter()
                .filter(|f| f.0 == "status16.unlisted-transition")
                .count(),
            1,
            "{found:?}"
        );
    }

    #[test]
    fn out_of_order_across_a_boot_is_a_warning() {
        // Both stamps credible (behind the frames' own times), the second earlier.
        let s1 = status("s1", 1, "Available", Some("2026-11-22T10:00:00.900Z"));
        let s2 = status("s2", 1, "Available", Some("2026-11-22T10:00:00.500Z"));
        let t = trace(
            "ocpp1.6",
            &[
                ("charger", &s1),
                ("csms", r#"[3,"s1",{}]"#),
                BOOT,
                BOOT_OK,
                ("charger", &s2),
                ("csms", r#"[3,"s2",{}]"#),
            ],
        );
        let found = run(&t);
        let f: Vec<_> = found
            .iter()
            .filter(|f| f.0 == "status16.out-of-order")
            .collect();
        assert_eq!(f.len(), 1, "{found:?}");
        assert_eq!(f[0].1, Severity::Warning);
    }

    #[test]
    fn connector_zero_is_not_judged_by_the_table() {
        let s1 = status("s1", 0, "Unavailable", None);
        let s2 = status("s2", 0, "Available", None);
        let s3 = status("s3", 0, "Faulted", None);
        let t = trace(
            "ocpp1.6",
            &[
                BOOT,
                BOOT_OK,
                ("charger", &s1),
                ("csms", r#"[3,"s1",{}]"#),
                ("charger", &s2),
                ("csms", r#"[3,"s2",{}]"#),
                ("charger", &s3),
                ("csms", r#"[3,"s3",{}]"#),
            ],
        );
        let found = run(&t);
        assert!(
            ids(&found)
                .iter()
                .all(|i| !i.starts_with("status16.") || *i == "status16.faulted-without-error"),
            "{found:?}"
        );
    }
}
