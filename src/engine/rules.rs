//! The rule registry, like a linter's: every rule has a stable id, a default severity, the
//! versions it applies to, the party whose frame breaks it, a one-line summary, a spec
//! reference and a longer doc. `ocpp-inspector rules` prints this table.
//!
//! Ids are stable forever: a rule may be removed or renamed only by adding an alias in
//! [`ALIASES`]. The checks themselves live beside the metadata, one file per family.

pub mod boot;
pub mod dir;
pub mod dm;
pub mod fw;
pub mod liveness;
pub mod resv;
pub mod rpc;
pub mod sc;
pub mod schema;
pub mod sec;
pub mod status16;
pub mod status2;
pub mod trig;
pub mod tx16;
pub mod tx2;
pub mod value;
pub mod ws;

use std::sync::LazyLock;

use crate::finding::Severity;
use crate::ocpp::Version;

/// Whose frame (or omission) breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Charger,
    Csms,
    Any,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Charger => "charger",
            Party::Csms => "csms",
            Party::Any => "any",
        }
    }
}

/// The metadata of one rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, `<family>.<fault>`, named after what is wrong.
    pub id: &'static str,
    /// Default severity (error for a MUST/SHALL, warning for a SHOULD, info for observations).
    pub severity: Severity,
    /// A different default severity on 1.6, where the 1.6 text is weaker (SHOULD vs SHALL).
    pub severity_16: Option<Severity>,
    pub versions: &'static [Version],
    pub by: Party,
    pub summary: &'static str,
    /// Where the requirement is written (document and section).
    pub spec: &'static str,
    /// What it checks, why it matters, an example. Markdown-ish plain text.
    pub doc: &'static str,
}

impl Rule {
    /// The default severity of this rule on `version`.
    pub fn default_severity(&self, version: Option<Version>) -> Severity {
        match (version, self.severity_16) {
            (Some(Version::V16), Some(s)) => s,
            _ => self.severity,
        }
    }

    pub fn applies_to(&self, version: Version) -> bool {
        self.versions.contains(&version)
    }

    /// The family, the part of the id before the dot.
    pub fn family(&self) -> &'static str {
        self.id.split_once('.').map_or(self.id, |(f, _)| f)
    }
}

pub(crate) const ALL: &[Version] = &[Version::V16, Version::V201, Version::V21];
pub(crate) const V2X: &[Version] = &[Version::V201, Version::V21];
pub(crate) const V16: &[Version] = &[Version::V16];
pub(crate) const V21: &[Version] = &[Version::V21];

/// Every rule, in the order `ocpp-inspector rules` lists them: the framing and schema
/// families, then the protocol-state families (each file lists its own `RULES`).
pub static REGISTRY: LazyLock<Vec<&'static Rule>> = LazyLock::new(|| {
    let mut all = CORE.to_vec();
    for family in [
        boot::RULES,
        liveness::RULES,
        status16::RULES,
        tx16::RULES,
        tx2::RULES,
        status2::RULES,
        dm::RULES,
        trig::RULES,
        sc::RULES,
        fw::RULES,
        resv::RULES,
        sec::RULES,
        value::RULES,
    ] {
        all.extend_from_slice(family);
    }
    all
});

/// The rules of the framing, direction and schema families.
static CORE: &[&Rule] = &[
    // ws: the WebSocket text payload itself
    &ws::EMPTY_MESSAGE,
    &ws::UTF8_BOM,
    &ws::UNSUPPORTED_VERSION,
    &ws::BINARY_FRAME,
    &ws::SUBPROTOCOL_NOT_OFFERED,
    // rpc: OCPP-J framing and correlation
    &rpc::NOT_JSON,
    &rpc::NOT_ARRAY,
    &rpc::MESSAGE_TYPE_NOT_INTEGER,
    &rpc::UNKNOWN_MESSAGE_TYPE,
    &rpc::WRONG_ELEMENT_COUNT,
    &rpc::MESSAGE_ID_NOT_STRING,
    &rpc::MESSAGE_ID_TOO_LONG,
    &rpc::MESSAGE_ID_EMPTY,
    &rpc::ACTION_NOT_STRING,
    &rpc::UNKNOWN_ACTION,
    &rpc::ACTION_CASE_MISMATCH,
    &rpc::ACTION_HAS_SUFFIX,
    &rpc::PAYLOAD_NOT_OBJECT,
    &rpc::RESPONSE_UNKNOWN_ID,
    &rpc::DUPLICATE_RESPONSE,
    &rpc::DUPLICATE_OUTSTANDING_ID,
    &rpc::CONCURRENT_CALL,
    &rpc::ERROR_CODE_UNKNOWN,
    &rpc::ERROR_CODE_OTHER_VERSION,
    &rpc::ERROR_DESCRIPTION_NOT_STRING,
    &rpc::ERROR_DESCRIPTION_TOO_LONG,
    &rpc::ERROR_DETAILS_NOT_OBJECT,
    &rpc::RESPONSE_TO_SEND,
    &rpc::SEND_ACTION_NOT_ALLOWED,
    &rpc::SEND_MESSAGE_AS_CALL,
    &rpc::CALLRESULTERROR_UNKNOWN_TARGET,
    &rpc::FRAME_AFTER_CLOSE,
    &rpc::NO_RESPONSE,
    &rpc::RESPONSE_AFTER_TIMEOUT,
    // dir: actions per version and who may send them
    &dir::WRONG_DIRECTION,
    &dir::ACTION_NOT_IN_VERSION,
    &dir::SECURITY_EXTENSION_ON_16,
    &dir::LOCAL_CONTROLLER_MESSAGE,
    // schema: payloads against the official JSON schemas
    &schema::REQUEST_INVALID,
    &schema::RESPONSE_INVALID,
    &schema::SEND_INVALID,
    &schema::DATETIME_INVALID,
    &schema::PAYLOAD_NULL,
    &schema::CUSTOM_DATA_ON_16,
    &schema::ENUM_CASE_MISMATCH,
];

/// Old ids that still resolve, mapped to the id that replaced them.
pub static ALIASES: &[(&str, &str)] = &[];

/// Finds a rule by id (or alias).
pub fn find(id: &str) -> Option<&'static Rule> {
    let id = ALIASES
        .iter()
        .find(|(old, _)| *old == id)
        .map_or(id, |(_, new)| *new);
    REGISTRY.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in REGISTRY.iter() {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            let (family, fault) = r.id.split_once('.').expect("family.fault");
            assert!(
                family
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
            assert!(
                fault
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for r in REGISTRY.iter() {
            assert!(
                !r.summary.is_empty() && r.summary.len() <= 100,
                "{}: summary",
                r.id
            );
            assert!(!r.summary.ends_with('.'), "{}: summary is a phrase", r.id);
            assert!(!r.spec.is_empty(), "{}: spec", r.id);
            assert!(r.doc.len() > 80, "{}: doc too short", r.id);
            assert!(!r.versions.is_empty(), "{}: versions", r.id);
        }
    }

    #[test]
    fn aliases_point_at_rules() {
        for (old, new) in ALIASES {
            assert!(find(old).is_some_and(|r| r.id == *new));
        }
    }
}
