//! Test certificates for the OCPP security profiles, made with rcgen: a CA, a server
//! certificate for the proxy (or a CSMS) and one client certificate per charger.
//!
//! ```text
//! ca.pem / ca.key          the test CA (reused when DIR already has one)
//!   ├─ server.pem/.key     TLS server: SANs from --server-name (an IP becomes an IP SAN);
//!   │                      kept when it exists, made anew only when asked (`reissue_server`)
//!   └─ <ID>.pem/.key       charger client: subject CN=<ID>, O=<organization>; other
//!                          chargers' files in DIR are left as they are
//! ```
//!
//! Keys are ECDSA P-256 (OCPP's security white paper and 2.0.1 A00 allow it), written with
//! mode 0600 on Unix. This module writes files and nothing else: it never prints or logs a
//! key, and it judges no traffic.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

use crate::time::Timestamp;

/// What to make.
#[derive(Debug, Clone)]
pub struct CertsRequest {
    /// The folder to write to (created if missing).
    pub out: PathBuf,
    /// Names the server certificate is valid for; an IP address becomes an IP SAN.
    /// Empty: `localhost` and `127.0.0.1`.
    pub server_names: Vec<String>,
    /// Charger identities, one client certificate each (the identity is the subject's CN).
    pub chargers: Vec<String>,
    /// The subject's organization of charger certificates (OCPP: the CPO's name).
    pub organization: String,
    /// Validity of new leaf certificates, in days (the CA gets ten times as long).
    pub days: u32,
    /// Make the server certificate anew even when `server.pem`/`server.key` exist.
    pub reissue_server: bool,
}

impl CertsRequest {
    pub fn new(out: impl Into<PathBuf>) -> Self {
        CertsRequest {
            out: out.into(),
            server_names: Vec::new(),
            chargers: Vec::new(),
            organization: "ocpp-inspector test CPO".into(),
            days: 730,
            reissue_server: false,
        }
    }
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    /// What it is for, in a few words.
    pub role: String,
}

/// What became of the server certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCert {
    /// There was none: made.
    Issued,
    /// One existed and was made anew, for this reason.
    Reissued(String),
    /// One existed and was kept; it is valid for these names.
    Kept(Vec<String>),
}

/// What `generate` did.
#[derive(Debug, Clone)]
pub struct CertsOutcome {
    /// True when an existing `ca.pem`/`ca.key` signed the new certificates.
    pub reused_ca: bool,
    pub server: ServerCert,
    pub written: Vec<Written>,
    /// Every charger with a certificate and key in the folder after this run (earlier runs'
    /// included), sorted.
    pub chargers: Vec<String>,
}

