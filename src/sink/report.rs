//! Reports over checked trace files. One model ([`Summary`] over [`FileResult`]s), one file
//! per output format.

pub mod json;
pub mod junit;
pub mod text;

use crate::checker::FileResult;
use crate::finding::Severity;

/// Totals over all files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: u64,
    pub frames: u64,
    pub connections: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub input_errors: u64,
}

impl Summary {
    pub fn of(results: &[FileResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            s.files += 1;
            s.frames += r.stats.frames;
            s.connections += r.stats.connections;
            s.input_errors += r.input_errors.len() as u64;
            for f in &r.findings {
                match f.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                    Severity::Info => s.infos += 1,
                }
            }
        }
        s
    }

    /// Findings at or above `fail_on`.
    pub fn failing(&self, fail_on: Severity) -> u64 {
        match fail_on {
            Severity::Error => self.errors,
            Severity::Warning => self.errors + self.warnings,
            Severity::Info => self.errors + self.warnings + self.infos,
        }
    }
}

/// What a report says about the run besides the findings.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Where the schemas came from, and which errata.
    pub schemas: String,
    pub fail_on: Severity,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
