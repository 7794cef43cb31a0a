//! THE inspection engine: events in, findings out. Sans-io: no sockets, no files, no clock.
//! Time arrives inside each [`Event`], so a trace checked later gets exactly the verdict it
//! got live, and every rule is testable by feeding events.
//!
//! ```text
//! Event ──► Engine::feed ──► session for the connection ──► wire::parse (once)
//!                                   │                              │
//!                                   │            rules: ws / rpc / dir / schema (registry)
//!                                   ▼                              ▼
//!                             session state  ◄── update ──   Vec<Finding>
//! ```
//!
//! Every front end (the offline `check`, the proxy, the testcase runner) feeds this one
//! engine; none of them judges frames on its own. Those that show or follow the traffic
//! (the terminal UI, the case runner) ask for its observations too
//! ([`Engine::feed_observed`], [`observe`]): one per event, what it was and the station
//! after it, so none of them parses frames or pairs calls again.

pub mod config;
pub mod observe;
pub(crate) mod protocol;
pub mod rules;
pub mod schema;
pub mod session;
pub(crate) mod station;
pub(crate) mod support;

use foldhash::HashMap;
use std::sync::Arc;

use crate::finding::{Finding, Severity, bound_message, shorten};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;
use crate::wire::FrameText;
use crate::wire::doc::Doc;

pub use crate::source::event::{Event, EventKind, Handshake, Origin};
pub use config::Config;
pub use observe::{Observation, Observed, Observer, StationSummary};
pub use schema::SchemaSet;
use session::Session;
pub use station::Identity;

/// The engine could not judge an event for a reason that is the user's to fix (not a
/// finding about the traffic).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error(
        "connection `{conn}` has no `open` event naming its subprotocol and no --ocpp version was given; only framing is checked for it (pass --ocpp 1.6|2.0.1|2.1)"
    )]
    NoVersion { conn: String },
}

/// Counters over everything fed so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames: u64,
    pub connections: u64,
}

/// The inspection engine. One per stream of events (one per trace file, or per proxy shard).
pub struct Engine {
    schemas: Arc<SchemaSet>,
    config: Arc<Config>,
    /// The version of connections whose trace has no `open` event (`--ocpp`).
    default_version: Option<Version>,
    sessions: HashMap<Arc<str>, Session>,
    /// When each closed station's last connection closed (none open since).
    gone_since: HashMap<Arc<str>, Timestamp>,
    stats: Stats,
    /// The document each frame is read into, reused frame after frame.
    doc: Doc,
}

