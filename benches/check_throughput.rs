//! `cargo bench --bench check_throughput`: how fast `check` judges a realistic mixed trace.
//!
//! Generates a trace of 1,000,000 frames (1.6 and 2.0.1 stations; override with
//! `BENCH_FRAMES`), then reports frames per second for
//! - a naive parse only: the trace record and the frame inside it, each into a
//!   `serde_json::Value` (what any checker pays before it judges anything),
//! - `check` on one core (one engine, everything in this thread),
//! - `check --schema-only` on one core (framing and schemas, no protocol rule): with the
//!   naive parse above, it separates what parsing, schemas and rules cost,
//! - `check` on every core (the file split by connection across workers),
//!
//! - side by side, when Node.js is installed: `ocpp-rpc`'s strict-mode validators (ajv,
//!   schemas only) on the same frames (`benches/node/validate.mjs`, its package pinned in
//!   `benches/node/package.json`, installed with `npm ci` on first use; skipped with a message
//!   when `node` or `npm` is missing; `BENCH_NODE=0` skips it),
//!
//! and the peak memory of checking a trace with 50,000 connections (three runs with the
//! allocator's default settings, whose peak moves with the timing of its delayed purges, and
//! one with `MIMALLOC_PURGE_DELAY=0`, the figure that is the same from run to run).
//! A benchmark, not a test: it asserts nothing and prints figures.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark: a failed set-up step should stop it loudly"
)]

#[path = "support/tracegen.rs"]
mod tracegen;

// The same allocator as the `ocpp-inspector` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::Instant;

use ocpp_inspector::checker::{CheckOptions, check_path};
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn generate(path: &std::path::Path, frames: u64, connections: u32) -> u64 {
    let file = std::fs::File::create(path).expect("create trace");
    let mut out = std::io::BufWriter::new(file);
    let opts = tracegen::GenOptions {
        frames,
        connections,
        seed: 7,
        v201_share: 0.4,
    };
    tracegen::generate(&opts, &mut out).expect("generate trace")
}

fn best_of<F: FnMut() -> u64>(runs: usize, mut f: F) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, n)
}

/// Checks a trace of 50,000 connections and prints this process's peak memory. Runs in a
/// child process so the other measurements do not inflate the figure.
fn memory_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `BENCH_KEEP_MANY=path` keeps this trace too (to see its findings with the CLI).
    let many = std::env::var_os("BENCH_KEEP_MANY")
        .map_or_else(|| dir.path().join("many.jsonl"), std::path::PathBuf::from);
    let written = generate(&many, 400_000, 50_000);
    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas")),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 0,
    };
    let before = peak_rss_kib();
    let r = check_path(&many, &opts, 1);
    println!(
        "50,000 connections, {written} frames, 1 core: {} connections checked, {} findings, peak RSS {:.1} MiB (after start-up and schema compilation: {:.1} MiB)",
        r.stats.connections,
        r.findings.len(),
        peak_rss_kib() as f64 / 1024.0,
        before as f64 / 1024.0
    );
}

