//! The official OCA schemas are the oracle for the built-in ones.
//!
//! The official files live outside the repository, in `../shared/ocpp-schemas/{1.6,2.0.1,2.1}`
//! (see its README; they are never copied into the repository). Where that folder is absent
//! every test here says so on stderr and passes without checking anything.
//!
//! - `facts_match_the_official_schemas`: every official file, with its prose keys
//!   (`description`, `comment`, `javaType`, `title`, `$id`, `id`) stripped at keyword positions,
//!   equals our `schemas/<version>/<Action>{Request,Response}.json` with the errata overlays that
//!   target it applied; no file on either side lacks its counterpart.
//! - `builtin_with_all_errata_judges_like_the_official_set`: for every action, both directions,
//!   a generated corpus (valid minimal and maximal payloads, mutations at every member path)
//!   gets the same verdict from `SchemaSet::builtin(&ErrataSelection::all())` and from
//!   `SchemaSet::from_dir(official)`.
//! - `errata_none_differs_exactly_where_the_errata_say`: each erratum, switched off alone,
//!   changes verdicts in its own schema at the member it edits, and nowhere else.
//!
//! # Regenerating `schemas/`
//!
//! ```text
//! OCPP_INSPECTOR_REGEN_SCHEMAS=1 cargo test --test schema_oracle facts_match_the_official_schemas
//! ```
//!
//! rewrites `schemas/<version>/*.json` from the official files instead of comparing: prose keys
//! stripped, every erratum that targets the file reverted (`Erratum::revert`, so the files hold
//! the pristine facts), pretty JSON in the official member order with a two-space indent and a
//! trailing newline. Files whose content changes are listed on stderr; files without an
//! official counterpart are listed, not deleted. An erratum that no longer matches the official
//! copy makes regeneration fail: fix `src/engine/schema/errata.rs` first.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure here is a test failure"
)]

#[path = "schema_oracle/corpus.rs"]
mod corpus;
#[path = "schema_oracle/facts.rs"]
mod facts;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use ocpp_inspector::engine::schema::{
    Direction, ERRATA, ErrataSelection, SchemaSet, builtin_documents,
};
use ocpp_inspector::ocpp::Version;
use ocpp_inspector::ocpp::action::{catalogue, lookup};
use serde_json::{Value, json};

use corpus::Payload;

const REGEN_VAR: &str = "OCPP_INSPECTOR_REGEN_SCHEMAS";

/// Writes a line to stderr past the test harness's output capture (which only catches the
/// `print!` family), so skips and totals show in a plain `cargo test` run.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The official schema folder, or `None` after saying loudly that the tests are skipped.
fn official_dir(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ocpp-schemas");
    if Version::ALL.iter().all(|v| dir.join(v.as_str()).is_dir()) {
        Some(dir)
    } else {
        say(&format!(
            "\n*** SKIPPED {test}: the official OCPP schemas are not at {} \
             (expected subfolders 1.6/, 2.0.1/, 2.1/). Nothing was checked. ***\n",
            dir.display()
        ));
        None
    }
}

fn our_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Our schema name for an official file stem: 1.6 requests are `Action.json` and 2.1's SEND
/// `NotifyPeriodicEventStream.json`; ours are all `<Action>Request` / `<Action>Response`.
fn our_name(official_stem: &str) -> String {
    if official_stem.ends_with("Request") || official_stem.ends_with("Response") {
        official_stem.to_owned()
    } else {
        format!("{official_stem}Request")
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()))
}

/// `(our name, official path)` of every official file of a version.
fn official_files(dir: &Path, v: Version) -> BTreeMap<String, PathBuf> {
    let folder = dir.join(v.as_str());
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
    {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|x| x == "json") {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name");
            let name = our_name(stem);
            if let Some(prev) = out.insert(name.clone(), path.clone()) {
                panic!(
                    "{v}: {} and {} both map to {name}",
                    prev.display(),
                    path.display()
                );
            }
        }
    }
    out
}

fn our_files(v: Version) -> BTreeSet<String> {
    let folder = our_dir().join(v.as_str());
    std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name")
                .to_owned()
        })
        .collect()
}

