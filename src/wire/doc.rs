//! An arena JSON document: what the engine reads a frame into, frame after frame, instead of
//! building a `serde_json::Value` (a `String` per key and string, a map node per object, all
//! freed again after the frame).
//!
//! A [`Doc`] is one `Vec` of compact nodes in document order (a container's members follow
//! it; it knows where its subtree ends) and one `String` holding every string's unescaped
//! text. The engine keeps one and refills it for each frame (cleared, not reallocated). A
//! [`Json`] is a `Copy` reference to one value in it, with the reading methods of
//! `serde_json::Value` (`get`, `as_str`, `as_i64`, ...) so rule code reads it the same way.
//! [`OwnedDoc`] is a value copied out of a document (a pending CALL's payload kept until its
//! answer): the same nodes, sized to the value.
//!
//! It holds what serde_json holds: numbers as serde_json stores them (`u64`, else `i64`,
//! else `f64`, `-0` a float), a repeated member's last value (an earlier one is shadowed:
//! neither found nor listed nor counted). [`Json::to_value`] gives exactly the
//! `serde_json::Value` serde_json reads from the same text, for the rare slow paths
//! (evidence, observers, schema error wording). The reader is [`super::json`]; this module
//! parses nothing itself and never panics.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Number, Value};

/// A string's place in the document's string buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The bytes `start..end` of the text a document was read from (which heads its string
    /// buffer; both within [`MAX_TEXT`]).
    pub(super) fn of(start: usize, end: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(end - start).unwrap_or(0),
        }
    }
}

/// One value, or an object member's name (followed by the member's value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Span),
    /// A member's name.
    Key(Span),
    /// The name of a member that a later member of the same name replaces.
    Shadowed(Span),
    /// `len` items follow; `end` is the index after the array's last descendant.
    Array {
        len: u32,
        end: u32,
    },
    /// `len` live members follow (each a `Key` or `Shadowed`, then its value).
    Object {
        len: u32,
        end: u32,
    },
}

/// The root of an empty document: `null`.
static NULL: [Node; 1] = [Node::Null];

/// A JSON document, refilled for each frame. Its root is node 0 (`null` while empty). The
/// string buffer starts with the text the document was read from: a string without escapes
/// is a span of it; one with escapes is unescaped after it.
#[derive(Debug, Default)]
pub struct Doc {
    pub(super) nodes: Vec<Node>,
    pub(super) strs: String,
    /// Scratch for the duplicate-member check of a large object.
    scratch: Vec<u32>,
    /// Which reading the document holds (see [`Doc::stamp`]).
    stamp: u64,
}

/// The stamps of all documents' readings: one process-wide count, so no two readings (of
/// any document) share one.
static READINGS: AtomicU64 = AtomicU64::new(1);

/// The largest text the document takes (its indexes are `u32`); beyond it the reader
/// declines and the caller goes the serde_json way.
pub(super) const MAX_TEXT: usize = (u32::MAX / 2) as usize;

impl Doc {
    pub fn new() -> Doc {
        Doc::default()
    }

