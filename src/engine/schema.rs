//! The schema registry: one compiled JSON-schema validator per (version, action, request or
//! response), built once at start-up and shared by every connection.
//!
//! The built-in set (`schemas/` in the repository, embedded in the binary) carries the facts
//! of the official OCA schemas without their prose; the errata edits of the redistributed
//! official copy are overlays ([`errata`]) applied on top, all on by default. `--schemas DIR`
//! loads an official schema folder instead, as it is.
//!
//! Validators never insert `default`s and assert `format` (date-time, uri). Nothing here
//! reads frames or keeps state per connection.
//!
//! Each schema is compiled twice: by jsonschema (the reference: its violations and their
//! wording are what reports show) and, where it knows every keyword, into a [`fast`] program
//! that only answers valid / not valid, over any [`JsonView`]. [`SchemaSet::verdict`] is the
//! seam for a caller holding a payload in another representation (no `Value` is built for a
//! valid payload); [`SchemaSet::is_valid`] takes a `Value` and asks jsonschema, which over a
//! `Value` is as fast.

pub mod errata;
pub mod fast;

use std::fmt;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::ocpp::Version;
use crate::ocpp::action::catalogue;
use crate::wire::view::JsonView;

pub use errata::{ERRATA, ErrataError, ErrataSelection, Erratum};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_schemas.rs"));
}

/// Request or response schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// A failure to load or compile schemas: the tool's own error, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{path}: cannot read schema file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: not a usable JSON schema: {message}")]
    Compile { path: PathBuf, message: String },
    #[error(
        "{dir}: no OCPP schema files found (expected BootNotification.json or BootNotificationRequest.json, or subfolders 1.6/, 2.0.1/, 2.1/)"
    )]
    EmptyDir { dir: PathBuf },
    #[error("erratum `{name}` does not apply to the built-in schemas: {source}")]
    Erratum {
        name: &'static str,
        source: ErrataError,
    },
}

/// One schema violation inside a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON pointer to the offending value (`""` is the payload itself).
    pub pointer: String,
    /// The JSON-schema keyword that failed (`required`, `enum`, `format`, ...).
    pub keyword: String,
    /// What was expected and what came.
    pub message: String,
    /// For an `enum` violation, the allowed values.
    pub enum_options: Option<Vec<String>>,
}

/// One schema, compiled twice: jsonschema's validator (the reference, and the wording of
/// every violation) and, where every keyword is known to it, the fast program.
struct Compiled {
    validator: Validator,
    fast: Result<fast::Program, fast::Unsupported>,
}

#[derive(Default)]
struct VersionSchemas {
    /// Indexed like the version's action catalogue.
    request: Vec<Option<Compiled>>,
    response: Vec<Option<Compiled>>,
}

/// The fast verdict on a payload ([`SchemaSet::verdict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The schema's fast program judged the payload valid; nothing more to do.
    Valid,
    /// The fast program judged it not valid: build the `Value` and ask
    /// [`SchemaSet::violations`] (jsonschema) what is wrong.
    Invalid,
    /// The schema has no fast program: build the `Value` and ask [`SchemaSet::is_valid`].
    NoProgram,
    /// No schema for this action and direction.
    NoSchema,
}

/// Compiled validators for every version.
pub struct SchemaSet {
    versions: [VersionSchemas; 3],
    /// Where the schemas came from, for reports: "built-in (errata: ...)" or a folder.
    pub origin: String,
    /// Notes about the set (actions without a schema file, ...), for the user.
    pub notes: Vec<String>,
}

impl fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSet")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The built-in schema documents, as `(version, name, json text)`, before errata.
pub fn builtin_documents() -> impl Iterator<Item = (Version, &'static str, &'static str)> {
    builtin::BUILTIN.iter().filter_map(|(v, name, text)| {
        let version = v.parse::<Version>().ok()?;
        Some((version, *name, *text))
    })
}

fn compile(schema: &Value, path: &Path) -> Result<Compiled, SchemaError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| SchemaError::Compile {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    Ok(Compiled {
        validator,
        fast: fast::Program::compile(schema),
    })
}

impl SchemaSet {
    /// How reports name the built-in schemas with `errata` (the `origin` of
    /// [`SchemaSet::builtin`]), without compiling them.
    pub fn builtin_origin(errata: &ErrataSelection) -> String {
        format!("built-in (errata: {})", errata.describe())
    }

