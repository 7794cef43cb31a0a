//! A payload corpus generated from one OCPP JSON schema: a valid minimal payload (required
//! members only), a valid maximal one (every property), and mutations of the maximal one at
//! every member path.
//!
//! The walker knows the keywords the OCPP schemas use (`type` as a single name, `properties`,
//! `required`, `additionalProperties`, `items`, `minItems`, `maxItems`, `enum`, `maxLength`,
//! `minimum`, `maximum`, `multipleOf`, `format` date-time and uri, local `$ref`) and fails
//! loudly on a schema node it cannot generate for.
//!
//! - A `$ref`'d definition is mutated inside at its first use only; later uses get the
//!   member-level mutations (dropped if required, wrong type). The validator checks the same
//!   schema node wherever it is used, and this keeps 2.x corpora (a `customData` in every
//!   object) small.
//! - Arrays at and over `maxItems` repeat a *minimal* item: with a maximal one, 2.1 charging
//!   schedules become payloads of several hundred kilobytes.
//! - Most mutations carry the verdict a correct validator must give (`Payload::expect`), so
//!   the corpus also checks the validator itself, not only that two schema sets agree.
//! - Numbers are parsed from JSON text. Without serde_json's `arbitrary_precision`, `1.53E1`,
//!   `15.30` and `15.3` become the same `Value` (and are then one payload of the corpus).

use std::collections::HashSet;

use serde_json::{Map, Number, Value};

/// A valid date-time as generated into payloads.
pub const DATE_TIME: &str = "2026-11-22T10:15:03.125Z";

/// One payload of the corpus.
#[derive(Debug, Clone)]
pub struct Payload {
    pub value: Value,
    /// JSON pointer of the mutated member (`""` is the payload itself); `None` for the
    /// generated valid payloads.
    pub path: Option<String>,
    /// What was done, for failure messages.
    pub label: String,
    /// The verdict a correct validator gives, judged by the schema the payload was generated
    /// from, where the mutation alone decides it.
    pub expect: Option<bool>,
}

/// The corpus of one schema document.
#[derive(Debug)]
pub struct Corpus {
    pub minimal: Value,
    pub maximal: Value,
    pub mutations: Vec<Payload>,
}

impl Corpus {
    /// Minimal, maximal, then the mutations.
    pub fn payloads(&self) -> impl Iterator<Item = Payload> + '_ {
        [
            Payload {
                value: self.minimal.clone(),
                path: None,
                label: "valid minimal payload".into(),
                expect: Some(true),
            },
            Payload {
                value: self.maximal.clone(),
                path: None,
                label: "valid maximal payload".into(),
                expect: Some(true),
            },
        ]
        .into_iter()
        .chain(self.mutations.iter().cloned())
    }
}

/// Parses JSON text that the test writes itself (numbers as sent, not as `f64` arithmetic).
fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad JSON number {text}: {e}"))
}

fn f64_value(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A string of `len` characters, cycling through the alphabet.
fn text(len: usize) -> String {
    (b'a'..=b'z').cycle().take(len).map(char::from).collect()
}

struct Gen<'a> {
    root: &'a Value,
    /// Schema name, for panics.
    name: &'a str,
}

/// Keyword facts of one (resolved) schema node.
struct Node<'a> {
    schema: &'a Map<String, Value>,
    /// The `#/definitions/X` name it was reached through, if any.
    definition: Option<&'a str>,
}

impl<'a> Node<'a> {
    fn ty(&self) -> Option<&'a str> {
        self.schema.get("type").and_then(Value::as_str)
    }
    fn usize(&self, key: &str) -> Option<usize> {
        self.schema
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    }
    fn f64(&self, key: &str) -> Option<f64> {
        self.schema.get(key).and_then(Value::as_f64)
    }
    fn enumeration(&self) -> Option<&'a Vec<Value>> {
        self.schema.get("enum").and_then(Value::as_array)
    }
    fn format(&self) -> Option<&'a str> {
        self.schema.get("format").and_then(Value::as_str)
    }
    fn properties(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
    }
    fn required(&self) -> Vec<&'a str> {
        self.schema
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
    fn items(&self) -> Option<&'a Value> {
        self.schema.get("items")
    }
    /// Whether an object node lets members it does not name through.
    fn open(&self) -> bool {
        self.schema.get("additionalProperties") != Some(&Value::Bool(false))
    }
}

