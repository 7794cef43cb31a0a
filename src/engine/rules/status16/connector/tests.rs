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
