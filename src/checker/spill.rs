//! Findings kept off the heap: a worker writes its findings in sorted runs to anonymous
//! temporary files (deleted by the system when closed), and [`Findings`] merges every run of
//! every worker back in line order. The order is the one an in-memory sort gives: by line,
//! then worker, then the order the worker produced them.
//!
//! It only stores and reads back findings; it judges nothing.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};

use serde::{Deserialize, Serialize};

use crate::engine::rules;
use crate::finding::{Finding, Severity};
use crate::ocpp::Side;
use crate::time::Timestamp;

/// (line, worker, sequence within the worker): the order findings are reported in.
type Key = (u64, u32, u64);

/// Runs of one level merged into one of the next level: open files stay few (at most
/// `FAN_IN - 1` per level), and each finding is rewritten once per level (log-structured).
const FAN_IN: usize = 16;

/// One worker's findings: sorted runs on disk (with their merge level) and one sorted run in
/// memory.
pub(crate) struct Runs {
    worker: u32,
    seq: u64,
    files: Vec<(u32, File)>,
    memory: Vec<(Key, Finding)>,
}

impl Runs {
    pub(crate) fn new(worker: u32) -> Self {
        Runs {
            worker,
            seq: 0,
            files: Vec::new(),
            memory: Vec::new(),
        }
    }