    /// Empties the document, keeping its buffers.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.strs.clear();
        self.stamp = 0;
    }

    /// Reads `text` as one JSON document; `false` (the document then holds nothing
    /// meaningful) when [`super::json`]'s reader declines it and serde_json must decide.
    pub fn parse(&mut self, text: &str) -> bool {
        let ok = super::json::parse_into(text, self);
        self.stamped(ok)
    }

    /// Reads the contents of a JSON string literal (escapes and all) as the document it
    /// holds once unescaped; `false` when the reader declines.
    pub fn parse_escaped(&mut self, contents: &str) -> bool {
        let ok = super::json::parse_escaped_into(contents, self);
        self.stamped(ok)
    }

    fn stamped(&mut self, ok: bool) -> bool {
        self.stamp = if ok {
            READINGS.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        ok
    }

    /// The stamp of the reading the document holds, unique in the process (0: none, or a
    /// value set by [`Doc::set_value`]): whoever read a text into it can say which reading
    /// is the text's, and the engine checks it is still there before it uses it.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// A document holding `value`.
    pub fn from_value(value: &Value) -> Doc {
        let mut doc = Doc::new();
        doc.set_value(value);
        doc
    }

    /// Replaces the document with `value` (for what the reader declined and serde_json read).
    pub fn set_value(&mut self, value: &Value) {
        self.clear();
        self.push_value(value);
    }

    fn push_value(&mut self, value: &Value) {
        match value {
            Value::Null => self.nodes.push(Node::Null),
            Value::Bool(b) => self.nodes.push(Node::Bool(*b)),
            Value::Number(n) => self.nodes.push(number_node(n)),
            Value::String(s) => {
                let span = self.push_str(s);
                self.nodes.push(Node::Str(span));
            }
            Value::Array(items) => {
                let at = self.open();
                for item in items {
                    self.push_value(item);
                }
                self.close_array(at, items.len());
            }
            Value::Object(map) => {
                let at = self.open();
                for (key, member) in map {
                    let span = self.push_str(key);
                    self.nodes.push(Node::Key(span));
                    self.push_value(member);
                }
                self.close_object_unique(at, map.len());
            }
        }
    }

    /// The root value.
    pub fn root(&self) -> Json<'_> {
        Json::root_of(&self.nodes, &self.strs)
    }

    // The reader's building steps.

    /// Appends string text; its span.
    pub(super) fn push_str(&mut self, s: &str) -> Span {
        let start = self.strs.len();
        self.strs.push_str(s);
        self.span_from(start)
    }

    /// The span of the string text appended since `start`.
    pub(super) fn span_from(&self, start: usize) -> Span {
        // Within `MAX_TEXT` (the reader's check): unescaped text is never longer.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(self.strs.len() - start).unwrap_or(0),
        }
    }

    /// A container starts: its node's index (filled in by a `close_*`).
    pub(super) fn open(&mut self) -> usize {
        self.nodes.push(Node::Null);
        self.nodes.len() - 1
    }

    pub(super) fn close_array(&mut self, at: usize, len: usize) {
        self.nodes[at] = Node::Array {
            len: u32::try_from(len).unwrap_or(u32::MAX),
            end: self.end(),
        };
    }

    /// An object whose members (names at known positions) may repeat a name: an earlier
    /// member of a repeated name is shadowed, as serde_json keeps only the last.
    pub(super) fn close_object(&mut self, at: usize, len: usize) {
        let mut live = len;
        if len > 1 {
            live -= self.shadow_repeats(at, len);
        }
        self.close_object_unique(at, live);
    }

    /// An object none of whose member names repeats (the reader's check).
    pub(super) fn close_object_unique(&mut self, at: usize, live: usize) {
        self.nodes[at] = Node::Object {
            len: u32::try_from(live).unwrap_or(u32::MAX),
            end: self.end(),
        };
    }

    /// A hash of a member name for the reader's check for repeated names: its length and
    /// its first, middle and last bytes (names of one object rarely share all four; when
    /// they do, the exact check runs, so a clash costs time, never a wrong reading).
    #[inline]
    pub(super) fn name_hash(&self, name: Span) -> u32 {
        let b = span_text(&self.strs, name).as_bytes();
        let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
            return 0;
        };
        let middle = b[b.len() / 2];
        let h = name
            .len
            .wrapping_mul(0x9E37_79B9)
            .wrapping_add(u32::from(first) << 16 | u32::from(middle) << 8 | u32::from(last))
            .wrapping_mul(0x0100_0193);
        h ^ (h >> 15)
    }

    fn end(&self) -> u32 {
        u32::try_from(self.nodes.len()).unwrap_or(u32::MAX)
    }

    /// Marks every member name of the object at `at` that a later member repeats; how many.
    fn shadow_repeats(&mut self, at: usize, len: usize) -> usize {
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        let mut i = at + 1;
        for _ in 0..len {
            keys.push(u32::try_from(i).unwrap_or(u32::MAX));
            i = next(&self.nodes, i + 1);
        }
        let span = |k: u32| match self.nodes[k as usize] {
            Node::Key(s) | Node::Shadowed(s) => s,
            _ => Span { start: 0, len: 0 },
        };
        let text = |k: u32| span_text(&self.strs, span(k));
        let mut shadowed = Vec::new();
        if len <= 16 {
            // Names rarely share a length: compare the text only when they do.
            for (a, &ka) in keys.iter().enumerate() {
                let la = span(ka).len;
                if keys[a + 1..]
                    .iter()
                    .any(|&kb| span(kb).len == la && text(kb) == text(ka))
                {
                    shadowed.push(ka);
                }
            }
        } else {
            // Stable: among equal names the document order stays, so all but the last go.
            keys.sort_by(|&x, &y| text(x).cmp(text(y)));
            for w in keys.windows(2) {
                if text(w[0]) == text(w[1]) {
                    shadowed.push(w[0]);
                }
            }
        }
        for &k in &shadowed {
            if let Node::Key(s) = self.nodes[k as usize] {
                self.nodes[k as usize] = Node::Shadowed(s);
            }
        }
        self.scratch = keys;
        shadowed.len()
    }
}

