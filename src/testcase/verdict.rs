//! The outcome of a case run: the verdict, the reason, each step's status with the frames
//! that matched it as evidence, and the rule findings that fell inside the run; and the
//! known failures (a lab's list of cases expected to fail, read from TOML text) that turn a
//! failure into `known_failure` and flag a listed case that passes as `fixed`. Data only: no
//! file is read here and nothing is printed; the renderings live in `report` and
//! `report_html`.

use std::fmt;

use crate::finding::Finding;
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

/// How a case ended for one station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Passed,
    Failed,
    /// The case started but the trace or the live run ended before it could finish.
    Inconclusive,
    /// The case is for another OCPP version than the station's (or another role).
    NotApplicable,
    /// The trigger never happened (the reason names the step that was missing), or an
    /// inject step was not allowed.
    NotRun,
    /// Failed, and listed as a known failure: reported, not counted as a failure.
    KnownFailure,
    /// Passed although listed as a known failure: the list needs updating.
    Fixed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotApplicable => "not_applicable",
            Verdict::NotRun => "not_run",
            Verdict::KnownFailure => "known_failure",
            Verdict::Fixed => "fixed",
        }
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Matched (at least once).
    Matched,
    /// Optional and passed over.
    Skipped,
    /// The step the case failed at.
    Failed,
    /// Not reached.
    Pending,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Matched => "matched",
            StepStatus::Skipped => "skipped",
            StepStatus::Failed => "failed",
            StepStatus::Pending => "pending",
        }
    }
}

/// Bytes of one evidence frame kept verbatim (a frame is at most the proxy's message limit;
/// this bounds what a case run remembers).
pub const EVIDENCE_BYTES: usize = 64 * 1024;

/// A frame kept as evidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// 1-based trace line (0 when the event came from elsewhere).
    pub line: u64,
    pub at: Timestamp,
    pub from: Side,
    /// The frame exactly as sent (up to [`EVIDENCE_BYTES`]; `truncated` says when cut).
    pub text: String,
    /// The frame's full length in bytes, when `text` holds only its beginning.
    pub truncated: Option<usize>,
    /// The inspector injected it (or it answers an injected call): recorded `"injected":true`.
    pub injected: bool,
}

/// One step of one case run.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub name: String,
    /// `charger CALL BootNotification`.
    pub shape: String,
    /// The matchers in words.
    pub expects: String,
    pub optional: bool,
    pub repeat: bool,
    pub status: StepStatus,
    pub evidence: Vec<Evidence>,
}

/// The result of one case for one station.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub refs: Vec<String>,
    pub dut: &'static str,
    pub requirement: String,
    /// The OCA test tool case the case follows, if any (`TC_B_01_CS`).
    pub octt: Option<String>,
    /// The certification profiles the case belongs to.
    pub profiles: Vec<String>,
    /// The station identity; `None` when the trace has no station at all.
    pub station: Option<String>,
    pub version: Option<Version>,
    pub verdict: Verdict,
    /// Why it failed or did not run; empty when passed.
    pub reason: String,
    /// Index of the step the case failed at.
    pub failed_step: Option<usize>,
    pub steps: Vec<StepResult>,
    /// Lines of the first and last event of the run (inclusive), for attaching findings.
    pub lines: Option<(u64, u64)>,
    /// When the run started and ended.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Rule findings on this station inside the run.
    pub findings: Vec<Finding>,
    /// The reason of the known-failure entry that applies to this result, if one does.
    pub known: Option<String>,
}

impl CaseResult {
    /// Lists the findings of this station that fall inside the run: by line when the events
    /// came from a trace, else by time.
    pub fn attach_findings(&mut self, all: &[Finding]) {
        let Some(station) = &self.station else {
            return;
        };
        let Some((first, last)) = self.lines else {
            return;
        };
        let span = self.span;
        self.findings = all
            .iter()
            .filter(|f| &*f.conn == station.as_str())
            .filter(|f| {
                if first > 0 && f.line > 0 {
                    f.line >= first && f.line <= last
                } else {
                    span.is_some_and(|(a, b)| f.at >= a && f.at <= b)
                }
            })
            .cloned()
            .collect();
    }
}

/// Counts of each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub inconclusive: usize,
    pub not_applicable: usize,
    pub not_run: usize,
    pub known_failures: usize,
    pub fixed: usize,
}

