//! `dir.*`: actions per version and the side that may send each CALL; plus the action-name
//! checks of `rpc.*` that need the catalogue.

use super::{ALL, Party, Rule, V2X, V16, rpc};
use crate::engine::Ctx;
use crate::finding::Severity;
use crate::ocpp::action::{self, LOCAL_CONTROLLER_ACTIONS, V16_SECURITY_EXTENSION};
use crate::ocpp::{Side, Version};

pub static WRONG_DIRECTION: Rule = Rule {
    id: "dir.wrong-direction",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "CALL for an action that this side may not send",
    spec: "OCPP 1.6 §4 (charger) / §5 (CSMS); 2.0.1 and 2.1 Part 2 §1 message definitions",
    doc: "What it checks: a CALL whose action the version's catalogue does not allow from the \
sending side, e.g. the CSMS sending StatusNotification or the charger sending Reset. \
DataTransfer may go both ways.\n\n\
Why it matters: the receiving side has no handler for it and must answer NotImplemented or \
NotSupported; it usually reveals a mixed-up role or a proxy wired backwards.\n\n\
Example:\n  {\"ts\":\"...\",\"conn\":\"CP-001\",\"from\":\"csms\",\"text\":\"[2,\\\"1\\\",\\\"Heartbeat\\\",{}]\"}",
};

pub static ACTION_NOT_IN_VERSION: Rule = Rule {
    id: "dir.action-not-in-version",
    severity: Severity::Error,
    severity_16: None,
    versions: ALL,
    by: Party::Any,
    summary: "Action exists in another OCPP version but not in the negotiated one",
    spec: "Action tables of OCPP 1.6, 2.0.1 Part 2 §1, 2.1 Part 2 §1",
    doc: "What it checks: a CALL naming an action of another version, e.g. StartTransaction on \
an ocpp2.0.1 connection or TransactionEvent on ocpp1.6. The finding names the version(s) where \
the action exists.\n\n\
Why it matters: the peers disagree on the protocol version; the receiver will answer \
NotImplemented and the transaction or status it carries is lost.",
};

pub static SECURITY_EXTENSION_ON_16: Rule = Rule {
    id: "dir.security-extension-on-16",
    severity: Severity::Info,
    severity_16: None,
    versions: V16,
    by: Party::Any,
    summary: "A 1.6 security white-paper action is used",
    spec: "Improved security for OCPP 1.6-J §1.4, §5",
    doc: "What it checks: a CALL of one of the eleven actions that the security white paper adds \
to OCPP 1.6 (SignCertificate, SecurityEventNotification, GetLog, ...).\n\n\
Why it matters: an observation for the report: it shows that the white paper's rules (security \
profiles, certificate handling) apply to this connection. Info only.",
};

pub static LOCAL_CONTROLLER_MESSAGE: Rule = Rule {
    id: "dir.local-controller-message",
    severity: Severity::Info,
    severity_16: None,
    versions: V2X,
    by: Party::Any,
    summary: "A Local Controller message is seen on a charger connection",
    spec: "2.0.1 Part 2 §1.41, §1.42, §1.63",
    doc: "What it checks: PublishFirmware, UnpublishFirmware or PublishFirmwareStatusNotification. \
These address a Local Controller; on a charging-station connection they are unusual.\n\n\
Why it matters: informational; the inspector treats them as CSMS→charger and charger→CSMS.",
};

const SUFFIXES: &[&str] = &["Request", "Response", ".req", ".conf"];

/// Checks a CALL's action against the version's catalogue and the sending side. Returns the
/// action's catalogue index when the action is known (even if sent the wrong way), so the
/// payload can still be schema-checked.
pub(crate) fn check_action(
    ctx: &mut Ctx<'_>,
    version: Version,
    from: Side,
    name: &str,
    send: bool,
) -> Option<usize> {
    let Some((idx, info)) = action::lookup(version, name) else {
        report_unknown(ctx, version, name);
        return None;
    };
    if !info.dir.allows(from) {
        ctx.report(
            &WRONG_DIRECTION,
            format!(
                "{from} sent a CALL of {name}, which only goes {} in OCPP {version}",
                info.dir.describe()
            ),
        );
    }
    if version == Version::V21 && name == "NotifyPeriodicEventStream" && !send {
        ctx.report(
            &rpc::SEND_MESSAGE_AS_CALL,
            "NotifyPeriodicEventStream sent as a CALL (type 2); it must be a SEND (type 6)",
        );
    }
    if send && name != "NotifyPeriodicEventStream" {
        ctx.report(
            &rpc::SEND_ACTION_NOT_ALLOWED,
            format!(
                "SEND carries {name}; only NotifyPeriodicEventStream is defined without a response"
            ),
        );
    }
    if version == Version::V16 && V16_SECURITY_EXTENSION.contains(&name) {
        ctx.report(
            &SECURITY_EXTENSION_ON_16,
            format!("{name} is a message of the 1.6 security white paper"),
        );
    }
    if version.is_2x() && LOCAL_CONTROLLER_ACTIONS.contains(&name) {
        ctx.report(
            &LOCAL_CONTROLLER_MESSAGE,
            format!("{name} addresses a Local Controller"),
        );
    }
    Some(idx)
}

fn report_unknown(ctx: &mut Ctx<'_>, version: Version, name: &str) {
    let elsewhere: Vec<&str> = Version::ALL
        .into_iter()
        .filter(|v| *v != version && action::lookup(*v, name).is_some())
        .map(Version::as_str)
        .collect();
    if !elsewhere.is_empty() {
        ctx.report(
            &ACTION_NOT_IN_VERSION,
            format!(
                "{name} is an action of OCPP {}, not of the negotiated OCPP {version}",
                elsewhere.join(" and ")
            ),
        );
        return;
    }
    if let Some(a) = action::catalogue(version)
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
    {
        ctx.report(
            &rpc::ACTION_CASE_MISMATCH,
            format!(
                "action `{name}` differs from `{}` only in letter case; actions are case-sensitive",
                a.name
            ),
        );
        return;
    }
    for suffix in SUFFIXES {
        if let Some(base) = name.strip_suffix(suffix)
            && action::lookup(version, base).is_some()
        {
            ctx.report(
                &rpc::ACTION_HAS_SUFFIX,
                format!("action `{name}` carries the suffix `{suffix}`; the action is `{base}`"),
            );
            return;
        }
    }
    ctx.report(
        &rpc::UNKNOWN_ACTION,
        format!("`{name}` is not an action of OCPP {version}"),
    );
}
