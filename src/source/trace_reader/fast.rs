//! The common record read without serde: a frame record whose members are only `ts`,
//! `conn`, `from`, `text` and `injected`, in any order, as our proxy and importers write
//! them. Most of `check`'s time per frame used to go to the generic deserializer (a visitor
//! per member, a name lookup among twenty, the frame text unescaped into a scratch buffer
//! and copied again); this reads the same line in one pass. It checks `text` but leaves it
//! escaped: the engine parses the frame from the record as it stands, and the plain text is
//! built only when something needs it (see [`crate::wire::text`]).
//!
//! It accepts a strict subset of what [`super::parse_record`] accepts and gives the same
//! record for it: anything else (another member, a duplicate, an escape in a member name, a
//! control character or a lone surrogate in a string, trailing bytes) is `None`, and the
//! caller reads the line the general way, which also words the error. It never panics.

use std::borrow::Cow;

use crate::wire::doc::Doc;
use crate::wire::json::{escape, plain_end as skip_plain, special_bytes};

/// The members of a frame record, as written.
pub(super) struct FastFrame<'a> {
    pub ts: &'a str,
    pub conn: Cow<'a, str>,
    pub from: &'a str,
    /// The contents of the `text` string, still escaped (checked: valid JSON escapes).
    pub text: &'a str,
    /// With a document to read into: the stamp of its reading of the frame from `text`
    /// ([`Doc::stamp`]), when that reader took it; 0 otherwise.
    pub parsed: u64,
    pub injected: bool,
}

/// Reads `line` as a plain frame record, or `None` when it is anything else. With `doc` it
/// also reads the frame from the escaped `text` into it (see [`text_last`]).
pub(super) fn frame_record<'a>(line: &'a str, mut doc: Option<&mut Doc>) -> Option<FastFrame<'a>> {
    let b = line.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let (mut ts, mut conn, mut from, mut text, mut injected) = (None, None, None, None, None);
    let mut parsed = 0;
    loop {
        i = ws(b, i);
        // A member name: plain text between quotes (an escape sends the line the long way).
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let len = b
            .get(start..)?
            .iter()
            .position(|&c| CLASS[usize::from(c)] != 0)?;
        if b[start + len] != b'"' {
            return None;
        }
        let key = &b[start..start + len];
        i = ws(b, start + len + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(b, i + 1);
        match key {
            b"injected" => {
                let (value, next) = if b[i..].starts_with(b"true") {
                    (true, i + 4)
                } else if b[i..].starts_with(b"false") {
                    (false, i + 5)
                } else {
                    return None;
                };
                if injected.replace(value).is_some() {
                    return None;
                }
                i = next;
            }
            b"text" => {
                let read = match doc.as_deref_mut() {
                    Some(doc) if text.is_none() => {
                        text_last(line, i, doc).map(|n| (n, doc.stamp()))
                    }
                    _ => None,
                };
                let next = match read {
                    Some((next, stamp)) => {
                        parsed = stamp;
                        next
                    }
                    None => contents(b, i)?,
                };
                if text.replace(line.get(i + 1..next - 1)?).is_some() {
                    return None;
                }
                i = next;
            }
            b"ts" | b"conn" | b"from" => {
                let (value, next) = string(line, i)?;
                let slot = match key {
                    b"ts" => &mut ts,
                    b"conn" => &mut conn,
                    _ => &mut from,
                };
                if slot.replace(value).is_some() {
                    return None;
                }
                i = next;
            }
            _ => return None,
        }
        i = ws(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {
                i += 1;
                break;
            }
            _ => return None,
        }
    }
    if ws(b, i) != b.len() {
        return None;
    }
    // `ts` and `from` are compared and parsed as text: one with an escape goes the long way.
    let (Some(Cow::Borrowed(ts)), Some(conn), Some(Cow::Borrowed(from)), Some(text)) =
        (ts, conn, from, text)
    else {
        return None;
    };
    Some(FastFrame {
        ts,
        conn,
        from,
        text,
        parsed,
        injected: injected.unwrap_or(false),
    })
}