impl Tally {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Tally {
        let mut t = Tally::default();
        for r in results {
            match r.verdict {
                Verdict::Passed => t.passed += 1,
                Verdict::Failed => t.failed += 1,
                Verdict::Inconclusive => t.inconclusive += 1,
                Verdict::NotApplicable => t.not_applicable += 1,
                Verdict::NotRun => t.not_run += 1,
                Verdict::KnownFailure => t.known_failures += 1,
                Verdict::Fixed => t.fixed += 1,
            }
        }
        t
    }

    /// `3 passed, 1 failed, 0 inconclusive, 0 not run, 2 not applicable`: the counts every
    /// report's summary gives.
    pub fn counts(&self) -> String {
        format!(
            "{} passed, {} failed, {} inconclusive, {} not run, {} not applicable",
            self.passed, self.failed, self.inconclusive, self.not_run, self.not_applicable
        )
    }

    /// The overall verdict of a set of results, for the banner: failed when any failed;
    /// else inconclusive when any was; else passed when any passed; else no verdict.
    pub fn overall(&self) -> &'static str {
        if self.failed > 0 {
            "failed"
        } else if self.inconclusive > 0 {
            "inconclusive"
        } else if self.passed + self.fixed + self.known_failures > 0 {
            "passed"
        } else {
            "no_verdict"
        }
    }
}

/// One `[[known]]` entry: the cases it covers (an id prefix or an OCTT id, as on the command
/// line), optionally only on one station, and why the failure is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFailure {
    pub case: String,
    pub station: Option<String>,
    pub reason: String,
}

/// The known failures of a lab, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    pub entries: Vec<KnownFailure>,
}

/// Why a known-failures file cannot be used: the file, the entry (1-based, when one is at
/// fault) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownError {
    pub file: String,
    pub entry: Option<usize>,
    pub message: String,
}

