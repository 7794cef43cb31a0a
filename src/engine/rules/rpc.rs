//! `rpc.*`: OCPP-J framing (message types, element counts, ids, error frames) and the
//! correlation of answers with calls.

use serde_json::Value;

use crate::wire::doc::{Json, Kind};

use super::{ALL, Party, Rule, V2X, V21};
use crate::engine::Ctx;
use crate::finding::Severity;
use crate::ocpp::Version;
use crate::ocpp::error_code::{self, CodeFit};
use crate::wire::FrameError;

pub static NOT_JSON: Rule = Rule {
    id: "rpc.not-json",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Text payload is not valid JSON",
    spec: "OCPP-J 1.6 §4.1.2; 2.0.1 Part 4 §4.1.2, §4.1.7; 2.1 Part 4 §4.1.2",
    doc: "What it checks: the payload does not parse as JSON (RFC 8259): a syntax error, a lone \
surrogate in a \\u escape, nesting deeper than 128 levels, a truncated frame.\n\n\
Why it matters: the receiver cannot read the message id, so it cannot even answer with a \
CALLERROR that the sender could match; on 2.x it answers with id \"-1\".\n\n\
Example:\n  {\"ts\":\"...\",\"conn\":\"CP-001\",\"from\":\"charger\",\"text\":\"[2,\\\"1\\\",\\\"Heartbeat\\\",{}\"}",
};

pub static NOT_ARRAY: Rule = Rule {
    id: "rpc.not-array",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Top-level JSON value is not an array",
    spec: "OCPP-J 1.6 §4.2; 2.0.1 Part 4 §4.2",
    doc: "What it checks: the payload is JSON but not an array (an object, a string, a number).\n\n\
Why it matters: every OCPP-J message is `[MessageTypeId, MessageId, ...]`; anything else \
cannot be dispatched.",
};

pub static MESSAGE_TYPE_NOT_INTEGER: Rule = Rule {
    id: "rpc.message-type-not-integer",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Element 0 is missing or not an integer",
    spec: "OCPP-J 1.6 §4.1.3; 2.0.1 Part 4 §4.2.1 table 5",
    doc: "What it checks: the first array element is absent or not an integer number: `\"2\"`, \
`2.0`, `2e0` and `true` all fail.\n\n\
Why it matters: the message type id decides how the rest of the array is read.",
};

pub static UNKNOWN_MESSAGE_TYPE: Rule = Rule {
    id: "rpc.unknown-message-type",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Message type id outside 2-4 (1.6, 2.0.1) or 2-6 (2.1)",
    spec: "OCPP-J 1.6 §4.1.3 table 2; 2.0.1 Part 4 §4.1.3 table 3; 2.1 Part 4 §4.1.3 table 3",
    doc: "What it checks: element 0 is an integer but not a message type of the version: 2 CALL, \
3 CALLRESULT, 4 CALLERROR, and on 2.1 also 5 CALLRESULTERROR and 6 SEND.\n\n\
Why it matters: 1.6 and 2.1 receivers ignore such a message, 2.0.1 receivers answer \
MessageTypeNotSupported; either way it is lost.",
};

pub static WRONG_ELEMENT_COUNT: Rule = Rule {
    id: "rpc.wrong-element-count",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Array length does not fit the message type",
    spec: "OCPP-J 1.6 §4.2.1-4.2.3; 2.0.1 Part 4 §4.2.1-4.2.3; 2.1 Part 4 §4.2.1-4.2.4",
    doc: "What it checks: CALL and SEND have 4 elements, CALLRESULT 3, CALLERROR and \
CALLRESULTERROR 5.\n\n\
Why it matters: a missing payload, or an extra element, makes the receiver reject the frame.\n\n\
Example:\n  [2,\"19223201\",\"Heartbeat\"]   (no payload; `{}` is required)",
};

pub static MESSAGE_ID_NOT_STRING: Rule = Rule {
    id: "rpc.message-id-not-string",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Message id (element 1) is not a string",
    spec: "OCPP-J 1.6 §4.1.4 table 3; 2.0.1 Part 4 §4.1.4 table 4",
    doc: "What it checks: element 1 is a number, null or anything but a JSON string.\n\n\
Why it matters: the id correlates a response with its request; `1` and `\"1\"` are \
different ids, so the answer will not match.",
};

