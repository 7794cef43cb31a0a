//! Scenario files: the serde shape of a case (`testcases/README.md` documents it), loading
//! and validation. A broken file is an error naming the file and the key; nothing here looks
//! at traffic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use super::matcher::{FieldMatcher, Path as FieldPath, compile_field};
use crate::ocpp::action::lookup;
use crate::ocpp::{Side, Version};

/// Who the case tests: the other side is played by the lab (or a real peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dut {
    Charger,
    Csms,
}

impl Dut {
    pub fn as_str(self) -> &'static str {
        match self {
            Dut::Charger => "charger",
            Dut::Csms => "csms",
        }
    }
}

/// Which findings on the device under test's own frames inside a case's span fail the
/// case (`--case-findings`, or `case_findings` in a case file, which wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFindings {
    /// Error findings fail the case (the default, as the OCA test tool does).
    Error,
    /// Warning and error findings fail it.
    Warning,
    /// Findings are listed with the case but never change its verdict.
    Off,
}

impl CaseFindings {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseFindings::Error => "error",
            CaseFindings::Warning => "warning",
            CaseFindings::Off => "off",
        }
    }

    /// The least severity that fails a case, if any does.
    pub fn threshold(self) -> Option<crate::finding::Severity> {
        match self {
            CaseFindings::Error => Some(crate::finding::Severity::Error),
            CaseFindings::Warning => Some(crate::finding::Severity::Warning),
            CaseFindings::Off => None,
        }
    }
}

impl std::str::FromStr for CaseFindings {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "error" => Ok(CaseFindings::Error),
            "warning" => Ok(CaseFindings::Warning),
            "off" => Ok(CaseFindings::Off),
            other => Err(format!("`{other}` is none of `error`, `warning`, `off`")),
        }
    }
}

/// What kind of frame a step expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A CALL of the action.
    Call,
    /// The CALLRESULT answering a CALL of the action.
    Result,
    /// The CALLERROR answering a CALL of the action.
    Error,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Call => "CALL",
            StepKind::Result => "CALLRESULT",
            StepKind::Error => "CALLERROR",
        }
    }
}

/// One expected frame.
#[derive(Debug, Clone)]
pub struct Step {
    /// A short name for reports (defaults to `from kind action`).
    pub name: String,
    pub from: Side,
    pub kind: StepKind,
    pub action: String,
    /// Seconds allowed since the frame matched by the previous step.
    pub within_s: Option<f64>,
    /// Seconds that must pass since the frame matched by the previous step: a frame that
    /// matches earlier fails the step.
    pub after_s: Option<f64>,
    /// `after_var = "name"`: like `after_s`, the seconds a captured variable holds (the
    /// `interval` of a Rejected boot before its retry).
    pub after_var: Option<String>,
    pub optional: bool,
    pub repeat: bool,
    /// `unless = "name"`: the index of an earlier optional step; when that step matched,
    /// this one is not required. It writes alternatives (message A or B: A optional, B
    /// `unless` A) and either order (X optional before Y, X again after Y `unless` the first).
    pub unless: Option<usize>,
    /// Select the frame: a frame of the step's shape that fails these is passed over (unless
    /// it is the answer to the step's own CALL, which has one chance).
    pub matchers: Vec<FieldMatcher>,
    /// Judge the selected frame: failing these fails the step.
    pub expect: Vec<FieldMatcher>,
    /// Variable name → path into the payload, stored when the step matches.
    pub capture: Vec<(String, FieldPath)>,
    /// An `inject` step: the payload the live runner has the proxy send (a CSMS CALL of
    /// `action` to the charger) once the steps before it have matched; strings `"$name"`
    /// are replaced by captured variables. Offline it is an ordinary `csms` CALL step.
    pub inject: Option<serde_json::Value>,
}

impl Step {
    /// `charger CALL BootNotification`, for reasons and reports.
    pub fn shape(&self) -> String {
        format!("{} {} {}", self.from, self.kind.name(), self.action)
    }

