//! `ws.*`: the WebSocket text payload itself, before it is read as JSON.

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
