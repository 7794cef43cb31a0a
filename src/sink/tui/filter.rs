//! Filter expressions for the frames pane, in the spirit of mitmproxy's: `~c CP-1`
//! (connection), `~a Boot` (action), `~t call|result|error|callresulterror|send`
//! (message type), `~d charger|csms` (who sent it), `~s warning` (lowest severity of the
//! frame's findings), `~p /connectorId == 2` (the payload's value at a JSON pointer; `==`,
//! `!=`, `<`, `>`, `~=` contains), `~re REGEX` (over the exact text), `~r RULE|FAMILY` (a
//! finding of that rule, or of a rule of that family), `~time FROM..TO` (relative to the
//! first frame, `+90s`, `2m`, `500ms`; a time of day, `10:15:02`; or RFC 3339; either end may
//! be left out), and bare words (text, smart case), combined with `&` (or nothing), `|`, `!`
//! and parentheses.
//!
//! A hand-written parser: an error names the position and what was expected. It judges no
//! frame: it matches what a row shows ([`Facts`]).

use regex::Regex;
use serde_json::Value;

use super::app::contains_smart;
use crate::finding::{Rule, Severity};
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::frame::MessageType;

/// A parsed filter expression.
#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Conn(String),
    Action(String),
    Type(MessageType),
    From(Side),
    Severity(Severity),
    Pointer {
        pointer: String,
        op: Op,
        value: String,
    },
    Regex(Regex),
    Text(String),
    /// A finding of this rule id or family (ASCII case ignored).
    Rule(String),
    /// At or after `from`, at or before `to`.
    Time {
        from: Option<TimeBound>,
        to: Option<TimeBound>,
    },
}

/// One end of a `~time` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// Microseconds after the first frame.
    After(i64),
    /// Microseconds after midnight (UTC, as the clock column shows) of the first frame's day.
    OfDay(i64),
    At(Timestamp),
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl TimeBound {
    fn resolve(self, origin: Timestamp) -> Timestamp {
        match self {
            TimeBound::After(us) => origin.after(us),
            TimeBound::OfDay(us) => Timestamp(origin.0 - origin.0.rem_euclid(MICROS_PER_DAY) + us),
            TimeBound::At(t) => t,
        }
    }

    /// `+90s`, `2m`, `1.5h`, `500ms` (after the first frame); `10:15`, `10:15:02.250` (time
    /// of day); or an RFC 3339 timestamp.
    fn parse(s: &str) -> Option<TimeBound> {
        if s.contains('T') {
            return Timestamp::parse_rfc3339(s).ok().map(TimeBound::At);
        }
        if s.contains(':') {
            let mut parts = s.split(':');
            let h: i64 = parts.next()?.parse().ok()?;
            let m: i64 = parts.next()?.parse().ok()?;
            let sec: f64 = match parts.next() {
                Some(x) => x.parse().ok()?,
                None => 0.0,
            };
            if parts.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) {
                return None;
            }
            if !(0.0..60.0).contains(&sec) {
                return None;
            }
            let us = (h * 3600 + m * 60) * 1_000_000 + (sec * 1e6).round() as i64;
            return Some(TimeBound::OfDay(us));
        }
        let n = s.strip_prefix('+').unwrap_or(s);
        let (num, unit) = match n.find(|c: char| c.is_ascii_alphabetic()) {
            Some(i) => n.split_at(i),
            None if s.starts_with('+') => (n, "s"),
            None => return None,
        };
        let per = match unit {
            "ms" => 1e3,
            "s" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            _ => return None,
        };
        let v: f64 = num.parse().ok()?;
        (v.is_finite() && v >= 0.0).then(|| TimeBound::After((v * per).round() as i64))
    }
}

/// A comparison of `~p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Contains,
}

/// Where the expression could not be read, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character position (from 0).
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.at + 1, self.message)
    }
}

/// What a row offers to an expression.
pub struct Facts<'a> {
    pub conn: &'a str,
    pub action: Option<&'a str>,
    pub message_type: Option<MessageType>,
    pub from: Option<Side>,
    pub worst: Option<Severity>,
    /// The exact text (empty for events; then `short` is searched).
    pub text: &'a str,
    pub short: &'a str,
    /// The rules of its findings.
    pub rules: &'a [&'static Rule],
    pub at: Timestamp,
    /// When the first frame was (what relative times count from).
    pub origin: Timestamp,
}

/// Whether `s` is written as an expression (starts with `~`, `!` or `(`) rather than a
/// plain search.
pub fn looks_like_expr(s: &str) -> bool {
    matches!(s.trim_start().chars().next(), Some('~' | '!' | '('))
}

