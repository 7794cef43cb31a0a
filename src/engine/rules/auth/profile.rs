//! `auth.*` (the security profile and credentials): what a connection's handshake shows
//! (TLS version, Basic auth over plain ws, the Basic-auth user against the identity, a
//! missing client certificate under profile 3, a profile other than the last one's without
//! an accepted change), whether the CSMS goes on talking to a station whose credentials
//! do not match, and the requests that would weaken the profile (a lower SecurityProfile or
//! network profile accepted, a malformed AuthorizationKey).
//!
//! Observed profile of a connection: `ws` + Basic auth = 1, `wss` + Basic auth = 2, `wss` +
//! client certificate = 3; anything the recorder did not know leaves it unknown, and the
//! rules that need it stay silent. The configured profile is read from the station model's
//! configuration (`st.station.config`). This file does not judge security events or
//! certificates (`sec/security.rs`), nor the client certificate's identity
//! (`client_cert.rs`).

use super::{
    AUTHORIZATION_KEY_FORMAT, BASIC_OVER_PLAIN_WS, CSMS_ACCEPTED_BAD_CREDENTIALS,
    DOWNGRADE_ACCEPTED, PROFILE_CHANGED, PROFILE3_NO_CLIENT_CERT, TLS_TOO_OLD, USERNAME_MISMATCH,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, ProtoState};
use crate::engine::station::Cfg;
use crate::engine::support::{arr_of, int_of, report_unless_excused, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::identity::{self, percent_decode};
use crate::ocpp::{Side, Version};

/// A security-profile change awaiting its answer.
#[derive(Debug)]
struct ProfileChange {
    call_id: Box<str>,
    current: Option<u8>,
    new: i64,
    /// 2.x AllowSecurityProfileDowngrade, when known.
    allow_downgrade: Option<bool>,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
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
pub(crate) struct Auth;

impl Family for Auth {
    const VERSIONS: &'static [Version] = ALL;

    fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, open: &OpenInfo<'_>) {
        let v16 = st.is_v16();
        let profile = observed_profile(open);
        let configured = configured_profile(st);
        let auth = &mut st.auth;
        auth.bad_user = false;
        auth.conn_profile = profile;
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
                auth.bad_user = true;
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
            report_unless_excused(
                ctx,
                &PROFILE3_NO_CLIENT_CERT,
                !auth.unconfirmed_upgrade,
                (
                    Severity::Warning,
                    "profile 3 was never used since it was set: this may be the fallback of A05.FR.08 after a failed profile-3 connection",
                ),
                msg,
            );
        }
        if profile == Some(3) {
            auth.unconfirmed_upgrade = false;
        }
        if let (Some(before), Some(now)) = (auth.last_profile, profile)
            && before != now
            && !auth.change_allowed
        {
            ctx.report(
                    &PROFILE_CHANGED,
                    format!(
                        "the station connects with security profile {now}; its previous connection used profile {before}, and no profile change was accepted in between"
                    ),
                );
        }
        if profile.is_some() {
            auth.last_profile = profile;
            auth.change_allowed = false;
        }
    }

    fn on_close(st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {
        st.auth.bad_user = false;
    }

    fn on_call(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        let p = call.payload;
        if call.from == Side::Csms && st.auth.bad_user {
            st.auth.bad_user = false;
            ctx.report(
                &CSMS_ACCEPTED_BAD_CREDENTIALS,
                "the CSMS sends a CALL on a connection whose Basic-auth user is not the station identity; it should have refused the upgrade",
            );
        }
        match (call.action, call.from) {
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
                    let current = configured_profile(st).or(st.auth.conn_profile);
                    st.auth.profile_change = Some(ProfileChange {
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
                    let current = configured_profile(st).or(st.auth.conn_profile);
                    let allow = st
                        .station
                        .config
                        .var("SecurityCtrlr", None, "AllowSecurityProfileDowngrade", None)
                        .map(|v| v.trim().eq_ignore_ascii_case("true"));
                    st.auth.profile_change = Some(ProfileChange {
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
        if reply.caller == Side::Charger && st.auth.bad_user {
            st.auth.bad_user = false;
            ctx.report(
                &CSMS_ACCEPTED_BAD_CREDENTIALS,
                "the CSMS answers a CALL on a connection whose Basic-auth user is not the station identity; it should have refused the upgrade",
            );
        }
        match reply.action {
            "ChangeConfiguration" | "SetNetworkProfile" => profile_change_reply(st, ctx, reply),
            "SetVariables" if status_of_priority(reply) => {
                st.auth.change_allowed = true;
            }
            _ => {}
        }
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
    let Some(change) = st.auth.profile_change.take_if(|c| &*c.call_id == reply.id) else {
        return;
    };
    if !matches!(status_of(reply), Some("Accepted" | "RebootRequired")) {
        return;
    }
    st.auth.change_allowed = true;
    let v2 = st.is_2x();
    if !v2 && change.new == 3 {
        st.auth.unconfirmed_upgrade = true;
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
