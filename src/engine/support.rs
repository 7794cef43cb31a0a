//! Helpers the station model and every rule family need: reading members of a JSON payload,
//! remembering a CALL to report about it later, reporting a follow-up that did not come and a
//! finding the trace may not prove (at a lower severity), and bounded lists. Nothing here
//! judges, and nothing here imports a rule.

use crate::engine::protocol::{Call, Reply};
use crate::engine::{About, Ctx};
use crate::finding::{Rule, Severity};
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::doc::{Array, Json};

/// The string member `key` of an object.
pub(crate) fn str_of<'a>(v: Json<'a>, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

/// The integer member `key` of an object.
pub(crate) fn int_of(v: Json<'_>, key: &str) -> Option<i64> {
    v.get(key)?.as_i64()
}

/// The date-time member `key` of an object, when it parses (RFC 3339).
pub(crate) fn ts_of(v: Json<'_>, key: &str) -> Option<Timestamp> {
    str_of(v, key).and_then(|s| Timestamp::parse_rfc3339(s).ok())
}

/// The string member `key` of a 1.6 answer's `idTagInfo` (a valid CALLRESULT's).
pub(crate) fn id_tag_info<'a>(reply: &Reply<'a>, key: &str) -> Option<&'a str> {
    str_of(reply.result()?.get("idTagInfo")?, key)
}

/// The array member `key` of an object (empty when absent or not an array).
pub(crate) fn arr_of<'a>(v: Json<'a>, key: &str) -> Array<'a> {
    v.get(key)
        .and_then(|a| a.as_array())
        .unwrap_or(Array::empty())
}

/// One `AvailabilityState` a 2.x NotifyEvent reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AvailabilityState<'a> {
    /// Of a `Connector` component (else of an `EVSE` one).
    pub(crate) of_connector: bool,
    pub(crate) evse: i64,
    /// The component's `evse.connectorId`, when given.
    pub(crate) connector: Option<i64>,
    pub(crate) state: &'a str,
}

/// The `AvailabilityState` values a 2.x NotifyEvent reports for a Connector or EVSE
/// component (with an `evse.id`), in message order.
pub(crate) fn availability_states<'a>(
    notify_event: Json<'a>,
) -> impl Iterator<Item = AvailabilityState<'a>> + 'a {
    arr_of(notify_event, "eventData").iter().filter_map(|d| {
        let comp = d.get("component")?;
        let var = d.get("variable")?;
        let of_connector = match str_of(comp, "name") {
            Some("Connector") => true,
            Some("EVSE") => false,
            _ => return None,
        };
        if str_of(var, "name") != Some("AvailabilityState") {
            return None;
        }
        let evse = comp.get("evse")?;
        Some(AvailabilityState {
            of_connector,
            evse: int_of(evse, "id")?,
            connector: int_of(evse, "connectorId"),
            state: str_of(d, "actualValue")?,
        })
    })
}

/// The `status` of a schema-valid CALLRESULT.
pub(crate) fn status_of<'a>(reply: &Reply<'a>) -> Option<&'a str> {
    reply.result().and_then(|r| str_of(r, "status"))
}

/// A message id kept for later. On the heap, sized to the id: an inline 36-byte buffer
/// (tried) saved no measurable time and made every remembered call 22 bytes bigger, about
/// 1.7 KiB per station with the rules' remembered calls (50,000 stations: +86 MiB).
#[derive(Clone)]
pub(crate) struct MsgId(Box<str>);

impl From<&str> for MsgId {
    fn from(id: &str) -> MsgId {
        MsgId(Box::from(id))
    }
}

impl std::ops::Deref for MsgId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for MsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// A remembered CALL, for findings reported later about it.
#[derive(Debug, Clone)]
pub(crate) struct CallRef {
    pub(crate) line: u64,
    pub(crate) at: Timestamp,
    pub(crate) from: Side,
    pub(crate) id: MsgId,
    pub(crate) action: &'static str,
}