/// The index after the value at `i` and its descendants.
#[inline]
fn next(nodes: &[Node], i: usize) -> usize {
    match nodes[i] {
        Node::Array { end, .. } | Node::Object { end, .. } => end as usize,
        _ => i + 1,
    }
}

/// Whether the member name at `name` of the string text `strs` is `key`. Names of one
/// length mostly differ in their first byte: the whole text is compared only when that one
/// matches.
#[inline]
fn is_name(strs: &[u8], name: Span, key: &[u8]) -> bool {
    name.len as usize == key.len()
        && strs
            .get(name.start as usize..name.start as usize + key.len())
            .is_some_and(|n| n.first() == key.first() && n == key)
}

fn span_text(strs: &str, s: Span) -> &str {
    let start = s.start as usize;
    strs.get(start..start + s.len as usize).unwrap_or_default()
}

/// The node of a number as serde_json stores it.
fn number_node(n: &Number) -> Node {
    if let Some(u) = n.as_u64() {
        Node::U64(u)
    } else if let Some(i) = n.as_i64() {
        Node::I64(i)
    } else {
        Node::F64(n.as_f64().unwrap_or_default())
    }
}

/// A value copied out of a document to outlive it (a pending CALL's payload): the same
/// compact nodes, sized to the value. The default is `null`.
#[derive(Debug, Default, Clone)]
pub struct OwnedDoc {
    nodes: Box<[Node]>,
    strs: Box<str>,
}

impl OwnedDoc {
    /// The kept value.
    pub fn root(&self) -> Json<'_> {
        Json::root_of(&self.nodes, &self.strs)
    }

    /// The heap bytes it holds (its nodes and string text).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val::<[Node]>(&self.nodes) + self.strs.len()
    }
}

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// One value of a [`Doc`] (or an [`OwnedDoc`]): copied freely, read like a
/// `&serde_json::Value`.
#[derive(Clone, Copy)]
pub struct Json<'d> {
    nodes: &'d [Node],
    strs: &'d str,
    at: usize,
}

