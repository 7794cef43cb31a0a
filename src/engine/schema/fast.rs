//! The fast schema verdict: each schema compiled once into a small program that answers only
//! "valid" or "not valid", over any [`JsonView`] (a `serde_json::Value` or another document).
//!
//! `check` judges nearly every payload valid. jsonschema's own `is_valid` needs a
//! `serde_json::Value` (about 2.7k instructions per frame of the bench trace); a program here
//! needs only a [`JsonView`], so a caller holding another document builds no `Value` for a
//! valid payload. Over a `Value` the two cost the same (2.67k against 2.73k instructions per
//! frame, README "Speed"), so `SchemaSet::is_valid` keeps asking jsonschema. A program walks
//! the payload once with everything precomputed: the `type` as a bit set, `enum` members and
//! `properties` names as tables with a perfect hash (of each name's length and bytes, times a
//! multiplier found at compile time; names compared eight bytes at a time), `required` as a bit mask over the
//! properties, limits as numbers. The verdict must equal jsonschema's
//! `Validator::is_valid` (built with `should_validate_formats(true)`) for every payload; the
//! differential tests (`tests/schema_fast.rs`) hold it to that.
//!
//! What a program knows, and how it reads each keyword like jsonschema 0.61 does:
//!
//! - `$schema` draft-04 or draft-06 only (any other, or none: no program). Under draft 4 a
//!   number is an `integer` only when written without fraction or exponent; serde_json keeps
//!   such a number as `u64`/`i64`, and prints every other one with a `.` or an `e`, which
//!   jsonschema reads as an integer only past 2^63. Under draft 6 any number whose value is
//!   whole is an integer.
//! - `$ref` to `#/definitions/NAME` (siblings ignored, as drafts 4 to 7 do), `type`,
//!   `properties`, `required`, `additionalProperties` (boolean or schema), `enum` of strings,
//!   `maxLength`/`minLength` in code points, `minimum`/`maximum` compared exactly (a `u64`,
//!   `i64` or `f64` against the limit as serde_json stores it), `items` as one schema,
//!   `minItems`/`maxItems`, `additionalItems` (no effect beside a schema `items`), `format`
//!   `date-time` (the same rules as jsonschema's check, written out here) and `uri`.
//! - `multipleOf` and `format: uri` are decided by jsonschema itself: one tiny validator per
//!   keyword, given a `Value` built from the view's number (no allocation) or string (one
//!   allocation, for `uri` members only).
//! - A member name repeated in one object (a `Value` cannot hold that; another document may)
//!   makes the object "not valid" here, so the `Value` jsonschema judges decides.
//! - Annotations are ignored: `$id`/`id` (at the root only), `title`, `description`,
//!   `comment`, `$comment`, `javaType`, `default`, `examples`, `definitions`.
//!
//! Any other keyword or form (`pattern`, `anyOf`, a tuple `items`, a `required` member missing
//! from `properties`, more than 64 properties, ...) gives the schema no program: its payloads
//! are judged by jsonschema as before. "Not valid" is never the last word: the caller asks
//! jsonschema for the violations (and their wording). This module reads no files and keeps no
//! state between payloads.

use std::cmp::Ordering;
use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::{Map, Number, Value};

use crate::wire::view::{JsonKind, JsonView};

/// Why a schema gets no program: the keyword or form the fast verdict does not implement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {what}")]
pub struct Unsupported {
    /// JSON pointer of the schema node inside the document.
    pub pointer: String,
    /// What is not implemented.
    pub what: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Draft {
    D4,
    D6,
}

const T_NULL: u8 = 1;
const T_BOOL: u8 = 2;
const T_INTEGER: u8 = 4;
const T_NUMBER: u8 = 8;
const T_STRING: u8 = 16;
const T_ARRAY: u8 = 32;
const T_OBJECT: u8 = 64;

/// A node's index in [`Program::nodes`].
type Id = u32;

/// Payloads nest no deeper than this in any OCPP schema; deeper ones are "not valid" here
/// (so jsonschema decides), which bounds the recursion whatever document is viewed.
const MAX_DEPTH: u32 = 64;

/// A number as serde_json stores it.
#[derive(Debug, Clone, Copy)]
enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    fn of<'a, V: JsonView<'a>>(v: V) -> Option<Num> {
        if let Some(u) = v.as_u64() {
            Some(Num::U(u))
        } else if let Some(i) = v.as_i64() {
            Some(Num::I(i))
        } else {
            v.as_f64().map(Num::F)
        }
    }

