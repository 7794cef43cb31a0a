//! The fast schema verdict (`engine::schema::fast`) against jsonschema's own `is_valid`.
//!
//! For every schema set (built-in with all errata, built-in with none, and the official folder
//! `../shared/ocpp-schemas` loaded as `--schemas` loads it, where present) the fast program's
//! verdict must equal `SchemaSet::is_valid` (jsonschema) on:
//!
//! - `every_builtin_schema_has_a_program`: (a fact, not a comparison) no built-in schema falls
//!   back to jsonschema, so the speed-up reaches every action;
//! - `traces_agree`: every frame payload of every trace in the repository (`tests/`,
//!   `testcases/`), the public traces in `../shared/realworld-raw/`, and a trace from the
//!   bench generator, each judged against its action's schema in every version that has it;
//! - `corpora_agree`: the schema oracle's generated corpus of every schema (valid minimal and
//!   maximal payloads, mutations at every member), from the pristine and the amended
//!   documents;
//! - `mutations_agree` (proptest): a corpus payload of a random schema with one random edit
//!   at a random place: a string one code point over or under its length (ASCII and
//!   multi-byte), a date-time of many shapes, numbers of every storage (huge `u64`, negative
//!   zero, floats, exponents), other kinds, a dropped member, an extra member, an emptied or
//!   grown array.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure here is a test failure"
)]

#[path = "schema_oracle/corpus.rs"]
#[allow(
    dead_code,
    reason = "shared with the schema oracle; not every item is used here"
)]
mod corpus;
#[path = "../benches/support/tracegen.rs"]
#[allow(
    dead_code,
    reason = "shared with the benches; not every item is used here"
)]
mod tracegen;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ocpp_inspector::engine::schema::{
    Direction, ERRATA, ErrataSelection, SchemaSet, Verdict, builtin_documents, split_name,
};
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::ocpp::action::lookup;
use proptest::prelude::*;
use serde_json::Value;

fn official_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/ocpp-schemas", "../../shared/ocpp-schemas"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.join("2.0.1").is_dir())
}

fn realworld_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../shared/realworld-raw", "../../shared/realworld-raw"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_dir())
}

/// The schema sets compared, with a name for failure messages.
fn sets() -> &'static [(String, SchemaSet)] {
    static SETS: OnceLock<Vec<(String, SchemaSet)>> = OnceLock::new();
    SETS.get_or_init(|| {
        let mut sets = vec![
            (
                "built-in, all errata".to_owned(),
                SchemaSet::builtin(&ErrataSelection::all()).unwrap(),
            ),
            (
                "built-in, no errata".to_owned(),
                SchemaSet::builtin(&ErrataSelection::parse("none").unwrap()).unwrap(),
            ),
        ];
        match official_dir() {
            Some(dir) => sets.push((
                format!("official {}", dir.display()),
                SchemaSet::from_dir(&dir).unwrap(),
            )),
            None => eprintln!("schema_fast: ../shared/ocpp-schemas absent; built-in sets only"),
        }
        sets
    })
}

/// Judges one payload against one (version, action, direction) in every set; panics on the
/// first disagreement. Returns how many programs judged it.
fn agree(version: Version, action: usize, dir: Direction, payload: &Value, what: &str) -> usize {
    let mut judged = 0;
    for (name, set) in sets() {
        let Some(Ok(program)) = set.program(version, action, dir) else {
            continue;
        };
        let reference = set.is_valid(version, action, dir, payload).unwrap();
        let fast = program.is_valid(payload);
        assert_eq!(
            fast, reference,
            "{name}: {version} action #{action} {dir:?}: fast {fast}, jsonschema {reference} \
             on {what}: {payload}"
        );
        // The seam answers from the same program.
        let verdict = set.verdict(version, action, dir, payload);
        assert_eq!(
            verdict,
            if reference {
                Verdict::Valid
            } else {
                Verdict::Invalid
            },
            "{name}: verdict on {what}"
        );
        judged += 1;
    }
    judged
}

