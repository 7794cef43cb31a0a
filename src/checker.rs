//! Offline checking of trace files: reads each file as a stream, feeds the engine, and
//! collects findings and input errors. Uses every core: several files run side by side, and
//! one large file is split by connection across worker engines (the engine's state is per
//! connection, so every connection still sees its events in order).
//!
//! Memory is bounded by the stations, not by the trace: batches handed to workers are bounded
//! in lines and bytes, and with [`StreamOptions::spill`] a worker's findings go to anonymous
//! temporary files in sorted runs, merged back in line order when a report reads them
//! ([`Findings`]). A file that is not a trace stops after [`MAX_INPUT_ERRORS`].
//!
//! It prints nothing; the reports in [`crate::sink`] render what it returns.

mod spill;

use foldhash::HashMap;
use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

pub use spill::Findings;

use crate::engine::{Config, Engine, EventKind, SchemaSet, Stats};
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

/// How [`check_files_streaming`] keeps its findings and reports its progress.
#[derive(Clone, Default)]
pub struct StreamOptions {
    /// Spill findings to temporary files in sorted runs (memory bounded whatever their
    /// number); off, they stay in memory.
    pub spill: bool,
    /// Counters a progress display reads while the check runs.
    pub progress: Option<Arc<Progress>>,
    /// The input flags (`--input-format`, `--tz`, `--conn`): how files are read.
    pub input: InputOptions,
}

/// Live counters over the whole run (all files), updated as workers go.
#[derive(Debug, Default)]
pub struct Progress {
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    pub stations: AtomicU64,
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

/// What the station said about itself in its BootNotification (the last one seen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationInfo {
    pub version: Option<Version>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware: Option<String>,
}

/// The outcome for one trace file, its findings streamed (see [`Findings`]).
pub struct CheckedFile {
    pub path: PathBuf,
    /// In line order; read once.
    pub findings: Findings,
    /// Sorted by line; at most [`MAX_INPUT_ERRORS`] and one line saying the reading stopped.
    pub input_errors: Vec<InputError>,
    pub stats: Stats,
    /// Every station seen, by identity.
    pub stations: BTreeMap<Arc<str>, StationInfo>,
    /// The latest timestamp in the file: where the observation ends.
    pub end: Option<Timestamp>,
    /// What an importer inferred (direction, zone, identity), once per connection.
    pub notes: Vec<String>,
}

impl CheckedFile {
    /// The OCPP versions the file's stations speak, in order.
    pub fn versions(&self) -> Vec<Version> {
        let mut v: Vec<Version> = self.stations.values().filter_map(|s| s.version).collect();
        v.sort_by_key(|v| v.subprotocol());
        v.dedup();
        v
    }
}

/// Lines per batch handed to a worker.
const BATCH_LINES: usize = 512;
/// Bytes per batch (a batch is sent when either bound is reached; one longer line is one batch).
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight per worker; bounds memory whatever the file size.
const BATCHES_IN_FLIGHT: usize = 4;
/// Input errors after which a file is taken for something else than a trace and not read on.
pub const MAX_INPUT_ERRORS: usize = 100;

/// Checks every file, in parallel; results come back in the order of `paths`.
pub fn check_files(paths: &[PathBuf], opts: &CheckOptions) -> Vec<FileResult> {
    check_files_with(paths, opts, &InputOptions::default())
}

/// [`check_files`] with the input flags (`--input-format`, `--tz`, `--conn`).
pub fn check_files_with(
    paths: &[PathBuf],
    opts: &CheckOptions,
    input: &InputOptions,
) -> Vec<FileResult> {
    let stream = StreamOptions {
        input: input.clone(),
        ..StreamOptions::default()
    };
    let mut out = Vec::with_capacity(paths.len());
    check_files_streaming(paths, opts, &stream, |f| {
        out.push(f.into_result());
    });
    out
}