fn main() {
    if std::env::var_os("BENCH_MEMORY_ONLY").is_some() {
        memory_only();
        return;
    }
    let frames: u64 = std::env::var("BENCH_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    // `BENCH_KEEP=path` writes the generated trace there too (to profile the CLI on it).
    let trace = match std::env::var_os("BENCH_KEEP") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("mixed.jsonl"),
    };
    let written = generate(&trace, frames, 500);
    let bytes = std::fs::metadata(&trace).map(|m| m.len()).unwrap_or(0);
    println!(
        "trace: {written} frames, 500 connections (40 % 2.0.1), {:.1} MB, {:.0} bytes/line",
        bytes as f64 / 1e6,
        bytes as f64 / written as f64
    );

    let (t, n) = best_of(3, || {
        let f = std::fs::File::open(&trace).expect("open");
        let mut n = 0u64;
        for line in BufReader::new(f).lines() {
            let line = line.expect("line");
            let rec: serde_json::Value = serde_json::from_str(&line).expect("record");
            if let Some(text) = rec.get("text").and_then(|t| t.as_str()) {
                let v: Result<serde_json::Value, _> = serde_json::from_str(text);
                std::hint::black_box(&v);
                n += 1;
            }
        }
        n
    });
    println!(
        "naive serde_json::Value parse (record + frame), 1 core: {:>9.0} frames/s",
        n as f64 / t
    );

    let opts = CheckOptions {
        schemas: Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas")),
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 0,
    };
    let mut errors = 0;
    let (t1, n1) = best_of(3, || {
        let r = check_path(&trace, &opts, 1);
        errors = r
            .findings
            .iter()
            .filter(|f| f.severity == ocpp_inspector::finding::Severity::Error)
            .count();
        r.stats.frames
    });
    let ours = n1 as f64 / t1;
    println!(
        "check, 1 core (one engine):                      {ours:>9.0} frames/s ({errors} errors)"
    );
    let schema_opts = CheckOptions {
        config: Arc::new({
            let mut c = Config::default();
            c.schema_only = true;
            c
        }),
        ..opts.clone()
    };
    let (t, n) = best_of(3, || check_path(&trace, &schema_opts, 1).stats.frames);
    let schema_only = n as f64 / t;
    println!(
        "check --schema-only, 1 core (framing, schemas; no protocol rules): {schema_only:>9.0} frames/s"
    );
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (t, n) = best_of(3, || check_path(&trace, &opts, cores).stats.frames);
    println!(
        "check, {cores} cores (split by connection):          {:>9.0} frames/s",
        n as f64 / t
    );

    if std::env::var("BENCH_NODE").as_deref() != Ok("0") {
        side_by_side(&trace, ours, schema_only);
    }

    // The allocator hands freed pages back to the system after a delay, so the peak with its
    // default settings moves from run to run (by about 90 MiB on this trace): three runs show
    // the spread, and one with `MIMALLOC_PURGE_DELAY=0` (freed pages handed back at once) the
    // memory the checker really holds, the figure to compare between builds.
    let exe = std::env::current_exe().expect("own path");
    for (label, purge_delay) in [
        ("default allocator settings, run 1", None),
        ("default allocator settings, run 2", None),
        ("default allocator settings, run 3", None),
        ("MIMALLOC_PURGE_DELAY=0", Some("0")),
    ] {
        let mut cmd = std::process::Command::new(&exe);
        cmd.env("BENCH_MEMORY_ONLY", "1");
        if let Some(d) = purge_delay {
            cmd.env("MIMALLOC_PURGE_DELAY", d);
        }
        match cmd.output() {
            Ok(out) => print!("[{label}] {}", String::from_utf8_lossy(&out.stdout)),
            Err(e) => println!("memory measurement failed to start: {e}"),
        }
    }
}

/// `ocpp-rpc`'s validators on the same trace (Node.js, one core), next to `check -j 1`.
fn side_by_side(trace: &std::path::Path, ours: f64, schema_only: f64) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/node");
    let has = |cmd: &str| {
        std::process::Command::new(cmd)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("node") || !has("npm") {
        println!("ocpp-rpc side by side: skipped (node or npm not installed)");
        return;
    }
    if !dir.join("node_modules/ocpp-rpc").exists() {
        let ok = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            println!(
                "ocpp-rpc side by side: skipped (`npm ci` in {} failed)",
                dir.display()
            );
            return;
        }
    }
    let mut best: Option<(u64, f64, f64)> = None;
    for _ in 0..3 {
        let out = std::process::Command::new("node")
            .arg(dir.join("validate.mjs"))
            .arg(trace)
            .stderr(std::process::Stdio::null())
            .output();
        let Ok(out) = out else {
            println!("ocpp-rpc side by side: node did not start");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<f64>().ok())
        };
        let (Some(frames), Some(total), Some(steady)) =
            (field("frames"), field("seconds"), field("steady_seconds"))
        else {
            println!("ocpp-rpc side by side: unexpected output {text:?}");
            return;
        };
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a frame count printed by the script"
        )]
        let run = (frames as u64, total, steady);
        if best.is_none_or(|b| run.2 < b.2) {
            best = Some(run);
        }
    }
    if let Some((frames, total, steady)) = best {
        let steady_rate = frames as f64 / steady;
        println!(
            "ocpp-rpc 2.2.1 validators (ajv, schemas only), Node, 1 core: {steady_rate:>9.0} frames/s steady ({:.0} with start-up)",
            frames as f64 / total
        );
        println!(
            "ratio check -j 1 (framing, schemas, all rules) / ocpp-rpc schema-only: {:.2}",
            ours / steady_rate
        );
        println!(
            "ratio check --schema-only -j 1 / ocpp-rpc schema-only: {:.2}",
            schema_only / steady_rate
        );
    }
}
