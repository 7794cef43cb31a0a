//! Duplicate entries and limits of a request, and GetBaseReport / GetReport with the
//! NotifyReport parts that answer them.

use super::*;

pub(super) fn check_duplicate_entries(ctx: &mut Ctx<'_>, payload: Json<'_>) {
    let entries = arr_of(payload, "setVariableData");
    if entries.len() > MAX_PAIRED {
        return;
    }
    for (i, a) in entries.iter().enumerate() {
        let (ka, ta) = (cv_key(a), attr_type(a));
        if entries
            .iter()
            .take(i)
            .any(|b| cv_key(b) == ka && attr_type(b) == ta)
        {
            ctx.report(
                &SET_VARIABLES_DUPLICATE_ENTRY,
                format!(
                    "setVariableData[{i}] writes {} ({ta}) a second time in the same request",
                    describe(a)
                ),
            );
            return;
        }
    }
}

/// ItemsPerMessage / BytesPerMessage of a request, when the charger reported them.
pub(super) fn check_limits(
    st: &ProtoState,
    ctx: &mut Ctx<'_>,
    call: &Call<'_>,
    component: &str,
    instance: &str,
    list_key: &str,
) {
    let config = &st.station.config;
    if config.no_vars() {
        return;
    }
    let n = arr_of(call.payload, list_key).len();
    if let Some(max) = config
        .var(component, None, "ItemsPerMessage", Some(instance))
        .and_then(|v| v.trim().parse::<usize>().ok())
        && n > max
    {
        ctx.report(
                &ITEMS_PER_MESSAGE_EXCEEDED,
                format!(
                    "{} has {n} entries in `{list_key}`; the charger reported {component}.ItemsPerMessage[{instance}] = {max}",
                    call.action
                ),
            );
    }
    if let Some(max) = config
        .var(component, None, "BytesPerMessage", Some(instance))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        let len = serde_json::to_string(&call.payload).map_or(0, |s| s.len());
        if len > max {
            ctx.report(
                &BYTES_PER_MESSAGE_EXCEEDED,
                format!(
                    "the {} payload alone is {len} bytes; the charger reported {component}.BytesPerMessage[{instance}] = {max}",
                    call.action
                ),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reports.

pub(super) fn report_request(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let Some((kind, request_id)) = ReportKind::asked(call.action, call.payload) else {
        return;
    };
    let reports = &mut st.dm.reports;
    reports.retain(|r| !(r.kind == kind && r.request_id == request_id));
    push_capped(
        reports,
        ReportReq {
            kind,
            request_id,
            call: CallRef::of_call(ctx, call),
            state: ReqState::Sent,
            next_seq: 0,
            finished: false,
            parts: 0,
            flagged: false,
        },
        MAX_REPORTS,
    );
}

pub(super) fn report_answered(st: &mut ProtoState, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
    let Some((kind, request_id)) = ReportKind::asked(reply.action, reply.request) else {
        return;
    };
    let Some(r) = st
        .dm
        .reports
        .iter_mut()
        .rev()
        .find(|r| r.kind == kind && r.request_id == request_id && &*r.call.id == reply.id)
    else {
        return;
    };
    r.state = match (reply.outcome, status_of(reply)) {
        (Outcome::Error { code }, _) => ReqState::Refused(Box::from(format!("CALLERROR {code}"))),
        (_, Some("Accepted")) => ReqState::Accepted { at: ctx.now() },
        (_, Some(other)) => ReqState::Refused(Box::from(other)),
        // An invalid answer: judge the parts as if it was accepted.
        (_, None) => ReqState::Accepted { at: ctx.now() },
    };
}

pub(super) fn report_part(st: &mut ProtoState, ctx: &mut Ctx<'_>, call: &Call<'_>) {
    let p = call.payload;
    let Some(kind) = ReportKind::of_report(call.action) else {
        return;
    };
    if kind == ReportKind::Report {
        for d in arr_of(p, "reportData") {
            auth::secrets::check_report_datum(ctx, d);
        }
    }
    let Some(request_id) = int_of(p, "requestId") else {
        return;
    };
    let boot_seen = st.station.booted();
    let Some(r) = st
        .dm
        .reports
        .iter_mut()
        .rev()
        .find(|r| r.kind == kind && r.request_id == request_id)
    else {
        let other = st
            .dm
            .reports
            .iter()
            .rev()
            .find(|r| r.request_id == request_id)
            .map(|r| r.call.action);
        let msg = format!(
            "{} carries requestId {request_id}, which belongs to no {} seen{}",
            call.action,
            kind.requests(),
            other.map_or_else(
                || {
                    if boot_seen {
                        String::new()
                    } else {
                        " (the request may predate the trace)".to_owned()
                    }
                },
                |a| format!(" (it is the requestId of a {a})")
            )
        );
        if boot_seen || other.is_some() {
            ctx.report(&REPORT_REQUEST_ID_MISMATCH, msg);
        } else {
            ctx.report_as(&REPORT_REQUEST_ID_MISMATCH, Severity::Info, msg);
        }
        return;
    };
    if let ReqState::Refused(status) = &r.state {
        if kind == ReportKind::Report && !r.flagged {
            r.flagged = true;
            ctx.report(
                &REPORT_AFTER_REJECTION,
                format!(
                    "NotifyReport for requestId {request_id}, although the {} of line {} was answered {status}",
                    r.call.action, r.call.line
                ),
            );
        }
        return;
    }
    r.parts += 1;
    let tbc = p.get("tbc").and_then(Json::as_bool).unwrap_or(false);
    if r.finished {
        ctx.report(
            &REPORT_SEQNO,
            format!(
                "{} for requestId {request_id} arrives after the part with tbc=false that ended the report",
                call.action
            ),
        );
    } else if kind.has_seq_no()
        && let Some(seq) = int_of(p, "seqNo")
    {
        if seq != r.next_seq {
            ctx.report(
                &REPORT_SEQNO,
                format!(
                    "{} for requestId {request_id} has seqNo {seq}; expected {}",
                    call.action, r.next_seq
                ),
            );
        }
        r.next_seq = seq.saturating_add(1);
    }
    r.finished = !tbc;
}

// ---------------------------------------------------------------------------------------
// 1.6 configuration.
