//! What the user may tune: rules switched off or given another severity, and the time
//! windows of time-based rules. Built by front ends (flags, a config file); read by the
//! engine only.

use std::collections::HashMap;

use super::rules::{self, Rule};
use crate::finding::Severity;
use crate::ocpp::Version;

/// A configuration the engine cannot use, saying what and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown rule `{id}` (see `ocpp-inspector rules`)")]
    UnknownRule { id: String },
    #[error("unknown severity `{value}` (expected error, warning, info or off)")]
    BadSeverity { value: String },
    #[error("tolerances.{name} must be a positive number of seconds, got {value}")]
    BadSeconds { name: &'static str, value: f64 },
    #[error("tolerances.{name} must be a share between 0 and 10, got {value}")]
    BadShare { name: &'static str, value: f64 },
    /// The file is not the TOML this reads (syntax, an unknown table or key).
    #[error("{message}")]
    Syntax { message: String },
    /// An entry of the `[rules]` table.
    #[error("[rules] {id}: {error}")]
    InRule { id: String, error: Box<ConfigError> },
    /// Anything above, in the file `file`.
    #[error("{file}: {error}")]
    InFile {
        file: String,
        error: Box<ConfigError>,
    },
}

/// The time windows of time-based rules. All durations in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// After this long without an answer a CALL counts as timed out (default 30 s).
    pub call_timeout_us: i64,
    /// How long an expected follow-up message may take (trigger, remote start, ...; 60 s).
    pub followup_window_us: i64,
    /// Boot retry tolerance as a share of the interval (0.1) ...
    pub boot_tolerance_ratio: f64,
    /// ... but at least this much (5 s).
    pub boot_tolerance_min_us: i64,
    /// Heartbeat tolerance as a share of the interval (0.5).
    pub heartbeat_slack_ratio: f64,
    /// Clock difference tolerated between the peers and the observer (120 s).
    pub clock_skew_us: i64,
    /// How long after an accepted BootNotification the first StatusNotification may take
    /// (300 s; stations often finish their start-up first).
    pub boot_status_window_us: i64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            call_timeout_us: 30_000_000,
            followup_window_us: 60_000_000,
            boot_tolerance_ratio: 0.1,
            boot_tolerance_min_us: 5_000_000,
            heartbeat_slack_ratio: 0.5,
            clock_skew_us: 120_000_000,
            boot_status_window_us: 300_000_000,
        }
    }
}

/// Where a client certificate names its station: the subject's common name (what OCPP's
/// security profile 3 asks for), one of the subject alternative names (DNS names and URIs),
/// or either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CertIdentity {
    #[default]
    Cn,
    San,
    Either,
}

impl std::str::FromStr for CertIdentity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cn" => Ok(CertIdentity::Cn),
            "san" => Ok(CertIdentity::San),
            "either" => Ok(CertIdentity::Either),
            _ => Err(format!("`{s}`: cn, san or either")),
        }
    }
}

/// Engine configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub tol: Tolerances,
    /// Framing, message ids, pairing and schemas only: the protocol rule families (state,
    /// sequencing, values) are not run (`check --schema-only`; the benchmark's mode that
    /// separates what parsing, schemas and rules cost).
    pub schema_only: bool,
    /// What of a profile-3 client certificate must name the station
    /// (`auth.client-cert-identity-mismatch`).
    pub cert_identity: CertIdentity,
    /// Per rule id: `None` = disabled, `Some(s)` = severity `s`.
    overrides: HashMap<&'static str, Option<Severity>>,
    /// Tests only: the families' time hooks hear every event, not only those past the
    /// station's wake (a test holds the two ways equal on every trace of the repository).
    #[cfg(test)]
    pub(crate) time_on_every_event: bool,
}

impl Config {
    /// Switches a rule off. Fails on an unknown id.
    pub fn disable(&mut self, id: &str) -> Result<(), ConfigError> {
        let rule = lookup(id)?;
        self.overrides.insert(rule.id, None);
        Ok(())
    }

    /// Gives a rule another severity. Fails on an unknown id.
    pub fn set_severity(&mut self, id: &str, severity: Severity) -> Result<(), ConfigError> {
        let rule = lookup(id)?;
        self.overrides.insert(rule.id, Some(severity));
        Ok(())
    }

    /// The severity `rule` has on `version`, or `None` when it is off (or does not apply).
    pub fn severity_of(&self, rule: &Rule, version: Option<Version>) -> Option<Severity> {
        if let Some(v) = version
            && !rule.applies_to(v)
        {
            return None;
        }
        match self.overrides.get(rule.id) {
            Some(o) => *o,
            None => Some(rule.default_severity(version)),
        }
    }

    pub fn is_overridden(&self, rule: &Rule) -> bool {
        self.overrides.contains_key(rule.id)
    }
}

fn lookup(id: &str) -> Result<&'static Rule, ConfigError> {
    rules::find(id).ok_or_else(|| ConfigError::UnknownRule { id: id.to_owned() })
}

