//! Where a row's text comes from ([`Body`]: kept, or read back from the trace file) and
//! what is matched against it (a search, a filter expression). Reads the trace file through
//! [`super::super::store`] only; changes no state.

use std::borrow::Cow;

use super::super::feed::id_and_short;
use super::super::filter::{Facts, looks_like_expr};
use super::{App, Body, FrameRow, Shown, contains_smart};

impl App {
    /// The exact text of a frame row (empty for an event); an error says why it could not
    /// be read back.
    pub fn text_of<'a>(&self, row: &FrameRow<'a>) -> Result<Cow<'a, str>, String> {
        match row.body {
            Body::Event(_) => Ok(Cow::Borrowed("")),
            Body::Kept(k) => Ok(Cow::Borrowed(&*k.text)),
            Body::InTrace(offset) => match &self.store {
                Some(f) => f.frame_text(offset, row.line).map(Cow::Owned),
                None => Err(format!("line {}: no trace file to read it from", row.line)),
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
                    short: Cow::Owned(e),
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
            let shown = self.shown(row);
            return e.matches(&Facts {
                conn: row.conn,
                action: row.action.map(|a| &**a),
                message_type: row.message_type,
                from: row.from,
                worst: row.worst,
                text: &shown.text,
                short: &shown.short,
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
}
