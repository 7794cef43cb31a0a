//! `sec.*`: security events (SecurityEventNotification) and the certificate exchange
//! (SignCertificate, CertificateSigned, a triggered certificate signing: which trigger a
//! SignCertificate came for is read from the station model's trigger requests).
//!
//! This file does not judge the security profile or the credentials of a connection
//! (`auth/profile.rs`).

use super::{
    CERTIFICATE_REJECTED_WITHOUT_EVENT, CERTIFICATE_SIGNED_WITHOUT_CSR, EVENT_NOT_ACKNOWLEDGED,
    EVENT_TIMESTAMP_FUTURE, EVENT_TYPE_NONSTANDARD, FAILURE_EVENT_REPORTED,
    SIGN_CERTIFICATE_UNSOLICITED_TYPE, STARTUP_EVENT_MISSING,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, Outcome, Reply};
use crate::engine::rules::trig::trigger;
use crate::engine::rules::{ALL, Rule};
use crate::engine::rules::{Family, ProtoState};
use crate::engine::station::{Deadlines, Wake};
use crate::engine::support::{
    CallRef, push_capped, report_not_followed, report_unless_excused, status_of, str_of,
};
use crate::finding::Severity;
use crate::ocpp::security_event::{is_failure, is_standard};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

const MAX_PENDING: usize = 16;
const MAX_CSRS: usize = 8;

#[derive(Debug)]
struct Pending {
    id: Box<str>,
    at: Timestamp,
    line: u64,
}

/// An answer after which a SecurityEventNotification must come by `due`.
#[derive(Debug)]
struct Watch {
    call: CallRef,
    due: Timestamp,
}

impl Watch {
    /// The watch for the current answer, due a followup window from now.
    fn of(ctx: &Ctx<'_>, reply: &Reply<'_>) -> Watch {
        Watch {
            call: CallRef::of_reply(reply),
            due: Timestamp::after(ctx.now(), ctx.config().tol.followup_window_us),
        }
    }

    /// Reports `rule` about the answer of a watch overdue at `now`, taking it (so once);
    /// `missing` says what did not follow within the window.
    fn expire(
        slot: &mut Option<Watch>,
        ctx: &mut Ctx<'_>,
        now: Timestamp,
        rule: &'static Rule,
        missing: &str,
    ) {
        if slot.as_ref().is_some_and(|w| now > w.due)
            && let Some(w) = slot.take()
        {
            report_not_followed(ctx, rule, w.call.about(), missing);
        }
    }
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    pending: Deadlines<Pending, MAX_PENDING>,
    /// The reason of the last BootNotification was Triggered (2.x).
    boot_triggered: bool,
    last_startup_event: Option<Timestamp>,
    boot_watch: Option<Watch>,
    /// SignCertificate requests sent and not answered yet: (id, certificateType).
    csr_sent: Vec<(Box<str>, Option<Box<str>>)>,
    /// Accepted CSRs waiting for their certificate (certificateType).
    csr_accepted: Vec<Option<Box<str>>>,
    last_cert_event: Option<Timestamp>,
    cert_expect: Option<Watch>,
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Sec;

impl Family for Sec {
    const VERSIONS: &'static [Version] = ALL;

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        // Unanswered events are resent on the next connection; the CALLs died with this one.
        st.sec.pending.clear_all();
    }