impl<'a> Gen<'a> {
    /// Whether the document is draft-04 (where `1.0` is not an integer).
    fn draft04(&self) -> bool {
        self.root
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("draft-04"))
    }

    fn node(&self, schema: &'a Value) -> Node<'a> {
        let mut schema = schema;
        let mut definition = None;
        // Follow `$ref` chains (siblings of `$ref` are ignored in draft-04/06).
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let name = r.strip_prefix("#/definitions/").unwrap_or_else(|| {
                panic!(
                    "{}: only local #/definitions refs are supported: {r}",
                    self.name
                )
            });
            definition = Some(name);
            schema = self
                .root
                .get("definitions")
                .and_then(|d| d.get(name))
                .unwrap_or_else(|| panic!("{}: dangling $ref {r}", self.name));
        }
        let schema = schema
            .as_object()
            .unwrap_or_else(|| panic!("{}: schema node is not an object: {schema}", self.name));
        Node { schema, definition }
    }

    fn integer(&self, n: &Node<'_>) -> i64 {
        let mut v = 1.0_f64;
        if let Some(min) = n.f64("minimum") {
            v = v.max(min);
        }
        if let Some(max) = n.f64("maximum") {
            v = v.min(max);
        }
        // The bounds of the OCPP schemas are small whole numbers.
        #[allow(clippy::cast_possible_truncation, reason = "small whole bounds")]
        let v = v.ceil() as i64;
        v
    }

    fn number(&self, n: &Node<'_>) -> Value {
        if n.schema.contains_key("multipleOf") {
            // A multiple of 0.1 as a charger sends it.
            return num("15.3");
        }
        let mut v = 1.5_f64;
        if let Some(min) = n.f64("minimum") {
            v = v.max(min);
        }
        if let Some(max) = n.f64("maximum") {
            v = v.min(max);
        }
        f64_value(v)
    }

    fn string(&self, n: &Node<'_>) -> Value {
        if let Some(e) = n.enumeration() {
            return e
                .first()
                .cloned()
                .unwrap_or_else(|| panic!("{}: empty enum", self.name));
        }
        let max = n.usize("maxLength").unwrap_or(usize::MAX);
        let s = match n.format() {
            Some("date-time") => DATE_TIME.to_owned(),
            Some("uri") => "https://example.com/f".to_owned(),
            Some(other) => panic!("{}: no generator for format {other}", self.name),
            None => text(8.min(max)),
        };
        assert!(
            s.chars().count() <= max,
            "{}: generated `{s}` does not fit maxLength {max}",
            self.name
        );
        Value::String(s)
    }

    /// A valid instance of `schema`: required members only, or every property.
    fn generate(&self, schema: &'a Value, maximal: bool) -> Value {
        let n = self.node(schema);
        match n.ty() {
            Some("object") => {
                let required = n.required();
                let mut obj = Map::new();
                for (k, ps) in n.properties() {
                    if maximal || required.contains(&k.as_str()) {
                        obj.insert(k.clone(), self.generate(ps, maximal));
                    }
                }
                for r in &required {
                    assert!(
                        obj.contains_key(*r),
                        "{}: required member `{r}` has no property schema",
                        self.name
                    );
                }
                Value::Object(obj)
            }
            Some("array") => {
                let items = n
                    .items()
                    .unwrap_or_else(|| panic!("{}: array without items", self.name));
                let mut len = n.usize("minItems").unwrap_or(0).max(1);
                if let Some(max) = n.usize("maxItems") {
                    len = len.min(max);
                }
                Value::Array((0..len).map(|_| self.generate(items, maximal)).collect())
            }
            Some("string") => self.string(&n),
            Some("integer") => Value::from(self.integer(&n)),
            Some("number") => self.number(&n),
            Some("boolean") => Value::Bool(true),
            None if n.enumeration().is_some() => self.string(&n),
            // No constraint at all (2.x DataTransfer `data`): any value.
            None if is_any(&n) => Value::String("any data".into()),
            other => panic!(
                "{}: no generator for type {other:?} in {:?}",
                self.name, n.schema
            ),
        }
    }
}

