//! Text logs of OCPP software: a generic extractor and named presets for common stacks.
//!
//! A frame is an OCPP-J array (`[2,"id","Action",{…}]`, `[3,…]`, `[4,…]`, …) found on a
//! line after any prefix, possibly pretty-printed over the following lines. From the prefix
//! come the time (the common date-time forms; without a zone, `--tz` or UTC), the direction
//! (words and arrows: send/sent/receive/received/`->`/`<-`/`>>`/`<<`/TX/RX/out/in, read from
//! the log owner's point of view) and the identity (a preset's pattern, `--conn`, or `log`).
//! When the owner is not known, a one-way action's CALL tells it, and an answer goes the
//! other way from its CALL. A line saying lines or messages were skipped is a gap record.
//! What was inferred is said once per connection in a note. It judges nothing.

pub mod presets;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::BufRead;
use std::sync::LazyLock;

use regex::Regex;

use crate::ocpp::action::{Dir, lookup};
use crate::ocpp::{Side, Version};
use crate::source::input::{self, Importer, InputOptions, Problem, Produced, RecKind, Tz};
use crate::time::Timestamp;
pub use presets::{Preset, preset, preset_names};

/// Lines a pretty-printed frame may span.
const MAX_FRAME_LINES: usize = 2000;

/// A frame whose brackets never balance.
#[derive(Debug, thiserror::Error)]
enum UnendedFrame {
    #[error("line {start_line}: a frame that does not end within {MAX_FRAME_LINES} lines")]
    TooLong { start_line: u64 },
    #[error("line {start_line}: a frame cut short by the end of the log")]
    CutShort { start_line: u64 },
}
/// Bytes a frame may have.
const MAX_FRAME_BYTES: usize = 4 << 20;
/// Calls remembered per connection to tell an answer's direction.
const MAX_CALLS: usize = 1024;

static FRAME_START: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\[\s*[2-6]\s*,\s*\x22").ok());
static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(\d{4})[-/](\d{2})[-/](\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2}\b)?",
    )
    .ok()
});
static SKIPPED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(\d+)\s+)?(?:more\s+)?(?:log\s+)?(?:lines?|messages?|frames?|entries)\s+(?:were\s+)?(?:skipped|omitted|dropped|suppressed|lost)").ok()
});
static SUBPROTOCOL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\bocpp(1\.6|2\.0\.1|2\.1)\b").ok());

/// Direction words, from the log owner's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Out,
    In,
}

/// The way the prefix says, from its last direction word or arrow.
fn way_of(prefix: &str, preset: Option<&Preset>) -> Option<Way> {
    let lower = prefix.to_ascii_lowercase();
    let last = |found: &mut Vec<(usize, Way)>| found.iter().max_by_key(|(p, _)| *p).map(|f| f.1);
    let mut found: Vec<(usize, Way)> = Vec::new();
    if let Some(p) = preset {
        for (words, w) in [(p.outgoing, Way::Out), (p.incoming, Way::In)] {
            for word in words {
                if let Some(i) = lower.rfind(&word.to_ascii_lowercase()) {
                    found.push((i, w));
                }
            }
        }
        if !found.is_empty() {
            return last(&mut found);
        }
    }
    for (arrows, w) in [
        (["->", ">>", "=>"], Way::Out),
        (["<-", "<<", "<="], Way::In),
    ] {
        for a in arrows {
            if let Some(i) = lower.rfind(a) {
                found.push((i, w));
            }
        }
    }
    let mut pos = 0;
    for word in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
        let at = pos;
        pos += word.len() + 1;
        let w = match word {
            "send" | "sent" | "sending" | "sends" | "tx" | "out" | "outgoing" | "to" => Way::Out,
            "receive" | "received" | "receiving" | "receives" | "recv" | "rx" | "in"
            | "incoming" | "from" => Way::In,
            _ => continue,
        };
        found.push((at, w));
    }
    last(&mut found)
}

/// Per station: what the extractor knows and has said.
#[derive(Default)]
struct Station {
    /// Side of each CALL id seen (to tell an answer's direction).
    calls: HashMap<String, Side>,
    call_order: VecDeque<String>,
    noted: bool,
    started: bool,
}

