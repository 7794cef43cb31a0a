//! What the engine saw, taken into the UI's state: the feed's items (observations, findings,
//! notices), each connection's row, the bounded window of frames and each finding tied to
//! its frame. Derives nothing the engine did not say.

use super::*;
use crate::sink::tui::feed::FeedReceiver;
use crate::source::event::EventKindOf;

impl App {
    /// Takes at most `max` of the feed's waiting items, without blocking (`items`: a buffer
    /// kept between calls); whether any came.
    pub fn take_from(
        &mut self,
        rx: &mut FeedReceiver,
        max: usize,
        items: &mut Vec<FeedItem>,
    ) -> bool {
        items.clear();
        rx.drain(max, items);
        let any = !items.is_empty();
        for item in items.drain(..) {
            self.on_item(item);
        }
        any
    }

    /// Takes one item of the feed.
    pub fn on_item(&mut self, item: FeedItem) {
        match item {
            FeedItem::Seen(e) => self.on_seen(&e),
            FeedItem::Finding(f) => self.on_finding(*f),
            FeedItem::Notice { conn, text } => self.notice = Some(format!("{conn}: {text}")),
            FeedItem::Finished { summary } => self.finished = Some(summary),
            FeedItem::Indexed { seen, offset } => self.on_seen_at(&seen, Some(offset)),
            FeedItem::Progress { done, total } => {
                self.loading = Some(Progress { done, total });
            }
            FeedItem::Loaded { notice } => {
                self.loading = None;
                self.on_loaded_behind();
                if notice.is_some() {
                    self.notice = notice;
                }
            }
            FeedItem::Injected {
                station,
                action,
                id,
                outcome,
            } => self.on_injected(station, action, id, outcome),
            FeedItem::CaseStation { station, version } => {
                if let Some(c) = self.cases.as_mut() {
                    c.station(&station, version);
                }
            }
            FeedItem::Case {
                station,
                case,
                step,
            } => self.on_case(&station, case, step),
        }
    }

    pub(super) fn conn_mut(&mut self, name: &Arc<str>) -> &mut ConnRow {
        let i = self.conn_no(name);
        &mut self.conns[i]
    }

    /// The index of a connection in `conns` (added if new).
    pub(super) fn conn_no(&mut self, name: &Arc<str>) -> usize {
        match self.conn_index.get(name) {
            Some(&i) => i,
            None => {
                self.conns.push(ConnRow::new(name.clone()));
                self.conn_index.insert(name.clone(), self.conns.len() - 1);
                self.conns.len() - 1
            }
        }
    }

    /// Takes one event as the engine read it (before the findings about it): a row for the
    /// frames pane, paired with the CALL an answer answers, and the connection's state as
    /// the engine knows it.
    pub fn on_seen(&mut self, e: &Seen) {
        self.on_seen_at(e, None);
    }

