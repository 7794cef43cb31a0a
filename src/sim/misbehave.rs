//! The misbehaviours a simulated station can be told to commit (`--misbehave KIND`), each
//! mapped to the inspector rule it must trigger. The table is the contract: the CLI prints it
//! (`sim charger --list-misbehaviours`) and `tests/sim.rs` runs every row for every version
//! it lists and expects its rule.
//!
//! This module only names the faults; the station commits them (`charger.rs`).

use std::fmt;
use std::str::FromStr;

use crate::ocpp::Version;

/// One kind of rule-breaking a station can be told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Misbehave {
    NotJson,
    NotArray,
    EmptyFrame,
    BinaryFrame,
    UnknownAction,
    ActionSuffix,
    ActionCase,
    LongMessageId,
    DuplicateId,
    UnknownResponseId,
    WrongType,
    BadEnum,
    EnumCase,
    BadDatetime,
    CustomDataOn16,
    WrongDirection,
    OtherVersionAction,
    BadResponse,
    UnknownErrorCode,
    ConfigKeyUnaccounted,
    GetVariablesCountMismatch,
    UnknownTransaction,
    MeterValuesUnknownTx,
    ForbiddenTransition,
    Connector0Status,
    StartConnectorZero,
    MeterStopBelowStart,
    StopTwice,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct MisbehaveInfo {
    pub kind: Misbehave,
    /// The `--misbehave` name.
    pub name: &'static str,
    pub versions: &'static [Version],
    /// The rule id it triggers.
    pub rule: &'static str,
    pub summary: &'static str,
}

const ALL: &[Version] = &Version::ALL;
const V16: &[Version] = &[Version::V16];
const V2X: &[Version] = &[Version::V201, Version::V21];

const fn row(
    kind: Misbehave,
    name: &'static str,
    versions: &'static [Version],
    rule: &'static str,
    summary: &'static str,
) -> MisbehaveInfo {
    MisbehaveInfo {
        kind,
        name,
        versions,
        rule,
        summary,
    }
}

