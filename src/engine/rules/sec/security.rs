//! `sec.*` and the message-observable `auth.*`: security events (SecurityEventNotification),
//! the certificate exchange (SignCertificate, CertificateSigned), the security profile a
//! connection actually uses (from the `open` event's scheme, TLS version, client certificate
//! and Basic-auth user) against what the station was told or declares, and requests that
//! would weaken it (a lower SecurityProfile, a malformed AuthorizationKey).
//!
//! Observed profile of a connection: `ws` + Basic auth = 1, `wss` + Basic auth = 2, `wss` +
//! client certificate = 3; anything the recorder did not know leaves it unknown, and the
//! rules that need it stay silent.

use super::{
    CERTIFICATE_REJECTED_WITHOUT_EVENT, CERTIFICATE_SIGNED_WITHOUT_CSR, EVENT_NOT_ACKNOWLEDGED,
    EVENT_TIMESTAMP_FUTURE, EVENT_TYPE_NONSTANDARD, FAILURE_EVENT_REPORTED,
    SIGN_CERTIFICATE_UNSOLICITED_TYPE, STARTUP_EVENT_MISSING,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Outcome, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::auth::{
    AUTHORIZATION_KEY_FORMAT, BASIC_OVER_PLAIN_WS, CSMS_ACCEPTED_BAD_CREDENTIALS,
    DOWNGRADE_ACCEPTED, PROFILE_CHANGED, PROFILE3_NO_CLIENT_CERT, TLS_TOO_OLD, USERNAME_MISMATCH,
};
use crate::engine::rules::support::{CallRef, arr_of, int_of, push_capped, status_of, str_of};
use crate::engine::rules::{Family, ProtoState};
use crate::engine::station::{Cfg, Deadlines};
use crate::finding::Severity;
use crate::ocpp::identity::{self, percent_decode};
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

#[derive(Debug)]
struct SignTrigger {
    call_id: Box<str>,
    /// The certificateType expected, `None` for any (SignCombinedCertificate).
    expected: Option<&'static str>,
    until: Timestamp,
}

/// A security-profile change awaiting its answer.
#[derive(Debug)]
struct ProfileChange {
    call_id: Box<str>,
    current: Option<u8>,
    new: i64,
    /// 2.x AllowSecurityProfileDowngrade, when known.
    allow_downgrade: Option<bool>,
}

#[derive(Debug)]
struct BootWatch {
    call: CallRef,
    due: Timestamp,
}

#[derive(Debug)]
struct CertExpect {
    call: CallRef,
    due: Timestamp,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    pending: Deadlines<Pending, MAX_PENDING>,
    /// The reason of the last BootNotification was Triggered (2.x).
    boot_triggered: bool,
    last_startup_event: Option<Timestamp>,
    boot_watch: Option<BootWatch>,
    /// SignCertificate requests sent and not answered yet: (id, certificateType).
    csr_sent: Vec<(Box<str>, Option<Box<str>>)>,
    /// Accepted CSRs waiting for their certificate (certificateType).
    csr_accepted: Vec<Option<Box<str>>>,
    sign_trigger: Option<SignTrigger>,
    last_cert_event: Option<Timestamp>,
    cert_expect: Option<CertExpect>,
    /// The observed profile of the current and of the previous connection.
    conn_profile: Option<u8>,
    last_profile: Option<u8>,
    /// A profile change was accepted since the current connection opened.
    change_allowed: bool,
    /// 1.6: a change to profile 3 was accepted and no profile-3 connection followed yet (the
    /// charger may fall back to its old profile when it cannot connect, A05.FR.08).
    unconfirmed_upgrade: bool,
    /// `auth.username-mismatch` fired on this connection and the CSMS has not spoken yet.
    bad_user: bool,
    profile_change: Option<ProfileChange>,
}

/// The security profile a connection uses, when the recorder knew enough.
fn observed_profile(open: &OpenInfo<'_>) -> Option<u8> {
    match (open.scheme?, open.client_cert_subject, open.basic_auth_user) {
        ("wss", Some(_), _) => Some(3),
        ("wss", None, Some(_)) => Some(2),
        ("ws", _, Some(_)) => Some(1),
        _ => None,
    }
}

/// `1.1` -> (1, 1); `TLSv1.3`, `TLS 1.2` likewise; SSL versions -> (0, 0).
fn tls_version(s: &str) -> Option<(u32, u32)> {
    let lower = s.trim().to_ascii_lowercase();
    if lower.starts_with("ssl") {
        return Some((0, 0));
    }
    let digits = lower.trim_start_matches(|c: char| !c.is_ascii_digit());
    let (major, minor) = digits.split_once('.').unwrap_or((digits, "0"));
    let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().unwrap_or(0)))
}

