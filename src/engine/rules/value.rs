//! `value.*`: value formats of configuration keys and device-model variables.
//!
//! The catalogue of the prefix: every rule's id, severity, versions, summary, spec and doc,
//! and [`RULES`] in registry order. The checks are in `value/formats.rs`.

use crate::engine::rules::{Party, Rule, V2X, V16};
use crate::finding::Severity;

pub(crate) mod formats;

/// The rules of this prefix, in registry order.
pub static RULES: &[&Rule] = &[
    &VARIABLE_FORMAT,
    &VARIABLE_DATATYPE,
    &OUTSIDE_DECLARED_CHARACTERISTICS,
    &SET_VARIABLE_FORMAT,
    &SET_VARIABLE_MALFORMED_ACCEPTED,
    &CONFIG_KEY_FORMAT,
    &REQUIRED_KEY_UNKNOWN,
    &CHANGE_CONFIG_FORMAT,
    &CHANGE_CONFIG_MALFORMED_ACCEPTED,
];

pub static VARIABLE_FORMAT: Rule = Rule {
    id: "value.variable-format",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Charger reports a standardized variable with a value its dataType or valuesList does not allow",
    spec: "2.0.1 and 2.1 Part 2 Appendix 3 (Standardized Components and Variables), DataEnumType",
    doc: "What it checks: the value of a standardized variable in a GetVariables result (status \
Accepted) or a NotifyReport variableAttribute, against the dataType and valuesList the \
specification gives that variable: `true`/`false` for a boolean, a whole number for an integer \
(not negative where the specification gives none a meaning), an RFC 3339 time for a dateTime, \
one listed value for an OptionList, comma-separated listed values for a MemberList, a \
comma-separated list for a SequenceList. Items of a list may carry spaces around the commas. \
Vendor variables are not judged.\n\n\
Why it matters: the CSMS parses the value by its standardized type; a value in another \
notation is misread or rejected, and a CSMS that echoes it back in SetVariables sets garbage.\n\n\
Example:\n  NotifyReport OCPPCommCtrlr.NetworkConfigurationPriority = \"[0, 1, 2]\" (a \
SequenceList is written 0,1,2)",
};

pub static VARIABLE_DATATYPE: Rule = Rule {
    id: "value.variable-datatype",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "NotifyReport declares a standardized variable with another dataType than the specification's",
    spec: "2.0.1 and 2.1 Part 2 Appendix 3 (Standardized Components and Variables)",
    doc: "What it checks: the `variableCharacteristics.dataType` a NotifyReport gives a standardized \
variable differs from the dataType the specification assigns it (e.g. HeartbeatInterval \
declared as `string`).\n\n\
Why it matters: a CSMS that trusts the report to build its settings screens or to validate \
what it sets will use the wrong type; the standardized variables have one type for every \
station.\n\n\
Example:\n  reportData: OCPPCommCtrlr.HeartbeatInterval, variableCharacteristics \
{dataType: \"string\"}",
};

pub static OUTSIDE_DECLARED_CHARACTERISTICS: Rule = Rule {
    id: "value.outside-declared-characteristics",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "NotifyReport value lies outside the limits or valuesList its own variableCharacteristics declare",
    spec: "2.0.1 and 2.1 Part 2 VariableCharacteristicsType (minLimit, maxLimit, valuesList)",
    doc: "What it checks: within one reportData entry of a NotifyReport, any variable (standardized \
or vendor): a numeric value (dataType integer or decimal) below minLimit or above maxLimit; a \
text value (string or a list type) longer than maxLimit, which bounds the length of the \
(comma-separated) string; an OptionList value not in valuesList; a MemberList or SequenceList \
item not in valuesList.\n\n\
Why it matters: the station contradicts itself; a CSMS that builds its settings from the \
declared characteristics will reject the very value the station uses, or set one the station \
cannot take.\n\n\
Example:\n  reportData: OCPPCommCtrlr.HeartbeatInterval = \"900\", variableCharacteristics \
{dataType: \"integer\", maxLimit: 600}",
};

pub static SET_VARIABLE_FORMAT: Rule = Rule {
    id: "value.set-variable-format",
    severity: Severity::Warning,
    severity_16: None,
    versions: V2X,
    by: Party::Csms,
    summary: "SetVariables sets a standardized variable to a value its dataType or valuesList does not allow",
    spec: "2.0.1 and 2.1 Part 2 Appendix 3 (Standardized Components and Variables), B05",
    doc: "What it checks: the attributeValue of a SetVariables entry for a standardized variable, \
against the variable's dataType and valuesList (the same format as `value.variable-format`).\n\n\
Why it matters: the station must reject it, so the setting the operator asked for never \
applies; a lenient station may store a value it cannot use.\n\n\
Example:\n  SetVariables OCPPCommCtrlr.HeartbeatInterval = \"5 min\"",
};

