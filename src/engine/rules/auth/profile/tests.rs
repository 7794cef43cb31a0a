//! Unit tests of `auth/profile.rs`: the profile and TLS readings, and traces fed through
//! the whole checker, asserting which rules fire on which lines.

use super::*;
use crate::engine::rules::testing::run;

#[test]
fn tls_versions_parse() {
    assert_eq!(tls_version("1.1"), Some((1, 1)));
    assert_eq!(tls_version("TLSv1.3"), Some((1, 3)));
    assert_eq!(tls_version("TLS 1.2"), Some((1, 2)));
    assert_eq!(tls_version("SSLv3"), Some((0, 0)));
    assert!(tls_version("1.0").unwrap() < (1, 2));
    assert_eq!(tls_version("garbage"), None);
}

#[test]
fn the_basic_auth_user_may_name_the_identity_as_sent_or_decoded() {
    assert!(identity::names("CP-001", "CP-001"));
    assert!(identity::names("CP%20001", "CP 001"));
    assert!(!identity::names("CP%2", "CP"));
    assert_eq!(percent_decode("CP%20001").as_deref(), Some("CP 001"));
}

#[test]
fn unconfirmed_upgrade_to_profile_3_may_fall_back() {
    let open = "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp1.6\",\"scheme\":\"wss\",\"tls_version\":\"1.3\",\"basic_auth_user\":\"CS-1\"}\n";
    let frames = [
        (
            "charger",
            r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        ),
        (
            "csms",
            r#"[3,"b",{"status":"Accepted","currentTime":"2026-11-22T10:00:01Z","interval":300}]"#,
        ),
        (
            "csms",
            r#"[2,"p","ChangeConfiguration",{"key":"SecurityProfile","value":"3"}]"#,
        ),
        ("charger", r#"[3,"p",{"status":"Accepted"}]"#),
    ];
    let mut t = open.to_owned();
    for (i, (from, text)) in frames.iter().enumerate() {
        t.push_str(&crate::engine::rules::testing::frame(
            u32::try_from(i).unwrap() + 1,
            from,
            text,
        ));
    }
    t.push_str(&open.replace("10:00:00.000Z", "10:00:30.000Z"));
    let found: Vec<_> = run(&t).into_iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(
        found,
        vec![("auth.profile3-no-client-cert", Severity::Warning)]
    );
}

#[test]
fn security_facts_on_open_stay_silent_when_unknown() {
    let t = "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp2.0.1\"}\n";
    assert!(run(t).is_empty());
    let t = "{\"ts\":\"2026-11-22T10:00:00.000Z\",\"conn\":\"CS-1\",\"event\":\"open\",\"subprotocol\":\"ocpp2.0.1\",\"scheme\":\"wss\",\"tls_version\":\"1.0\",\"basic_auth_user\":\"CS-2\"}\n";
    let ids: Vec<_> = run(t).into_iter().map(|f| (f.0, f.1)).collect();
    assert_eq!(
        ids,
        vec![
            ("auth.tls-too-old", Severity::Error),
            ("auth.username-mismatch", Severity::Error)
        ]
    );
}
