//! The live sink for a terminal or a log: one line per finding, open, close and notice.

use std::io::{self, Write};

use super::{LiveOutcome, LiveSink};
use crate::engine::{Event, EventKind};
use crate::finding::Finding;
use crate::source::event::Notice;

/// One line per finding, open, close and notice, for a terminal or a log:
/// ```text
/// error   CP-001  rpc.response-unknown-id  id=42 Heartbeat  CALLRESULT answers no …
/// open    CP-001  ws ocpp1.6 offered ocpp1.6 user CP-001
/// close   CP-001  code 1000 by charger
/// refused 127.0.0.1:53122  HTTP 404: no station identity in `/ocpp/`
/// upstream CP-002  cannot connect to ws://…: Connection refused; refused the charger with HTTP 502
/// ```
/// Findings start with their severity; other lines with `open`, `close`, `refused`,
/// `upstream`, `conn` or `summary`.
pub struct StderrLines<W: Write + Send> {
    out: W,
}

impl<W: Write + Send> StderrLines<W> {
    pub fn new(out: W) -> Self {
        StderrLines { out }
    }

    /// The writer (for tests).
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl StderrLines<io::Stderr> {
    pub fn stderr() -> Self {
        StderrLines::new(io::stderr())
    }
}

impl<W: Write + Send> LiveSink for StderrLines<W> {
    fn event(&mut self, event: &Event<'_>) {
        let line = match event.kind {
            EventKind::Open(security) => {
                let mut s = format!(
                    "open     {}  {} {}",
                    event.conn,
                    security.scheme.unwrap_or("?"),
                    security.subprotocol.unwrap_or("(no subprotocol)")
                );
                if let Some(o) = security.offered_subprotocols {
                    s.push_str(&format!(" offered {o}"));
                }
                if let Some(v) = security.tls_version {
                    s.push_str(&format!(" tls {v}"));
                }
                if let Some(c) = security.client_cert_subject {
                    s.push_str(&format!(" cert {c}"));
                }
                if let Some(u) = security.basic_auth_user {
                    s.push_str(&format!(" user {u}"));
                }
                one_line(&s)
            }
            EventKind::Close { code, by } => one_line(&format!(
                "close    {}  code {} by {}",
                event.conn,
                code.map_or_else(|| "none".to_owned(), |c| c.to_string()),
                by.map_or("proxy", |s| s.as_str())
            )),
            _ => return,
        };
        let _ = writeln!(self.out, "{line}");
    }

    fn finding(&mut self, f: &Finding) {
        let mut s = format!("{:<8} {}  {}", f.severity.as_str(), f.conn, f.rule.id);
        let what: Vec<String> = f
            .unique_id
            .iter()
            .map(|id| format!("id={id}"))
            .chain(f.action.iter().map(|a| a.to_string()))
            .collect();
        if !what.is_empty() {
            s.push_str("  ");
            s.push_str(&what.join(" "));
        }
        s.push_str("  ");
        s.push_str(&f.message);
        let _ = writeln!(self.out, "{}", one_line(&s));
    }

    fn notice(&mut self, conn: &str, n: &Notice) {
        let _ = writeln!(
            self.out,
            "{}",
            one_line(&format!("{:<8} {conn}  {}", n.kind.as_str(), n.text))
        );
    }

    fn finish(&mut self, o: &LiveOutcome) -> io::Result<()> {
        let _ = writeln!(
            self.out,
            "summary  {} frames, {} connections: {} errors, {} warnings, {} infos{}",
            o.stats.frames,
            o.stats.connections,
            o.errors,
            o.warnings,
            o.infos,
            if o.dropped > 0 {
                format!(
                    ", {} events not inspected (inspection lagged{})",
                    o.dropped,
                    if o.dropped_unrecorded {
                        "; not recorded either"
                    } else {
                        ""
                    }
                )
            } else {
                String::new()
            }
        );
        self.out.flush()
    }
}

/// Makes one line of free text (control characters become spaces).
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push(' ');
        } else if is_bidi_control(c) {
            // Would reorder what the terminal shows (a name that reads as another one).
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode bidirectional formatting characters (Trojan-Source style reordering).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