impl Engine {
    pub fn new(
        schemas: Arc<SchemaSet>,
        config: Arc<Config>,
        default_version: Option<Version>,
    ) -> Self {
        Engine {
            schemas,
            config,
            default_version,
            sessions: HashMap::default(),
            gone_since: HashMap::default(),
            stats: Stats::default(),
            doc: Doc::new(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What station `conn` said about itself in its last BootNotification, if the engine
    /// knows the station (it may have been forgotten, see [`Engine::forget_gone`]).
    pub fn identity(&self, conn: &str) -> Option<&Identity> {
        self.sessions.get(conn).map(|s| &s.proto.station.identity)
    }

    /// Whether `conn` is judged as observed mid-life now (its trace started mid-life, or
    /// a gap record said frames are missing).
    pub fn mid_life(&self, conn: &str) -> bool {
        self.sessions
            .get(conn)
            .is_some_and(|s| !s.proto.station.seen_from_start)
    }

    /// The document the engine reads each frame into: a record reader may read the next
    /// frame into it in its own pass ([`crate::source::trace_reader::parse_record_into`]);
    /// the engine uses that reading only while the document still holds it.
    pub fn frame_doc(&mut self) -> &mut Doc {
        &mut self.doc
    }

    pub fn schemas(&self) -> &SchemaSet {
        &self.schemas
    }

    /// Judges one event, appending its findings to `out`.
    pub fn feed(&mut self, event: &Event<'_>, out: &mut Vec<Finding>) -> Result<(), FeedError> {
        self.feed_inner(event, out, None)
    }

    /// Judges one event like [`Engine::feed`] and tells `observer` what the event was
    /// (one [`Observation`], before the event's findings are appended): the front ends
    /// that show or follow the traffic read these instead of parsing frames again.
    pub fn feed_observed(
        &mut self,
        event: &Event<'_>,
        out: &mut Vec<Finding>,
        observer: &mut dyn Observer,
    ) -> Result<(), FeedError> {
        self.feed_inner(event, out, Some(observer))
    }

    /// A frame of [`Origin::Inspector`] is a call the inspector injected itself (the
    /// trace's `"injected":true`): its CALL is judged as the CSMS's and its answer
    /// correlated with it, but the inspector is a caller of its own, so an injected call
    /// outstanding beside one of the CSMS's is not a concurrent call of the CSMS.
    fn feed_inner(
        &mut self,
        event: &Event<'_>,
        out: &mut Vec<Finding>,
        mut observer: Option<&mut dyn Observer>,
    ) -> Result<(), FeedError> {
        if let EventKind::Gap { .. } = event.kind
            && event.conn.is_empty()
        {
            // A gap of every connection (a gap record without `conn`): it opens no session.
            self.sessions.values_mut().for_each(Session::on_gap);
            return Ok(());
        }
        let session = match self.sessions.get_mut(event.conn) {
            Some(s) => s,
            None => {
                self.stats.connections += 1;
                let conn: Arc<str> = Arc::from(event.conn);
                self.sessions
                    .entry(conn.clone())
                    .or_insert_with(|| Session::new(conn, self.default_version))
            }
        };
        let conn = session.conn.clone();
        let mut ctx = Ctx {
            config: &self.config,
            version: session.version,
            conn: &conn,
            line: event.line,
            at: event.at,
            from: None,
            text: None,
            unique_id: None,
            action: None,
            out,
        };
        session.on_time(&mut ctx, event.at, false);
        match event.kind {
            EventKind::Open(handshake) => {
                self.gone_since.remove(&conn);
                session.on_open(&handshake, self.default_version, &mut ctx);
                rules::ws::check_offer(
                    handshake.subprotocol,
                    handshake.offered_subprotocols,
                    &mut ctx,
                );
                rules::auth::client_cert::check_open(&handshake, &mut ctx);
            }
            EventKind::Close { code, by } => {
                self.gone_since.insert(conn.clone(), event.at);
                rules::ws::check_failed_close(code, by, &mut ctx);
                session.on_close(by, &mut ctx);
            }
            EventKind::Gap { .. } => session.on_gap(),
            EventKind::Binary { from, len } => {
                ctx.from = Some(from);
                ctx.report(
                    &rules::ws::BINARY_FRAME,
                    format!("{from} sent a binary frame of {len} bytes; OCPP-J messages are UTF-8 JSON text"),
                );
            }
            EventKind::Frame { from, text, origin } => {
                self.stats.frames += 1;
                ctx.from = Some(from);
                ctx.text = Some(text);
                let missing = session.version.is_none() && !session.warned_no_version;
                if missing {
                    session.warned_no_version = true;
                }
                let sight = session::Sight {
                    event,
                    origin,
                    observer: observer.take(),
                };
                session.on_frame(from, text, &self.schemas, &mut self.doc, &mut ctx, sight);
                if missing && !session.negotiated_unsupported {
                    return Err(FeedError::NoVersion {
                        conn: event.conn.to_owned(),
                    });
                }
                return Ok(());
            }
        };
        if let Some(o) = observer {
            o.observe(&Observation {
                conn: event.conn,
                line: event.line,
                at: event.at,
                origin: Origin::Peer,
                what: Observed::Event(event.kind),
                station: session.proto.summary(),
                device: &session.proto.station.identity,
            });
        }
        Ok(())
    }
}

impl Engine {
    /// Forgets the stations whose last connection closed before `now - after` and that have
    /// not reconnected: their state (pending calls, transactions, history) is dropped, so a
    /// long-running proxy remembers the stations that are around, not every one ever seen.
    /// Time-based rules are settled first, as at the end of an observation. Returns how many
    /// were forgotten. A station that comes back later starts afresh (as a trace that starts
    /// mid-life would).
    pub fn forget_gone(&mut self, now: Timestamp, after_us: i64, out: &mut Vec<Finding>) -> usize {
        let horizon = now.micros().saturating_sub(after_us);
        let gone: Vec<Arc<str>> = self
            .gone_since
            .iter()
            .filter(|(_, at)| at.micros() < horizon)
            .map(|(c, _)| c.clone())
            .collect();
        for conn in &gone {
            self.gone_since.remove(conn);
            if let Some(mut session) = self.sessions.remove(conn) {
                let mut ctx = Ctx {
                    config: &self.config,
                    version: session.version,
                    conn,
                    line: 0,
                    at: now,
                    from: None,
                    text: None,
                    unique_id: None,
                    action: None,
                    out,
                };
                session.on_time(&mut ctx, now, true);
            }
        }
        gone.len()
    }

    /// The stations remembered now.
    pub fn stations(&self) -> usize {
        self.sessions.len()
    }

    /// The observation ended at `end` (the last timestamp of the trace, or the proxy's
    /// shutdown): time-based rules settle what is still open (calls never answered, a
    /// follow-up that never came). Findings about an earlier frame name that frame's line.
    pub fn finish(&mut self, end: Timestamp, out: &mut Vec<Finding>) {
        let mut conns: Vec<&Arc<str>> = self.sessions.keys().collect();
        conns.sort();
        let conns: Vec<Arc<str>> = conns.into_iter().cloned().collect();
        for conn in conns {
            let Some(session) = self.sessions.get_mut(&conn) else {
                continue;
            };
            let mut ctx = Ctx {
                config: &self.config,
                version: session.version,
                conn: &conn,
                line: 0,
                at: end,
                from: None,
                text: None,
                unique_id: None,
                action: None,
                out,
            };
            session.on_time(&mut ctx, end, true);
        }
    }
}

/// Everything a rule needs to emit a finding about the current event.
pub(crate) struct Ctx<'a> {
    config: &'a Config,
    pub(crate) version: Option<Version>,
    conn: &'a Arc<str>,
    line: u64,
    pub(crate) at: Timestamp,
    from: Option<Side>,
    /// The current frame's text: quoted as evidence, unescaped only then.
    text: Option<FrameText<'a>>,
    unique_id: Option<&'a str>,
    action: Option<&'a str>,
    out: &'a mut Vec<Finding>,
}

/// Which earlier frame a finding is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct About<'a> {
    pub line: u64,
    pub at: Timestamp,
    pub from: Option<Side>,
    pub unique_id: Option<&'a str>,
    pub action: Option<&'a str>,
}

/// How many characters of the offending frame a finding keeps as evidence.
const EVIDENCE_CHARS: usize = 240;

impl<'a> Ctx<'a> {
    /// A shorter-lived context, so ids borrowed from a frame parsed later can be attached.
    pub(crate) fn reborrow(&mut self) -> Ctx<'_> {
        Ctx {
            config: self.config,
            version: self.version,
            conn: self.conn,
            line: self.line,
            at: self.at,
            from: self.from,
            text: self.text,
            unique_id: self.unique_id,
            action: self.action,
            out: &mut *self.out,
        }
    }