/// Checks every file, in parallel, and hands each result to `each` in the order of `paths`.
/// With [`StreamOptions::spill`], a result waiting for an earlier file holds its findings on
/// disk, not in memory.
pub fn check_files_streaming(
    paths: &[PathBuf],
    opts: &CheckOptions,
    stream: &StreamOptions,
    mut each: impl FnMut(CheckedFile),
) {
    let cores = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        opts.jobs
    };
    let in_flight = cores.min(paths.len()).max(1);
    let shards = (cores / in_flight).max(1);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, CheckedFile)>();
    std::thread::scope(|s| {
        for _ in 0..in_flight {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    if tx
                        .send((i, check_path_streaming(path, opts, stream, shards)))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Hand results over in order as soon as each one's turn comes.
        let mut waiting: BTreeMap<usize, CheckedFile> = BTreeMap::new();
        let mut turn = 0;
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&turn) {
                each(r);
                turn += 1;
            }
        }
        // A worker that stopped leaves holes: say so for each file it did not check.
        for (i, p) in paths.iter().enumerate().skip(turn) {
            match waiting.remove(&i) {
                Some(r) => each(r),
                None => each(file_error(
                    p,
                    "internal error: the worker checking this file stopped".into(),
                )),
            }
        }
    });
}

fn file_error(path: &Path, message: String) -> CheckedFile {
    CheckedFile {
        path: path.to_owned(),
        findings: Findings::default(),
        input_errors: vec![InputError { line: 0, message }],
        stats: Stats::default(),
        stations: BTreeMap::new(),
        end: None,
        notes: Vec::new(),
    }
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
    let stream = StreamOptions {
        input: input.clone(),
        ..StreamOptions::default()
    };
    check_path_streaming(path, opts, &stream, shards).into_result()
}

/// [`check_path`], its findings streamed.
pub fn check_path_streaming(
    path: &Path,
    opts: &CheckOptions,
    stream: &StreamOptions,
    shards: usize,
) -> CheckedFile {
    // The one place `check` opens its inputs: the input layer tells the format.
    let mut src = match input::open(path, &stream.input) {
        Ok(src) => src,
        Err(e) => return file_error(path, e.to_string()),
    };
    let mut result = check_source_streaming(&mut *src, opts, stream, shards);
    result.path = path.to_owned();
    result
}

/// Checks a trace read from any reader.
pub fn check_reader<R: Read + Send>(reader: R, opts: &CheckOptions, shards: usize) -> FileResult {
    check_reader_streaming(reader, opts, &StreamOptions::default(), shards).into_result()
}

/// [`check_reader`], its findings streamed.
pub fn check_reader_streaming<R: Read + Send>(
    reader: R,
    opts: &CheckOptions,
    stream: &StreamOptions,
    shards: usize,
) -> CheckedFile {
    let mut src = JsonlSource::new(BufReader::new(reader));
    check_source_streaming(&mut src, opts, stream, shards)
}

/// Checks what a [`Source`] reads (any input format), its findings streamed.
pub fn check_source_streaming<S: Source + ?Sized>(
    src: &mut S,
    opts: &CheckOptions,
    stream: &StreamOptions,
    shards: usize,
) -> CheckedFile {
    let errors = AtomicUsize::new(0);
    if shards <= 1 {
        let mut w = Worker::new(opts, stream, 0, &errors);
        let mut read_errors = Vec::new();
        let mut notes = Vec::new();
        loop {
            if errors.load(Ordering::Relaxed) >= MAX_INPUT_ERRORS {
                read_errors.push(stopped());
                break;
            }
            match src.next_item() {
                Some(Item::Line { pos, text }) => {
                    w.count_bytes(text.len());
                    w.line(pos, text);
                }
                Some(Item::Problem(p)) => read_errors.push(InputError {
                    line: p.pos,
                    message: p.message,
                }),
                Some(Item::Note(n)) => notes.push(n),
                None => break,
            }
        }
        let end = w.max_at;
        let part = w.finish(end);
        let mut out = merge(vec![part], read_errors, end, errors.load(Ordering::Relaxed));
        out.notes = notes;
        return out;
    }
    check_sharded(src, opts, stream, shards, &errors)
}