#[test]
fn every_builtin_schema_has_a_program() {
    let set = &sets()[0].1;
    let mut programs = 0;
    for (version, name, _) in builtin_documents() {
        let (action, dir) = split_name(name);
        let Some((i, _)) = lookup(version, action) else {
            continue;
        };
        match set.program(version, i, dir) {
            Some(Ok(_)) => programs += 1,
            Some(Err(why)) => panic!("{version} {name}: no fast program: {why}"),
            None => panic!("{version} {name}: no schema"),
        }
    }
    assert!(programs >= 380, "only {programs} programs");
    for (name, set) in sets() {
        for (version, doc, _) in builtin_documents() {
            let (action, dir) = split_name(doc);
            if let Some((i, _)) = lookup(version, action)
                && let Some(Err(why)) = set.program(version, i, dir)
            {
                panic!("{name}: {version} {doc}: no fast program: {why}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Traces

/// Every OCPP-J frame inside a JSON value: an array `[2, id, action, payload]` or
/// `[3, id, payload]`, or a string holding one (the trace format's `text`).
fn frames_in(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(a) if matches!(a.first().and_then(Value::as_u64), Some(2 | 3)) => {
            out.push(v.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| frames_in(x, out)),
        Value::Object(o) => o.values().for_each(|x| frames_in(x, out)),
        Value::String(s) if s.trim_start().starts_with('[') => {
            if let Ok(inner) = serde_json::from_str::<Value>(s)
                && inner.is_array()
            {
                frames_in(&inner, out);
            }
        }
        _ => {}
    }
}

/// Judges the frames of one trace (in order; a CALLRESULT takes its CALL's action by id).
fn judge_trace(text: &str, what: &str) -> (usize, usize) {
    let mut frames = Vec::new();
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            frames_in(&v, &mut frames);
        }
    }
    if frames.is_empty()
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        frames_in(&v, &mut frames);
    }
    let mut calls: HashMap<String, String> = HashMap::new();
    let (mut payloads, mut judged) = (0, 0);
    for f in &frames {
        let a = f.as_array().unwrap();
        let id = a
            .get(1)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (action, dir, payload) = match a.first().and_then(Value::as_u64) {
            Some(2) => {
                let Some(action) = a.get(2).and_then(Value::as_str) else {
                    continue;
                };
                calls.insert(id, action.to_owned());
                (action.to_owned(), Direction::Request, a.get(3))
            }
            _ => match calls.get(&id) {
                Some(action) => (action.clone(), Direction::Response, a.get(2)),
                None => continue,
            },
        };
        let Some(payload) = payload else { continue };
        payloads += 1;
        for version in Version::ALL {
            if let Some((i, _)) = lookup(version, &action) {
                judged += agree(version, i, dir, payload, &format!("{what}: {action}"));
            }
        }
    }
    (payloads, judged)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "json" | "log")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn traces_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("tests"), &mut files);
    files_under(&root.join("testcases"), &mut files);
    match realworld_dir() {
        Some(d) => files_under(&d, &mut files),
        None => eprintln!("schema_fast: ../shared/realworld-raw absent; repository traces only"),
    }
    let (mut payloads, mut judged) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let (p, j) = judge_trace(&text, &f.display().to_string());
        payloads += p;
        judged += j;
    }
    // The bench generator's traffic (both versions, every message it sends).
    let mut generated = Vec::new();
    tracegen::generate(
        &tracegen::GenOptions {
            frames: 4000,
            connections: 20,
            seed: 11,
            v201_share: 0.5,
        },
        &mut generated,
    )
    .unwrap();
    let (p, j) = judge_trace(&String::from_utf8(generated).unwrap(), "tracegen");
    assert!(p > 3000, "the generator gave {p} payloads");
    payloads += p;
    judged += j;
    assert!(
        payloads > 5000,
        "only {payloads} payloads found in {} files",
        files.len()
    );
    eprintln!(
        "schema_fast: {payloads} payloads from {} files, {judged} verdicts compared",
        files.len()
    );
}

// ---------------------------------------------------------------------------------------
// Corpora

struct Case {
    version: Version,
    action: usize,
    dir: Direction,
    name: String,
    payloads: Vec<Value>,
}

/// The schema oracle's corpus of every built-in schema, from the pristine document and (where
/// errata apply) the amended one.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let mut cases = Vec::new();
        for (version, name, text) in builtin_documents() {
            let (action, dir) = split_name(name);
            let Some((i, _)) = lookup(version, action) else {
                continue;
            };
            let pristine: Value = serde_json::from_str(text).unwrap();
            let mut docs = vec![pristine.clone()];
            let mut amended = pristine;
            let mut edited = false;
            for e in ERRATA {
                if e.version == version && e.schema == name {
                    e.apply(&mut amended).unwrap();
                    edited = true;
                }
            }
            if edited {
                docs.push(amended);
            }
            let mut payloads: Vec<Value> = Vec::new();
            for doc in &docs {
                let c = corpus::corpus(doc, name);
                payloads.extend(c.payloads().map(|p| p.value));
            }
            cases.push(Case {
                version,
                action: i,
                dir,
                name: format!("{version} {name}"),
                payloads,
            });
        }
        cases
    })
}