/// Whether a node constrains nothing (only prose keys, if any).
fn is_any(n: &Node<'_>) -> bool {
    n.schema
        .keys()
        .all(|k| ["description", "comment", "javaType", "title", "$id", "id"].contains(&k.as_str()))
}

/// One mutation: where, the replacement (`None` removes the member), what it is, and the
/// verdict a correct validator must give, where the mutation alone decides it.
type Mutation = (String, Option<Value>, String, Option<bool>);

/// Collects mutations.
struct Mutator<'g, 'a> {
    g: &'g Gen<'a>,
    out: Vec<Mutation>,
    /// Definitions already mutated inside (at their first use).
    seen: HashSet<&'a str>,
}

const VALID: Option<bool> = Some(true);
const INVALID: Option<bool> = Some(false);

impl<'a> Mutator<'_, 'a> {
    fn push(
        &mut self,
        path: &str,
        v: Option<Value>,
        label: impl Into<String>,
        expect: Option<bool>,
    ) {
        self.out.push((path.to_owned(), v, label.into(), expect));
    }

    /// Mutations at `path`, whose value in the maximal payload is `value`, and below it.
    ///
    /// A `$ref`'d definition is mutated inside at its first use only (the validator checks
    /// the same schema node wherever it is used); later uses get the member-level mutations.
    fn walk(&mut self, path: &str, value: &Value, schema: &'a Value, required: bool) {
        let n = self.g.node(schema);
        if required {
            self.push(path, None, "dropped required member", INVALID);
        }
        if let Some(def) = n.definition
            && !self.seen.insert(def)
        {
            let wrong = match n.ty() {
                Some("object") => Value::Array(vec![]),
                Some("array") => Value::Object(Map::new()),
                Some("integer" | "number") => Value::String("1".into()),
                Some("boolean") => Value::String("true".into()),
                _ => Value::from(42),
            };
            let expect = if is_any(&n) { VALID } else { INVALID };
            self.push(path, Some(wrong), format!("wrong type for {def}"), expect);
            return;
        }
        match n.ty() {
            Some("object") => self.object(path, value, &n),
            Some("array") => self.array(path, value, &n),
            None if is_any(&n) => {
                for v in [
                    Value::Null,
                    Value::from(-7),
                    Value::Array(vec![Value::Bool(false)]),
                    serde_json::json!({"nested": {"deep": [1, "two", null]}}),
                ] {
                    self.push(path, Some(v), "any value in an unconstrained member", VALID);
                }
            }
            Some("string") | None => self.string(path, &n),
            Some("integer") => {
                let v = self.g.integer(&n);
                let draft04 = self.g.draft04();
                self.push(
                    path,
                    Some(Value::String(v.to_string())),
                    "integer → string",
                    INVALID,
                );
                self.push(
                    path,
                    Some(num(&format!("{v}.0"))),
                    if draft04 {
                        "integer written as x.0 (draft-04: not an integer)"
                    } else {
                        "integer written as x.0 (draft-06: an integer)"
                    },
                    Some(!draft04),
                );
                self.push(
                    path,
                    Some(num(&format!("{v}.5"))),
                    "fractional integer",
                    INVALID,
                );
                self.push(path, Some(Value::Bool(true)), "integer → boolean", INVALID);
                self.bounds(path, &n, true);
            }
            Some("number") => {
                self.push(
                    path,
                    Some(Value::String("1.5".into())),
                    "number → string",
                    INVALID,
                );
                self.push(path, Some(Value::Null), "number → null", INVALID);
                let in_bounds = |x: f64| {
                    n.f64("minimum").is_none_or(|m| x >= m)
                        && n.f64("maximum").is_none_or(|m| x <= m)
                };
                self.push(
                    path,
                    Some(num("32")),
                    "number written as an integer",
                    Some(in_bounds(32.0)),
                );
                if n.schema.contains_key("multipleOf") {
                    // Judged on the decimal digits as sent, not on binary floats.
                    for (t, ok) in [
                        ("15.3", true),
                        ("16.05", false),
                        ("1.53E1", true),
                        ("0.3", true),
                        ("1e-1", true),
                        ("15.30", true),
                        ("0.01", false),
                    ] {
                        self.push(path, Some(num(t)), format!("multipleOf edge {t}"), Some(ok));
                    }
                }
                self.bounds(path, &n, false);
            }
            Some("boolean") => {
                self.push(
                    path,
                    Some(Value::String("true".into())),
                    "boolean → string",
                    INVALID,
                );
                self.push(path, Some(Value::from(1)), "boolean → number", INVALID);
                self.push(path, Some(Value::Bool(false)), "boolean false", VALID);
            }
            Some(other) => panic!("{}: no mutations for type {other}", self.g.name),
        }
    }

    fn object(&mut self, path: &str, value: &Value, n: &Node<'a>) {
        self.push(path, Some(Value::Array(vec![])), "object → array", INVALID);
        self.push(
            path,
            Some(Value::String("x".into())),
            "object → string",
            INVALID,
        );
        let mut extra = value.clone();
        if let Some(o) = extra.as_object_mut() {
            o.insert("unexpectedMember".into(), Value::from(1));
        }
        if n.open() {
            let label = format!(
                "extra property in an open object ({})",
                n.definition.unwrap_or("inline")
            );
            self.push(path, Some(extra), label, VALID);
        } else {
            self.push(path, Some(extra), "extra property", INVALID);
        }
        let req = n.required();
        for (k, ps) in n.properties() {
            let child = value
                .get(k)
                .unwrap_or_else(|| panic!("{}: maximal payload lacks {k}", self.g.name));
            self.walk(&format!("{path}/{k}"), child, ps, req.contains(&k.as_str()));
        }
    }

    fn array(&mut self, path: &str, value: &Value, n: &Node<'a>) {
        self.push(
            path,
            Some(Value::Object(Map::new())),
            "array → object",
            INVALID,
        );
        let min = n.usize("minItems").unwrap_or(0);
        self.push(
            path,
            Some(Value::Array(vec![])),
            format!("empty array (minItems {min})"),
            Some(min == 0),
        );
        let first = value.get(0).cloned().unwrap_or(Value::Null);
        // Long arrays repeat a minimal item (a maximal one makes megabyte payloads).
        let small = n
            .items()
            .map_or(Value::Null, |items| self.g.generate(items, false));
        if let Some(max) = n.usize("maxItems") {
            self.push(
                path,
                Some(Value::Array(vec![small.clone(); max])),
                format!("array at maxItems {max}"),
                VALID,
            );
            self.push(
                path,
                Some(Value::Array(vec![small; max + 1])),
                format!("array over maxItems {max}"),
                INVALID,
            );
        } else {
            self.push(
                path,
                Some(Value::Array(vec![first.clone(), small])),
                "array of two items",
                VALID,
            );
        }
        if let Some(items) = n.items() {
            self.walk(&format!("{path}/0"), &first, items, false);
        }
    }

    fn string(&mut self, path: &str, n: &Node<'_>) {
        self.push(path, Some(Value::from(42)), "string → number", INVALID);
        self.push(
            path,
            Some(Value::Object(Map::new())),
            "string → object",
            INVALID,
        );
        if let Some(e) = n.enumeration() {
            self.push(
                path,
                Some(Value::String("NotAnEnumValue".into())),
                "unknown enum value",
                INVALID,
            );
            if let Some(Value::String(first)) = e.first() {
                let lower = Value::String(first.to_lowercase());
                let ok = e.contains(&lower);
                self.push(path, Some(lower), "enum value in lower case", Some(ok));
            }
            for v in e.iter().skip(1) {
                self.push(path, Some(v.clone()), format!("enum value {v}"), VALID);
            }
        }
        match n.format() {
            Some("date-time") => {
                for (t, label, ok) in [
                    ("2026-11-22T10:15:03", "date-time without offset", false),
                    ("2026-11-22 10:15:03Z", "date-time with a space", false),
                    ("2026-02-30T10:15:03Z", "date-time on 30 February", false),
                    (
                        "2026-11-22T10:15:03+01:00",
                        "date-time with +01:00 offset",
                        true,
                    ),
                    ("2026-11-22T10:15:03Z", "date-time without fraction", true),
                ] {
                    self.push(path, Some(Value::String(t.into())), label, Some(ok));
                }
            }
            Some("uri") => {
                for (t, label, ok) in [
                    ("not a uri", "uri without scheme", false),
                    ("ftp://192.0.2.1/diag/", "ftp uri", true),
                ] {
                    self.push(path, Some(Value::String(t.into())), label, Some(ok));
                }
            }
            _ => {}
        }
        if let Some(max) = n.usize("maxLength") {
            self.push(
                path,
                Some(Value::String(text(max))),
                format!("string at maxLength {max}"),
                VALID,
            );
            self.push(
                path,
                Some(Value::String(text(max + 1))),
                format!("string one over maxLength {max}"),
                INVALID,
            );
        }
        if n.enumeration().is_none() && n.format().is_none() {
            // No `minLength` anywhere in the OCPP schemas.
            self.push(
                path,
                Some(Value::String(String::new())),
                "empty string",
                VALID,
            );
        }
    }

    fn bounds(&mut self, path: &str, n: &Node<'_>, integer: bool) {
        for (key, delta) in [("minimum", -1.0), ("maximum", 1.0)] {
            if let Some(b) = n.f64(key) {
                let (at, past) = if integer {
                    #[allow(clippy::cast_possible_truncation, reason = "small whole bounds")]
                    let b = b as i64;
                    #[allow(clippy::cast_possible_truncation, reason = "small whole bounds")]
                    let d = delta as i64;
                    (Value::from(b), Value::from(b + d))
                } else {
                    (f64_value(b), f64_value(b + delta))
                };
                self.push(path, Some(at), format!("at {key}"), VALID);
                self.push(path, Some(past), format!("past {key}"), INVALID);
            }
        }
    }
}

