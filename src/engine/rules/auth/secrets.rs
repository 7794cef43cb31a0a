//! `auth.secret-readback`: the write-only Basic-auth password read back (1.6 AuthorizationKey
//! in a GetConfiguration answer; 2.x SecurityCtrlr.BasicAuthPassword in a GetVariables
//! result or a NotifyReport). `dm/device_model` walks those messages entry by entry and
//! calls these for each; they keep no state.

use crate::wire::doc::Json;

use super::SECRET_READBACK;
use crate::engine::Ctx;
use crate::engine::station::cv_key;
use crate::engine::support::{arr_of, str_of};

/// Whether a device-model entry (a GetVariables result, a NotifyReport datum) is
/// SecurityCtrlr.BasicAuthPassword.
fn is_basic_auth_password(entry: Json<'_>) -> bool {
    let k = cv_key(entry);
    k.comp == Some("SecurityCtrlr") && k.var == Some("BasicAuthPassword")
}

/// A 1.6 GetConfiguration `configurationKey` entry: AuthorizationKey with a value.
pub(crate) fn check_configuration_key(ctx: &mut Ctx<'_>, key: Json<'_>) {
    if str_of(key, "key").is_some_and(|k| k.eq_ignore_ascii_case("AuthorizationKey"))
        && str_of(key, "value").is_some_and(|v| !v.is_empty())
    {
        ctx.report(
            &SECRET_READBACK,
            "GetConfiguration returns a value for the write-only AuthorizationKey (the Basic-auth password)",
        );
    }
}

/// A GetVariables result: BasicAuthPassword answered other than Rejected, or with a value.
pub(crate) fn check_variable_result(ctx: &mut Ctx<'_>, result: Json<'_>) {
    let status = str_of(result, "attributeStatus").unwrap_or("");
    let value = str_of(result, "attributeValue");
    if is_basic_auth_password(result) && (status != "Rejected" || value.is_some()) {
        ctx.report(
            &SECRET_READBACK,
            format!(
                "GetVariables of SecurityCtrlr.BasicAuthPassword answered with status {status}{}; the password is write-only and must be answered Rejected",
                if value.is_some() { " and a value" } else { "" }
            ),
        );
    }
}

/// A NotifyReport `reportData` entry: BasicAuthPassword with a value.
pub(crate) fn check_report_datum(ctx: &mut Ctx<'_>, datum: Json<'_>) {
    let attrs = arr_of(datum, "variableAttribute");
    if is_basic_auth_password(datum) && attrs.iter().any(|a| a.get("value").is_some()) {
        ctx.report(
            &SECRET_READBACK,
            "NotifyReport gives a value for the write-only SecurityCtrlr.BasicAuthPassword",
        );
    }
}