fn errata_for(
    v: Version,
    name: &str,
) -> impl DoubleEndedIterator<Item = &'static ocpp_inspector::engine::schema::Erratum> {
    ERRATA
        .iter()
        .filter(move |e| e.version == v && e.schema == name)
}

#[test]
fn facts_match_the_official_schemas() {
    let Some(dir) = official_dir("facts_match_the_official_schemas") else {
        return;
    };
    let regen = std::env::var(REGEN_VAR).is_ok_and(|v| v == "1");
    let mut problems = Vec::new();
    let mut compared = 0;
    let mut targeted = 0;
    for v in Version::ALL {
        let official = official_files(&dir, v);
        let ours = our_files(v);
        for (name, path) in &official {
            let text = std::fs::read_to_string(path).expect("official file");
            let stripped = facts::strip(&serde_json::from_str(&text).expect("official JSON"));
            let our_path = our_dir().join(v.as_str()).join(format!("{name}.json"));
            if regen {
                let mut pristine = stripped;
                for e in errata_for(v, name).rev() {
                    e.revert(&mut pristine).unwrap_or_else(|m| {
                        panic!(
                            "erratum {} no longer matches the official copy: {m}",
                            e.name
                        )
                    });
                }
                let shape: facts::Shape = serde_json::from_str(&text).expect("official JSON");
                let out = facts::pretty(&pristine, Some(&shape));
                if std::fs::read_to_string(&our_path).ok().as_deref() != Some(out.as_str()) {
                    std::fs::write(&our_path, out)
                        .unwrap_or_else(|e| panic!("cannot write {}: {e}", our_path.display()));
                    say(&format!("regenerated {}", our_path.display()));
                }
                continue;
            }
            if !ours.contains(name) {
                problems.push(format!(
                    "{v}: official {} has no counterpart {}",
                    path.display(),
                    our_path.display()
                ));
                continue;
            }
            let mut amended = read_json(&our_path);
            for e in errata_for(v, name) {
                targeted += 1;
                if let Err(m) = e.apply(&mut amended) {
                    problems.push(format!(
                        "{v} {name}: erratum {} does not apply: {m}",
                        e.name
                    ));
                }
            }
            compared += 1;
            if amended != stripped {
                problems.push(format!(
                    "{v} {name}: facts differ from {} (stripped of prose, errata applied)\n  ours:     {}\n  official: {}",
                    path.display(),
                    first_difference(&amended, &stripped, ""),
                    first_difference(&stripped, &amended, ""),
                ));
            }
        }
        for name in &ours {
            if !official.contains_key(name) {
                let stale = format!("{v}: schemas/{v}/{name}.json has no official counterpart");
                if regen {
                    say(&format!("{stale} (not deleted)"));
                }
                problems.push(stale);
            }
        }
        if regen {
            continue;
        }
        // The embedded copy is the one on disk.
        let embedded: BTreeMap<&str, &str> = builtin_documents()
            .filter(|(bv, _, _)| *bv == v)
            .map(|(_, n, t)| (n, t))
            .collect();
        if !embedded.keys().copied().eq(ours.iter().map(String::as_str)) {
            problems.push(format!(
                "{v}: the embedded built-in schemas are not the files of schemas/{v}/ (rebuild?)"
            ));
        }
        for (name, text) in embedded {
            let on_disk = read_json(&our_dir().join(v.as_str()).join(format!("{name}.json")));
            if serde_json::from_str::<Value>(text).ok().as_ref() != Some(&on_disk) {
                problems.push(format!(
                    "{v} {name}: the embedded copy differs from schemas/{v}/{name}.json (rebuild?)"
                ));
            }
        }
    }
    if regen {
        say(&format!(
            "{REGEN_VAR}=1: schemas/ regenerated from {}",
            dir.display()
        ));
        return;
    }
    assert_eq!(
        targeted,
        ERRATA.len(),
        "every erratum targets exactly one existing schema file"
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    say(&format!(
        "{compared} schema files match the official ones ({} errata applied)",
        ERRATA.len()
    ));
}

/// Where `a` first differs from `b`, as `pointer: value`.
fn first_difference(a: &Value, b: &Value, at: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) if vb == va => {}
                    Some(vb) => return first_difference(va, vb, &format!("{at}/{k}")),
                    None => return format!("{at}/{k}: {va} (absent on the other side)"),
                }
            }
            format!("{at}: fewer members than the other side")
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if va != vb {
                    return first_difference(va, vb, &format!("{at}/{i}"));
                }
            }
            format!("{at}: equal")
        }
        _ => format!("{at}: {a}"),
    }
}

