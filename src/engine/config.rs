//! What the user may tune: rules switched off or given another severity, and the time
//! windows of time-based rules. Built by front ends (flags, a config file); read by the
//! engine only.

use std::collections::HashMap;

use super::rules::{self, Rule};
use crate::finding::Severity;
use crate::ocpp::Version;

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// After this long without an answer a CALL counts as timed out (microseconds).
    pub call_timeout_us: i64,
    /// Per rule id: `None` = disabled, `Some(s)` = severity `s`.
    overrides: HashMap<&'static str, Option<Severity>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            call_timeout_us: 30 * 1_000_000,
            overrides: HashMap::new(),
        }
    }
}

impl Config {
    /// Switches a rule off. Fails on an unknown id.
    pub fn disable(&mut self, id: &str) -> Result<(), String> {
        let rule = lookup(id)?;
        self.overrides.insert(rule.id, None);
        Ok(())
    }

    /// Gives a rule another severity. Fails on an unknown id.
    pub fn set_severity(&mut self, id: &str, severity: Severity) -> Result<(), String> {
        let rule = lookup(id)?;
        self.overrides.insert(rule.id, Some(severity));
        Ok(())
    }

    /// The severity `rule` has on `version`, or `None` when it is off (or does not apply).
    pub fn severity_of(&self, rule: &Rule, version: Option<Version>) -> Option<Severity> {
        if let Some(v) = version {
            if !rule.applies_to(v) {
                return None;
            }
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

fn lookup(id: &str) -> Result<&'static Rule, String> {
    rules::find(id).ok_or_else(|| format!("unknown rule `{id}` (see `ocpp-inspector rules`)"))
}
