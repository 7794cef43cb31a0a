//! `ocpp-inspector certs`: the files it writes are what the security profiles need. Proven
//! by reading them back (subjects, SANs, key usages, key file modes) and by a mutual-TLS
//! handshake between rustls peers configured from them, in memory (no sockets).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failure here is a test failure"
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::run;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use x509_parser::prelude::*;

fn certs_in(dir: &Path, args: &[&str]) -> common::Run {
    let out = dir.to_str().expect("utf-8 temp path");
    let mut all = vec!["certs", "--out", out];
    all.extend_from_slice(args);
    run(&all)
}

fn der(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).expect("a PEM certificate")
}

fn key(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).expect("a PEM private key")
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Runs a TLS handshake between a server and a client config, in memory.
fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    name: &str,
) -> Result<Option<Vec<CertificateDer<'static>>>, rustls::Error> {
    let mut s = rustls::ServerConnection::new(server)?;
    let mut c = rustls::ClientConnection::new(
        client,
        ServerName::try_from(name.to_owned()).expect("server name"),
    )?;
    for _ in 0..20 {
        if !c.is_handshaking() && !s.is_handshaking() {
            break;
        }
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).expect("write to a Vec");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            s.read_tls(&mut rd).expect("read from a slice");
        }
        s.process_new_packets()?;
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).expect("write to a Vec");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            c.read_tls(&mut rd).expect("read from a slice");
        }
        c.process_new_packets()?;
    }
    assert!(
        !s.is_handshaking() && !c.is_handshaking(),
        "handshake ended"
    );
    Ok(s.peer_certificates()
        .map(<[CertificateDer<'static>]>::to_vec))
}

fn roots(ca: &Path) -> Arc<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der(ca)).expect("the CA is a usable trust anchor");
    Arc::new(roots)
}

fn mtls_server(dir: &Path) -> Arc<rustls::ServerConfig> {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots(&dir.join("ca.pem")),
        provider(),
    )
    .build()
    .expect("client verifier");
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![der(&dir.join("server.pem"))],
                key(&dir.join("server.key")),
            )
            .expect("the server certificate and key match"),
    )
}

fn charger_client(dir: &Path, id: &str, ca: &Path) -> Arc<rustls::ClientConfig> {
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots(ca))
            .with_client_auth_cert(
                vec![der(&dir.join(format!("{id}.pem")))],
                key(&dir.join(format!("{id}.key"))),
            )
            .expect("the charger certificate and key match"),
    )
}