impl CallRef {
    pub(crate) fn of_call(ctx: &Ctx<'_>, call: &Call<'_>) -> CallRef {
        CallRef::of_call_at(call, ctx.now(), ctx.line())
    }

    /// The CALL `call`, sent at `at` on line `line` (for the station model, which has no
    /// [`Ctx`]).
    pub(crate) fn of_call_at(call: &Call<'_>, at: Timestamp, line: u64) -> CallRef {
        CallRef {
            line,
            at,
            from: call.from,
            id: MsgId::from(call.id),
            action: call.action,
        }
    }

    pub(crate) fn of_reply(reply: &Reply<'_>) -> CallRef {
        CallRef {
            line: reply.call_line,
            at: reply.call_at,
            from: reply.caller,
            id: MsgId::from(reply.id),
            action: reply.action,
        }
    }

    pub(crate) fn about(&self) -> About<'_> {
        About {
            line: self.line,
            at: self.at,
            from: Some(self.from),
            unique_id: Some(&self.id),
            action: Some(self.action),
        }
    }
}

/// Whether a timestamp the station wrote is credible as a reference for ordering: not ahead
/// of the time the frame was observed by more than `clock_skew`. A stamp from a clock that
/// runs ahead (local time marked Z before the boot answer set the clock) is itself the fault
/// (`seq.cs-timestamp-future`); the correct stamps after the clock was set must not be
/// blamed for going backwards from it.
pub(crate) fn credible_stamp(ctx: &Ctx<'_>, ts: Timestamp) -> bool {
    ts.micros()
        <= ctx
            .now()
            .micros()
            .saturating_add(ctx.config().tol.clock_skew_us)
}

/// Reports `rule` about a remembered message whose follow-up did not come within the followup
/// window: `missing` says what was seen and what did not follow, and the message ends
/// `followed within N s`.
pub(crate) fn report_not_followed(
    ctx: &mut Ctx<'_>,
    rule: &'static Rule,
    about: About<'_>,
    missing: &str,
) {
    let secs = ctx.config().tol.followup_window_us as f64 / 1e6;
    ctx.report_about(
        rule,
        about,
        format!("{missing} followed within {secs:.0} s"),
    );
}

/// Reports `rule` at its own severity when the trace proves the finding (`proven`); else at
/// `doubt`, with `caveat` (what may excuse it) after the message in brackets.
pub(crate) fn report_unless_excused(
    ctx: &mut Ctx<'_>,
    rule: &'static Rule,
    proven: bool,
    (doubt, caveat): (Severity, &str),
    message: String,
) {
    if proven {
        ctx.report(rule, message);
    } else {
        ctx.report_as(rule, doubt, format!("{message} ({caveat})"));
    }
}

/// Pushes onto a list bounded at `cap` entries, dropping the oldest.
pub(crate) fn push_capped<T>(list: &mut Vec<T>, item: T, cap: usize) {
    if list.len() >= cap {
        list.remove(0);
    }
    list.push(item);
}

/// The entry of a list bounded at `cap` entries that `is` picks, pushing `new()` (and dropping
/// the oldest when full) when there is none.
pub(crate) fn find_or_push_capped<T>(
    list: &mut Vec<T>,
    is: impl FnMut(&T) -> bool,
    new: impl FnOnce() -> T,
    cap: usize,
) -> &mut T {
    let pos = match list.iter().position(is) {
        Some(pos) => pos,
        None => {
            push_capped(list, new(), cap);
            list.len() - 1
        }
    };
    &mut list[pos]
}

#[cfg(test)]
mod tests {
    use super::MsgId;

    #[test]
    fn a_message_id_reads_back_as_written_short_or_long() {
        for id in [
            "",
            "a",
            "0123456789abcdef0123456789abcdef0123",
            &"x".repeat(37),
            "ü-1",
        ] {
            let kept = MsgId::from(id);
            assert_eq!(&*kept, id);
        }
    }
}
