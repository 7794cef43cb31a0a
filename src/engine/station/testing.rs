//! Builders of the CALLs and answers the station model's unit tests feed (test builds only).
//! Judges nothing.

use crate::engine::protocol::{Call, Outcome, Reply};
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::doc::Json;

/// A schema-valid CALL (not a 2.1 SEND).
pub(crate) fn call<'a>(
    id: &'a str,
    action: &'static str,
    from: Side,
    payload: Json<'a>,
) -> Call<'a> {
    Call {
        id,
        action,
        from,
        payload,
        valid: true,
        send: false,
    }
}

/// A schema-valid CALLRESULT to a schema-valid CALL that `caller` sent at `call_at`, on
/// line 1.
pub(crate) fn answer<'a>(
    id: &'a str,
    action: &'static str,
    caller: Side,
    request: Json<'a>,
    call_at: Timestamp,
    result: Json<'a>,
) -> Reply<'a> {
    Reply {
        id,
        action,
        caller,
        request,
        request_valid: true,
        call_at,
        call_line: 1,
        outcome: Outcome::Result {
            payload: result,
            valid: true,
        },
    }
}