    fn of_value(n: &Number) -> Option<Num> {
        if let Some(u) = n.as_u64() {
            Some(Num::U(u))
        } else if let Some(i) = n.as_i64() {
            Some(Num::I(i))
        } else {
            n.as_f64().map(Num::F)
        }
    }

    fn to_number(self) -> Option<Number> {
        match self {
            Num::U(u) => Some(Number::from(u)),
            Num::I(i) => Some(Number::from(i)),
            Num::F(f) => Number::from_f64(f),
        }
    }

    fn integral(self) -> Option<i128> {
        match self {
            Num::U(u) => Some(i128::from(u)),
            Num::I(i) => Some(i128::from(i)),
            Num::F(_) => None,
        }
    }

    /// The exact order of the two numbers' values (`None` only for a NaN, which JSON has not).
    fn cmp_exact(self, other: Num) -> Option<Ordering> {
        match (self.integral(), other.integral(), self, other) {
            (Some(a), Some(b), _, _) => Some(a.cmp(&b)),
            (Some(a), None, _, Num::F(f)) => int_cmp_float(a, f),
            (None, Some(b), Num::F(f), _) => int_cmp_float(b, f).map(Ordering::reverse),
            (_, _, Num::F(a), Num::F(b)) => a.partial_cmp(&b),
            _ => None,
        }
    }
}

/// The exact order of an integer (at most 2^64 in magnitude) and a float.
fn int_cmp_float(a: i128, f: f64) -> Option<Ordering> {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if f.is_nan() {
        return None;
    }
    if f >= TWO_64 {
        return Some(Ordering::Less);
    }
    if f < -TWO_64 {
        return Some(Ordering::Greater);
    }
    let floor = f.floor();
    // |floor| <= 2^64: the conversion is exact.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "whole and in range, see above"
    )]
    let whole = floor as i128;
    match a.cmp(&whole) {
        Ordering::Equal if floor < f => Some(Ordering::Less),
        order => Some(order),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Additional {
    Any,
    Deny,
    Schema(Id),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    None,
    DateTime,
    Uri,
}

#[derive(Debug)]
struct Prop {
    name: Box<str>,
    node: Id,
}

/// One compiled schema node. Keywords absent leave their neutral value.
#[derive(Debug)]
struct Node {
    /// `type` as a bit set; 0 when absent.
    types: u8,
    /// `enum` (strings only).
    one_of: Option<Table>,
    min_len: u64,
    max_len: u64,
    format: Format,
    minimum: Option<Num>,
    maximum: Option<Num>,
    /// `multipleOf`, decided by a jsonschema validator of that one keyword.
    multiple_of: Option<Box<Validator>>,
    /// `properties`, in the order of `names`.
    props: Box<[Id]>,
    /// The names of `props`.
    names: Table,
    /// `required` as bits over `props`.
    required: u64,
    additional: Additional,
    items: Option<Id>,
    min_items: u64,
    max_items: u64,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            types: 0,
            one_of: None,
            min_len: 0,
            max_len: u64::MAX,
            format: Format::None,
            minimum: None,
            maximum: None,
            multiple_of: None,
            props: Box::new([]),
            names: Table::new(Vec::new()),
            required: 0,
            additional: Additional::Any,
            items: None,
            min_items: 0,
            max_items: u64::MAX,
        }
    }
}

/// A string's length, first eight and last eight bytes (zero-padded when shorter): equal for
/// equal strings, and the string itself up to 16 bytes. Longer strings whose keys agree are
/// compared eight bytes at a time in between ([`rest_eq`]); no call to `memcmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

