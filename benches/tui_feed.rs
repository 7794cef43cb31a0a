//! `cargo bench --bench tui_feed`: what the terminal UI costs per frame, so "keeps up with
//! thousands of frames per second" is a figure, not a hope. Reports
//! - ingest: frames per second through `App::on_event` (parse, classify, pair, cap),
//! - one redraw of the main screen at 120x40 with the view full (50,000 frames kept),
//!   without and with a free-text filter (the filter scans every kept frame).
//!
//! A benchmark, not a test: it asserts nothing and prints figures.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed set-up step should stop it loudly"
)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;
use std::time::Instant;

use ocpp_inspector::ocpp::Side;
use ocpp_inspector::sink::tui::app::{Action, App, Limits};
use ocpp_inspector::sink::tui::feed::{OwnedEvent, OwnedKind};
use ocpp_inspector::sink::tui::ui;
use ocpp_inspector::time::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A realistic mix on 100 stations: MeterValues, StatusNotification and Heartbeat calls,
/// each answered.
fn frames(n: usize) -> Vec<OwnedEvent> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0usize;
    while out.len() < n {
        let conn: Arc<str> = Arc::from(format!("CP-{:03}", i % 100));
        let id = i.to_string();
        let call = match i % 3 {
            0 => format!(
                r#"[2,"{id}","MeterValues",{{"connectorId":1,"transactionId":{i},"meterValue":[{{"timestamp":"2026-11-22T10:15:06.000Z","sampledValue":[{{"value":"{i}.5","measurand":"Energy.Active.Import.Register","unit":"Wh"}}]}}]}}]"#
            ),
            1 => format!(
                r#"[2,"{id}","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"Charging"}}]"#
            ),
            _ => format!(r#"[2,"{id}","Heartbeat",{{}}]"#),
        };
        let at = Timestamp::from_micros(i64::try_from(i).unwrap() * 1000);
        let line = 2 * i as u64 + 1;
        out.push(OwnedEvent {
            at,
            conn: conn.clone(),
            line,
            kind: OwnedKind::Frame {
                from: Side::Charger,
                text: call.into(),
            },
        });
        out.push(OwnedEvent {
            at,
            conn,
            line: line + 1,
            kind: OwnedKind::Frame {
                from: Side::Csms,
                text: format!(r#"[3,"{id}",{{}}]"#).into(),
            },
        });
        i += 1;
    }
    out
}

fn main() {
    let n = 200_000;
    let events = frames(n);
    let mut app = App::new("bench", Limits::default());
    let start = Instant::now();
    for e in &events {
        app.on_event(e);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ingest: {n} frames in {secs:.3} s = {:.0} frames/s (view keeps {})",
        n as f64 / secs,
        app.frames.len()
    );

    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        term.draw(|f| ui::draw(f, &app)).unwrap();
    }
    println!(
        "redraw 120x40, {} frames kept, no filter: {:.2} ms",
        app.frames.len(),
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );

    app.apply(Action::StartSearch);
    for c in "heartbeat".chars() {
        app.apply(Action::SearchChar(c));
    }
    app.apply(Action::SearchSubmit);
    let start = Instant::now();
    for _ in 0..rounds {
        term.draw(|f| ui::draw(f, &app)).unwrap();
    }
    println!(
        "redraw 120x40, {} frames kept, text filter: {:.2} ms",
        app.frames.len(),
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );
}