#[test]
fn writes_a_ca_a_server_and_charger_certificates_that_do_mutual_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = certs_in(
        dir.path(),
        &[
            "--server-name",
            "localhost",
            "--server-name",
            "127.0.0.1",
            "--charger",
            "CP-001",
            "--charger",
            "CP-002",
            "--organization",
            "Lab CPO",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in [
        "ca.pem",
        "ca.key",
        "server.pem",
        "server.key",
        "CP-001.pem",
        "CP-001.key",
        "CP-002.pem",
    ] {
        assert!(r.stdout.contains(f), "{f} is listed: {}", r.stdout);
    }
    assert!(!r.stdout.contains("PRIVATE KEY"), "no key is printed");

    // The server certificate: the SANs asked for, an IP as an IP SAN, server auth only.
    let server_der = der(&dir.path().join("server.pem"));
    let (_, server) = X509Certificate::from_der(&server_der).expect("x509");
    let san = server
        .subject_alternative_name()
        .expect("parse")
        .expect("has SANs");
    let names: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|g| match g {
            GeneralName::DNSName(d) => format!("dns:{d}"),
            GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(names, ["dns:localhost", "ip:[127, 0, 0, 1]"]);
    let eku = server.extended_key_usage().expect("parse").expect("eku");
    assert!(eku.value.server_auth && !eku.value.client_auth);
    assert!(!server.is_ca());

    // A charger certificate: the identity as CN, the CPO as O, client auth, signed by the CA.
    let cp_der = der(&dir.path().join("CP-001.pem"));
    let (_, cp) = X509Certificate::from_der(&cp_der).expect("x509");
    let cn: Vec<&str> = cp
        .subject()
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .collect();
    assert_eq!(cn, ["CP-001"]);
    let o: Vec<&str> = cp
        .subject()
        .iter_organization()
        .filter_map(|a| a.as_str().ok())
        .collect();
    assert_eq!(o, ["Lab CPO"]);
    let ca_der = der(&dir.path().join("ca.pem"));
    let (_, ca) = X509Certificate::from_der(&ca_der).expect("x509");
    assert!(ca.is_ca());
    assert_eq!(cp.issuer(), ca.subject());
    assert!(cp.validity().is_valid(), "valid now");

    // Mutual TLS works with these files, and the server sees the charger's certificate.
    let client = charger_client(dir.path(), "CP-001", &dir.path().join("ca.pem"));
    let peer = handshake(mtls_server(dir.path()), client, "localhost")
        .expect("mutual TLS handshake")
        .expect("the charger presented a certificate");
    assert_eq!(peer[0], cp_der);
    // ... also by IP address.
    let client = charger_client(dir.path(), "CP-002", &dir.path().join("ca.pem"));
    assert!(handshake(mtls_server(dir.path()), client, "127.0.0.1").is_ok());
    // ... but not for a name the certificate does not carry.
    let client = charger_client(dir.path(), "CP-002", &dir.path().join("ca.pem"));
    assert!(handshake(mtls_server(dir.path()), client, "csms.example.com").is_err());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for k in ["ca.key", "server.key", "CP-001.key"] {
            let mode = std::fs::metadata(dir.path().join(k))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{k} is private");
        }
    }
}

#[test]
fn a_second_run_reuses_the_ca_so_earlier_certificates_stay_trusted() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert_eq!(certs_in(dir.path(), &["--charger", "CP-1"]).code, 0);
    let ca_before = std::fs::read(dir.path().join("ca.pem")).expect("ca.pem");
    let r = certs_in(dir.path(), &["--charger", "CP-2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("existing CA"), "{}", r.stdout);
    assert_eq!(
        std::fs::read(dir.path().join("ca.pem")).expect("ca.pem"),
        ca_before
    );
    // CP-1 (first run) and CP-2 (second run) both pass against the server certificate.
    for id in ["CP-1", "CP-2"] {
        let client = charger_client(dir.path(), id, &dir.path().join("ca.pem"));
        assert!(
            handshake(mtls_server(dir.path()), client, "localhost").is_ok(),
            "{id}"
        );
    }
}

#[test]
fn adding_a_charger_keeps_the_server_certificate_and_earlier_chargers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = certs_in(
        dir.path(),
        &["--server-name", "csms.lab", "--charger", "CP-1"],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let read = |f: &str| std::fs::read(dir.path().join(f)).expect("file");
    let (server_pem, server_key, cp1) = (read("server.pem"), read("server.key"), read("CP-1.pem"));

    let r = certs_in(dir.path(), &["--charger", "CP-2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read("server.pem"), server_pem, "server.pem unchanged");
    assert_eq!(read("server.key"), server_key, "server.key unchanged");
    assert_eq!(read("CP-1.pem"), cp1, "the earlier charger is untouched");
    assert!(
        r.stdout.contains("kept the existing server certificate")
            && r.stdout.contains("valid for csms.lab"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("TLS server certificate for"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("charger certificates in") && r.stdout.contains("CP-1, CP-2"),
        "{}",
        r.stdout
    );

    // Other server names without --reissue-server: refused, nothing replaced.
    let r = certs_in(dir.path(), &["--server-name", "other.lab"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("server.pem") && r.stderr.contains("--reissue-server"),
        "{}",
        r.stderr
    );
    assert_eq!(read("server.pem"), server_pem);

    // Asked to re-issue: said so, new bytes, the old names when none are given.
    let r = certs_in(dir.path(), &["--reissue-server"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("re-issued the server certificate"),
        "{}",
        r.stdout
    );
    assert_ne!(read("server.pem"), server_pem);
    let new = der(&dir.path().join("server.pem"));
    let (_, cert) = X509Certificate::from_der(&new).expect("x509");
    let san = cert
        .subject_alternative_name()
        .expect("parse")
        .expect("SAN");
    assert_eq!(
        san.value.general_names,
        vec![GeneralName::DNSName("csms.lab")]
    );
    assert_eq!(read("CP-1.pem"), cp1);
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let ours = tempfile::tempdir().expect("temp dir");
    let theirs = tempfile::tempdir().expect("temp dir");
    assert_eq!(certs_in(ours.path(), &[]).code, 0);
    assert_eq!(certs_in(theirs.path(), &["--charger", "CP-X"]).code, 0);
    let client = charger_client(theirs.path(), "CP-X", &ours.path().join("ca.pem"));
    assert!(handshake(mtls_server(ours.path()), client, "localhost").is_err());
}

#[test]
fn bad_values_and_unwritable_folders_are_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let r = certs_in(dir.path(), &["--charger", "../evil"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid charger identity `../evil`"),
        "{}",
        r.stderr
    );
    let r = certs_in(dir.path(), &["--server-name", "bad name"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid server name `bad name`"),
        "{}",
        r.stderr
    );

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let r = run(&["certs", "--out", file.to_str().expect("utf-8")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a-file"), "names the path: {}", r.stderr);

    let broken = tempfile::tempdir().expect("temp dir");
    std::fs::write(broken.path().join("ca.pem"), "not pem").expect("write");
    std::fs::write(broken.path().join("ca.key"), "not pem").expect("write");
    let r = certs_in(broken.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ca.key"), "names the file: {}", r.stderr);
}