/// Up to seven bytes in one word, all of them (with the length beside it, no two strings
/// share it): two overlapping four-byte loads, or the first, middle and last byte.
fn short(b: &[u8]) -> u64 {
    let n = b.len();
    match (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        (Some(h), Some(t)) => {
            u64::from(u32::from_le_bytes(*h)) | (u64::from(u32::from_le_bytes(*t)) << 32)
        }
        _ => match (b.first(), b.get(n / 2), b.last()) {
            (Some(&f), Some(&m), Some(&l)) => {
                u64::from(f) | (u64::from(m) << 8) | (u64::from(l) << 16)
            }
            _ => 0,
        },
    }
}

fn key(b: &[u8]) -> Key {
    let n = b.len();
    match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(head), Some(tail)) => Key {
            len: n,
            head: u64::from_le_bytes(*head),
            tail: u64::from_le_bytes(*tail),
        },
        _ => Key {
            len: n,
            head: short(b),
            tail: 0,
        },
    }
}

/// The hash the perfect hash multiplies: the [`Key`] and, past 16 bytes, every eight bytes
/// after the head (names such as `Energy.Active.Import.Register` and
/// `Energy.Active.Export.Register` share length, head and tail).
fn hash(k: Key, b: &[u8]) -> u64 {
    let mut h = k.head ^ k.tail.rotate_left(29) ^ (k.len as u64);
    if k.len > 16 {
        for c in b.get(8..).unwrap_or_default().chunks_exact(8) {
            if let Some(w) = c.first_chunk::<8>() {
                h = (h ^ u64::from_le_bytes(*w))
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .rotate_left(23);
            }
        }
    }
    h
}

/// Whether two strings with equal [`Key`]s are equal: every eight bytes after the head (the
/// tail covers the bytes of a last short chunk).
fn rest_eq(k: Key, a: &[u8], b: &[u8]) -> bool {
    if k.len <= 16 {
        return true;
    }
    let (Some(a), Some(b)) = (a.get(8..), b.get(8..)) else {
        return false;
    };
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .all(|(x, y)| x.first_chunk::<8>() == y.first_chunk::<8>())
}

/// A set of strings with a perfect hash of their [`Key`]s: a lookup is one multiplication,
/// one slot and one comparison of words. (Measured on the bench trace: a halving search of
/// the names sorted by length and bytes, and a linear scan of one-word signatures confirmed
/// by `memcmp`, each cost more than jsonschema's own lookup.)
#[derive(Debug)]
struct Table {
    names: Box<[Box<str>]>,
    keys: Box<[Key]>,
    /// Slot `(hash * seed) >> shift` holds the index of the name plus one, or 0. Empty when
    /// no seed separates the hashes (then the keys are scanned).
    slots: Box<[u8]>,
    seed: u64,
    shift: u32,
}

impl Table {
    fn new(names: Vec<Box<str>>) -> Table {
        let keys: Box<[Key]> = names.iter().map(|n| key(n.as_bytes())).collect();
        let mut table = Table {
            names: names.into_boxed_slice(),
            keys,
            slots: Box::new([]),
            seed: 0,
            shift: 63,
        };
        let n = table.keys.len();
        if n == 0 || n > 255 {
            return table;
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let least = usize::BITS - (n - 1).leading_zeros();
        for bits in least + 1..=least + 3 {
            let shift = 64 - bits;
            let mut slots = vec![0u8; 1 << bits];
            for _ in 0..2000 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407)
                    | 1;
                slots.iter_mut().for_each(|s| *s = 0);
                let mut clash = false;
                for (i, (k, name)) in table.keys.iter().zip(table.names.iter()).enumerate() {
                    let slot = &mut slots
                        [(hash(*k, name.as_bytes()).wrapping_mul(seed) >> shift) as usize];
                    if *slot != 0 {
                        clash = true;
                        break;
                    }
                    // n <= 255: the index plus one fits.
                    *slot = u8::try_from(i + 1).unwrap_or(0);
                }
                if !clash {
                    table.slots = slots.into_boxed_slice();
                    table.seed = seed;
                    table.shift = shift;
                    return table;
                }
            }
        }
        table
    }

    fn find(&self, name: &str) -> Option<usize> {
        let b = name.as_bytes();
        let k = key(b);
        if self.slots.is_empty() {
            return self
                .keys
                .iter()
                .zip(self.names.iter())
                .position(|(nk, n)| *nk == k && rest_eq(k, b, n.as_bytes()));
        }
        let slot = *self
            .slots
            .get((hash(k, b).wrapping_mul(self.seed) >> self.shift) as usize)?;
        let i = usize::from(slot).checked_sub(1)?;
        (*self.keys.get(i)? == k && rest_eq(k, b, self.names.get(i)?.as_bytes())).then_some(i)
    }
}

