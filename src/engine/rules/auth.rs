//! `auth.*`: authorization and credentials (security profiles, Basic auth, secrets).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in this folder: [`profile`] (the family
//! of the security profile and the credentials: what the handshake shows, profile changes,
//! the AuthorizationKey), [`secrets`] (the write-only password read back, called by
//! `dm/device_model` for each entry it walks) and [`client_cert`] (the client
//! certificate's identity, a check on the `open` event alone, with its own catalogue entry).

pub mod client_cert;
pub mod profile;
pub mod secrets;

use crate::engine::rules::{ALL, Party, Rule, V16};
use crate::finding::Severity;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &SECRET_READBACK,
    &DOWNGRADE_ACCEPTED,
    &AUTHORIZATION_KEY_FORMAT,
    &USERNAME_MISMATCH,
    &CSMS_ACCEPTED_BAD_CREDENTIALS,
    &BASIC_OVER_PLAIN_WS,
    &TLS_TOO_OLD,
    &PROFILE3_NO_CLIENT_CERT,
    &PROFILE_CHANGED,
];

pub static SECRET_READBACK: Rule = Rule {
    id: "auth.secret-readback",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Charger,
    summary: "Charger reveals its write-only Basic-auth secret (AuthorizationKey, BasicAuthPassword)",
    spec: "OCPP-J 1.6 §6.2.2 + errata §3.12; 2.0.1 Part 2 B06.FR.09, B07.FR.03 (E201 2.10)",
    doc: "What it checks: 1.6: a GetConfiguration reply gives a non-empty `value` for \
`AuthorizationKey`. 2.x: a GetVariables result for SecurityCtrlr.BasicAuthPassword has a \
status other than Rejected or carries an `attributeValue`, or a NotifyReport gives a value \
for it. A warning on 1.6, where the write-only rule comes from the errata.\n\n\
Why it matters: the password authenticates the charger; anyone who can read the CSMS \
traffic or logs can then impersonate it.\n\n\
Example:\n  GetConfiguration -> {configurationKey:[{key:\"AuthorizationKey\", \
value:\"0011...\", readonly:false}]}",
};

pub static DOWNGRADE_ACCEPTED: Rule = Rule {
    id: "auth.downgrade-accepted",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger accepts a lower security profile",
    spec: "Security white paper A05.FR.01; 2.0.1 Part 2 A00.FR.005, B09.FR.04 + E201 2.5 (A05.FR.08-10, B09.FR.31/32)",
    doc: "What it checks: 1.6: ChangeConfiguration SecurityProfile with a value below the current \
profile answered Accepted (or RebootRequired); the same value answered Accepted is a warning \
(A05.FR.01 requires Rejected for a lower or equal value, but it weakens nothing). 2.x: \
SetNetworkProfile with a `securityProfile` \
below the current one answered Accepted: to profile 1 (or 0) always an error; 3 -> 2 an error \
when `SecurityCtrlr.AllowSecurityProfileDowngrade` is known false, a warning when it is \
unknown. The current profile is the SecurityProfile value seen in the traffic, else the one \
the connection uses; when neither is known nothing is reported.\n\n\
Why it matters: the security profile may only go up over OCPP; a CSMS (or an attacker in its \
place) could otherwise move the charger to plain text.\n\n\
Example:\n  (profile 2 in use) ChangeConfiguration {key:\"SecurityProfile\", value:\"1\"} -> Accepted",
};

pub static AUTHORIZATION_KEY_FORMAT: Rule = Rule {
    id: "auth.authorization-key-format",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "ChangeConfiguration AuthorizationKey value is not 32-40 hexadecimal digits",
    spec: "OCPP-J 1.6 §6.2.2; errata §3.12; Security white paper §7.2",
    doc: "What it checks: a ChangeConfiguration of `AuthorizationKey` whose value is not made of \
hexadecimal digits only, or is shorter than 32 or longer than 40 digits (16-20 bytes). The \
message gives the length, never the key.\n\n\
Why it matters: the key is configured as hex; a charger converts it to the bytes of its \
Basic-auth password, and a malformed key locks it out of the CSMS.\n\n\
Example:\n  ChangeConfiguration {key:\"AuthorizationKey\", value:\"my-password\"}",
};

pub static USERNAME_MISMATCH: Rule = Rule {
    id: "auth.username-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "HTTP Basic-auth user name differs from the station identity in the URL",
    spec: "Security white paper A00.FR.204, A00.FR.303; 2.0.1 Part 2 A00.FR.204, A00.FR.303",
    doc: "What it checks: the `basic_auth_user` of an `open` event (recorded by the proxy) is \
neither the connection's identity nor its percent-decoded form. Silent when the trace does \
not record the user.\n\n\
Why it matters: the user name must be the identity so the CSMS checks the password of the \
station that connects, not of another one.\n\n\
Example:\n  {\"event\":\"open\",\"conn\":\"CP-001\",\"scheme\":\"wss\",\"basic_auth_user\":\"admin\",...}",
};

