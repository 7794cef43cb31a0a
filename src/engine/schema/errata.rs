//! Errata overlays: named edits that the redistributed official schema copy carries on top of
//! the OCA's pristine files. The built-in `schemas/` folder holds the pristine facts; each
//! erratum here turns one fact into its amended form. All are on by default; a lab picks a
//! set with `--errata all|none|NAME,...` and the report names the set it judged against.
//!
//! (Not modelled: the redistributor also removed the informative `id` member from the 1.6
//! core files; it has no effect on validation.)

use serde_json::Value;

use crate::ocpp::Version;

/// An erratum that cannot be applied (or reverted), or a selection naming none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrataError {
    #[error("unknown erratum `{name}` (known: {known}, or all / none)")]
    Unknown { name: String, known: String },
    /// An edit's own text is not JSON, or its pointer has no parent (a bug in the table).
    #[error("{schema}: edit at {pointer} is malformed: {message}")]
    BadEdit {
        schema: &'static str,
        pointer: &'static str,
        message: String,
    },
    #[error("{schema}: no object at {parent}")]
    NoObject {
        schema: &'static str,
        parent: String,
    },
    /// The document does not hold the value the erratum starts from.
    #[error("{schema}: {pointer} holds {found}, expected {expected}")]
    Mismatch {
        schema: &'static str,
        pointer: &'static str,
        found: String,
        expected: String,
    },
}

/// One edit to one schema file: the value at `pointer` goes from `pristine` to `amended`
/// (`None` = member absent).
#[derive(Debug)]
pub struct Edit {
    pub pointer: &'static str,
    pub pristine: Option<&'static str>,
    pub amended: Option<&'static str>,
}

/// A named erratum.
#[derive(Debug)]
pub struct Erratum {
    pub name: &'static str,
    pub version: Version,
    /// Schema name as in `schemas/<version>/`, e.g. `StopTransactionRequest`.
    pub schema: &'static str,
    pub summary: &'static str,
    pub edits: &'static [Edit],
}

const UNITS_16: &str = r#"["Wh","kWh","varh","kvarh","W","kW","VA","kVA","var","kvar","A","V","K","Celcius","Fahrenheit","Percent"]"#;
const UNITS_16_CELSIUS: &str = r#"["Wh","kWh","varh","kvarh","W","kW","VA","kVA","var","kvar","A","V","K","Celcius","Celsius","Fahrenheit","Percent"]"#;
const UNITS_16_CELSIUS_HERTZ: &str = r#"["Wh","kWh","varh","kvarh","W","kW","VA","kVA","var","kvar","A","V","K","Celcius","Celsius","Fahrenheit","Percent","Hertz"]"#;

/// Every erratum the inspector knows.
pub static ERRATA: &[Erratum] = &[
    Erratum {
        name: "16-stoptransaction-celsius",
        version: Version::V16,
        schema: "StopTransactionRequest",
        summary: "StopTransaction transactionData unit also accepts `Celsius` (1.6 errata: accept both spellings)",
        edits: &[Edit {
            pointer: "/properties/transactionData/items/properties/sampledValue/items/properties/unit/enum",
            pristine: Some(UNITS_16),
            amended: Some(UNITS_16_CELSIUS),
        }],
    },
    Erratum {
        name: "16-metervalues-hertz",
        version: Version::V16,
        schema: "MeterValuesRequest",
        summary: "MeterValues unit also accepts `Hertz` (frequency has no unit in the OCA enum)",
        edits: &[Edit {
            pointer: "/properties/meterValue/items/properties/sampledValue/items/properties/unit/enum",
            pristine: Some(UNITS_16_CELSIUS),
            amended: Some(UNITS_16_CELSIUS_HERTZ),
        }],
    },
    Erratum {
        name: "16-metervalues-minitems",
        version: Version::V16,
        schema: "MeterValuesRequest",
        summary: "MeterValues `meterValue` and `sampledValue` need at least one item (spec cardinality 1..*)",
        edits: &[
            Edit {
                pointer: "/properties/meterValue/minItems",
                pristine: None,
                amended: Some("1"),
            },
            Edit {
                pointer: "/properties/meterValue/items/properties/sampledValue/minItems",
                pristine: None,
                amended: Some("1"),
            },
        ],
    },
    Erratum {
        name: "201-exiresponse-7500",
        version: Version::V201,
        schema: "Get15118EVCertificateResponse",
        summary: "Get15118EVCertificateResponse `exiResponse` maxLength 5600 → 7500 (OCA working-group interim decision)",
        edits: &[Edit {
            pointer: "/properties/exiResponse/maxLength",
            pristine: Some("5600"),
            amended: Some("7500"),
        }],
    },
];

impl Erratum {
    /// Turns the pristine facts into the amended ones. Fails if the document does not hold
    /// the pristine value (the overlay would not mean what it says).
    pub fn apply(&self, doc: &mut Value) -> Result<(), ErrataError> {
        self.rewrite(doc, true)
    }