/// The configured security profile, as far as the traffic told it.
fn configured_profile(st: &ProtoState) -> Option<u8> {
    let v = if st.is_v16() {
        match st.station.config.key("SecurityProfile") {
            Cfg::Value(v) => Some(v),
            _ => None,
        }
    } else {
        st.station
            .config
            .var("SecurityCtrlr", None, "SecurityProfile", None)
    };
    v.and_then(|v| v.trim().parse().ok())
}

/// The hooks of this family (see [`Family`]).
pub(crate) struct Sec;

impl Family for Sec {
    const VERSIONS: &'static [Version] = ALL;

    fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, open: &OpenInfo<'_>) {
        let v16 = st.is_v16();
        let profile = observed_profile(open);
        let configured = configured_profile(st);
        let sec = &mut st.sec;
        sec.bad_user = false;
        sec.conn_profile = profile;
        if let Some(v) = open.tls_version
            && tls_version(v).is_some_and(|ver| ver < (1, 2))
        {
            ctx.report(
                &TLS_TOO_OLD,
                format!(
                    "the connection negotiated TLS {v}; OCPP security requires TLS 1.2 or later{}",
                    if v16 {
                        " (1.6 tolerates it for legacy chargers)"
                    } else {
                        ""
                    }
                ),
            );
        }
        if open.scheme == Some("ws") && open.basic_auth_user.is_some() {
            ctx.report(
                &BASIC_OVER_PLAIN_WS,
                "Basic-auth credentials are sent over plain ws:// (security profile 1); the password travels unencrypted",
            );
        }
        if let Some(user) = open.basic_auth_user {
            let conn = ctx.conn();
            if !identity::names(conn, user) {
                let decoded = percent_decode(conn);
                sec.bad_user = true;
                ctx.report(
                    &USERNAME_MISMATCH,
                    format!(
                        "the Basic-auth user name `{user}` is not the station identity `{}`",
                        decoded.as_deref().unwrap_or(conn)
                    ),
                );
            }
        }
        let cert_known = open.tls_version.is_some() || open.scheme == Some("ws");
        if configured == Some(3) && cert_known && open.client_cert_subject.is_none() {
            let msg = format!(
                "security profile 3 is configured, but the connection {}",
                if open.scheme == Some("ws") {
                    "uses plain ws:// (no TLS, no client certificate)"
                } else {
                    "presented no TLS client certificate"
                }
            );
            if sec.unconfirmed_upgrade {
                ctx.report_as(
                    &PROFILE3_NO_CLIENT_CERT,
                    Severity::Warning,
                    format!(
                        "{msg} (profile 3 was never used since it was set: this may be the fallback of A05.FR.08 after a failed profile-3 connection)"
                    ),
                );
            } else {
                ctx.report(&PROFILE3_NO_CLIENT_CERT, msg);
            }
        }
        if profile == Some(3) {
            sec.unconfirmed_upgrade = false;
        }
        if let (Some(before), Some(now)) = (sec.last_profile, profile)
            && before != now
            && !sec.change_allowed
        {
            ctx.report(
                    &PROFILE_CHANGED,
                    format!(
                        "the station connects with security profile {now}; its previous connection used profile {before}, and no profile change was accepted in between"
                    ),
                );
        }
        if profile.is_some() {
            sec.last_profile = profile;
            sec.change_allowed = false;
        }
    }

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        // Unanswered events are resent on the next connection; the CALLs died with this one.
        st.sec.pending.clear_all();
        st.sec.bad_user = false;
    }

    fn on_time(st: &mut ProtoState, ctx: &mut Ctx<'_>, now: Timestamp, _end: bool) {
        let sec = &mut st.sec;
        let timeout = ctx.config().tol.call_timeout_us;
        let window = ctx.config().tol.followup_window_us as f64 / 1e6;
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
        if sec.boot_watch.as_ref().is_some_and(|w| now > w.due)
            && let Some(w) = sec.boot_watch.take()
        {
            ctx.report_about(
                    &STARTUP_EVENT_MISSING,
                    w.call.about(),
                    format!(
                        "the boot was accepted, but no SecurityEventNotification StartupOfTheDevice or ResetOrReboot followed within {window:.0} s"
                    ),
                );
        }
        if sec.cert_expect.as_ref().is_some_and(|w| now > w.due)
            && let Some(w) = sec.cert_expect.take()
        {
            ctx.report_about(
                    &CERTIFICATE_REJECTED_WITHOUT_EVENT,
                    w.call.about(),
                    format!(
                        "the charger rejected the signed certificate, and no invalid-certificate SecurityEventNotification followed within {window:.0} s"
                    ),
                );
        }
        if sec.sign_trigger.as_ref().is_some_and(|t| now > t.until) {
            sec.sign_trigger = None;
        }
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        let version = st.station.version;
        if call.from == Side::Csms && st.sec.bad_user {
            st.sec.bad_user = false;
            ctx.report(
                &CSMS_ACCEPTED_BAD_CREDENTIALS,
                "the CSMS sends a CALL on a connection whose Basic-auth user is not the station identity; it should have refused the upgrade",
            );
        }
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
                    && let Some(t) = st.sec.sign_trigger.take()
                {
                    let got = ty.unwrap_or("ChargingStationCertificate");
                    if let Some(expected) = t.expected.filter(|e| *e != got) {
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
                    if st.station.booted() {
                        ctx.report(&CERTIFICATE_SIGNED_WITHOUT_CSR, msg);
                    } else {
                        ctx.report_as(
                            &CERTIFICATE_SIGNED_WITHOUT_CSR,
                            Severity::Info,
                            format!("{msg} (it may predate the trace)"),
                        );
                    }
                }
            }
            ("TriggerMessage" | "ExtendedTriggerMessage", Side::Csms) => {
                let expected = match str_of(p, "requestedMessage") {
                    Some("SignChargingStationCertificate") => {
                        Some(Some("ChargingStationCertificate"))
                    }
                    Some("SignV2GCertificate") => Some(Some("V2GCertificate")),
                    Some("SignV2G20Certificate") => Some(Some("V2G20Certificate")),
                    Some("SignCombinedCertificate" | "SignChargePointCertificate") => Some(None),
                    _ => None,
                };
                if let Some(expected) = expected {
                    let until = Timestamp::after(
                        ctx.now(),
                        ctx.config()
                            .tol
                            .call_timeout_us
                            .saturating_add(ctx.config().tol.followup_window_us),
                    );
                    st.sec.sign_trigger = Some(SignTrigger {
                        call_id: Box::from(call.id),
                        expected,
                        until,
                    });
                }
            }
            ("ChangeConfiguration", Side::Csms) => {
                let (Some(key), Some(value)) = (str_of(p, "key"), str_of(p, "value")) else {
                    return;
                };
                if key.eq_ignore_ascii_case("AuthorizationKey") {
                    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
                    if !hex || !(32..=40).contains(&value.len()) {
                        ctx.report(
                            &AUTHORIZATION_KEY_FORMAT,
                            format!(
                                "the new AuthorizationKey is {} characters{}; it must be 32-40 hexadecimal digits (16-20 bytes)",
                                value.chars().count(),
                                if hex { "" } else { " and not all hexadecimal" }
                            ),
                        );
                    }
                } else if key.eq_ignore_ascii_case("SecurityProfile")
                    && let Ok(new) = value.trim().parse::<i64>()
                {
                    let current = configured_profile(st).or(st.sec.conn_profile);
                    st.sec.profile_change = Some(ProfileChange {
                        call_id: Box::from(call.id),
                        current,
                        new,
                        allow_downgrade: None,
                    });
                }
            }
            ("SetNetworkProfile", Side::Csms) => {
                if let Some(new) = p
                    .get("connectionData")
                    .and_then(|c| int_of(c, "securityProfile"))
                {
                    let current = configured_profile(st).or(st.sec.conn_profile);
                    let allow = st
                        .station
                        .config
                        .var("SecurityCtrlr", None, "AllowSecurityProfileDowngrade", None)
                        .map(|v| v.trim().eq_ignore_ascii_case("true"));
                    st.sec.profile_change = Some(ProfileChange {
                        call_id: Box::from(call.id),
                        current,
                        new,
                        allow_downgrade: allow,
                    });
                }
            }
            _ => {}
        }
    }

    fn on_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        if reply.caller == Side::Charger && st.sec.bad_user {
            st.sec.bad_user = false;
            ctx.report(
                &CSMS_ACCEPTED_BAD_CREDENTIALS,
                "the CSMS answers a CALL on a connection whose Basic-auth user is not the station identity; it should have refused the upgrade",
            );
        }
        let window = ctx.config().tol.followup_window_us;
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
                        sec.boot_watch = Some(BootWatch {
                            call: CallRef::of_reply(reply),
                            due: Timestamp::after(ctx.now(), window),
                        });
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
                    sec.cert_expect = Some(CertExpect {
                        call: CallRef::of_reply(reply),
                        due: Timestamp::after(ctx.now(), window),
                    });
                }
            }
            "TriggerMessage" | "ExtendedTriggerMessage"
                if status_of(reply) != Some("Accepted")
                    && st
                        .sec
                        .sign_trigger
                        .as_ref()
                        .is_some_and(|t| &*t.call_id == reply.id) =>
            {
                st.sec.sign_trigger = None;
            }
            "ChangeConfiguration" | "SetNetworkProfile" => profile_change_reply(st, ctx, reply),
            "SetVariables" if status_of_priority(reply) => {
                st.sec.change_allowed = true;
            }
            _ => {}
        }
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