    /// [`App::on_seen`] for an event whose record starts at byte `offset` of the trace
    /// file set with [`App::set_store`]: the row keeps the offset instead of the text.
    pub fn on_seen_at(&mut self, e: &Seen, offset: Option<u64>) {
        self.totals.events += 1;
        self.origin.get_or_insert(e.at);
        let seq = self.rows.next_seq();
        let conn = u32::try_from(self.conn_no(&e.conn)).unwrap_or(u32::MAX);
        let mut row = NewRow {
            at: e.at,
            line: e.line,
            conn,
            kind: RowKind::Frame,
            from: None,
            message_type: None,
            action: 0,
            body: NewBody::Event(Box::from("")),
            partner: None,
        };
        let mut call_line = None;
        match &e.what {
            SeenKind::Event(EventKindOf::Open(handshake)) => {
                let subprotocol = &handshake.subprotocol;
                let security = handshake.security_label();
                row.kind = RowKind::Open;
                let version = match subprotocol.as_deref() {
                    Some(p) => {
                        Version::from_subprotocol(p).map_or(p.to_owned(), |v| v.as_str().to_owned())
                    }
                    None => "-".to_owned(),
                };
                row.body = NewBody::Event(
                    format!(
                        "open {} {}",
                        subprotocol.as_deref().unwrap_or("(no subprotocol)"),
                        security
                    )
                    .into(),
                );
                let c = self.conn_mut(&e.conn);
                c.version = version;
                c.security = security;
                c.closed = false;
            }
            SeenKind::Event(EventKindOf::Close { code, by }) => {
                row.kind = RowKind::Close;
                row.from = *by;
                row.body = NewBody::Event(
                    format!(
                        "close code {} by {}",
                        code.map_or_else(|| "none".to_owned(), |c| c.to_string()),
                        by.map_or("proxy", |s| s.as_str())
                    )
                    .into(),
                );
                self.conn_mut(&e.conn).closed = true;
            }
            SeenKind::Event(EventKindOf::Gap { frames, .. }) => {
                row.kind = RowKind::Close;
                row.body = NewBody::Event(
                    match frames {
                        Some(n) => format!("gap: {n} frames missing from the observation"),
                        None => "gap: frames missing from the observation".to_owned(),
                    }
                    .into(),
                );
            }
            SeenKind::Event(EventKindOf::Binary { from, len }) => {
                row.kind = RowKind::Binary;
                row.from = Some(*from);
                row.body = NewBody::Event(format!("binary frame, {len} bytes").into());
                self.stats.frame(&e.conn, None, None, None);
                self.totals.frames += 1;
                self.conn_mut(&e.conn).frames += 1;
            }
            SeenKind::Event(EventKindOf::Frame { from, text, .. }) => {
                row.from = Some(*from);
                self.stats.frame(&e.conn, None, None, None);
                row.body = match (offset, &self.store) {
                    (Some(o), Some(_)) => NewBody::InTrace(o),
                    _ => NewBody::Kept(Box::new(Kept {
                        id: None,
                        short: shorten(text.trim(), SHORT_PAYLOAD).into(),
                        text: text.clone(),
                    })),
                };
                self.totals.frames += 1;
                self.conn_mut(&e.conn).frames += 1;
            }
            SeenKind::Message(m) => {
                row.from = Some(m.from);
                row.message_type = Some(m.message_type);
                row.action = m
                    .action
                    .as_deref()
                    .map_or(0, |a| self.rows.intern_action(a));
                row.body = match (offset, &self.store) {
                    (Some(o), Some(_)) => NewBody::InTrace(o),
                    _ => NewBody::Kept(Box::new(Kept {
                        id: Some(m.id.clone()),
                        short: m.short.clone(),
                        text: m.text.clone(),
                    })),
                };
                call_line = m.call.map(|c| c.line);
                let rtt = m.call.map(|c| e.at.micros() - c.at.micros());
                self.stats.frame(
                    &e.conn,
                    self.rows.action_name(row.action),
                    Some(m.message_type),
                    rtt,
                );
                self.totals.frames += 1;
                self.conn_mut(&e.conn).frames += 1;
            }
        }
        // The engine paired the answer with its CALL: the rows point at each other.
        if let Some(line) = call_line
            && let Some(call) = self.row_of_line(&e.conn, line)
        {
            row.partner = Some(call);
            if let Some(pos) = self.rows.position(call) {
                self.rows.set_partner(pos, seq);
            }
        }
        let c = self.conn_mut(&e.conn);
        c.registration = match e.station.registration {
            observe::Registration::Unknown => Registration::Connected,
            observe::Registration::Booting => Registration::Booting,
            observe::Registration::Pending => Registration::Pending,
            observe::Registration::Rejected => Registration::Rejected,
            observe::Registration::Accepted => Registration::Accepted,
        };
        c.transactions = e.station.open_transactions;
        // The version the engine judges the connection as (`--ocpp` when no open said).
        if c.version == "-"
            && let Some(v) = e.station.version
        {
            c.version = v.as_str().to_owned();
        }
        if let (Some(o), Some(_), RowKind::Open | RowKind::Close | RowKind::Binary) =
            (offset, &self.store, row.kind)
        {
            self.event_offsets
                .insert(seq, (conn, row.kind == RowKind::Open, o));
        }
        self.push_row(row);
        self.watch_answer(e, seq);
    }

    pub(super) fn push_row(&mut self, row: NewRow) {
        self.rows.push(row);
        while self.rows.len() > self.limits.max_frames {
            self.rows.pop_front();
            self.totals.frames_out_of_view += 1;
        }
    }

    pub(super) fn first_seq(&self) -> u64 {
        self.rows.first_seq()
    }

    /// The kept row with this seq.
    pub fn row(&self, seq: u64) -> Option<FrameRow<'_>> {
        self.frame(self.rows.position(seq)?)
    }

    /// The kept row of trace line `line` on `conn` (lines rise with arrival).
    pub(super) fn row_of_line(&self, conn: &str, line: u64) -> Option<u64> {
        if line == 0 {
            return None;
        }
        let conn = u32::try_from(*self.conn_index.get(conn)?).ok()?;
        (self.rows.first_at_line(line)..self.rows.len())
            .take_while(|&i| self.rows.line_at(i) == line)
            .find(|&i| self.rows.conn_at_checked(i) == Some(conn))
            .map(|i| self.seq_at(i))
    }

    /// Takes one finding (after the event it is about).
    pub fn on_finding(&mut self, f: Finding) {
        let action = f.action.as_deref().map(|a| self.rows.intern_action(a));
        self.stats
            .finding(&f, action.and_then(|a| self.rows.action_name(a)));
        match f.severity {
            Severity::Error => self.totals.errors += 1,
            Severity::Warning => self.totals.warnings += 1,
            Severity::Info => self.totals.infos += 1,
        }
        let conn = f.conn.clone();
        let c = self.conn_mut(&conn);
        match f.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.infos += 1,
        }
        let frame = self.row_of_line(&f.conn, f.line);
        if let Some(seq) = frame
            && let Some(pos) = self.rows.position(seq)
        {
            self.rows.mark(pos, f.severity);
            self.marks += 1;
        }
        let no = self.next_finding;
        self.next_finding += 1;
        self.findings.push_back(FindingRow {
            no,
            finding: f,
            frame,
        });
        while self.findings.len() > self.limits.max_findings {
            self.findings.pop_front();
            self.totals.findings_out_of_view += 1;
        }
    }
}
