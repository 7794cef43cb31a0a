//! Unit tests of `fw/firmware.rs`: traces fed through the whole checker, asserting which rules fire
//! on which lines.

use super::*;

#[test]
fn firmware_graph_accepts_the_documented_paths() {
    let path = [
        "DownloadScheduled",
        "Downloading",
        "DownloadPaused",
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "InstallScheduled",
        "InstallRebooting",
        "Installing",
        "Installed",
    ];
    for w in path.windows(2) {
        assert!(firmware_edge(w[0], w[1]), "{} -> {}", w[0], w[1]);
    }
    assert!(firmware_edge("Downloading", "Downloading"));
    assert!(!firmware_edge("Downloading", "Installed"));
    assert!(!firmware_edge("Installed", "Installed"));
    assert!(!firmware_edge("DownloadFailed", "Downloading"));
}

#[test]
fn a_replaced_update_may_still_report_its_failure() {
    use crate::engine::rules::testing::{run, trace};
    let upd = |id: &str, rid: u32| {
        format!(
            r#"[2,"{id}","UpdateFirmware",{{"requestId":{rid},"firmware":{{"location":"https://x/fw.bin","retrieveDateTime":"2026-11-22T10:00:00Z"}}}}]"#
        )
    };
    let fsn = |id: &str, status: &str, rid: u32| {
        format!(
            r#"[2,"{id}","FirmwareStatusNotification",{{"status":"{status}","requestId":{rid}}}]"#
        )
    };
    let ok = |id: &str| format!(r#"[3,"{id}",{{}}]"#);
    let (u1, u2) = (upd("u1", 1), upd("u2", 2));
    let (f1, f2, f3) = (
        fsn("f1", "Downloading", 1),
        fsn("f2", "DownloadFailed", 1),
        fsn("f3", "Downloading", 2),
    );
    let (a1, a2, a3) = (ok("f1"), ok("f2"), ok("f3"));
    let frames = [
        ("csms", u1.as_str()),
        ("charger", r#"[3,"u1",{"status":"Accepted"}]"#),
        ("charger", f1.as_str()),
        ("csms", a1.as_str()),
        ("csms", u2.as_str()),
        ("charger", r#"[3,"u2",{"status":"AcceptedCanceled"}]"#),
        ("charger", f2.as_str()),
        ("csms", a2.as_str()),
        ("charger", f3.as_str()),
        ("csms", a3.as_str()),
    ];
    let found = run(&trace("ocpp2.0.1", &frames));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn upload_graph() {
    assert!(upload_edge("Uploading", "Uploaded"));
    assert!(upload_edge("Uploading", "UploadFailure"));
    assert!(!upload_edge("Uploaded", "Uploading"));
    assert!(upload_edge("AcceptedCanceled", "Uploading"));
}
