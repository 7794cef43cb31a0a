//! Waivers: known deviations accepted for a while. Each `[[waivers]]` entry (in the
//! `--waivers` file or the `--config` file) names a rule or a family, optionally a scope (a
//! station identity glob, and/or vendor / model / firmware globs matched against what the
//! station's BootNotification said), a reason, an owner and an `expires` date. A matching
//! finding is reported as waived and fails nothing; past its date (judged on the trace's own
//! date, or `--today`) a waiver stops waiving and is itself reported; a waiver that matched
//! nothing is reported too, so the file stays honest.
//!
//! It parses waiver files and matches findings; it reads no trace and no clock.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ToolFinding;
use crate::checker::StationInfo;
use crate::engine::rules::{self, REGISTRY};
use crate::finding::{Finding, Severity};
use crate::time::Timestamp;

/// Why a waiver file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("cannot read the waivers {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Toml { path: String, message: String },
    #[error("{path}:{line}: waiver: {message}")]
    Entry {
        path: String,
        line: u64,
        message: String,
    },
}

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// A rule id, a family (`schema`), or a family glob (`schema.*`).
    pub rule: String,
    pub station: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`: the last day it waives.
    pub expires: String,
    /// Midnight (UTC) after the last day.
    expires_at: Timestamp,
    /// Where it is written.
    pub file: String,
    pub line: u64,
}

impl Waiver {
    /// `rule X for station CP-* (vendor ACME)`: what it covers, for messages.
    pub fn scope(&self) -> String {
        let mut s = format!("`{}`", self.rule);
        for (name, v) in [
            ("station", &self.station),
            ("vendor", &self.vendor),
            ("model", &self.model),
            ("firmware", &self.firmware),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {name} `{v}`"));
            }
        }
        s
    }

    fn matches(&self, f: &Finding, station: Option<&StationInfo>) -> bool {
        let rule_ok = self.rule == f.rule.id
            || self.rule == f.rule.family()
            || self
                .rule
                .strip_suffix(".*")
                .is_some_and(|fam| fam == f.rule.family());
        if !rule_ok {
            return false;
        }
        if let Some(p) = &self.station
            && !glob(p, &f.conn)
        {
            return false;
        }
        let boot = [
            (&self.vendor, station.and_then(|s| s.vendor.as_deref())),
            (&self.model, station.and_then(|s| s.model.as_deref())),
            (&self.firmware, station.and_then(|s| s.firmware.as_deref())),
        ];
        boot.iter().all(|(want, have)| match (want, have) {
            (None, _) => true,
            (Some(p), Some(v)) => glob(p, v),
            // The scope names a vendor, but the station never said its own.
            (Some(_), None) => false,
        })
    }
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    /// The first date it was found expired on.
    expired_on: Option<Timestamp>,
}

/// The waivers of a run and what became of each.
#[derive(Debug, Default)]
pub struct Waivers {
    list: Vec<(Arc<Waiver>, State)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    rule: String,
    station: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    reason: String,
    owner: String,
    expires: toml::Value,
}

/// A `--waivers` file: only `[[waivers]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictFile {
    #[serde(default)]
    waivers: Vec<toml::Spanned<Raw>>,
}

/// The `--config` file: its `[[waivers]]`; the rest is the engine's.
#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    waivers: Vec<toml::Spanned<Raw>>,
}

impl Waivers {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Reads a `--waivers` file (`[[waivers]]` entries and nothing else).
    pub fn load(path: &Path) -> Result<Waivers, WaiverError> {
        let (text, shown) = read(path)?;
        Self::parse(&text, &shown)
    }

    /// Reads the `[[waivers]]` of a `--config` file.
    pub fn from_config(path: &Path) -> Result<Waivers, WaiverError> {
        let (text, shown) = read(path)?;
        Self::parse_as(&text, &shown, |f: ConfigFile| f.waivers)
    }

    /// Parses `[[waivers]]` entries from TOML text (`source` names it in messages).
    pub fn parse(text: &str, source: &str) -> Result<Waivers, WaiverError> {
        Self::parse_as(text, source, |f: StrictFile| f.waivers)
    }

