//! Unit tests of `sc/charging_profile.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;
use crate::wire::doc::Doc;

#[test]
fn validity_windows_overlap_when_open_ended() {
    let t = Timestamp::from_secs;
    assert!(overlaps((None, None), (Some(t(5)), None)));
    assert!(overlaps(
        (Some(t(0)), Some(t(10))),
        (Some(t(5)), Some(t(20)))
    ));
    assert!(!overlaps((Some(t(0)), Some(t(10))), (Some(t(10)), None)));
    assert!(!overlaps((None, Some(t(3))), (Some(t(4)), None)));
}

#[test]
fn schedules_of_both_versions() {
    let p16 = Doc::from_value(&serde_json::json!({"chargingSchedule": {"chargingRateUnit": "A"}}));
    let p2 = Doc::from_value(&serde_json::json!({"chargingSchedule": [{"id": 1}, {"id": 2}]}));
    assert_eq!(schedules(p16.root()).count(), 1);
    assert_eq!(schedules(p2.root()).count(), 2);
    assert_eq!(schedules(Json::null()).count(), 0);
}
