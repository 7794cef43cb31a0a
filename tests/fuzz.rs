//! Property-based fuzzing of everything that reads untrusted input, on the stable toolchain
//! (proptest; no libFuzzer):
//!
//! - (a) the OCPP-J frame parser and the whole engine: arbitrary strings, near-valid frames
//!   (message type ids -1..8, odd ids, real actions with case and suffix mutations, random
//!   JSON payloads, payloads generated from the built-in schemas and then mutated) fed from
//!   both sides across open/close events. Properties: no panic, every finding carries a rule
//!   of the registry that applies to the connection's version, `FeedError::NoVersion` exactly
//!   when the version is unknown, schema-valid payloads draw no schema finding.
//! - (b) the trace reader: arbitrary byte lines and structured good/bad records through
//!   `parse_record`, `LineReader` and `check_reader`. Properties: no panic, every bad line is
//!   an `InputError` naming its line, every good line is still checked (the findings equal a
//!   line-by-line reference run), and the sharded checker agrees with the single-threaded one.
//! - the corpus under `fuzz/corpus/` is replayed by `corpus_replays_without_panic`.
//!
//! Case counts keep the file well under 30 s in debug mode. A longer session:
//! `PROPTEST_CASES=100000 cargo test --release --test fuzz` (see fuzz/README.md).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure here is a test failure"
)]

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};

use ocpp_inspector::checker::{CheckOptions, FileResult, InputError, check_reader};
use ocpp_inspector::engine::rules;
use ocpp_inspector::engine::schema::{
    Direction, ERRATA, ErrataSelection, SchemaSet, builtin_documents,
};
use ocpp_inspector::engine::{Config, Engine, Event, EventKind, FeedError, Handshake, Origin};
use ocpp_inspector::finding::Finding;
use ocpp_inspector::finding::Severity;
use ocpp_inspector::ocpp::action::catalogue;
use ocpp_inspector::ocpp::{Side, Version};
use ocpp_inspector::sink::report::{RunInfo, json, junit, text};
use ocpp_inspector::source::trace_reader::{LineReader, RecordKind, parse_record, quick_conn};
use ocpp_inspector::time::Timestamp;
use ocpp_inspector::wire::frame::{self, FrameError, MessageType};

// ---------------------------------------------------------------------------------------------
// Shared set-up
// ---------------------------------------------------------------------------------------------

/// `cases` unless `PROPTEST_CASES` asks for another number (a longer session).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn schemas() -> Arc<SchemaSet> {
    static SET: OnceLock<Arc<SchemaSet>> = OnceLock::new();
    SET.get_or_init(|| {
        Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("built-in schemas"))
    })
    .clone()
}

/// The built-in schema documents with every erratum applied (what `schemas()` compiled),
/// by (version, `ActionRequest` / `ActionResponse`).
fn schema_docs() -> &'static HashMap<(Version, String), Value> {
    static DOCS: OnceLock<HashMap<(Version, String), Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        builtin_documents()
            .map(|(v, name, text)| {
                let mut doc: Value = serde_json::from_str(text).expect("schema JSON");
                for e in ERRATA.iter().filter(|e| e.version == v && e.schema == name) {
                    e.apply(&mut doc).expect("erratum applies");
                }
                ((v, name.to_owned()), doc)
            })
            .collect()
    })
}

fn schema_doc(v: Version, action: &str, dir: Direction) -> Option<&'static Value> {
    let suffix = match dir {
        Direction::Request => "Request",
        Direction::Response => "Response",
    };
    schema_docs().get(&(v, format!("{action}{suffix}")))
}

fn check_options(default_version: Option<Version>) -> CheckOptions {
    CheckOptions {
        schemas: schemas(),
        config: Arc::new(Config::default()),
        default_version,
        jobs: 1,
    }
}

/// A finding must name a rule of the registry (the very same static), and one that applies
/// to the version its connection is judged by.
fn assert_registered(f: &Finding, version: Option<Version>) {
    let Some(r) = rules::find(f.rule.id) else {
        panic!("finding with unregistered rule id `{}`", f.rule.id);
    };
    assert!(
        std::ptr::eq(r, f.rule),
        "rule `{}` is not the registry's static",
        f.rule.id
    );
    if let Some(v) = version {
        assert!(
            f.rule.applies_to(v),
            "rule `{}` reported on a {v} connection it does not apply to",
            f.rule.id
        );
    }
    assert!(
        !f.message.is_empty(),
        "finding `{}` without message",
        f.rule.id
    );
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Charger), Just(Side::Csms)]
}

fn version() -> impl Strategy<Value = Version> {
    select(Version::ALL.to_vec())
}

// ---------------------------------------------------------------------------------------------
// Generators: JSON text (valid or nearly so), actions, frames
// ---------------------------------------------------------------------------------------------

/// Number literals JSON allows: -0, integer-valued floats, u64/i64 edges, long ones.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "1.0",
    "-1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "1E2",
    "2e0",
    "0.1",
    "15.3",
    "16.05",
    "-0.0",
    "1e-400",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1.7976931348623157e308",
    "4.9e-324",
];

/// Number literals that are not JSON, or overflow f64 (serde_json rejects those).
const BAD_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e99999999999999999999",
    "01",
    "+1",
    ".5",
    "1.",
    "-",
    "1e",
    "0x10",
    "NaN",
    "Infinity",
];

/// String literals as they appear in JSON text: escapes, odd code points, near-valid dates
/// and enums.
const RAW_STRINGS: &[&str] = &[
    r#""\ud83d\ude97""#,
    r#""\u0000""#,
    r#""a\u0000b""#,
    r#""\u202eevil\u200f""#,
    "\"\u{feff}\"",
    "\"\u{202e}\u{200f}🚗\"",
    r#""2026-11-22T10:15:03.125Z""#,
    r#""2026-11-22T10:15:03""#,
    r#""2026-02-30T00:00:00Z""#,
    r#""Accepted""#,
    r#""accepted""#,
    r#""""#,
];

/// String literals that are not JSON: lone surrogates, bad escapes, raw control characters.
const BAD_STRINGS: &[&str] = &[
    r#""\ud800""#,
    r#""\udc00""#,
    r#""\udc00\ud800""#,
    r#""\x""#,
    r#""\u12""#,
    "\"unterminated",
    "\"raw\ttab\"",
    "\"raw\u{0}nul\"",
];

const KEYS: &[&str] = &[
    "customData",
    "vendorId",
    "status",
    "idTag",
    "connectorId",
    "evseId",
    "timestamp",
    "meterValue",
    "sampledValue",
    "chargingStation",
    "reason",
    "idToken",
    "type",
    "id",
    "data",
    "messageId",
    "transactionId",
    "evse",
    "chargePointVendor",
    "chargePointModel",
    "currentTime",
    "interval",
];

const ERROR_CODES: &[&str] = &[
    "GenericError",
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "FormatViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation",
    "TypeConstraintViolation",
    "MessageTypeNotSupported",
    "RpcFrameworkError",
    "genericerror",
    "",
];

fn json_string_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => any::<String>().prop_map(|s| quote(&s)),
        4 => "[a-zA-Z0-9 ]{0,12}".prop_map(|s| quote(&s)),
        3 => select(RAW_STRINGS).prop_map(str::to_owned),
        1 => select(BAD_STRINGS).prop_map(str::to_owned),
        1 => action_name().prop_map(|s| quote(&s)),
        1 => ".{37,60}".prop_map(|s| quote(&s)),
    ]
    .boxed()
}

fn json_leaf_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(&["null", "true", "false"]).prop_map(str::to_owned),
        6 => select(NUMBERS).prop_map(str::to_owned),
        1 => select(BAD_NUMBERS).prop_map(str::to_owned),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        // Debug keeps a `.0`, and gives `NaN` / `inf`: not JSON, on purpose.
        1 => any::<f64>().prop_map(|f| format!("{f:?}")),
        8 => json_string_text(),
    ]
    .boxed()
}

fn json_key_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(KEYS).prop_map(quote),
        1 => json_string_text(),
    ]
    .boxed()
}

/// JSON text: mostly valid, sometimes not; includes nesting around serde_json's limit (128).
fn json_text() -> BoxedStrategy<String> {
    let tree = json_leaf_text().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((json_key_text(), inner), 0..6).prop_map(|kv| {
                let members: Vec<String> = kv.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    });
    prop_oneof![
        12 => tree,
        1 => (1usize..300).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (1usize..300).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        1 => (120usize..136, json_leaf_text())
            .prop_map(|(n, l)| format!("{}{l}{}", "[".repeat(n), "]".repeat(n))),
    ]
    .boxed()
}

/// `quick_conn` takes a `"conn"` nested in an unknown member for the record's connection (see
/// `nested_conn_member_keeps_its_connection_on_one_shard`); until fixed, generated unknown
/// members never hold a `conn` key.
const AVOID_KNOWN_NESTED_CONN_BUG: bool = false;

/// Valid JSON values (for unknown members of trace records).
fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![4 => "[a-zA-Z_]{1,8}", 1 => Just("conn".to_owned())],
                    inner
                ),
                0..4
            )
            .prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .filter(|(k, _)| !(AVOID_KNOWN_NESTED_CONN_BUG && k == "conn"))
                        .collect(),
                )
            }),
        ]
    })
    .boxed()
}