    /// Parses TOML text as the file `F` and builds the waivers `entries` takes from it.
    fn parse_as<F: DeserializeOwned>(
        text: &str,
        source: &str,
        entries: fn(F) -> Vec<toml::Spanned<Raw>>,
    ) -> Result<Waivers, WaiverError> {
        let f: F = toml::from_str(text).map_err(|e| WaiverError::Toml {
            path: source.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Self::build(entries(f), text, source)
    }

    /// Adds another file's waivers.
    pub fn extend(&mut self, other: Waivers) {
        self.list.extend(other.list);
    }

    fn build(raw: Vec<toml::Spanned<Raw>>, text: &str, path: &str) -> Result<Waivers, WaiverError> {
        let mut list = Vec::with_capacity(raw.len());
        for entry in raw {
            let line = text
                .get(..entry.span().start)
                .map_or(0, |t| t.matches('\n').count() as u64 + 1);
            let err = |message: String| WaiverError::Entry {
                path: path.to_owned(),
                line,
                message,
            };
            let r = entry.into_inner();
            let family = r.rule.strip_suffix(".*").unwrap_or(&r.rule);
            if rules::find(&r.rule).is_none() && !REGISTRY.iter().any(|x| x.family() == family) {
                return Err(err(format!(
                    "`{}` is neither a rule nor a family (see `ocpp-inspector rules`)",
                    r.rule
                )));
            }
            for (name, v) in [("reason", &r.reason), ("owner", &r.owner)] {
                if v.trim().is_empty() {
                    return Err(err(format!("`{name}` must not be empty")));
                }
            }
            let expires = match &r.expires {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) => d.to_string(),
                other => {
                    return Err(err(format!(
                        "`expires` must be a date (YYYY-MM-DD), got a {}",
                        other.type_str()
                    )));
                }
            };
            let expires_at = parse_date(&expires)
                .map(|t| Timestamp::from_micros(t.micros() + 86_400_000_000))
                .ok_or_else(|| {
                    err(format!(
                        "`expires` must be a date (YYYY-MM-DD), got `{expires}`"
                    ))
                })?;
            // The canonical form (a rule alias becomes the rule's id).
            let rule = rules::find(&r.rule).map_or(r.rule.clone(), |x| x.id.to_owned());
            list.push((
                Arc::new(Waiver {
                    rule,
                    station: r.station,
                    vendor: r.vendor,
                    model: r.model,
                    firmware: r.firmware,
                    reason: r.reason,
                    owner: r.owner,
                    expires,
                    expires_at,
                    file: path.to_owned(),
                    line,
                }),
                State::default(),
            ));
        }
        Ok(Waivers { list })
    }

    /// The live waiver that covers `f` on `date`, if any. A matching waiver past its date
    /// does not waive; it is remembered as expired.
    pub fn waive(
        &mut self,
        f: &Finding,
        station: Option<&StationInfo>,
        date: Timestamp,
    ) -> Option<Arc<Waiver>> {
        for (w, state) in &mut self.list {
            if !w.matches(f, station) {
                continue;
            }
            if date >= w.expires_at {
                state.expired_on.get_or_insert(date);
                continue;
            }
            state.used += 1;
            return Some(w.clone());
        }
        None
    }

    /// What the waivers themselves deserve: expired ones (a warning) and ones that matched
    /// nothing (info).
    pub fn findings(&self) -> Vec<ToolFinding> {
        let mut out = Vec::new();
        for (w, s) in &self.list {
            if let Some(on) = s.expired_on {
                out.push(ToolFinding {
                    id: "waiver.expired",
                    severity: Severity::Warning,
                    file: w.file.clone(),
                    line: w.line,
                    message: format!(
                        "the waiver of {} (owner {}: {}) expired on {}; the trace dates from {}, so its findings are reported again{}",
                        w.scope(),
                        w.owner,
                        w.reason,
                        w.expires,
                        date_of(on),
                        if s.used > 0 {
                            format!(" ({} earlier ones still waived)", s.used)
                        } else {
                            String::new()
                        }
                    ),
                });
            } else if s.used == 0 {
                out.push(ToolFinding {
                    id: "waiver.unused",
                    severity: Severity::Info,
                    file: w.file.clone(),
                    line: w.line,
                    message: format!(
                        "the waiver of {} (owner {}) matched no finding",
                        w.scope(),
                        w.owner
                    ),
                });
            }
        }
        out
    }
}

fn read(path: &Path) -> Result<(String, String), WaiverError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(t) => Ok((t, shown)),
        Err(source) => Err(WaiverError::Io {
            path: shown,
            source,
        }),
    }
}

/// `YYYY-MM-DD` → its midnight, UTC.
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !ok {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")).ok()
}

/// The `YYYY-MM-DD` of a timestamp (UTC).
pub fn date_of(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// `*` any run of characters, `?` one character; everything else literal.
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("CP-*", "CP-001"));
        assert!(glob("*", ""));
        assert!(glob("C?-1*", "CP-1"));
        assert!(glob("*-1", "a-b-1"));
        assert!(!glob("CP-*", "EVSE-1"));
        assert!(!glob("CP-?", "CP-10"));
        assert!(glob("ACME*Fw*", "ACME GmbH Fw 1.2"));
    }

    #[test]
    fn dates() {
        assert!(parse_date("26-1-1").is_none());
        assert!(parse_date("2026-01-0x").is_none());
        assert_eq!(date_of(parse_date("2026-12-07").unwrap()), "2026-12-07");
    }

    #[test]
    fn entries_are_validated_with_their_line() {
        let bad = "[[waivers]]\nrule = \"nope.nope\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-01-01\n";
        let e = Waivers::parse(bad, "w.toml").unwrap_err().to_string();
        assert!(
            e.contains("w.toml:1: waiver: `nope.nope` is neither"),
            "{e}"
        );
        let date =
            "\n[[waivers]]\nrule = \"schema\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"soon\"\n";
        let e = Waivers::parse(date, "w.toml").unwrap_err().to_string();
        assert!(e.contains("w.toml:2:") && e.contains("`soon`"), "{e}");
        let typo = "[[waiver]]\nrule = \"schema\"\n";
        assert!(Waivers::parse(typo, "w.toml").is_err());
        let ok = "[[waivers]]\nrule = \"schema.*\"\nstation = \"CP-*\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2026-01-01\n";
        let w = Waivers::parse(ok, "w.toml").unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w.list[0].0.expires, "2026-01-01");
    }
}
