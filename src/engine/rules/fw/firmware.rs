//! `fw.*`: firmware update, diagnostics and log upload progress. Each accepted request
//! (UpdateFirmware, 1.6 SignedUpdateFirmware, 1.6 GetDiagnostics, GetLog) opens a job; the
//! status notifications that follow are checked against the job (requestId) and against the
//! status graph below, and the security events a firmware update must raise are awaited.
//!
//! ```text
//! (UpdateFirmware accepted)
//!   -> DownloadScheduled -> Downloading
//!   Downloading <-> DownloadPaused
//!   Downloading -> Downloaded | DownloadFailed*
//!   Downloaded -> SignatureVerified | InvalidSignature* | InstallScheduled | InstallRebooting | Installing
//!   SignatureVerified -> InstallScheduled | InstallRebooting | Installing
//!   InstallScheduled -> InstallRebooting | Installing
//!   InstallRebooting -> Installing | Installed# | InstallationFailed*
//!   Installing -> InstallRebooting | Installed# | InstallationFailed* | InstallVerificationFailed*
//!   (* failure end, # success end; a non-final status may repeat)
//! (GetDiagnostics / GetLog accepted)
//!   -> Uploading -> Uploaded | UploadFailed | UploadFailure | BadMessage | PermissionDenied | NotSupportedOperation
//! Idle: only in answer to a trigger.
//! ```
//!
//! Whether a status answers a trigger is read from the station model (`Triggers::came`: the
//! request it came for); it counts when that request was not refused and was sent at most
//! `call_timeout` plus `followup_window` before. The family keeps no trigger of its own.
//!
//! The official diagram exists only as an image; the graph is reconstructed from the status
//! descriptions (rules catalogue §21 #4), so its rules are warnings.

use super::{
    IDLE_NOT_TRIGGERED, INSTALLED_WITHOUT_SECURITY_EVENT, INVALID_CERTIFICATE_WITHOUT_EVENT,
    INVALID_SIGNATURE_WITHOUT_EVENT, NO_STATUS_AFTER_ACCEPT, NO_UPLOAD_STATUS_AFTER_ACCEPT,
    REQUEST_ID_MISMATCH, REQUEST_ID_MISSING, STATUS_AFTER_END, STATUS_WITHOUT_REQUEST,
    UNEXPECTED_TRANSITION, UPLOAD_STATUS_PROGRESSION,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::trig;
use crate::engine::rules::trig::status::InProgress;
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, Listen, ProtoState};
use crate::engine::station::{Deadlines, Wake};
use crate::engine::support::{CallRef, int_of, report_not_followed, status_of, str_of};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// What a job watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Firmware,
    Diagnostics,
    Log,
}

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    fn of_status(action: &str) -> Option<Kind> {
        Some(match action {
            "FirmwareStatusNotification" | "SignedFirmwareStatusNotification" => Kind::Firmware,
            "DiagnosticsStatusNotification" => Kind::Diagnostics,
            "LogStatusNotification" => Kind::Log,
            _ => return None,
        })
    }

    fn of_trigger(requested: &str) -> Option<Kind> {
        Some(match requested {
            "FirmwareStatusNotification" => Kind::Firmware,
            "DiagnosticsStatusNotification" => Kind::Diagnostics,
            "LogStatusNotification" => Kind::Log,
            _ => return None,
        })
    }
}

/// One update or upload.
#[derive(Debug)]
struct Job {
    /// The request, or `None` for a job inferred from statuses alone.
    call: Option<CallRef>,
    request_id: Option<i64>,
    /// When the job started (accepted, or its first status).
    since: Timestamp,
    /// A status is expected by then (observed requests only).
    due: Option<Timestamp>,
    last: Option<Box<str>>,
    statuses: u32,
    ended: bool,
    /// It replaced a job that had not ended (that one may still report a failure).
    replaced_running: bool,
}

impl Job {
    /// A job inferred from its first status (its request predates the trace).
    fn from_status(kind: Kind, request_id: Option<i64>, status: &str, now: Timestamp) -> Job {
        Job {
            call: None,
            request_id,
            since: now,
            due: None,
            last: Some(Box::from(status)),
            statuses: 1,
            ended: ended(kind, status),
            replaced_running: false,
        }
    }
}

/// A security event a status requires.
#[derive(Debug)]
struct Expect {
    event: &'static str,
    rule: &'static Rule,
    about: CallRef,
    /// The status (or request) that requires it.
    what: &'static str,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    jobs: [Option<Job>; 3],
    /// The requestId of the job the current one replaced, per kind.
    replaced: [Option<i64>; 3],
    /// A status without a request was already reported, per kind.
    orphan_noted: [bool; 3],
    /// When the security events FirmwareUpdated, InvalidFirmwareSignature and
    /// InvalidFirmwareSigningCertificate were last seen.
    events: [Option<Timestamp>; 3],
    /// The security events a status or answer requires, until the follow-up window closes.
    expects: Deadlines<Expect, MAX_EXPECTS>,
}

