//! `fw.*`: firmware updates and log uploads.
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `fw/firmware.rs`.

use crate::engine::rules::{ALL, Party, Rule, V2X};
use crate::finding::Severity;

pub(crate) mod firmware;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &IDLE_NOT_TRIGGERED,
    &STATUS_WITHOUT_REQUEST,
    &REQUEST_ID_MISMATCH,
    &REQUEST_ID_MISSING,
    &UNEXPECTED_TRANSITION,
    &STATUS_AFTER_END,
    &NO_STATUS_AFTER_ACCEPT,
    &NO_UPLOAD_STATUS_AFTER_ACCEPT,
    &INSTALLED_WITHOUT_SECURITY_EVENT,
    &INVALID_SIGNATURE_WITHOUT_EVENT,
    &INVALID_CERTIFICATE_WITHOUT_EVENT,
    &UPLOAD_STATUS_PROGRESSION,
];

pub static IDLE_NOT_TRIGGERED: Rule = Rule {
    id: "fw.idle-not-triggered",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware, diagnostics or log status Idle that no trigger asked for",
    spec: "OCPP 1.6 §4.4, §4.5; Security white paper §6.8; 2.0.1 Part 2 §3 FirmwareStatusEnumType (Idle)",
    doc: "What it checks: FirmwareStatusNotification, SignedFirmwareStatusNotification, \
DiagnosticsStatusNotification or LogStatusNotification with status Idle, when no \
TriggerMessage / ExtendedTriggerMessage for that notification was sent (and not refused) \
shortly before.\n\n\
Why it matters: Idle SHALL only be used in a notification triggered by the CSMS; sent on its \
own it reports nothing and may hide a lost update.\n\n\
Example:\n  charger: FirmwareStatusNotification {status:\"Idle\"}   (no TriggerMessage before)",
};

pub static STATUS_WITHOUT_REQUEST: Rule = Rule {
    id: "fw.status-without-request",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware, diagnostics or log status with no request seen for it",
    spec: "OCPP 1.6 §4.5 (errata 3.12), §5.9; 2.0.1 Part 2 L01.FR.01",
    doc: "What it checks: a non-Idle firmware, diagnostics or log status notification while no \
accepted UpdateFirmware, SignedUpdateFirmware, GetDiagnostics or GetLog was seen for the \
station. Reported once per unexplained sequence; info only, since the request may predate \
the trace.\n\n\
Why it matters: a charger that reports progress of an update nobody asked for may be \
updating on its own, or the CSMS lost the request.\n\n\
Example:\n  charger: FirmwareStatusNotification {status:\"Downloading\", requestId:4}   (no UpdateFirmware seen)",
};

pub static REQUEST_ID_MISMATCH: Rule = Rule {
    id: "fw.request-id-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Status notification requestId differs from the request in progress",
    spec: "2.0.1 Part 2 L01.FR.10, N01, Gen §3 FR.05; Security white paper L01, N01",
    doc: "What it checks: FirmwareStatusNotification (2.x), SignedFirmwareStatusNotification (1.6 \
security) or LogStatusNotification whose `requestId` is neither that of the UpdateFirmware / \
SignedUpdateFirmware / GetLog in progress nor that of the request it replaced.\n\n\
Why it matters: the CSMS files the progress under the request id; a wrong id reports on an \
update it does not know.\n\n\
Example:\n  UpdateFirmware {requestId:12, ...} -> Accepted, then FirmwareStatusNotification \
{status:\"Downloading\", requestId:13}",
};

pub static REQUEST_ID_MISSING: Rule = Rule {
    id: "fw.request-id-missing",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "FirmwareStatusNotification without requestId for a status other than Idle",
    spec: "2.0.1 Part 2 L01.FR.20, §1.15.1",
    doc: "What it checks: a 2.x FirmwareStatusNotification with a status other than Idle and no \
`requestId`.\n\n\
Why it matters: the requestId is mandatory when the status belongs to an update; without it \
the CSMS cannot tell which update progresses.\n\n\
Example:\n  FirmwareStatusNotification {status:\"Downloading\"}",
};

pub static UNEXPECTED_TRANSITION: Rule = Rule {
    id: "fw.unexpected-transition",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Successive firmware statuses are not a step of the status graph",
    spec: "OCPP 1.6 §4.5, §5.19; Security white paper §6.8; 2.0.1 Part 2 L01, L02, §3 FirmwareStatusEnumType",
    doc: "What it checks: the next firmware status of an update is not reachable from the previous \
one in the graph documented in this module (e.g. Downloading -> Installed, or an update that \
starts with Installing). A non-final status may repeat. A warning: the official diagram is an \
image and the graph is reconstructed from the status descriptions.\n\n\
Why it matters: a skipped step (no Downloaded, no signature check) usually means a status \
was lost or the update did not go as reported.\n\n\
Example:\n  Downloading, then Installed",
};

pub static STATUS_AFTER_END: Rule = Rule {
    id: "fw.status-after-end",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware status after the update already ended, without a new request",
    spec: "Security white paper §6.8; 2.0.1 Part 2 §3 FirmwareStatusEnumType, L01.FR.32",
    doc: "What it checks: a firmware status other than Idle after the update reached an end state \
(Installed, DownloadFailed, InvalidSignature, InstallationFailed, InstallVerificationFailed), \
with no new UpdateFirmware in between. Installed repeated after the activating reboot is \
allowed (L01.FR.32), as is a triggered repeat of the last status.\n\n\
Why it matters: the update is over; further progress belongs to no request.\n\n\
Example:\n  DownloadFailed, then Downloading (no new UpdateFirmware)",
};