pub static MESSAGE_ID_TOO_LONG: Rule = Rule {
    id: "rpc.message-id-too-long",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Message id longer than 36 characters",
    spec: "OCPP-J 1.6 §4.1.4 table 3; 2.0.1 Part 4 §4.1.4; 2.1 Part 4 §4.1.4",
    doc: "What it checks: the message id of a CALL (or SEND) has more than 36 characters (Unicode \
scalar values). The limit is sized for a UUID. An answer repeats its call's id and is not \
judged for it.\n\n\
Why it matters: receivers store ids in fixed 36-character fields and may truncate or reject.",
};

pub static MESSAGE_ID_EMPTY: Rule = Rule {
    id: "rpc.message-id-empty",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Message id is an empty string",
    spec: "OCPP-J 1.6 §4.1.4",
    doc: "What it checks: the message id of a CALL (or SEND) is `\"\"` (an answer repeats its call's id).\n\n\
Why it matters: the id must identify the request; an empty id is legal JSON but useless for \
correlation and logging.",
};

pub static ACTION_NOT_STRING: Rule = Rule {
    id: "rpc.action-not-string",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL or SEND action (element 2) is not a string",
    spec: "OCPP-J 1.6 §4.2.1 table 4; 2.0.1 Part 4 §4.2.1 table 5",
    doc: "What it checks: element 2 of a CALL or SEND is not a JSON string.\n\n\
Why it matters: the action selects the handler and the payload schema.",
};

pub static UNKNOWN_ACTION: Rule = Rule {
    id: "rpc.unknown-action",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Action is not an action of the negotiated version",
    spec: "OCPP-J 1.6 §4.2.1, §4.2.3 table 7; 2.0.1 Part 4 §4.1.7, §4.3",
    doc: "What it checks: the action name is in no version's catalogue (near misses that differ only \
in case or carry a Request/Response suffix get their own rules, as do actions of another \
version).\n\n\
Why it matters: the receiver must answer NotImplemented; the message has no effect.",
};

pub static ACTION_CASE_MISMATCH: Rule = Rule {
    id: "rpc.action-case-mismatch",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Action matches a known action only when case is ignored",
    spec: "OCPP-J 1.6 §4.2.1 table 4; 2.0.1 Part 4 §4.2.1 table 5",
    doc: "What it checks: e.g. `bootNotification` or `HEARTBEAT`. Actions are case-sensitive.\n\n\
Why it matters: receivers compare exactly and answer NotImplemented.",
};

pub static ACTION_HAS_SUFFIX: Rule = Rule {
    id: "rpc.action-has-suffix",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Action carries a Request, Response, .req or .conf suffix",
    spec: "2.0.1 Part 4 §4.1.6; 2.1 Part 4 §4.1.6; OCPP-J 1.6 §4.2.1",
    doc: "What it checks: e.g. `BootNotificationRequest` or `Heartbeat.req`. The action is the \
message name without the suffix.\n\n\
Why it matters: receivers compare exactly and answer NotImplemented.",
};

pub static PAYLOAD_NOT_OBJECT: Rule = Rule {
    id: "rpc.payload-not-object",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL, CALLRESULT or SEND payload is not a JSON object",
    spec: "OCPP-J 1.6 §4.2.1, §4.2.2; 2.0.1 Part 4 §4.1.5",
    doc: "What it checks: the payload is an array, string, number or boolean. (`null` is reported \
by `schema.payload-null` or the schema rules.)\n\n\
Why it matters: every OCPP payload is an object; `{}` is the empty payload.",
};

pub static RESPONSE_UNKNOWN_ID: Rule = Rule {
    id: "rpc.response-unknown-id",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLRESULT or CALLERROR matches no outstanding CALL of the other side",
    spec: "OCPP-J 1.6 §4.1.4; 2.0.1 Part 4 §4.1.4, §4.2.3",
    doc: "What it checks: an answer whose id is not the id of a CALL that the other side sent on \
this connection and that is still waiting. A 2.x CALLERROR with id \"-1\" (the answer to an \
unreadable frame) is legal; on 1.6 it is reported as info. A CALLERROR answering a malformed \
CALL whose id was readable (a CALL of 3 elements, an action that is not a string) is the right \
answer and not reported.\n\n\
Mid-life traces: an error only when the trace shows this connection from its start (its \
`open` event, or a first frame that is the charger's BootNotification) with no gap record \
since; otherwise the answer may be to a CALL sent before the trace began, and it is info.\n\n\
Why it matters: the caller cannot match the answer; its request will time out.",
};

