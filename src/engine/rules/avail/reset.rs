//! The `avail.*` checks of a Reset: its answer against the transactions that run, and a boot
//! after an accepted reset that did not stop them. The `dm` family calls these with what the
//! station model knows (its transactions, [`Resets`](crate::engine::station::Resets));
//! they keep no state.

use crate::engine::Ctx;
use crate::engine::rules::avail::{
    EVSE_RESET_UNSUPPORTED_ACCEPTED, IMMEDIATE_RESET_NOT_ACCEPTED, ONIDLE_RESET_NOT_SCHEDULED,
    RESET_TX_NOT_STOPPED,
};

/// A 2.x Reset answer of `kind` (`Immediate`, `OnIdle`) with `status`: `running` whether a
/// transaction ran (on its EVSE) when it was asked, `disallowed` whether the charger
/// reported `AllowReset = false` for the EVSE `evse` it names.
pub(crate) fn answered(
    ctx: &mut Ctx<'_>,
    kind: &str,
    status: &str,
    running: bool,
    evse: Option<i64>,
    disallowed: bool,
) {
    if running && kind == "OnIdle" && status == "Accepted" {
        ctx.report(
            &ONIDLE_RESET_NOT_SCHEDULED,
            "Reset OnIdle answered Accepted while a transaction runs; the reset must wait for it (Scheduled)",
        );
    }
    if running && kind != "OnIdle" && status != "Accepted" {
        ctx.report(
            &IMMEDIATE_RESET_NOT_ACCEPTED,
            format!(
                "Reset {kind} answered {status} while a transaction runs; an immediate reset is answered Accepted"
            ),
        );
    }
    if let Some(e) = evse.filter(|&e| e > 0)
        && matches!(status, "Accepted" | "Scheduled")
        && disallowed
    {
        ctx.report(
            &EVSE_RESET_UNSUPPORTED_ACCEPTED,
            format!(
                "Reset of EVSE {e} answered {status}, although the charger reported EVSE {e} AllowReset = false"
            ),
        );
    }
}

/// The charger boots after the accepted Reset of line `reset_line` with transactions `ids`
/// (a few of them) still running.
pub(crate) fn boot_with_transactions(ctx: &mut Ctx<'_>, reset_line: u64, ids: &[String]) {
    ctx.report(
        &RESET_TX_NOT_STOPPED,
        format!(
            "the charger boots after the Reset of line {} without having stopped transaction(s) {} that ran when the reset was accepted",
            reset_line,
            ids.join(", ")
        ),
    );
}