    /// The matchers and expectations in words (`status "Accepted"`), for reports.
    pub fn describe_matchers(&self) -> String {
        self.matchers
            .iter()
            .chain(&self.expect)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A frame that must not occur while the case runs.
#[derive(Debug, Clone)]
pub struct Forbid {
    pub from: Side,
    pub kind: StepKind,
    /// `None`: any action.
    pub action: Option<String>,
    /// With `action: None`: actions that are allowed anyway.
    pub except: Vec<String>,
    pub matchers: Vec<FieldMatcher>,
    pub reason: String,
    /// `until = "step name"`: the frame is forbidden only until that step matched.
    pub until: Option<usize>,
}

/// The OCA test tool case a case follows: its id, name, the requirements it covers and, in
/// one line, how our case differs (empty: it does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oca {
    pub id: String,
    pub name: String,
    pub requirements: Vec<String>,
    pub differs: String,
}

/// The certification profiles a case can belong to: those of the OCA certification programme
/// for 1.6 (core, firmware, local auth list, reservation, smart charging, remote trigger,
/// security whitepaper), 2.0.1 and 2.1 (core, advanced security, local auth list, advanced
/// device management, reservation, smart charging, ISO 15118 support) and what 2.1 adds.
pub const PROFILES: &[&str] = &[
    "core",
    "firmware",
    "local-auth-list",
    "reservation",
    "smart-charging",
    "remote-trigger",
    "security",
    "advanced-security",
    "advanced-device-management",
    "iso15118",
    "bidirectional",
    "der-control",
    "tariff-cost",
];

/// A loaded, validated test case.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub versions: Vec<Version>,
    pub dut: Dut,
    /// `must` or `should`.
    pub requirement: String,
    /// Specification references (`OCPP 2.0.1 B01`).
    pub refs: Vec<String>,
    /// The OCA test case this case follows, when it follows one.
    pub oca: Option<Oca>,
    /// The certification profiles the case belongs to (`core`, `smart-charging`, ...), each
    /// one of [`PROFILES`].
    pub profiles: Vec<String>,
    pub preconditions: Vec<String>,
    pub description: String,
    /// How many leading steps form the trigger: until they have all matched, a mismatch or
    /// a timeout re-arms the case instead of failing it.
    pub trigger: usize,
    pub steps: Vec<Step>,
    pub forbid: Vec<Forbid>,
    /// `[[rearm_on]]`: frames that start the case afresh while its trigger is incomplete
    /// (the same shape as `forbid`, without `until`; `reason` says why).
    pub rearm_on: Vec<Forbid>,
    /// `case_findings`: this case's own rule for findings on the device's frames (else the
    /// run's `--case-findings`).
    pub case_findings: Option<CaseFindings>,
    /// Where the case came from (file path or built-in name).
    pub source: String,
}

impl Case {
    /// The OCA test case id this case follows (`TC_B_01_CS`), if any.
    pub fn octt(&self) -> Vec<&str> {
        self.oca.iter().map(|o| o.id.as_str()).collect()
    }

    /// Selected by `pattern`: an id prefix (`2.0.1/B`), or an OCTT id (`TC_B_01_CS`).
    pub fn selected_by(&self, pattern: &str) -> bool {
        self.id.starts_with(pattern) || self.octt().contains(&pattern)
    }
}

/// Why a case file could not be used: the file, the key and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// The key path (`steps[2].match.status`), empty for the whole file.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.file, self.key, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    title: String,
    versions: Vec<String>,
    dut: String,
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default)]
    refs: Vec<String>,
    #[serde(default)]
    oca: Option<RawOca>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    preconditions: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    trigger: Option<usize>,
    #[serde(default)]
    steps: Vec<RawStep>,
    #[serde(default)]
    forbid: Vec<RawForbid>,
    #[serde(default)]
    rearm_on: Vec<RawForbid>,
    #[serde(default)]
    case_findings: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    inject: Option<RawInject>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    within_s: Option<f64>,
    #[serde(default)]
    after_s: Option<f64>,
    #[serde(default)]
    after_var: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    repeat: bool,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default, rename = "match")]
    matchers: BTreeMap<String, toml::Value>,
    #[serde(default)]
    expect: BTreeMap<String, toml::Value>,
    #[serde(default)]
    capture: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOca {
    id: String,
    name: String,
    #[serde(default)]
    requirements: Vec<String>,
    #[serde(default)]
    differs: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInject {
    action: String,
    #[serde(default)]
    payload: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForbid {
    from: String,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    any_call: bool,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default, rename = "match")]
    matchers: BTreeMap<String, toml::Value>,
    reason: String,
    #[serde(default)]
    until: Option<String>,
}