pub static DUPLICATE_RESPONSE: Rule = Rule {
    id: "rpc.duplicate-response",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Second CALLRESULT or CALLERROR for a CALL that was already answered",
    spec: "OCPP-J 1.6 §4.1.1; 2.0.1 Part 4 §4.1.1",
    doc: "What it checks: an answer carrying the id of a recently answered CALL of the other side.\n\n\
Why it matters: a CALL is answered exactly once; the caller ignores or misroutes the second \
answer.",
};

pub static DUPLICATE_OUTSTANDING_ID: Rule = Rule {
    id: "rpc.duplicate-outstanding-id",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL reuses the id of the same side's CALL that is still unanswered",
    spec: "OCPP-J 1.6 §4.2.3; 2.0.1 Part 4 §4.2.3",
    doc: "What it checks: a side sends a CALL whose id equals the id of one of its own CALLs that \
has not been answered yet. (Both sides have their own id space: crossing CALLs with equal ids \
are fine.)\n\n\
Why it matters: the receiver cannot tell which CALL an answer belongs to.",
};

pub static CONCURRENT_CALL: Rule = Rule {
    id: "rpc.concurrent-call",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "A side sends a CALL while its previous CALL is still unanswered",
    spec: "OCPP-J 1.6 §4.1.1; 2.0.1 Part 4 §4.1.1; 2.0.1 Part 2 Gen §3 FR.01; 2.1 Part 4 §4.1.1",
    doc: "What it checks: a side sends a CALL while another CALL of its own on the same connection \
is neither answered nor older than the call timeout (default 30 s). SEND frames (2.1) are \
exempt. CALLs of the two sides may cross.\n\n\
Why it matters: OCPP-J allows one outstanding CALL per direction. 1.6 says SHOULD NOT; 2.0.1 \
and 2.1 say SHALL NOT, so labs judging 2.x strictly can raise this rule to error in the \
configuration.",
};

pub static ERROR_CODE_UNKNOWN: Rule = Rule {
    id: "rpc.error-code-unknown",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLERROR code is not an OCPP error code",
    spec: "OCPP-J 1.6 §4.2.3 tables 6-7; 2.0.1 Part 4 §4.2.3 table 7, §4.3; 2.1 Part 4 §4.3",
    doc: "What it checks: the error code (element 2 of a CALLERROR or CALLRESULTERROR) is not a \
string, or not a code of any OCPP version.\n\n\
Why it matters: callers map codes to behaviour; an unknown code is handled as a generic \
failure at best.",
};

pub static ERROR_CODE_OTHER_VERSION: Rule = Rule {
    id: "rpc.error-code-other-version",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLERROR code is another version's spelling or a code the version lacks",
    spec: "OCPP-J 1.6 errata §5.1/§5.2; 2.0.1 Part 4 §4.3; 2.1 Part 4 §4.3",
    doc: "What it checks: 1.6 uses FormationViolation and OccurenceConstraintViolation (one r); 2.x \
uses FormatViolation; 2.1 uses OccurrenceConstraintViolation; MessageTypeNotSupported and \
RpcFrameworkError exist only in 2.x. On 2.0.1 both Occur(r)ence spellings pass: the official \
2.0.1 spelling is disputed, and the lenient reading is taken.\n\n\
Why it matters: a strict peer may not recognise the code.",
};

pub static ERROR_DESCRIPTION_NOT_STRING: Rule = Rule {
    id: "rpc.error-description-not-string",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLERROR errorDescription is not a string",
    spec: "OCPP-J 1.6 §4.2.3 table 6; 2.0.1 Part 4 §4.2.3 table 7",
    doc: "What it checks: element 3 of a CALLERROR or CALLRESULTERROR is not a string (`\"\"` when \
there is nothing to say).\n\n\
Why it matters: receivers parse the frame strictly and may drop it.",
};

pub static ERROR_DESCRIPTION_TOO_LONG: Rule = Rule {
    id: "rpc.error-description-too-long",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Any,
    summary: "CALLERROR errorDescription longer than 255 characters",
    spec: "2.0.1 Part 4 §4.2.3 table 7; 2.1 Part 4 §4.2.3 table 7",
    doc: "What it checks: on 2.x the errorDescription is limited to 255 characters.\n\n\
Why it matters: receivers may truncate or reject the frame.",
};