/// Reads a text log.
pub struct LogImporter<R> {
    reader: R,
    preset: Option<&'static Preset>,
    tz: Option<Tz>,
    conn_flag: Option<String>,
    /// The log owner (whose sends are "out"), from the preset or inferred.
    owner: Option<Side>,
    owner_inferred: bool,
    line_no: u64,
    buf: String,
    /// A line read ahead (the next frame's first line after a pretty-printed one).
    pending: Option<(u64, String)>,
    stations: HashMap<String, Station>,
    last_at: Option<Timestamp>,
    untimed_said: bool,
    unknown_dir_said: HashSet<String>,
    /// The subprotocol a connection line named (`ocpp1.6` …), if any.
    subprotocol_seen: Option<String>,
    done: bool,
}

impl<R: BufRead> LogImporter<R> {
    /// `preset`: a preset's name (`None`: told from `head`, the first bytes of the log).
    pub fn new(reader: R, preset_name: Option<&str>, opts: &InputOptions, head: &[u8]) -> Self {
        let preset = match preset_name {
            Some(n) => presets::preset(n),
            None => presets::detect(&String::from_utf8_lossy(head)),
        };
        LogImporter {
            reader,
            preset,
            tz: opts.tz,
            conn_flag: opts.conn.clone(),
            owner: preset.and_then(|p| p.owner),
            owner_inferred: false,
            line_no: 0,
            buf: String::new(),
            pending: None,
            stations: HashMap::new(),
            last_at: None,
            untimed_said: false,
            unknown_dir_said: HashSet::new(),
            subprotocol_seen: None,
            done: false,
        }
    }

