//! `auth.client-cert-identity-mismatch`: on a security-profile-3 connection the charger's TLS
//! client certificate must name the station that connects. The proxy records the verified
//! certificate's subject on the `open` event; this compares its common name with the
//! connection's identity. It reads only the `open` event and keeps no state.

use super::{ALL, Party, Rule};
use crate::engine::{Ctx, Handshake};
use crate::finding::Severity;

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
identity nor its percent-decoded form, or that has no CN at all.\n\n\
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

/// `%XX` decoded once; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Judges the client certificate of an `open` event against the connection's identity.
pub(crate) fn check_open(security: &Handshake<'_>, ctx: &mut Ctx<'_>) {
    let Some(subject) = security.client_cert_subject else {
        return;
    };
    let conn = ctx.conn().to_owned();
    let decoded = percent_decode(&conn);
    match common_name(subject) {
        Some(cn) if cn == conn || decoded.as_deref() == Some(cn) => {}
        Some(cn) => ctx.report(
            &CLIENT_CERT_IDENTITY_MISMATCH,
            format!(
                "the client certificate is issued to `{cn}`, but the station that connects is `{}`",
                decoded.as_deref().unwrap_or(&conn)
            ),
        ),
        None => ctx.report(
            &CLIENT_CERT_IDENTITY_MISMATCH,
            format!(
                "the client certificate's subject `{subject}` has no common name to compare with the station identity `{}`",
                decoded.as_deref().unwrap_or(&conn)
            ),
        ),
    }
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
}