/// Marks that the reading stopped at the bound of input errors ([`merge`] words it).
fn stopped() -> InputError {
    InputError {
        line: u64::MAX,
        message: String::new(),
    }
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
    stream: &StreamOptions,
    shards: usize,
    errors: &AtomicUsize,
) -> CheckedFile {
    let mut read_errors = Vec::new();
    let mut notes = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut workers: Vec<Worker<'_>> = Vec::new();
    std::thread::scope(|s| {
        let mut senders = Vec::with_capacity(shards);
        let mut handles = Vec::with_capacity(shards);
        for shard in 0..shards {
            let (tx, rx) = mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
            senders.push(tx);
            handles.push(s.spawn(move || {
                let mut w = Worker::new(opts, stream, u32::try_from(shard).unwrap_or(0), errors);
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
        let progress = stream.progress.as_deref();
        'read: loop {
            if errors.load(Ordering::Relaxed) >= MAX_INPUT_ERRORS {
                read_errors.push(stopped());
                break;
            }
            let (n, line) = match src.next_item() {
                Some(Item::Line { pos, text }) => (pos, text),
                Some(Item::Problem(p)) => {
                    read_errors.push(InputError {
                        line: p.pos,
                        message: p.message,
                    });
                    continue;
                }
                Some(Item::Note(note)) => {
                    notes.push(note);
                    continue;
                }
                None => break,
            };
            if let Some(p) = progress {
                p.bytes.fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
            }
            // A record for every connection (a gap without `conn`) goes to every worker.
            let targets = match shard_of(line, shards) {
                Some(s) => s..s + 1,
                None => 0..shards,
            };
            for shard in targets {
                let b = &mut pending[shard];
                b.data.extend_from_slice(line);
                b.lines.push((n, b.data.len()));
                if b.lines.len() == BATCH_LINES || b.data.len() >= BATCH_BYTES {
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
    for w in workers {
        parts.push(w.finish(end));
    }
    let mut out = merge(parts, read_errors, end, errors.load(Ordering::Relaxed));
    out.notes = notes;
    out
}

/// What one worker hands over.
struct Part {
    findings: spill::Runs,
    errors: Vec<InputError>,
    stats: Stats,
    stations: BTreeMap<Arc<str>, StationInfo>,
}

fn merge(
    parts: Vec<Part>,
    read_errors: Vec<InputError>,
    end: Option<Timestamp>,
    total_errors: usize,
) -> CheckedFile {
    let mut out = CheckedFile {
        path: PathBuf::new(),
        findings: Findings::default(),
        input_errors: read_errors,
        stats: Stats::default(),
        stations: BTreeMap::new(),
        end,
        notes: Vec::new(),
    };
    let mut runs = Vec::new();
    for p in parts {
        runs.push(p.findings);
        out.input_errors.extend(p.errors);
        out.stats.frames += p.stats.frames;
        out.stats.connections += p.stats.connections;
        out.stations.extend(p.stations);
    }
    out.input_errors.sort_by_key(|e| e.line);
    // At most the bound, then one line saying the rest was not listed (or not read).
    let stopped_at = out
        .input_errors
        .iter()
        .position(|e| e.line == u64::MAX)
        .map(|i| out.input_errors.remove(i));
    if stopped_at.is_some() || total_errors > MAX_INPUT_ERRORS {
        let last = out
            .input_errors
            .get(MAX_INPUT_ERRORS - 1)
            .map_or(0, |e| e.line);
        out.input_errors.truncate(MAX_INPUT_ERRORS);
        out.input_errors.push(InputError {
            line: last,
            message: format!(
                "stopped after {MAX_INPUT_ERRORS} input errors{}: this does not look like a trace file (JSON Lines)",
                if stopped_at.is_some() {
                    ", the rest of the file not read"
                } else {
                    ", more not listed"
                }
            ),
        });
    }
    out.findings = Findings::merged(runs);
    out
}

impl CheckedFile {
    /// Reads the findings into memory (the old, unbounded shape, for small traces and tests).
    pub fn into_result(self) -> FileResult {
        let mut input_errors = self.input_errors;
        let mut findings = Vec::new();
        for f in self.findings {
            match f {
                Ok(f) => findings.push(f),
                Err(e) => input_errors.push(InputError {
                    line: 0,
                    message: format!("internal error: reading back spilled findings: {e}"),
                }),
            }
        }
        FileResult {
            path: self.path,
            findings,
            input_errors,
            stats: self.stats,
            notes: self.notes,
        }
    }
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

/// Findings a worker keeps in memory before it writes them out as a sorted run.
const SPILL_AT: usize = 16 * 1024;

/// One engine and what it has produced.
struct Worker<'a> {
    engine: Engine,
    default_version: Option<Version>,
    findings: Vec<Finding>,
    runs: spill::Runs,
    spill: bool,
    errors: Vec<InputError>,
    /// Input errors of the whole file, over every worker.
    file_errors: &'a AtomicUsize,
    /// The stations seen, in first-seen order, and where each is in that list (one lookup
    /// and no allocation for a frame of a known station).
    stations: Vec<(Arc<str>, StationInfo)>,
    station_index: HashMap<Arc<str>, usize>,
    progress: Option<Arc<Progress>>,
    frames_reported: u64,
    /// The latest timestamp seen: where the observation ends.
    max_at: Option<Timestamp>,
}

impl<'a> Worker<'a> {
    fn new(
        opts: &CheckOptions,
        stream: &StreamOptions,
        index: u32,
        file_errors: &'a AtomicUsize,
    ) -> Self {
        Worker {
            engine: Engine::new(
                opts.schemas.clone(),
                opts.config.clone(),
                opts.default_version,
            ),
            default_version: opts.default_version,
            findings: Vec::new(),
            runs: spill::Runs::new(index),
            spill: stream.spill,
            errors: Vec::new(),
            file_errors,
            stations: Vec::new(),
            station_index: HashMap::default(),
            progress: stream.progress.clone(),
            frames_reported: 0,
            max_at: None,
        }
    }

    fn count_bytes(&self, n: usize) {
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(n as u64 + 1, Ordering::Relaxed);
        }
    }

    fn input_error(&mut self, line: u64, message: String) {
        if self.file_errors.fetch_add(1, Ordering::Relaxed) < MAX_INPUT_ERRORS {
            self.errors.push(InputError { line, message });
        }
    }

    fn line(&mut self, n: u64, line: &[u8]) {
        match crate::source::trace_reader::parse_record_into(line, n, self.engine.frame_doc()) {
            Ok(record) => {
                self.max_at = Some(self.max_at.map_or(record.at, |m| m.max(record.at)));
                if let Some(event) = record.event(n) {
                    self.note_station(&event);
                    if let Err(e) = self.engine.feed(&event, &mut self.findings) {
                        self.input_error(n, e.to_string());
                    }
                }
            }
            Err(e) => self.input_error(e.line, e.message),
        }
        if let Some(p) = &self.progress {
            let frames = self.engine.stats().frames;
            p.frames
                .fetch_add(frames - self.frames_reported, Ordering::Relaxed);
            self.frames_reported = frames;
        }
        if self.spill && self.findings.len() >= SPILL_AT {
            self.spill_now();
        }
    }

    fn spill_now(&mut self) {
        if let Err(e) = self.runs.spill(&mut self.findings) {
            // Keep them in memory instead: slower to bound, never lost.
            self.spill = false;
            self.errors.push(InputError {
                line: 0,
                message: format!(
                    "cannot spill findings to a temporary file ({e}); keeping them in memory"
                ),
            });
        }
    }

    /// Keeps what `check` needs to know per station: its version, and what its
    /// BootNotification said about it.
    fn note_station(&mut self, event: &crate::engine::Event<'_>) {
        let default_version = self.default_version;
        match event.kind {
            EventKind::Open(handshake) => {
                let version = handshake
                    .subprotocol
                    .and_then(Version::from_subprotocol)
                    .or(default_version);
                self.station(event.conn).version = version;
            }
            EventKind::Frame { .. } | EventKind::Binary { .. } | EventKind::Close { .. } => {
                self.station(event.conn);
            }
            // A gap names missing frames, not a station (it may concern every connection).
            EventKind::Gap { .. } => {}
        }
    }

    /// The station `conn`, added (with the default version) when first seen.
    fn station(&mut self, conn: &str) -> &mut StationInfo {
        let i = match self.station_index.get(conn) {
            Some(&i) => i,
            None => {
                if let Some(p) = &self.progress {
                    p.stations.fetch_add(1, Ordering::Relaxed);
                }
                let key: Arc<str> = Arc::from(conn);
                let info = StationInfo {
                    version: self.default_version,
                    ..StationInfo::default()
                };
                self.stations.push((key.clone(), info));
                self.station_index.insert(key, self.stations.len() - 1);
                self.stations.len() - 1
            }
        };
        &mut self.stations[i].1
    }

    /// Settles the time-based rules at `end` and hands over what was found.
    fn finish(mut self, end: Option<Timestamp>) -> Part {
        if let Some(end) = end {
            self.engine.finish(end, &mut self.findings);
        }
        // What is left goes to disk too, unless it is small: a file waiting for its turn
        // must not hold many findings in memory.
        if self.spill && self.findings.len() > 256 {
            self.spill_now();
        }
        let mut findings = std::mem::take(&mut self.findings);
        self.runs.keep(&mut findings);
        // What each station said about itself: the engine's station model knows it.
        for (conn, info) in &mut self.stations {
            if let Some(id) = self.engine.identity(conn) {
                info.vendor.clone_from(&id.vendor);
                info.model.clone_from(&id.model);
                info.serial.clone_from(&id.serial);
                info.firmware.clone_from(&id.firmware);
            }
        }
        Part {
            stats: self.engine.stats(),
            findings: self.runs,
            errors: self.errors,
            stations: self.stations.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_station_is_named_by_its_last_boot_notification_in_either_generation() {
        let trace = [
            r#"{"ts":"2026-11-22T10:00:00Z","conn":"A","event":"open","subprotocol":"ocpp1.6"}"#,
            r#"{"ts":"2026-11-22T10:00:01Z","conn":"A","from":"charger","text":"[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"ACME\",\"chargePointModel\":\"X1\",\"chargePointSerialNumber\":\"S-9\",\"firmwareVersion\":\"1.2\"}]"}"#,
            r#"{"ts":"2026-11-22T10:00:02Z","conn":"A","from":"csms","text":"[3,\"1\",{\"status\":\"Accepted\",\"currentTime\":\"2026-11-22T10:00:02Z\",\"interval\":300}]"}"#,
            r#"{"ts":"2026-11-22T10:00:00Z","conn":"B","event":"open","subprotocol":"ocpp2.0.1"}"#,
            r#"{"ts":"2026-11-22T10:00:01Z","conn":"B","from":"charger","text":"[2,\"1\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":{\"vendorName\":\"V\",\"model\":\"M\"}}]"}"#,
            r#"{"ts":"2026-11-22T10:00:03Z","conn":"B","from":"charger","text":"[2,\"2\",\"BootNotification\",{\"reason\":\"PowerUp\",\"chargingStation\":{\"vendorName\":\"V2\",\"model\":\"M2\",\"serialNumber\":\"SN\",\"firmwareVersion\":\"9\"}}]"}"#,
        ]
        .join("\n");
        let opts = CheckOptions {
            schemas: Arc::new(
                crate::engine::SchemaSet::builtin(&crate::engine::schema::ErrataSelection::all())
                    .unwrap_or_else(|e| panic!("schemas: {e}")),
            ),
            config: Arc::new(crate::engine::Config::default()),
            default_version: None,
            jobs: 1,
        };
        let r = check_reader_streaming(trace.as_bytes(), &opts, &StreamOptions::default(), 1);
        let id = |conn: &str| {
            let s = &r.stations[conn];
            (
                s.vendor.as_deref(),
                s.model.as_deref(),
                s.serial.as_deref(),
                s.firmware.as_deref(),
            )
        };
        assert_eq!(
            id("A"),
            (Some("ACME"), Some("X1"), Some("S-9"), Some("1.2"))
        );
        // The last BootNotification names the station.
        assert_eq!(id("B"), (Some("V2"), Some("M2"), Some("SN"), Some("9")));
    }
}