/// Why certificates could not be made; names the file or the value at fault.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    #[error("invalid {what} `{value}`: {message}")]
    BadValue {
        what: &'static str,
        value: String,
        message: String,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// Makes the CA (or reuses the one in `req.out`), the server certificate and one client
/// certificate per charger.
pub fn generate(req: &CertsRequest) -> Result<CertsOutcome, CertsError> {
    let server_names = if req.server_names.is_empty() {
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    } else {
        req.server_names.clone()
    };
    for name in &server_names {
        check_server_name(name)?;
    }
    let mut seen = std::collections::HashSet::new();
    for id in &req.chargers {
        check_identity(id)?;
        if !seen.insert(id.as_str()) {
            return Err(CertsError::BadValue {
                what: "charger identity",
                value: id.clone(),
                message: "given twice".into(),
            });
        }
    }
    if req.days == 0 {
        return Err(CertsError::BadValue {
            what: "validity",
            value: "0".into(),
            message: "must be at least one day".into(),
        });
    }
    fs::create_dir_all(&req.out).map_err(|source| CertsError::Io {
        path: req.out.clone(),
        source,
    })?;

    let mut written = Vec::new();
    let ca_pem_path = req.out.join("ca.pem");
    let ca_key_path = req.out.join("ca.key");
    let (issuer, reused_ca) = if ca_pem_path.exists() && ca_key_path.exists() {
        (load_ca(&ca_pem_path, &ca_key_path)?, true)
    } else {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "ocpp-inspector test CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, req.organization.as_str());
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, req.days.saturating_mul(10));
        let cert = params.self_signed(&key)?;
        write_file(&ca_pem_path, cert.pem().as_bytes(), false)?;
        write_file(&ca_key_path, key.serialize_pem().as_bytes(), true)?;
        written.push(Written {
            path: ca_pem_path,
            role: "test CA certificate: trust it on chargers (wss) and in --client-ca".into(),
        });
        written.push(Written {
            path: ca_key_path,
            role: "test CA private key: signs more certificates; keep it private".into(),
        });
        (Issuer::new(params, key), false)
    };

    // The server certificate: kept when it exists, unless asked or the CA is new.
    let (pem, keyf) = (req.out.join("server.pem"), req.out.join("server.key"));
    let server = if !(pem.exists() && keyf.exists()) {
        ServerCert::Issued
    } else if !reused_ca {
        ServerCert::Reissued("the CA is new, so the old one would not be trusted".into())
    } else if req.reissue_server {
        ServerCert::Reissued("asked with --reissue-server".into())
    } else {
        let names = server_names_of(&pem)?;
        let mut want: Vec<&str> = req.server_names.iter().map(String::as_str).collect();
        let mut have: Vec<&str> = names.iter().map(String::as_str).collect();
        want.sort_unstable();
        want.dedup();
        have.sort_unstable();
        if !want.is_empty() && want != have {
            return Err(CertsError::BadFile {
                path: pem,
                message: format!(
                    "exists and is valid for {}, not for the --server-name values given ({}); it is kept unless --reissue-server is added",
                    names.join(", "),
                    req.server_names.join(", ")
                ),
            });
        }
        ServerCert::Kept(names)
    };
    if !matches!(server, ServerCert::Kept(_)) {
        // Re-issued without --server-name: the names it had.
        let names = match server {
            ServerCert::Reissued(_) if req.server_names.is_empty() => {
                Some(server_names_of(&pem)?).filter(|n| !n.is_empty())
            }
            _ => None,
        };
        let names = names.unwrap_or(server_names);
        issue_server(req, &names, &issuer, &pem, &keyf, &mut written)?;
    }

    // One client certificate per charger.
    for id in &req.chargers {
        issue_charger(req, id, &issuer, &mut written)?;
    }
    let chargers = chargers_in(&req.out)?;
    Ok(CertsOutcome {
        reused_ca,
        server,
        written,
        chargers,
    })
}

/// The DNS names and IP addresses of a certificate's subject alternative names.
fn server_names_of(pem: &Path) -> Result<Vec<String>, CertsError> {
    let bad = |message: String| CertsError::BadFile {
        path: pem.to_owned(),
        message,
    };
    let text = fs::read(pem).map_err(|source| CertsError::Io {
        path: pem.to_owned(),
        source,
    })?;
    let (_, block) = x509_parser::pem::parse_x509_pem(&text)
        .map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
    let cert = block
        .parse_x509()
        .map_err(|e| bad(format!("not an X.509 certificate: {e}")))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push((*d).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        _ => None,
                    };
                    names.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    Ok(names)
}

/// The charger identities with both `<ID>.pem` and `<ID>.key` in `dir`.
fn chargers_in(dir: &Path) -> Result<Vec<String>, CertsError> {
    let entries = fs::read_dir(dir).map_err(|source| CertsError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(".pem")?.to_owned();
            (check_identity(&id).is_ok() && dir.join(format!("{id}.key")).exists()).then_some(id)
        })
        .collect();
    out.sort();
    Ok(out)
}

fn issue_server(
    req: &CertsRequest,
    server_names: &[String],
    issuer: &Issuer<'static, KeyPair>,
    pem: &Path,
    keyf: &Path,
    written: &mut Vec<Written>,
) -> Result<(), CertsError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(server_names.to_vec())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, server_names[0].as_str());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, req.days);
    let cert = params.signed_by(&key, issuer)?;
    write_file(pem, cert.pem().as_bytes(), false)?;
    write_file(keyf, key.serialize_pem().as_bytes(), true)?;
    written.push(Written {
        path: pem.to_owned(),
        role: format!(
            "TLS server certificate for {} (--tls-cert)",
            server_names.join(", ")
        ),
    });
    written.push(Written {
        path: keyf.to_owned(),
        role: "its private key (--tls-key)".into(),
    });
    Ok(())
}

fn issue_charger(
    req: &CertsRequest,
    id: &str,
    issuer: &Issuer<'static, KeyPair>,
    written: &mut Vec<Written>,
) -> Result<(), CertsError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, id);
    params
        .distinguished_name
        .push(DnType::OrganizationName, req.organization.as_str());
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyAgreement,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, req.days);
    let cert = params.signed_by(&key, issuer)?;
    let (pem, keyf) = (
        req.out.join(format!("{id}.pem")),
        req.out.join(format!("{id}.key")),
    );
    let again = if pem.exists() { " (made anew)" } else { "" };
    write_file(&pem, cert.pem().as_bytes(), false)?;
    write_file(&keyf, key.serialize_pem().as_bytes(), true)?;
    written.push(Written {
        path: pem,
        role: format!("client certificate of charger {id} (security profile 3){again}"),
    });
    written.push(Written {
        path: keyf,
        role: format!("private key of charger {id}"),
    });
    Ok(())
}