pub static NO_STATUS_AFTER_ACCEPT: Rule = Rule {
    id: "fw.no-status-after-accept",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware update accepted and no status notification in time after its retrieve time",
    spec: "OCPP 1.6 §5.19; 2.0.1 Part 2 L01.FR.01, L01.FR.13",
    doc: "What it checks: an accepted UpdateFirmware (1.6: any CALLRESULT) or SignedUpdateFirmware \
and no (Signed)FirmwareStatusNotification within `followup_window` (default 60 s) after the \
later of the request and its `retrieveDate` / `retrieveDateTime`. Reported at the request's \
line.\n\n\
Why it matters: the charger must report the progress of the update; silence leaves the CSMS \
unable to tell whether it runs.\n\n\
Example:\n  UpdateFirmware {retrieveDateTime: now} -> Accepted, then no FirmwareStatusNotification",
};

pub static NO_UPLOAD_STATUS_AFTER_ACCEPT: Rule = Rule {
    id: "fw.no-upload-status-after-accept",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Diagnostics or log upload accepted and no status notification within the follow-up window",
    spec: "OCPP 1.6 §4.4, §5.9; Security white paper N01; 2.0.1 Part 2 N01",
    doc: "What it checks: GetDiagnostics answered with a fileName (an upload will happen) or GetLog \
answered Accepted, and no DiagnosticsStatusNotification / LogStatusNotification within \
`followup_window` (default 60 s). Not a row of the rules catalogue: the counterpart of \
`fw.no-status-after-accept` for uploads. Reported at the request's line.\n\n\
Why it matters: the upload status is how the CSMS learns that the file arrived or failed.\n\n\
Example:\n  GetLog {requestId:3, ...} -> Accepted, then no LogStatusNotification",
};

pub static INSTALLED_WITHOUT_SECURITY_EVENT: Rule = Rule {
    id: "fw.installed-without-security-event",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware Installed and no SecurityEventNotification FirmwareUpdated",
    spec: "2.0.1 Part 2 L01.FR.31; Security white paper §8 (FirmwareUpdated is critical)",
    doc: "What it checks: a 2.x FirmwareStatusNotification or 1.6 SignedFirmwareStatusNotification \
with status Installed, and no SecurityEventNotification of type FirmwareUpdated since the \
update started or within `followup_window` after the status. (1.6 core firmware updates \
are not checked.)\n\n\
Why it matters: a firmware change is a critical security event the CSMS must be told of.\n\n\
Example:\n  FirmwareStatusNotification {status:\"Installed\", requestId:5}, then only Heartbeats",
};

pub static INVALID_SIGNATURE_WITHOUT_EVENT: Rule = Rule {
    id: "fw.invalid-signature-without-event",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware status InvalidSignature and no SecurityEventNotification InvalidFirmwareSignature",
    spec: "2.0.1 Part 2 L01.FR.03; Security white paper L01",
    doc: "What it checks: a firmware status InvalidSignature and no SecurityEventNotification of \
type InvalidFirmwareSignature since the update started or within `followup_window` after \
the status. (L01.FR.03 spells the event \"InvalidFirmwareSigning\"; the event list names it \
InvalidFirmwareSignature, which is what is expected here.)\n\n\
Why it matters: a firmware image with a bad signature may be an attack; it must reach the \
security log.\n\n\
Example:\n  FirmwareStatusNotification {status:\"InvalidSignature\", requestId:5}, no security event",
};

pub static INVALID_CERTIFICATE_WITHOUT_EVENT: Rule = Rule {
    id: "fw.invalid-certificate-without-event",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Firmware signing certificate refused and no InvalidFirmwareSigningCertificate event",
    spec: "2.0.1 Part 2 L01.FR.02, L01.FR.22; 2.0.1 Part 6 TC_L_05_CS",
    doc: "What it checks: UpdateFirmware (2.x) or SignedUpdateFirmware (1.6 security) answered \
InvalidCertificate or RevokedCertificate, and no SecurityEventNotification of type \
InvalidFirmwareSigningCertificate within `followup_window`.\n\n\
Why it matters: an untrusted signing certificate may be an attack; it must reach the \
security log.\n\n\
Example:\n  UpdateFirmware -> {status:\"InvalidCertificate\"}, then no SecurityEventNotification",
};

pub static UPLOAD_STATUS_PROGRESSION: Rule = Rule {
    id: "fw.upload-status-progression",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Charger,
    summary: "Diagnostics or log upload statuses out of order (not Uploading, then one final status)",
    spec: "OCPP 1.6 §4.4, §5.9; Security white paper N01; 2.0.1 Part 2 N01",
    doc: "What it checks: the statuses of one upload: Uploaded without a preceding Uploading, a \
status after the final one (Uploaded, UploadFailed, UploadFailure, BadMessage, \
PermissionDenied, NotSupportedOperation) without a new request, or another status that does \
not follow. A failure may come first (the upload never started).\n\n\
Why it matters: the CSMS decides from the final status whether the file is there; a repeated \
or unexplained final status contradicts it.\n\n\
Example:\n  GetDiagnostics -> {fileName:\"diag.zip\"}, then DiagnosticsStatusNotification Uploaded \
twice",
};
