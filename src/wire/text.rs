//! A frame's text as a source holds it: plain, or still escaped inside the JSON string of
//! its trace record, unescaped only when something asks for the text itself.
//!
//! The engine parses an escaped text straight from its record ([`super::doc::Doc::parse_escaped`]);
//! the plain text is built (once, then kept) only for what needs it: a finding quoting it as
//! evidence, an observer, a frame the escaped reader declines. [`TextCell`] owns what a record
//! holds; [`FrameText`] is the cheap handle events carry. No parsing of the frame here.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::ops::Deref;

/// A frame's text, owned the way its record reader found it.
#[derive(Default)]
pub struct TextCell<'a> {
    /// The text, or with `escaped` the contents of the JSON string that holds it.
    raw: Cow<'a, str>,
    escaped: bool,
    plain: OnceCell<String>,
    /// The stamp of a document's reading of the escaped contents ([`crate::wire::doc::Doc::stamp`]),
    /// 0 when none was read.
    parsed: u64,
}

impl<'a> TextCell<'a> {
    /// Text that is already plain.
    pub fn plain(text: Cow<'a, str>) -> Self {
        TextCell {
            raw: text,
            ..TextCell::default()
        }
    }

    /// The contents of a JSON string literal (between its quotes), which the caller has
    /// checked are valid: every escape one JSON allows, no raw control character or quote.
    pub fn escaped(contents: &'a str) -> Self {
        TextCell {
            raw: Cow::Borrowed(contents),
            // Without a backslash the contents are the text.
            escaped: contents.as_bytes().contains(&b'\\'),
            ..TextCell::default()
        }
    }

    /// [`TextCell::escaped`] whose document the caller has read from the contents into a
    /// document already: the stamp of that reading (0: none).
    pub fn escaped_parsed(contents: &'a str, parsed: u64) -> Self {
        TextCell {
            parsed,
            ..TextCell::escaped(contents)
        }
    }

    /// The handle an event carries.
    pub fn text(&self) -> FrameText<'_> {
        FrameText {
            raw: &self.raw,
            plain: self.escaped.then_some(&self.plain),
            parsed: self.parsed,
        }
    }

    /// The plain text (unescaped on first use).
    pub fn get(&self) -> &str {
        self.text().get()
    }

    /// The plain text, owned.
    pub fn into_owned(self) -> String {
        if !self.escaped {
            return self.raw.into_owned();
        }
        match self.plain.into_inner() {
            Some(s) => s,
            None => unescape(&self.raw),
        }
    }
}

impl Deref for TextCell<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.get()
    }
}

impl fmt::Debug for TextCell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

/// A frame's text as an event carries it: copied freely; [`FrameText::get`] gives the plain
/// text, unescaping it (once, kept by its [`TextCell`]) when the source holds it escaped.
#[derive(Clone, Copy)]
pub struct FrameText<'a> {
    raw: &'a str,
    /// Where the unescaped text goes, when `raw` is escaped.
    plain: Option<&'a OnceCell<String>>,
    parsed: u64,
}

impl<'a> FrameText<'a> {
    /// The plain text.
    pub fn get(self) -> &'a str {
        match self.plain {
            None => self.raw,
            Some(cell) => cell.get_or_init(|| unescape(self.raw)),
        }
    }

    /// The escaped contents of the record's JSON string, while the plain text has not been
    /// built (a reader that can parse them as they are need not build it).
    pub fn escaped(self) -> Option<&'a str> {
        match self.plain {
            Some(cell) if cell.get().is_none() => Some(self.raw),
            _ => None,
        }
    }

    /// The stamp of the document reading of this text its record reader made (0: none):
    /// the engine uses the reading when its document still holds it.
    pub fn parsed_stamp(self) -> u64 {
        self.parsed
    }

    /// A bound on the plain text's length in bytes, without building it: escapes are
    /// longer than what they stand for, so the escaped length is at least the plain one.
    pub fn len_at_most(self) -> usize {
        self.raw.len()
    }
}

impl<'a> From<&'a str> for FrameText<'a> {
    fn from(text: &'a str) -> Self {
        FrameText {
            raw: text,
            plain: None,
            parsed: 0,
        }
    }
}

impl<'a> From<&'a String> for FrameText<'a> {
    fn from(text: &'a String) -> Self {
        FrameText::from(text.as_str())
    }
}

impl Deref for FrameText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        (*self).get()
    }
}

impl fmt::Debug for FrameText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

impl fmt::Display for FrameText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

/// What can hand out a [`FrameText`]: a frame's text however a source holds it (plain, as
/// `&str` or `String`, or a record's [`TextCell`]).
pub trait AsFrameText {
    fn frame_text(&self) -> FrameText<'_>;
}

impl AsFrameText for TextCell<'_> {
    fn frame_text(&self) -> FrameText<'_> {
        self.text()
    }
}

impl AsFrameText for FrameText<'_> {
    fn frame_text(&self) -> FrameText<'_> {
        *self
    }
}

impl AsFrameText for str {
    fn frame_text(&self) -> FrameText<'_> {
        FrameText::from(self)
    }
}

impl<X: AsFrameText + ?Sized> AsFrameText for &X {
    fn frame_text(&self) -> FrameText<'_> {
        (**self).frame_text()
    }
}

impl AsFrameText for String {
    fn frame_text(&self) -> FrameText<'_> {
        FrameText::from(self.as_str())
    }
}

/// Unescapes the contents of a JSON string that [`TextCell::escaped`] was promised are
/// valid. Should they not be after all, serde_json's lossless reading is not possible and
/// the text is taken as it stands (never a panic).
fn unescape(contents: &str) -> String {
    let b = contents.as_bytes();
    let mut out = String::with_capacity(contents.len());
    let mut i = 0;
    while i < b.len() {
        let run_end = super::json::plain_end(b, i);
        out.push_str(contents.get(i..run_end).unwrap_or_default());
        i = run_end;
        if i >= b.len() {
            break;
        }
        match super::json::escape(b, i) {
            Some((c, next)) if b[i] == b'\\' => {
                out.push(c);
                i = next;
            }
            _ => {
                // Not valid contents: keep the rest as it is.
                out.push_str(contents.get(i..).unwrap_or_default());
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Escaped and unescaped on demand, any text is itself again.
        #[test]
        fn an_escaped_text_unescapes_to_itself(text in "\\PC{0,40}|[\"\\\\\n\t\u{1}a é😀]{0,40}") {
            let quoted = serde_json::to_string(&text).unwrap();
            let cell = TextCell::escaped(&quoted[1..quoted.len() - 1]);
            let handle = cell.text();
            prop_assert!(handle.len_at_most() >= text.len());
            prop_assert_eq!(handle.get(), text.as_str());
            // Built once, kept: no longer offered escaped.
            prop_assert!(handle.escaped().is_none());
            prop_assert_eq!(cell.into_owned(), text);
        }
    }

    #[test]
    fn plain_text_is_never_escaped() {
        let cell = TextCell::plain(Cow::Borrowed(r#"[2,"a\"b"]"#));
        assert!(cell.text().escaped().is_none());
        assert_eq!(cell.get(), r#"[2,"a\"b"]"#);
        let cell = TextCell::escaped("[3,1]");
        assert!(cell.text().escaped().is_none(), "no escape: already plain");
        let cell = TextCell::escaped(r#"[2,\"1\"]"#);
        assert_eq!(cell.text().escaped(), Some(r#"[2,\"1\"]"#));
        assert_eq!(format!("{:?}", cell.text()), format!("{:?}", r#"[2,"1"]"#));
    }
}