fn load_ca(pem_path: &Path, key_path: &Path) -> Result<Issuer<'static, KeyPair>, CertsError> {
    let read = |p: &Path| {
        fs::read_to_string(p).map_err(|source| CertsError::Io {
            path: p.to_owned(),
            source,
        })
    };
    let key = KeyPair::from_pem(&read(key_path)?).map_err(|e| CertsError::BadFile {
        path: key_path.to_owned(),
        message: format!("not a PEM private key: {e}"),
    })?;
    Issuer::from_ca_cert_pem(&read(pem_path)?, key).map_err(|e| CertsError::BadFile {
        path: pem_path.to_owned(),
        message: format!("not a usable CA certificate: {e}"),
    })
}

/// From yesterday (clocks differ) for `days` days.
fn set_validity(params: &mut CertificateParams, days: u32) {
    let ymd = |t: Timestamp| {
        // `2026-11-22T...`: the date part of the RFC 3339 form.
        let s = t.to_string();
        let y: i32 = s.get(0..4).and_then(|v| v.parse().ok()).unwrap_or(2026);
        let m: u8 = s.get(5..7).and_then(|v| v.parse().ok()).unwrap_or(1);
        let d: u8 = s.get(8..10).and_then(|v| v.parse().ok()).unwrap_or(1);
        date_time_ymd(y, m, d)
    };
    let now = Timestamp::now();
    let day = 86_400;
    params.not_before = ymd(Timestamp::from_secs(now.micros() / 1_000_000 - day));
    params.not_after = ymd(Timestamp::from_secs(
        now.micros() / 1_000_000 + i64::from(days) * day,
    ));
}

fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), CertsError> {
    let io = |source| CertsError::Io {
        path: path.to_owned(),
        source,
    };
    // A symbolic link at the path would make this write (a private key, mode 0600) land
    // wherever the link points: refuse it rather than follow it.
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "is a symbolic link; not followed (remove it or choose another --out folder)",
        )));
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    #[cfg(unix)]
    if private {
        // A key file that existed before keeps its old mode through `open`: tighten it.
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// A charger identity becomes a file name and a certificate subject: keep it to the
/// characters OCPP identities use in practice (letters, digits, `-`, `_`, `.`), at most 48
/// (OCPP 2.0.1's identity length), and never a name this command uses itself.
fn check_identity(id: &str) -> Result<(), CertsError> {
    let bad = |message: &str| {
        Err(CertsError::BadValue {
            what: "charger identity",
            value: id.to_owned(),
            message: message.to_owned(),
        })
    };
    if id.is_empty() || id.len() > 48 {
        return bad("must be 1 to 48 characters");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return bad("use letters, digits, `-`, `_` and `.` only");
    }
    if id.starts_with('.') {
        return bad("must not start with `.`");
    }
    if matches!(id, "ca" | "server") {
        return bad("`ca` and `server` name this command's own files");
    }
    Ok(())
}

fn check_server_name(name: &str) -> Result<(), CertsError> {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
        });
    if ok {
        Ok(())
    } else {
        Err(CertsError::BadValue {
            what: "server name",
            value: name.to_owned(),
            message: "not a DNS name or an IP address".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_that_cannot_be_file_names_are_refused() {
        for bad in [
            "",
            "../x",
            "a/b",
            "ca",
            "server",
            ".hidden",
            "CP 1",
            &"x".repeat(49),
        ] {
            assert!(check_identity(bad).is_err(), "{bad:?}");
        }
        for good in ["CP-001", "cp_1.a", "X"] {
            assert!(check_identity(good).is_ok(), "{good:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_a_key_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"keep me").unwrap();
        let link = dir.path().join("ca.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write_file(&link, b"SECRET", true).expect_err("a symlink is refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"keep me");
    }

    #[test]
    fn server_names_are_dns_names_or_ips() {
        for good in [
            "localhost",
            "csms.example.com",
            "127.0.0.1",
            "::1",
            "*.example.com",
        ] {
            assert!(check_server_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a..b", "with space", "under_score.com"] {
            assert!(check_server_name(bad).is_err(), "{bad}");
        }
    }
}