/// Parses `src`.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        chars: src.chars().collect(),
        pos: 0,
    };
    let e = p.or()?;
    p.ws();
    if p.pos < p.chars.len() {
        return Err(p.err("expected `&`, `|`, `)` or the end"));
    }
    Ok(e)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn err(&self, message: &str) -> ParseError {
        ParseError {
            at: self.pos,
            message: message.to_owned(),
        }
    }

    fn ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.ws();
        self.chars.get(self.pos).copied()
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.and()?;
        while self.peek() == Some('|') {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.not()?;
        loop {
            match self.peek() {
                Some('&') => self.pos += 1,
                Some('|' | ')') | None => return Ok(e),
                Some(_) => {}
            }
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some('!') {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    /// A word: up to whitespace or `)` (or a quoted string).
    fn word(&mut self, what: &str) -> Result<String, ParseError> {
        self.ws();
        if self.chars.get(self.pos) == Some(&'"') {
            self.pos += 1;
            let start = self.pos;
            while self.chars.get(self.pos).is_some_and(|&c| c != '"') {
                self.pos += 1;
            }
            if self.pos >= self.chars.len() {
                return Err(self.err("expected a closing `\"`"));
            }
            let w: String = self.chars[start..self.pos].iter().collect();
            self.pos += 1;
            return Ok(w);
        }
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|&c| !c.is_whitespace() && c != ')')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err(&format!("expected {what}")));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            None => {
                Err(self
                    .err("expected a filter (`~c`, `~a`, `~t`, `~d`, `~s`, `~p`, `~re`, `~r`, `~time` or text)"))
            }
            Some('(') => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(')') {
                    return Err(self.err("expected `)`"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(')') => Err(self.err("expected a filter before `)`")),
            Some('~') => {
                let at = self.pos;
                self.pos += 1;
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(char::is_ascii_alphabetic)
                {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                match name.as_str() {
                    "c" => Ok(Expr::Conn(self.word("a connection name")?)),
                    "a" => Ok(Expr::Action(self.word("an action name")?)),
                    "t" => {
                        let here = self.pos;
                        let w = self.word("a message type")?;
                        let t = match w.to_ascii_lowercase().as_str() {
                            "call" => MessageType::Call,
                            "result" | "callresult" => MessageType::CallResult,
                            "error" | "callerror" => MessageType::CallError,
                            "callresulterror" | "rerror" => MessageType::CallResultError,
                            "send" => MessageType::Send,
                            _ => {
                                return Err(ParseError {
                                    at: here + 1,
                                    message: format!(
                                        "expected call, result, error, callresulterror or send, got `{w}`"
                                    ),
                                });
                            }
                        };
                        Ok(Expr::Type(t))
                    }
                    "d" => {
                        let here = self.pos;
                        let w = self.word("charger or csms")?;
                        match w.to_ascii_lowercase().as_str() {
                            "charger" | "cp" | "station" => Ok(Expr::From(Side::Charger)),
                            "csms" | "cs" => Ok(Expr::From(Side::Csms)),
                            _ => Err(ParseError {
                                at: here + 1,
                                message: format!("expected charger or csms, got `{w}`"),
                            }),
                        }
                    }
                    "s" => {
                        let here = self.pos;
                        let w = self.word("a severity")?;
                        match w.to_ascii_lowercase().as_str() {
                            "info" => Ok(Expr::Severity(Severity::Info)),
                            "warning" | "warn" => Ok(Expr::Severity(Severity::Warning)),
                            "error" => Ok(Expr::Severity(Severity::Error)),
                            _ => Err(ParseError {
                                at: here + 1,
                                message: format!("expected info, warning or error, got `{w}`"),
                            }),
                        }
                    }
                    "p" => {
                        let pointer = self.word("a JSON pointer (`/connectorId`)")?;
                        if !pointer.starts_with('/') {
                            return Err(ParseError {
                                at: self.pos - pointer.chars().count(),
                                message: "expected a JSON pointer starting with `/`".into(),
                            });
                        }
                        self.ws();
                        let rest: String = self.chars[self.pos..].iter().take(2).collect();
                        let (op, n) = if rest.starts_with("==") {
                            (Op::Eq, 2)
                        } else if rest.starts_with("!=") {
                            (Op::Ne, 2)
                        } else if rest.starts_with("~=") {
                            (Op::Contains, 2)
                        } else if rest.starts_with('<') {
                            (Op::Lt, 1)
                        } else if rest.starts_with('>') {
                            (Op::Gt, 1)
                        } else {
                            return Err(self.err("expected `==`, `!=`, `<`, `>` or `~=`"));
                        };
                        self.pos += n;
                        let value = self.word("a value")?;
                        Ok(Expr::Pointer { pointer, op, value })
                    }
                    "re" => {
                        let here = self.pos;
                        let w = self.word("a regular expression")?;
                        Regex::new(&w).map(Expr::Regex).map_err(|e| ParseError {
                            at: here + 1,
                            message: format!("not a regular expression: {e}"),
                        })
                    }
                    "r" => Ok(Expr::Rule(self.word("a rule id or family")?)),
                    "time" => {
                        let here = self.pos;
                        let w = self.word("a time range (`FROM..TO`)")?;
                        let bad = |what: &str| ParseError {
                            at: here + 1,
                            message: format!(
                                "expected {what} (`+90s`, `2m`, `500ms`, `10:15:02` or RFC 3339), got `{w}`"
                            ),
                        };
                        let Some((a, b)) = w.split_once("..") else {
                            return Err(bad("`FROM..TO`"));
                        };
                        let bound = |x: &str| {
                            if x.is_empty() {
                                Ok(None)
                            } else {
                                TimeBound::parse(x).map(Some).ok_or_else(|| bad("a time"))
                            }
                        };
                        Ok(Expr::Time {
                            from: bound(a)?,
                            to: bound(b)?,
                        })
                    }
                    _ => Err(ParseError {
                        at,
                        message: format!(
                            "unknown filter `~{name}`: expected ~c, ~a, ~t, ~d, ~s, ~p, ~re, ~r or ~time"
                        ),
                    }),
                }
            }
            Some(_) => Ok(Expr::Text(self.word("text")?)),
        }
    }
}

impl Expr {
    /// Whether a row with these facts passes.
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(f) && b.matches(f),
            Expr::Or(a, b) => a.matches(f) || b.matches(f),
            Expr::Not(a) => !a.matches(f),
            Expr::Conn(c) => contains_smart(f.conn, c),
            Expr::Action(a) => f.action.is_some_and(|x| contains_smart(x, a)),
            Expr::Type(t) => f.message_type == Some(*t),
            Expr::From(s) => f.from == Some(*s),
            Expr::Severity(s) => f.worst.is_some_and(|w| w >= *s),
            Expr::Regex(r) => r.is_match(if f.text.is_empty() { f.short } else { f.text }),
            Expr::Text(t) => {
                contains_smart(f.conn, t)
                    || f.action.is_some_and(|a| contains_smart(a, t))
                    || contains_smart(if f.text.is_empty() { f.short } else { f.text }, t)
            }
            Expr::Pointer { pointer, op, value } => pointer_matches(f.text, pointer, *op, value),
            Expr::Rule(r) => f
                .rules
                .iter()
                .any(|x| x.id.eq_ignore_ascii_case(r) || x.family().eq_ignore_ascii_case(r)),
            Expr::Time { from, to } => {
                from.is_none_or(|b| f.at >= b.resolve(f.origin))
                    && to.is_none_or(|b| f.at <= b.resolve(f.origin))
            }
        }
    }

    /// Whether matching needs the frame's text (read back from the file for `view`).
    pub fn needs_text(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.needs_text() || b.needs_text(),
            Expr::Not(a) => a.needs_text(),
            Expr::Regex(_) | Expr::Text(_) | Expr::Pointer { .. } => true,
            _ => false,
        }
    }

    /// Whether matching needs the rules of the frame's findings.
    pub fn needs_rules(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.needs_rules() || b.needs_rules(),
            Expr::Not(a) => a.needs_rules(),
            Expr::Rule(_) => true,
            _ => false,
        }
    }
}