pub static ERROR_DETAILS_NOT_OBJECT: Rule = Rule {
    id: "rpc.error-details-not-object",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALLERROR errorDetails is not a JSON object",
    spec: "OCPP-J 1.6 §4.2.3 table 6; 2.0.1 Part 4 §4.2.3 table 7; 2.1 Part 4 §4.2.3",
    doc: "What it checks: element 4 of a CALLERROR or CALLRESULTERROR is null, a string, an array \
or a number. It must be an object, `{}` when empty.\n\n\
Why it matters: receivers parse the frame strictly and may drop it.",
};

pub static RESPONSE_TO_SEND: Rule = Rule {
    id: "rpc.response-to-send",
    severity: Severity::Error,
    severity_16: None,
    versions: V21,
    by: Party::Any,
    summary: "An answer carries the id of a SEND frame",
    spec: "2.1 Part 4 §4.2.4; 2.1 Part 2 N15.FR.02",
    doc: "What it checks: a CALLRESULT, CALLERROR or CALLRESULTERROR whose id is the id of a SEND \
(type 6) from the other side.\n\n\
Why it matters: SEND messages get no reply of any kind.",
};

pub static SEND_ACTION_NOT_ALLOWED: Rule = Rule {
    id: "rpc.send-action-not-allowed",
    severity: Severity::Error,
    severity_16: None,
    versions: V21,
    by: Party::Any,
    summary: "SEND carries an action other than NotifyPeriodicEventStream",
    spec: "2.1 Part 4 §4.1.3 table 3; 2.1 Part 2 §1.54",
    doc: "What it checks: only NotifyPeriodicEventStream is defined without a response; every other \
message is a request/response pair and goes in a CALL.\n\n\
Why it matters: the receiver will not answer, and the sender waits for nothing.",
};

pub static SEND_MESSAGE_AS_CALL: Rule = Rule {
    id: "rpc.send-message-as-call",
    severity: Severity::Error,
    severity_16: None,
    versions: V21,
    by: Party::Charger,
    summary: "NotifyPeriodicEventStream sent as a CALL instead of a SEND",
    spec: "2.1 Part 2 N15.FR.01; 2.1 Part 4 §4.2.4",
    doc: "What it checks: a CALL (type 2) of NotifyPeriodicEventStream.\n\n\
Why it matters: the message has no response schema; the CSMS cannot answer it, and the \
charger's one-CALL-at-a-time queue stalls.",
};

pub static CALLRESULTERROR_UNKNOWN_TARGET: Rule = Rule {
    id: "rpc.callresulterror-unknown-target",
    severity: Severity::Error,
    severity_16: None,
    versions: V21,
    by: Party::Any,
    summary: "CALLRESULTERROR matches no CALLRESULT the other side sent",
    spec: "2.1 Part 4 §4.1.4, §4.2.3",
    doc: "What it checks: a CALLRESULTERROR (type 5) is sent by the original caller about the \
CALLRESULT it received; its id must be the id of such a CALLRESULT.\n\n\
Why it matters: the other side cannot tell which result was refused.",
};

pub static FRAME_AFTER_CLOSE: Rule = Rule {
    id: "rpc.frame-after-close",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Data frame after the same side closed the WebSocket",
    spec: "RFC 6455 §5.5.1",
    doc: "What it checks: a side sends a text frame after its own close event, before the next \
open event of the connection.\n\n\
Why it matters: after sending a Close frame an endpoint must not send more data frames; the \
peer discards them.",
};

pub static NO_RESPONSE: Rule = Rule {
    id: "rpc.no-response",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL not answered within the call timeout",
    spec: "OCPP-J 1.6 §4.1.1; 2.0.1 Part 4 §4.1.1, §4.2.3; 2.0.1 Part 2 Gen §3.2",
    doc: "What it checks: a CALL that gets neither CALLRESULT nor CALLERROR within the call \
timeout (default 30 s; `--call-timeout` or `call_timeout` in the configuration file), judged \
on the trace's timestamps. A CALL still open when the trace ends is judged against the last \
timestamp of the trace. The finding points at the CALL's line. When a gap record (frames \
missing from the trace) came after the CALL, the answer may be among the missing frames: info.\n\n\
Why it matters: the caller gives up and may resend or disconnect. It is a warning, not an \
error: timeouts are implementation-defined, and 2.x allows a receiver to drop an invalid \
message without answering.",
};

pub static RESPONSE_AFTER_TIMEOUT: Rule = Rule {
    id: "rpc.response-after-timeout",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Answer to a CALL that had already timed out",
    spec: "OCPP-J 1.6 §4.1.1; 2.0.1 Part 4 §4.1.1",
    doc: "What it checks: a CALLRESULT or CALLERROR for a CALL that `rpc.no-response` had already \
reported as timed out.\n\n\
Why it matters: the caller has probably given up and may ignore the late answer; the \
state it carries (a transaction id, an accepted boot) may be lost.",
};