    /// The built-in schemas with the chosen errata overlays applied.
    pub fn builtin(errata: &ErrataSelection) -> Result<SchemaSet, SchemaError> {
        let mut set = SchemaSet {
            versions: Default::default(),
            origin: Self::builtin_origin(errata),
            notes: Vec::new(),
        };
        for v in Version::ALL {
            let n = catalogue(v).len();
            set.versions[v.index()].request = (0..n).map(|_| None).collect();
            set.versions[v.index()].response = (0..n).map(|_| None).collect();
        }
        for (version, name, text) in builtin_documents() {
            let path = PathBuf::from(format!("schemas/{version}/{name}.json"));
            let mut doc: Value =
                serde_json::from_str(text).map_err(|source| SchemaError::Json {
                    path: path.clone(),
                    source,
                })?;
            for erratum in errata.selected() {
                if erratum.version == version && erratum.schema == name {
                    erratum
                        .apply(&mut doc)
                        .map_err(|source| SchemaError::Erratum {
                            name: erratum.name,
                            source,
                        })?;
                }
            }
            let (action, dir) = split_name(name);
            set.insert(version, action, dir, compile(&doc, &path)?);
        }
        Ok(set)
    }

    /// Loads an official OCA schema folder: either one version's files (`Action.json` /
    /// `ActionResponse.json` for 1.6, `ActionRequest.json` / `ActionResponse.json` for 2.x),
    /// or a folder holding `1.6/`, `2.0.1/`, `2.1/`. Versions the folder lacks keep the
    /// built-in schemas (with all errata); the notes say so.
    pub fn from_dir(dir: &Path) -> Result<SchemaSet, SchemaError> {
        let mut set = SchemaSet::builtin(&ErrataSelection::all())?;
        let mut loaded = Vec::new();
        let subdirs: Vec<_> = Version::ALL
            .into_iter()
            .map(|v| (v, dir.join(v.as_str())))
            .filter(|(_, p)| p.is_dir())
            .collect();
        let folders = if subdirs.is_empty() {
            match detect_version(dir) {
                Some(v) => vec![(v, dir.to_owned())],
                None => {
                    return Err(SchemaError::EmptyDir {
                        dir: dir.to_owned(),
                    });
                }
            }
        } else {
            subdirs
        };
        for (version, folder) in folders {
            set.load_version_dir(version, &folder)?;
            loaded.push(format!("{version} from {}", folder.display()));
        }
        let kept: Vec<_> = Version::ALL
            .into_iter()
            .filter(|v| !loaded.iter().any(|l| l.starts_with(v.as_str())))
            .map(Version::as_str)
            .collect();
        set.origin = if kept.is_empty() {
            loaded.join(", ")
        } else {
            format!("{}; built-in for {}", loaded.join(", "), kept.join(", "))
        };
        Ok(set)
    }