fn real_action() -> BoxedStrategy<String> {
    (version(), any::<Index>())
        .prop_map(|(v, i)| {
            let c = catalogue(v);
            c[i.index(c.len())].name.to_owned()
        })
        .boxed()
}

fn flip_case_at(s: &str, i: &Index) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let at = i.index(chars.len());
    chars
        .iter()
        .enumerate()
        .map(|(n, c)| {
            if n != at {
                c.to_string()
            } else if c.is_uppercase() {
                c.to_lowercase().to_string()
            } else {
                c.to_uppercase().to_string()
            }
        })
        .collect()
}

const ACTION_SUFFIXES: &[&str] = &[
    "Request", "Response", "Req", "Conf", ".req", ".conf", " ", "\u{0}", "\u{200b}", "s",
];
const ACTION_PREFIXES: &[&str] = &[" ", "\u{feff}", "\u{202e}", "ocpp:", "\u{0}"];

/// Actions of the real catalogues, as sent and as mistyped.
fn action_name() -> BoxedStrategy<String> {
    prop_oneof![
        6 => real_action(),
        1 => real_action().prop_map(|s| s.to_lowercase()),
        1 => real_action().prop_map(|s| s.to_uppercase()),
        2 => (real_action(), any::<Index>()).prop_map(|(s, i)| flip_case_at(&s, &i)),
        2 => (real_action(), select(ACTION_SUFFIXES)).prop_map(|(s, x)| format!("{s}{x}")),
        1 => (real_action(), select(ACTION_PREFIXES)).prop_map(|(s, x)| format!("{x}{s}")),
        // Cyrillic а and е look like the Latin letters.
        1 => real_action().prop_map(|s| s.replacen('a', "\u{430}", 1).replacen('e', "\u{435}", 1)),
        1 => any::<String>(),
    ]
    .boxed()
}

fn message_type_text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (2i64..=6).prop_map(|n| n.to_string()),
        3 => (-1i64..=8).prop_map(|n| n.to_string()),
        1 => select(&[
            "\"2\"", "2.0", "2e0", "-0", "null", "true", "[]", "{}", "1e400",
            "9223372036854775808", "-9223372036854775809", " 2 ",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A few ids used over and over, so answers find (or just miss) their calls.
const ID_POOL: &[&str] = &["1", "2", "19223201", "-1", "", "a"];

fn message_id_text() -> BoxedStrategy<String> {
    prop_oneof![
        8 => select(ID_POOL).prop_map(quote),
        1 => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".prop_map(|s| quote(&s)),
        1 => "[a-z0-9]{37,80}".prop_map(|s| quote(&s)),
        1 => ".{1,40}".prop_map(|s| quote(&s)),
        // 36 characters but 72 bytes; then 37+ characters.
        1 => Just(quote(&"é".repeat(36))),
        1 => (37usize..60).prop_map(|n| quote(&"é".repeat(n))),
        2 => json_leaf_text(),
    ]
    .boxed()
}

fn payload_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just("{}".to_owned()),
        1 => Just("null".to_owned()),
        1 => Just("[]".to_owned()),
        3 => json_value().prop_map(|v| v.to_string()),
        3 => json_text(),
    ]
    .boxed()
}

/// A frame built element by element: usually the right shape for its type id, sometimes one
/// element short or long, then sometimes damaged as text.
fn frame_text() -> BoxedStrategy<String> {
    (
        message_type_text(),
        message_id_text(),
        prop_oneof![3 => action_name().prop_map(|a| quote(&a)), 1 => json_leaf_text()],
        payload_text(),
        prop_oneof![3 => select(ERROR_CODES).prop_map(quote), 1 => json_leaf_text()],
        prop_oneof![3 => json_string_text(), 1 => json_leaf_text()],
        prop_oneof![6 => Just("{}".to_owned()), 1 => json_text()],
        prop_oneof![8 => Just(0i8), 1 => Just(-1i8), 1 => Just(1i8)],
        (0u8..30, any::<Index>(), json_text()),
    )
        .prop_map(
            |(t, id, action, payload, code, desc, details, delta, (damage, at, extra))| {
                let mut elems = match t.trim() {
                    "2" | "6" => vec![t, id, action, payload],
                    "3" => vec![t, id, payload],
                    "4" | "5" => vec![t, id, code, desc, details],
                    _ => vec![t, id, action, payload, details],
                };
                match delta {
                    -1 => {
                        elems.pop();
                    }
                    1 => elems.push(extra.clone()),
                    _ => {}
                }
                let text = format!("[{}]", elems.join(","));
                damage_text(text, damage, &at, &extra)
            },
        )
        .boxed()
}

/// Damages a frame's text: truncation, a BOM, surrounding whitespace, two frames, garbage.
fn damage_text(text: String, how: u8, at: &Index, extra: &str) -> String {
    match how {
        0 => {
            let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            text[..cuts[at.index(cuts.len())]].to_owned()
        }
        1 => format!("\u{feff}{text}"),
        2 => format!(" \t\r\n{text}\n "),
        3 => format!("{text}{text}"),
        4 => format!("{text}{extra}"),
        5 => format!("{text},"),
        _ => text,
    }
}

/// Any frame text: near-valid frames, arbitrary strings, JSON soup.
fn any_frame_text() -> BoxedStrategy<String> {
    prop_oneof![
        8 => frame_text(),
        1 => any::<String>(),
        1 => json_text(),
        1 => "[\\[\\]{}\",:0-9a-zA-Z \\\\.eE+-]{0,40}",
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Schema-guided payloads
// ---------------------------------------------------------------------------------------------

/// A tape of choices drawn by proptest; read past its end it yields 0, which always means the
/// simplest choice (so shrinking the tape shrinks the payload).
struct Tape<'a> {
    data: &'a [u32],
    pos: usize,
}

impl Tape<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() as usize % n }
    }

    /// True with probability 1/n (never once the tape is used up).
    fn one_in(&mut self, n: u32) -> bool {
        self.next() % n == 1
    }
}

/// Builds an instance of a schema (the subset of JSON schema the OCPP files use: `$ref`,
/// `type`, `properties`, `required`, `enum`, `items`, `minItems`/`maxItems`, `maxLength`,
/// `minimum`/`maximum`, `multipleOf`, `format`). Without `mutate` the instance is valid;
/// with it, some nodes get a wrong value, a required member is dropped or an unknown one
/// added.
struct PayloadGen<'a> {
    root: &'a Value,
    tape: Tape<'a>,
    mutate: bool,
}

static NULL: Value = Value::Null;

const STRING_CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '-', 'é', '中', '🚗', '\u{0}', '\u{202e}', '"', '\\', '\u{ffff}',
];

impl<'a> PayloadGen<'a> {
    fn generate(root: &'a Value, tape: &'a [u32], mutate: bool) -> Value {
        let mut g = PayloadGen {
            root,
            tape: Tape { data: tape, pos: 0 },
            mutate,
        };
        g.value(root, 0)
    }

