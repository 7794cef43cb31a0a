//! Findings: what the engine says about the traffic. A finding is data (rule, severity,
//! where, what was expected and what came, the frame as evidence), never a Rust error.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or info)"
            )),
        }
    }
}

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

/// One conformance failure (or observation) about one frame or connection event.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    /// The effective severity (the rule's default for the version, or the configured one).
    pub severity: Severity,
    /// The station identity of the connection.
    pub conn: Arc<str>,
    /// The 1-based line of the trace record (0 when the event did not come from a line).
    pub line: u64,
    /// When the offending event happened.
    pub at: Timestamp,
    /// Who sent the offending frame, when a frame is at fault.
    pub from: Option<Side>,
    pub unique_id: Option<Box<str>>,
    pub action: Option<Box<str>>,
    /// What is wrong: what was expected and what came.
    pub message: String,
    /// JSON pointer into the frame's payload, for schema findings.
    pub pointer: Option<String>,
    /// The offending frame, shortened.
    pub evidence: Option<Box<str>>,
}

/// Shortens `text` to at most `max` characters, marking the cut with `…`.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut s = String::with_capacity(cut + 3);
            s.push_str(&text[..cut]);
            s.push('…');
            s
        }
    }
}

/// Bytes of one quoted value (between backticks) a finding's message keeps at most.
pub const QUOTE_MAX: usize = 200;
/// Bytes of a whole finding message at most.
pub const MESSAGE_MAX: usize = 1024;

/// Bounds a finding's message: each value quoted in backticks keeps at most [`QUOTE_MAX`]
/// bytes (cut at a character boundary, marked `…`), and the whole at most [`MESSAGE_MAX`].
/// What a peer sends decides no finding's size; the frame itself stays in the recording.
pub fn bound_message(message: String) -> String {
    if message.len() <= QUOTE_MAX {
        return message;
    }
    let mut out = String::with_capacity(message.len().min(MESSAGE_MAX + 4));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.len() > QUOTE_MAX {
            out.push_str(cut(part, QUOTE_MAX));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    if out.len() > MESSAGE_MAX {
        let keep = cut(&out, MESSAGE_MAX).len();
        out.truncate(keep);
        out.push('…');
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_at_most_a_few_hundred_bytes_of_a_value() {
        let huge = "é".repeat(2 << 20);
        let m = bound_message(format!("value `{huge}` is not one of `A`, `B`"));
        assert!(m.len() < QUOTE_MAX + 64, "{}", m.len());
        assert!(m.ends_with("…` is not one of `A`, `B`"), "{m}");
        let short = "value `x` is fine".to_owned();
        assert_eq!(bound_message(short.clone()), short);
        let long_plain = "x".repeat(5000);
        assert!(bound_message(long_plain).len() <= MESSAGE_MAX + 3);
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("ééééé", 2), "éé…");
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
        assert_eq!("warning".parse::<Severity>().unwrap(), Severity::Warning);
        assert!("fatal".parse::<Severity>().is_err());
    }
}