/// Parses and validates one case file's text. `file` names it in errors.
pub fn parse_case(text: &str, file: &str) -> Result<Case, ScenarioError> {
    let err = |key: &str, message: String| ScenarioError {
        file: file.to_owned(),
        key: key.to_owned(),
        message,
    };
    let raw: RawCase = toml::from_str(text).map_err(|e| {
        // toml names the line and column and, for an unknown key, the key itself.
        err("", e.to_string().trim_end().replace('\n', " | "))
    })?;
    if !valid_id(&raw.id) {
        return Err(err(
            "id",
            format!(
                "`{}` is not a case id: use `VERSION/BLOCK/NUMBER` with letters, digits, `.`, `_`, `-` (e.g. `2.0.1/B/01`)",
                raw.id
            ),
        ));
    }
    if raw.title.trim().is_empty() {
        return Err(err("title", "is empty".into()));
    }
    if raw.versions.is_empty() {
        return Err(err("versions", "lists no OCPP version".into()));
    }
    let mut versions = Vec::new();
    for (i, v) in raw.versions.iter().enumerate() {
        let v: Version = v
            .parse()
            .map_err(|e: String| err(&format!("versions[{i}]"), e))?;
        versions.push(v);
    }
    let first_segment = raw.id.split('/').next().unwrap_or_default();
    if !versions.iter().any(|v| v.as_str() == first_segment) {
        return Err(err(
            "id",
            format!(
                "starts with `{first_segment}`, which is none of the case's versions ({})",
                raw.versions.join(", ")
            ),
        ));
    }
    let dut = match raw.dut.as_str() {
        "charger" => Dut::Charger,
        "csms" => Dut::Csms,
        other => {
            return Err(err(
                "dut",
                format!("`{other}` is neither `charger` nor `csms`"),
            ));
        }
    };
    let requirement = raw.requirement.unwrap_or_else(|| "must".into());
    if !matches!(requirement.as_str(), "must" | "should") {
        return Err(err(
            "requirement",
            format!("`{requirement}` is neither `must` nor `should`"),
        ));
    }
    let oca = match raw.oca {
        Some(o) => {
            let id_ok = o.id.starts_with("TC_")
                && o.id.len() > 3
                && o.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !id_ok {
                return Err(err(
                    "oca.id",
                    format!("`{}` is not an OCA test case id (`TC_B_01_CS`)", o.id),
                ));
            }
            if o.name.trim().is_empty() {
                return Err(err("oca.name", "is empty".into()));
            }
            let suffix_ok = match dut {
                Dut::Charger => o.id.ends_with("_CS"),
                Dut::Csms => o.id.ends_with("_CSMS"),
            };
            if !suffix_ok {
                return Err(err(
                    "oca.id",
                    format!(
                        "`{}` tests the other side: a `dut = \"{}\"` case follows a `_{}` OCA case",
                        o.id,
                        dut.as_str(),
                        if dut == Dut::Charger { "CS" } else { "CSMS" }
                    ),
                ));
            }
            Some(Oca {
                id: o.id,
                name: o.name,
                requirements: o.requirements,
                differs: o.differs.unwrap_or_default(),
            })
        }
        None => None,
    };
    if let Some((i, r)) = raw
        .refs
        .iter()
        .enumerate()
        .find(|(_, r)| r.split_whitespace().any(|w| w.starts_with("TC_")))
    {
        return Err(err(
            &format!("refs[{i}]"),
            format!(
                "`{r}` names an OCA test case: say it in `[oca]` (id, name, requirements, differs), once per case"
            ),
        ));
    }
    if raw.steps.is_empty() {
        return Err(err("steps", "the case has no steps".into()));
    }
    let trigger = raw.trigger.unwrap_or(1);
    if trigger == 0 || trigger > raw.steps.len() {
        return Err(err(
            "trigger",
            format!(
                "must be between 1 and the number of steps ({}), got {trigger}",
                raw.steps.len()
            ),
        ));
    }
    let mut captured: BTreeSet<String> = BTreeSet::new();
    let mut steps: Vec<Step> = Vec::with_capacity(raw.steps.len());
    for (i, s) in raw.steps.into_iter().enumerate() {
        let key = format!("steps[{i}]");
        let (from, kind, action, inject) = match s.inject {
            Some(inj) => {
                if s.from.is_some() || s.call.is_some() || s.result.is_some() || s.error.is_some() {
                    return Err(err(
                        &format!("{key}.inject"),
                        "an inject step is a csms CALL of its action: it takes no `from`, `call`, `result` or `error`".into(),
                    ));
                }
                if dut != Dut::Charger {
                    return Err(err(
                        &format!("{key}.inject"),
                        "the proxy injects calls toward the charger: only for `dut = \"charger\"`"
                            .into(),
                    ));
                }
                if i == 0 {
                    return Err(err(
                        &format!("{key}.inject"),
                        "cannot be the first step: an earlier step (e.g. the accepted boot) says the station is there".into(),
                    ));
                }
                if s.optional || s.repeat {
                    return Err(err(
                        &format!("{key}.inject"),
                        "an inject step is sent once: it cannot be `optional` or `repeat`".into(),
                    ));
                }
                let payload = crate::testcase::matcher::to_json(&toml::Value::Table(
                    inj.payload.unwrap_or_default(),
                ))
                .map_err(|m| err(&format!("{key}.inject.payload"), m.to_string()))?;
                check_template(&payload, &captured)
                    .map_err(|m| err(&format!("{key}.inject.payload"), m.to_string()))?;
                (Side::Csms, StepKind::Call, inj.action, Some(payload))
            }
            None => {
                let from: Side = s
                    .from
                    .as_deref()
                    .ok_or_else(|| err(&key, "needs `from` (or `inject`)".into()))?
                    .parse()
                    .map_err(|e: String| err(&format!("{key}.from"), e))?;
                let (kind, action) = kind_and_action(s.call, s.result, s.error)
                    .map_err(|m| err(&key, m.to_string()))?;
                (from, kind, action, None)
            }
        };
        check_action(&versions, &action, kind, from).map_err(|m| err(&key, m.to_string()))?;
        if let Some(w) = s.within_s
            && !(w.is_finite() && w > 0.0)
        {
            return Err(err(
                &format!("{key}.within_s"),
                format!("must be a positive number of seconds, got {w}"),
            ));
        }
        if let Some(a) = s.after_s {
            let key = format!("{key}.after_s");
            if !(a.is_finite() && a > 0.0) {
                return Err(err(
                    &key,
                    format!("must be a positive number of seconds, got {a}"),
                ));
            }
            if i == 0 {
                return Err(err(
                    &key,
                    "the first step has no previous step to count from".into(),
                ));
            }
            if inject.is_some() {
                return Err(err(
                    &key,
                    "an inject step is sent as soon as the steps before it match; put the wait on a step the device sends".into(),
                ));
            }
            if let Some(w) = s.within_s
                && a >= w
            {
                return Err(err(
                    &key,
                    format!("must be less than within_s ({w}), got {a}"),
                ));
            }
        }
        if i + 1 == trigger && s.optional {
            return Err(err(
                &format!("{key}.optional"),
                "the last trigger step cannot be optional".into(),
            ));
        }
        if let Some(v) = &s.after_var {
            let key = format!("{key}.after_var");
            if !captured.contains(v) {
                return Err(err(
                    &key,
                    format!("variable `{v}` is not captured by an earlier step"),
                ));
            }
            if s.after_s.is_some() || inject.is_some() {
                return Err(err(&key, "not with `after_s` or on an inject step".into()));
            }
        }
        let matchers = compile_fields(&s.matchers, &captured, &format!("{key}.match"), &err)?;
        let expect = compile_fields(&s.expect, &captured, &format!("{key}.expect"), &err)?;
        let mut capture = Vec::new();
        for (var, path) in s.capture {
            if !valid_var(&var) {
                return Err(err(
                    &format!("{key}.capture.{var}"),
                    "a variable name is letters, digits and `_`".into(),
                ));
            }
            let p = FieldPath::parse(&path)
                .map_err(|m| err(&format!("{key}.capture.{var}"), m.to_string()))?;
            captured.insert(var.clone());
            capture.push((var, p));
        }
        let unless = match &s.unless {
            None => None,
            Some(other) => {
                let key = format!("{key}.unless");
                let Some(j) = steps.iter().position(|p| &p.name == other) else {
                    return Err(err(&key, format!("no earlier step is named `{other}`")));
                };
                if !steps[j].optional {
                    return Err(err(
                        &key,
                        format!(
                            "step `{other}` is required anyway: `unless` names an optional step"
                        ),
                    ));
                }
                if s.optional || i < trigger {
                    return Err(err(
                        &key,
                        "only for a required step after the trigger".into(),
                    ));
                }
                Some(j)
            }
        };
        let name = s
            .name
            .unwrap_or_else(|| format!("{} {} {}", from, kind.name(), action));
        steps.push(Step {
            name,
            from,
            kind,
            action,
            within_s: s.within_s,
            after_s: s.after_s,
            after_var: s.after_var,
            optional: s.optional,
            repeat: s.repeat,
            unless,
            matchers,
            expect,
            capture,
            inject,
        });
    }
    let mut forbid = Vec::new();
    let mut rearm_on = Vec::new();
    let forbids = raw
        .forbid
        .into_iter()
        .enumerate()
        .map(|(i, f)| (false, i, f));
    let rearms = raw
        .rearm_on
        .into_iter()
        .enumerate()
        .map(|(i, f)| (true, i, f));
    for (rearm, i, f) in forbids.chain(rearms) {
        let key = if rearm {
            format!("rearm_on[{i}]")
        } else {
            format!("forbid[{i}]")
        };
        if rearm && f.until.is_some() {
            return Err(err(
                &format!("{key}.until"),
                "`until` is for `forbid`: `rearm_on` holds only while the trigger is incomplete"
                    .into(),
            ));
        }
        let from: Side = f
            .from
            .parse()
            .map_err(|e: String| err(&format!("{key}.from"), e))?;
        let (kind, action) = if f.any_call {
            if f.call.is_some() || f.result.is_some() || f.error.is_some() {
                return Err(err(
                    &key,
                    "`any_call` excludes `call`, `result` and `error`".into(),
                ));
            }
            (StepKind::Call, None)
        } else {
            if !f.except.is_empty() {
                return Err(err(
                    &format!("{key}.except"),
                    "only makes sense with `any_call = true`".into(),
                ));
            }
            let (k, a) =
                kind_and_action(f.call, f.result, f.error).map_err(|m| err(&key, m.to_string()))?;
            check_action(&versions, &a, k, from).map_err(|m| err(&key, m.to_string()))?;
            (k, Some(a))
        };
        let matchers = compile_fields(&f.matchers, &captured, &format!("{key}.match"), &err)?;
        let until = match &f.until {
            None => None,
            Some(name) => Some(steps.iter().position(|p| &p.name == name).ok_or_else(|| {
                err(
                    &format!("{key}.until"),
                    format!("no step is named `{name}`"),
                )
            })?),
        };
        let rule = Forbid {
            from,
            kind,
            action,
            except: f.except,
            matchers,
            reason: f.reason,
            until,
        };
        if rearm {
            rearm_on.push(rule);
        } else {
            forbid.push(rule);
        }
    }
    // Reports and known-failure entries read the OCA id among the references.
    let mut refs = raw.refs;
    if let Some(o) = &oca {
        refs.push(format!("OCTT {} ({})", o.id, o.name));
    }
    for (i, p) in raw.profiles.iter().enumerate() {
        if !PROFILES.contains(&p.as_str()) {
            return Err(err(
                &format!("profiles[{i}]"),
                format!(
                    "`{p}` is not a certification profile; one of: {}",
                    PROFILES.join(", ")
                ),
            ));
        }
    }
    let case_findings = match raw.case_findings.as_deref() {
        None => None,
        Some(v) => Some(
            v.parse::<CaseFindings>()
                .map_err(|m| err("case_findings", m))?,
        ),
    };
    Ok(Case {
        case_findings,
        id: raw.id,
        title: raw.title,
        versions,
        dut,
        requirement,
        refs,
        oca,
        profiles: raw.profiles,
        preconditions: raw.preconditions,
        description: raw.description.unwrap_or_default(),
        trigger,
        steps,
        forbid,
        rearm_on,
        source: file.to_owned(),
    })
}