    fn value(&mut self, schema: &'a Value, depth: usize) -> Value {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = r
                .strip_prefix('#')
                .and_then(|p| self.root.pointer(p))
                .unwrap_or_else(|| panic!("unresolvable $ref {r}"));
            return self.value(target, depth + 1);
        }
        if self.mutate && self.tape.one_in(10) {
            return self.wrong(schema);
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            return options[self.tape.below(options.len())].clone();
        }
        let ty = schema.get("type").and_then(Value::as_str);
        match ty {
            Some("object") => self.object(schema, depth),
            None if schema.get("properties").is_some() => self.object(schema, depth),
            Some("array") => self.array(schema, depth),
            Some("string") => self.string(schema),
            Some("integer") => self.integer(schema),
            Some("number") => self.number(schema),
            Some("boolean") => Value::Bool(self.tape.next() % 2 == 1),
            // No type (2.x `data` of DataTransfer): anything goes.
            _ => match self.tape.below(4) {
                0 => json!("vendor data"),
                1 => json!(42),
                2 => json!({"k": [1, "v", null]}),
                _ => Value::Null,
            },
        }
    }

    fn object(&mut self, schema: &'a Value, depth: usize) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut map = Map::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, s) in props {
                let req = required.contains(&k.as_str());
                if !req && (depth > 8 || !self.tape.one_in(2)) {
                    continue;
                }
                if req && self.mutate && self.tape.one_in(16) {
                    continue; // a required member dropped
                }
                map.insert(k.clone(), self.value(s, depth + 1));
            }
        }
        if self.mutate && self.tape.one_in(12) {
            match self.tape.below(3) {
                0 => map.insert("customData".into(), json!({"vendorId": "VendorX"})),
                1 => map.insert("unknownMember".into(), json!(1)),
                _ => map.insert(String::new(), Value::Null),
            };
        }
        Value::Object(map)
    }

    fn array(&mut self, schema: &'a Value, depth: usize) -> Value {
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .map_or(min + 2, |m| (m as usize).min(min + 2))
            .max(min);
        let n = min + self.tape.below(max - min + 1);
        let n = if self.mutate && self.tape.one_in(16) {
            n + schema.get("maxItems").map_or(0, |_| 2) // over maxItems
        } else {
            n
        };
        let items = schema.get("items").unwrap_or(&NULL);
        Value::Array((0..n).map(|_| self.value(items, depth + 1)).collect())
    }

    fn string(&mut self, schema: &Value) -> Value {
        match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => return Value::String(self.datetime()),
            Some("uri") => return json!("https://csms.example.com/ocpp/CP-001"),
            _ => {}
        }
        let max = schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .unwrap_or(20)
            .min(20) as usize;
        let len = self.tape.below(max + 1);
        let s: String = (0..len)
            .map(|_| STRING_CHARS[self.tape.below(STRING_CHARS.len())])
            .collect();
        Value::String(s)
    }

    fn datetime(&mut self) -> String {
        let (y, mo, d) = (
            2000 + self.tape.below(100),
            1 + self.tape.below(12),
            1 + self.tape.below(28),
        );
        let (h, mi, s) = (
            self.tape.below(24),
            self.tape.below(60),
            self.tape.below(60),
        );
        let frac = match self.tape.below(4) {
            0 => String::new(),
            1 => ".125".into(),
            2 => format!(".{:03}", self.tape.below(1000)),
            _ => ".123456".into(),
        };
        let zone = match self.tape.below(3) {
            0 => "Z".to_owned(),
            1 => "+02:00".to_owned(),
            _ => format!("-{:02}:30", self.tape.below(12)),
        };
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
    }

    fn bounds(schema: &Value) -> (Option<f64>, Option<f64>) {
        (
            schema.get("minimum").and_then(Value::as_f64),
            schema.get("maximum").and_then(Value::as_f64),
        )
    }

    fn integer(&mut self, schema: &Value) -> Value {
        let (lo, hi) = match Self::bounds(schema) {
            (Some(lo), Some(hi)) => (lo.ceil() as i64, hi.floor() as i64),
            (Some(lo), None) => (lo.ceil() as i64, lo.ceil() as i64 + 100_000),
            (None, Some(hi)) => (hi.floor() as i64 - 100_000, hi.floor() as i64),
            (None, None) => match self.tape.below(6) {
                0 => return json!(i64::MAX),
                1 => return json!(u64::MAX),
                2 => return json!(i64::MIN),
                _ => (-1000, 100_000),
            },
        };
        let span = u64::try_from(hi.saturating_sub(lo)).unwrap_or(0);
        let pick = match self.tape.below(4) {
            0 => lo,
            1 => hi,
            _ => lo.saturating_add(i64::from(self.tape.next()) % (span as i64 + 1)),
        };
        json!(pick)
    }

    fn number(&mut self, schema: &Value) -> Value {
        let (lo, hi) = Self::bounds(schema);
        let raw = if schema.get("multipleOf").is_some() {
            // k/10 prints as the decimal k/10 (shortest round trip), a multiple of 0.1.
            f64::from(self.tape.next() % 100_000) / 10.0
        } else {
            match self.tape.below(4) {
                0 => f64::from(self.tape.next() % 1000),
                1 => f64::from(self.tape.next() % 1_000_000) / 1000.0,
                2 => 1e300,
                _ => 0.5,
            }
        };
        let v = raw.max(lo.unwrap_or(f64::MIN)).min(hi.unwrap_or(f64::MAX));
        json!(v)
    }

    /// A value of the wrong kind for the node (or one breaking its constraints).
    fn wrong(&mut self, schema: &Value) -> Value {
        match self.tape.below(12) {
            0 => Value::Null,
            1 => json!("1"),
            2 => json!(1),
            3 => json!(1.5),
            4 => json!([]),
            5 => json!({}),
            6 => match schema.get("enum").and_then(Value::as_array) {
                Some(o) => json!(o[0].as_str().unwrap_or("x").to_lowercase()),
                None => json!(true),
            },
            7 => json!("2026-11-22T10:15:03"),
            8 => json!("2026-13-01T00:00:00Z"),
            9 => {
                let n = schema.get("maxLength").and_then(Value::as_u64).unwrap_or(0);
                json!("x".repeat(n as usize + 1))
            }
            10 => json!(-1),
            _ => json!(1e308),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (a) The frame parser
// ---------------------------------------------------------------------------------------------

/// What the parser's answer must be for a frame built from a type id, an element count and
/// the JSON kinds of elements 1 and 2 (OCPP-J: 2 CALL 4 elements, 3 CALLRESULT 3, 4 CALLERROR
/// 5, 5 CALLRESULTERROR 5, 6 SEND 4; id a string; action a string).
fn expected_class(
    t: i64,
    count: usize,
    id_is_str: bool,
    action_is_str: bool,
) -> Result<MessageType, &'static str> {
    let Some(mt) = MessageType::from_id(t) else {
        return Err("unknown type");
    };
    let want = match t {
        2 | 6 => 4,
        3 => 3,
        _ => 5,
    };
    if count != want {
        return Err("wrong count");
    }
    if !id_is_str {
        return Err("id not string");
    }
    if matches!(t, 2 | 6) && !action_is_str {
        return Err("action not string");
    }
    Ok(mt)
}

proptest! {
    #![proptest_config(config(1500))]

    /// Any string: no panic; an accepted frame re-serialised parses to the same type; the
    /// error kinds mean what they say.
    #[test]
    fn frame_parser_never_panics(text in prop_oneof![any::<String>(), any_frame_text()]) {
        match frame::parse(&text) {
            Ok((value, t)) => {
                let again = frame::parse(&value.to_string());
                prop_assert_eq!(again.map(|(_, t2)| t2), Ok(t));
                prop_assert_eq!(frame::classify(&value).map(|f| f.message_type()), Ok(t));
            }
            Err(FrameError::Empty) => prop_assert!(text.trim().is_empty()),
            Err(FrameError::NotJson(msg)) => {
                prop_assert!(!msg.is_empty());
                prop_assert!(serde_json::from_str::<Value>(&text).is_err());
            }
            Err(_) => prop_assert!(serde_json::from_str::<Value>(&text).is_ok()),
        }
    }

    /// Structurally built frames classify as the OCPP-J table says.
    #[test]
    fn frame_parser_agrees_with_the_spec_table(
        t in -1i64..=8,
        count in 1usize..=7,
        id in prop_oneof![Just(json!("19223201")), Just(json!(19223201)), Just(Value::Null)],
        action in prop_oneof![Just(json!("Heartbeat")), Just(json!(5)), Just(json!({}))],
    ) {
        let mut items = vec![json!(t), id.clone(), action.clone(), json!({}), json!({}), json!({}), json!({})];
        items.truncate(count);
        let value = Value::Array(items);
        let got = frame::classify(&value);
        let want = expected_class(t, count, id.is_string() || count < 2, action.is_string() || count < 3);
        match (got, want) {
            (Ok(f), Ok(mt)) => prop_assert_eq!(f.message_type(), mt),
            (Err(FrameError::UnknownType(n)), Err("unknown type")) => prop_assert_eq!(n, t),
            (Err(FrameError::WrongCount { got, .. }), Err("wrong count")) => prop_assert_eq!(got, count),
            (Err(FrameError::IdNotString { .. }), Err("id not string")) => {}
            (Err(FrameError::ActionNotString { .. }), Err("action not string")) => {}
            (got, want) => prop_assert!(false, "{value}: got {got:?}, want {want:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (a) The whole engine
// ---------------------------------------------------------------------------------------------

const CONNS: &[&str] = &["CP-001", "CP-002", "\u{202e}CP\u{200f}-3", "🚗\u{0}4"];

fn subprotocol() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        2 => Just(None),
        6 => select(&["ocpp1.6", "ocpp2.0.1", "ocpp2.1"]).prop_map(|s| Some(s.to_owned())),
        2 => select(&["ocpp1.5", "OCPP1.6", "ocpp2.0", "", "ocpp1.6 ", "ocpp2.1\u{0}"])
            .prop_map(|s| Some(s.to_owned())),
        1 => any::<String>().prop_map(Some),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
enum Op {
    Open {
        conn: usize,
        subprotocol: Option<String>,
        /// scheme, TLS version, client certificate subject, basic-auth user.
        security: [Option<String>; 4],
    },
    Close {
        conn: usize,
        code: Option<u16>,
        by: Option<Side>,
    },
    Binary {
        conn: usize,
        from: Side,
        len: usize,
    },
    /// Any text as a frame.
    Text {
        conn: usize,
        from: Side,
        text: String,
    },
    /// A CALL (or SEND) of a real action, spelt right or not, with a schema-guided payload.
    Call {
        conn: usize,
        from: Side,
        send: bool,
        id: usize,
        action: Index,
        spelling: u8,
        tape: Vec<u32>,
        mutate: bool,
        /// Answer it at once (CALLRESULT with a schema-guided response) when set.
        answer: Option<(Vec<u32>, bool)>,
    },
    /// Answers one of the calls made so far: CALLRESULT, CALLERROR or CALLRESULTERROR.
    Answer {
        pick: Index,
        kind: u8,
        tape: Vec<u32>,
        mutate: bool,
    },
    /// Time moves on (or back: traces are not always sorted).
    Wait(i64),
}

fn security() -> impl Strategy<Value = [Option<String>; 4]> {
    let fact = |known: &'static [&'static str]| {
        prop::option::weighted(
            0.4,
            prop_oneof![3 => select(known).prop_map(str::to_owned), 1 => any::<String>()],
        )
    };
    (
        fact(&["ws", "wss", "WSS", "http"]),
        fact(&["1.2", "1.3", "1.0", "TLSv1.3"]),
        fact(&["CN=CP-001", "CN=CP-002,O=Vendor", "CN="]),
        fact(&["CP-001", "CP-002", ""]),
    )
        .prop_map(|(a, b, c, d)| [a, b, c, d])
}

fn tape() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 0..64)
}

fn op() -> impl Strategy<Value = Op> {
    let conn = 0..CONNS.len();
    prop_oneof![
        2 => (conn.clone(), subprotocol(), security())
            .prop_map(|(conn, subprotocol, security)| Op::Open { conn, subprotocol, security }),
        1 => (conn.clone(), any::<Option<u16>>(), prop::option::of(side()))
            .prop_map(|(conn, code, by)| Op::Close { conn, code, by }),
        1 => (conn.clone(), side(), any::<usize>()).prop_map(|(conn, from, len)| Op::Binary { conn, from, len }),
        5 => (conn.clone(), side(), any_frame_text()).prop_map(|(conn, from, text)| Op::Text { conn, from, text }),
        6 => (
            conn,
            side(),
            prop::bool::weighted(0.1),
            0..ID_POOL.len(),
            any::<Index>(),
            any::<u8>(),
            tape(),
            prop::bool::weighted(0.5),
            prop::option::weighted(0.5, (tape(), prop::bool::weighted(0.5))),
        )
            .prop_map(|(conn, from, send, id, action, spelling, tape, mutate, answer)| Op::Call {
                conn, from, send, id, action, spelling, tape, mutate, answer,
            }),
        3 => (any::<Index>(), any::<u8>(), tape(), prop::bool::weighted(0.5))
            .prop_map(|(pick, kind, tape, mutate)| Op::Answer { pick, kind, tape, mutate }),
        1 => prop_oneof![
            0i64..60_000_000,
            Just(31_000_000i64),
            Just(-5_000_000i64),
            Just(i64::MAX / 2),
        ]
        .prop_map(Op::Wait),
    ]
}

/// While the engine panics when a connection reopens with another OCPP version and then
/// gets a duplicate answer (see `KNOWN_CRASHES`), generated streams keep the first version a
/// connection had. Set to false once that is fixed.
const AVOID_KNOWN_VERSION_SWITCH_PANIC: bool = false;

/// Drives one engine and checks every answer against a model of what it must do.
struct Harness {
    engine: Engine,
    default: Option<Version>,
    /// Per connection seen so far: (version it is judged by, negotiated an unsupported
    /// subprotocol, already told that the version is missing).
    conns: HashMap<usize, (Option<Version>, bool, bool)>,
    /// Calls sent: (connection, sender, id, version, catalogue index).
    calls: Vec<(usize, Side, String, Version, usize)>,
    /// The first version each connection was judged by.
    first_version: HashMap<usize, Version>,
    at: i64,
    max_at: i64,
    line: u64,
    frames: u64,
}

impl Harness {
    fn new(default: Option<Version>) -> Self {
        Harness {
            engine: Engine::new(schemas(), Arc::new(Config::default()), default),
            default,
            conns: HashMap::new(),
            calls: Vec::new(),
            first_version: HashMap::new(),
            at: 1_795_000_000_000_000,
            max_at: i64::MIN,
            line: 0,
            frames: 0,
        }
    }

    fn version_of(&self, conn: usize) -> Option<Version> {
        self.conns.get(&conn).map_or(self.default, |c| c.0)
    }

    /// Feeds one event; returns its findings after checking them.
    fn feed(&mut self, conn: usize, kind: EventKind<'_>) -> Vec<Finding> {
        self.line += 1;
        self.max_at = self.max_at.max(self.at);
        let default = self.default;
        let state = self.conns.entry(conn).or_insert((default, false, false));
        // Time-based rules run before the event is judged, so on an `open` their findings
        // may still be judged by the version of the connection before it.
        let before = state.0;
        if let EventKind::Open(handshake) = kind {
            match handshake.subprotocol {
                Some(token) => {
                    state.0 = Version::from_subprotocol(token);
                    state.1 = state.0.is_none();
                }
                None => {
                    state.0 = default;
                    state.1 = false;
                }
            }
        }
        let version = state.0;
        if let Some(v) = version {
            self.first_version.entry(conn).or_insert(v);
        }
        let frame_from = match kind {
            EventKind::Frame { from, .. } => Some(from),
            _ => None,
        };
        let want_no_version = frame_from.is_some() && version.is_none() && !state.2 && !state.1;
        if frame_from.is_some() && version.is_none() {
            state.2 = true;
        }
        if frame_from.is_some() {
            self.frames += 1;
        }
        let event = Event {
            at: Timestamp(self.at),
            conn: CONNS[conn],
            line: self.line,
            kind,
        };
        let mut out = Vec::new();
        let result = self.engine.feed(&event, &mut out);
        match result {
            Ok(()) => assert!(!want_no_version, "no FeedError::NoVersion for {event:?}"),
            Err(FeedError::NoVersion { conn: c }) => {
                assert!(want_no_version, "unexpected NoVersion for {event:?}");
                assert_eq!(c, CONNS[conn]);
            }
        }
        let current: Vec<&Finding> = out.iter().filter(|f| f.line == self.line).collect();
        assert!(
            current.len() <= 24,
            "{} findings for one event: {:?}",
            current.len(),
            current.iter().map(|f| f.rule.id).collect::<Vec<_>>()
        );
        for f in &out {
            if version == before || f.line == self.line {
                assert_registered(f, version);
            } else {
                assert_registered(f, None);
                assert!(
                    [before, version]
                        .iter()
                        .any(|v| v.is_none_or(|v| f.rule.applies_to(v))),
                    "{} applies neither before nor after the open",
                    f.rule.id
                );
            }
            assert_eq!(&*f.conn, CONNS[conn]);
            if f.line == self.line {
                assert_eq!(f.at, Timestamp(self.at));
                if let Some(from) = frame_from {
                    assert_eq!(f.from, Some(from), "{}", f.rule.id);
                    let evidence = f.evidence.as_deref().expect("a frame finding has evidence");
                    assert!(evidence.chars().count() <= 241);
                }
            } else {
                // A finding about an earlier frame (a call never answered, ...).
                assert!(
                    f.line >= 1 && f.line < self.line,
                    "{} names line {} while judging line {}",
                    f.rule.id,
                    f.line,
                    self.line
                );
                assert!(
                    f.evidence.is_none(),
                    "{}: evidence of another frame",
                    f.rule.id
                );
            }
        }
        let stats = self.engine.stats();
        assert_eq!(stats.frames, self.frames);
        assert_eq!(stats.connections, self.conns.len() as u64);
        out
    }

    /// The observation ends: what is still open is settled, about earlier lines.
    fn finish(&mut self) {
        let mut out = Vec::new();
        self.engine.finish(Timestamp(self.max_at), &mut out);
        for f in &out {
            assert_registered(f, None);
            assert!(f.line <= self.line, "{} names line {}", f.rule.id, f.line);
            assert!(
                CONNS.contains(&&*f.conn),
                "{}: unknown connection {:?}",
                f.rule.id,
                f.conn
            );
        }
    }
    fn frame(&mut self, conn: usize, from: Side, text: &str) -> Vec<Finding> {
        self.feed(
            conn,
            EventKind::Frame {
                from,
                text: text.into(),
                origin: Origin::Peer,
            },
        )
    }

    fn run(&mut self, op: &Op) {
        match op {
            Op::Open {
                conn,
                subprotocol,
                security,
            } => {
                let [scheme, tls_version, client_cert_subject, basic_auth_user] = security;
                let mut subprotocol = subprotocol.as_deref();
                if AVOID_KNOWN_VERSION_SWITCH_PANIC {
                    let next = subprotocol.map_or(self.default, Version::from_subprotocol);
                    if let (Some(first), Some(next)) = (self.first_version.get(conn), next)
                        && *first != next
                    {
                        subprotocol = Some(first.subprotocol());
                    }
                }
                self.feed(
                    *conn,
                    EventKind::Open(Handshake {
                        subprotocol,
                        scheme: scheme.as_deref(),
                        tls_version: tls_version.as_deref(),
                        client_cert_subject: client_cert_subject.as_deref(),
                        basic_auth_user: basic_auth_user.as_deref(),
                        ..Handshake::default()
                    }),
                );
            }
            Op::Close { conn, code, by } => {
                self.feed(
                    *conn,
                    EventKind::Close {
                        code: *code,
                        by: *by,
                    },
                );
            }
            Op::Binary { conn, from, len } => {
                let out = self.feed(
                    *conn,
                    EventKind::Binary {
                        from: *from,
                        len: *len,
                    },
                );
                if self.version_of(*conn).is_some() {
                    assert!(out.iter().any(|f| f.rule.id == "ws.binary-frame"));
                }
            }
            Op::Text { conn, from, text } => {
                self.frame(*conn, *from, text);
            }
            Op::Call {
                conn,
                from,
                send,
                id,
                action,
                spelling,
                tape,
                mutate,
                answer,
            } => self.call(
                *conn,
                *from,
                *send,
                ID_POOL[*id],
                action,
                *spelling,
                tape,
                *mutate,
                answer.as_ref(),
            ),
            Op::Answer {
                pick,
                kind,
                tape,
                mutate,
            } => {
                if self.calls.is_empty() {
                    return;
                }
                let (conn, caller, id, v, idx) = self.calls[pick.index(self.calls.len())].clone();
                let text = self.answer_text(&id, v, idx, *kind, tape, *mutate);
                self.frame(conn, caller.other(), &text);
            }
            Op::Wait(d) => self.at = self.at.saturating_add(*d),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the parts of one generated CALL")]
    fn call(
        &mut self,
        conn: usize,
        from: Side,
        send: bool,
        id: &str,
        action: &Index,
        spelling: u8,
        tape: &[u32],
        mutate: bool,
        answer: Option<&(Vec<u32>, bool)>,
    ) {
        let known = self.version_of(conn);
        let v = known.unwrap_or(Version::V201);
        let table = catalogue(v);
        let idx = action.index(table.len());
        let real = table[idx].name;
        let exact = spelling % 8 < 5;
        let name = match spelling % 8 {
            5 => real.to_lowercase(),
            6 => format!("{real}Request"),
            7 => real.replacen('e', "\u{435}", 1),
            _ => real.to_owned(),
        };
        let payload = schema_doc(v, real, Direction::Request)
            .map_or(json!({}), |doc| PayloadGen::generate(doc, tape, mutate));
        let text = json!([if send { 6 } else { 2 }, id, name, payload]).to_string();
        let out = self.frame(conn, from, &text);
        if known.is_some() && exact && !mutate && (!send || v == Version::V21) {
            // A valid payload of a known action draws no schema or action finding.
            for f in &out {
                assert!(
                    f.rule.family() != "schema"
                        && !matches!(
                            f.rule.id,
                            "rpc.unknown-action"
                                | "rpc.action-case-mismatch"
                                | "rpc.action-has-suffix"
                                | "dir.action-not-in-version"
                        ),
                    "{} on a valid {real} request: {} in {text}",
                    f.rule.id,
                    f.message
                );
            }
        }
        if !send {
            self.calls.push((conn, from, id.to_owned(), v, idx));
        }
        let Some((answer_tape, answer_mutate)) = answer else {
            return;
        };
        if send {
            return;
        }
        let text = self.answer_text(id, v, idx, 0, answer_tape, *answer_mutate);
        let out = self.frame(conn, from.other(), &text);
        if known.is_some() && !answer_mutate {
            // The answer finds its call (just sent) and its valid payload passes.
            for f in &out {
                assert!(
                    f.rule.family() != "schema"
                        && !matches!(
                            f.rule.id,
                            "rpc.response-unknown-id"
                                | "rpc.duplicate-response"
                                | "rpc.response-to-send"
                        ),
                    "{} on a valid {real} response: {} in {text}",
                    f.rule.id,
                    f.message
                );
            }
        }
    }

    fn answer_text(
        &self,
        id: &str,
        v: Version,
        idx: usize,
        kind: u8,
        tape: &[u32],
        mutate: bool,
    ) -> String {
        match kind % 8 {
            0..=4 => {
                let name = catalogue(v)[idx].name;
                let payload = schema_doc(v, name, Direction::Response)
                    .map_or(json!({}), |doc| PayloadGen::generate(doc, tape, mutate));
                json!([3, id, payload]).to_string()
            }
            5 | 6 => {
                let code =
                    ERROR_CODES[tape.first().copied().unwrap_or(0) as usize % ERROR_CODES.len()];
                json!([4, id, code, "", {}]).to_string()
            }
            _ => json!([5, id, "GenericError", "bad result", {}]).to_string(),
        }
    }
}

proptest! {
    #![proptest_config(config(160))]

    /// Event streams over several connections: the engine never panics, every finding is a
    /// registered rule that applies, NoVersion comes exactly when it must, counters add up,
    /// and schema-valid calls and answers draw no schema finding.
    #[test]
    fn engine_judges_any_event_stream(
        default in prop::option::of(version()),
        ops in prop::collection::vec(op(), 1..24),
    ) {
        let mut h = Harness::new(default);
        for op in &ops {
            h.run(op);
        }
        h.finish();
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// The schema-guided generator and the validators agree: an unmutated instance is valid.
    /// (Guards the engine property above against a generator that silently produces junk.)
    #[test]
    fn generated_payloads_are_schema_valid(
        v in version(),
        action in any::<Index>(),
        response in any::<bool>(),
        tape in tape(),
    ) {
        let table = catalogue(v);
        let idx = action.index(table.len());
        let dir = if response { Direction::Response } else { Direction::Request };
        let Some(doc) = schema_doc(v, table[idx].name, dir) else {
            return Ok(());
        };
        let payload = PayloadGen::generate(doc, &tape, false);
        let set = schemas();
        prop_assert_eq!(
            set.is_valid(v, idx, dir, &payload),
            Some(true),
            "{} {:?} {}: {:?}",
            v,
            dir,
            table[idx].name,
            set.violations(v, idx, dir, &payload, 4)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (b) The trace reader
// ---------------------------------------------------------------------------------------------

/// RFC 3339 timestamps as traces write them (and as they may: offsets, lower case, long
/// fractions, a leap second).
fn ts_text() -> BoxedStrategy<String> {
    (
        1970u32..2100,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..=60,
        prop_oneof![Just(String::new()), "\\.[0-9]{1,9}"],
        prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            "[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]"
        ],
        any::<bool>(),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone, lower_t)| {
            let t = if lower_t { 't' } else { 'T' };
            format!("{y:04}-{mo:02}-{d:02}{t}{h:02}:{mi:02}:{s:02}{frac}{zone}")
        })
        .boxed()
}

/// Connection names as JSON strings, some spelt with escapes.
const CONN_JSON: &[&str] = &[
    r#""CP-\uffff""#,
    "\"CP-\u{fffe}\"",
    r#""CP-001""#,
    r#""CP\u002d001""#,
    r#""CP-002""#,
    r#""\u202eCP\u200f""#,
    "\"\u{202e}CP\u{200f}\"",
    r#""🚗""#,
    r#""\ud83d\ude97""#,
    r#""a\u0000b""#,
    r#""EVSE/201 x""#,
];

/// What a generated line must be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Open,
    Close,
    Frame,
    Binary,
    Gap,
    Other,
    Bad,
    /// Arbitrary bytes: no expectation beyond consistency.
    Unknown,
}

/// Members of a good record, as `"key":value` JSON text, and what it is.
fn good_members() -> BoxedStrategy<(Vec<(String, String)>, Expect)> {
    let common = (ts_text(), select(CONN_JSON));
    let kind = prop_oneof![
        2 => (subprotocol(), security()).prop_map(|(s, security)| {
            let mut m = vec![("event".to_owned(), quote("open"))];
            if let Some(s) = s {
                m.push(("subprotocol".into(), quote(&s)));
            }
            let keys = ["scheme", "tls_version", "client_cert_subject", "basic_auth_user"];
            for (k, fact) in keys.iter().zip(security) {
                if let Some(f) = fact {
                    m.push(((*k).to_owned(), quote(&f)));
                }
            }
            (m, Expect::Open)
        }),
        1 => (any::<Option<u16>>(), prop::option::of(side())).prop_map(|(code, by)| {
            let mut m = vec![("event".to_owned(), quote("close"))];
            if let Some(c) = code {
                m.push(("code".into(), c.to_string()));
            }
            if let Some(b) = by {
                m.push(("by".into(), quote(b.as_str())));
            }
            (m, Expect::Close)
        }),
        6 => (side(), any_frame_text()).prop_map(|(from, text)| {
            (
                vec![("from".to_owned(), quote(from.as_str())), ("text".into(), quote(&text))],
                Expect::Frame,
            )
        }),
        1 => (side(), any::<u32>()).prop_map(|(from, len)| {
            (
                vec![("from".to_owned(), quote(from.as_str())), ("binary_len".into(), len.to_string())],
                Expect::Binary,
            )
        }),
        1 => (0u64..1000).prop_map(|n| {
            (
                vec![
                    ("event".to_owned(), quote("gap")),
                    ("reason".to_owned(), quote("recorder lagged")),
                    ("frames".to_owned(), n.to_string()),
                ],
                Expect::Gap,
            )
        }),
        1 => select(&["ping", "tls", "OPEN", ""])
            .prop_map(|e| (vec![("event".to_owned(), quote(e))], Expect::Other)),
    ];
    let extras = prop::collection::vec(
        (
            select(&["tls", "meta", "seq", "x-vendor", "remote", "note"]),
            json_value(),
        ),
        0..3,
    );
    (common, kind, extras)
        .prop_map(|((ts, conn), (mut members, expect), extras)| {
            members.push(("ts".into(), quote(&ts)));
            members.push(("conn".into(), conn.to_owned()));
            let mut seen = HashSet::new();
            for (k, v) in extras {
                if seen.insert(k) {
                    members.push((k.to_owned(), v.to_string()));
                }
            }
            (members, expect)
        })
        .prop_shuffle_members()
        .boxed()
}

/// Shuffling the members of a record (the format does not fix their order).
trait ShuffleMembers {
    fn prop_shuffle_members(self) -> BoxedStrategy<(Vec<(String, String)>, Expect)>;
}

impl<S> ShuffleMembers for S
where
    S: Strategy<Value = (Vec<(String, String)>, Expect)> + 'static,
{
    fn prop_shuffle_members(self) -> BoxedStrategy<(Vec<(String, String)>, Expect)> {
        self.prop_flat_map(|(members, expect)| (Just(members).prop_shuffle(), Just(expect)))
            .boxed()
    }
}

fn render(members: &[(String, String)], spaced: bool) -> String {
    let sep = if spaced { ", " } else { "," };
    let colon = if spaced { " : " } else { ":" };
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}{colon}{v}", quote(k)))
        .collect();
    format!("{{{}}}", body.join(sep))
}

/// A record line that must parse.
fn good_line() -> BoxedStrategy<(Vec<u8>, Expect)> {
    (good_members(), prop::bool::weighted(0.2))
        .prop_map(|((members, expect), spaced)| (render(&members, spaced).into_bytes(), expect))
        .boxed()
}

/// Ways to break a good record so that it is certainly not one.
fn bad_line() -> BoxedStrategy<(Vec<u8>, Expect)> {
    (good_members(), 0u8..23, any::<Index>())
        .prop_map(|((mut members, _), how, at)| {
            let set = |members: &mut Vec<(String, String)>, key: &str, value: &str| {
                members.retain(|(k, _)| k != key);
                members.push((key.to_owned(), value.to_owned()));
            };
            // A gap record may leave out `conn` (it then concerns every connection):
            // take another fault for it.
            let how = if matches!(how, 1 | 2)
                && members
                    .iter()
                    .any(|(k, v)| k == "event" && *v == quote("gap"))
            {
                0
            } else {
                how
            };
            let line = match how {
                0 => {
                    members.retain(|(k, _)| k != "ts");
                    render(&members, false).into_bytes()
                }
                1 => {
                    members.retain(|(k, _)| k != "conn");
                    render(&members, false).into_bytes()
                }
                2 => {
                    set(&mut members, "conn", r#""""#);
                    render(&members, false).into_bytes()
                }
                3 => {
                    set(&mut members, "ts", r#""2026-11-22 10:15:03Z""#);
                    render(&members, false).into_bytes()
                }
                4 => {
                    set(&mut members, "ts", "1795000000");
                    render(&members, false).into_bytes()
                }
                5 => {
                    set(&mut members, "conn", "1");
                    render(&members, false).into_bytes()
                }
                6 => {
                    set(&mut members, "conn", r#""\ud800""#);
                    render(&members, false).into_bytes()
                }
                7 => {
                    // Not UTF-8: a byte that never starts a character, inside a string.
                    let mut s = render(&members, false).into_bytes();
                    let pos = s.iter().position(|&b| b == b':').map_or(1, |p| p + 2);
                    s.insert(pos.min(s.len()), 0xFF);
                    s
                }
                8 => {
                    // Not UTF-8: an overlong NUL or an encoded surrogate.
                    let mut s = render(&members, false).into_bytes();
                    let bytes: &[u8] = if at.index(2) == 0 {
                        &[0xC0, 0x80]
                    } else {
                        &[0xED, 0xA0, 0x80]
                    };
                    let pos = s.len() - 1;
                    s.splice(pos..pos, bytes.iter().copied());
                    s
                }
                9 => {
                    let mut s = b"\xEF\xBB\xBF".to_vec();
                    s.extend(render(&members, false).into_bytes());
                    s
                }
                10 => {
                    // Truncated somewhere after the opening brace.
                    let s = render(&members, false).into_bytes();
                    let cut = 1 + at.index(s.len() - 1);
                    s[..cut].to_vec()
                }
                11 => format!("{}x", render(&members, false)).into_bytes(),
                12 => format!("[{}]", render(&members, false)).into_bytes(),
                13 => {
                    let ts = members.iter().find(|(k, _)| k == "ts").cloned();
                    if let Some(ts) = ts {
                        members.push(ts);
                    }
                    render(&members, false).into_bytes()
                }
                14 => {
                    members.retain(|(k, _)| {
                        k != "event" && k != "subprotocol" && k != "code" && k != "by"
                    });
                    set(&mut members, "from", r#""server""#);
                    render(&members, false).into_bytes()
                }
                15 => {
                    set(&mut members, "event", quote("close").as_str());
                    set(&mut members, "code", select_code(&at));
                    render(&members, false).into_bytes()
                }
                16 => {
                    members.retain(|(k, _)| k != "event" && k != "text" && k != "binary_len");
                    set(&mut members, "from", r#""charger""#);
                    render(&members, false).into_bytes()
                }
                17 => {
                    members.retain(|(k, _)| k != "event");
                    set(&mut members, "from", r#""csms""#);
                    set(&mut members, "text", "5");
                    render(&members, false).into_bytes()
                }
                18 => {
                    // A raw control character inside a string.
                    let s = render(&members, false);
                    s.replacen("\":\"", "\":\"\u{1}", 1).into_bytes()
                }
                19 => {
                    let mut s = render(&members, false).into_bytes();
                    s.insert(0, 0);
                    s
                }
                20 => {
                    members.retain(|(k, _)| k != "event" && k != "from");
                    render(&members, false).into_bytes()
                }
                21 => {
                    set(&mut members, "event", "[]");
                    render(&members, false).into_bytes()
                }
                _ => {
                    let key = [
                        "scheme",
                        "tls_version",
                        "client_cert_subject",
                        "basic_auth_user",
                    ][at.index(4)];
                    set(&mut members, key, "5");
                    render(&members, false).into_bytes()
                }
            };
            (line, Expect::Bad)
        })
        .boxed()
}

fn select_code(at: &Index) -> &'static str {
    ["70000", "-1", "\"1000\"", "1e400", "1.5", "true"][at.index(6)]
}

/// Arbitrary bytes for a line (no `\n`; trailing `\r` are line terminator, so none either).
fn arbitrary_line() -> BoxedStrategy<(Vec<u8>, Expect)> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..80),
        "[ -~]{1,60}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
    ]
    .prop_map(|mut b| {
        b.retain(|&c| c != b'\n');
        while b.last() == Some(&b'\r') {
            b.pop();
        }
        (b, Expect::Unknown)
    })
    .boxed()
}

fn any_line() -> BoxedStrategy<(Vec<u8>, Expect)> {
    prop_oneof![6 => good_line(), 3 => bad_line(), 1 => arbitrary_line()].boxed()
}

/// A trace file: lines with `\n` or `\r\n`, blank lines between, maybe no final newline.
#[derive(Debug, Clone)]
struct TraceFile {
    bytes: Vec<u8>,
    /// (line number, content) of every line the reader must return.
    lines: Vec<(u64, Vec<u8>, Expect)>,
}

fn trace_file(max_lines: usize) -> BoxedStrategy<TraceFile> {
    prop::collection::vec(
        (
            any_line(),
            prop::bool::weighted(0.3),
            select(&["", " ", "\t", "\r", "  \t "]),
            prop::bool::weighted(0.15),
        ),
        0..max_lines,
    )
    .prop_flat_map(|lines| (Just(lines), any::<bool>()))
    .prop_map(|(lines, final_newline)| {
        let mut bytes = Vec::new();
        let mut out = Vec::new();
        let mut n = 0u64;
        let count = lines.len();
        for (i, ((content, expect), crlf, blank, blank_before)) in lines.into_iter().enumerate() {
            if blank_before {
                n += 1;
                bytes.extend_from_slice(blank.as_bytes());
                bytes.push(b'\n');
            }
            n += 1;
            bytes.extend_from_slice(&content);
            if i + 1 < count || final_newline {
                bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
            if !content.iter().all(u8::is_ascii_whitespace) {
                out.push((n, content, expect));
            }
        }
        TraceFile { bytes, lines: out }
    })
    .boxed()
}

/// A finding as compared between runs: line, rule id, message.
type Judged = (u64, &'static str, String);

/// What a check must produce, computed line by line from the generated lines (not with the
/// line reader): the findings (line, rule, message) and the input errors.
/// Whether the file ends in a line with no line end whose JSON is cut short.
fn torn_last_line(file: &TraceFile) -> bool {
    if file.bytes.ends_with(b"\n") {
        return false;
    }
    file.lines.last().is_some_and(|(n, content, _)| {
        parse_record(content, *n).is_err()
            && serde_json::from_slice::<serde::de::IgnoredAny>(content).is_err_and(|e| e.is_eof())
    })
}

fn reference_check(
    file: &TraceFile,
    default: Option<Version>,
) -> (Vec<Judged>, Vec<InputError>, u64) {
    let mut engine = Engine::new(schemas(), Arc::new(Config::default()), default);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut end: Option<Timestamp> = None;
    for (n, content, _) in &file.lines {
        match parse_record(content, *n) {
            Ok(record) => {
                end = end.max(Some(record.at));
                if let Some(event) = record.event(*n)
                    && let Err(e) = engine.feed(&event, &mut findings)
                {
                    errors.push(InputError {
                        line: *n,
                        message: e.to_string(),
                    });
                }
            }
            Err(e) => errors.push(InputError {
                line: e.line,
                message: e.message,
            }),
        }
    }
    // At the end of the trace the time-based rules settle what is still open; findings
    // about earlier frames carry those frames' lines.
    if let Some(end) = end {
        engine.finish(end, &mut findings);
    }
    findings.sort_by_key(|f| f.line);
    let findings = findings
        .into_iter()
        .map(|f| (f.line, f.rule.id, f.message))
        .collect();
    (findings, errors, engine.stats().frames)
}

fn summary(r: &FileResult) -> (Vec<Judged>, &[InputError]) {
    (
        r.findings
            .iter()
            .map(|f| (f.line, f.rule.id, f.message.clone()))
            .collect(),
        &r.input_errors,
    )
}

proptest! {
    #![proptest_config(config(1500))]

    /// Any bytes: no panic; an error names the line it was given; a record's event carries
    /// its line and connection.
    #[test]
    fn parse_record_never_panics(
        (line, _) in prop_oneof![arbitrary_line(), any_line()],
        n in 1u64..u64::MAX,
    ) {
        match parse_record(&line, n) {
            Ok(record) => {
                prop_assert!(std::str::from_utf8(&line).is_ok());
                // Only a gap record may leave out `conn` (every connection).
                let gap = matches!(record.kind, Some(RecordKind::Gap { .. }));
                prop_assert!(!record.conn.is_empty() || gap, "an empty conn outside a gap");
                if let Some(event) = record.event(n) {
                    prop_assert_eq!(event.line, n);
                    prop_assert_eq!(event.conn, &*record.conn);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.line, n);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    /// Structured lines are read as what they were built to be; `quick_conn` agrees with the
    /// parser or declines.
    #[test]
    fn records_are_read_as_built((line, expect) in prop_oneof![good_line(), bad_line()]) {
        let got = parse_record(&line, 3);
        let kind = match &got {
            Ok(r) => match r.kind {
                Some(RecordKind::Open { .. }) => Expect::Open,
                Some(RecordKind::Close { .. }) => Expect::Close,
                Some(RecordKind::Frame { .. }) => Expect::Frame,
                Some(RecordKind::Binary { .. }) => Expect::Binary,
                Some(RecordKind::Gap { .. }) => Expect::Gap,
                None => Expect::Other,
            },
            Err(e) => {
                prop_assert_eq!(e.line, 3);
                Expect::Bad
            }
        };
        prop_assert_eq!(
            kind,
            expect,
            "{}: {:?}",
            String::from_utf8_lossy(&line),
            got.as_ref().err()
        );
        if let (Ok(r), Some(q)) = (&got, quick_conn(&line)) {
            prop_assert_eq!(q, r.conn.as_bytes(), "{}", String::from_utf8_lossy(&line));
        }
    }

    /// The line reader numbers every line, skips blank ones, strips `\n`, `\r\n`.
    #[test]
    fn line_reader_keeps_line_numbers(file in trace_file(12)) {
        let mut reader = LineReader::new(Cursor::new(&file.bytes));
        let mut got = Vec::new();
        while let Some((n, line)) = reader.next_line().expect("reading memory") {
            got.push((n, line.to_vec()));
        }
        let want: Vec<(u64, Vec<u8>)> = file.lines.iter().map(|(n, l, _)| (*n, l.clone())).collect();
        prop_assert_eq!(got, want);
    }

    /// Timestamps: any string is an answer, not a panic; a valid one prints back as itself
    /// (to the millisecond).
    #[test]
    fn timestamps_parse_or_fail_cleanly(s in prop_oneof![any::<String>(), ts_text(), "[0-9T:.Zz+-]{18,32}"]) {
        if let Ok(t) = Timestamp::parse_rfc3339(&s) {
            let printed = t.to_rfc3339_millis();
            let again = Timestamp::parse_rfc3339(&printed).expect("printed timestamps parse");
            prop_assert_eq!(again.micros(), t.micros() - t.micros().rem_euclid(1000));
        }
    }
}

proptest! {
    #![proptest_config(config(120))]

    /// Whole files through `check_reader`: every bad line is an input error naming its line,
    /// and every other line is still checked: the findings and errors equal a line-by-line
    /// reference run (nothing read is lost, nothing is invented).
    #[test]
    fn check_reader_reports_bad_lines_and_checks_the_rest(
        file in trace_file(24),
        default in prop::option::of(version()),
    ) {
        // A torn last line (no line end, JSON cut short) is read as a gap record, not an
        // input error: that contract has its own tests (tests/import.rs, source::input);
        // the line-by-line reference here does not model it.
        prop_assume!(!torn_last_line(&file));
        let result = check_reader(Cursor::new(file.bytes.clone()), &check_options(default), 1);
        let (want_findings, want_errors, want_frames) = reference_check(&file, default);
        let (findings, errors) = summary(&result);
        prop_assert_eq!(errors, &want_errors[..]);
        prop_assert_eq!(findings, want_findings);
        prop_assert_eq!(result.stats.frames, want_frames);
        for (n, line, expect) in &file.lines {
            let is_error = result.input_errors.iter().any(|e| e.line == *n);
            match expect {
                Expect::Bad => prop_assert!(is_error, "bad line {} not reported: {}", n, String::from_utf8_lossy(line)),
                Expect::Unknown => prop_assert_eq!(is_error || parse_record(line, *n).is_ok(), true),
                _ => {}
            }
        }
        for f in &result.findings {
            assert_registered(f, None);
        }
        assert_reports_render(result);
    }
}

/// The JUnit report passes U+FFFE and U+FFFF through (not XML characters); tolerated by the
/// properties until fixed, see `junit_report_is_xml_even_with_noncharacters`.
const TOLERATE_JUNIT_NONCHARACTERS: bool = false;

/// The text report prints identities, ids, actions and messages raw, so control characters
/// from a trace (NUL, ESC sequences) reach the terminal; tolerated until fixed, see
/// `odd_unicode_text_report_has_no_raw_control_characters` in tests/bad_input.rs.
const TOLERATE_RAW_CONTROLS_IN_TEXT_REPORT: bool = false;

/// XML 1.0 `Char`: what a JUnit report may contain.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The three reports render whatever the checker found: JSON parses back to the same
/// counts, JUnit holds only XML characters, text does not fail.
fn assert_reports_render(mut result: FileResult) {
    result.path = PathBuf::from("trace \u{202e}<&>\".jsonl");
    let results = [result];
    let info = RunInfo {
        schemas: "built-in".into(),
        fail_on: Severity::Warning,
    };
    let mut json_out = Vec::new();
    json::write(&mut json_out, &results, &info).expect("json report");
    let doc: Value = serde_json::from_slice(&json_out).expect("the JSON report is JSON");
    assert_eq!(doc["summary"]["frames"], results[0].stats.frames);
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(results[0].findings.len())
    );
    for (f, j) in results[0]
        .findings
        .iter()
        .zip(doc["findings"].as_array().into_iter().flatten())
    {
        assert_eq!(j["conn"], &*f.conn);
        assert_eq!(j["message"], f.message);
    }
    let mut junit_out = Vec::new();
    junit::write(&mut junit_out, &results, &info).expect("junit report");
    let xml = String::from_utf8(junit_out).expect("the JUnit report is UTF-8");
    let tolerated = |c: char| TOLERATE_JUNIT_NONCHARACTERS && matches!(c, '\u{fffe}' | '\u{ffff}');
    if let Some(c) = xml.chars().find(|c| !is_xml_char(*c) && !tolerated(*c)) {
        panic!(
            "U+{:04X} is not an XML character, in the JUnit report",
            c as u32
        );
    }
    let mut text_out = Vec::new();
    text::write(&mut text_out, &results, &info, text::Style { color: false }).expect("text report");
    let text = String::from_utf8(text_out).expect("the text report is UTF-8");
    if !TOLERATE_RAW_CONTROLS_IN_TEXT_REPORT
        && let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n')
    {
        panic!(
            "raw U+{:04X} in the text report:\n{}",
            c as u32,
            text.escape_debug()
        );
    }
}

proptest! {
    #![proptest_config(config(40))]

    /// The checker splits a file by connection over worker engines; the verdict must be the
    /// one of a single engine.
    #[test]
    fn sharded_check_matches_single_threaded(
        file in trace_file(40),
        default in prop::option::of(version()),
    ) {
        let opts = check_options(default);
        let one = check_reader(Cursor::new(file.bytes.clone()), &opts, 1);
        let three = check_reader(Cursor::new(file.bytes.clone()), &opts, 3);
        prop_assert_eq!(summary(&one), summary(&three));
        prop_assert_eq!(one.stats, three.stats);
    }
}

// ---------------------------------------------------------------------------------------------
// Known bugs, kept as regression tests
// ---------------------------------------------------------------------------------------------

/// `quick_conn` takes the first `"conn":"` in the line, even inside an unknown member, so a
/// record that carries e.g. `"meta":{"conn":"X"}` is sent to the shard of `X` while the
/// connection's other records go to the shard of its real `conn`: its state is split and the
/// sharded verdict differs from the single-threaded one.
#[test]
fn nested_conn_member_keeps_its_connection_on_one_shard() {
    let line = br#"{"ts":"2026-11-22T10:15:03Z","meta":{"conn":"X"},"conn":"A","event":"open","subprotocol":"ocpp1.6"}"#;
    let record = parse_record(line, 1).expect("a good record");
    assert_eq!(
        quick_conn(line).map_or(&b"A"[..], |c| c),
        record.conn.as_bytes()
    );

    let path = corpus_dir().join("traces/good-nested-conn-member.jsonl");
    let bytes = std::fs::read(&path).expect("corpus file");
    let opts = check_options(None);
    let one = check_reader(Cursor::new(bytes.clone()), &opts, 1);
    for shards in 2..=8 {
        let many = check_reader(Cursor::new(bytes.clone()), &opts, shards);
        assert_eq!(summary(&one), summary(&many), "{shards} shards");
    }
}

/// U+FFFE and U+FFFF are Unicode noncharacters, valid in JSON and in Rust strings but not XML
/// 1.0 `Char`s: the JUnit writer must replace them like the control characters it already
/// replaces, or CI servers with a strict XML parser reject the whole report.
#[test]
fn junit_report_is_xml_even_with_noncharacters() {
    let path = corpus_dir().join("traces/good-noncharacters-in-conn-and-action.jsonl");
    let bytes = std::fs::read(&path).expect("corpus file");
    let result = check_reader(Cursor::new(bytes), &check_options(None), 1);
    assert!(!result.findings.is_empty());
    let info = RunInfo {
        schemas: "built-in".into(),
        fail_on: Severity::Error,
    };
    let mut out = Vec::new();
    junit::write(&mut out, &[result], &info).expect("junit report");
    let xml = String::from_utf8(out).expect("UTF-8");
    let bad: Vec<String> = xml
        .chars()
        .filter(|c| !is_xml_char(*c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(
        bad.is_empty(),
        "not XML characters in the JUnit report: {bad:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

fn corpus_files(sub: &str, ext: &str) -> Vec<PathBuf> {
    let dir = corpus_dir().join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// What a corpus file name promises: `good-` / `bad-` for every version, or
/// `good16-`, `bad201-`, `bad21-`... for one version only. `None`: no promise (only "no panic").
fn promise(name: &str) -> Option<(bool, Option<Version>)> {
    let (bad, rest) = if let Some(r) = name.strip_prefix("bad") {
        (true, r)
    } else if let Some(r) = name.strip_prefix("good") {
        (false, r)
    } else {
        return None;
    };
    for (tag, v) in [
        ("16-", Version::V16),
        ("201-", Version::V201),
        ("21-", Version::V21),
    ] {
        if rest.starts_with(tag) {
            return Some((bad, Some(v)));
        }
    }
    rest.starts_with('-').then_some((bad, None))
}

/// A BootNotification accepted: the start of every replayed frame's connection.
fn boot_preamble(v: Version) -> [(Side, &'static str); 2] {
    let call = match v {
        Version::V16 => {
            r#"[2,"boot-1","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"X1"}]"#
        }
        _ => {
            r#"[2,"boot-1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M2","vendorName":"VendorY"}}]"#
        }
    };
    let result = r#"[3,"boot-1",{"status":"Accepted","currentTime":"2026-11-18T11:06:40.000Z","interval":300}]"#;
    [(Side::Charger, call), (Side::Csms, result)]
}

/// Corpus files that once made `src` panic, with the bug (fixed). `corpus_replays_without_panic`
/// skips them and `known_crashes_no_longer_panic` replays them as regression tests.
const KNOWN_CRASHES: &[(&str, &str)] = &[
    (
        "crash-reopen-as-16-then-duplicate-answer.jsonl",
        "session.rs unmatched_response indexes the new version's catalogue with an action index remembered under the old version",
    ),
    (
        "crash-reopen-as-201-then-duplicate-answer.jsonl",
        "the same, 2.1 → 2.0.1",
    ),
];

/// Replays one frame file: fed by the charger (by the CSMS when the name says `from-csms`)
/// on a booted connection of each version, then from the other side and without version.
fn replay_frame_file(path: &Path) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    let bytes = std::fs::read(path).expect("corpus file");
    let text = std::str::from_utf8(&bytes).unwrap_or_else(|e| {
        panic!("{name}: frame files hold UTF-8 text (a frame's text always is): {e}")
    });
    let from = if name.contains("from-csms") {
        Side::Csms
    } else {
        Side::Charger
    };
    let promise = promise(name);
    for v in Version::ALL {
        // A booted connection, so that the frame is judged on its own merits.
        let mut h = Harness::new(None);
        let found = h.feed(
            0,
            EventKind::Open(Handshake {
                subprotocol: Some(v.subprotocol()),
                ..Handshake::default()
            }),
        );
        assert!(found.is_empty(), "preamble: {found:?}");
        for (side, frame) in boot_preamble(v) {
            let found = h.frame(0, side, frame);
            assert!(found.is_empty(), "preamble on {v}: {found:?}");
        }
        let found: Vec<Finding> = h
            .frame(0, from, text)
            .into_iter()
            .filter(|f| f.line == h.line)
            .collect();
        let ids: Vec<&str> = found.iter().map(|f| f.rule.id).collect();
        match promise {
            Some((true, only)) if only.is_none_or(|o| o == v) => {
                assert!(!found.is_empty(), "{name}: no finding on {v}");
            }
            Some((false, only)) if only.is_none_or(|o| o == v) => {
                assert!(found.is_empty(), "{name}: findings on {v}: {ids:?}");
            }
            _ => {}
        }
        h.finish();
        // The other side, and a connection without version (framing only): no panic.
        let mut h = Harness::new(Some(v));
        h.frame(1, from.other(), text);
        h.finish();
    }
    let mut h = Harness::new(None);
    h.frame(2, from, text);
    h.finish();
}

/// Replays one trace file through the checker: input errors exactly when the name says
/// `bad-`; then sharded and with every `--ocpp` version, for panics only.
fn replay_trace_file(path: &Path) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    let bytes = std::fs::read(path).expect("corpus file");
    let result = check_reader(Cursor::new(bytes.clone()), &check_options(None), 1);
    for f in &result.findings {
        assert_registered(f, None);
    }
    match promise(name) {
        Some((true, _)) => assert!(!result.input_errors.is_empty(), "{name}: no input error"),
        _ => assert!(
            result.input_errors.is_empty(),
            "{name}: input errors {:?}",
            result.input_errors
        ),
    }
    for e in &result.input_errors {
        assert!(e.line >= 1, "{name}: input error without line: {e:?}");
    }
    check_reader(Cursor::new(bytes.clone()), &check_options(None), 2);
    for v in Version::ALL {
        check_reader(Cursor::new(bytes.clone()), &check_options(Some(v)), 1);
    }
}

/// Runs `replay` on every file, reporting all that fail (not just the first).
/// Every importer (capture, Open OCPP Trace, log with each preset) reads the file to the
/// end without a panic, whatever it holds; what it hands out are trace records or
/// problems naming a position.
fn replay_importers(path: &Path) {
    use ocpp_inspector::source::input::{InputFormat, InputOptions, Item, open_reader};
    let bytes = std::fs::read(path).expect("corpus file");
    let mut formats = vec![
        None,
        Some(InputFormat::Pcap),
        Some(InputFormat::Oot),
        Some(InputFormat::Log(None)),
    ];
    formats.extend(
        ocpp_inspector::source::log::preset_names()
            .into_iter()
            .map(|p| Some(InputFormat::Log(Some(p.to_owned())))),
    );
    for format in formats {
        let opts = InputOptions {
            format,
            ..InputOptions::default()
        };
        let mut src = open_reader(Box::new(Cursor::new(bytes.clone())), &opts).expect("in memory");
        let mut items = 0usize;
        while let Some(item) = src.next_item() {
            items += 1;
            assert!(items < 10_000_000, "the reading ends");
            if let Item::Line { pos, text } = item
                && opts.format != Some(InputFormat::Jsonl)
                && opts.format.is_some()
            {
                assert!(
                    parse_record(text, pos).is_ok(),
                    "an importer wrote a record the reader refuses"
                );
            }
        }
    }
}

fn replay_all(files: &[PathBuf], replay: fn(&Path)) -> Vec<String> {
    files
        .iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !KNOWN_CRASHES.iter().any(|(k, _)| *k == name)
        })
        .filter(|p| std::panic::catch_unwind(|| replay(p)).is_err())
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn corpus_replays_without_panic() {
    let frames = corpus_files("frames", "txt");
    let traces = corpus_files("traces", "jsonl");
    assert!(
        frames.len() >= 100,
        "frame corpus missing? {} files",
        frames.len()
    );
    assert!(
        traces.len() >= 40,
        "trace corpus missing? {} files",
        traces.len()
    );
    let mut failed = replay_all(&frames, replay_frame_file);
    failed.extend(replay_all(&traces, replay_trace_file));
    failed.extend(replay_all(&traces, replay_importers));
    failed.extend(replay_all(&frames, replay_importers));
    assert!(failed.is_empty(), "corpus files failing: {failed:#?}");
}

#[test]
fn known_crashes_no_longer_panic() {
    for (name, bug) in KNOWN_CRASHES {
        let path = corpus_dir().join("traces").join(name);
        let result = std::panic::catch_unwind(|| replay_trace_file(&path));
        assert!(result.is_ok(), "{name} still fails: {bug}");
    }
}
