//! The `trig.*` checks of a triggered LogStatusNotification or FirmwareStatusNotification
//! (2.x): what it says against the upload or update in progress. The `fw` family keeps the
//! jobs and knows that a status was triggered, and calls these; they keep no state.

use crate::engine::Ctx;
use crate::engine::rules::trig::{TRIGGERED_FIRMWARE_STATUS_NOT_LAST, TRIGGERED_LOG_STATUS_WRONG};

/// The upload or update that has not ended when a triggered status arrives.
pub(crate) struct InProgress<'a> {
    /// The action of its request (`None`: known from statuses alone).
    pub(crate) action: Option<&'static str>,
    pub(crate) request_id: Option<i64>,
    /// Its last status.
    pub(crate) last: Option<&'a str>,
}

/// `trig.log-status-wrong`: a triggered LogStatusNotification says Uploading while an
/// upload runs and Idle otherwise (`seen_open`: the trace saw the station connect, so it
/// knows whether one runs).
pub(crate) fn log_status(
    ctx: &mut Ctx<'_>,
    uploading: Option<InProgress<'_>>,
    status: &str,
    seen_open: bool,
) {
    let wrong = match uploading {
        Some(job) if status == "Idle" && job.action.is_some() => Some(format!(
            "the triggered LogStatusNotification says Idle, but the upload of {} (requestId {}) has not ended; expected Uploading",
            job.action.unwrap_or("GetLog"),
            job.request_id.map_or("?".to_owned(), |r| r.to_string())
        )),
        None if status != "Idle" && seen_open => Some(format!(
            "the triggered LogStatusNotification says {status}, but no log upload is in progress; expected Idle"
        )),
        _ => None,
    };
    if let Some(msg) = wrong {
        ctx.report(&TRIGGERED_LOG_STATUS_WRONG, msg);
    }
}

/// `trig.firmware-status-not-last`: a triggered FirmwareStatusNotification repeats the last
/// status of the update in progress, and says Idle when none runs.
pub(crate) fn firmware_status(
    ctx: &mut Ctx<'_>,
    running: Option<InProgress<'_>>,
    status: &str,
    seen_open: bool,
) {
    let wrong = match running {
        Some(job) if job.action.is_some() => job
            .last
            .filter(|last| *last != status)
            .map(|last| {
                format!(
                    "the triggered FirmwareStatusNotification says {status}, but the last status of the update in progress was {last}; a triggered status repeats the last one"
                )
            }),
        None if status != "Idle" && seen_open => Some(format!(
            "the triggered FirmwareStatusNotification says {status}, but no firmware update is in progress; expected Idle"
        )),
        _ => None,
    };
    if let Some(msg) = wrong {
        ctx.report(&TRIGGERED_FIRMWARE_STATUS_NOT_LAST, msg);
    }
}