/// The payload's value at `pointer` compared with `want` (numbers as numbers, strings
/// without their quotes).
fn pointer_matches(text: &str, pointer: &str, op: Op, want: &str) -> bool {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let payload = match frame.get(0).and_then(Value::as_u64) {
        Some(2) => frame.get(3),
        Some(3) => frame.get(2),
        _ => None,
    };
    let Some(got) = payload.and_then(|p| p.pointer(pointer)) else {
        return op == Op::Ne;
    };
    let got_s = match got {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let num = |s: &str| s.parse::<f64>().ok();
    match op {
        Op::Eq => got_s == want || num(&got_s).is_some_and(|g| num(want) == Some(g)),
        Op::Ne => !(got_s == want || num(&got_s).is_some_and(|g| num(want) == Some(g))),
        Op::Lt => matches!((num(&got_s), num(want)), (Some(g), Some(w)) if g < w),
        Op::Gt => matches!((num(&got_s), num(want)), (Some(g), Some(w)) if g > w),
        Op::Contains => got_s.contains(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(text: &'a str, action: &'a str, mt: MessageType) -> Facts<'a> {
        Facts {
            conn: "CP-001",
            action: Some(action),
            message_type: Some(mt),
            from: Some(Side::Charger),
            worst: Some(Severity::Warning),
            text,
            short: "",
            rules: &[],
            at: Timestamp(0),
            origin: Timestamp(0),
        }
    }

    #[test]
    fn expressions_combine_and_match() {
        let sn = r#"[2,"1","StatusNotification",{"connectorId":2,"status":"Available"}]"#;
        let f = facts(sn, "StatusNotification", MessageType::Call);
        let yes = [
            "~p /connectorId == 2",
            "~p /connectorId > 1 & ~t call",
            "~p /status ~= Avail",
            "~a status ~d charger",
            "~c CP-0 | ~a Boot",
            "!~a Boot",
            "(~a Boot | ~a Status) & ~s warning",
            "~re connectorId.:2",
            "available",
            "~p /missing != 1",
        ];
        for e in yes {
            assert!(parse(e).unwrap().matches(&f), "{e}");
        }
        let no = [
            "~p /connectorId == 3",
            "~p /connectorId < 2",
            "~t result",
            "~d csms",
            "~s error",
            "!(~a Status)",
            "~a Boot | ~c EVSE",
            "Available ~a Boot",
        ];
        for e in no {
            assert!(!parse(e).unwrap().matches(&f), "{e}");
        }
    }

    #[test]
    fn rules_and_families_match_the_frames_findings() {
        let rules = [&crate::engine::rules::status16::CONNECTOR_ID_RANGE];
        let mut f = facts("[2]", "StatusNotification", MessageType::Call);
        f.rules = &rules;
        for e in [
            "~r status16.connector-id-range",
            "~r STATUS16",
            "~r status16 & ~a Status",
        ] {
            assert!(parse(e).unwrap().matches(&f), "{e}");
        }
        for e in ["~r status16.connector", "~r schema", "!~r status16"] {
            assert!(!parse(e).unwrap().matches(&f), "{e}");
        }
        f.rules = &[];
        assert!(!parse("~r status16").unwrap().matches(&f));
        assert!(parse("~r status16").unwrap().needs_rules());
        assert!(!parse("~r status16").unwrap().needs_text());
        assert!(parse("~a x | !~re y").unwrap().needs_text());
    }

    #[test]
    fn time_ranges_relative_of_day_and_absolute() {
        let origin = Timestamp::parse_rfc3339("2024-05-01T10:15:00Z").unwrap();
        let mut f = facts("[2]", "Heartbeat", MessageType::Call);
        f.origin = origin;
        f.at = origin.after(90_000_000); // 10:16:30
        let yes = [
            "~time +90s..",
            "~time 1m..2m",
            "~time ..1.5m",
            "~time 89500ms..90500ms",
            "~time 10:16..10:17",
            "~time 10:16:30..10:16:30",
            "~time 10:16:29.999..",
            "~time 2024-05-01T10:16:00Z..2024-05-01T10:17:00Z",
            "~time .. & ~a Heart",
        ];
        for e in yes {
            assert!(parse(e).unwrap().matches(&f), "{e}");
        }
        let no = [
            "~time +91s..",
            "~time ..1m",
            "~time 10:17..",
            "~time ..10:16:29.999",
            "~time 2024-05-02T00:00:00Z..",
            "!~time 1m..2m",
        ];
        for e in no {
            assert!(!parse(e).unwrap().matches(&f), "{e}");
        }
        for (src, msg) in [
            ("~time 1m", "expected `FROM..TO`"),
            ("~time 1x..2m", "expected a time"),
            ("~time 25:00..", "expected a time"),
            ("~time ..10:61", "expected a time"),
            ("~time 5..", "expected a time"),
        ] {
            let e = parse(src).unwrap_err();
            assert!(e.message.contains(msg), "{src}: {e}");
            assert_eq!(e.at, 6, "{src}: {e}");
        }
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        let cases = [
            ("~x foo", 0, "unknown filter `~x`"),
            ("~p connectorId == 2", 3, "starting with `/`"),
            ("~p /connectorId = 2", 16, "expected `==`"),
            ("(~a Boot", 8, "expected `)`"),
            ("~t reply", 3, "expected call, result"),
            ("~s bad", 3, "expected info"),
            ("~re (", 4, "not a regular expression"),
            ("~a", 2, "expected an action name"),
            ("~a Boot )", 8, "expected `&`, `|`, `)` or the end"),
            ("", 0, "expected a filter"),
        ];
        for (src, at, msg) in cases {
            let e = parse(src).unwrap_err();
            assert!(e.message.contains(msg), "{src}: {e}");
            assert_eq!(e.at, at, "{src}: {e}");
        }
        assert_eq!(
            parse("~x").unwrap_err().to_string(),
            "at 1: unknown filter `~x`: expected ~c, ~a, ~t, ~d, ~s, ~p, ~re, ~r or ~time"
        );
        assert!(looks_like_expr(" ~a Boot") && looks_like_expr("!x") && !looks_like_expr("Boot"));
    }
}