const EVENTS: [&str; 3] = [
    "FirmwareUpdated",
    "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate",
];
const MAX_EXPECTS: usize = 16;

fn event_index(event: &str) -> Option<usize> {
    EVENTS.iter().position(|e| *e == event)
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Fw;

impl Family for Fw {
    const VERSIONS: &'static [Version] = ALL;
    const REPLIES: Listen = Listen::Only(&[
        "UpdateFirmware",
        "SignedUpdateFirmware",
        "GetDiagnostics",
        "GetLog",
    ]);

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        let fw = &st.fw;
        for job in fw.jobs.iter().flatten() {
            if job.statuses == 0 && job.call.is_some() {
                wake.at(job.due);
            }
        }
        wake.at(fw.expects.next_due());
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let fw = &mut st.fw;
        let window = ctx.config().tol.followup_window_us as f64 / 1e6;
        for (i, job) in fw.jobs.iter_mut().enumerate() {
            let Some(job) = job else { continue };
            let (Some(due), Some(call)) = (job.due, &job.call) else {
                continue;
            };
            if job.statuses > 0 || now <= due {
                continue;
            }
            job.due = None;
            let (rule, expected) = match i {
                0 => (&NO_STATUS_AFTER_ACCEPT, "firmware status notification"),
                1 => (
                    &NO_UPLOAD_STATUS_AFTER_ACCEPT,
                    "DiagnosticsStatusNotification",
                ),
                _ => (&NO_UPLOAD_STATUS_AFTER_ACCEPT, "LogStatusNotification"),
            };
            ctx.report_about(
                rule,
                call.about(),
                format!(
                    "{} was accepted but no {expected} came within {window:.0} s{}",
                    call.action,
                    if i == 0 {
                        " after its retrieve time"
                    } else {
                        ""
                    }
                ),
            );
        }
        for (_, e) in fw.expects.expired(now) {
            report_not_followed(
                ctx,
                e.rule,
                e.about.about(),
                &format!("{} and no SecurityEventNotification {}", e.what, e.event),
            );
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        match (call.action, call.from) {
            ("SecurityEventNotification", Side::Charger) => {
                if let Some(i) = str_of(p, "type").and_then(event_index) {
                    st.fw.events[i] = Some(ctx.now());
                    st.fw.expects.clear(|e| e.event == EVENTS[i]);
                }
            }
            (action, Side::Charger) => {
                if let (Some(kind), Some(status)) = (Kind::of_status(action), str_of(p, "status")) {
                    on_status(st, ctx, call, kind, status);
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        let v16 = st.is_v16();
        match reply.action {
            "UpdateFirmware" | "SignedUpdateFirmware" => {
                let signed = !(v16 && reply.action == "UpdateFirmware");
                let accepted = if signed {
                    matches!(status_of(reply), Some("Accepted" | "AcceptedCanceled"))
                } else {
                    matches!(reply.outcome, Outcome::Result { .. })
                };
                if signed
                    && matches!(
                        status_of(reply),
                        Some("InvalidCertificate" | "RevokedCertificate")
                    )
                {
                    let since = reply.call_at;
                    if st.fw.events[2].is_none_or(|t| t < since) {
                        let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
                        st.fw.expects.arm(
                            due,
                            Expect {
                                event: EVENTS[2],
                                rule: &INVALID_CERTIFICATE_WITHOUT_EVENT,
                                about: CallRef::of_reply(reply),
                                what: if status_of(reply) == Some("RevokedCertificate") {
                                    "the firmware signing certificate was answered RevokedCertificate"
                                } else {
                                    "the firmware signing certificate was answered InvalidCertificate"
                                },
                            },
                        );
                    }
                }
                if accepted {
                    let firmware = reply.request.get("firmware");
                    let retrieve = firmware
                        .and_then(|f| str_of(f, "retrieveDateTime"))
                        .or_else(|| str_of(reply.request, "retrieveDate"))
                        .and_then(|s| Timestamp::parse_rfc3339(s).ok());
                    let start = retrieve.map_or(ctx.now(), |r| r.max(ctx.now()));
                    let due = Timestamp::after(start, ctx.config().tol.followup_window_us);
                    open_job(st, ctx, reply, Kind::Firmware, due);
                }
            }
            "GetDiagnostics" if reply.result().is_some_and(|r| r.get("fileName").is_some()) => {
                let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
                open_job(st, ctx, reply, Kind::Diagnostics, due);
            }
            "GetLog" => {
                if matches!(status_of(reply), Some("Accepted" | "AcceptedCanceled")) {
                    let due = Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us);
                    open_job(st, ctx, reply, Kind::Log, due);
                }
            }
            _ => {}
        }
    }
}

fn open_job(st: &mut ProtoState, ctx: &Ctx<'_>, reply: &Reply<'_>, kind: Kind, due: Timestamp) {
    let i = kind.index();
    let fw = &mut st.fw;
    let mut replaced_running = false;
    if let Some(old) = &fw.jobs[i] {
        replaced_running = !old.ended;
        fw.replaced[i] = old.request_id;
    }
    fw.orphan_noted[i] = false;
    fw.jobs[i] = Some(Job {
        call: Some(CallRef::of_reply(reply)),
        request_id: int_of(reply.request, "requestId"),
        since: reply.call_at.min(ctx.now()),
        due: Some(due),
        last: None,
        statuses: 0,
        ended: false,
        replaced_running,
    });
}

fn is_firmware_end(status: &str) -> bool {
    matches!(
        status,
        "Installed"
            | "DownloadFailed"
            | "InvalidSignature"
            | "InstallationFailed"
            | "InstallVerificationFailed"
    )
}

fn is_upload_failure(status: &str) -> bool {
    matches!(
        status,
        "UploadFailed"
            | "UploadFailure"
            | "BadMessage"
            | "PermissionDenied"
            | "NotSupportedOperation"
    )
}

fn is_upload_end(status: &str) -> bool {
    status == "Uploaded" || is_upload_failure(status)
}

/// A step of the firmware graph (a non-final status may also repeat).
fn firmware_edge(from: &str, to: &str) -> bool {
    if from == to && !is_firmware_end(from) {
        return true;
    }
    matches!(
        (from, to),
        ("DownloadScheduled", "Downloading")
            | (
                "Downloading",
                "DownloadPaused" | "Downloaded" | "DownloadFailed"
            )
            | ("DownloadPaused", "Downloading")
            | (
                "Downloaded",
                "SignatureVerified"
                    | "InvalidSignature"
                    | "InstallScheduled"
                    | "InstallRebooting"
                    | "Installing"
            )
            | (
                "SignatureVerified",
                "InstallScheduled" | "InstallRebooting" | "Installing"
            )
            | ("InstallScheduled", "InstallRebooting" | "Installing")
            | (
                "InstallRebooting",
                "Installing" | "Installed" | "InstallationFailed"
            )
            | (
                "Installing",
                "InstallRebooting"
                    | "Installed"
                    | "InstallationFailed"
                    | "InstallVerificationFailed"
            )
    )
}

/// A step of an upload (AcceptedCanceled, 2.x, may come before the new upload starts).
fn upload_edge(from: &str, to: &str) -> bool {
    match from {
        "Uploading" => to == "Uploading" || is_upload_end(to),
        "AcceptedCanceled" => to == "Uploading" || is_upload_failure(to),
        _ => false,
    }
}

fn on_status(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>, kind: Kind, status: &str) {
    let i = kind.index();
    let v2 = st.is_2x();
    // The observation saw the station connect: it knows whether an update or upload runs.
    let seen_open = st.station.connections_seen > 0;
    let request_id = int_of(call.payload, "requestId");
    // The status came for a trigger of its kind, not refused and recent.
    let triggered = trig::trigger::came_for(st, ctx)
        .is_some_and(|r| Kind::of_trigger(r.requested) == Some(kind));
    let fw = &mut st.fw;
    if triggered && v2 {
        let running = fw.jobs[i]
            .as_ref()
            .filter(|j| !j.ended)
            .map(|job| InProgress {
                action: job.call.as_ref().map(|c| c.action),
                request_id: job.request_id,
                last: job.last.as_deref(),
            });
        match kind {
            Kind::Log => trig::status::log_status(ctx, running, status, seen_open),
            Kind::Firmware => trig::status::firmware_status(ctx, running, status, seen_open),
            Kind::Diagnostics => {}
        }
    }
    if status == "Idle" {
        if !triggered {
            ctx.report(
                &IDLE_NOT_TRIGGERED,
                format!(
                    "{} with status Idle, but no trigger for it was sent; Idle is only an answer to a trigger",
                    call.action
                ),
            );
        }
        return;
    }
    if v2 && kind == Kind::Firmware && request_id.is_none() {
        ctx.report(
            &REQUEST_ID_MISSING,
            format!("FirmwareStatusNotification {status} without requestId"),
        );
    }
    let now = ctx.now();
    let Some(job) = &mut fw.jobs[i] else {
        if !triggered && !fw.orphan_noted[i] {
            fw.orphan_noted[i] = true;
            ctx.report(
                &STATUS_WITHOUT_REQUEST,
                format!(
                    "{} {status}, but no accepted {} was seen for this station (it may predate the trace)",
                    call.action,
                    match kind {
                        Kind::Firmware => "UpdateFirmware",
                        Kind::Diagnostics => "GetDiagnostics",
                        Kind::Log => "GetLog",
                    }
                ),
            );
        }
        fw.jobs[i] = Some(Job::from_status(kind, request_id, status, now));
        return;
    };
    if let (Some(got), Some(want)) = (request_id, job.request_id)
        && got != want
    {
        if fw.replaced[i] == Some(got) {
            // The replaced request reports its end.
            return;
        }
        if job.call.is_some() {
            ctx.report(
                &REQUEST_ID_MISMATCH,
                format!(
                    "{} {status} carries requestId {got}; the {} in progress has requestId {want}",
                    call.action,
                    job.call.as_ref().map_or("request", |c| c.action)
                ),
            );
        } else {
            // Statuses of another update that also predates the trace.
            *job = Job::from_status(kind, Some(got), status, now);
        }
        return;
    }
    if job.request_id.is_none() && job.call.is_none() {
        job.request_id = request_id;
    }
    if triggered && job.last.as_deref() == Some(status) {
        return;
    }
    let upload = kind != Kind::Firmware;
    match job.last.as_deref() {
        Some(prev) if job.ended => {
            let repeat_installed = prev == "Installed" && status == "Installed";
            if upload {
                ctx.report(
                    &UPLOAD_STATUS_PROGRESSION,
                    format!(
                        "{} {status} after the upload already ended with {prev}, without a new request",
                        call.action
                    ),
                );
            } else if !repeat_installed {
                ctx.report(
                    &STATUS_AFTER_END,
                    format!(
                        "firmware status {status} after the update already ended with {prev}, without a new UpdateFirmware"
                    ),
                );
            }
        }
        Some(prev) => {
            if upload && !upload_edge(prev, status) {
                ctx.report(
                    &UPLOAD_STATUS_PROGRESSION,
                    format!("{} {status} does not follow {prev}", call.action),
                );
            } else if !upload && !firmware_edge(prev, status) {
                ctx.report(
                    &UNEXPECTED_TRANSITION,
                    format!("firmware status {status} does not follow {prev} in the status graph"),
                );
            }
        }
        None => {
            let first_ok = if upload {
                matches!(status, "Uploading" | "AcceptedCanceled") || is_upload_failure(status)
            } else {
                matches!(
                    status,
                    "DownloadScheduled" | "Downloading" | "DownloadFailed"
                ) || (job.replaced_running && status == "InstallationFailed")
            };
            if !first_ok {
                let (rule, expected) = if upload {
                    (&UPLOAD_STATUS_PROGRESSION, "Uploading")
                } else {
                    (&UNEXPECTED_TRANSITION, "DownloadScheduled or Downloading")
                };
                ctx.report(
                    rule,
                    format!(
                        "first status after the {} is {status}; expected {expected}",
                        job.call.as_ref().map_or("request", |c| c.action)
                    ),
                );
            }
        }
    }
    job.last = Some(Box::from(status));
    job.statuses += 1;
    job.ended = ended(kind, status);

    // Security events the status requires (2.x and the 1.6 signed messages).
    let signed = v2 || call.action == "SignedFirmwareStatusNotification";
    if kind == Kind::Firmware && signed {
        let need = match status {
            "Installed" => Some((
                0,
                &INSTALLED_WITHOUT_SECURITY_EVENT,
                "firmware status Installed",
            )),
            "InvalidSignature" => Some((
                1,
                &INVALID_SIGNATURE_WITHOUT_EVENT,
                "firmware status InvalidSignature",
            )),
            _ => None,
        };
        if let Some((e, rule, what)) = need {
            let since = job.since;
            if fw.events[e].is_none_or(|t| t < since)
                && !fw.expects.iter().any(|x| x.event == EVENTS[e])
            {
                fw.expects.arm(
                    Timestamp::after(now, ctx.config().tol.followup_window_us),
                    Expect {
                        event: EVENTS[e],
                        rule,
                        about: CallRef::of_call(ctx, call),
                        what,
                    },
                );
            }
        }
    }
}

fn ended(kind: Kind, status: &str) -> bool {
    if kind == Kind::Firmware {
        is_firmware_end(status)
    } else {
        is_upload_end(status)
    }
}

#[cfg(test)]
mod tests;