impl<'d> Json<'d> {
    /// A `null` that belongs to no document.
    pub fn null() -> Json<'static> {
        Json {
            nodes: &NULL,
            strs: "",
            at: 0,
        }
    }

    /// The first node of `nodes` (with their string text `strs`), or `null` for none: the
    /// root of a document or of a kept copy.
    fn root_of(nodes: &'d [Node], strs: &'d str) -> Json<'d> {
        if nodes.is_empty() {
            return Json::null();
        }
        Json { nodes, strs, at: 0 }
    }

    fn node(self) -> Node {
        self.nodes[self.at]
    }

    fn with(self, at: usize) -> Json<'d> {
        Json { at, ..self }
    }

    pub fn kind(self) -> Kind {
        match self.node() {
            Node::Null => Kind::Null,
            Node::Bool(_) => Kind::Bool,
            Node::U64(_) | Node::I64(_) | Node::F64(_) => Kind::Number,
            Node::Str(_) | Node::Key(_) | Node::Shadowed(_) => Kind::String,
            Node::Array { .. } => Kind::Array,
            Node::Object { .. } => Kind::Object,
        }
    }

    pub fn is_null(self) -> bool {
        matches!(self.node(), Node::Null)
    }

    pub fn is_boolean(self) -> bool {
        matches!(self.node(), Node::Bool(_))
    }

    pub fn is_number(self) -> bool {
        self.kind() == Kind::Number
    }

    pub fn is_string(self) -> bool {
        self.kind() == Kind::String
    }

    pub fn is_array(self) -> bool {
        matches!(self.node(), Node::Array { .. })
    }

    pub fn is_object(self) -> bool {
        matches!(self.node(), Node::Object { .. })
    }

    /// A number stored as `u64` (a non-negative integer), as `Value::is_u64`.
    pub fn is_u64(self) -> bool {
        matches!(self.node(), Node::U64(_))
    }

    /// A number that fits `i64` as an integer, as `Value::is_i64`.
    pub fn is_i64(self) -> bool {
        self.as_i64().is_some()
    }

    /// A number stored as a float (it had a fraction or exponent, or was `-0`).
    pub fn is_f64(self) -> bool {
        matches!(self.node(), Node::F64(_))
    }

    pub fn as_bool(self) -> Option<bool> {
        match self.node() {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_str(self) -> Option<&'d str> {
        match self.node() {
            Node::Str(s) | Node::Key(s) | Node::Shadowed(s) => Some(span_text(self.strs, s)),
            _ => None,
        }
    }

    pub fn as_i64(self) -> Option<i64> {
        match self.node() {
            Node::U64(u) => i64::try_from(u).ok(),
            Node::I64(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_u64(self) -> Option<u64> {
        match self.node() {
            Node::U64(u) => Some(u),
            Node::I64(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }

    #[expect(clippy::cast_precision_loss, reason = "as serde_json converts")]
    pub fn as_f64(self) -> Option<f64> {
        match self.node() {
            Node::U64(u) => Some(u as f64),
            Node::I64(i) => Some(i as f64),
            Node::F64(f) => Some(f),
            _ => None,
        }
    }

    /// The items of an array, or members of an object (0 for anything else).
    pub fn len(self) -> usize {
        match self.node() {
            Node::Array { len, .. } | Node::Object { len, .. } => len as usize,
            _ => 0,
        }
    }

    /// No items or members (or not a container).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The member `key` of an object (the last, when the name repeats).
    pub fn get(self, key: &str) -> Option<Json<'d>> {
        let Node::Object { end, .. } = self.node() else {
            return None;
        };
        // Its own loop, not `get_each([key])`: returning at the match is 2 % of `check`.
        let (nodes, strs, want) = (self.nodes, self.strs.as_bytes(), key.as_bytes());
        let mut i = self.at + 1;
        while i < end as usize {
            if let Node::Key(s) = nodes[i]
                && is_name(strs, s, want)
            {
                return Some(self.with(i + 1));
            }
            i = next(nodes, i + 1);
        }
        None
    }

    /// The members `keys` of an object, each as [`Json::get`] finds it, in one pass over the
    /// members (for a check that reads several members of every message); the pass stops
    /// once all are found.
    pub fn get_each<const N: usize>(self, keys: [&str; N]) -> [Option<Json<'d>>; N] {
        let mut found = [None; N];
        let Node::Object { end, .. } = self.node() else {
            return found;
        };
        let (nodes, strs) = (self.nodes, self.strs.as_bytes());
        let (mut i, mut left) = (self.at + 1, N);
        while i < end as usize && left > 0 {
            // A name (live; a shadowed one is not a member), then its value.
            if let Node::Key(s) = nodes[i] {
                for (slot, key) in found.iter_mut().zip(keys) {
                    if slot.is_none() && is_name(strs, s, key.as_bytes()) {
                        *slot = Some(self.with(i + 1));
                        left -= 1;
                    }
                }
            }
            i = next(nodes, i + 1);
        }
        found
    }

    /// Item `index` of an array.
    pub fn at(self, index: usize) -> Option<Json<'d>> {
        self.items().nth(index)
    }

    /// The items of an array, as `Value::as_array`.
    pub fn as_array(self) -> Option<Array<'d>> {
        self.is_array().then_some(Array(self))
    }

    /// The members of an object, as `Value::as_object` (document order).
    pub fn as_object(self) -> Option<Members<'d>> {
        self.is_object().then(|| self.members())
    }

    /// The items of an array (none for anything else).
    pub fn items(self) -> Items<'d> {
        let n = match self.node() {
            Node::Array { len, .. } => len as usize,
            _ => 0,
        };
        Items {
            json: self.with(self.at + 1),
            left: n,
        }
    }

    /// The live members of an object in document order (none for anything else).
    pub fn members(self) -> Members<'d> {
        let (n, end) = match self.node() {
            Node::Object { len, end } => (len as usize, end as usize),
            _ => (0, self.at + 1),
        };
        Members {
            json: self.with(self.at + 1),
            left: n,
            end,
        }
    }

    /// The `serde_json::Value` serde_json reads from the same text.
    pub fn to_value(self) -> Value {
        match self.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::U64(u) => Value::Number(u.into()),
            Node::I64(i) => Value::Number(i.into()),
            Node::F64(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Node::Str(s) | Node::Key(s) | Node::Shadowed(s) => {
                Value::String(span_text(self.strs, s).to_owned())
            }
            Node::Array { .. } => Value::Array(self.items().map(Json::to_value).collect()),
            Node::Object { .. } => {
                let mut map = Map::new();
                for (k, v) in self.members() {
                    map.insert(k.to_owned(), v.to_value());
                }
                Value::Object(map)
            }
        }
    }

    /// This value copied out of its document: its nodes, and the run of the string buffer
    /// its strings lie in (one copy: the value's own text, where its strings have no
    /// escapes, with the unescaped ones after it; at most about twice the frame's text).
    pub fn to_owned_doc(self) -> OwnedDoc {
        let end = next(self.nodes, self.at);
        let mut nodes = self.nodes[self.at..end].to_vec();
        let (mut lo, mut hi) = (u32::MAX, 0);
        for n in &nodes {
            if let Node::Str(s) | Node::Key(s) | Node::Shadowed(s) = n {
                lo = lo.min(s.start);
                hi = hi.max(s.start + s.len);
            }
        }
        let lo = lo.min(hi);
        let base = u32::try_from(self.at).unwrap_or(0);
        for n in &mut nodes {
            match n {
                Node::Str(s) | Node::Key(s) | Node::Shadowed(s) => s.start -= lo,
                Node::Array { end, .. } | Node::Object { end, .. } => *end -= base,
                _ => {}
            }
        }
        let strs = self.strs.get(lo as usize..hi as usize).unwrap_or_default();
        OwnedDoc {
            nodes: nodes.into_boxed_slice(),
            strs: Box::from(strs),
        }
    }
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