    fn next_due(st: &ProtoState, _ctx: &Ctx<'_>, wake: &mut Wake) {
        let sec = &st.sec;
        wake.at(sec.pending.next_due());
        wake.at(sec.boot_watch.as_ref().map(|w| w.due));
        wake.at(sec.cert_expect.as_ref().map(|w| w.due));
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let sec = &mut st.sec;
        let timeout = ctx.config().tol.call_timeout_us;
        for (_, p) in sec.pending.expired(now) {
            ctx.report_about(
                &EVENT_NOT_ACKNOWLEDGED,
                crate::engine::About {
                    line: p.line,
                    at: p.at,
                    from: Some(Side::Charger),
                    unique_id: Some(&p.id),
                    action: Some("SecurityEventNotification"),
                },
                format!(
                    "the CSMS did not answer this SecurityEventNotification within {:.0} s",
                    timeout as f64 / 1e6
                ),
            );
        }
        Watch::expire(
            &mut sec.boot_watch,
            ctx,
            now,
            &STARTUP_EVENT_MISSING,
            "the boot was accepted, but no SecurityEventNotification StartupOfTheDevice or ResetOrReboot",
        );
        Watch::expire(
            &mut sec.cert_expect,
            ctx,
            now,
            &CERTIFICATE_REJECTED_WITHOUT_EVENT,
            "the charger rejected the signed certificate, and no invalid-certificate SecurityEventNotification",
        );
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        let version = st.station.version;
        match (call.action, call.from) {
            ("SecurityEventNotification", Side::Charger) => {
                security_event(st, ctx, call);
            }
            ("BootNotification", Side::Charger) => {
                st.sec.boot_triggered = str_of(p, "reason") == Some("Triggered");
            }
            ("SignCertificate", Side::Charger) => {
                let ty = str_of(p, "certificateType");
                if version.is_some_and(Version::is_2x)
                    && let Some(expected) = sign_trigger(st, ctx)
                {
                    let got = ty.unwrap_or("ChargingStationCertificate");
                    if let Some(expected) = expected.filter(|e| *e != got) {
                        ctx.report(
                                &SIGN_CERTIFICATE_UNSOLICITED_TYPE,
                                format!(
                                    "SignCertificate for {got}, but the accepted TriggerMessage asked for a {expected}"
                                ),
                            );
                    }
                }
                push_capped(
                    &mut st.sec.csr_sent,
                    (Box::from(call.id), ty.map(Box::from)),
                    MAX_CSRS,
                );
            }
            ("CertificateSigned", Side::Csms) => {
                let ty = if version.is_some_and(Version::is_2x) {
                    Some(str_of(p, "certificateType").unwrap_or("ChargingStationCertificate"))
                } else {
                    None
                };
                let same = |t: &Option<Box<str>>| match (t.as_deref(), ty) {
                    (_, None) => true,
                    (None, Some(x)) => x == "ChargingStationCertificate",
                    (Some(a), Some(b)) => a == b,
                };
                if let Some(i) = st.sec.csr_accepted.iter().position(same) {
                    st.sec.csr_accepted.remove(i);
                } else {
                    let msg = format!(
                        "CertificateSigned{} sent, but no SignCertificate{} from the charger was accepted before",
                        ty.map(|t| format!(" ({t})")).unwrap_or_default(),
                        ty.map(|t| format!(" for {t}")).unwrap_or_default()
                    );
                    report_unless_excused(
                        ctx,
                        &CERTIFICATE_SIGNED_WITHOUT_CSR,
                        st.station.booted(),
                        (Severity::Info, "it may predate the trace"),
                        msg,
                    );
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        match reply.action {
            "SecurityEventNotification" => {
                st.sec.pending.clear(|p| &*p.id == reply.id);
                if let Outcome::Error { code } = reply.outcome {
                    ctx.report(
                        &EVENT_NOT_ACKNOWLEDGED,
                        format!(
                            "the CSMS answers a SecurityEventNotification with CALLERROR {code}; security events must be confirmed"
                        ),
                    );
                }
            }
            "BootNotification" => {
                let v2 = st.is_2x();
                let boot_sent = st.station.last_boot_at;
                let sec = &mut st.sec;
                if v2 && status_of(reply) == Some("Accepted") && !sec.boot_triggered {
                    let since = boot_sent.unwrap_or(reply.call_at);
                    if sec.last_startup_event.is_none_or(|t| t < since) {
                        sec.boot_watch = Some(Watch::of(ctx, reply));
                    }
                }
            }
            "SignCertificate" => {
                let sec = &mut st.sec;
                let Some(i) = sec.csr_sent.iter().position(|(id, _)| &**id == reply.id) else {
                    return;
                };
                let (_, ty) = sec.csr_sent.remove(i);
                if status_of(reply) == Some("Accepted") {
                    push_capped(&mut sec.csr_accepted, ty, MAX_CSRS);
                }
            }
            "CertificateSigned" if status_of(reply) == Some("Rejected") => {
                let sec = &mut st.sec;
                if sec.last_cert_event.is_none_or(|t| t < reply.call_at) {
                    sec.cert_expect = Some(Watch::of(ctx, reply));
                }
            }
            _ => {}
        }
    }
}

/// The certificate type a trigger asked for (`None`: any), when the current SignCertificate
/// came for a certificate trigger not refused and recent ([`trigger::came_for`]).
fn sign_trigger(st: &ProtoState, ctx: &Ctx<'_>) -> Option<Option<&'static str>> {
    match trigger::came_for(st, ctx)?.requested {
        "SignChargingStationCertificate" => Some(Some("ChargingStationCertificate")),
        "SignV2GCertificate" => Some(Some("V2GCertificate")),
        "SignV2G20Certificate" => Some(Some("V2G20Certificate")),
        "SignCombinedCertificate" | "SignChargePointCertificate" => Some(None),
        _ => None,
    }
}

fn security_event(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let sec = &mut st.sec;
    sec.pending.arm(
        Timestamp::after(ctx.now(), ctx.config().tol.call_timeout_us),
        Pending {
            id: Box::from(call.id),
            at: ctx.now(),
            line: ctx.line(),
        },
    );
    let Some(ty) = str_of(p, "type") else { return };
    if let Some(v) = st.station.version
        && !is_standard(v, ty)
    {
        let other = if v == Version::V16 {
            is_standard(Version::V21, ty).then_some("the 2.x spelling")
        } else {
            is_standard(Version::V16, ty).then_some("the 1.6 spelling")
        };
        ctx.report(
            &EVENT_TYPE_NONSTANDARD,
            format!(
                "security event type `{ty}` is not a standard event of OCPP {v}{}",
                other.map(|o| format!(" ({o})")).unwrap_or_default()
            ),
        );
    }
    if is_failure(ty) {
        let info = str_of(p, "techInfo")
            .map(|t| format!(": {}", crate::finding::shorten(t, 80)))
            .unwrap_or_default();
        ctx.report(
            &FAILURE_EVENT_REPORTED,
            format!("the charger reports security event {ty}{info}"),
        );
    }
    if let Some(ts) = str_of(p, "timestamp").and_then(|t| Timestamp::parse_rfc3339(t).ok()) {
        let skew = ctx.config().tol.clock_skew_us;
        if ts.micros() > ctx.now().micros().saturating_add(skew) {
            ctx.report(
                &EVENT_TIMESTAMP_FUTURE,
                format!(
                    "the event timestamp {ts} is {:.0} s after the time the frame was seen",
                    ts.secs_since(ctx.now())
                ),
            );
        }
    }
    match ty {
        "StartupOfTheDevice" | "ResetOrReboot" => {
            sec.last_startup_event = Some(ctx.now());
            sec.boot_watch = None;
        }
        "InvalidChargingStationCertificate" | "InvalidChargePointCertificate" => {
            sec.last_cert_event = Some(ctx.now());
            sec.cert_expect = None;
        }
        _ => {}
    }
}