/// Every misbehaviour, with its versions and the rule it triggers.
pub static TABLE: &[MisbehaveInfo] = &[
    row(
        Misbehave::NotJson,
        "not-json",
        ALL,
        "rpc.not-json",
        "sends a truncated JSON text frame",
    ),
    row(
        Misbehave::NotArray,
        "not-array",
        ALL,
        "rpc.not-array",
        "sends a JSON object instead of an OCPP-J array",
    ),
    row(
        Misbehave::EmptyFrame,
        "empty-frame",
        ALL,
        "ws.empty-message",
        "sends an empty text frame",
    ),
    row(
        Misbehave::BinaryFrame,
        "binary-frame",
        ALL,
        "ws.binary-frame",
        "sends a Heartbeat CALL in a binary frame",
    ),
    row(
        Misbehave::UnknownAction,
        "unknown-action",
        ALL,
        "rpc.unknown-action",
        "sends a CALL for an action no version has",
    ),
    row(
        Misbehave::ActionSuffix,
        "action-suffix",
        ALL,
        "rpc.action-has-suffix",
        "sends HeartbeatRequest instead of Heartbeat",
    ),
    row(
        Misbehave::ActionCase,
        "action-case",
        ALL,
        "rpc.action-case-mismatch",
        "sends heartbeat in lower case",
    ),
    row(
        Misbehave::LongMessageId,
        "long-message-id",
        ALL,
        "rpc.message-id-too-long",
        "sends a CALL whose message id has 40 characters",
    ),
    row(
        Misbehave::DuplicateId,
        "duplicate-id",
        ALL,
        "rpc.duplicate-outstanding-id",
        "sends two CALLs with the same id before the first is answered",
    ),
    row(
        Misbehave::UnknownResponseId,
        "unknown-response-id",
        ALL,
        "rpc.response-unknown-id",
        "sends a CALLRESULT for a CALL that never came",
    ),
    row(
        Misbehave::WrongType,
        "wrong-type",
        ALL,
        "schema.request-invalid",
        "sends an Authorize whose id token is a number",
    ),
    row(
        Misbehave::BadEnum,
        "bad-enum",
        ALL,
        "schema.request-invalid",
        "reports a connector status that is not in the enum",
    ),
    row(
        Misbehave::EnumCase,
        "enum-case",
        ALL,
        "schema.enum-case-mismatch",
        "reports a connector status in the wrong case",
    ),
    row(
        Misbehave::BadDatetime,
        "bad-datetime",
        ALL,
        "schema.datetime-invalid",
        "sends a StatusNotification timestamp without time zone offset",
    ),
    row(
        Misbehave::CustomDataOn16,
        "custom-data",
        V16,
        "schema.custom-data-on-16",
        "puts a 2.x customData member in a 1.6 Heartbeat",
    ),
    row(
        Misbehave::WrongDirection,
        "wrong-direction",
        ALL,
        "dir.wrong-direction",
        "sends Reset, a CSMS-to-charger action, to the CSMS",
    ),
    row(
        Misbehave::OtherVersionAction,
        "other-version-action",
        ALL,
        "dir.action-not-in-version",
        "sends an action of another OCPP version",
    ),
    row(
        Misbehave::BadResponse,
        "bad-response",
        ALL,
        "schema.response-invalid",
        "answers the CSMS's configuration read with an invalid payload",
    ),
    row(
        Misbehave::UnknownErrorCode,
        "unknown-error-code",
        ALL,
        "rpc.error-code-unknown",
        "answers the CSMS's configuration read with a CALLERROR code no version has",
    ),
    row(
        Misbehave::ConfigKeyUnaccounted,
        "config-key-unaccounted",
        V16,
        "dm.get-configuration-key-unaccounted",
        "leaves a requested key out of its GetConfiguration answer",
    ),
    row(
        Misbehave::GetVariablesCountMismatch,
        "get-variables-count",
        V2X,
        "dm.get-variables-count-mismatch",
        "answers GetVariables with one result fewer than asked",
    ),
    row(
        Misbehave::UnknownTransaction,
        "unknown-transaction",
        V16,
        "tx16.stop-unknown-tx",
        "stops a transaction it never started",
    ),
    row(
        Misbehave::MeterValuesUnknownTx,
        "meter-values-unknown-tx",
        V16,
        "tx16.meter-values-unknown-tx",
        "sends MeterValues for a transaction it never started",
    ),
    row(
        Misbehave::ForbiddenTransition,
        "forbidden-transition",
        V16,
        "status16.unlisted-transition",
        "reports a connector going from Available straight to Finishing",
    ),
    row(
        Misbehave::Connector0Status,
        "connector0-status",
        V16,
        "status16.connector0-status",
        "reports connector 0 as Charging",
    ),
    row(
        Misbehave::StartConnectorZero,
        "start-connector-zero",
        V16,
        "tx16.start-connector-zero",
        "starts a transaction on connector 0",
    ),
    row(
        Misbehave::MeterStopBelowStart,
        "meter-stop-below-start",
        V16,
        "tx16.meter-stop-below-start",
        "stops its first transaction with meterStop below meterStart",
    ),
    row(
        Misbehave::StopTwice,
        "stop-twice",
        V16,
        "tx16.stop-twice",
        "sends StopTransaction again after its first stop was acknowledged",
    ),
];

impl Misbehave {
    /// This kind's row of [`TABLE`].
    pub fn info(self) -> &'static MisbehaveInfo {
        // Every kind has a row (a unit test checks it); the first row is a harmless fallback.
        TABLE.iter().find(|r| r.kind == self).unwrap_or(&TABLE[0])
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Whether a station of `version` can commit it.
    pub fn applies_to(self, version: Version) -> bool {
        self.info().versions.contains(&version)
    }
}

impl fmt::Display for Misbehave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Misbehave {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TABLE.iter().find(|r| r.name == s).map(|r| r.kind).ok_or_else(|| {
            format!("unknown misbehaviour `{s}` (`ocpp-inspector sim charger --list-misbehaviours` lists them)")
        })
    }
}

/// The table as text: one line per kind (name, versions, rule, summary).
pub fn table_text() -> String {
    let mut out = String::new();
    for r in TABLE {
        let versions: Vec<&str> = r.versions.iter().map(|v| v.as_str()).collect();
        out.push_str(&format!(
            "{:<24} {:<14} {:<38} {}\n",
            r.name,
            versions.join(","),
            r.rule,
            r.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_and_names_parse_back() {
        for r in TABLE {
            assert_eq!(TABLE.iter().filter(|o| o.kind == r.kind).count(), 1);
            assert_eq!(TABLE.iter().filter(|o| o.name == r.name).count(), 1);
            assert_eq!(r.name.parse::<Misbehave>(), Ok(r.kind));
            assert_eq!(r.kind.info().name, r.name);
        }
        assert!("no-such".parse::<Misbehave>().is_err());
    }
}