/// Compact JSON, as `Value`'s `Display` writes it.
impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

/// Equal as the `serde_json::Value`s are: the same type and contents, numbers of the same
/// stored kind (`1` is not `1.0`), objects with the same members in any order.
impl PartialEq for Json<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.node(), other.node()) {
            (Node::Array { .. }, Node::Array { .. }) => {
                self.len() == other.len() && self.items().zip(other.items()).all(|(a, b)| a == b)
            }
            (Node::Object { .. }, Node::Object { .. }) => {
                self.len() == other.len()
                    && self
                        .members()
                        .all(|(k, a)| other.get(k).is_some_and(|b| a == b))
            }
            (Node::Array { .. } | Node::Object { .. }, _)
            | (_, Node::Array { .. } | Node::Object { .. }) => false,
            (a, b) => match (self.as_str(), other.as_str()) {
                (Some(x), Some(y)) => x == y,
                (None, None) => a == b,
                _ => false,
            },
        }
    }
}

/// The fast schema verdict's view ([`crate::wire::view`]): the inherent methods of the same names.
impl<'d> super::view::JsonView<'d> for Json<'d> {
    fn kind(self) -> super::view::JsonKind {
        use super::view::JsonKind as K;
        match Json::kind(self) {
            Kind::Null => K::Null,
            Kind::Bool => K::Bool,
            Kind::Number => K::Number,
            Kind::String => K::String,
            Kind::Array => K::Array,
            Kind::Object => K::Object,
        }
    }
    fn as_bool(self) -> Option<bool> {
        Json::as_bool(self)
    }
    fn as_str(self) -> Option<&'d str> {
        Json::as_str(self)
    }
    fn as_i64(self) -> Option<i64> {
        Json::as_i64(self)
    }
    fn as_u64(self) -> Option<u64> {
        Json::as_u64(self)
    }
    fn as_f64(self) -> Option<f64> {
        Json::as_f64(self)
    }
    fn len(self) -> usize {
        Json::len(self)
    }
    fn items(self) -> impl Iterator<Item = Self> {
        Json::items(self)
    }
    fn members(self) -> impl Iterator<Item = (&'d str, Self)> {
        Json::members(self)
    }
    fn get(self, key: &str) -> Option<Self> {
        Json::get(self, key)
    }
}

/// Written as `serde_json` writes the same value (members in its order).
impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// The items of an array, as `Value::as_array` gives them.
#[derive(Clone, Copy)]
pub struct Array<'d>(Json<'d>);