pub static SET_VARIABLE_MALFORMED_ACCEPTED: Rule = Rule {
    id: "value.set-variable-malformed-accepted",
    severity: Severity::Error,
    severity_16: None,
    versions: V2X,
    by: Party::Charger,
    summary: "Charger accepts a SetVariables value its dataType or valuesList does not allow",
    spec: "2.0.1 and 2.1 Part 2 B05 (Set Variables): a value that does not fit the variable is Rejected",
    doc: "What it checks: a SetVariables entry whose value `value.set-variable-format` finds \
malformed, answered with attributeStatus Accepted (or RebootRequired).\n\n\
Why it matters: the station claims to use a value it cannot have parsed; what it really does \
is unknown to the CSMS.\n\n\
Example:\n  SetVariables TxCtrlr.StopTxOnInvalidId = \"yes\" -> Accepted",
};

pub static CONFIG_KEY_FORMAT: Rule = Rule {
    id: "value.config-key-format",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "GetConfiguration reports a standard key with a value its type does not allow",
    spec: "OCPP 1.6 §9 (Standard Configuration Key Names & Values), security white paper §6",
    doc: "What it checks: the value of a standard configuration key in a GetConfiguration answer, \
against the type the specification gives it: `true`/`false` for a boolean (letter case is \
not judged on 1.6), a whole number that is not negative for an integer, a comma-separated \
list of measurands for the `*Data` keys, of feature profiles for SupportedFeatureProfiles, of \
`Current`/`Power` for ChargingScheduleAllowedChargingRateUnit, and of \
`<connector>.<rotation>` for ConnectorPhaseRotation. Vendor keys are not judged.\n\n\
Why it matters: the CSMS reads these values to configure itself (which measurands it will \
get, how often); a value in another notation is misread or breaks its parser.\n\n\
Example:\n  GetConfiguration -> {key: \"MeterValuesSampledData\", value: \"Energy;Power\"}",
};

pub static REQUIRED_KEY_UNKNOWN: Rule = Rule {
    id: "value.required-key-unknown",
    severity: Severity::Error,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "GetConfiguration answers a required Core configuration key as unknown",
    spec: "OCPP 1.6 §9.1 (Core Profile keys, column Required/optional)",
    doc: "What it checks: a GetConfiguration answer whose `unknownKey` list names one of the 21 \
keys §9.1 marks required (HeartbeatInterval, MeterValuesSampledData, NumberOfConnectors, \
SupportedFeatureProfiles, ...). Every charge point implements the Core profile, so it must \
know these keys. Keys of the optional profiles are not judged.\n\n\
Why it matters: a CSMS learns the charger's features, connectors and metering from these \
keys; an unknown one leaves it guessing, and a ChangeConfiguration of it cannot succeed.\n\n\
Example:\n  GetConfiguration {key:[\"SupportedFeatureProfiles\"]} -> {configurationKey:[], \
unknownKey:[\"SupportedFeatureProfiles\"]}",
};

pub static CHANGE_CONFIG_FORMAT: Rule = Rule {
    id: "value.change-config-format",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Csms,
    summary: "ChangeConfiguration sets a standard key to a value its type does not allow",
    spec: "OCPP 1.6 §5.3, §9 (Standard Configuration Key Names & Values)",
    doc: "What it checks: the value of a ChangeConfiguration of a standard key, against the key's \
type (the same format as `value.config-key-format`).\n\n\
Why it matters: the charger should refuse it; the setting the operator wanted never applies, \
or a lenient charger stores a value it cannot use.\n\n\
Example:\n  ChangeConfiguration {key: \"HeartbeatInterval\", value: \"60s\"}",
};

pub static CHANGE_CONFIG_MALFORMED_ACCEPTED: Rule = Rule {
    id: "value.change-config-malformed-accepted",
    severity: Severity::Warning,
    severity_16: None,
    versions: V16,
    by: Party::Charger,
    summary: "Charger accepts a ChangeConfiguration value its type does not allow",
    spec: "OCPP 1.6 §5.3 (Change Configuration), §9",
    doc: "What it checks: a ChangeConfiguration of a standard key whose value \
`value.change-config-format` finds malformed, answered Accepted or RebootRequired. 1.6 does \
not spell out the answer to a malformed value (Rejected is the status for a setting that could \
not be changed), hence a warning.\n\n\
Why it matters: the charger claims to use a value it cannot have parsed.\n\n\
Example:\n  ChangeConfiguration {key: \"HeartbeatInterval\", value: \"60s\"} -> Accepted",
};