/// One schema document compiled for the fast verdict.
pub struct Program {
    nodes: Vec<Node>,
    root: Id,
    draft: Draft,
    /// jsonschema's own `format: uri` check, when the schema has one.
    uri: Option<Validator>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("nodes", &self.nodes.len())
            .field("draft", &self.draft)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// Compiles one schema document (the `Value` jsonschema compiles, errata applied), or
    /// says which keyword it lacks.
    pub fn compile(doc: &Value) -> Result<Program, Unsupported> {
        let draft = match doc.get("$schema").and_then(Value::as_str) {
            Some(
                "http://json-schema.org/draft-04/schema#"
                | "http://json-schema.org/draft-04/schema",
            ) => Draft::D4,
            Some(
                "http://json-schema.org/draft-06/schema#"
                | "http://json-schema.org/draft-06/schema",
            ) => Draft::D6,
            other => {
                return Err(Unsupported {
                    pointer: String::new(),
                    what: format!("$schema {other:?} (only draft-04 and draft-06 are compiled)"),
                });
            }
        };
        let mut c = Compiler {
            doc,
            nodes: Vec::new(),
            defs: HashMap::new(),
            uri: false,
        };
        let root = c.node(doc, "", true)?;
        let uri = if c.uri {
            Some(tiny(doc, "format", &Value::from("uri"))?)
        } else {
            None
        };
        Ok(Program {
            nodes: c.nodes,
            root,
            draft,
            uri,
        })
    }

    /// How many schema nodes the program holds.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the payload is valid against the schema.
    pub fn is_valid<'a, V: JsonView<'a>>(&self, payload: V) -> bool {
        self.check(self.root, payload, 0)
    }

    fn check<'a, V: JsonView<'a>>(&self, id: Id, v: V, depth: u32) -> bool {
        let Some(n) = self.nodes.get(id as usize) else {
            return false;
        };
        let kind = v.kind();
        if n.types != 0 && !self.type_ok(n.types, kind, v) {
            return false;
        }
        if let Some(options) = &n.one_of
            && v.as_str().and_then(|s| options.find(s)).is_none()
        {
            return false;
        }
        match kind {
            JsonKind::String => {
                let Some(s) = v.as_str() else { return false };
                self.string_ok(n, s)
            }
            JsonKind::Number => {
                let Some(num) = Num::of(v) else { return false };
                number_ok(n, num)
            }
            JsonKind::Object => depth < MAX_DEPTH && self.object_ok(n, v, depth + 1),
            JsonKind::Array => depth < MAX_DEPTH && self.array_ok(n, v, depth + 1),
            JsonKind::Null | JsonKind::Bool => true,
        }
    }

    fn type_ok<'a, V: JsonView<'a>>(&self, types: u8, kind: JsonKind, v: V) -> bool {
        let bit = match kind {
            JsonKind::Null => T_NULL,
            JsonKind::Bool => T_BOOL,
            JsonKind::String => T_STRING,
            JsonKind::Array => T_ARRAY,
            JsonKind::Object => T_OBJECT,
            JsonKind::Number => {
                if types & T_NUMBER != 0 {
                    return true;
                }
                return types & T_INTEGER != 0
                    && Num::of(v).is_some_and(|num| is_integer(self.draft, num));
            }
        };
        types & bit != 0
    }

