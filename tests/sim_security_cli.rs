//! `sim charger` / `sim csms` security flags from the command line: a bad CA, certificate or
//! key file is named with what is wrong; a refused password says authentication was refused;
//! a password shows in no message, whatever the mistake. 127.0.0.1 only, bounded waits.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Run, run, run_with_limit};
use ocpp_inspector::certs::{CertsRequest, generate};
use ocpp_inspector::sim::auth::{BasicAuth, Credentials};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use tokio::sync::watch;

const SECRET: &str = "never-print-me-0451";

fn certs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut req = CertsRequest::new(dir.path());
    req.chargers = vec!["CP-001".into()];
    generate(&req).expect("test certificates");
    dir
}

fn p(dir: &tempfile::TempDir, f: &str) -> String {
    dir.path().join(f).to_str().expect("utf-8").to_owned()
}

fn refused(r: &Run, needles: &[&str]) {
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "no `{n}` in: {}", r.stderr);
    }
    assert!(
        !r.stderr.contains(SECRET) && !r.stdout.contains(SECRET),
        "the password leaked: {}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn bad_tls_files_are_named_with_what_is_wrong() {
    let dir = certs();
    let url = "wss://127.0.0.1:9/ocpp";
    let ca = p(&dir, "ca.pem");
    // A key where the CA should be.
    let r = run(&["sim", "charger", "--url", url, "--ca", &p(&dir, "ca.key")]);
    refused(&r, &["--ca", "ca.key", "holds no PEM certificate"]);
    // A missing certificate file.
    let r = run(&[
        "sim",
        "charger",
        "--url",
        url,
        "--ca",
        &ca,
        "--cert",
        "/nonexistent/cp.pem",
        "--key",
        &p(&dir, "CP-001.key"),
    ]);
    refused(&r, &["--cert", "/nonexistent/cp.pem", "cannot read"]);
    // A key that does not belong to the certificate.
    let r = run(&[
        "sim",
        "charger",
        "--url",
        url,
        "--ca",
        &ca,
        "--cert",
        &p(&dir, "CP-001.pem"),
        "--key",
        &p(&dir, "server.key"),
    ]);
    refused(&r, &["--key", "server.key", "does not fit"]);
    // TLS files with a ws:// URL.
    let r = run(&[
        "sim",
        "charger",
        "--url",
        "ws://127.0.0.1:9/ocpp",
        "--ca",
        &ca,
    ]);
    refused(&r, &["wss:// URL only"]);
    // The CSMS side: a bad server key.
    let r = run(&[
        "sim",
        "csms",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &p(&dir, "server.pem"),
        "--tls-key",
        &ca,
    ]);
    refused(&r, &["ca.pem", "private key"]);
}

#[test]
fn a_password_shows_in_no_error() {
    let dir = certs();
    let with_url = format!("ws://CP-001:{SECRET}@127.0.0.1:9/ocpp");
    for args in [
        vec![
            "sim",
            "charger",
            "--url",
            "ws://127.0.0.1:9/ocpp",
            "--basic-auth",
            SECRET,
        ],
        vec![
            "sim",
            "charger",
            "--url",
            "ws://127.0.0.1:9/ocpp",
            "--basic-auth",
            "CP-001:",
        ],
        vec!["sim", "charger", "--url", &with_url],
        vec![
            "sim",
            "csms",
            "--listen",
            "127.0.0.1:0",
            "--basic-auth",
            SECRET,
        ],
    ] {
        let r = run(&args);
        refused(&r, &[]);
        assert!(
            r.stderr.contains("--basic-auth") || r.stderr.contains("credentials"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let file = dir.path().join("creds.txt");
    std::fs::write(&file, format!("# users\nCP-001:ok-password\n{SECRET}\n")).expect("write");
    let r = run(&[
        "sim",
        "csms",
        "--listen",
        "127.0.0.1:0",
        "--basic-auth-file",
        file.to_str().expect("utf-8"),
    ]);
    refused(&r, &["creds.txt line 3", "USER:PASS"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_password_says_authentication_was_refused() {
    let mut cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let mut creds = Credentials::default();
    creds.add(BasicAuth::parse("CP-001:the-right-one-77", "t").expect("pair"));
    cfg.basic_auth = Some(creds);
    let csms = Csms::bind(cfg).await.expect("bind");
    let addr = csms.local_addr().expect("address");
    let (down_tx, down) = watch::channel(false);
    let task = tokio::spawn(csms.run(down));
    let url = format!("ws://{addr}/ocpp");
    let r = tokio::task::spawn_blocking(move || {
        run_with_limit(
            &[
                "sim",
                "charger",
                "--url",
                &url,
                "--prefix",
                "CP-",
                "--basic-auth",
                &format!("CP-001:{SECRET}"),
                "--sessions",
                "1",
            ],
            Duration::from_secs(60),
        )
    })
    .await
    .expect("the charger ran");
    down_tx.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("the CSMS stops")
        .expect("task");
    refused(
        &r,
        &["refused authentication (HTTP 401 Unauthorized)", "`CP-001`"],
    );
}