    pub(crate) fn set_frame_ids(&mut self, unique_id: Option<&'a str>, action: Option<&'a str>) {
        if unique_id.is_some() {
            self.unique_id = unique_id;
        }
        if action.is_some() {
            self.action = action;
        }
    }

    /// Reports a finding of `rule` with its default (or configured) severity.
    pub(crate) fn report(&mut self, rule: &'static rules::Rule, message: impl Into<String>) {
        self.emit(rule, None, None, message.into());
    }

    /// Reports with a severity chosen by the check (a lenient reading); the configuration
    /// still wins.
    pub(crate) fn report_as(
        &mut self,
        rule: &'static rules::Rule,
        severity: Severity,
        message: impl Into<String>,
    ) {
        self.emit(rule, Some(severity), None, message.into());
    }

    /// Reports a finding about an earlier frame (a CALL that was never answered, a
    /// transaction that never ended): its line, sender, id and action, not the current
    /// event's. The evidence is dropped unless it is the current frame.
    pub(crate) fn report_about(
        &mut self,
        rule: &'static rules::Rule,
        about: About<'_>,
        message: impl Into<String>,
    ) {
        self.emit_about(rule, None, about, message.into());
    }

    /// [`Ctx::report_about`] with a severity chosen by the check (a lenient reading); the
    /// configuration still wins.
    pub(crate) fn report_about_as(
        &mut self,
        rule: &'static rules::Rule,
        severity: Severity,
        about: About<'_>,
        message: impl Into<String>,
    ) {
        self.emit_about(rule, Some(severity), about, message.into());
    }