    fn string_ok(&self, n: &Node, s: &str) -> bool {
        if n.min_len != 0 || n.max_len != u64::MAX {
            let bytes = s.len() as u64;
            // A code point is one to four bytes: count only when the bytes leave it open.
            let sure = bytes <= n.max_len && bytes.div_ceil(4) >= n.min_len;
            if !sure {
                let chars = s.chars().count() as u64;
                if chars < n.min_len || chars > n.max_len {
                    return false;
                }
            }
        }
        match n.format {
            Format::None => true,
            Format::DateTime => is_date_time(s),
            Format::Uri => self
                .uri
                .as_ref()
                .is_some_and(|u| u.is_valid(&Value::String(s.to_owned()))),
        }
    }

    fn object_ok<'a, V: JsonView<'a>>(&self, n: &Node, v: V, depth: u32) -> bool {
        let mut seen = 0u64;
        for (key, member) in v.members() {
            match n.names.find(key) {
                Some(i) => {
                    let bit = 1u64 << i;
                    // A repeated key: a `Value` keeps one, so let jsonschema judge that one.
                    if seen & bit != 0 {
                        return false;
                    }
                    seen |= bit;
                    if !self.check(n.props[i], member, depth) {
                        return false;
                    }
                }
                None => match n.additional {
                    Additional::Any => {}
                    Additional::Deny => return false,
                    Additional::Schema(id) => {
                        if !self.check(id, member, depth) {
                            return false;
                        }
                    }
                },
            }
        }
        n.required & !seen == 0
    }

    fn array_ok<'a, V: JsonView<'a>>(&self, n: &Node, v: V, depth: u32) -> bool {
        let len = v.len() as u64;
        if len < n.min_items || len > n.max_items {
            return false;
        }
        match n.items {
            Some(id) => v.items().all(|item| self.check(id, item, depth)),
            None => true,
        }
    }
}

fn number_ok(n: &Node, num: Num) -> bool {
    if let Some(min) = n.minimum
        && num.cmp_exact(min).is_none_or(Ordering::is_lt)
    {
        return false;
    }
    if let Some(max) = n.maximum
        && num.cmp_exact(max).is_none_or(Ordering::is_gt)
    {
        return false;
    }
    match &n.multiple_of {
        Some(m) => num
            .to_number()
            .is_some_and(|number| m.is_valid(&Value::Number(number))),
        None => true,
    }
}

/// `type: integer` as jsonschema reads it under each draft (see the module doc).
fn is_integer(draft: Draft, num: Num) -> bool {
    match num {
        Num::U(_) | Num::I(_) => true,
        Num::F(f) => match draft {
            Draft::D4 => f.abs() >= 9_223_372_036_854_775_808.0,
            Draft::D6 => f.fract() == 0.0,
        },
    }
}

/// jsonschema's `format: date-time`: `YYYY-MM-DD`, then `T` or `t` (the first one in the
/// text), then `HH:MM:SS`, an optional `.` and one or more digits, then `Z`, `z` or
/// `+HH:MM`/`-HH:MM`. The date must exist (leap years counted); hours 00-23, minutes 00-59,
/// seconds 00-60, where 60 (a leap second) only at 23:59 UTC once the offset is applied;
/// offsets up to 23:59.
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(t) = b.iter().position(|&c| c == b'T' || c == b't') else {
        return false;
    };
    date_ok(&b[..t]) && time_ok(&b[t + 1..])
}

fn digits2(b: &[u8]) -> Option<i16> {
    match b {
        [h, l] if h.is_ascii_digit() && l.is_ascii_digit() => {
            Some(i16::from(h - b'0') * 10 + i16::from(l - b'0'))
        }
        _ => None,
    }
}

fn date_ok(d: &[u8]) -> bool {
    if d.len() != 10 || d[4] != b'-' || d[7] != b'-' {
        return false;
    }
    let (Some(hi), Some(lo), Some(month), Some(day)) = (
        digits2(&d[0..2]),
        digits2(&d[2..4]),
        digits2(&d[5..7]),
        digits2(&d[8..10]),
    ) else {
        return false;
    };
    let year = hi * 100 + lo;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let last = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=last).contains(&day)
}