    fn load_version_dir(&mut self, version: Version, folder: &Path) -> Result<(), SchemaError> {
        for (i, action) in catalogue(version).iter().enumerate() {
            let request = [
                folder.join(format!("{}Request.json", action.name)),
                folder.join(format!("{}.json", action.name)),
            ];
            let response = [folder.join(format!("{}Response.json", action.name))];
            for (dir, candidates) in [
                (Direction::Request, &request[..]),
                (Direction::Response, &response[..]),
            ] {
                let slot = match dir {
                    Direction::Request => &mut self.versions[version.index()].request[i],
                    Direction::Response => &mut self.versions[version.index()].response[i],
                };
                match candidates.iter().find(|p| p.is_file()) {
                    Some(path) => {
                        let text =
                            std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
                                path: path.clone(),
                                source,
                            })?;
                        let doc: Value =
                            serde_json::from_str(&text).map_err(|source| SchemaError::Json {
                                path: path.clone(),
                                source,
                            })?;
                        *slot = Some(compile(&doc, path)?);
                    }
                    None => {
                        let is_send = version == Version::V21
                            && action.name == "NotifyPeriodicEventStream"
                            && dir == Direction::Response;
                        if !is_send {
                            *slot = None;
                            self.notes.push(format!(
                                "{}: no {} schema for {} {}; such payloads are not schema-checked",
                                folder.display(),
                                if dir == Direction::Request {
                                    "request"
                                } else {
                                    "response"
                                },
                                version,
                                action.name
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn insert(&mut self, version: Version, action: &str, dir: Direction, v: Compiled) {
        if let Some((i, _)) = crate::ocpp::action::lookup(version, action) {
            let slots = &mut self.versions[version.index()];
            match dir {
                Direction::Request => slots.request[i] = Some(v),
                Direction::Response => slots.response[i] = Some(v),
            }
        }
    }

    /// Whether a schema exists for the action (by catalogue index).
    pub fn has(&self, version: Version, action: usize, dir: Direction) -> bool {
        self.validator(version, action, dir).is_some()
    }

    fn compiled(&self, version: Version, action: usize, dir: Direction) -> Option<&Compiled> {
        let slots = &self.versions[version.index()];
        match dir {
            Direction::Request => slots.request.get(action)?.as_ref(),
            Direction::Response => slots.response.get(action)?.as_ref(),
        }
    }

    fn validator(&self, version: Version, action: usize, dir: Direction) -> Option<&Validator> {
        self.compiled(version, action, dir).map(|c| &c.validator)
    }

    /// The fast program of a schema, or why it has none (`None`: no schema).
    pub fn program(
        &self,
        version: Version,
        action: usize,
        dir: Direction,
    ) -> Option<Result<&fast::Program, &fast::Unsupported>> {
        self.compiled(version, action, dir).map(|c| c.fast.as_ref())
    }

    /// The fast verdict on a payload held in any JSON representation ([`fast`]): no
    /// `serde_json::Value` is needed unless the answer is [`Verdict::Invalid`] or
    /// [`Verdict::NoProgram`].
    pub fn verdict<'a, V: JsonView<'a>>(
        &self,
        version: Version,
        action: usize,
        dir: Direction,
        payload: V,
    ) -> Verdict {
        match self.compiled(version, action, dir) {
            None => Verdict::NoSchema,
            Some(Compiled { fast: Err(_), .. }) => Verdict::NoProgram,
            Some(Compiled { fast: Ok(p), .. }) if p.is_valid(payload) => Verdict::Valid,
            Some(_) => Verdict::Invalid,
        }
    }

    /// jsonschema's verdict on a `Value`: `Some(true)` valid, `Some(false)` invalid, `None`
    /// no schema. (Over a `Value` the fast program measured no faster than jsonschema's own
    /// `is_valid`, README "Speed"; its gain is needing no `Value`, see [`SchemaSet::verdict`].)
    pub fn is_valid(
        &self,
        version: Version,
        action: usize,
        dir: Direction,
        payload: &Value,
    ) -> Option<bool> {
        let compiled = self.compiled(version, action, dir)?;
        Some(compiled.validator.is_valid(payload))
    }

    /// Every violation of the payload (at most `limit`), each with its JSON pointer.
    pub fn violations(
        &self,
        version: Version,
        action: usize,
        dir: Direction,
        payload: &Value,
        limit: usize,
    ) -> Vec<Violation> {
        let Some(validator) = self.validator(version, action, dir) else {
            return Vec::new();
        };
        validator
            .iter_errors(payload)
            .take(limit)
            .map(|e| {
                let enum_options = match e.kind() {
                    ValidationErrorKind::Enum { options } => Some(
                        options
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|o| {
                                        o.as_str().map_or_else(|| o.to_string(), str::to_owned)
                                    })
                                    .collect::<Vec<String>>()
                            })
                            .unwrap_or_default(),
                    ),
                    _ => None,
                };
                let message = match &enum_options {
                    Some(opts) => format!("{} is not one of {}", e.instance(), opts.join(", ")),
                    None => e.to_string(),
                };
                Violation {
                    pointer: e.instance_path().to_string(),
                    keyword: e.kind().keyword().to_owned(),
                    message,
                    enum_options,
                }
            })
            .collect()
    }
}

/// A schema's message name as action and direction: `BootNotificationRequest` →
/// (`BootNotification`, Request).
pub fn split_name(name: &str) -> (&str, Direction) {
    if let Some(a) = name.strip_suffix("Response") {
        (a, Direction::Response)
    } else if let Some(a) = name.strip_suffix("Request") {
        (a, Direction::Request)
    } else {
        (name, Direction::Request)
    }
}

/// Guesses the version of a flat official schema folder from its file names.
fn detect_version(dir: &Path) -> Option<Version> {
    if dir.join("BootNotification.json").is_file() {
        Some(Version::V16)
    } else if dir.join("NotifyPeriodicEventStream.json").is_file()
        || dir.join("AFRRSignalRequest.json").is_file()
    {
        Some(Version::V21)
    } else if dir.join("BootNotificationRequest.json").is_file() {
        Some(Version::V201)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocpp::action::lookup;
    use serde_json::json;

    fn set() -> SchemaSet {
        SchemaSet::builtin(&ErrataSelection::all()).unwrap()
    }

    fn idx(v: Version, a: &str) -> usize {
        lookup(v, a).unwrap().0
    }

    #[test]
    fn the_origin_named_without_compiling_is_the_compiled_sets() {
        for sel in [
            ErrataSelection::all(),
            ErrataSelection::parse("none").unwrap(),
        ] {
            let set = SchemaSet::builtin(&sel).unwrap();
            assert_eq!(SchemaSet::builtin_origin(&sel), set.origin);
        }
    }

    #[test]
    fn every_action_has_its_schemas() {
        let s = set();
        for v in Version::ALL {
            for (i, a) in catalogue(v).iter().enumerate() {
                assert!(s.has(v, i, Direction::Request), "{v} {} request", a.name);
                let send = a.name == "NotifyPeriodicEventStream" && v == Version::V21;
                assert_eq!(
                    s.has(v, i, Direction::Response),
                    !send,
                    "{v} {} response",
                    a.name
                );
            }
        }
    }

    #[test]
    fn multiple_of_is_judged_on_decimals() {
        let s = set();
        let i = idx(Version::V16, "SetChargingProfile");
        let profile = |limit: serde_json::Value| {
            json!({"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,
            "chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",
            "chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":limit}]}}})
        };
        let ok = |p| s.is_valid(Version::V16, i, Direction::Request, &p).unwrap();
        assert!(ok(profile(json!(15.3))));
        assert!(ok(profile(serde_json::from_str("1.53E1").unwrap())));
        assert!(ok(profile(json!(32))));
        assert!(!ok(profile(json!(16.05))));
    }

