//! The security profiles end to end with the built-in peers, as `certs/README.md` walks
//! through them: `sim charger` -> proxy -> `sim csms`, with certificates from `certs`.
//! Profile 1 (Basic over ws://), profile 2 (wss:// and Basic), profile 3 (wss:// with a
//! client certificate); a wrong password is refused with 401 and shown nowhere (failure
//! message, CSMS notice, proxy recording); a charger without a client certificate is refused.
//! Also the simulators without the proxy (the sim CSMS serving wss:// itself). 127.0.0.1 only.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use common::Buf;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ocpp_inspector::certs::{CertsRequest, generate};
use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, Engine, SchemaSet};
use ocpp_inspector::finding::Severity;
use ocpp_inspector::pipeline::Inspector;
use ocpp_inspector::sim::auth::{BasicAuth, Credentials};
use ocpp_inspector::sim::charger::{FleetConfig, FleetReport, run_fleet};
use ocpp_inspector::sim::csms::{Csms, CsmsConfig};
use ocpp_inspector::source::proxy::tap::TapLimits;
use ocpp_inspector::source::proxy::tls::ListenTls;
use ocpp_inspector::source::proxy::{Proxy, ProxyConfig};
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

const PASSWORD: &str = "correct-horse-battery-1";
const WRONG: &str = "wrong-staple-password-9";

fn certs(dir: &Path) {
    let mut req = CertsRequest::new(dir);
    req.chargers = vec!["CP-001".into()];
    generate(&req).expect("test certificates");
}

fn creds(pair: &str) -> Credentials {
    let mut c = Credentials::default();
    c.add(BasicAuth::parse(pair, "test").expect("valid pair"));
    c
}

/// What one run through the proxy left behind.
struct Run {
    report: FleetReport,
    /// The proxy's recording (JSON Lines).
    recording: String,
    /// The sim CSMS's refusal notices.
    notices: Vec<String>,
    boots: u32,
}

/// Runs a one-station fleet against `sim csms` behind the proxy.
async fn through_proxy(
    proxy_tls: Option<ListenTls>,
    csms_auth: Option<Credentials>,
    fleet: impl FnOnce(String) -> FleetConfig,
) -> Run {
    let schemas =
        Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("the built-in schemas"));
    let mut csms_cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    csms_cfg.basic_auth = csms_auth;
    let (notice_tx, mut notice_rx) = mpsc::channel(64);
    csms_cfg.notices = Some(notice_tx);
    let csms = Csms::bind(csms_cfg).await.expect("bind the CSMS");
    let csms_addr = csms.local_addr().expect("address");
    let handle = csms.handle();
    let secure = proxy_tls.is_some();
    let mut pc = ProxyConfig::new("127.0.0.1:0", &format!("ws://{csms_addr}/ocpp"));
    pc.listen_tls = proxy_tls;
    let proxy = Proxy::bind(pc).await.expect("bind the proxy");
    let proxy_addr = proxy.local_addr();
    let recording = Buf::default();
    let inspector = Inspector::new(
        Engine::new(schemas, Arc::new(Config::default()), None),
        Severity::Error,
    )
    .record_to(recording.clone());
    let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());
    let (down_tx, down) = watch::channel(false);
    let csms_task = tokio::spawn(csms.run(down.clone()));
    let proxy_task = tokio::spawn(proxy.run(tap, down.clone()));

    let scheme = if secure { "wss" } else { "ws" };
    let cfg = fleet(format!("{scheme}://{proxy_addr}/ocpp"));
    let (_keep, stop) = watch::channel(false);
    let report = timeout(Duration::from_secs(40), run_fleet(cfg, stop))
        .await
        .expect("the fleet ends in time")
        .expect("a valid fleet");

    down_tx.send(true).expect("stop");
    timeout(Duration::from_secs(20), proxy_task)
        .await
        .expect("the proxy stops")
        .expect("proxy task");
    timeout(Duration::from_secs(20), csms_task)
        .await
        .expect("the CSMS stops")
        .expect("CSMS task");
    timeout(Duration::from_secs(20), consumer.finish())
        .await
        .expect("the inspector finishes")
        .expect("inspector");
    let mut notices = Vec::new();
    while let Ok(n) = notice_rx.try_recv() {
        notices.push(n);
    }
    let boots = handle.stations().iter().map(|s| s.boots).sum();
    Run {
        report,
        recording: recording.text(),
        notices,
        boots,
    }
}