fn time_ok(t: &[u8]) -> bool {
    if t.len() < 9 || t[2] != b':' || t[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits2(&t[0..2]), digits2(&t[3..5]), digits2(&t[6..8]))
    else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let n = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &after_dot[n..];
    }
    let leap_second_at_utc =
        |utc_hour: i16, utc_minute: i16| second != 60 || (utc_hour == 23 && utc_minute == 59);
    match rest {
        [b'Z' | b'z'] => leap_second_at_utc(hour, minute),
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let (Some(oh), Some(om)) = (digits2(&[*oh1, *oh2]), digits2(&[*om1, *om2])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            if second != 60 {
                return true;
            }
            // Local time minus the offset is UTC.
            let (mut h, mut m) = if *sign == b'+' {
                (hour - oh, minute - om)
            } else {
                (hour + oh, minute + om)
            };
            h += m / 60;
            m %= 60;
            if m < 0 {
                m += 60;
                h -= 1;
            }
            h = (h + 24) % 24;
            leap_second_at_utc(h, m)
        }
        _ => false,
    }
}

/// A jsonschema validator of one keyword, under the document's `$schema`.
fn tiny(doc: &Value, keyword: &str, value: &Value) -> Result<Validator, Unsupported> {
    let mut schema = Map::new();
    if let Some(s) = doc.get("$schema") {
        schema.insert("$schema".into(), s.clone());
    }
    schema.insert(keyword.into(), value.clone());
    jsonschema::options()
        .should_validate_formats(true)
        .build(&Value::Object(schema))
        .map_err(|e| Unsupported {
            pointer: String::new(),
            what: format!("{keyword} {value}: {e}"),
        })
}

struct Compiler<'d> {
    doc: &'d Value,
    nodes: Vec<Node>,
    /// Compiled definitions by name.
    defs: HashMap<&'d str, Id>,
    uri: bool,
}

fn unsupported(pointer: &str, what: impl Into<String>) -> Unsupported {
    Unsupported {
        pointer: pointer.to_owned(),
        what: what.into(),
    }
}

fn count(v: &Value, pointer: &str, key: &str) -> Result<u64, Unsupported> {
    v.as_u64()
        .ok_or_else(|| unsupported(pointer, format!("{key} {v} is not a non-negative integer")))
}

impl<'d> Compiler<'d> {
    fn node(&mut self, schema: &'d Value, pointer: &str, root: bool) -> Result<Id, Unsupported> {
        let Value::Object(map) = schema else {
            return Err(unsupported(pointer, "a schema that is not an object"));
        };
        if let Some(reference) = map.get("$ref") {
            return self.reference(reference, pointer);
        }
        let id = self.alloc();
        let node = self.body(map, pointer, root)?;
        self.nodes[id as usize] = node;
        Ok(id)
    }

    fn alloc(&mut self) -> Id {
        self.nodes.push(Node::default());
        Id::try_from(self.nodes.len() - 1).unwrap_or(Id::MAX)
    }

    /// A `$ref` to `#/definitions/NAME`, followed through definitions that are themselves
    /// references.
    fn reference(&mut self, reference: &'d Value, pointer: &str) -> Result<Id, Unsupported> {
        let mut reference = reference;
        for _ in 0..16 {
            let name = reference
                .as_str()
                .and_then(|r| r.strip_prefix("#/definitions/"))
                .filter(|n| !n.contains(['/', '~', '%']))
                .ok_or_else(|| unsupported(pointer, format!("$ref {reference}")))?;
            if let Some(&id) = self.defs.get(name) {
                return Ok(id);
            }
            let target = self
                .doc
                .get("definitions")
                .and_then(|d| d.get(name))
                .ok_or_else(|| unsupported(pointer, format!("$ref {reference} not found")))?;
            let Value::Object(map) = target else {
                return Err(unsupported(
                    pointer,
                    format!("$ref {reference}: not an object"),
                ));
            };
            if let Some(next) = map.get("$ref") {
                reference = next;
                continue;
            }
            let id = self.alloc();
            self.defs.insert(name, id);
            let node = self.body(map, &format!("/definitions/{name}"), false)?;
            self.nodes[id as usize] = node;
            return Ok(id);
        }
        Err(unsupported(pointer, "a chain of $ref too long"))
    }