/// Reports a structural fault of the frame.
pub(crate) fn report_frame_error(ctx: &mut Ctx<'_>, e: &FrameError) {
    match e {
        FrameError::Empty => {} // reported as ws.empty-message by the caller
        FrameError::NotJson(msg) => ctx.report(&NOT_JSON, format!("not valid JSON: {msg}")),
        FrameError::NotArray => ctx.report(&NOT_ARRAY, "the payload is JSON but not an array"),
        FrameError::TypeNotInteger => ctx.report(
            &MESSAGE_TYPE_NOT_INTEGER,
            "element 0 must be the message type id, an integer (2, 3, 4, ...)",
        ),
        FrameError::UnknownType(t) => ctx.report(
            &UNKNOWN_MESSAGE_TYPE,
            format!("message type {t} is not an OCPP-J message type"),
        ),
        FrameError::WrongCount {
            message_type,
            got,
            id,
        } => {
            let id_note = id
                .as_deref()
                .map(|i| format!(" (id `{i}`)"))
                .unwrap_or_default();
            ctx.report(
                &WRONG_ELEMENT_COUNT,
                format!(
                    "a {} has {} elements, got {got}{id_note}",
                    message_type.name(),
                    message_type.element_count()
                ),
            );
        }
        FrameError::IdNotString { message_type } => ctx.report(
            &MESSAGE_ID_NOT_STRING,
            format!(
                "the {} message id (element 1) must be a string",
                message_type.name()
            ),
        ),
        FrameError::ActionNotString { id } => ctx.report(
            &ACTION_NOT_STRING,
            format!("CALL `{id}`: the action (element 2) must be a string"),
        ),
    }
}

/// Checks the message id of a structurally sound frame.
pub(crate) fn check_message_id(ctx: &mut Ctx<'_>, id: &str) {
    if id.is_empty() {
        ctx.report(&MESSAGE_ID_EMPTY, "the message id is an empty string");
    } else if id.len() > 36 {
        let chars = id.chars().count();
        if chars > 36 {
            ctx.report(
                &MESSAGE_ID_TOO_LONG,
                format!("the message id has {chars} characters; at most 36 are allowed"),
            );
        }
    }
}

/// Checks code, description and details of a CALLERROR or CALLRESULTERROR.
pub(crate) fn check_error_fields(
    ctx: &mut Ctx<'_>,
    code: Json<'_>,
    description: Json<'_>,
    details: Json<'_>,
) {
    match code.as_str() {
        Some(c) => {
            if let Some(version) = ctx.version {
                match error_code::fit(version, c) {
                    CodeFit::Valid => {}
                    CodeFit::OtherVersion => ctx.report(
                        &ERROR_CODE_OTHER_VERSION,
                        format!("error code `{c}` is not the OCPP {version} spelling or code"),
                    ),
                    CodeFit::Unknown => ctx.report(
                        &ERROR_CODE_UNKNOWN,
                        format!(
                            "`{c}` is not an OCPP {version} error code (expected one of {})",
                            error_code::codes(version).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                }
            }
        }
        None => ctx.report(
            &ERROR_CODE_UNKNOWN,
            format!("the error code must be a string, got {}", kind_of(code)),
        ),
    }
    match description.as_str() {
        Some(d) => {
            if ctx.version.is_some_and(Version::is_2x) && d.chars().count() > 255 {
                ctx.report(
                    &ERROR_DESCRIPTION_TOO_LONG,
                    format!(
                        "errorDescription has {} characters; at most 255 are allowed",
                        d.chars().count()
                    ),
                );
            }
        }
        None => ctx.report(
            &ERROR_DESCRIPTION_NOT_STRING,
            format!(
                "errorDescription must be a string (\"\" when empty), got {}",
                kind_of(description)
            ),
        ),
    }
    if !details.is_object() {
        ctx.report(
            &ERROR_DETAILS_NOT_OBJECT,
            format!(
                "errorDetails must be an object ({{}} when empty), got {}",
                kind_of(details)
            ),
        );
    }
}

/// [`json_kind`] of a document value.
pub(crate) fn kind_of(v: Json<'_>) -> &'static str {
    match v.kind() {
        Kind::Null => "null",
        Kind::Bool => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "an array",
        Kind::Object => "an object",
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
