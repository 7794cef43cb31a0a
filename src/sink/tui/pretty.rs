//! A frame's text laid out for reading, from the text itself: members stay in the order
//! they were sent and every string and number is shown byte for byte as sent (a parse and
//! re-serialisation would sort keys and normalise numbers, and a conformance dispute is
//! about exactly those bytes). It also finds where the value a finding points at (a JSON
//! pointer) sits in the text, to mark it in the exact view.
//!
//! It judges nothing and does not validate: text it cannot follow gives `None`, and the
//! caller shows the text as it is.

/// The deepest nesting laid out; deeper text is shown as it is.
const MAX_DEPTH: usize = 128;

/// `text` laid out, two spaces per level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pretty {
    /// One entry per line: the line, and whether it is (part of) the pointed value.
    pub lines: Vec<(String, bool)>,
    /// Where the pointed value is in the text (byte range), if it is there.
    pub span: Option<(usize, usize)>,
}

/// Lays out `text` (one JSON value), marking the value at `pointer` (RFC 6901, from the
/// root of `text`). `None` if the text is no JSON this can follow.
pub fn pretty(text: &str, pointer: Option<&str>) -> Option<Pretty> {
    walk(text, pointer, true)
}

/// Only where the value at `pointer` is in `text` (byte range), without laying it out.
pub fn span_of(text: &str, pointer: &str) -> Option<(usize, usize)> {
    walk(text, Some(pointer), false)?.span
}

fn walk(text: &str, pointer: Option<&str>, lay_out: bool) -> Option<Pretty> {
    let mut w = Walker {
        s: text.as_bytes(),
        text,
        pos: 0,
        pointer,
        path: String::new(),
        out: Vec::new(),
        span: None,
        lay_out,
    };
    w.value("", 0, false)?;
    w.ws();
    (w.pos == w.s.len()).then_some(Pretty {
        lines: w.out,
        span: w.span,
    })
}

struct Walker<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    pointer: Option<&'a str>,
    /// The pointer of the value being walked.
    path: String,
    out: Vec<(String, bool)>,
    span: Option<(usize, usize)>,
    /// Build the lines (false: only find the span).
    lay_out: bool,
}

