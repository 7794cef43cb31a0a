//! Unit tests of `status16/connector.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;
use crate::engine::rules::testing::{run, trace};
use crate::ocpp::charge_point_status::ALL_STATUSES;

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

/// A StatusNotification `(id, connector, status, timestamp)` as [`status`] writes it.
type Report<'a> = (&'a str, i64, &'a str, Option<&'a str>);

/// A 1.6 trace of StatusNotifications, each answered: `before` the boot, then the boot, then
/// `after`.
fn around_boot(before: &[Report<'_>], after: &[Report<'_>]) -> String {
    let answered = |reports: &[Report<'_>]| -> Vec<(String, String)> {
        reports
            .iter()
            .map(|&(id, conn, st, ts)| (status(id, conn, st, ts), format!(r#"[3,"{id}",{{}}]"#)))
            .collect()
    };
    let (before, after) = (answered(before), answered(after));
    let mut frames = Vec::new();
    for (call, answer) in &before {
        frames.extend([("charger", call.as_str()), ("csms", answer.as_str())]);
    }
    frames.extend([BOOT, BOOT_OK]);
    for (call, answer) in &after {
        frames.extend([("charger", call.as_str()), ("csms", answer.as_str())]);
    }
    trace("ocpp1.6", &frames)
}

fn ids(found: &[(&'static str, Severity, u64)]) -> Vec<&'static str> {
    found.iter().map(|f| f.0).collect()
}

#[test]
fn first_report_and_report_after_reboot_are_not_transitions() {
    let charging = ("s3", 1, "Charging", None);
    let t = around_boot(
        &[("s1", 1, "Charging", None)],
        &[("s2", 1, "Preparing", None), charging],
    );
    let found = run(&t);
    assert!(
        !ids(&found).contains(&"status16.unlisted-transition"),
        "{found:?}"
    );
    // Preparing -> Charging is listed (B3); now Charging -> Preparing is not.
    let t = around_boot(&[], &[charging, ("s4", 1, "Preparing", None)]);
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
    let t = around_boot(
        &[("s1", 1, "Available", Some("2026-11-22T10:00:00.900Z"))],
        &[("s2", 1, "Available", Some("2026-11-22T10:00:00.500Z"))],
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
    let t = around_boot(
        &[],
        &[
            ("s1", 0, "Unavailable", None),
            ("s2", 0, "Available", None),
            ("s3", 0, "Faulted", None),
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
