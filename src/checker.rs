//! Offline checking of trace files: reads each file as a stream, feeds the engine, and
//! collects findings and input errors. Uses every core: several files run side by side, and
//! one large file is split by connection across worker engines (the engine's state is per
//! connection, so every connection still sees its events in order).
//!
//! It prints nothing; the reports in [`crate::sink`] render what it returns.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::engine::{Config, Engine, SchemaSet, Stats};
use crate::finding::Finding;
use crate::ocpp::Version;
use crate::source::input::{self, InputOptions, Item, JsonlSource, Source};
use crate::source::trace_reader::quick_conn;
use crate::time::Timestamp;

/// What the checker needs besides the files.
#[derive(Clone)]
pub struct CheckOptions {
    pub schemas: Arc<SchemaSet>,
    pub config: Arc<Config>,
    pub default_version: Option<Version>,
    /// Worker threads in all (0 = one per core).
    pub jobs: usize,
}

/// A problem with the input rather than the traffic: the file or line named cannot be read
/// as a trace, or the user must supply something (a version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// 0 when the error concerns the whole file.
    pub line: u64,
    pub message: String,
}

/// The outcome for one trace file.
#[derive(Debug)]
pub struct FileResult {
    pub path: PathBuf,
    /// Sorted by line.
    pub findings: Vec<Finding>,
    /// Sorted by line.
    pub input_errors: Vec<InputError>,
    pub stats: Stats,
    /// What an importer inferred (direction, zone, identity), once per connection.
    pub notes: Vec<String>,
}

/// Lines per batch handed to a worker.
const BATCH_LINES: usize = 512;
/// Batches in flight per worker; bounds memory whatever the file size.
const BATCHES_IN_FLIGHT: usize = 4;

/// Checks every file (our JSON Lines or any format [`input`] tells), in parallel; results
/// come back in the order of `paths`.
pub fn check_files(paths: &[PathBuf], opts: &CheckOptions) -> Vec<FileResult> {
    check_files_with(paths, opts, &InputOptions::default())
}

/// [`check_files`] with the input flags (`--input-format`, `--tz`, `--conn`).
pub fn check_files_with(
    paths: &[PathBuf],
    opts: &CheckOptions,
    input: &InputOptions,
) -> Vec<FileResult> {
    let cores = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        opts.jobs
    };
    let in_flight = cores.min(paths.len()).max(1);
    let shards = (cores / in_flight).max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<FileResult>> = (0..paths.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..in_flight)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        done.push((i, check_path_with(path, opts, input, shards)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    results[i] = Some(r);
                }
            }
        }
    });
    results
        .into_iter()
        .zip(paths)
        .map(|(r, p)| {
            r.unwrap_or_else(|| FileResult {
                path: p.clone(),
                findings: Vec::new(),
                input_errors: vec![InputError {
                    line: 0,
                    message: "internal error: the worker checking this file stopped".into(),
                }],
                stats: Stats::default(),
                notes: Vec::new(),
            })
        })
        .collect()
}

/// Checks one file with `shards` worker engines (1 = all in this thread).
pub fn check_path(path: &Path, opts: &CheckOptions, shards: usize) -> FileResult {
    check_path_with(path, opts, &InputOptions::default(), shards)
}

/// Checks one file (`-`: standard input) in the format `input` forces or its content tells.
pub fn check_path_with(
    path: &Path,
    opts: &CheckOptions,
    input: &InputOptions,
    shards: usize,
) -> FileResult {
    let mut result = match input::open(path, input) {
        Ok(mut src) => check_source(&mut *src, opts, shards),
        Err(e) => FileResult {
            path: PathBuf::new(),
            findings: Vec::new(),
            input_errors: vec![InputError {
                line: 0,
                message: e.to_string(),
            }],
            stats: Stats::default(),
            notes: Vec::new(),
        },
    };
    result.path = path.to_owned();
    result
}

/// Checks a trace (our JSON Lines) read from any reader.
pub fn check_reader<R: Read + Send>(reader: R, opts: &CheckOptions, shards: usize) -> FileResult {
    let mut src = JsonlSource::new(BufReader::new(reader));
    check_source(&mut src, opts, shards)
}

/// Checks what a [`Source`] reads.
pub fn check_source<S: Source + ?Sized>(
    src: &mut S,
    opts: &CheckOptions,
    shards: usize,
) -> FileResult {
    if shards <= 1 {
        let mut w = Worker::new(opts);
        let mut notes = Vec::new();
        while let Some(item) = src.next_item() {
            match item {
                Item::Line { pos, text } => w.line(pos, text),
                Item::Problem(p) => w.errors.push(InputError {
                    line: p.pos,
                    message: p.message,
                }),
                Item::Note(n) => notes.push(n),
            }
        }
        let end = w.max_at;
        let mut r = w.finish(end);
        r.input_errors.sort_by_key(|e| e.line);
        r.notes = notes;
        return r;
    }
    check_sharded(src, opts, shards)
}

/// A batch of lines for one worker: the bytes back to back, and (line number, end offset).
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    lines: Vec<(u64, usize)>,
}