/// Compiles a `match` or `expect` table (path → expected value); an error names the
/// table's key and the path (`steps[2].match.idTag`).
fn compile_fields(
    table: &BTreeMap<String, toml::Value>,
    captured: &BTreeSet<String>,
    key: &str,
    err: &dyn Fn(&str, String) -> ScenarioError,
) -> Result<Vec<FieldMatcher>, ScenarioError> {
    table
        .iter()
        .map(|(path, value)| {
            compile_field(path, value, captured)
                .map_err(|m| err(&format!("{key}.{path}"), m.to_string()))
        })
        .collect()
}

/// What is wrong with a step of a case file (the case loader adds where).
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("needs one of `call`, `result` or `error` (the action)")]
    NoAction,
    #[error("has more than one of `call`, `result` and `error`")]
    SeveralActions,
    #[error("`{action}` is not an OCPP {version} action")]
    UnknownAction { action: String, version: Version },
    #[error("in OCPP {version} the {caller} does not send `{action}` CALLs ({allowed})")]
    WrongSender {
        action: String,
        version: Version,
        caller: Side,
        allowed: &'static str,
    },
    #[error("`${0}`: no earlier step captures `{0}`")]
    NotCaptured(String),
}

fn kind_and_action(
    call: Option<String>,
    result: Option<String>,
    error: Option<String>,
) -> Result<(StepKind, String), StepError> {
    match (call, result, error) {
        (Some(a), None, None) => Ok((StepKind::Call, a)),
        (None, Some(a), None) => Ok((StepKind::Result, a)),
        (None, None, Some(a)) => Ok((StepKind::Error, a)),
        (None, None, None) => Err(StepError::NoAction),
        _ => Err(StepError::SeveralActions),
    }
}

