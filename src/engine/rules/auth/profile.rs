//! `auth.*` (the security profile and credentials): what a connection's handshake shows
//! (TLS version, Basic auth over plain ws, the Basic-auth user against the identity, a
//! missing client certificate under profile 3, a profile other than the last one's without
//! an accepted change), whether the CSMS goes on talking to a station whose credentials
//! do not match, and the requests that would weaken the profile (a lower SecurityProfile or
//! network profile accepted, a malformed AuthorizationKey).
//!
//! The security-profile facts are the station model's (`st.station.security`, see
//! `station/security.rs`): the profile each connection's handshake showed (`ws` + Basic
//! auth = 1, `wss` + Basic auth = 2, `wss` + client certificate = 3; anything the recorder
//! did not know leaves it unknown, and the rules that need it stay silent), the configured
//! profile (`Station::configured_profile`, from the configuration), the profile changes
//! asked and accepted. This family keeps only its own: that `auth.username-mismatch` fired
//! on the connection and the CSMS has not spoken since. This file does not judge security
//! events or certificates (`sec/security.rs`), nor the client certificate's identity
//! (`client_cert.rs`).

use super::{
    AUTHORIZATION_KEY_FORMAT, BASIC_OVER_PLAIN_WS, CSMS_ACCEPTED_BAD_CREDENTIALS,
    DOWNGRADE_ACCEPTED, PROFILE_CHANGED, PROFILE3_NO_CLIENT_CERT, TLS_TOO_OLD, USERNAME_MISMATCH,
};
use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, Reply};
use crate::engine::rules::ALL;
use crate::engine::rules::{Family, ProtoState};
use crate::engine::station::ProfileChange;
use crate::engine::support::{report_unless_excused, status_of, str_of};
use crate::finding::Severity;
use crate::ocpp::identity::{self, percent_decode};
use crate::ocpp::{Side, Version};

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// `auth.username-mismatch` fired on this connection and the CSMS has not spoken yet.
    bad_user: bool,
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

/// The hooks of this family (see [`Family`]).
pub(crate) struct Auth;

impl Family for Auth {
    const VERSIONS: &'static [Version] = ALL;

    fn on_open(st: &mut ProtoState, ctx: &mut Ctx<'_>, open: &OpenInfo<'_>) {
        let v16 = st.is_v16();
        let configured = st.station.configured_profile();
        let security = &st.station.security;
        let auth = &mut st.auth;
        auth.bad_user = false;
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
                !security.upgrade_unconfirmed,
                (
                    Severity::Warning,
                    "profile 3 was never used since it was set: this may be the fallback of A05.FR.08 after a failed profile-3 connection",
                ),
                msg,
            );
        }
        if let (Some(before), Some(now)) = (security.previous, security.current)
            && before != now
            && !security.accepted_before_open
        {
            ctx.report(
                    &PROFILE_CHANGED,
                    format!(
                        "the station connects with security profile {now}; its previous connection used profile {before}, and no profile change was accepted in between"
                    ),
                );
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
        if call.action == "ChangeConfiguration"
            && call.from == Side::Csms
            && let (Some(key), Some(value)) = (str_of(p, "key"), str_of(p, "value"))
            && key.eq_ignore_ascii_case("AuthorizationKey")
        {
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
        if matches!(reply.action, "ChangeConfiguration" | "SetNetworkProfile")
            && let Some(change) = st.station.security.accepted()
        {
            change_accepted(ctx, reply, change, st.is_2x());
        }
    }
}

/// A security-profile change `change` was accepted by `reply` (`v2`: on a 2.x connection).
fn change_accepted(ctx: &mut Ctx<'_>, reply: &Reply<'_>, change: ProfileChange, v2: bool) {
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