pub static CSMS_ACCEPTED_BAD_CREDENTIALS: Rule = Rule {
    id: "auth.csms-accepted-bad-credentials",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "CSMS talks OCPP on a connection whose Basic-auth user is not the station identity",
    spec: "2.0.1 Part 2 A00.FR.207, A00.FR.324; 2.0.1 Part 6 TC_A_02_CSMS",
    doc: "What it checks: after `auth.username-mismatch` on a connection, the CSMS answers a \
charger CALL or sends one of its own on it, so it accepted the upgrade. Reported once per \
connection. (Password correctness is not observable.)\n\n\
Why it matters: the CSMS must refuse the upgrade when the credentials do not belong to the \
identity; otherwise one station's password opens every identity.\n\n\
Example:\n  open with basic_auth_user \"admin\" on CP-001, then BootNotification answered Accepted",
};

pub static BASIC_OVER_PLAIN_WS: Rule = Rule {
    id: "auth.basic-over-plain-ws",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "HTTP Basic-auth credentials sent over plain ws://",
    spec: "Security white paper A00.FR.201, A00.FR.206; 2.0.1 Part 2 A00.FR.201, A00.FR.206; OCPP-J 1.6 §6",
    doc: "What it checks: an `open` event with scheme `ws` and a Basic-auth user (security profile \
1).\n\n\
Why it matters: the password travels in clear text; profile 1 is only for trusted networks \
(a VPN), and a finding makes sure that was intended.\n\n\
Example:\n  {\"event\":\"open\",\"scheme\":\"ws\",\"basic_auth_user\":\"CP-001\",...}",
};

pub static TLS_TOO_OLD: Rule = Rule {
    id: "auth.tls-too-old",
    severity: Severity::Error,
    severity_16: Some(Severity::Warning),
    versions: ALL,
    by: Party::Any,
    summary: "Negotiated TLS version below 1.2",
    spec: "Security white paper A00.FR.312, A00.FR.416; 2.0.1 Part 2 A00.FR.313, A00.FR.416",
    doc: "What it checks: an `open` event whose `tls_version` is below 1.2 (1.0, 1.1, SSL). Only a \
TLS-terminating recorder knows it. A warning on 1.6, where the white paper tolerates older \
versions for legacy chargers (rules catalogue §21 #18).\n\n\
Why it matters: TLS 1.0 and 1.1 have known weaknesses; OCPP security requires 1.2 or \
later.\n\n\
Example:\n  {\"event\":\"open\",\"scheme\":\"wss\",\"tls_version\":\"1.1\",...}",
};

pub static PROFILE3_NO_CLIENT_CERT: Rule = Rule {
    id: "auth.profile3-no-client-cert",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Security profile 3 is configured but the connection has no TLS client certificate",
    spec: "Security white paper A00.FR.401, A00.FR.402; 2.0.1 Part 2 A00.FR.401, A00.FR.402",
    doc: "What it checks: the charger's SecurityProfile is known to be 3 (from GetConfiguration, \
an accepted ChangeConfiguration, GetVariables or NotifyReport) and a new connection opens \
without a client certificate, as far as a TLS-terminating recorder saw it (`tls_version` \
known, no `client_cert_subject`), or over plain `ws`. Silent when the configured profile or \
the TLS facts are unknown. A warning when profile 3 was set by a 1.6 ChangeConfiguration and \
never used since: the charger SHOULD fall back to its old profile when it cannot connect \
with the new one (white paper A05.FR.08).\n\n\
Why it matters: profile 3 authenticates the charger by its certificate; without one the \
CSMS must refuse the connection.\n\n\
Example:\n  ChangeConfiguration {key:\"SecurityProfile\", value:\"3\"} -> Accepted, then open \
{scheme:\"wss\", tls_version:\"1.3\"} without client_cert_subject",
};

pub static PROFILE_CHANGED: Rule = Rule {
    id: "auth.profile-changed",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Station reconnects with another security profile without an accepted profile change",
    spec: "Security white paper A00.FR.001, A05; 2.0.1 Part 2 A00.FR.001, A05, B09",
    doc: "What it checks: the observed profile of a connection (ws + Basic = 1, wss + Basic = 2, \
wss + client certificate = 3) differs from that of the previous connection of the same \
identity, and no change was accepted in between (1.6 ChangeConfiguration SecurityProfile; \
2.x SetNetworkProfile or a SetVariables of NetworkConfigurationPriority).\n\n\
Why it matters: a charger uses one profile at a time; switching on its own (in particular \
downwards) defeats the configuration.\n\n\
Example:\n  first open with a client certificate, later open on ws with Basic auth",
};
