//! 1.6 GetConfiguration / ChangeConfiguration answers and Reset answers (the `avail.*`
//! checks of a Reset are in `avail/reset.rs`; the reset in force is the station's,
//! [`Resets`](crate::engine::station::Resets)).

use super::*;

pub(super) fn get_configuration_reply(ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some(result) = reply.result() else { return };
    let asked = arr_of(reply.request, "key");
    let known = arr_of(result, "configurationKey");
    let unknown = arr_of(result, "unknownKey");
    let listed = |key: &str| {
        known
            .iter()
            .any(|k| str_of(k, "key").is_some_and(|k| k.eq_ignore_ascii_case(key)))
            || unknown
                .iter()
                .any(|k| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(key)))
    };
    if asked.is_empty() {
        if known.is_empty() {
            ctx.report(
                &GET_CONFIGURATION_KEY_UNACCOUNTED,
                "GetConfiguration without keys asks for the whole configuration; the reply lists no key at all",
            );
        }
    } else {
        let missing: Vec<String> = asked
            .iter()
            .filter_map(Json::as_str)
            .filter(|k| !listed(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !missing.is_empty() {
            ctx.report(
                &GET_CONFIGURATION_KEY_UNACCOUNTED,
                format!(
                    "requested key(s) {} appear neither in configurationKey nor in unknownKey",
                    list(&missing)
                ),
            );
        }
    }
    for k in known {
        auth::secrets::check_configuration_key(ctx, k);
    }
}

pub(super) fn change_configuration_reply(
    st: &mut ProtoState,
    ctx: &mut Ctx<'_>,
    reply: &Reply<'_>,
) {
    let (Some(key), Some(status)) = (str_of(reply.request, "key"), status_of(reply)) else {
        return;
    };
    let config = &st.station.config;
    let accepted = matches!(status, "Accepted" | "RebootRequired");
    if accepted && config.is_readonly(key) {
        ctx.report(
            &READONLY_CHANGE_ACCEPTED,
            format!(
                "ChangeConfiguration of `{key}` answered {status}, but the charger reported `{key}` as read-only"
            ),
        );
    }
    if status != "NotSupported" && config.is_unknown(key) {
        ctx.report(
            &UNKNOWN_KEY_CHANGE_NOT_NOTSUPPORTED,
            format!(
                "ChangeConfiguration of `{key}` answered {status}; the charger reported `{key}` as an unknown key, so NotSupported is expected"
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Resets.

pub(super) fn reset_reply(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let (Some(kind), Some(status)) = (str_of(reply.request, "type"), status_of(reply)) else {
        return;
    };
    if !st.is_2x() {
        return;
    }
    let evse = int_of(reply.request, "evseId");
    let running = st.station.resets.answered_running().unwrap_or(false);
    let disallowed = evse.is_some_and(|e| {
        st.station
            .config
            .var("EVSE", Some(e), "AllowReset", None)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
    });
    avail::reset::answered(ctx, kind, status, running, evse, disallowed);
}