/// One schema and its corpus.
struct Case {
    version: Version,
    /// Catalogue index.
    action: usize,
    dir: Direction,
    /// Our schema name, `<Action>Request` / `<Action>Response`.
    name: String,
    payloads: Vec<Payload>,
}

struct Fixture {
    official: SchemaSet,
    all: SchemaSet,
    cases: Vec<Case>,
}

/// The official set, the built-in set with all errata and every corpus, built once for all
/// tests of this file.
fn fixture(dir: &Path) -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let t = Instant::now();
        let official = SchemaSet::from_dir(dir).expect("official schemas load");
        assert!(
            official.notes.is_empty(),
            "official set notes: {:?}",
            official.notes
        );
        let all = SchemaSet::builtin(&ErrataSelection::all()).expect("built-in schemas load");
        let pristine: BTreeMap<(Version, &str), &str> =
            builtin_documents().map(|(v, n, t)| ((v, n), t)).collect();
        let mut cases = Vec::new();
        for v in Version::ALL {
            let files = official_files(dir, v);
            let mut judged = 0;
            for (action, info) in catalogue(v).iter().enumerate() {
                for d in [Direction::Request, Direction::Response] {
                    let suffix = match d {
                        Direction::Request => "Request",
                        Direction::Response => "Response",
                    };
                    let name = format!("{}{suffix}", info.name);
                    let send = v == Version::V21
                        && info.name == "NotifyPeriodicEventStream"
                        && d == Direction::Response;
                    let Some(path) = files.get(&name) else {
                        assert!(send, "{v} {name}: no official schema file");
                        continue;
                    };
                    judged += 1;
                    let official_doc = read_json(path);
                    let ours: Value = serde_json::from_str(
                        pristine
                            .get(&(v, name.as_str()))
                            .unwrap_or_else(|| panic!("{v} {name}: no built-in schema")),
                    )
                    .expect("built-in JSON");
                    // Boundary values of both the amended and the pristine facts.
                    let mut corpora = vec![corpus::corpus(&official_doc, &name)];
                    if facts::strip(&official_doc) != ours {
                        corpora.push(corpus::corpus(&ours, &name));
                    }
                    cases.push(Case {
                        version: v,
                        action,
                        dir: d,
                        payloads: corpus::union(&corpora),
                        name,
                    });
                }
            }
            assert_eq!(
                judged,
                files.len(),
                "{v}: some official schema files belong to no action of the catalogue"
            );
        }
        say(&format!(
            "fixture: 2 schema sets and {} corpora built in {:.1?}",
            cases.len(),
            t.elapsed()
        ));
        Fixture {
            official,
            all,
            cases,
        }
    })
}

fn verdict(set: &SchemaSet, c: &Case, p: &Payload) -> bool {
    set.is_valid(c.version, c.action, c.dir, &p.value)
        .unwrap_or_else(|| panic!("{} {}: {} has no schema", c.version, c.name, set.origin))
}

