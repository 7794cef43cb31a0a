//! A JSON reader for the hot path: one frame's text straight into an arena document
//! ([`super::doc::Doc`], reused frame after frame), without serde's visitor machinery (a
//! generic deserializer, a visitor per value, a `String` grown byte by byte for every key)
//! and without a `serde_json::Value` ([`parse`] builds one from the document for the
//! callers that want it).
//!
//! It reads a strict subset of what `serde_json::from_str` reads and gives the same value
//! for it: numbers as serde_json stores them (`u64`, else `i64`, else `f64`, `-0` a float),
//! a repeated member's last value, strings unescaped the same way. Anything it does not
//! handle itself (an invalid document, a lone surrogate, an integer beyond 64 bits, a
//! float out of range, nesting deeper than serde_json allows) is `None`, and the caller
//! parses the text with serde_json, which also words the error. It never panics.
//!
//! [`parse_escaped`] reads the same document while it is still escaped inside a trace
//! record's JSON string (`[2,\"1\",...]`: a quote is `\"`, a backslash `\\`), so the
//! frame text is never copied out of its record just to be parsed. It gives the value
//! [`parse`] gives for the unescaped text, or `None`: it also declines the record escapes a
//! frame never needs (`\u`, `\b`, `\f`, a `\n` inside a frame string), and the caller then
//! unescapes and parses the usual way.

use serde_json::Value;

use super::doc::{Doc, MAX_TEXT, Node, Span};

/// serde_json refuses documents nested deeper than 128; anything near that goes its way.
const MAX_DEPTH: u32 = 100;

/// Parses `text` as one JSON document, or `None` when serde_json must decide.
pub fn parse(text: &str) -> Option<Value> {
    let mut doc = Doc::new();
    parse_into(text, &mut doc).then(|| doc.root().to_value())
}

/// Parses the contents of a JSON string literal (the text between its quotes, escapes and
/// all) as the JSON document it holds once unescaped: the same value as
/// `parse(&unescaped)`, or `None` when that would be `None` or this reader declines.
pub fn parse_escaped(contents: &str) -> Option<Value> {
    let mut doc = Doc::new();
    parse_escaped_into(contents, &mut doc).then(|| doc.root().to_value())
}

/// [`parse`] into `doc` (cleared first); `false` when declined.
pub(super) fn parse_into(text: &str, doc: &mut Doc) -> bool {
    Parser::<false>::new(text, doc).document().is_some()
}

/// [`parse_escaped`] into `doc` (cleared first); `false` when declined.
pub(super) fn parse_escaped_into(contents: &str, doc: &mut Doc) -> bool {
    Parser::<true>::new(contents, doc).document().is_some()
}

/// The reader; with `ESC` the text is the escaped contents of a JSON string, in which every
/// quote of the document is `\"` and every backslash `\\`. It writes the document into `out`.
struct Parser<'t, 'o, const ESC: bool> {
    text: &'t str,
    b: &'t [u8],
    i: usize,
    out: &'o mut Doc,
}

/// The high bit of each byte of `x` (eight bytes, little-endian) that is a quote, a backslash
/// or below 0x20; exact for the lowest such byte, which is all that is used (a borrow only
/// runs upwards from a byte that matched).
pub(crate) fn special_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = x ^ (ONES * u64::from(b'"'));
    let slash = x ^ (ONES * u64::from(b'\\'));
    (quote.wrapping_sub(ONES) & !quote
        | slash.wrapping_sub(ONES) & !slash
        | x.wrapping_sub(ONES * 0x20) & !x)
        & HIGH
}

