//! `sec.*`: security (certificates, security events, keys).
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `sec/security.rs`.

use crate::engine::rules::{ALL, Party, Rule, V2X};
use crate::finding::Severity;

pub(crate) mod security;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &EVENT_TYPE_NONSTANDARD,
    &FAILURE_EVENT_REPORTED,
    &EVENT_NOT_ACKNOWLEDGED,
    &STARTUP_EVENT_MISSING,
    &EVENT_TIMESTAMP_FUTURE,
    &CERTIFICATE_SIGNED_WITHOUT_CSR,
    &SIGN_CERTIFICATE_UNSOLICITED_TYPE,
    &CERTIFICATE_REJECTED_WITHOUT_EVENT,
];

pub static EVENT_TYPE_NONSTANDARD: Rule = Rule {
    id: "sec.event-type-nonstandard",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "SecurityEventNotification type is not in the version's list of security events",
    spec: "Security white paper §8; 2.0.1 / 2.1 Part 2 appendices (security events)",
    doc: "What it checks: a SecurityEventNotification whose `type` is not a standard event name of \
the negotiated version (the 1.6 security white paper, the 2.0.1 or the 2.1 appendix). The \
message says when it is the other version's spelling (1.6 `InvalidCentralSystemCertificate` \
vs 2.x `InvalidCsmsCertificate`). `type` is free text, so vendor events are legal: info.\n\n\
Why it matters: a CSMS that acts on the standard names (alerting on critical events) misses \
vendor or misspelt ones.\n\n\
Example:\n  SecurityEventNotification {type:\"InvalidCentralSystemCertificate\", ...} on 2.0.1",
};

pub static FAILURE_EVENT_REPORTED: Rule = Rule {
    id: "sec.failure-event-reported",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger reports a security failure or attack (failed authentication, bad certificate, tampering)",
    spec: "Security white paper §8; 2.0.1 / 2.1 Part 2 appendices (security events)",
    doc: "What it checks: a SecurityEventNotification of a standard failure type: failed \
authentication either way, invalid CSMS or charger certificate, invalid firmware signature \
or signing certificate, invalid TLS version or cipher suite, invalid messages, replay \
attempts, tamper detection, failed maintenance login, memory exhaustion, a discarded renewed \
client certificate. Not a fault of the traffic (the charger does what it must): an \
observation, so the report shows when the station saw trouble. Not a row of the rules \
catalogue.\n\n\
Why it matters: these events are the station's own alarm; in a test run they usually explain \
the failures around them.\n\n\
Example:\n  SecurityEventNotification {type:\"InvalidCsmsCertificate\", timestamp:..., \
techInfo:\"certificate expired\"}",
};

pub static EVENT_NOT_ACKNOWLEDGED: Rule = Rule {
    id: "sec.event-not-acknowledged",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "SecurityEventNotification answered with CALLERROR or not answered within the call timeout",
    spec: "Security white paper A04.FR.03; 2.0.1 Part 2 A04",
    doc: "What it checks: the CSMS answers a SecurityEventNotification with a CALLERROR, or does \
not answer within `call_timeout` (default 30 s). (An unanswered call is also reported by \
`rpc.no-response`.)\n\n\
Why it matters: the charger keeps an unconfirmed security event queued and resends it; a \
CSMS that never confirms loses the security log or floods it.\n\n\
Example:\n  SecurityEventNotification -> [4,\"12\",\"InternalError\",\"\",{}]",
};

pub static STARTUP_EVENT_MISSING: Rule = Rule {
    id: "sec.startup-event-missing",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "After an accepted boot no StartupOfTheDevice or ResetOrReboot security event",
    spec: "2.0.1 Part 2 A04 + appendix (critical events); 2.0.1 Part 6 reusable state Booted",
    doc: "What it checks: a BootNotification (reason other than Triggered) answered Accepted, and \
no SecurityEventNotification StartupOfTheDevice or ResetOrReboot since it was sent and \
within `followup_window` after the answer. Info: the OCTT reusable state Booted expects one, \
but no numbered requirement names the moment.\n\n\
Why it matters: a boot is a critical security event; the CSMS security log should record \
every restart.\n\n\
Example:\n  BootNotification {reason:\"PowerUp\"} -> Accepted, then only StatusNotifications",
};

pub static EVENT_TIMESTAMP_FUTURE: Rule = Rule {
    id: "sec.event-timestamp-future",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "SecurityEventNotification timestamp lies in the future",
    spec: "Security white paper §5.15; 2.0.1 Part 2 §1.49",
    doc: "What it checks: a SecurityEventNotification whose `timestamp` is later than the time the \
frame was seen plus `clock_skew` (default 120 s).\n\n\
Why it matters: the charger's clock is not synchronised, so the security log orders events \
wrongly; forensic use of the log suffers.\n\n\
Example:\n  seen at 10:15, {type:\"StartupOfTheDevice\", timestamp:\"...T11:30:00Z\"}",
};

pub static CERTIFICATE_SIGNED_WITHOUT_CSR: Rule = Rule {
    id: "sec.certificate-signed-without-csr",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "CertificateSigned sent although no SignCertificate of that type was accepted",
    spec: "Security white paper A02, A03; 2.0.1 Part 2 A02, A03",
    doc: "What it checks: a CertificateSigned while no SignCertificate from the charger (of the \
same certificateType on 2.x; absent means ChargingStationCertificate) was answered Accepted \
and not yet followed by a CertificateSigned. Info when the station's boot was not seen (the \
request may predate the trace).\n\n\
Why it matters: the charger holds no private key for an unrequested certificate and must \
reject it.\n\n\
Example:\n  CSMS: CertificateSigned {certificateChain:\"-----BEGIN CERTIFICATE-----...\"} with no \
SignCertificate before",
};

pub static SIGN_CERTIFICATE_UNSOLICITED_TYPE: Rule = Rule {
    id: "sec.sign-certificate-unsolicited-type",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "SignCertificate certificateType differs from the one the preceding trigger asked for",
    spec: "2.0.1 Part 2 A02, F06",
    doc: "What it checks: after an accepted TriggerMessage for SignChargingStationCertificate, \
SignV2GCertificate or (2.1) SignV2G20Certificate, the next SignCertificate carries another \
`certificateType` (absent means ChargingStationCertificate). SignCombinedCertificate accepts \
any type (how it is answered is not settled, rules catalogue §21 #6).\n\n\
Why it matters: the CSMS asked to renew one certificate and gets a request for another.\n\n\
Example:\n  TriggerMessage {requestedMessage:\"SignV2GCertificate\"} -> Accepted, then \
SignCertificate {csr:..., certificateType:\"ChargingStationCertificate\"}",
};

pub static CERTIFICATE_REJECTED_WITHOUT_EVENT: Rule = Rule {
    id: "sec.certificate-rejected-without-event",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Charger rejects a CertificateSigned and reports no invalid-certificate security event",
    spec: "Security white paper A02, §8 (InvalidChargePointCertificate); 2.0.1 Part 2 A02, appendix (InvalidChargingStationCertificate)",
    doc: "What it checks: CertificateSigned answered Rejected, and no SecurityEventNotification \
InvalidChargingStationCertificate (1.6: InvalidChargePointCertificate) within \
`followup_window`. Not a row of the rules catalogue; a warning because the event list \
defines the event for exactly this case while the numbered requirement was not checked.\n\n\
Why it matters: a certificate the charger cannot accept is a security incident the security \
log must hold.\n\n\
Example:\n  CertificateSigned -> {status:\"Rejected\"}, then no SecurityEventNotification",
};