fn describe(c: &Case, p: &Payload) -> String {
    let mut shown = p.value.to_string();
    if shown.len() > 400 {
        let cut = (0..=400)
            .rev()
            .find(|i| shown.is_char_boundary(*i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    format!("{}: {shown}", what(c, p))
}

/// The payload's schema and mutation, without the payload.
fn what(c: &Case, p: &Payload) -> String {
    match &p.path {
        Some(path) => format!("{} {} [{} at `{path}`]", c.version, c.name, p.label),
        None => format!("{} {} [{}]", c.version, c.name, p.label),
    }
}

#[test]
fn builtin_with_all_errata_judges_like_the_official_set() {
    let Some(dir) = official_dir("builtin_with_all_errata_judges_like_the_official_set") else {
        return;
    };
    let f = fixture(&dir);
    let t = Instant::now();
    let (mut total, mut invalid, mut valid_mutations, mut invalid_mutations) = (0, 0, 0, 0);
    let mut generator_failures = Vec::new();
    let mut disagreements = Vec::new();
    let mut misjudged = Vec::new();
    let mut expected = 0;
    for c in &f.cases {
        for p in &c.payloads {
            total += 1;
            let ours = verdict(&f.all, c, p);
            let theirs = verdict(&f.official, c, p);
            if p.path.is_none() && !ours {
                generator_failures.push(describe(c, p));
            }
            if ours != theirs {
                disagreements.push(format!(
                    "built-in says {}, official says {}: {}",
                    if ours { "valid" } else { "invalid" },
                    if theirs { "valid" } else { "invalid" },
                    describe(c, p)
                ));
            }
            if let Some(e) = p.expect {
                expected += 1;
                if e != theirs {
                    misjudged.push(format!(
                        "expected {}, the official set says {}: {}",
                        if e { "valid" } else { "invalid" },
                        if theirs { "valid" } else { "invalid" },
                        describe(c, p)
                    ));
                }
            }
            if !theirs {
                invalid += 1;
            }
            if p.path.is_some() {
                if theirs {
                    valid_mutations += 1;
                } else {
                    invalid_mutations += 1;
                }
            }
        }
    }
    assert!(
        generator_failures.is_empty(),
        "the generator made {} payload(s) the built-in set rejects:\n{}",
        generator_failures.len(),
        generator_failures.join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "{} of {total} verdicts differ:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Both sets run on the same validator; the expectations check the validator itself on the
    // traps of the files (draft-04 integers, multipleOf on decimals, formats, open objects).
    assert!(
        misjudged.is_empty(),
        "{} of {expected} payloads with a known verdict are misjudged:\n{}",
        misjudged.len(),
        misjudged
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        valid_mutations > 0 && invalid_mutations > 0,
        "the mutation corpus must hold both verdicts ({valid_mutations} valid, {invalid_mutations} invalid)"
    );
    say(&format!(
        "{} schemas, {total} payloads, {invalid} invalid ({invalid_mutations} of {} mutations), \
         all verdicts equal; {expected} with a known verdict, all as expected ({:.1?})",
        f.cases.len(),
        valid_mutations + invalid_mutations,
        t.elapsed()
    ));
}

fn idx(v: Version, action: &str) -> usize {
    lookup(v, action)
        .unwrap_or_else(|| panic!("{v} {action} not in the catalogue"))
        .0
}

/// The instance pointers an erratum's schema edits are about, with `*` for array items:
/// `/properties/meterValue/items/properties/sampledValue/minItems` → `/meterValue/*/sampledValue`.
fn instance_pattern(schema_pointer: &str) -> String {
    let segs: Vec<&str> = schema_pointer.split('/').skip(1).collect();
    let mut out = String::new();
    let mut i = 0;
    // The last segment is the keyword the edit changes.
    while i + 1 < segs.len() {
        match segs[i] {
            "properties" => {
                out.push('/');
                out.push_str(segs[i + 1]);
                i += 2;
            }
            "items" => {
                out.push_str("/*");
                i += 1;
            }
            other => panic!("unexpected schema pointer segment {other} in {schema_pointer}"),
        }
    }
    out
}

/// Whether `path` is `pattern` or below it (`*` matches one array index).
fn at_or_below(path: &str, pattern: &str) -> bool {
    let p: Vec<&str> = path.split('/').collect();
    let q: Vec<&str> = pattern.split('/').collect();
    p.len() >= q.len()
        && q.iter()
            .zip(&p)
            .all(|(a, b)| a == b || (*a == "*" && b.parse::<usize>().is_ok()))
}

#[test]
fn errata_none_differs_exactly_where_the_errata_say() {
    let Some(dir) = official_dir("errata_none_differs_exactly_where_the_errata_say") else {
        return;
    };
    let t = Instant::now();
    let none = SchemaSet::builtin(&ErrataSelection::none()).expect("built-in schemas load");
    let f = fixture(&dir);
    let all = &f.all;
    let ts = "2026-11-22T10:15:03Z";

    let stop = idx(Version::V16, "StopTransaction");
    let celsius = json!({"transactionId": 1, "timestamp": ts, "meterStop": 0,
        "transactionData": [{"timestamp": ts, "sampledValue": [{"value": "21.5", "unit": "Celsius"}]}]});
    let meter = idx(Version::V16, "MeterValues");
    let hertz = json!({"connectorId": 1,
        "meterValue": [{"timestamp": ts, "sampledValue": [{"value": "50", "unit": "Hertz"}]}]});
    let empty = json!({"connectorId": 1, "meterValue": []});
    let exi = idx(Version::V201, "Get15118EVCertificate");
    let long = json!({"status": "Accepted", "exiResponse": "A".repeat(7000)});
    let req = Direction::Request;
    let cases = [
        (
            "1.6 StopTransaction unit Celsius",
            Version::V16,
            stop,
            req,
            &celsius,
            false,
            true,
        ),
        (
            "1.6 MeterValues unit Hertz",
            Version::V16,
            meter,
            req,
            &hertz,
            false,
            true,
        ),
        (
            "1.6 MeterValues meterValue []",
            Version::V16,
            meter,
            req,
            &empty,
            true,
            false,
        ),
        (
            "2.0.1 Get15118EVCertificateResponse exiResponse of 7000",
            Version::V201,
            exi,
            Direction::Response,
            &long,
            false,
            true,
        ),
    ];
    for (what, v, a, d, p, with_none, with_all) in cases {
        assert_eq!(
            none.is_valid(v, a, d, p),
            Some(with_none),
            "errata none: {what}"
        );
        assert_eq!(
            all.is_valid(v, a, d, p),
            Some(with_all),
            "errata all: {what}"
        );
        assert_eq!(
            f.official.is_valid(v, a, d, p),
            Some(with_all),
            "official: {what}"
        );
    }

    // Each erratum alone switched off: some payload of its schema's corpus changes verdict, at
    // the member the erratum edits; nothing else in any corpus changes.
    let mut changed_total = 0;
    for e in ERRATA {
        let spec = format!("-{}", e.name);
        let sel = ErrataSelection::parse(&spec).expect("erratum name parses");
        assert_eq!(sel.selected().count(), ERRATA.len() - 1);
        let without = SchemaSet::builtin(&sel).expect("built-in schemas load");
        let patterns: Vec<String> = e
            .edits
            .iter()
            .map(|x| instance_pattern(x.pointer))
            .collect();
        let mut changed = Vec::new();
        let mut elsewhere = Vec::new();
        for c in &f.cases {
            let own = c.version == e.version && c.name == e.schema;
            for p in &c.payloads {
                if verdict(&without, c, p) == verdict(all, c, p) {
                    continue;
                }
                let explained = own
                    && p.path
                        .as_deref()
                        .is_some_and(|path| patterns.iter().any(|q| at_or_below(path, q)));
                if explained {
                    changed.push(what(c, p));
                } else {
                    elsewhere.push(describe(c, p));
                }
            }
        }
        assert!(
            elsewhere.is_empty(),
            "switching off {} changes verdicts it does not explain (edits at {patterns:?}):\n{}",
            e.name,
            elsewhere.join("\n")
        );
        assert!(
            !changed.is_empty(),
            "switching off {} changes no verdict of the {} {} corpus",
            e.name,
            e.version,
            e.schema
        );
        say(&format!(
            "erratum {} off: {} payload(s) change verdict: {}",
            e.name,
            changed.len(),
            changed.join("; ")
        ));
        changed_total += changed.len();
    }
    say(&format!(
        "{} errata, {changed_total} verdict changes, all explained ({:.1?})",
        ERRATA.len(),
        t.elapsed()
    ));
}