/// The index of the first byte at or after `j` that ends a plain run (or the end): a quote,
/// a backslash or a control character, eight bytes at a time while they are all plain, then
/// one by one. Frame texts are a few hundred bytes with an escape every few, runs too short
/// for a vector search to pay its set-up. The record reader scans its strings with it too.
#[inline]
pub(crate) fn plain_end(b: &[u8], mut j: usize) -> usize {
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hit = special_bytes(u64::from_le_bytes(word));
        if hit != 0 {
            return j + (hit.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < b.len() && !STOP[usize::from(b[j])] {
        j += 1;
    }
    j
}

/// Bytes that end the plain run of a string: `"`, `\` and control characters.
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

impl<'t, 'o, const ESC: bool> Parser<'t, 'o, ESC> {
    fn new(text: &'t str, out: &'o mut Doc) -> Self {
        out.clear();
        // The text itself heads the string buffer: a string without escapes is a span of
        // it, not a copy of its own.
        if text.len() <= MAX_TEXT {
            out.strs.push_str(text);
        }
        Parser {
            text,
            b: text.as_bytes(),
            i: 0,
            out,
        }
    }

    fn document(mut self) -> Option<()> {
        if self.b.len() > MAX_TEXT {
            return None;
        }
        self.skip_ws();
        self.value(0)?;
        self.skip_ws();
        (self.i == self.b.len()).then_some(())
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(b' ') => self.i += 1,
                Some(b'\n' | b'\r' | b'\t') if !ESC => self.i += 1,
                // Escaped, a line feed, return or tab is `\n`, `\r`, `\t`.
                Some(b'\\')
                    if ESC && matches!(self.b.get(self.i + 1), Some(b'n' | b'r' | b't')) =>
                {
                    self.i += 2;
                }
                _ => return,
            }
        }
    }

    /// Whether a quote of the document starts at `self.i` (`"`, or escaped `\"`).
    fn at_quote(&self) -> bool {
        if ESC {
            self.peek() == Some(b'\\') && self.b.get(self.i + 1) == Some(&b'"')
        } else {
            self.peek() == Some(b'"')
        }
    }

    fn literal(&mut self, word: &[u8], node: Node) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            self.out.nodes.push(node);
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' if !ESC => self.string_node(),
            b'\\' if ESC && self.at_quote() => self.string_node(),
            b't' => self.literal(b"true", Node::Bool(true)),
            b'f' => self.literal(b"false", Node::Bool(false)),
            b'n' => self.literal(b"null", Node::Null),
            b'-' | b'0'..=b'9' => {
                let n = self.number()?;
                self.out.nodes.push(n);
                Some(())
            }
            _ => None,
        }
    }

    fn string_node(&mut self) -> Option<()> {
        let span = self.string()?;
        self.out.nodes.push(Node::Str(span));
        Some(())
    }

    fn object(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let at = self.out.open();
        let mut len = 0;
        // A set of the names' hashes: only an object where two collide is searched for a
        // repeated name (which a later member replaces).
        let (mut seen, mut maybe_repeat) = (0u128, false);
        self.skip_ws();
        if self.peek()? == b'}' {
            self.i += 1;
            self.out.close_object(at, 0);
            return Some(());
        }
        loop {
            if !self.at_quote() {
                return None;
            }
            let key = self.string()?;
            self.out.nodes.push(Node::Key(key));
            let bit = 1u128 << (self.out.name_hash(key) & 127);
            maybe_repeat |= seen & bit != 0;
            seen |= bit;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.skip_ws();
            self.value(depth)?;
            len += 1;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.skip_ws();
                }
                b'}' => {
                    self.i += 1;
                    if maybe_repeat {
                        self.out.close_object(at, len);
                    } else {
                        self.out.close_object_unique(at, len);
                    }
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let at = self.out.open();
        let mut len = 0;
        self.skip_ws();
        if self.peek()? == b']' {
            self.i += 1;
            self.out.close_array(at, 0);
            return Some(());
        }
        loop {
            self.value(depth)?;
            len += 1;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.skip_ws();
                }
                b']' => {
                    self.i += 1;
                    self.out.close_array(at, len);
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string at `self.i` (its opening quote), unescaped onto the document's text.
    fn string(&mut self) -> Option<Span> {
        if ESC {
            return self.escaped_string();
        }
        let start = self.i + 1;
        let end = plain_end(self.b, start);
        if *self.b.get(end)? == b'"' {
            self.i = end + 1;
            return Some(Span::of(start, end));
        }
        let from = self.out.strs.len();
        // Both ends sit on ASCII bytes, so the slice is whole characters.
        self.out.strs.push_str(self.text.get(start..end)?);
        let mut i = end;
        loop {
            match *self.b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    return Some(self.out.span_from(from));
                }
                b'\\' => {
                    let (c, next) = escape(self.b, i)?;
                    self.out.strs.push(c);
                    i = next;
                }
                c if c < 0x20 => return None,
                _ => {
                    let run_end = plain_end(self.b, i);
                    self.out.strs.push_str(self.text.get(i..run_end)?);
                    i = run_end;
                }
            }
        }
    }

    /// [`Parser::string`] over escaped text: the string at `self.i` (its opening `\"`).
    /// Inside it a record escape is the closing quote (`\"`), a slash (`\/`) or the start
    /// of the document's own escape (`\\`); any other (a control character, which a
    /// document's string may not hold raw, or a `\u`) declines.
    fn escaped_string(&mut self) -> Option<Span> {
        let b = self.b;
        let start = self.i + 2;
        let end = plain_end(b, start);
        if b.get(end..end + 2)? == b"\\\"" {
            self.i = end + 2;
            return Some(Span::of(start, end));
        }
        let from = self.out.strs.len();
        self.out.strs.push_str(self.text.get(start..end)?);
        let mut i = end;
        loop {
            match *b.get(i)? {
                b'\\' => match *b.get(i + 1)? {
                    b'"' => {
                        self.i = i + 2;
                        return Some(self.out.span_from(from));
                    }
                    b'/' => {
                        self.out.strs.push('/');
                        i += 2;
                    }
                    b'\\' => {
                        let (c, next) = escaped_escape(b, i + 2)?;
                        self.out.strs.push(c);
                        i = next;
                    }
                    _ => return None,
                },
                // A raw quote or control character: not the contents of a JSON string.
                c if c == b'"' || c < 0x20 => return None,
                _ => {
                    let run_end = plain_end(b, i);
                    self.out.strs.push_str(self.text.get(i..run_end)?);
                    i = run_end;
                }
            }
        }
    }

    /// A number as serde_json stores it.
    fn number(&mut self) -> Option<Node> {
        let start = self.i;
        let negative = self.b[start] == b'-';
        let mut i = start + usize::from(negative);
        let int_start = i;
        match *self.b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.b.get(i) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let int_end = i;
        let mut float = false;
        if self.b.get(i) == Some(&b'.') {
            i += 1;
            let digits = i;
            while let Some(b'0'..=b'9') = self.b.get(i) {
                i += 1;
            }
            if i == digits {
                return None;
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = self.b.get(i) {
                i += 1;
            }
            let digits = i;
            while let Some(b'0'..=b'9') = self.b.get(i) {
                i += 1;
            }
            if i == digits {
                return None;
            }
            float = true;
        }
        // serde_json refuses a digit right after a lone leading zero ("01").
        if let Some(b'0'..=b'9') = self.b.get(i) {
            return None;
        }
        self.i = i;
        if float {
            let f: f64 = self.text.get(start..i)?.parse().ok()?;
            // serde_json refuses what overflows to infinity.
            return f.is_finite().then_some(Node::F64(f));
        }
        let mut v: u64 = 0;
        for &d in &self.b[int_start..int_end] {
            // Beyond 64 bits serde_json reads a float by its own rules: it decides.
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        if !negative {
            return Some(Node::U64(v));
        }
        // As serde_json: `-0`, and a magnitude beyond i64, are the float of the negation.
        match i64::try_from(v) {
            Ok(m) if m > 0 => Some(Node::I64(-m)),
            _ if v == 1 << 63 => Some(Node::I64(i64::MIN)),
            #[expect(clippy::cast_precision_loss, reason = "serde_json's own conversion")]
            _ => Some(Node::F64(-(v as f64))),
        }
    }
}

/// The escape starting with the backslash at `i` of `b`: the character and the index after
/// it; `None` for what JSON does not allow (an unknown escape, a lone or unpaired surrogate).
/// The trace record reader unescapes its strings with it too.
#[inline]
pub(crate) fn escape(b: &[u8], i: usize) -> Option<(char, usize)> {
    match *b.get(i + 1)? {
        b'u' => unicode_escape(b, i + 2, b"\\u"),
        letter => Some((short_escape(letter)?, i + 2)),
    }
}

/// A document escape whose backslash was escaped (`\\`) in escaped text: `j` is the index
/// after that `\\`, where the escape's letter is, itself escaped when it is a quote or a
/// backslash (`\\\"` is the document's `\"`). The character and the index after it, as
/// [`escape`] gives them for the unescaped text; `None` also for the record escapes a
/// frame never needs inside (a `\u` digit written as an escape).
fn escaped_escape(b: &[u8], j: usize) -> Option<(char, usize)> {
    match *b.get(j)? {
        // An escaped quote, backslash or slash.
        b'\\' => match *b.get(j + 1)? {
            letter @ (b'"' | b'\\' | b'/') => Some((short_escape(letter)?, j + 2)),
            _ => None,
        },
        // A bare quote ends the record's string: no escape of the document.
        b'"' => None,
        // The trailing surrogate's escape: an escaped backslash, then `u`.
        b'u' => unicode_escape(b, j + 1, b"\\\\u"),
        letter => Some((short_escape(letter)?, j + 1)),
    }
}

/// The character of a one-letter JSON escape (`\n` is `n`'s).
#[inline]
fn short_escape(letter: u8) -> Option<char> {
    Some(match letter {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// A `\uXXXX` escape whose four digits start at `d`: the character and the index after it. A
/// leading surrogate must be followed by `trail` (how the next escape's backslash and `u` are
/// written: `\u`, or `\\u` in escaped text) and a trailing surrogate's four digits.
#[inline]
fn unicode_escape(b: &[u8], d: usize, trail: &[u8]) -> Option<(char, usize)> {
    let hi = hex4(b, d)?;
    if !(0xD800..0xDC00).contains(&hi) {
        return Some((char::from_u32(hi)?, d + 4));
    }
    let lo_at = d + 4 + trail.len();
    if b.get(d + 4..lo_at) != Some(trail) {
        return None;
    }
    let lo = hex4(b, lo_at)?;
    if !(0xDC00..0xE000).contains(&lo) {
        return None;
    }
    let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    Some((char::from_u32(code)?, lo_at + 4))
}

/// Four hexadecimal digits at `i`.
fn hex4(b: &[u8], i: usize) -> Option<u32> {
    let digits = b.get(i..i + 4)?;
    let mut v = 0u32;
    for &d in digits {
        v = v << 4 | char::from(d).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Same value as serde_json, or declined; never a different value.
    fn agrees(text: &str) -> bool {
        let ours = parse(text);
        let theirs: Result<Value, _> = serde_json::from_str(text);
        match (ours, theirs) {
            (Some(a), Ok(b)) => same(&a, &b),
            (None, _) => true,
            (Some(_), Err(_)) => false,
        }
    }

    /// Equal including the number's stored kind (`1` vs `1.0`), which draft-04 schemas see.
    pub(crate) fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                x.as_u64() == y.as_u64()
                    && x.as_i64() == y.as_i64()
                    && x.is_f64() == y.is_f64()
                    && x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits)
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
            }
            _ => a == b,
        }
    }

    proptest! {
        /// The word-at-a-time scan stops where a byte-by-byte one does.
        #[test]
        fn plain_end_stops_at_the_first_special_byte(
            bytes in proptest::collection::vec(
                prop_oneof![1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 20 => 0x20u8..=0xff],
                0..80,
            ),
            from in 0usize..8,
        ) {
            let from = from.min(bytes.len());
            let slow = (from..bytes.len()).find(|&k| STOP[usize::from(bytes[k])]).unwrap_or(bytes.len());
            prop_assert_eq!(plain_end(&bytes, from), slow);
        }
    }

    #[test]
    fn reads_the_usual_frames_itself() {
        for text in [
            r#"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]"#,
            r#"[3,"a",{"currentTime":"2026-11-22T10:15:03Z","interval":300,"status":"Accepted"}]"#,
            r#"[2,"m",{"connectorId":1,"meterValue":[{"sampledValue":[{"value":"12.5","unit":"kWh"}],"timestamp":"2026-01-01T00:00:00Z"}],"x":[1.5,-2,0,-0,1e3,2.5E-3,true,false,null]}]"#,
            "  [4 , \"x\" , \"GenericError\" , \"\\u00e9\\n\\\"q\\\" \\ud83d\\ude00\" , { } ] \n",
            r#"{"a":1,"a":2}"#,
            "[18446744073709551615,-9223372036854775808,-9223372036854775809,-18446744073709551615]",
            r#""caf\u00e9 ünïcödé""#,
        ] {
            assert!(parse(text).is_some(), "declined {text}");
            assert!(agrees(text), "{text}");
        }
    }

    #[test]
    fn declines_what_serde_json_must_word_or_decide() {
        for text in [
            "",
            "[2,",
            "[01]",
            "[1.]",
            "[-]",
            "[1e]",
            r#"["\ud800"]"#,
            r#"["\udc00x"]"#,
            "[\"a\u{1}b\"]",
            r#"["\x"]"#,
            "[18446744073709551616]",
            "[1e400]",
            "[1] x",
            "{\"a\" 1}",
            "[1,]",
            "tru",
            &"[".repeat(200),
        ] {
            assert!(parse(text).is_none(), "accepted {text:?}");
            assert!(agrees(text), "{text:?}");
        }
    }

    /// Every frame text (and every record) of the repository's traces: the fixtures of the
    /// rules, sessions, test cases and real-world captures, and the fuzz corpus.
    #[test]
    fn every_trace_in_the_repository_reads_as_serde_json_reads_it() {
        let files = repository_traces(&["tests/fixtures", "fuzz/corpus"]);
        assert!(files.len() > 100, "fixtures not found");
        let (mut texts, mut ours) = (0, 0);
        for file in &files {
            let Ok(content) = std::fs::read_to_string(file) else {
                continue;
            };
            for line in content.lines() {
                assert!(agrees(line), "{}: record {line}", file.display());
                let Ok(Value::Object(record)) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                if let Some(Value::String(text)) = record.get("text") {
                    texts += 1;
                    ours += usize::from(parse(text).is_some());
                    assert!(agrees(text), "{}: frame {text}", file.display());
                }
            }
        }
        // Most frames are plain JSON, which this reader takes itself.
        assert!(texts > 1000 && ours * 10 > texts * 9, "{ours} of {texts}");
    }

    /// The `.jsonl` traces below these folders of the repository, sorted.
    pub(crate) fn repository_traces(folders: &[&str]) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "jsonl") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for folder in folders {
            walk(&root.join(folder), &mut files);
        }
        files.sort();
        files
    }

    pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
            "[a-zA-Z0-9 \"\\\\/\\n\\t\u{1}\u{7f}é€😀]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z\"\\\\é]{0,6}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// `v` written compact, or pretty (with line breaks and indents to skip).
    pub(crate) fn written(v: &Value, pretty: bool) -> String {
        if pretty {
            serde_json::to_string_pretty(v).unwrap()
        } else {
            serde_json::to_string(v).unwrap()
        }
    }

    /// `text` as the contents of a JSON string literal (what a trace record holds).
    pub(crate) fn escaped(text: &str) -> String {
        let quoted = serde_json::to_string(text).unwrap();
        quoted[1..quoted.len() - 1].to_owned()
    }

    /// The escaped reading of `contents` gives the plain reading of what they unescape to,
    /// or declines; never a value for contents that are not a JSON string's.
    fn escaped_agrees(contents: &str) -> bool {
        let Some(ours) = parse_escaped(contents) else {
            return true;
        };
        let Ok(text) = serde_json::from_str::<String>(&format!("\"{contents}\"")) else {
            return false;
        };
        parse(&text).is_some_and(|plain| same(&ours, &plain))
    }

    #[test]
    fn reads_the_usual_frames_escaped() {
        for text in [
            r#"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]"#,
            r#"[2,"m",{"connectorId":1,"meterValue":[{"sampledValue":[{"value":"12.5","unit":"kWh"}],"timestamp":"2026-01-01T00:00:00Z"}],"x":[1.5,-2,0,-0,1e3,2.5E-3,true,false,null]}]"#,
            "  [4 , \"x\" , \"GenericError\" , \"\\u00e9\\n\\\"q\\\" \\/ \\\\ \\ud83d\\ude00\" , { } ] \n",
            "{\n\t\"a\": [1,\r\n2]}",
            r#"{"a":1,"a":2}"#,
            r#""caf\u00e9 ünïcödé""#,
        ] {
            let contents = escaped(text);
            let ours = parse_escaped(&contents);
            assert!(ours.is_some(), "declined {contents}");
            assert!(same(&ours.unwrap(), &parse(text).unwrap()), "{contents}");
        }
        // A writer that escapes slashes: `\/` is a slash, in a string and in an escape.
        let v = parse_escaped(r#"[\"a\/b\", \"\\\/\"]"#).unwrap();
        assert_eq!(v, serde_json::json!(["a/b", "/"]));
    }

    #[test]
    fn declines_escaped_what_the_plain_reader_declines_or_never_sees() {
        for contents in [
            "",
            r#"[\"a\"\"]"#,
            r#"[\"\\ud800\"]"#,
            r#"[\"\\ud800\\u0041\"]"#,
            r#"[\"\\udc00\"]"#,
            r#"[\"a\u0001b\"]"#,
            r#"[\"a\nb\"]"#,
            r#"[\"\\x\"]"#,
            r#"[\u0031]"#,
            r#"[0\u0031]"#,
            r#"["a"]"#,
            "[\"a\u{1}\"]",
            r#"[\"a\"] \"#,
            r#"[1,]"#,
            &"[".repeat(200),
        ] {
            assert!(parse_escaped(contents).is_none(), "accepted {contents:?}");
        }
    }

    proptest! {
        /// Any document, written compact or pretty and escaped into a record's string, reads
        /// as serde_json reads the document.
        #[test]
        fn any_document_escaped_reads_as_serde_json_reads_it(v in arb_json(), pretty in any::<bool>()) {
            let text = written(&v, pretty);
            let contents = escaped(&text);
            let ours = parse_escaped(&contents);
            prop_assert!(ours.is_some(), "declined {}", contents);
            let theirs: Value = serde_json::from_str(&text).unwrap();
            prop_assert!(same(&ours.unwrap(), &theirs), "{}", contents);
        }

        /// Any text, escaped: the same reading as the plain reader's or declined.
        #[test]
        fn any_text_escaped_reads_the_same_or_is_declined(text in "[\\[\\]{}\",:0-9.eE+\\-a-z\\\\ \n\u{1}é]{0,40}") {
            let contents = escaped(&text);
            match parse_escaped(&contents) {
                Some(ours) => prop_assert!(parse(&text).is_some_and(|p| same(&ours, &p)), "{}", contents),
                None => prop_assert!(parse(&text).is_none() || contents.contains("\\u") || contents.contains("\\n"), "declined {}", contents),
            }
        }

        /// Any contents at all, valid escapes or not: a value only for what unescapes to it.
        #[test]
        fn any_escaped_contents_read_the_same_or_are_declined(contents in "[\\[\\]{}\",:0-9a-z\\\\/ ]{0,40}") {
            prop_assert!(escaped_agrees(&contents), "{}", contents);
        }
    }

    proptest! {
        #[test]
        fn any_document_reads_as_serde_json_reads_it(v in arb_json(), pretty in any::<bool>()) {
            let text = written(&v, pretty);
            let ours = parse(&text);
            prop_assert!(ours.is_some(), "declined {}", text);
            prop_assert!(agrees(&text), "{}", text);
        }

        #[test]
        fn any_text_reads_the_same_or_is_declined(text in "[\\[\\]{}\",:0-9.eE+\\-a-z\\\\ ]{0,40}") {
            prop_assert!(agrees(&text), "{}", text);
        }

        #[test]
        fn any_number_literal_reads_as_serde_json_reads_it(
            neg in any::<bool>(),
            int in "(0|[1-9][0-9]{0,22})",
            frac in proptest::option::of("[0-9]{1,20}"),
            exp in proptest::option::of("[eE][+-]?[0-9]{1,3}"),
        ) {
            let text = format!(
                "{}{}{}{}",
                if neg { "-" } else { "" },
                int,
                frac.map(|f| format!(".{f}")).unwrap_or_default(),
                exp.unwrap_or_default()
            );
            prop_assert!(agrees(&text), "{}", text);
        }
    }
}
