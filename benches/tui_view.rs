//! `cargo bench --bench tui_view [-- BYTES]`: `view` of a large trace. Writes a generated
//! 1.6 trace of about BYTES (default 1 GB) to a temporary directory, then reports
//! - time to first screen: opening the trace and drawing the first screen (120x40) while the
//!   indexer has only just started, as `view` does,
//! - time to index the whole trace (read, judged by the engine, fed to the UI),
//! - reaching the first frame and the last (texts read back from the file),
//! - peak resident memory (VmHWM) after indexing, and the trace's size beside it.
//!
//! A benchmark, not a test: it asserts nothing and prints figures.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed set-up step should stop it loudly"
)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp_inspector::cli::view::Indexer;
use ocpp_inspector::engine::Config;
use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::sink::tui::app::{Action, Limits};
use ocpp_inspector::sink::tui::feed;
use ocpp_inspector::sink::tui::ui;
use ocpp_inspector::source::input::InputOptions;
use ocpp_inspector::time::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Writes MeterValues / Heartbeat pairs on 20 stations until the file holds `bytes`.
fn write_trace(path: &Path, bytes: u64) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    let put = |w: &mut BufWriter<std::fs::File>, written: &mut u64, s: String| {
        *written += s.len() as u64 + 1;
        writeln!(w, "{s}").unwrap();
    };
    let ts = |i: u64| {
        Timestamp::from_micros(1_700_000_000_000_000 + i64::try_from(i).unwrap() * 1000)
            .to_rfc3339_micros()
    };
    for c in 0..20 {
        put(
            &mut w,
            &mut written,
            format!(
                r#"{{"ts":"{}","conn":"CP-{c:02}","event":"open","subprotocol":"ocpp1.6"}}"#,
                ts(0)
            ),
        );
    }
    let mut i = 0u64;
    let mut frames = 0u64;
    while written < bytes {
        let conn = format!("CP-{:02}", i % 20);
        let (call, reply) = if i.is_multiple_of(5) {
            (
                format!(r#"[2,\"h{i}\",\"Heartbeat\",{{}}]"#),
                format!(r#"[3,\"h{i}\",{{\"currentTime\":\"2023-11-14T22:13:20Z\"}}]"#),
            )
        } else {
            (
                format!(
                    r#"[2,\"m{i}\",\"MeterValues\",{{\"connectorId\":1,\"transactionId\":7,\"meterValue\":[{{\"timestamp\":\"2023-11-14T22:13:20Z\",\"sampledValue\":[{{\"value\":\"{i}\",\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"}}]}}]}}]"#
                ),
                format!(r#"[3,\"m{i}\",{{}}]"#),
            )
        };
        put(
            &mut w,
            &mut written,
            format!(
                r#"{{"ts":"{}","conn":"{conn}","from":"charger","text":"{call}"}}"#,
                ts(i * 2)
            ),
        );
        put(
            &mut w,
            &mut written,
            format!(
                r#"{{"ts":"{}","conn":"{conn}","from":"csms","text":"{reply}"}}"#,
                ts(i * 2 + 1)
            ),
        );
        frames += 2;
        i += 1;
    }
    w.flush().unwrap();
    frames
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let bytes: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.jsonl");
    let t = Instant::now();
    let frames = write_trace(&path, bytes);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "trace: {frames} frames, {:.0} MB, written in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let before = peak_rss_mib();

    let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap());
    let start = Instant::now();
    let (mut app, indexer) = Indexer::open(
        std::slice::from_ref(&path),
        &InputOptions::default(),
        schemas,
        Arc::new(Config::default()),
        None,
        Limits {
            max_frames: usize::MAX,
            ..Limits::default()
        },
    )
    .unwrap();
    app.start_at_top();
    let (tx, mut rx) = feed::channel(8192);
    let reader = std::thread::spawn(move || indexer.run(&mut |item| tx.send_wait(item)));
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut items = Vec::new();
    // The first screen: what has arrived in the first turn of the loop.
    rx.drain(20_000, &mut items);
    for item in items.drain(..) {
        app.on_item(item);
    }
    term.draw(|f| ui::draw(f, &app)).unwrap();
    println!(
        "time to first screen: {:.1} ms ({} rows shown so far)",
        start.elapsed().as_secs_f64() * 1e3,
        app.frames_len()
    );
    while !rx.is_closed() {
        items.clear();
        rx.drain(20_000, &mut items);
        if items.is_empty() {
            std::thread::sleep(Duration::from_millis(2));
        }
        for item in items.drain(..) {
            app.on_item(item);
        }
    }
    reader.join().unwrap();
    let indexed = start.elapsed();
    println!(
        "indexed: {} rows, {} findings, in {:.1} s ({:.0} frames/s)",
        app.frames_len(),
        app.totals.errors + app.totals.warnings + app.totals.infos,
        indexed.as_secs_f64(),
        app.totals.frames as f64 / indexed.as_secs_f64()
    );
    let t = Instant::now();
    app.apply(Action::Top);
    term.draw(|f| ui::draw(f, &app)).unwrap();
    app.apply(Action::Bottom);
    term.draw(|f| ui::draw(f, &app)).unwrap();
    println!(
        "first and last frame reached and drawn: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "peak RSS: {:.0} MiB after indexing (before: {:.0} MiB; trace {:.0} MB; {} bytes per row kept)",
        peak_rss_mib().unwrap_or(0.0),
        before.unwrap_or(0.0),
        size as f64 / 1e6,
        ocpp_inspector::sink::tui::app::ROW_BYTES
    );
}