    /// The preset in use (`None`: the generic extractor).
    pub fn preset_name(&self) -> Option<&'static str> {
        self.preset.map(|p| p.name)
    }

    fn next_line(&mut self) -> Option<Result<(u64, String), std::io::Error>> {
        if let Some(p) = self.pending.take() {
            return Some(Ok(p));
        }
        self.buf.clear();
        let mut bytes = Vec::new();
        match self.reader.read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(_) => {
                self.line_no += 1;
                while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                    bytes.pop();
                }
                Some(Ok((
                    self.line_no,
                    String::from_utf8_lossy(&bytes).into_owned(),
                )))
            }
            Err(e) => Some(Err(e)),
        }
    }

    fn time_of(&mut self, prefix: &str) -> (Option<Timestamp>, bool) {
        let Some(re) = TIMESTAMP.as_ref() else {
            return (None, false);
        };
        let Some(c) = re.captures(prefix) else {
            return (None, false);
        };
        let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
        let frac = g(7);
        let zone_given = !g(8).is_empty();
        let zone = if zone_given {
            let z = g(8);
            if z == "Z" {
                "Z".to_owned()
            } else if z.contains(':') {
                z.to_owned()
            } else {
                format!("{}:{}", &z[..3], &z[3..])
            }
        } else {
            let off = self.tz.map_or(0, |t| t.offset_secs);
            if off == 0 {
                "Z".to_owned()
            } else {
                let sign = if off < 0 { '-' } else { '+' };
                let a = off.unsigned_abs();
                format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
            }
        };
        let s = format!(
            "{}-{}-{}T{}:{}:{}{}{}{}",
            g(1),
            g(2),
            g(3),
            g(4),
            g(5),
            g(6),
            if frac.is_empty() { "" } else { "." },
            frac,
            zone
        );
        (Timestamp::parse_rfc3339(&s).ok(), zone_given)
    }

    fn identity_of(&self, prefix: &str) -> (String, &'static str) {
        if let Some(p) = self.preset
            && let Some(id) = p.identity(prefix)
        {
            return (id, "the log line");
        }
        if let Some(id) = presets::generic_identity(prefix) {
            return (id, "the log line");
        }
        match &self.conn_flag {
            Some(c) => (c.clone(), "--conn"),
            None => ("log".to_owned(), "a default name (pass --conn)"),
        }
    }

    /// Reads on from a frame's start until its brackets balance.
    fn collect_frame(&mut self, first: &str, start_line: u64) -> Result<String, UnendedFrame> {
        let mut text = first.to_owned();
        let mut lines = 1;
        loop {
            match balanced_end(&text) {
                Some(end) => {
                    text.truncate(end);
                    return Ok(text);
                }
                None => {
                    if lines >= MAX_FRAME_LINES || text.len() > MAX_FRAME_BYTES {
                        return Err(UnendedFrame::TooLong { start_line });
                    }
                    match self.next_line() {
                        Some(Ok((_, l))) => {
                            text.push('\n');
                            text.push_str(&l);
                            lines += 1;
                        }
                        _ => {
                            return Err(UnendedFrame::CutShort { start_line });
                        }
                    }
                }
            }
        }
    }

    /// The frame that starts at `first` on line `n` (after `prefix`): read on until it ends
    /// and produced, or the problem of one that does not end.
    fn frame_from(&mut self, n: u64, prefix: &str, first: &str, out: &mut VecDeque<Produced>) {
        match self.collect_frame(first, n) {
            Ok(text) => self.frame(n, prefix, text, out),
            Err(e) => out.push_back(Produced::Problem(Problem {
                pos: n,
                message: e.to_string(),
            })),
        }
    }

    fn frame(&mut self, n: u64, prefix: &str, text: String, out: &mut VecDeque<Produced>) {
        let value: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                out.push_back(Produced::Problem(Problem {
                    pos: n,
                    message: format!("line {n}: looks like an OCPP-J frame but is not JSON: {e}"),
                }));
                return;
            }
        };
        let (at, zone_given) = self.time_of(prefix);
        let at = match at.or(self.last_at) {
            Some(t) => t,
            None => {
                if !self.untimed_said {
                    self.untimed_said = true;
                    out.push_back(Produced::Note(format!(
                        "line {n}: no time on the log line; frames before the first timed line are placed 1 ms apart from 1970-01-01 (timing rules mean nothing for them)"
                    )));
                }
                Timestamp::from_micros(i64::try_from(n).unwrap_or(0) * 1000)
            }
        };
        self.last_at = Some(at);
        let (conn, id_from) = self.identity_of(prefix);
        let msg_type = value.get(0).and_then(serde_json::Value::as_u64);
        let id = value.get(1).and_then(|v| v.as_str()).map(str::to_owned);
        let action = value.get(2).and_then(|v| v.as_str());
        let way = way_of(prefix, self.preset);
        let one_way = if matches!(msg_type, Some(2 | 5 | 6)) {
            action.and_then(action_side)
        } else {
            None
        };
        // Infer the owner from a one-way CALL the line says was sent or received.
        if self.owner.is_none()
            && let (Some(side), Some(w)) = (one_way, way)
        {
            self.owner = Some(if w == Way::Out { side } else { side.other() });
            self.owner_inferred = true;
        }
        let st = self.stations.entry(conn.clone()).or_default();
        let mut how = "the log's direction words";
        let side = match (way, self.owner) {
            (Some(Way::Out), Some(o)) => Some(o),
            (Some(Way::In), Some(o)) => Some(o.other()),
            _ => {
                how = "the action catalogue and CALL ids";
                match msg_type {
                    Some(3 | 4) => id.as_ref().and_then(|i| st.calls.get(i)).map(|s| s.other()),
                    _ => one_way,
                }
            }
        };
        let Some(side) = side else {
            if self.unknown_dir_said.insert(conn.clone()) {
                out.push_back(Produced::Problem(Problem {
                    pos: n,
                    message: format!(
                        "line {n}: the direction of this frame cannot be told (no direction word, an action sent both ways or an answer to an unseen CALL); frames like it are skipped"
                    ),
                }));
            }
            return;
        };
        if matches!(msg_type, Some(2))
            && let Some(id) = &id
        {
            if st.calls.len() >= MAX_CALLS
                && let Some(old) = st.call_order.pop_front()
            {
                st.calls.remove(&old);
            }
            st.calls.insert(id.clone(), side);
            st.call_order.push_back(id.clone());
        }
        if !st.noted {
            st.noted = true;
            let zone = if zone_given {
                "the zone on the line".to_owned()
            } else if let Some(tz) = self.tz {
                format!("--tz ({} s east of UTC)", tz.offset_secs)
            } else {
                "UTC (no zone on the line; pass --tz for local times)".to_owned()
            };
            let owner = match (self.owner, self.owner_inferred) {
                (Some(o), false) => format!(
                    "the {o}'s log ({})",
                    self.preset.map_or("generic", |p| p.name)
                ),
                (Some(o), true) => format!("the {o}'s log (inferred from a one-way CALL)"),
                (None, _) => "an unknown owner".to_owned(),
            };
            out.push_back(Produced::Note(format!(
                "{conn}: read from {owner}; direction from {how}; times in {zone}; identity from {id_from}"
            )));
        }
        // A first frame that is a BootNotification starts the connection's life: an open
        // with the version its payload shape (or a subprotocol the log named) shows.
        if !st.started {
            st.started = true;
            let boot = msg_type == Some(2) && action == Some("BootNotification");
            let sub = self.subprotocol_seen.clone().or_else(|| {
                boot.then(|| {
                    let p = value.get(3);
                    if p.and_then(|p| p.get("chargePointVendor")).is_some() {
                        Some("ocpp1.6".to_owned())
                    } else if p.and_then(|p| p.get("chargingStation")).is_some() {
                        Some("ocpp2.0.1".to_owned())
                    } else {
                        None
                    }
                })
                .flatten()
            });
            if let Some(sub) = sub {
                out.push_back(Produced::Note(format!(
                    "{conn}: subprotocol {sub} inferred ({}); an open is assumed before line {n}",
                    if self.subprotocol_seen.is_some() {
                        "named in the log"
                    } else {
                        "from the BootNotification's fields"
                    }
                )));
                let open = input::assumed_open(Some(sub));
                out.push_back(Produced::record(n, at, conn.clone(), open));
            }
        }
        let frame = input::frame(side, text);
        out.push_back(Produced::record(n, at, conn, frame));
    }
}