/// The usual record ends with its `text`: `…,"text":"[2,\"1\",…]"}`. Then the string
/// starting with the quote at `i` runs to the last quote of the line, and the frame is
/// parsed into `doc` from its escaped contents in the same pass that checks them: a document
/// [`Doc::parse_escaped`] takes holds valid escapes only and no unescaped quote (which would
/// have ended the string sooner), so the string is exactly that. The index after its
/// closing quote; `None` (read the string the usual way) otherwise.
fn text_last(line: &str, i: usize, doc: &mut Doc) -> Option<usize> {
    let b = line.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    if end < 2 || b[end - 1] != b'}' {
        return None;
    }
    end -= 1;
    while end > 0 && matches!(b[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    let close = end.checked_sub(1)?;
    if close <= i || b[close] != b'"' {
        return None;
    }
    doc.parse_escaped(line.get(i + 1..close)?)
        .then_some(close + 1)
}

/// The index of the first byte at or after `i` that is not JSON whitespace.
fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// What a byte is inside a JSON string: 0 plain, 1 the closing quote, 2 a backslash, 3 a
/// control character (not allowed raw).
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = 3;
        c += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 2;
    t
};

/// The JSON string starting with the quote at `i`, unescaped (borrowed when it holds no
/// escape), and the index after its closing quote.
///
/// A frame text has an escaped quote every few bytes: the unescaped copy is built eight
/// bytes at a time (each word appended whole, then cut back to its first special byte), and
/// the usual escapes (`\"`, `\\`) are written without decoding a character.
fn string(line: &str, i: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = skip_plain(b, start);
    match CLASS[usize::from(*b.get(j)?)] {
        1 => return Some((Cow::Borrowed(&line[start..j]), j + 1)),
        2 => {}
        _ => return None,
    }
    let mut out: Vec<u8> = Vec::with_capacity(line.len() - i);
    out.extend_from_slice(&b[start..j]);
    loop {
        // `b[j]` is a special byte.
        match b[j] {
            b'"' => break,
            b'\\' => match b.get(j + 1) {
                Some(&c @ (b'"' | b'\\' | b'/')) => {
                    out.push(c);
                    j += 2;
                }
                _ => {
                    let (c, next) = escape(b, j)?;
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    j = next;
                }
            },
            _ => return None,
        }
        j = copy_plain(b, j, &mut out);
        b.get(j)?;
    }
    // Plain runs are whole characters of a `str` and escapes decode to characters: this
    // always holds UTF-8, and the check is one fast pass over ASCII.
    let text = String::from_utf8(out).ok()?;
    Some((Cow::Owned(text), j + 1))
}

/// Checks the JSON string starting with the quote at `i` as [`string`] reads it, without
/// unescaping it: the index after its closing quote, or `None` where [`string`] gives `None`
/// (an unknown escape, a lone surrogate, a raw control character, no closing quote).
fn contents(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j = skip_plain(b, j);
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => match b.get(j + 1) {
                Some(b'"' | b'\\' | b'/') => j += 2,
                _ => j = escape(b, j)?.1,
            },
            _ => return None,
        }
    }
}

/// Appends the plain bytes from `j` on to `out` and returns the index of the first special
/// byte (or the end), like [`skip_plain`] with the copy done in the same pass.
fn copy_plain(b: &[u8], mut j: usize, out: &mut Vec<u8>) -> usize {
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out.extend_from_slice(&word);
        let hit = special_bytes(u64::from_le_bytes(word));
        if hit != 0 {
            let k = (hit.trailing_zeros() / 8) as usize;
            out.truncate(out.len() - 8 + k);
            return j + k;
        }
        j += 8;
    }
    while j < b.len() && CLASS[usize::from(b[j])] == 0 {
        out.push(b[j]);
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Eight bytes at a time finds the same first special byte as one at a time.
        #[test]
        fn skip_plain_stops_where_a_byte_by_byte_scan_does(
            bytes in proptest::collection::vec(
                prop_oneof![
                    1 => Just(b'"'),
                    1 => Just(b'\\'),
                    1 => 0u8..0x20,
                    20 => 0x20u8..=0xff,
                ],
                0..80,
            ),
            from in 0usize..8,
        ) {
            let from = from.min(bytes.len());
            let slow = (from..bytes.len())
                .find(|&k| CLASS[usize::from(bytes[k])] != 0)
                .unwrap_or(bytes.len());
            prop_assert_eq!(skip_plain(&bytes, from), slow);
            let mut copied = vec![b'x'];
            prop_assert_eq!(copy_plain(&bytes, from, &mut copied), slow);
            prop_assert_eq!(&copied[1..], &bytes[from..slow]);
        }
    }
}
