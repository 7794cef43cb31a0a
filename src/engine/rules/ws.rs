//! `ws.*`: the WebSocket text payload itself, before it is read as JSON, and connections a
//! recorder failed for a WebSocket protocol error (RFC 6455 §7.1.7).

use super::{ALL, Party, Rule};
use crate::engine::Ctx;
use crate::finding::Severity;

pub static EMPTY_MESSAGE: Rule = Rule {
    id: "ws.empty-message",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Text frame is empty or whitespace only",
    spec: "OCPP-J 1.6 §4.2; 2.0.1 Part 4 §4.2",
    doc: "What it checks: a text frame whose payload is empty or holds only whitespace.\n\n\
Why it matters: every OCPP-J message is a JSON array; an empty frame carries no message. Some \
chargers send them as keep-alives and some libraries drop them silently, so this is a warning, \
not an error.\n\n\
Example:\n  {\"ts\":\"2026-11-22T10:15:03Z\",\"conn\":\"CP-001\",\"from\":\"charger\",\"text\":\"\"}",
};

pub static UTF8_BOM: Rule = Rule {
    id: "ws.utf8-bom",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Text payload starts with a byte order mark (U+FEFF)",
    spec: "RFC 8259 §8.1",
    doc: "What it checks: a payload that begins with U+FEFF. The rest of the frame is still \
checked as if the mark were absent.\n\n\
Why it matters: RFC 8259 forbids a byte order mark in networked JSON; strict parsers reject \
the whole message.",
};

pub static UNSUPPORTED_VERSION: Rule = Rule {
    id: "ws.unsupported-version",
    severity: Severity::Info,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Negotiated subprotocol has no rule set (ocpp1.2, ocpp1.5, ocpp2.0, unknown)",
    spec: "OCPP-J 1.6 §3.1.2 table 1",
    doc: "What it checks: the `open` event names a subprotocol other than ocpp1.6, ocpp2.0.1 or \
ocpp2.1.\n\n\
Why it matters: the inspector has no schemas or action tables for it, so only the OCPP-J \
framing rules run on that connection; say so rather than stay silent.",
};

pub static BINARY_FRAME: Rule = Rule {
    id: "ws.binary-frame",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "An OCPP message arrives in a binary WebSocket frame",
    spec: "OCPP-J 1.6 §4.1.2; 2.0.1 Part 4 §4.1.2; RFC 6455 §5.6",
    doc: "What it checks: a binary data frame on an OCPP connection (seen by the proxy).\n\n\
Why it matters: OCPP-J messages are UTF-8 JSON text. No edition says literally that binary \
frames are forbidden, so this is a warning; most CSMS implementations ignore or reject them.",
};

pub static SUBPROTOCOL_NOT_OFFERED: Rule = Rule {
    id: "ws.subprotocol-not-offered",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Csms,
    summary: "The CSMS selected a subprotocol the charger did not offer",
    spec: "RFC 6455 §4.1 (client step 6), §4.2.2; OCPP-J 1.6 §3.1.2; 2.0.1 Part 4 §3.1.2",
    doc: "What it checks: the `open` event carries the charger's offer \
(`offered_subprotocols`, recorded by the proxy from `Sec-WebSocket-Protocol`) and the \
negotiated `subprotocol` is not one of the offered tokens.\n\n\
Why it matters: a server may only answer with one of the subprotocols the client asked for; a \
conforming charger must fail such a connection, and one that does not may speak a version \
the CSMS does not expect. Silent when the trace does not know the offer.\n\n\
Example:\n  {\"event\":\"open\",\"conn\":\"CP-001\",\"subprotocol\":\"ocpp2.0.1\",\"offered_subprotocols\":\"ocpp1.6\"}",
};

pub static PROTOCOL_ERROR: Rule = Rule {
    id: "ws.protocol-error",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "The connection was failed with 1002: a peer broke the WebSocket framing",
    spec: "RFC 6455 §5.2, §5.4, §5.5, §7.1.7, §7.4.1",
    doc: "What it checks: a `close` event made by the recorder itself (no `by`) with code 1002. The proxy closes this way when a peer sends an unmasked client frame, sets RSV bits with no extension, uses a reserved opcode, sends a continuation out of place, a fragmented or oversized control frame, a 1-byte close payload or a close code that may not be sent; the recording names the peer and the fault (`fault_from`, `fault`).

Why it matters: a peer that breaks the framing cannot be understood reliably; RFC 6455 requires failing the connection, and the faulty side has a bug to fix.

Example:
  {\"event\":\"close\",\"conn\":\"CP-001\",\"code\":1002,\"fault_from\":\"charger\",\"fault\":\"an unmasked frame from the client\"}",
};

pub static INVALID_UTF8: Rule = Rule {
    id: "ws.invalid-utf8",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "The connection was failed with 1007: a text message was not valid UTF-8",
    spec: "RFC 6455 §5.6, §8.1; OCPP-J 1.6 §4.1.2; 2.0.1 Part 4 §4.1.2",
    doc: "What it checks: a `close` event made by the recorder itself (no `by`) with code 1007: a peer sent a text message (or a close reason) that is not UTF-8.

Why it matters: OCPP-J messages are UTF-8 JSON text; RFC 6455 requires failing the connection on invalid UTF-8, so the message was never delivered.

Example:
  {\"event\":\"close\",\"conn\":\"CP-001\",\"code\":1007,\"fault_from\":\"charger\",\"fault\":\"invalid UTF-8 in a text message or close reason\"}",
};

pub static MESSAGE_TOO_BIG: Rule = Rule {
    id: "ws.message-too-big",
    severity: Severity::Warning,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "The connection was failed with 1009: a message exceeded the recorder's size limit",
    spec: "RFC 6455 §7.4.1 (1009)",
    doc: "What it checks: a `close` event made by the recorder itself (no `by`) with code 1009: a peer sent a message over the proxy's `--max-message`.

Why it matters: the message never reached the other side. No OCPP edition sets a size limit, so this is a warning: either the peer sends something unreasonable or the limit is too low for this installation.

Example:
  {\"event\":\"close\",\"conn\":\"CP-001\",\"code\":1009,\"fault_from\":\"csms\",\"fault\":\"a message over the size limit\"}",
};

/// Judges a close the recorder made itself (`by` unknown) for a protocol error.
pub(crate) fn check_failed_close(
    code: Option<u16>,
    by: Option<crate::ocpp::Side>,
    ctx: &mut Ctx<'_>,
) {
    if by.is_some() {
        return;
    }
    let (rule, what) = match code {
        Some(1002) => (&PROTOCOL_ERROR, "a WebSocket protocol error"),
        Some(1007) => (&INVALID_UTF8, "a text message that is not UTF-8"),
        Some(1009) => (&MESSAGE_TOO_BIG, "a message over the size limit"),
        _ => return,
    };
    ctx.report(
        rule,
        format!(
            "the connection was failed with close code {} for {what} (the recording's `fault` names the peer and what it sent)",
            code.unwrap_or_default()
        ),
    );
}

/// Judges the CSMS's subprotocol choice against the charger's offer, when both are known.
pub(crate) fn check_offer(chosen: Option<&str>, offered: Option<&str>, ctx: &mut Ctx<'_>) {
    let (Some(chosen), Some(offered)) = (chosen, offered) else {
        return;
    };
    if offered.split(',').any(|t| t.trim() == chosen) {
        return;
    }
    ctx.report(
        &SUBPROTOCOL_NOT_OFFERED,
        format!(
            "the CSMS selected subprotocol `{chosen}`, but the charger offered only `{}`",
            offered.trim()
        ),
    );
}