    #[test]
    fn draft04_integers_differ_from_draft06() {
        let s = set();
        // 1.6 core (draft-04): 1.0 is not an integer.
        let i = idx(Version::V16, "ChangeAvailability");
        let p: Value = serde_json::from_str(r#"{"connectorId":1.0,"type":"Operative"}"#).unwrap();
        assert_eq!(
            s.is_valid(Version::V16, i, Direction::Request, &p),
            Some(false)
        );
        // 2.0.1 (draft-06): 1.0 is an integer.
        let i = idx(Version::V201, "ChangeAvailability");
        let p: Value =
            serde_json::from_str(r#"{"operationalStatus":"Operative","evse":{"id":1.0}}"#).unwrap();
        assert_eq!(
            s.is_valid(Version::V201, i, Direction::Request, &p),
            Some(true)
        );
    }

    #[test]
    fn date_times_must_be_rfc3339() {
        let s = set();
        let i = idx(
            Version::V16,
            "HeartbeatResponse".trim_end_matches("Response"),
        );
        let check = |t: &str| {
            s.is_valid(
                Version::V16,
                i,
                Direction::Response,
                &json!({"currentTime": t}),
            )
            .unwrap()
        };
        assert!(check("2026-11-22T10:15:03.125Z"));
        assert!(check("2026-11-22T10:15:03+01:00"));
        assert!(!check("2026-11-22T10:15:03"));
        assert!(!check("2026-11-22 10:15:03Z"));
        assert!(!check("2026-02-30T10:15:03Z"));
        assert!(!check("22.11.2026 10:15"));
    }

    #[test]
    fn the_verdict_seam_answers_from_the_fast_program() {
        let s = set();
        let i = idx(Version::V16, "BootNotification");
        let ok = json!({"status":"Accepted","currentTime":"2026-11-22T10:15:03Z","interval":300});
        let bad = json!({"status":"Acepted","currentTime":"2026-11-22T10:15:03Z","interval":300});
        assert!(matches!(
            s.program(Version::V16, i, Direction::Response),
            Some(Ok(_))
        ));
        assert_eq!(
            s.verdict(Version::V16, i, Direction::Response, &ok),
            Verdict::Valid
        );
        assert_eq!(
            s.verdict(Version::V16, i, Direction::Response, &bad),
            Verdict::Invalid
        );
        assert_eq!(
            s.is_valid(Version::V16, i, Direction::Response, &bad),
            Some(false)
        );
        let send = idx(Version::V21, "NotifyPeriodicEventStream");
        assert_eq!(
            s.verdict(Version::V21, send, Direction::Response, &ok),
            Verdict::NoSchema
        );
    }

    #[test]
    fn a_schema_with_an_unknown_keyword_is_judged_by_jsonschema_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("BootNotification.json"),
            r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object",
            "properties":{"chargePointVendor":{"type":"string","pattern":"^V"}},
            "required":["chargePointVendor"]}"#,
        )
        .unwrap();
        let s = SchemaSet::from_dir(dir.path()).unwrap();
        let i = idx(Version::V16, "BootNotification");
        let why = s
            .program(Version::V16, i, Direction::Request)
            .unwrap()
            .unwrap_err();
        assert!(why.what.contains("pattern"), "{why}");
        let good = json!({"chargePointVendor": "VendorX"});
        let bad = json!({"chargePointVendor": "XVendor"});
        assert_eq!(
            s.verdict(Version::V16, i, Direction::Request, &bad),
            Verdict::NoProgram
        );
        assert_eq!(
            s.is_valid(Version::V16, i, Direction::Request, &good),
            Some(true)
        );
        assert_eq!(
            s.is_valid(Version::V16, i, Direction::Request, &bad),
            Some(false)
        );
    }

    #[test]
    fn violations_name_the_pointer() {
        let s = set();
        let i = idx(Version::V16, "BootNotification");
        let v = s.violations(
            Version::V16,
            i,
            Direction::Response,
            &json!({"status":"Acepted","currentTime":"2026-11-22T10:15:03Z","interval":300}),
            10,
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].pointer, "/status");
        assert_eq!(v[0].keyword, "enum");
        assert!(v[0].message.contains("Acepted"), "{}", v[0].message);
    }
}