/// The first `open` event of the recording, parsed.
fn open_event(recording: &str) -> serde_json::Value {
    recording
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("event").and_then(|e| e.as_str()) == Some("open"))
        .unwrap_or_else(|| panic!("no open event in:\n{recording}"))
}

fn assert_no_secret(what: &str, text: &str, password: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("CP-001:{password}"));
    assert!(
        !text.contains(password),
        "{what} shows the password:\n{text}"
    );
    assert!(
        !text.contains(&b64),
        "{what} shows the credentials:\n{text}"
    );
}

fn served(run: &Run) {
    assert!(run.report.failures.is_empty(), "{:?}", run.report.failures);
    assert_eq!(run.report.sessions, 1, "{:?}", run.report);
    assert!(run.boots >= 1, "the CSMS saw the boot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_1_basic_auth_over_ws_through_the_proxy() {
    let run = through_proxy(None, Some(creds(&format!("CP-001:{PASSWORD}"))), |url| {
        let mut f = FleetConfig::new(url);
        f.basic_auth = Some(BasicAuth::parse(&format!("CP-001:{PASSWORD}"), "t").expect("pair"));
        f
    })
    .await;
    served(&run);
    let open = open_event(&run.recording);
    assert_eq!(open["scheme"], "ws", "{open}");
    assert_eq!(open["basic_auth_user"], "CP-001", "{open}");
    assert_no_secret("the recording", &run.recording, PASSWORD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_2_tls_and_basic_auth_through_the_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path());
    let tls = ListenTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: None,
    };
    // One password for the fleet: the user is each station's identity.
    let run = through_proxy(Some(tls), Some(creds(&format!(":{PASSWORD}"))), |url| {
        let mut f = FleetConfig::new(url);
        f.ca = Some(dir.path().join("ca.pem"));
        f.basic_auth = Some(BasicAuth::parse(&format!(":{PASSWORD}"), "t").expect("pair"));
        f
    })
    .await;
    served(&run);
    let open = open_event(&run.recording);
    assert_eq!(open["scheme"], "wss", "{open}");
    assert_eq!(open["basic_auth_user"], "CP-001", "{open}");
    assert!(open.get("client_cert_subject").is_none(), "{open}");
    assert_no_secret("the recording", &run.recording, PASSWORD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_3_client_certificate_through_the_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path());
    let tls = ListenTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: Some(dir.path().join("ca.pem")),
    };
    let run = through_proxy(Some(tls), None, |url| {
        let mut f = FleetConfig::new(url);
        f.ca = Some(dir.path().join("ca.pem"));
        f.cert = Some(dir.path().join("CP-001.pem"));
        f.key = Some(dir.path().join("CP-001.key"));
        f
    })
    .await;
    served(&run);
    let open = open_event(&run.recording);
    assert_eq!(open["scheme"], "wss", "{open}");
    let subject = open["client_cert_subject"].as_str().unwrap_or_default();
    assert!(subject.contains("CN=CP-001"), "{open}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_with_401_and_shown_nowhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path());
    let tls = ListenTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: None,
    };
    let run = through_proxy(
        Some(tls),
        Some(creds(&format!("CP-001:{PASSWORD}"))),
        |url| {
            let mut f = FleetConfig::new(url);
            f.ca = Some(dir.path().join("ca.pem"));
            f.basic_auth = Some(BasicAuth::parse(&format!("CP-001:{WRONG}"), "t").expect("pair"));
            f
        },
    )
    .await;
    assert_eq!(run.report.sessions, 0);
    assert_eq!(run.boots, 0, "no frame reached the CSMS");
    let failure = run.report.failures.join("\n");
    assert!(
        failure.contains("refused authentication (HTTP 401"),
        "{failure}"
    );
    assert!(failure.contains("`CP-001`"), "names the user: {failure}");
    let notices = run.notices.join("\n");
    assert!(
        notices.contains("HTTP 401: wrong password for user `CP-001`"),
        "{notices}"
    );
    for (what, text) in [
        ("the failure", &failure),
        ("the CSMS notice", &notices),
        ("the recording", &run.recording),
    ] {
        assert_no_secret(what, text, WRONG);
        assert_no_secret(what, text, PASSWORD);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_without_a_client_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path());
    let tls = ListenTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: Some(dir.path().join("ca.pem")),
    };
    let run = through_proxy(Some(tls), None, |url| {
        let mut f = FleetConfig::new(url);
        f.ca = Some(dir.path().join("ca.pem"));
        f
    })
    .await;
    assert_eq!((run.report.sessions, run.boots), (0, 0));
    let failure = run.report.failures.join("\n");
    assert!(
        failure.contains("TLS") && failure.contains("client certificate"),
        "{failure}"
    );
}