impl<'d> Array<'d> {
    pub fn iter(self) -> Items<'d> {
        self.0.items()
    }

    pub fn len(self) -> usize {
        self.0.len()
    }

    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    pub fn get(self, index: usize) -> Option<Json<'d>> {
        self.0.at(index)
    }

    pub fn first(self) -> Option<Json<'d>> {
        self.get(0)
    }

    /// An array of none (what an absent array reads as).
    pub fn empty() -> Array<'static> {
        Array(Json::null())
    }
}

impl<'d> IntoIterator for Array<'d> {
    type Item = Json<'d>;
    type IntoIter = Items<'d>;
    fn into_iter(self) -> Items<'d> {
        self.iter()
    }
}

/// The items of an array, in order.
#[derive(Clone)]
pub struct Items<'d> {
    json: Json<'d>,
    left: usize,
}

impl<'d> Iterator for Items<'d> {
    type Item = Json<'d>;

    fn next(&mut self) -> Option<Json<'d>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = self.json;
        self.json.at = next(item.nodes, item.at);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Items<'_> {}

/// The live members of an object, in document order.
#[derive(Clone)]
pub struct Members<'d> {
    json: Json<'d>,
    left: usize,
    end: usize,
}

impl<'d> Iterator for Members<'d> {
    type Item = (&'d str, Json<'d>);