    /// The inverse of [`apply`](Self::apply): amended → pristine.
    pub fn revert(&self, doc: &mut Value) -> Result<(), ErrataError> {
        self.rewrite(doc, false)
    }

    fn rewrite(&self, doc: &mut Value, forward: bool) -> Result<(), ErrataError> {
        for edit in self.edits {
            let (from, to) = if forward {
                (edit.pristine, edit.amended)
            } else {
                (edit.amended, edit.pristine)
            };
            let bad = |message: String| ErrataError::BadEdit {
                schema: self.schema,
                pointer: edit.pointer,
                message,
            };
            let parse = |s: Option<&str>| -> Result<Option<Value>, ErrataError> {
                s.map(|t| serde_json::from_str(t).map_err(|e| bad(e.to_string())))
                    .transpose()
            };
            let (from, to) = (parse(from)?, parse(to)?);
            let (parent, key) = edit
                .pointer
                .rsplit_once('/')
                .ok_or_else(|| bad("no parent".into()))?;
            let obj = doc
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| ErrataError::NoObject {
                    schema: self.schema,
                    parent: parent.to_owned(),
                })?;
            if obj.get(key) != from.as_ref() {
                return Err(ErrataError::Mismatch {
                    schema: self.schema,
                    pointer: edit.pointer,
                    found: obj.get(key).map_or("nothing".into(), Value::to_string),
                    expected: from.map_or("nothing".into(), |v| v.to_string()),
                });
            }
            match to {
                Some(v) => {
                    obj.insert(key.to_owned(), v);
                }
                None => {
                    obj.remove(key);
                }
            }
        }
        Ok(())
    }
}

/// Which errata are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrataSelection {
    names: Vec<&'static str>,
}

impl ErrataSelection {
    pub fn all() -> Self {
        ErrataSelection {
            names: ERRATA.iter().map(|e| e.name).collect(),
        }
    }

    pub fn none() -> Self {
        ErrataSelection { names: Vec::new() }
    }

    /// Parses `all`, `none`, or a comma-separated list of names; when every name is prefixed
    /// with `-`, they are removed from all (`-16-metervalues-hertz`).
    pub fn parse(spec: &str) -> Result<Self, ErrataError> {
        let spec = spec.trim();
        match spec {
            "all" | "" => return Ok(Self::all()),
            "none" => return Ok(Self::none()),
            _ => {}
        }
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        let known = |n: &str| -> Result<&'static str, ErrataError> {
            ERRATA
                .iter()
                .find(|e| e.name == n)
                .map(|e| e.name)
                .ok_or_else(|| ErrataError::Unknown {
                    name: n.to_owned(),
                    known: ERRATA.iter().map(|e| e.name).collect::<Vec<_>>().join(", "),
                })
        };
        let mut sel = if parts.iter().all(|p| p.starts_with('-')) {
            Self::all()
        } else {
            Self::none()
        };
        for p in parts {
            if let Some(n) = p.strip_prefix('-') {
                let n = known(n)?;
                sel.names.retain(|x| *x != n);
            } else {
                let n = known(p)?;
                if !sel.names.contains(&n) {
                    sel.names.push(n);
                }
            }
        }
        Ok(sel)
    }

    pub fn selected(&self) -> impl Iterator<Item = &'static Erratum> + '_ {
        ERRATA.iter().filter(|e| self.names.contains(&e.name))
    }

    /// `all`, `none`, or the list of names.
    pub fn describe(&self) -> String {
        if self.names.len() == ERRATA.len() {
            "all".into()
        } else if self.names.is_empty() {
            "none".into()
        } else {
            self.selected()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(",")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_parsing() {
        assert_eq!(
            ErrataSelection::parse("all").unwrap(),
            ErrataSelection::all()
        );
        assert_eq!(ErrataSelection::parse("none").unwrap().describe(), "none");
        let one = ErrataSelection::parse("16-metervalues-hertz").unwrap();
        assert_eq!(one.describe(), "16-metervalues-hertz");
        let minus = ErrataSelection::parse("-16-metervalues-hertz").unwrap();
        assert_eq!(minus.selected().count(), ERRATA.len() - 1);
        let e = ErrataSelection::parse("16-bogus").unwrap_err();
        assert!(matches!(&e, ErrataError::Unknown { name, .. } if name == "16-bogus"));
        assert!(e.to_string().contains("known:"), "{e}");
    }

    #[test]
    fn apply_then_revert_is_identity_and_checks_the_pristine_value() {
        let e = &ERRATA[3];
        let mut doc =
            serde_json::json!({"properties":{"exiResponse":{"type":"string","maxLength":5600}}});
        let orig = doc.clone();
        e.apply(&mut doc).unwrap();
        assert_eq!(doc["properties"]["exiResponse"]["maxLength"], 7500);
        e.revert(&mut doc).unwrap();
        assert_eq!(doc, orig);
        let mut wrong = serde_json::json!({"properties":{"exiResponse":{"maxLength":100}}});
        assert!(matches!(
            e.apply(&mut wrong),
            Err(ErrataError::Mismatch { found, .. }) if found == "100"
        ));
    }
}