    fn body(
        &mut self,
        map: &'d Map<String, Value>,
        pointer: &str,
        root: bool,
    ) -> Result<Node, Unsupported> {
        let mut node = Node::default();
        let mut props: Vec<Prop> = Vec::new();
        for (key, value) in map {
            let at = format!("{pointer}/{key}");
            match key.as_str() {
                "$schema" | "title" | "description" | "comment" | "$comment" | "javaType"
                | "default" | "examples" | "definitions" | "additionalItems" => {}
                "$id" | "id" if root => {}
                "type" => node.types = self.types(value, &at)?,
                "enum" => {
                    let options = value
                        .as_array()
                        .and_then(|a| {
                            a.iter()
                                .map(|o| o.as_str().map(Box::<str>::from))
                                .collect::<Option<Vec<_>>>()
                        })
                        .ok_or_else(|| unsupported(&at, "an enum with members not strings"))?;
                    node.one_of = Some(Table::new(options));
                }
                "maxLength" => node.max_len = count(value, &at, key)?,
                "minLength" => node.min_len = count(value, &at, key)?,
                "minItems" => node.min_items = count(value, &at, key)?,
                "maxItems" => node.max_items = count(value, &at, key)?,
                "minimum" | "maximum" => {
                    let limit = value
                        .as_number()
                        .and_then(Num::of_value)
                        .ok_or_else(|| unsupported(&at, format!("{key} {value}")))?;
                    if key == "minimum" {
                        node.minimum = Some(limit);
                    } else {
                        node.maximum = Some(limit);
                    }
                }
                "multipleOf" => {
                    node.multiple_of = Some(Box::new(tiny(self.doc, key, value)?));
                }
                "format" => {
                    node.format = match value.as_str() {
                        Some("date-time") => Format::DateTime,
                        Some("uri") => {
                            self.uri = true;
                            Format::Uri
                        }
                        _ => return Err(unsupported(&at, format!("format {value}"))),
                    }
                }
                "properties" => {
                    let Value::Object(members) = value else {
                        return Err(unsupported(&at, "properties not an object"));
                    };
                    for (name, schema) in members {
                        let id = self.node(schema, &format!("{at}/{name}"), false)?;
                        props.push(Prop {
                            name: name.as_str().into(),
                            node: id,
                        });
                    }
                }
                "additionalProperties" => {
                    node.additional = match value {
                        Value::Bool(true) => Additional::Any,
                        Value::Bool(false) => Additional::Deny,
                        schema => Additional::Schema(self.node(schema, &at, false)?),
                    }
                }
                "items" => node.items = Some(self.node(value, &at, false)?),
                "required" => {} // after the properties
                other => return Err(unsupported(pointer, format!("keyword {other}"))),
            }
        }
        if props.len() > 64 {
            return Err(unsupported(pointer, "more than 64 properties"));
        }
        node.props = props.iter().map(|p| p.node).collect();
        node.names = Table::new(props.into_iter().map(|p| p.name).collect());
        if let Some(required) = map.get("required") {
            let at = format!("{pointer}/required");
            let names = required
                .as_array()
                .ok_or_else(|| unsupported(&at, "required not an array"))?;
            for name in names {
                let i = name
                    .as_str()
                    .and_then(|n| node.names.find(n))
                    .ok_or_else(|| unsupported(&at, format!("{name} not among the properties")))?;
                node.required |= 1u64 << i;
            }
        }
        Ok(node)
    }

    fn types(&self, value: &Value, at: &str) -> Result<u8, Unsupported> {
        let one = |name: &Value| -> Result<u8, Unsupported> {
            Ok(match name.as_str() {
                Some("null") => T_NULL,
                Some("boolean") => T_BOOL,
                Some("integer") => T_INTEGER,
                Some("number") => T_NUMBER,
                Some("string") => T_STRING,
                Some("array") => T_ARRAY,
                Some("object") => T_OBJECT,
                _ => return Err(unsupported(at, format!("type {name}"))),
            })
        };
        match value {
            Value::Array(names) if !names.is_empty() => {
                names.iter().try_fold(0, |acc, n| Ok(acc | one(n)?))
            }
            Value::Array(_) => Err(unsupported(at, "an empty type list")),
            name => one(name),
        }
    }
}

#[cfg(test)]
mod tests;