/// Replaces (or removes, for `None`) the member at `pointer`.
fn set(doc: &mut Value, pointer: &str, v: Option<Value>) {
    if pointer.is_empty() {
        *doc = v.unwrap_or(Value::Null);
        return;
    }
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    match doc.pointer_mut(parent) {
        Some(Value::Object(o)) => match v {
            Some(v) => {
                o.insert(key.to_owned(), v);
            }
            None => {
                o.remove(key);
            }
        },
        Some(Value::Array(a)) => {
            let i: usize = key
                .parse()
                .unwrap_or_else(|_| panic!("bad index {pointer}"));
            match v {
                Some(v) => a[i] = v,
                None => {
                    a.remove(i);
                }
            }
        }
        _ => panic!("no container at {parent}"),
    }
}

/// The corpus of one schema document. `name` only serves messages.
pub fn corpus(doc: &Value, name: &str) -> Corpus {
    let g = Gen { root: doc, name };
    let minimal = g.generate(doc, false);
    let maximal = g.generate(doc, true);
    let mut m = Mutator {
        g: &g,
        out: Vec::new(),
        seen: HashSet::new(),
    };
    m.walk("", &maximal, doc, false);
    m.push("", Some(Value::Null), "null payload", INVALID);
    let mut mutations = Vec::with_capacity(m.out.len());
    for (path, v, label, expect) in m.out {
        let mut value = maximal.clone();
        set(&mut value, &path, v);
        mutations.push(Payload {
            value,
            path: Some(path),
            label,
            expect,
        });
    }
    Corpus {
        minimal,
        maximal,
        mutations,
    }
}

/// The payloads of several corpora, each distinct payload once (first occurrence wins).
/// Expectations are kept for the first corpus only: the others were generated from other
/// facts (the pristine ones, where an erratum changes them).
pub fn union(corpora: &[Corpus]) -> Vec<Payload> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, c) in corpora.iter().enumerate() {
        for mut p in c.payloads() {
            if seen.insert(p.value.to_string()) {
                if i > 0 {
                    p.expect = None;
                }
                out.push(p);
            }
        }
    }
    out
}