#[test]
fn corpora_agree() {
    let mut n = 0;
    for c in cases() {
        for p in &c.payloads {
            n += agree(c.version, c.action, c.dir, p, &c.name);
        }
    }
    assert!(n > 10_000, "only {n} verdicts compared");
    eprintln!("schema_fast: {n} corpus verdicts compared");
}

// ---------------------------------------------------------------------------------------
// Mutations

/// Every place in a payload, as a path of member names / item indices.
fn places(v: &Value, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(at.clone());
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                at.push(PathStep::Key(k.clone()));
                places(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(PathStep::Index(i));
                places(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'v>(v: &'v mut Value, path: &[PathStep]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, step| match (step, v) {
        (PathStep::Key(k), Value::Object(o)) => o.get_mut(k),
        (PathStep::Index(i), Value::Array(a)) => a.get_mut(*i),
        _ => None,
    })
}

#[derive(Debug, Clone)]
enum Edit {
    /// Replace with this JSON text.
    Replace(String),
    /// Append characters to the string there (or make it a string of them).
    Append(String),
    /// Replace the string's last character by this one (same count, other byte length).
    LastChar(char),
    /// Drop the member there.
    Drop,
    /// Add a member to the object there (or to its parent).
    Extra(String),
    /// Empty the array there.
    Empty,
    /// Repeat the array's first item `n` more times.
    Grow(usize),
}

fn json_numbers() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "-1",
            "1.0",
            "-1.0",
            "1.5",
            "0.1",
            "0.2",
            "0.3",
            "15.3",
            "16.05",
            "1.53E1",
            "1e2",
            "1E2",
            "2.0e1",
            "3",
            "3.0",
            "3.0000000001",
            "100",
            "100.0",
            "100.0000001",
            "99.99",
            "-0.0001",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e19",
            "-1e19",
            "9.3e18",
            "-9.3e18",
            "9.2e18",
            "1e300",
            "-1e300",
            "2.5e-5",
            "1e-320",
            "4.9e-324",
            "1e16",
            "12345678901234567",
            "0.30000000000000004",
            "2147483647",
            "2147483648",
            "-2147483648",
            "1e-7",
            "123456.7",
            "5e-1",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|u| u.to_string()),
        (-1000i64..1000).prop_map(|i| format!("{}.{}", i / 10, i.unsigned_abs() % 10)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::to_string(&f).unwrap()),
    ]
}

fn date_times() -> impl Strategy<Value = String> {
    let shaped = "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,4})?([Zz]|[+-][0-9]{2}:[0-9]{2}|[+-][0-9]{4})?";
    let plausible = "20[0-9]{2}-(0[0-9]|1[0-3])-([0-2][0-9]|3[0-2])T(1[0-9]|2[0-5]):[0-6][0-9]:(5[0-9]|60|61)(\\.[0-9]{1,3})?(Z|[+-](0[0-9]|2[0-5]):[0-6][0-9])";
    prop_oneof![
        shaped.prop_map(String::from),
        plausible.prop_map(String::from),
        "[0-9T:Zz+\\-. t]{0,30}".prop_map(String::from),
        (0usize..24, "[0-9A-Za-z:+\\-. é]").prop_map(|(i, c)| {
            let mut s: Vec<char> = corpus::DATE_TIME.chars().collect();
            s[i] = c.chars().next().unwrap();
            s.into_iter().collect()
        }),
        (0usize..24).prop_map(|i| {
            let mut s = corpus::DATE_TIME.to_owned();
            s.remove(i);
            s
        }),
    ]
}

fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => json_numbers().prop_map(Edit::Replace),
        3 => date_times().prop_map(|s| Edit::Replace(Value::String(s).to_string())),
        2 => prop::sample::select(vec!["a", "é", "€", "𝄞", "aa", "é€"])
            .prop_map(|s| Edit::Append(s.to_owned())),
        1 => prop::sample::select(vec!['é', '€', '𝄞', 'a']).prop_map(Edit::LastChar),
        1 => prop::sample::select(vec![
            "null", "true", "false", "[]", "{}", "[1]", "{\"a\":1}", "\"\"", "\"Accepted\"",
            "\"accepted\"", "\"Accepted \"", "\"Acepted\"", "\"Celsius\"", "\"Hertz\"",
            "[{}]", "[[]]",
        ])
        .prop_map(|s| Edit::Replace(s.to_owned())),
        2 => Just(Edit::Drop),
        1 => prop::sample::select(vec!["customData", "x", "é", "vendorId", "id"])
            .prop_map(|s| Edit::Extra(s.to_owned())),
        1 => Just(Edit::Empty),
        1 => (1usize..4).prop_map(Edit::Grow),
    ]
}