    fn keyed(&mut self, findings: &mut Vec<Finding>) -> Vec<(Key, Finding)> {
        let mut v: Vec<(Key, Finding)> = findings
            .drain(..)
            .map(|f| {
                self.seq += 1;
                ((f.line, self.worker, self.seq), f)
            })
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Writes `findings` (emptied) as one sorted run to a temporary file. If that fails,
    /// they are kept in memory: never lost.
    pub(crate) fn spill(&mut self, findings: &mut Vec<Finding>) -> io::Result<()> {
        let file = tempfile::tempfile()?;
        let run = self.keyed(findings);
        match write_run(file, run.iter().map(|(k, f)| Ok((*k, f)))) {
            Ok(file) => {
                self.files.push((0, file));
                self.compact()
            }
            Err(e) => {
                self.memory.extend(run);
                self.memory.sort_by_key(|(k, _)| *k);
                Err(e)
            }
        }
    }

    /// While the last `FAN_IN` runs share a level, merges them into one run of the next.
    /// On failure the runs stay as they were (rewound), only more of them.
    fn compact(&mut self) -> io::Result<()> {
        loop {
            let n = self.files.len();
            if n < FAN_IN {
                return Ok(());
            }
            let level = self.files[n - 1].0;
            if self.files[n - FAN_IN..].iter().any(|(l, _)| *l != level) {
                return Ok(());
            }
            let mut readers = Vec::with_capacity(FAN_IN);
            for (_, f) in &self.files[n - FAN_IN..] {
                readers.push(f.try_clone()?);
            }
            let out = tempfile::tempfile()?;
            let mut merged = Findings::of_files(readers);
            let written = write_run(out, std::iter::from_fn(|| merged.next_keyed()));
            match written {
                Ok(file) => {
                    self.files.truncate(n - FAN_IN);
                    self.files.push((level + 1, file));
                }
                Err(e) => {
                    for (_, f) in &mut self.files[n - FAN_IN..] {
                        f.rewind()?;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Keeps `findings` (emptied) in memory as the last run.
    pub(crate) fn keep(&mut self, findings: &mut Vec<Finding>) {
        let mut run = self.keyed(findings);
        self.memory.append(&mut run);
        self.memory.sort_by_key(|(k, _)| *k);
    }
}

fn write_run<F: std::borrow::Borrow<Finding>>(
    file: File,
    run: impl Iterator<Item = io::Result<(Key, F)>>,
) -> io::Result<File> {
    let mut w = BufWriter::new(file);
    for r in run {
        let (k, f) = r?;
        serde_json::to_writer(&mut w, &Rec::of(k, f.borrow()))?;
        w.write_all(b"\n")?;
    }
    let mut file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.rewind()?;
    Ok(file)
}

/// A file's findings in report order, read once. Yields an error if a spilled run cannot be
/// read back (a disk failure), then goes on with the other runs.
#[derive(Default)]
pub struct Findings {
    sources: Vec<Source>,
    heads: Vec<Option<(Key, Finding)>>,
    heap: BinaryHeap<Reverse<(Key, usize)>>,
    pending_error: Option<io::Error>,
    started: bool,
}

enum Source {
    Memory(std::vec::IntoIter<(Key, Finding)>),
    Disk(io::Lines<BufReader<File>>),
}

impl Source {
    fn next(&mut self) -> Option<io::Result<(Key, Finding)>> {
        match self {
            Source::Memory(it) => it.next().map(Ok),
            Source::Disk(lines) => lines.next().map(|l| l.and_then(|l| Rec::read(&l))),
        }
    }
}

impl Findings {
    pub(crate) fn merged(runs: Vec<Runs>) -> Findings {
        let mut sources = Vec::new();
        for r in runs {
            for (_, f) in r.files {
                sources.push(Source::Disk(BufReader::with_capacity(64 * 1024, f).lines()));
            }
            if !r.memory.is_empty() {
                sources.push(Source::Memory(r.memory.into_iter()));
            }
        }
        Self::of_sources(sources)
    }

    fn of_files(files: Vec<File>) -> Findings {
        Self::of_sources(
            files
                .into_iter()
                .map(|f| Source::Disk(BufReader::with_capacity(64 * 1024, f).lines()))
                .collect(),
        )
    }

    fn of_sources(sources: Vec<Source>) -> Findings {
        Findings {
            heads: sources.iter().map(|_| None).collect(),
            sources,
            heap: BinaryHeap::new(),
            pending_error: None,
            started: false,
        }
    }

    /// Pulls the next finding of source `i` into the heap.
    fn advance(&mut self, i: usize) {
        match self.sources[i].next() {
            Some(Ok((k, f))) => {
                self.heap.push(Reverse((k, i)));
                self.heads[i] = Some((k, f));
            }
            Some(Err(e)) => {
                // That run is unreadable from here on; the others go on.
                self.sources[i] = Source::Memory(Vec::new().into_iter());
                self.pending_error.get_or_insert(e);
            }
            None => {}
        }
    }
}

impl Findings {
    /// The next finding and its key; an unreadable run yields its error once.
    fn next_keyed(&mut self) -> Option<io::Result<(Key, Finding)>> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                self.advance(i);
            }
        }
        loop {
            if let Some(e) = self.pending_error.take() {
                return Some(Err(e));
            }
            let Reverse((_, i)) = self.heap.pop()?;
            let head = self.heads[i].take();
            self.advance(i);
            if let Some(kf) = head {
                return Some(Ok(kf));
            }
        }
    }
}

impl Iterator for Findings {
    type Item = io::Result<Finding>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_keyed().map(|r| r.map(|(_, f)| f))
    }
}

/// A finding as one line of a run.
#[derive(Serialize, Deserialize)]
struct Rec<'a> {
    k: Key,
    rule: Cow<'a, str>,
    sev: Cow<'a, str>,
    conn: Cow<'a, str>,
    at: i64,
    from: Option<Cow<'a, str>>,
    uid: Option<Cow<'a, str>>,
    action: Option<Cow<'a, str>>,
    msg: Cow<'a, str>,
    ptr: Option<Cow<'a, str>>,
    ev: Option<Cow<'a, str>>,
}

impl<'a> Rec<'a> {
    fn of(k: Key, f: &'a Finding) -> Self {
        Rec {
            k,
            rule: Cow::Borrowed(f.rule.id),
            sev: Cow::Borrowed(f.severity.as_str()),
            conn: Cow::Borrowed(&f.conn),
            at: f.at.micros(),
            from: f.from.map(|s| Cow::Borrowed(s.as_str())),
            uid: f.unique_id.as_deref().map(Cow::Borrowed),
            action: f.action.as_deref().map(Cow::Borrowed),
            msg: Cow::Borrowed(&f.message),
            ptr: f.pointer.as_deref().map(Cow::Borrowed),
            ev: f.evidence.as_deref().map(Cow::Borrowed),
        }
    }

