//! `cargo bench --bench import_throughput`: how fast `check` reads a pcap capture, next to
//! `check` on the equivalent JSON Lines trace.
//!
//! Generates a trace (200,000 frames by default, `BENCH_FRAMES` overrides; 1.6 and 2.0.1
//! stations), writes the same traffic as a pcap capture (Ethernet, IPv4, each message in
//! one TCP segment, masked from the charger) and as a pcapng with permessage-deflate, then
//! reports for each: MB/s of input and frames/s for
//! - import only (reading the input into trace records, no judging),
//! - `check` on one core.
//!
//! `BENCH_KEEP=DIR` writes the three inputs to DIR and keeps them (`trace.jsonl`,
//! `trace.pcap`, `trace-deflate.pcapng`), e.g. to profile `check` on one of them.
//!
//! A benchmark, not a test: it asserts nothing and prints figures.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark: a failed set-up step should stop it loudly"
)]

#[path = "support/tracegen.rs"]
mod tracegen;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ocpp_inspector::checker::{CheckOptions, check_path_with};
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::source::input::{self, InputOptions, Item, Rec};
use ocpp_inspector::source::pcap::synth;
use ocpp_inspector::source::trace_reader::parse_record;

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

fn import_only(path: &Path) -> u64 {
    let mut src = input::open(path, &InputOptions::default()).expect("open");
    let mut n = 0;
    while let Some(item) = src.next_item() {
        if let Item::Line { .. } = item {
            n += 1;
        }
    }
    n
}

fn main() {
    let frames: u64 = std::env::var("BENCH_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    // `BENCH_KEEP=DIR`: the inputs are written there and kept (to profile one of them).
    let keep = std::env::var_os("BENCH_KEEP").map(std::path::PathBuf::from);
    let dir = match &keep {
        Some(d) => {
            std::fs::create_dir_all(d).expect("BENCH_KEEP dir");
            d.clone()
        }
        None => tempfile_dir(),
    };
    let jsonl = dir.join("trace.jsonl");
    {
        let file = std::fs::File::create(&jsonl).expect("create trace");
        let mut out = std::io::BufWriter::new(file);
        let opts = tracegen::GenOptions {
            frames,
            connections: 200,
            seed: 7,
            v201_share: 0.4,
        };
        tracegen::generate(&opts, &mut out).expect("generate");
    }
    let text = std::fs::read(&jsonl).expect("read");
    let recs: Vec<Rec> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| Rec::from_record(&parse_record(l, 1).expect("record")))
        .collect();
    drop(text);
    let pcap = dir.join("trace.pcap");
    std::fs::write(&pcap, synth::capture(&recs, &synth::Options::default())).expect("pcap");
    let deflated = dir.join("trace-deflate.pcapng");
    let o = synth::Options {
        pcapng: true,
        deflate: Some(false),
        ..synth::Options::default()
    };
    std::fs::write(&deflated, synth::capture(&recs, &o)).expect("pcapng");
    drop(recs);

    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas"));
    let opts = CheckOptions {
        schemas,
        config: Arc::new(Config::default()),
        default_version: None,
        jobs: 1,
    };
    println!("import_throughput: {frames} frames, best of 3, one core");
    println!(
        "{:<28} {:>10} {:>12} {:>12} {:>14}",
        "input", "MB", "what", "MB/s", "frames/s"
    );
    for (name, path) in [
        ("JSON Lines", &jsonl),
        ("pcap", &pcap),
        ("pcapng + deflate", &deflated),
    ] {
        let mb = std::fs::metadata(path).expect("size").len() as f64 / 1e6;
        let (t, n) = best_of(3, || import_only(path));
        println!(
            "{name:<28} {mb:>10.1} {:>12} {:>12.1} {:>14.0}",
            "read",
            mb / t,
            frames as f64 / t
        );
        let _ = n;
        let (t, _) = best_of(3, || {
            let r = check_path_with(path, &opts, &InputOptions::default(), 1);
            assert!(
                r.input_errors.is_empty(),
                "{name}: {:?}",
                r.input_errors.first()
            );
            r.stats.frames
        });
        println!(
            "{name:<28} {mb:>10.1} {:>12} {:>12.1} {:>14.0}",
            "check",
            mb / t,
            frames as f64 / t
        );
    }
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