/// The configuration file (`--config inspector.toml`):
///
/// ```toml
/// [rules]
/// "rpc.concurrent-call" = "error"   # error | warning | info | off
/// "seq.heartbeat-overdue" = "off"
///
/// [tolerances]
/// call_timeout = 30        # seconds
/// followup_window = 60     # seconds
/// boot_tolerance = 0.1     # share of the boot interval ...
/// boot_tolerance_min = 5   # ... but at least this many seconds
/// heartbeat_slack = 0.5    # share of the heartbeat interval
/// clock_skew = 120         # seconds
/// boot_status_window = 300 # seconds from an accepted boot to the first StatusNotification
/// ```
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    rules: HashMap<String, String>,
    #[serde(default)]
    tolerances: TolerancesFile,
    /// `[[waivers]]`: read by `check` (`sink::report::waiver`), not by the engine.
    #[serde(default)]
    #[allow(dead_code)]
    waivers: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TolerancesFile {
    call_timeout: Option<f64>,
    followup_window: Option<f64>,
    boot_tolerance: Option<f64>,
    boot_tolerance_min: Option<f64>,
    heartbeat_slack: Option<f64>,
    clock_skew: Option<f64>,
    boot_status_window: Option<f64>,
}

fn seconds(name: &'static str, value: f64) -> Result<i64, ConfigError> {
    if value.is_finite() && value > 0.0 && value < 1e9 {
        #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
        Ok((value * 1e6) as i64)
    } else {
        Err(ConfigError::BadSeconds { name, value })
    }
}

fn ratio(name: &'static str, value: f64) -> Result<f64, ConfigError> {
    if value.is_finite() && (0.0..=10.0).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::BadShare { name, value })
    }
}

impl Config {
    /// Reads a configuration file's text (`source` names it in errors).
    pub fn from_toml(text: &str, source: &str) -> Result<Config, ConfigError> {
        Config::read_toml(text).map_err(|error| ConfigError::InFile {
            file: source.to_owned(),
            error: Box::new(error),
        })
    }

    fn read_toml(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut c = Config::default();
        let mut ids: Vec<_> = file.rules.iter().collect();
        ids.sort();
        for (id, value) in ids {
            let res = match value.as_str() {
                "off" | "disabled" | "none" => c.disable(id),
                other => match other.parse::<Severity>() {
                    Ok(s) => c.set_severity(id, s),
                    Err(_) => Err(ConfigError::BadSeverity {
                        value: other.to_owned(),
                    }),
                },
            };
            res.map_err(|error| ConfigError::InRule {
                id: id.clone(),
                error: Box::new(error),
            })?;
        }
        let t = &file.tolerances;
        if let Some(v) = t.call_timeout {
            c.tol.call_timeout_us = seconds("call_timeout", v)?;
        }
        if let Some(v) = t.followup_window {
            c.tol.followup_window_us = seconds("followup_window", v)?;
        }
        if let Some(v) = t.boot_tolerance {
            c.tol.boot_tolerance_ratio = ratio("boot_tolerance", v)?;
        }
        if let Some(v) = t.boot_tolerance_min {
            c.tol.boot_tolerance_min_us = seconds("boot_tolerance_min", v)?;
        }
        if let Some(v) = t.heartbeat_slack {
            c.tol.heartbeat_slack_ratio = ratio("heartbeat_slack", v)?;
        }
        if let Some(v) = t.clock_skew {
            c.tol.clock_skew_us = seconds("clock_skew", v)?;
        }
        if let Some(v) = t.boot_status_window {
            c.tol.boot_status_window_us = seconds("boot_status_window", v)?;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_sets_rules_and_tolerances() {
        let c = Config::from_toml(
            "[rules]\n\"rpc.concurrent-call\" = \"error\"\n\"rpc.not-json\" = \"off\"\n[tolerances]\ncall_timeout = 10\nheartbeat_slack = 0.25\n",
            "t.toml",
        )
        .unwrap();
        let cc = rules::find("rpc.concurrent-call").unwrap();
        assert_eq!(c.severity_of(cc, Some(Version::V16)), Some(Severity::Error));
        assert_eq!(
            c.severity_of(rules::find("rpc.not-json").unwrap(), None),
            None
        );
        assert_eq!(c.tol.call_timeout_us, 10_000_000);
        assert!((c.tol.heartbeat_slack_ratio - 0.25).abs() < 1e-9);
    }

    #[test]
    fn boot_status_window_is_a_tolerance_in_seconds() {
        assert_eq!(Tolerances::default().boot_status_window_us, 300_000_000);
        let c = Config::from_toml("[tolerances]\nboot_status_window = 90\n", "t.toml").unwrap();
        assert_eq!(c.tol.boot_status_window_us, 90_000_000);
        let e = Config::from_toml("[tolerances]\nboot_status_window = 0\n", "t.toml").unwrap_err();
        let ConfigError::InFile { file, error } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(file, "t.toml");
        assert_eq!(
            **error,
            ConfigError::BadSeconds {
                name: "boot_status_window",
                value: 0.0
            }
        );
        assert!(
            e.to_string()
                .contains("boot_status_window must be a positive"),
            "{e}"
        );
    }

    #[test]
    fn config_file_errors_name_the_file_and_the_key() {
        let e = Config::from_toml("[rules]\n\"rpc.nope\" = \"off\"\n", "lab.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("lab.toml: [rules] rpc.nope: unknown rule"),
            "{e}"
        );
        let e = Config::from_toml("[rules]\n\"rpc.not-json\" = \"fatal\"\n", "lab.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("or off"), "{e}");
        let e = Config::from_toml("[tolerances]\ncall_timeout = -1\n", "lab.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("call_timeout must be a positive"), "{e}");
        let e = Config::from_toml("[tolerance]\n", "lab.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("lab.toml:"), "{e}");
    }
}