fn apply(payload: &mut Value, path: &[PathStep], edit: &Edit) {
    match edit {
        Edit::Drop => {
            if let Some((PathStep::Key(k), parent)) = path.split_last()
                && let Some(Value::Object(o)) = at_mut(payload, parent)
            {
                o.remove(k);
            }
            return;
        }
        Edit::Extra(name) => {
            let target = match at_mut(payload, path) {
                Some(Value::Object(_)) => path,
                _ => &path[..path.len().saturating_sub(1)],
            };
            if let Some(Value::Object(o)) = at_mut(payload, target) {
                o.insert(name.clone(), Value::from(1));
            }
            return;
        }
        _ => {}
    }
    let Some(v) = at_mut(payload, path) else {
        return;
    };
    match edit {
        Edit::Replace(text) => *v = serde_json::from_str(text).unwrap_or(Value::Null),
        Edit::Append(s) => match v {
            Value::String(x) => x.push_str(s),
            other => *other = Value::String(s.clone()),
        },
        Edit::LastChar(c) => {
            if let Value::String(x) = v
                && x.pop().is_some()
            {
                x.push(*c);
            }
        }
        Edit::Empty => {
            if let Value::Array(a) = v {
                a.clear();
            }
        }
        Edit::Grow(n) => {
            if let Value::Array(a) = v
                && let Some(first) = a.first().cloned()
            {
                a.extend(std::iter::repeat_n(first, *n));
            }
        }
        Edit::Drop | Edit::Extra(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutations_agree(
        case in any::<prop::sample::Index>(),
        pick in any::<prop::sample::Index>(),
        place in any::<prop::sample::Index>(),
        edit1 in edits(),
        edit2 in prop::option::of(edits()),
        place2 in any::<prop::sample::Index>(),
    ) {
        let c = case.get(cases());
        let mut payload = pick.get(&c.payloads).clone();
        for (edit, place) in std::iter::once((&edit1, &place)).chain(edit2.as_ref().map(|e| (e, &place2))) {
            let mut all = Vec::new();
            places(&payload, &mut Vec::new(), &mut all);
            let path = place.get(&all).clone();
            apply(&mut payload, &path, edit);
        }
        agree(c.version, c.action, c.dir, &payload, &format!("{} after {edit1:?} {edit2:?}", c.name));
    }
}

/// Values the schemas' numbers sit next to, at the top level of a synthetic payload.
#[test]
fn limits_and_integers_agree_on_synthetic_schemas() {
    for schema in [
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"integer","minimum":0.0}"#,
        r#"{"$schema":"http://json-schema.org/draft-06/schema#","type":"integer","minimum":0.0,"maximum":100.0}"#,
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","minimum":-1,"maximum":18446744073709551615}"#,
        r#"{"$schema":"http://json-schema.org/draft-06/schema#","type":"number","multipleOf":0.1,"maximum":3.0}"#,
        r#"{"$schema":"http://json-schema.org/draft-06/schema#","type":["integer","string"],"maxLength":2,"minLength":1}"#,
        r#"{"$schema":"http://json-schema.org/draft-06/schema#","type":"string","format":"uri"}"#,
    ] {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let program = ocpp_inspector::engine::schema::fast::Program::compile(&schema).unwrap();
        let reference = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "-0.0",
            "1",
            "1.0",
            "-1",
            "-1.5",
            "1e2",
            "1e19",
            "9.3e18",
            "-1e19",
            "18446744073709551615",
            "-9223372036854775808",
            "100",
            "100.0",
            "100.5",
            "3.0",
            "2.9",
            "0.30000000000000004",
            "3.0000000000000004",
            "\"\"",
            "\"ab\"",
            "\"é€\"",
            "\"abc\"",
            "\"𝄞\"",
            "\"http://x\"",
            "\"x\"",
            "\"urn:a:b\"",
            "\"http://[::1\"",
            "null",
            "[]",
            "{}",
            "true",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        texts.extend((-40i32..40).map(|i| format!("{}.{}", i / 10, i.unsigned_abs() % 10)));
        for t in &texts {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(
                program.is_valid(&v),
                reference.is_valid(&v),
                "{schema} on {t}"
            );
        }
    }
}