    fn next(&mut self) -> Option<(&'d str, Json<'d>)> {
        while self.left > 0 && self.json.at < self.end {
            let key = self.json;
            let value = key.with(key.at + 1);
            self.json.at = next(key.nodes, value.at);
            if let Node::Key(s) = key.node() {
                self.left -= 1;
                return Some((span_text(key.strs, s), value));
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Members<'_> {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::wire::json::tests::{arb_json, escaped, same, written};

    /// Every reading method of `j` agrees with `v`'s, all the way down.
    fn reads_like(j: Json<'_>, v: &Value) -> bool {
        let scalars = j.is_null() == v.is_null()
            && j.as_bool() == v.as_bool()
            && j.as_str() == v.as_str()
            && j.as_i64() == v.as_i64()
            && j.as_u64() == v.as_u64()
            && j.as_f64().map(f64::to_bits) == v.as_f64().map(f64::to_bits)
            && j.is_u64() == v.is_u64()
            && j.is_i64() == v.is_i64()
            && j.is_f64() == v.is_f64()
            && j.is_array() == v.is_array()
            && j.is_object() == v.is_object()
            && j.is_string() == v.is_string()
            && j.is_number() == v.is_number();
        if !scalars {
            return false;
        }
        match v {
            Value::Array(items) => {
                let a = j.as_array().unwrap();
                a.len() == items.len()
                    && j.len() == items.len()
                    && a.iter().zip(items).all(|(x, y)| reads_like(x, y))
                    && items
                        .iter()
                        .enumerate()
                        .all(|(i, y)| a.get(i).is_some_and(|x| reads_like(x, y)))
                    && a.get(items.len()).is_none()
            }
            Value::Object(map) => {
                j.len() == map.len()
                    && j.members().count() == map.len()
                    && j.members()
                        .all(|(k, x)| map.get(k).is_some_and(|y| reads_like(x, y)))
                    && map
                        .iter()
                        .all(|(k, y)| j.get(k).is_some_and(|x| reads_like(x, y)))
                    && j.get("\u{0}absent").is_none()
            }
            _ => true,
        }
    }

    proptest! {
        /// Any document, compact or pretty, plain or escaped into a record's string, reads as
        /// serde_json reads it: the same value back, the same answers to every reader.
        #[test]
        fn any_document_reads_as_serde_json_reads_it(v in arb_json(), pretty in any::<bool>()) {
            let text = written(&v, pretty);
            let theirs: Value = serde_json::from_str(&text).unwrap();
            let mut doc = Doc::new();
            prop_assert!(doc.parse(&text), "declined {}", text);
            prop_assert!(same(&doc.root().to_value(), &theirs), "{}", text);
            prop_assert!(reads_like(doc.root(), &theirs), "{}", text);
            // The same document reused for the escaped reading.
            prop_assert!(doc.parse_escaped(&escaped(&text)), "declined escaped {}", text);
            prop_assert!(same(&doc.root().to_value(), &theirs), "{}", text);
            prop_assert!(reads_like(doc.root(), &theirs), "{}", text);
            // Any value kept out of it reads the same.
            for (k, member) in doc.root().members() {
                let kept = member.to_owned_doc();
                prop_assert!(reads_like(kept.root(), &theirs[k]));
            }
            for (i, item) in doc.root().items().enumerate() {
                let kept = item.to_owned_doc();
                prop_assert!(same(&kept.root().to_value(), &theirs[i]));
            }
            // And one set from the value.
            doc.set_value(&theirs);
            prop_assert!(same(&doc.root().to_value(), &theirs));
            prop_assert!(reads_like(doc.root(), &theirs));
        }

        /// Objects with repeated member names (which serde_json's `json!` cannot build):
        /// the last of each name is the member, as serde_json keeps it.
        #[test]
        fn repeated_names_keep_the_last_member(
            members in prop::collection::vec(("[abc]{0,2}", any::<i32>()), 0..24),
            escape in any::<bool>(),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                .collect();
            let text = format!("{{{}}}", body.join(","));
            let theirs: Value = serde_json::from_str(&text).unwrap();
            let mut doc = Doc::new();
            let took = if escape { doc.parse_escaped(&escaped(&text)) } else { doc.parse(&text) };
            prop_assert!(took);
            prop_assert!(same(&doc.root().to_value(), &theirs), "{}", text);
            prop_assert!(reads_like(doc.root(), &theirs), "{}", text);
            let kept = doc.root().to_owned_doc();
            prop_assert!(reads_like(kept.root(), &theirs), "{}", text);
            // Several members in one pass find what one lookup each finds.
            let names = ["a", "", "ab", "c", "zz", "a"];
            for (name, got) in names.into_iter().zip(doc.root().get_each(names)) {
                let agrees = match (got, theirs.get(name)) {
                    (Some(g), Some(t)) => same(&g.to_value(), t),
                    (None, None) => true,
                    _ => false,
                };
                prop_assert!(agrees, "{} in {}", name, text);
            }
        }

        /// Any text: a document only where serde_json reads one, and then the same.
        #[test]
        fn any_text_reads_the_same_or_is_declined(text in "[\\[\\]{}\",:0-9.eE+\\-a-z\\\\ ]{0,40}") {
            let mut doc = Doc::new();
            if doc.parse(&text) {
                let theirs: Value = serde_json::from_str(&text).unwrap();
                prop_assert!(same(&doc.root().to_value(), &theirs), "{}", text);
            }
        }
    }

    #[test]
    fn reads_a_frame_like_a_value() {
        let text = r#"[2,"19",{"a":[1,-2,2.5,-0,18446744073709551615],"b":{"c":"d\n"},"e":null,"f":true}]"#;
        let mut doc = Doc::new();
        assert!(doc.parse(text));
        let root = doc.root();
        assert_eq!(root.len(), 3);
        assert_eq!(root.at(0).unwrap().as_i64(), Some(2));
        assert_eq!(root.at(1).unwrap().as_str(), Some("19"));
        let p = root.at(2).unwrap();
        assert_eq!(
            p.get("b").and_then(|b| b.get("c")).unwrap().as_str(),
            Some("d\n")
        );
        let a = p.get("a").unwrap().as_array().unwrap();
        assert_eq!(a.len(), 5);
        assert!(a.get(3).unwrap().is_f64());
        assert_eq!(a.get(4).unwrap().as_u64(), Some(u64::MAX));
        assert_eq!(a.get(4).unwrap().as_i64(), None);
        assert!(p.get("e").unwrap().is_null());
        assert_eq!(p.get("f").unwrap().as_bool(), Some(true));
        assert!(p.get("g").is_none());
        let keys: Vec<&str> = p.members().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "e", "f"]);
        assert_eq!(
            root.to_value(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        let kept = p.to_owned_doc();
        assert_eq!(kept.root().to_value(), root.to_value()[2]);
        // Reused: the next frame replaces it.
        assert!(doc.parse(r#"{"x":"y","x":"z"}"#));
        assert_eq!(doc.root().to_value(), json!({"x": "z"}));
        assert_eq!(doc.root().len(), 1);
        assert_eq!(kept.root().get("b").unwrap().to_string(), r#"{"c":"d\n"}"#);
        // A declined text leaves nothing to read but `null` after a clear.
        assert!(!doc.parse("[1,"));
        doc.clear();
        assert!(doc.root().is_null());
        assert!(OwnedDoc::default().root().is_null());
    }
}