/// A SetVariables that set OCPPCommCtrlr.NetworkConfigurationPriority and was accepted.
fn status_of_priority(reply: &Reply<'_>) -> bool {
    let Some(result) = reply.result() else {
        return false;
    };
    arr_of(result, "setVariableResult").iter().any(|r| {
        r.get("variable")
            .and_then(|v| str_of(v, "name"))
            .is_some_and(|n| n == "NetworkConfigurationPriority")
            && matches!(
                str_of(r, "attributeStatus"),
                Some("Accepted" | "RebootRequired")
            )
    })
}

fn profile_change_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(change) = st.sec.profile_change.take_if(|c| &*c.call_id == reply.id) else {
        return;
    };
    if !matches!(status_of(reply), Some("Accepted" | "RebootRequired")) {
        return;
    }
    st.sec.change_allowed = true;
    let v2 = st.is_2x();
    if !v2 && change.new == 3 {
        st.sec.unconfirmed_upgrade = true;
    }
    let Some(current) = change.current else {
        return;
    };
    let new = change.new;
    if !v2 && new == i64::from(current) {
        ctx.report_as(
            &DOWNGRADE_ACCEPTED,
            Severity::Warning,
            format!(
                "ChangeConfiguration SecurityProfile to the profile already in use ({new}) answered {}; the white paper (A05.FR.01) requires Rejected for a value lower than or equal to the current one",
                status_of(reply).unwrap_or("Accepted")
            ),
        );
        return;
    }
    if new >= i64::from(current) {
        return;
    }
    let what = if v2 {
        "SetNetworkProfile"
    } else {
        "ChangeConfiguration SecurityProfile"
    };
    let msg = format!(
        "{what} to security profile {new} answered {}, while profile {current} is in use",
        status_of(reply).unwrap_or("Accepted")
    );
    if !v2 || new <= 1 {
        ctx.report(
            &DOWNGRADE_ACCEPTED,
            format!("{msg}; the profile may only go up"),
        );
        return;
    }
    match change.allow_downgrade {
        Some(true) => {}
        Some(false) => ctx.report(
            &DOWNGRADE_ACCEPTED,
            format!("{msg}, and AllowSecurityProfileDowngrade is false"),
        ),
        None => ctx.report_as(
            &DOWNGRADE_ACCEPTED,
            Severity::Warning,
            format!(
                "{msg}; 3 -> 2 is only allowed with AllowSecurityProfileDowngrade = true, which was not seen"
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