impl Walker<'_> {
    fn push(&mut self, line: String, marked: bool) {
        if self.lay_out {
            self.out.push((line, marked));
        }
    }

    fn ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.pos += 1;
        }
    }

    /// The value at the current path is the pointed one, or inside it.
    fn marked(&self) -> bool {
        self.pointer.is_some_and(|p| {
            self.path == p
                || (self.path.starts_with(p) && self.path.as_bytes().get(p.len()) == Some(&b'/'))
        })
    }

    /// A string token, from its opening quote to after its closing one.
    fn string(&mut self) -> Option<&str> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match *self.s.get(self.pos)? {
                b'"' => {
                    self.pos += 1;
                    return self.text.get(start..self.pos);
                }
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
    }

    /// Lays out one value; `prefix` is its key (`"k": `), `comma` whether one follows it.
    fn value(&mut self, prefix: &str, depth: usize, comma: bool) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let indent = "  ".repeat(depth);
        let tail = if comma { "," } else { "" };
        let marked = self.marked();
        let start = self.pos;
        let (open, close) = match *self.s.get(self.pos)? {
            b'{' => ('{', '}'),
            b'[' => ('[', ']'),
            b'"' => {
                let tok = self.string()?.to_owned();
                self.push(format!("{indent}{prefix}{tok}{tail}"), marked);
                self.note_span(start);
                return Some(());
            }
            _ => {
                while self.s.get(self.pos).is_some_and(|b| {
                    !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                let tok = self.text.get(start..self.pos)?;
                self.push(format!("{indent}{prefix}{tok}{tail}"), marked);
                self.note_span(start);
                return Some(());
            }
        };
        self.pos += 1;
        self.ws();
        if self.s.get(self.pos) == Some(&(close as u8)) {
            self.pos += 1;
            self.push(format!("{indent}{prefix}{open}{close}{tail}"), marked);
            self.note_span(start);
            return Some(());
        }
        self.push(format!("{indent}{prefix}{open}"), marked);
        let mut index = 0usize;
        loop {
            self.ws();
            let keep = self.path.len();
            let key = if open == '{' {
                if self.s.get(self.pos) != Some(&b'"') {
                    return None;
                }
                let raw = self.string()?.to_owned();
                self.ws();
                if self.s.get(self.pos) != Some(&b':') {
                    return None;
                }
                self.pos += 1;
                let name = if raw.contains('\\') {
                    serde_json::from_str::<String>(&raw).ok()?
                } else {
                    raw[1..raw.len() - 1].to_owned()
                };
                self.path.push('/');
                self.path
                    .push_str(&name.replace('~', "~0").replace('/', "~1"));
                format!("{raw}: ")
            } else {
                self.path.push('/');
                self.path.push_str(&index.to_string());
                String::new()
            };
            // Whether a comma follows is known only after the value: lay it out, then fix
            // its last line.
            self.value(&key, depth + 1, false)?;
            self.path.truncate(keep);
            self.ws();
            match *self.s.get(self.pos)? {
                b',' => {
                    self.pos += 1;
                    if let Some(last) = self.out.last_mut() {
                        last.0.push(',');
                    }
                    index += 1;
                }
                b if b == close as u8 => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
        self.push(format!("{indent}{close}{tail}"), marked);
        self.note_span(start);
        Some(())
    }

    fn note_span(&mut self, start: usize) {
        if self.span.is_none() && self.pointer == Some(self.path.as_str()) {
            self.span = Some((start, self.pos));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(p: &Pretty) -> Vec<&str> {
        p.lines
            .iter()
            .filter(|(_, m)| *m)
            .map(|(l, _)| l.trim())
            .collect()
    }

    #[test]
    fn members_keep_their_order_and_values_their_bytes() {
        let text = r#"[2,"1","StopTransaction",{"transactionId":42,"meterStop":1.50,"idTag":"\u0041B","x":[]}]"#;
        let p = pretty(text, None).unwrap();
        let lines: Vec<&str> = p.lines.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            lines,
            vec![
                "[",
                "  2,",
                "  \"1\",",
                "  \"StopTransaction\",",
                "  {",
                "    \"transactionId\": 42,",
                "    \"meterStop\": 1.50,",
                "    \"idTag\": \"\\u0041B\",",
                "    \"x\": []",
                "  }",
                "]",
            ]
        );
        assert_eq!(p.span, None);
    }

    #[test]
    fn the_pointed_value_is_marked_and_found_in_the_text() {
        let text = r#"{ "a" : 1, "b": {"c": [1, 2]}, "d/e": 3, "f~": {"g": 4} }"#;
        let p = pretty(text, Some("/b/c/1")).unwrap();
        assert_eq!(marked(&p), vec!["2"]);
        let (a, b) = p.span.unwrap();
        assert_eq!(&text[a..b], "2");
        let p = pretty(text, Some("/d~1e")).unwrap();
        assert_eq!(marked(&p), vec!["\"d/e\": 3,"]);
        let p = pretty(text, Some("/f~0/g")).unwrap();
        assert_eq!(marked(&p), vec!["\"g\": 4"]);
        assert_eq!(span_of(text, "/f~0/g").map(|(a, b)| &text[a..b]), Some("4"));
        // A whole object: all its lines, and its span from brace to brace.
        let p = pretty(text, Some("/b")).unwrap();
        assert_eq!(marked(&p).len(), 6);
        let (a, b) = p.span.unwrap();
        assert_eq!(&text[a..b], r#"{"c": [1, 2]}"#);
        // `/b` does not cover a sibling whose name starts alike.
        let p = pretty(r#"{"b":1,"bb":2}"#, Some("/b")).unwrap();
        assert_eq!(marked(&p), vec!["\"b\": 1,"]);
        // Nothing there: nothing marked.
        let p = pretty(text, Some("/zz")).unwrap();
        assert!(marked(&p).is_empty() && p.span.is_none());
    }

    #[test]
    fn text_it_cannot_follow_gives_none() {
        for bad in [
            "",
            "[1,2",
            "{\"a\" 1}",
            "[1] x",
            "{1:2}",
            "\"open",
            &"[".repeat(MAX_DEPTH + 5),
        ] {
            assert_eq!(pretty(bad, None), None, "{bad}");
        }
        assert!(pretty("  [ ]  ", None).is_some());
    }
}
