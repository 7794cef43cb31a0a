//! `auth.client-cert-identity-mismatch`: on a security-profile-3 connection the charger's TLS
//! client certificate must name the station that connects. The proxy records the verified
//! certificate's subject (and its DNS/URI subject alternative names) on the `open` event;
//! this compares the common name, a SAN or either (`--cert-identity`) with the connection's
//! identity. It reads only the `open` event and keeps no state.

use crate::engine::config::CertIdentity;
use crate::engine::rules::{ALL, Party, Rule};
use crate::engine::{Ctx, Handshake};
use crate::finding::Severity;
use crate::ocpp::identity::{self, percent_decode};

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[&CLIENT_CERT_IDENTITY_MISMATCH];

pub static CLIENT_CERT_IDENTITY_MISMATCH: Rule = Rule {
    id: "auth.client-cert-identity-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "The TLS client certificate names another station than the one that connects",
    spec: "Security white paper A00.FR.412, A00.FR.413; 2.0.1 Part 2 A00.FR.412, A00.FR.413",
    doc: "What it checks: an `open` event with a `client_cert_subject` (security profile 3, \
recorded by a TLS-terminating proxy) whose common name (CN) is neither the connection's \
identity nor its percent-decoded form, or that has no CN at all. With `--cert-identity san` \
a DNS or URI subject alternative name (`client_cert_san`) must name it instead, with \
`either` the CN or a SAN.\n\n\
Why it matters: with profile 3 the certificate is the station's credential; the CSMS must \
check that the identity in the URL is the one the certificate was issued to, or any valid \
certificate of the fleet opens every station.\n\n\
Example:\n  {\"event\":\"open\",\"conn\":\"CP-1\",\"scheme\":\"wss\",\"client_cert_subject\":\"CN=CP-2, O=Example\",...}",
};

/// The value of the first `CN=` attribute of a subject written as `CN=…, O=…`.
fn common_name(subject: &str) -> Option<&str> {
    subject
        .split([',', '+'])
        .map(str::trim)
        .find_map(|rdn| rdn.strip_prefix("CN=").or_else(|| rdn.strip_prefix("cn=")))
}

/// Judges the client certificate of an `open` event against the connection's identity: its
/// common name, a subject alternative name, or either, as [`CertIdentity`] says.
pub(crate) fn check_open(security: &Handshake<'_>, ctx: &mut Ctx<'_>) {
    let Some(subject) = security.client_cert_subject else {
        return;
    };
    let conn = ctx.conn().to_owned();
    let shown = percent_decode(&conn).unwrap_or_else(|| conn.clone());
    let names = |n: &str| identity::names(&conn, n);
    let cn = common_name(subject);
    let sans = security.client_cert_san.unwrap_or("");
    let cn_ok = cn.is_some_and(names);
    let san_ok = sans.split(", ").any(|s| !s.is_empty() && names(s));
    let mode = ctx.config.cert_identity;
    let ok = match mode {
        CertIdentity::Cn => cn_ok,
        CertIdentity::San => san_ok,
        CertIdentity::Either => cn_ok || san_ok,
    };
    if ok {
        return;
    }
    let message = match (mode, cn) {
        (CertIdentity::Cn, Some(cn)) => format!(
            "the client certificate is issued to `{cn}`, but the station that connects is `{shown}`"
        ),
        (CertIdentity::Cn, None) => format!(
            "the client certificate's subject `{subject}` has no common name to compare with the station identity `{shown}`"
        ),
        (CertIdentity::San, _) if sans.is_empty() => format!(
            "the client certificate has no DNS or URI subject alternative name to compare with the station identity `{shown}`"
        ),
        (CertIdentity::San, _) => format!(
            "no subject alternative name of the client certificate ({sans}) is the station that connects, `{shown}`"
        ),
        (CertIdentity::Either, cn) => format!(
            "neither the client certificate's common name ({}) nor a subject alternative name ({}) is the station that connects, `{shown}`",
            cn.unwrap_or("none"),
            if sans.is_empty() { "none" } else { sans }
        ),
    };
    ctx.report(&CLIENT_CERT_IDENTITY_MISMATCH, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_name_is_read_from_the_subject() {
        assert_eq!(common_name("CN=CP-1, O=Example"), Some("CP-1"));
        assert_eq!(common_name("O=Example, CN=CP-2"), Some("CP-2"));
        assert_eq!(common_name("O=Example"), None);
    }

    fn mismatches(mode: CertIdentity, subject: &str, san: Option<&str>) -> usize {
        use std::sync::Arc;
        let san = san.map_or(String::new(), |s| format!(",\"client_cert_san\":\"{s}\""));
        let trace = format!(
            "{{\"ts\":\"2026-11-22T10:00:00Z\",\"conn\":\"CP-1\",\"event\":\"open\",\"subprotocol\":\"ocpp2.0.1\",\"scheme\":\"wss\",\"client_cert_subject\":\"{subject}\"{san}}}\n"
        );
        let mut config = crate::engine::Config::default();
        config.cert_identity = mode;
        let opts = crate::checker::CheckOptions {
            schemas: Arc::new(
                crate::engine::SchemaSet::builtin(&crate::engine::schema::ErrataSelection::all())
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
            config: Arc::new(config),
            default_version: None,
            jobs: 1,
        };
        crate::checker::check_reader(trace.as_bytes(), &opts, 1)
            .findings
            .iter()
            .filter(|f| f.rule.id == CLIENT_CERT_IDENTITY_MISMATCH.id)
            .count()
    }

    #[test]
    fn the_mode_chooses_the_common_name_a_san_or_either() {
        use CertIdentity::{Cn, Either, San};
        let sans = Some("cp-1.example.com, CP-1");
        // The CN names another station, a SAN names this one.
        assert_eq!(mismatches(Cn, "CN=CP-2", sans), 1);
        assert_eq!(mismatches(San, "CN=CP-2", sans), 0);
        assert_eq!(mismatches(Either, "CN=CP-2", sans), 0);
        // The CN names it, no SAN does.
        assert_eq!(mismatches(Cn, "CN=CP-1", Some("other.example.com")), 0);
        assert_eq!(mismatches(San, "CN=CP-1", Some("other.example.com")), 1);
        assert_eq!(mismatches(San, "CN=CP-1", None), 1);
        assert_eq!(mismatches(Either, "CN=CP-1", None), 0);
        // Neither.
        assert_eq!(mismatches(Either, "CN=CP-2", Some("CP-3")), 1);
    }
}