fn check_sharded<S: Source + ?Sized>(
    src: &mut S,
    opts: &CheckOptions,
    shards: usize,
) -> FileResult {
    let mut read_errors = Vec::new();
    let mut notes = Vec::new();
    let mut workers: Vec<Worker> = Vec::new();
    std::thread::scope(|s| {
        let mut senders = Vec::with_capacity(shards);
        let mut handles = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (tx, rx) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
            senders.push(tx);
            handles.push(s.spawn(move || {
                let mut w = Worker::new(opts);
                for batch in rx {
                    let mut start = 0;
                    for &(n, end) in &batch.lines {
                        w.line(n, &batch.data[start..end]);
                        start = end;
                    }
                }
                w
            }));
        }
        let mut pending: Vec<Batch> = (0..shards).map(|_| Batch::default()).collect();
        'read: while let Some(item) = src.next_item() {
            let (n, line) = match item {
                Item::Line { pos, text } => (pos, text),
                Item::Problem(p) => {
                    read_errors.push(InputError {
                        line: p.pos,
                        message: p.message,
                    });
                    continue;
                }
                Item::Note(note) => {
                    notes.push(note);
                    continue;
                }
            };
            // A record for every connection (a gap without `conn`) goes to every worker.
            let targets = match shard_of(line, shards) {
                Some(s) => s..s + 1,
                None => 0..shards,
            };
            for shard in targets {
                let b = &mut pending[shard];
                b.data.extend_from_slice(line);
                b.lines.push((n, b.data.len()));
                if b.lines.len() == BATCH_LINES {
                    let full = std::mem::take(b);
                    if senders[shard].send(full).is_err() {
                        break 'read;
                    }
                }
            }
        }
        for (tx, b) in senders.iter().zip(pending) {
            if !b.lines.is_empty() {
                let _ = tx.send(b);
            }
        }
        drop(senders);
        for h in handles {
            match h.join() {
                Ok(w) => workers.push(w),
                Err(_) => read_errors.push(InputError {
                    line: 0,
                    message: "internal error: a checking worker stopped".into(),
                }),
            }
        }
    });
    // Every engine settles its time-based rules against the end of the whole trace, not
    // the last event it happened to see, so the verdict does not depend on the split.
    let end = workers.iter().filter_map(|w| w.max_at).max();
    let parts: Vec<FileResult> = workers.into_iter().map(|w| w.finish(end)).collect();
    let mut merged = FileResult {
        path: PathBuf::new(),
        findings: Vec::new(),
        input_errors: read_errors,
        stats: Stats::default(),
        notes,
    };
    for p in parts {
        merged.findings.extend(p.findings);
        merged.input_errors.extend(p.input_errors);
        merged.stats.frames += p.stats.frames;
        merged.stats.connections += p.stats.connections;
    }
    // Stable: findings of one line come from one worker, in the order it produced them.
    merged.findings.sort_by_key(|f| f.line);
    merged.input_errors.sort_by_key(|e| e.line);
    merged
}

/// The worker a line goes to: by connection, so each connection stays on one engine;
/// `None`: every worker (a gap record without `conn` concerns every connection).
fn shard_of(line: &[u8], shards: usize) -> Option<usize> {
    let key: &[u8] = match quick_conn(line) {
        Some(k) => k,
        None => {
            // Unusual formatting: parse properly; an unreadable line goes anywhere (it is an
            // input error whichever worker reports it).
            #[derive(serde::Deserialize)]
            struct ConnOnly<'a> {
                #[serde(borrow, default)]
                conn: Option<std::borrow::Cow<'a, str>>,
                #[serde(borrow, default)]
                event: Option<std::borrow::Cow<'a, str>>,
            }
            return match serde_json::from_slice::<ConnOnly<'_>>(line) {
                Ok(ConnOnly { conn: Some(c), .. }) => Some(hash_shard(c.as_bytes(), shards)),
                Ok(ConnOnly {
                    conn: None,
                    event: Some(e),
                }) if e == "gap" => None,
                _ => Some(0),
            };
        }
    };
    Some(hash_shard(key, shards))
}

fn hash_shard(key: &[u8], shards: usize) -> usize {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    usize::try_from(h.finish() % shards as u64).unwrap_or(0)
}

/// One engine and what it has produced.
struct Worker {
    engine: Engine,
    findings: Vec<Finding>,
    errors: Vec<InputError>,
    /// The latest timestamp seen: where the observation ends.
    max_at: Option<Timestamp>,
}

impl Worker {
    fn new(opts: &CheckOptions) -> Self {
        Worker {
            engine: Engine::new(
                opts.schemas.clone(),
                opts.config.clone(),
                opts.default_version,
            ),
            findings: Vec::new(),
            errors: Vec::new(),
            max_at: None,
        }
    }

    fn line(&mut self, n: u64, line: &[u8]) {
        match crate::source::trace_reader::parse_record(line, n) {
            Ok(record) => {
                self.max_at = Some(self.max_at.map_or(record.at, |m| m.max(record.at)));
                if let Some(event) = record.event(n)
                    && let Err(e) = self.engine.feed(&event, &mut self.findings)
                {
                    self.errors.push(InputError {
                        line: n,
                        message: e.to_string(),
                    });
                }
            }
            Err(e) => self.errors.push(InputError {
                line: e.line,
                message: e.message,
            }),
        }
    }

    /// Settles the time-based rules at `end` and hands over what was found.
    fn finish(mut self, end: Option<Timestamp>) -> FileResult {
        if let Some(end) = end {
            self.engine.finish(end, &mut self.findings);
        }
        // Findings about earlier frames (a CALL never answered) carry that frame's line.
        self.findings.sort_by_key(|f| f.line);
        FileResult {
            path: PathBuf::new(),
            stats: self.engine.stats(),
            findings: self.findings,
            input_errors: self.errors,
            notes: Vec::new(),
        }
    }
}
