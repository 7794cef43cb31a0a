//! `cargo bench --bench tui_feed`: what the terminal UI costs per frame, so "keeps up with
//! thousands of frames per second" is a figure, not a hope. Reports
//! - ingest: frames per second through `App::on_seen` (the engine's observations, made
//!   beforehand and not timed: rows, pairing by the CALL's line, cap),
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

use ocpp_inspector::engine::schema::{ErrataSelection, SchemaSet};
use ocpp_inspector::engine::{Config, Engine, Event, EventKind, Handshake, Observation, Origin};
use ocpp_inspector::ocpp::Side;
use ocpp_inspector::sink::tui::app::{Action, App, Limits};
use ocpp_inspector::sink::tui::feed::Seen;
use ocpp_inspector::sink::tui::ui;
use ocpp_inspector::time::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A realistic mix on 100 stations: MeterValues, StatusNotification and Heartbeat calls,
/// each answered.
fn frames(n: usize) -> Vec<Seen> {
    let schemas = SchemaSet::builtin(&ErrataSelection::parse("all").unwrap()).unwrap();
    let mut engine = Engine::new(Arc::new(schemas), Arc::new(Config::default()), None);
    let mut seen = Vec::with_capacity(n + 100);
    let mut see = |engine: &mut Engine, e: &Event<'_>| {
        let _ = engine.feed_observed(e, &mut Vec::new(), &mut |o: &Observation<'_>| {
            seen.push(Seen::of(o));
        });
    };
    for c in 0..100 {
        let conn = format!("CP-{c:03}");
        see(
            &mut engine,
            &Event {
                at: Timestamp::from_micros(0),
                conn: &conn,
                line: 0,
                kind: EventKind::Open(Handshake {
                    subprotocol: Some("ocpp1.6"),
                    scheme: Some("ws"),
                    ..Handshake::default()
                }),
            },
        );
    }
    let mut i = 0usize;
    let mut frames = 0;
    while frames < n {
        let conn = format!("CP-{:03}", i % 100);
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
        let answer = format!(r#"[3,"{id}",{{}}]"#);
        for (line, from, text) in [
            (line, Side::Charger, &call),
            (line + 1, Side::Csms, &answer),
        ] {
            see(
                &mut engine,
                &Event {
                    at,
                    conn: &conn,
                    line,
                    kind: EventKind::Frame {
                        from,
                        text: text.into(),
                        origin: Origin::Peer,
                    },
                },
            );
        }
        frames += 2;
        i += 1;
    }
    seen
}

fn main() {
    let n = 200_000;
    let events = frames(n);
    let mut app = App::new("bench", Limits::default());
    let start = Instant::now();
    for e in &events {
        app.on_seen(e);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "ingest: {n} frames in {secs:.3} s = {:.0} frames/s (view keeps {})",
        n as f64 / secs,
        app.frames_len()
    );

    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        term.draw(|f| ui::draw(f, &app)).unwrap();
    }
    println!(
        "redraw 120x40, {} frames kept, no filter: {:.2} ms",
        app.frames_len(),
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
        app.frames_len(),
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    );
}
