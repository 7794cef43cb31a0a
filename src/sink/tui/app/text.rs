//! Where a row's text comes from ([`Body`]: kept, or read back from the trace file) and
//! what is matched against it (a search, a filter expression, over the frames and over the
//! findings). Reads the trace file through
//! [`super::super::store`] only; changes no state.

use std::borrow::Cow;
use std::collections::HashMap;

use super::super::feed::id_and_short;
use super::super::filter::{Facts, looks_like_expr};
use super::super::store::ReadBackError;
use super::{App, Body, FindingRow, FrameRow, Shown};
use crate::finding::Rule;

/// The rules of the findings on each kept row, worked out again when findings came.
#[derive(Debug, Default)]
pub(super) struct RuleIndex {
    /// [`App::next_finding`] when worked out.
    upto: u64,
    by_seq: HashMap<u64, Vec<&'static Rule>>,
}

impl Shown<'_> {
    /// Nothing shown (for a match that does not look at the text).
    fn none() -> Self {
        Shown {
            id: None,
            short: Cow::Borrowed(""),
            text: Cow::Borrowed(""),
        }
    }
}

impl App {
    /// The exact text of a frame row (empty for an event); an error says why it could not
    /// be read back.
    pub fn text_of<'a>(&self, row: &FrameRow<'a>) -> Result<Cow<'a, str>, ReadBackError> {
        match row.body {
            Body::Event(_) => Ok(Cow::Borrowed("")),
            Body::Kept(k) => Ok(Cow::Borrowed(&*k.text)),
            Body::InTrace(offset) => match &self.store {
                Some(f) => f.frame_text(offset, row.line).map(Cow::Owned),
                None => Err(ReadBackError::NoTraceFile { line: row.line }),
            },
        }
    }

    /// What a row shows: its id, its one-line form, its exact text.
    pub fn shown<'a>(&self, row: &FrameRow<'a>) -> Shown<'a> {
        match row.body {
            Body::Event(d) => Shown {
                id: None,
                short: Cow::Borrowed(d),
                text: Cow::Borrowed(""),
            },
            Body::Kept(k) => Shown {
                id: k.id.as_deref().map(Cow::Borrowed),
                short: Cow::Borrowed(&*k.short),
                text: Cow::Borrowed(&*k.text),
            },
            Body::InTrace(_) => match self.text_of(row) {
                Ok(text) => {
                    let (id, short) = id_and_short(&text);
                    Shown {
                        id: id.map(|i| Cow::Owned(i.into())),
                        short: Cow::Owned(short.into()),
                        text,
                    }
                }
                Err(e) => Shown {
                    id: None,
                    short: Cow::Owned(e.to_string()),
                    text: Cow::Borrowed(""),
                },
            },
        }
    }

    /// The row's connection, action or text contains `needle` (smart case).
    pub(super) fn row_matches(&self, row: &FrameRow<'_>, needle: &str) -> bool {
        if let Some(e) = &self.expr
            && looks_like_expr(needle)
        {
            // Only what the expression looks at is read back from the file.
            let shown = if e.needs_text() {
                self.shown(row)
            } else {
                Shown::none()
            };
            let mut index = self.rule_index.borrow_mut();
            if e.needs_rules() && index.upto != self.next_finding {
                index.by_seq.clear();
                for r in &self.findings {
                    if let Some(seq) = r.frame {
                        index.by_seq.entry(seq).or_default().push(r.finding.rule);
                    }
                }
                index.upto = self.next_finding;
            }
            return e.matches(&Facts {
                conn: row.conn,
                action: row.action.map(|a| &**a),
                message_type: row.message_type,
                from: row.from,
                worst: row.worst,
                text: &shown.text,
                short: &shown.short,
                rules: index.by_seq.get(&row.seq).map_or(&[], Vec::as_slice),
                at: row.at,
                origin: self.origin.unwrap_or(row.at),
            });
        }
        if contains_smart(row.conn, needle) || row.action.is_some_and(|a| contains_smart(a, needle))
        {
            return true;
        }
        match row.body {
            // The short form is cut from the text; events have only the short form. The
            // unique id is in the text.
            Body::Event(d) => contains_smart(d, needle),
            Body::Kept(k) => contains_smart(&k.text, needle),
            Body::InTrace(_) => self.text_of(row).is_ok_and(|t| contains_smart(&t, needle)),
        }
    }

    /// Whether a finding passes the filter expression `needle` (`None`: `needle` is no
    /// expression). A finding about a kept frame is judged as that frame with this finding
    /// only; any other with what the finding itself says (its message as the text).
    pub(super) fn finding_matches_expr(&self, r: &FindingRow, needle: &str) -> Option<bool> {
        let e = self.expr.as_ref().filter(|_| looks_like_expr(needle))?;
        let f = &r.finding;
        let rules = [f.rule];
        let origin = self.origin.unwrap_or(f.at);
        if let Some(row) = r.frame.and_then(|seq| self.row(seq)) {
            let shown = if e.needs_text() {
                self.shown(&row)
            } else {
                Shown::none()
            };
            return Some(e.matches(&Facts {
                conn: row.conn,
                action: row.action.map(|a| &**a),
                message_type: row.message_type,
                from: row.from,
                worst: Some(f.severity),
                text: &shown.text,
                short: &shown.short,
                rules: &rules,
                at: row.at,
                origin,
            }));
        }
        Some(e.matches(&Facts {
            conn: &f.conn,
            action: f.action.as_deref(),
            message_type: None,
            from: f.from,
            worst: Some(f.severity),
            text: "",
            short: &f.message,
            rules: &rules,
            at: f.at,
            origin,
        }))
    }
}

/// Smart case: a needle with a capital letter matches exactly, otherwise ignoring ASCII case.
pub fn contains_smart(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else {
        return true;
    };
    if needle.chars().any(char::is_uppercase) {
        return memchr::memmem::find(h, n).is_some();
    }
    // Candidates start where the first byte matches in either case (memchr is fast), and
    // only there is the rest compared.
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(i) = memchr::memchr2(lo, up, &h[from..]) {
        let at = from + i;
        if h.len() - at < n.len() {
            return false;
        }
        if h[at..at + n.len()].eq_ignore_ascii_case(n) {
            return true;
        }
        from = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_search() {
        assert!(contains_smart("BootNotification", "notif"));
        assert!(contains_smart(
            "BootNotification",
            "BOOTN".to_lowercase().as_str()
        ));
        assert!(contains_smart("xHeartBeat", "heartbeat"));
        assert!(
            !contains_smart("xHeartBeat", "Heartbeat"),
            "a capital makes it exact"
        );
        assert!(contains_smart("xHeartBeat", "HeartBeat"));
        assert!(!contains_smart("abc", "abcd"));
        assert!(!contains_smart("ab", "b2"));
        assert!(contains_smart("anything", ""));
        assert!(contains_smart("Ünïcode ok", "ok"));
    }
}
