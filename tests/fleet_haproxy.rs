//! `deploy/haproxy/run-example.sh`, briefly: three proxies behind HAProxy (PROXY protocol v2,
//! readiness checks on the admin ports, consistent hashing on the path), a simulated CSMS and
//! simulated chargers of the three versions. The script's own checks (stickiness across
//! reconnects, every station back after a rolling restart, every frame recorded) must pass.
//! Skipped with a message when `haproxy` or `python3` is missing, except under CI (`CI` set),
//! where that is a failure (`.ci/run` installs haproxy).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::process::Command;
use std::time::Duration;

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg(if tool == "haproxy" { "-v" } else { "--version" })
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn three_proxies_behind_haproxy_keep_stations_sticky_and_survive_a_rolling_restart() {
    for tool in ["haproxy", "python3"] {
        if !installed(tool) {
            assert!(
                std::env::var_os("CI").is_none(),
                "{tool} is missing under CI (.ci/run installs it)"
            );
            eprintln!("skipped: {tool} is not installed (apt-get install {tool})");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    // A port range of its own per run (parallel test binaries, earlier runs in TIME_WAIT).
    let base = 20_000 + (std::process::id() % 400) * 100;
    let mut child = Command::new("bash")
        .arg(common::root().join("deploy/haproxy/run-example.sh"))
        .env("OCPP_INSPECTOR", env!("CARGO_BIN_EXE_ocpp-inspector"))
        .env("CHARGERS", "30")
        .env("PHASE_SECONDS", "3")
        .env("DRAIN_SECONDS", "2")
        .env("BASE_PORT", base.to_string())
        .env("OUT", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("run-example.sh did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "run-example.sh failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ALL CHECKS PASSED"), "{stdout}");
    assert!(stdout.contains("stations seen: 30 of 30"), "{stdout}");
    assert!(stdout.contains(", 0 of them changed proxy"), "{stdout}");
    let merged = std::fs::read_to_string(dir.path().join("merged-report.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(doc["summary"]["files"], 1, "the recordings judged as one");
}