/// The side that sends `action`'s CALL, when only one side may.
fn action_side(action: &str) -> Option<Side> {
    let mut side = None;
    for v in Version::ALL {
        if let Some((_, info)) = lookup(v, action) {
            let s = match info.dir {
                Dir::ChargerToCsms => Side::Charger,
                Dir::CsmsToCharger => Side::Csms,
                Dir::Both => return None,
            };
            if side.is_some_and(|x| x != s) {
                return None;
            }
            side = Some(s);
        }
    }
    side
}

/// Where the JSON value starting at `text[0]` ends (string-aware bracket balance).
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for (i, b) in text.bytes().enumerate() {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

impl<R: BufRead> Importer for LogImporter<R> {
    fn pump(&mut self, out: &mut VecDeque<Produced>) -> bool {
        if self.done {
            return false;
        }
        let (n, line) = match self.next_line() {
            Some(Ok(x)) => x,
            Some(Err(e)) => {
                out.push_back(Produced::Problem(Problem {
                    pos: self.line_no + 1,
                    message: format!("line {}: read error: {e}", self.line_no + 1),
                }));
                self.done = true;
                return false;
            }
            None => {
                self.done = true;
                return false;
            }
        };
        if self.subprotocol_seen.is_none()
            && let Some(c) = SUBPROTOCOL.as_ref().and_then(|r| r.captures(&line))
            && FRAME_START.as_ref().is_none_or(|r| !r.is_match(&line))
        {
            self.subprotocol_seen = Some(format!("ocpp{}", &c[1]));
        }
        let start = FRAME_START
            .as_ref()
            .and_then(|r| r.find(&line))
            .map(|m| m.start());
        let start = match start {
            Some(s) => Some(s),
            // A pretty-printed frame: `[` ends the line, the type id starts the next one.
            None if line.trim_end().ends_with('[') => match self.next_line() {
                Some(Ok((n2, next))) => {
                    let t = next.trim_start();
                    if t.starts_with(['2', '3', '4', '5', '6']) {
                        let s = line.trim_end().len() - 1;
                        let joined = format!("{}\n{}", &line[..=s], next);
                        self.frame_from(n, &line[..s], &joined[s..], out);
                        return true;
                    }
                    self.pending = Some((n2, next));
                    None
                }
                _ => None,
            },
            None => None,
        };
        match start {
            Some(s) => self.frame_from(n, &line[..s], &line[s..], out),
            None => {
                if let Some(c) = SKIPPED.as_ref().and_then(|r| r.captures(&line)) {
                    let frames = c.get(1).and_then(|m| m.as_str().parse().ok());
                    let (at, _) = self.time_of(&line);
                    if let Some(at) = at.or(self.last_at) {
                        let conn = presets::generic_identity(&line)
                            .or_else(|| self.preset.and_then(|p| p.identity(&line)))
                            .unwrap_or_default();
                        let gap = RecKind::Gap {
                            reason: Some("log lines skipped".into()),
                            frames,
                        };
                        out.push_back(Produced::record(n, at, conn, gap));
                    }
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::input::Rec;

    fn read(
        log: &str,
        preset: Option<&str>,
        opts: &InputOptions,
    ) -> (Vec<Rec>, Vec<String>, Vec<String>) {
        let mut imp = LogImporter::new(log.as_bytes(), preset, opts, log.as_bytes());
        let mut q = VecDeque::new();
        while imp.pump(&mut q) {}
        let (mut recs, mut problems, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for p in q {
            match p {
                Produced::Record { rec, .. } => recs.push(rec),
                Produced::Problem(p) => problems.push(p.message),
                Produced::Note(n) => notes.push(n),
            }
        }
        (recs, problems, notes)
    }

    #[test]
    fn generic_lines_pretty_printed_frames_words_and_zones() {
        let log = "2024-03-01 10:00:00.250 INFO sent [2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}]\n\
2024-03-01 10:00:00.400 INFO received [\n  3,\n  \"1\",\n  {\"status\": \"Accepted\", \"currentTime\": \"2024-03-01T09:00:00Z\", \"interval\": 300}\n]\n\
2024-03-01 10:00:01 INFO << [2,\"9\",\"DataTransfer\",{\"vendorId\":\"x\"}]\n\
2024-03-01 10:00:02 WARN 12 lines skipped\n\
2024-03-01 10:00:03 INFO sent [2,\"2\",\"Heartbeat\",{}\n";
        let opts = InputOptions {
            tz: Some("+01:00".parse().unwrap()),
            conn: Some("CP-9".into()),
            ..InputOptions::default()
        };
        let (recs, problems, notes) = read(log, None, &opts);
        assert_eq!(recs.len(), 5, "{recs:?}");
        assert!(
            matches!(&recs[0].kind, RecKind::Open(h) if h.subprotocol.as_deref() == Some("ocpp1.6"))
        );
        assert_eq!(recs[1].at.to_rfc3339_millis(), "2024-03-01T09:00:00.250Z");
        assert!(matches!(
            &recs[1].kind,
            RecKind::Frame {
                from: Side::Charger,
                ..
            }
        ));
        let RecKind::Frame { from, text, .. } = &recs[2].kind else {
            panic!()
        };
        assert_eq!(*from, Side::Csms);
        assert!(text.contains("\"Accepted\""));
        assert!(matches!(
            &recs[3].kind,
            RecKind::Frame {
                from: Side::Csms,
                ..
            }
        ));
        assert!(matches!(
            &recs[4].kind,
            RecKind::Gap {
                frames: Some(12),
                ..
            }
        ));
        assert_eq!(recs[4].conn, "");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("line 9"), "{problems:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("CP-9") && n.contains("--tz")),
            "{notes:?}"
        );
    }

    #[test]
    fn frame_like_garbage_is_an_error_naming_the_line() {
        let log = "x\n2024-03-01 10:00:00 sent [2,\"1\",\"Heartbeat\",{]\n";
        let (recs, problems, _) = read(log, None, &InputOptions::default());
        assert!(recs.is_empty());
        assert!(problems[0].starts_with("line 2:"), "{problems:?}");
    }

    #[test]
    fn ways_from_words_and_arrows() {
        assert_eq!(way_of("12:00 TX ", None), Some(Way::Out));
        assert_eq!(way_of("12:00 [RX] ", None), Some(Way::In));
        assert_eq!(way_of("CP1 <- ", None), Some(Way::In));
        assert_eq!(way_of("nothing here ", None), None);
        assert_eq!(action_side("BootNotification"), Some(Side::Charger));
        assert_eq!(action_side("DataTransfer"), None);
        assert_eq!(balanced_end("[1,\"]\",[2]] tail"), Some(11));
    }
}
