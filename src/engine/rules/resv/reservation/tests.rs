//! Unit tests of `resv/reservation.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use crate::engine::rules::testing::{run, trace};
use crate::finding::Severity;

const BOOT16: &str =
    r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
const BOOT16_OK: &str =
    r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#;

#[test]
fn a_reservation_used_by_its_transaction_cannot_be_cancelled() {
    let frames = [
        ("charger", BOOT16),
        ("csms", BOOT16_OK),
        (
            "csms",
            r#"[2,"r","ReserveNow",{"connectorId":1,"expiryDate":"2026-11-22T11:00:00Z","idTag":"T","reservationId":5}]"#,
        ),
        ("charger", r#"[3,"r",{"status":"Accepted"}]"#),
        (
            "charger",
            r#"[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Reserved"}]"#,
        ),
        ("csms", r#"[3,"s",{}]"#),
        (
            "charger",
            r#"[2,"t","StartTransaction",{"connectorId":1,"idTag":"T","meterStart":0,"reservationId":5,"timestamp":"2026-11-22T10:00:07Z"}]"#,
        ),
        (
            "csms",
            r#"[3,"t",{"idTagInfo":{"status":"Accepted"},"transactionId":9}]"#,
        ),
        ("csms", r#"[2,"c","CancelReservation",{"reservationId":5}]"#),
        ("charger", r#"[3,"c",{"status":"Accepted"}]"#),
    ];
    let found = run(&trace("ocpp1.6", &frames));
    assert_eq!(
        found,
        vec![("resv.cancel-unknown-accepted", Severity::Error, 11)]
    );
}