    /// The severity a finding of `rule` gets: the configured one when the configuration
    /// overrides the rule, else the check's own when it gives one, else the rule's default
    /// for the version; `None` when the rule is off.
    fn severity(&self, rule: &'static rules::Rule, check: Option<Severity>) -> Option<Severity> {
        let default = self.config.severity_of(rule, self.version)?;
        Some(if self.config.is_overridden(rule) {
            default
        } else {
            check.unwrap_or(default)
        })
    }

    /// Reports about an earlier frame, with the check's own severity when it gives one.
    pub(crate) fn emit_about(
        &mut self,
        rule: &'static rules::Rule,
        severity: Option<Severity>,
        about: About<'_>,
        message: String,
    ) {
        let Some(severity) = self.severity(rule, severity) else {
            return;
        };
        let same = about.line == self.line;
        self.out.push(Finding {
            rule,
            severity,
            conn: self.conn.clone(),
            line: about.line,
            at: about.at,
            from: about.from,
            unique_id: about.unique_id.map(Box::from),
            action: about.action.map(Box::from),
            message: bound_message(message),
            pointer: None,
            evidence: if same {
                self.text
                    .map(|t| shorten(t.get(), EVIDENCE_CHARS).into_boxed_str())
            } else {
                None
            },
        });
    }

    /// The time of the current event.
    pub(crate) fn now(&self) -> Timestamp {
        self.at
    }

    /// The line of the current event (0 at the end of the observation).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The station identity of the connection.
    pub(crate) fn conn(&self) -> &str {
        self.conn
    }

    /// The configuration (tolerances).
    pub(crate) fn config(&self) -> &Config {
        self.config
    }

    /// Reports a finding pointing into the payload.
    pub(crate) fn report_at(
        &mut self,
        rule: &'static rules::Rule,
        pointer: String,
        message: impl Into<String>,
    ) {
        self.emit(rule, None, Some(pointer), message.into());
    }

    fn emit(
        &mut self,
        rule: &'static rules::Rule,
        severity: Option<Severity>,
        pointer: Option<String>,
        message: String,
    ) {
        let Some(severity) = self.severity(rule, severity) else {
            return;
        };
        self.out.push(Finding {
            rule,
            severity,
            conn: self.conn.clone(),
            line: self.line,
            at: self.at,
            from: self.from,
            unique_id: self.unique_id.map(Box::from),
            action: self.action.map(Box::from),
            message: bound_message(message),
            pointer: pointer.map(bound_message),
            evidence: self
                .text
                .map(|t| shorten(t.get(), EVIDENCE_CHARS).into_boxed_str()),
        });
    }
}