impl fmt::Display for KnownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(n) => write!(f, "{}: [[known]] entry {n}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for KnownError {}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default)]
    known: Vec<toml::Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownEntry {
    case: String,
    reason: String,
    #[serde(default)]
    station: Option<String>,
}

impl KnownFailures {
    /// Reads the TOML text of a known-failures file named `file` (for the messages).
    pub fn parse(text: &str, file: &str) -> Result<KnownFailures, KnownError> {
        let err = |entry: Option<usize>, message: String| KnownError {
            file: file.to_owned(),
            entry,
            message,
        };
        let doc: KnownFile = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|before| format!(" (line {})", before.matches('\n').count() + 1))
                .unwrap_or_default();
            err(
                None,
                format!("not a known-failures file{at}: {}", e.message().trim()),
            )
        })?;
        let mut entries = Vec::with_capacity(doc.known.len());
        for (i, raw) in doc.known.into_iter().enumerate() {
            let n = Some(i + 1);
            let e: KnownEntry = raw
                .try_into()
                .map_err(|e: toml::de::Error| err(n, e.message().trim().to_owned()))?;
            let case = e.case.trim();
            if case.is_empty() {
                return Err(err(n, "`case` is empty".into()));
            }
            if e.reason.trim().is_empty() {
                return Err(err(
                    n,
                    format!("`reason` is empty (case `{case}`): say why the failure is accepted"),
                ));
            }
            let station = match e.station.as_deref().map(str::trim) {
                Some("") => return Err(err(n, format!("`station` is empty (case `{case}`)"))),
                s => s.map(str::to_owned),
            };
            entries.push(KnownFailure {
                case: case.to_owned(),
                station,
                reason: e.reason.trim().to_owned(),
            });
        }
        Ok(KnownFailures { entries })
    }

    /// The first entry that covers `r`: its case pattern selects the result's case (id
    /// prefix or OCTT id) and its station, if it names one, is the result's.
    pub fn find(&self, r: &CaseResult) -> Option<&KnownFailure> {
        self.entries.iter().find(|k| {
            let case_hit = r.id.starts_with(&k.case)
                || r.refs.iter().any(|x| {
                    x.split_whitespace()
                        .any(|w| w.starts_with("TC_") && w == k.case)
                });
            let station_hit = match &k.station {
                Some(s) => r.station.as_deref() == Some(s.as_str()),
                None => true,
            };
            case_hit && station_hit
        })
    }

    /// Marks the results: a failed one that is covered becomes `KnownFailure`, a passed one
    /// `Fixed`; both keep the entry's reason in `known`. Not-run results stay as they are.
    pub fn apply(&self, results: &mut [CaseResult]) {
        for r in results {
            let Some(k) = self.find(r) else {
                continue;
            };
            match r.verdict {
                Verdict::Failed => r.verdict = Verdict::KnownFailure,
                Verdict::Passed => r.verdict = Verdict::Fixed,
                Verdict::Inconclusive
                | Verdict::NotApplicable
                | Verdict::NotRun
                | Verdict::KnownFailure
                | Verdict::Fixed => continue,
            }
            r.known = Some(k.reason.clone());
        }
    }

    /// Entries (1-based index and entry) that select none of `cases` (typos, or cases of
    /// another set).
    pub fn unused<'a>(&'a self, cases: &[super::Case]) -> Vec<(usize, &'a KnownFailure)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, k)| !cases.iter().any(|c| c.selected_by(&k.case)))
            .map(|(i, k)| (i + 1, k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, station: &str, verdict: Verdict) -> CaseResult {
        CaseResult {
            id: id.into(),
            title: String::new(),
            refs: vec!["OCTT TC_B_01_CS".into()],
            dut: "charger",
            requirement: "must".into(),
            octt: None,
            profiles: Vec::new(),
            station: Some(station.into()),
            version: None,
            verdict,
            reason: "step 2: no".into(),
            failed_step: Some(1),
            steps: Vec::new(),
            lines: None,
            span: None,
            findings: Vec::new(),
            known: None,
        }
    }

    const FILE: &str = r#"
[[known]]
case = "2.0.1/B/01"
station = "CP-1"
reason = "firmware 1.2 boots Pending first"

[[known]]
case = "TC_E_01_CS"
reason = "no RFID reader"
"#;

    #[test]
    fn a_listed_failure_is_known_and_a_listed_pass_is_fixed() {
        let k = KnownFailures::parse(FILE, "k.toml").unwrap();
        let mut rs = vec![
            result("2.0.1/B/01_CS", "CP-1", Verdict::Failed),
            result("2.0.1/B/01_CS", "CP-2", Verdict::Failed),
            result("2.0.1/B/01_CSMS", "CP-1", Verdict::Passed),
            result("2.0.1/B/02_CS", "CP-1", Verdict::NotRun),
        ];
        let mut by_octt = result("2.0.1/E/x09_CS", "CP-9", Verdict::Failed);
        by_octt.refs = vec!["cf. OCTT TC_E_01_CS".into()];
        rs.push(by_octt);
        k.apply(&mut rs);
        let v: Vec<Verdict> = rs.iter().map(|r| r.verdict).collect();
        assert_eq!(
            v,
            [
                Verdict::KnownFailure,
                Verdict::Failed,
                Verdict::Fixed,
                Verdict::NotRun,
                Verdict::KnownFailure
            ]
        );
        assert_eq!(
            rs[0].known.as_deref(),
            Some("firmware 1.2 boots Pending first")
        );
        assert_eq!(rs[1].known, None);
        assert_eq!(rs[4].known.as_deref(), Some("no RFID reader"));
        let t = Tally::of(&rs);
        assert_eq!((t.failed, t.known_failures, t.fixed), (1, 2, 1));
    }

    #[test]
    fn a_bad_file_names_the_file_and_the_entry() {
        let e = KnownFailures::parse("[[known]\n", "k.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("k.toml: not a known-failures file"),
            "{e}"
        );
        let no_reason =
            "[[known]]\ncase = \"1.6\"\nreason = \"ok\"\n[[known]]\ncase = \"1.6/core\"\n";
        let e = KnownFailures::parse(no_reason, "k.toml").unwrap_err();
        assert_eq!(e.entry, Some(2));
        assert!(
            e.to_string().starts_with("k.toml: [[known]] entry 2: "),
            "{e}"
        );
        assert!(e.message.contains("reason"), "{e}");
        let typo = "[[known]]\ncase = \"1.6\"\nreason = \"r\"\nstaton = \"CP\"\n";
        let e = KnownFailures::parse(typo, "k.toml").unwrap_err();
        assert!(e.message.contains("staton"), "{e}");
        let empty = "[[known]]\ncase = \" \"\nreason = \"r\"\n";
        let e = KnownFailures::parse(empty, "k.toml").unwrap_err();
        assert_eq!(e.to_string(), "k.toml: [[known]] entry 1: `case` is empty");
        let other = "[known]\ncase = \"x\"\n";
        assert!(KnownFailures::parse(other, "k.toml").is_err());
        assert_eq!(
            KnownFailures::parse("# nothing yet\n", "k.toml").unwrap(),
            KnownFailures::default()
        );
    }
}