    fn read(line: &str) -> io::Result<(Key, Finding)> {
        let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let r: Rec<'_> = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let rule = rules::find(&r.rule).ok_or_else(|| bad(format!("unknown rule {}", r.rule)))?;
        let severity: Severity = r.sev.parse().map_err(bad)?;
        let from = match r.from.as_deref() {
            None => None,
            Some(s) => Some(
                s.parse::<Side>()
                    .map_err(|_| bad(format!("unknown side {s}")))?,
            ),
        };
        Ok((
            r.k,
            Finding {
                rule,
                severity,
                conn: r.conn.as_ref().into(),
                line: r.k.0,
                at: Timestamp::from_micros(r.at),
                from,
                unique_id: r.uid.map(|s| s.into_owned().into_boxed_str()),
                action: r.action.map(|s| s.into_owned().into_boxed_str()),
                message: r.msg.into_owned(),
                pointer: r.ptr.map(Cow::into_owned),
                evidence: r.ev.map(|s| s.into_owned().into_boxed_str()),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(line: u64, msg: &str) -> Finding {
        Finding {
            rule: rules::REGISTRY[0],
            severity: Severity::Warning,
            conn: "CP-1".into(),
            line,
            at: Timestamp::from_secs(1_700_000_000),
            from: Some(Side::Csms),
            unique_id: Some("u\"1".into()),
            action: None,
            message: msg.into(),
            pointer: Some("/a/0".into()),
            evidence: Some("[2,\"x\"]\u{1b}".into()),
        }
    }

    /// More runs than the fan-in are merged into fewer, bigger ones, the order intact.
    #[test]
    fn runs_are_compacted_level_by_level() {
        let mut a = Runs::new(0);
        let total = FAN_IN * FAN_IN + 3;
        for i in 0..total {
            // Each run holds lines from all over, so merging really interleaves.
            let line = ((i * 7919) % total) as u64;
            a.spill(&mut vec![finding(line, &format!("m{line}"))])
                .unwrap();
        }
        assert!(a.files.len() < 2 * FAN_IN, "{} runs open", a.files.len());
        assert_eq!(a.files[0].0, 2, "a run of the second level");
        let lines: Vec<u64> = Findings::merged(vec![a]).map(|f| f.unwrap().line).collect();
        assert_eq!(lines, (0..total as u64).collect::<Vec<_>>());
    }

    /// Runs on disk and in memory, from two workers, come back merged in the order a stable
    /// in-memory sort by line would give, every field intact.
    #[test]
    fn spilled_runs_merge_back_in_line_order() {
        let mut a = Runs::new(0);
        let mut b = Runs::new(1);
        a.spill(&mut vec![
            finding(5, "a5"),
            finding(1, "a1"),
            finding(5, "a5b"),
        ])
        .unwrap();
        a.spill(&mut vec![finding(3, "a3")]).unwrap();
        a.keep(&mut vec![finding(2, "a2")]);
        b.spill(&mut vec![finding(5, "b5"), finding(0, "b0")])
            .unwrap();
        let got: Vec<Finding> = Findings::merged(vec![a, b]).map(|f| f.unwrap()).collect();
        let msgs: Vec<&str> = got.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs, ["b0", "a1", "a2", "a3", "a5", "a5b", "b5"]);
        let f = &got[1];
        assert_eq!(f.rule.id, rules::REGISTRY[0].id);
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.from, Some(Side::Csms));
        assert_eq!(f.unique_id.as_deref(), Some("u\"1"));
        assert_eq!(f.pointer.as_deref(), Some("/a/0"));
        assert_eq!(f.evidence.as_deref(), Some("[2,\"x\"]\u{1b}"));
        assert_eq!(f.at, Timestamp::from_secs(1_700_000_000));
    }
}