/// The simulators alone: `sim csms` serving wss:// with a required client certificate and
/// Basic authentication, recording what the handshake established.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_csms_serves_every_profile_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    certs(dir.path());
    let trace = Buf::default();
    let mut cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.tls = Some(ListenTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: Some(dir.path().join("ca.pem")),
    });
    cfg.basic_auth = Some(creds(&format!("CP-001:{PASSWORD}")));
    cfg.record = Some(ocpp_inspector::sim::tap(Box::new(trace.clone())));
    let csms = Csms::bind(cfg).await.expect("bind");
    let addr = csms.local_addr().expect("address");
    let (down_tx, down) = watch::channel(false);
    let task = tokio::spawn(csms.run(down));

    let mut f = FleetConfig::new(format!("wss://{addr}/ocpp"));
    f.ca = Some(dir.path().join("ca.pem"));
    f.cert = Some(dir.path().join("CP-001.pem"));
    f.key = Some(dir.path().join("CP-001.key"));
    f.basic_auth = Some(BasicAuth::parse(&format!("CP-001:{PASSWORD}"), "t").expect("pair"));
    let (_keep, stop) = watch::channel(false);
    let report = timeout(Duration::from_secs(40), run_fleet(f, stop))
        .await
        .expect("in time")
        .expect("valid");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.sessions, 1);

    down_tx.send(true).expect("stop");
    timeout(Duration::from_secs(20), task)
        .await
        .expect("the CSMS stops")
        .expect("task");
    let text = trace.text();
    let open = open_event(&text);
    assert_eq!(open["scheme"], "wss", "{open}");
    assert_eq!(open["basic_auth_user"], "CP-001", "{open}");
    assert!(
        open["client_cert_subject"]
            .as_str()
            .unwrap_or_default()
            .contains("CN=CP-001"),
        "{open}"
    );
    assert_no_secret("the CSMS's trace", &text, PASSWORD);
}

/// A TLS failure says what TLS refused: a certificate from another CA, a certificate for
/// another host name. Both stop the station at once (no retries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_failure_names_its_reason() {
    let ours = tempfile::tempdir().expect("temp dir");
    certs(ours.path());
    let other = tempfile::tempdir().expect("temp dir");
    certs(other.path());
    let named = tempfile::tempdir().expect("temp dir");
    let mut req = CertsRequest::new(named.path());
    req.server_names = vec!["csms.lab".into()];
    generate(&req).expect("certificates");

    for (server_dir, ca_dir, expect) in [
        (ours.path(), other.path(), "is not signed by the CA in --ca"),
        (
            named.path(),
            named.path(),
            "is not valid for the host name `127.0.0.1`",
        ),
    ] {
        let mut cfg = CsmsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.tls = Some(ListenTls {
            cert: server_dir.join("server.pem"),
            key: server_dir.join("server.key"),
            client_ca: None,
        });
        let csms = Csms::bind(cfg).await.expect("bind");
        let addr = csms.local_addr().expect("address");
        let (down_tx, down) = watch::channel(false);
        let task = tokio::spawn(csms.run(down));
        let mut f = FleetConfig::new(format!("wss://{addr}/ocpp"));
        f.ca = Some(ca_dir.join("ca.pem"));
        f.pace.backoff = Duration::from_secs(5);
        let (_keep, stop) = watch::channel(false);
        let report = timeout(Duration::from_secs(20), run_fleet(f, stop))
            .await
            .expect("gives up at once, without the backoff's retries")
            .expect("valid");
        let failure = report.failures.join("\n");
        assert!(failure.contains("TLS handshake failed"), "{failure}");
        assert!(failure.contains(expect), "{expect}: {failure}");
        down_tx.send(true).expect("stop");
        timeout(Duration::from_secs(20), task)
            .await
            .expect("stops")
            .expect("task");
    }
}