/// The action must exist in every version of the case, and a CALL must come from a side
/// allowed to send it (a result from the other side).
fn check_action(
    versions: &[Version],
    action: &str,
    kind: StepKind,
    from: Side,
) -> Result<(), StepError> {
    for &v in versions {
        let Some((_, info)) = lookup(v, action) else {
            return Err(StepError::UnknownAction {
                action: action.to_owned(),
                version: v,
            });
        };
        let caller = match kind {
            StepKind::Call => from,
            StepKind::Result | StepKind::Error => from.other(),
        };
        if !info.dir.allows(caller) {
            return Err(StepError::WrongSender {
                action: action.to_owned(),
                version: v,
                caller,
                allowed: info.dir.describe(),
            });
        }
    }
    Ok(())
}

/// Every `"$name"` string in an inject payload names a variable an earlier step captures.
fn check_template(v: &serde_json::Value, known: &BTreeSet<String>) -> Result<(), StepError> {
    match v {
        serde_json::Value::String(t) => match t.strip_prefix('$') {
            Some(name) if !known.contains(name) => Err(StepError::NotCaptured(name.to_owned())),
            _ => Ok(()),
        },
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| check_template(x, known)),
        serde_json::Value::Object(o) => o.values().try_for_each(|x| check_template(x, known)),
        _ => Ok(()),
    }
}

fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

pub(crate) fn valid_var(v: &str) -> bool {
    !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

mod load;

pub use load::{KNOWN_FAILURES_FILE, case_files, load_dir, load_texts};

#[cfg(test)]
mod tests;
