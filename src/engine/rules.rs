//! The rule registry, like a linter's: every rule has a stable id, a default severity, the
//! versions it applies to, the party whose frame breaks it, a one-line summary, a spec
//! reference and a longer doc. `ocpp-inspector rules` prints this table.
//!
//! Ids are stable forever: a rule may be removed or renamed only by adding an alias in
//! [`ALIASES`]. The checks themselves live beside the metadata, one file per family.

pub mod auth;
pub mod avail;
pub mod dir;
pub mod dm;
pub mod fw;
pub mod remote;
pub mod resv;
pub mod rpc;
pub mod sc;
pub mod schema;
pub mod sec;
pub mod seq;
pub mod status16;
pub mod status2;
#[cfg(test)]
pub(crate) mod testing;
pub mod trig;
pub mod tx16;
pub mod tx2;
pub mod value;
pub mod ws;

use std::sync::LazyLock;

use super::Ctx;
use super::protocol::{Call, OpenInfo, Reply};
use super::station::{Station, Wake};
pub use crate::finding::{Party, Rule};
use crate::ocpp::{Side, Version};
use crate::time::Timestamp;

pub(crate) const ALL: &[Version] = &[Version::V16, Version::V201, Version::V21];
pub(crate) const V2X: &[Version] = &[Version::V201, Version::V21];
pub(crate) const V16: &[Version] = &[Version::V16];
pub(crate) const V21: &[Version] = &[Version::V21];
pub(crate) const V201: &[Version] = &[Version::V201];
pub(crate) const V16_V201: &[Version] = &[Version::V16, Version::V201];

/// Every rule, in the order `ocpp-inspector rules` lists them: the framing and schema
/// families, then the protocol-state families (each file lists its own `RULES`).
pub static REGISTRY: LazyLock<Vec<&'static Rule>> = LazyLock::new(|| {
    let mut all = CORE.to_vec();
    for prefix in [
        seq::RULES,
        status16::RULES,
        tx16::RULES,
        tx2::RULES,
        remote::RULES,
        status2::RULES,
        dm::RULES,
        avail::RULES,
        auth::RULES,
        trig::RULES,
        sc::RULES,
        fw::RULES,
        resv::RULES,
        sec::RULES,
        value::RULES,
        auth::client_cert::RULES,
    ] {
        all.extend_from_slice(prefix);
    }
    all
});

/// The rules of the framing, direction and schema families.
static CORE: &[&Rule] = &[
    // ws: the WebSocket text payload itself
    &ws::EMPTY_MESSAGE,
    &ws::UTF8_BOM,
    &ws::UNSUPPORTED_VERSION,
    &ws::BINARY_FRAME,
    &ws::SUBPROTOCOL_NOT_OFFERED,
    &ws::PROTOCOL_ERROR,
    &ws::INVALID_UTF8,
    &ws::MESSAGE_TOO_BIG,
    // rpc: OCPP-J framing and correlation
    &rpc::NOT_JSON,
    &rpc::NOT_ARRAY,
    &rpc::MESSAGE_TYPE_NOT_INTEGER,
    &rpc::UNKNOWN_MESSAGE_TYPE,
    &rpc::WRONG_ELEMENT_COUNT,
    &rpc::MESSAGE_ID_NOT_STRING,
    &rpc::MESSAGE_ID_TOO_LONG,
    &rpc::MESSAGE_ID_EMPTY,
    &rpc::ACTION_NOT_STRING,
    &rpc::UNKNOWN_ACTION,
    &rpc::ACTION_CASE_MISMATCH,
    &rpc::ACTION_HAS_SUFFIX,
    &rpc::PAYLOAD_NOT_OBJECT,
    &rpc::RESPONSE_UNKNOWN_ID,
    &rpc::DUPLICATE_RESPONSE,
    &rpc::DUPLICATE_OUTSTANDING_ID,
    &rpc::CONCURRENT_CALL,
    &rpc::ERROR_CODE_UNKNOWN,
    &rpc::ERROR_CODE_OTHER_VERSION,
    &rpc::ERROR_DESCRIPTION_NOT_STRING,
    &rpc::ERROR_DESCRIPTION_TOO_LONG,
    &rpc::ERROR_DETAILS_NOT_OBJECT,
    &rpc::RESPONSE_TO_SEND,
    &rpc::SEND_ACTION_NOT_ALLOWED,
    &rpc::SEND_MESSAGE_AS_CALL,
    &rpc::CALLRESULTERROR_UNKNOWN_TARGET,
    &rpc::FRAME_AFTER_CLOSE,
    &rpc::NO_RESPONSE,
    &rpc::RESPONSE_AFTER_TIMEOUT,
    // dir: actions per version and who may send them
    &dir::WRONG_DIRECTION,
    &dir::ACTION_NOT_IN_VERSION,
    &dir::SECURITY_EXTENSION_ON_16,
    &dir::LOCAL_CONTROLLER_MESSAGE,
    // schema: payloads against the official JSON schemas
    &schema::REQUEST_INVALID,
    &schema::RESPONSE_INVALID,
    &schema::SEND_INVALID,
    &schema::DATETIME_INVALID,
    &schema::PAYLOAD_NULL,
    &schema::CUSTOM_DATA_ON_16,
    &schema::ENUM_CASE_MISMATCH,
];

/// The state of every protocol family for one station identity. It survives reconnects
/// (a station that only lost its WebSocket need not boot again).
#[derive(Debug, Default)]
pub(crate) struct ProtoState {
    /// The facts every family reads, updated before the families run.
    pub station: Station,
    /// When some family next has something due (see [`Family::next_due`]).
    wake: Wake,
    pub boot: seq::boot::State,
    pub liveness: seq::liveness::State,
    pub status16: status16::connector::State,
    pub tx16: tx16::transaction::State,
    pub tx2: tx2::transaction::State,
    pub remote: remote::request::State,
    pub status2: status2::connector::State,
    pub dm: dm::device_model::State,
    pub trig: trig::trigger::State,
    pub sc: sc::charging_profile::State,
    pub fw: fw::firmware::State,
    pub resv: resv::reservation::State,
    pub sec: sec::security::State,
    pub auth: auth::profile::State,
}

/// The actions one hook of a family acts on. The dispatcher calls the hook for those only,
/// so a family that judges MeterValues costs nothing on a Heartbeat.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listen {
    /// Every action (the hook looks at every message, or at every message of one side).
    All,
    /// These actions only (of any version; a name no version has is a test failure).
    Only(&'static [&'static str]),
}

/// The hooks of one protocol-state family. Every hook has a no-op default, so a family
/// writes only those it uses; the dispatcher calls a family only on connections of its
/// [`VERSIONS`](Family::VERSIONS), and its `on_call` / `on_reply` only for the actions of
/// [`CALLS`](Family::CALLS) / [`REPLIES`](Family::REPLIES).
pub(crate) trait Family {
    /// The versions this family judges. A family of every version also runs while the
    /// version is unknown (open, close and time still reach it).
    const VERSIONS: &'static [Version];
    /// The actions whose CALLs `on_call` acts on.
    const CALLS: Listen = Listen::All;
    /// The actions whose answers `on_reply` acts on.
    const REPLIES: Listen = Listen::All;

    fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}
    fn on_close(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {}
    /// Time has advanced to `now`: an event of this connection past the station's [`Wake`]
    /// (something of some family is due), or with `end` the end of the observation.
    fn on_time(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _now: Timestamp, _end: bool) {}
    /// The due times `on_time` acts on, each told to `wake`: every wait, window or
    /// expiry after which `on_time` would report or change something. The dispatcher asks
    /// it after each of this family's hooks, and skips `on_time` for events before the
    /// earliest due time of all families; so a family with an `on_time` must tell every
    /// time it compares `now` with (earlier is safe, later loses findings).
    fn next_due(_st: &ProtoState, _ctx: &Ctx<'_>, _wake: &mut Wake) {}
    fn on_call(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _call: &Call<'_>) {}
    fn on_reply(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _reply: &Reply<'_>) {}
}

/// Whether a family of `versions` judges a connection of `version`.
fn judges(versions: &[Version], version: Option<Version>) -> bool {
    versions == ALL || version.is_some_and(|v| versions.contains(&v))
}

/// Hands the list of the families, in the order their hooks run (the one place they are
/// listed), to another macro.
macro_rules! families {
    ($then:ident ! ($($pre:tt)*)) => {
        $then!($($pre)*;
            seq::boot::Boot, seq::liveness::Liveness, status16::connector::Status16,
            tx16::transaction::Tx16, tx2::transaction::Tx2, remote::request::Remote,
            status2::connector::Status2,
            dm::device_model::Dm, trig::trigger::Trig, sc::charging_profile::Sc,
            fw::firmware::Fw, resv::reservation::Resv, auth::profile::Auth, sec::security::Sec,
            value::formats::ValueFormats)
    };
}

/// Calls one hook of every family that judges this connection's version and whose bit is
/// set in `mask` (bit `i` is the `i`th family of [`families!`]).
macro_rules! call_each {
    ($st:ident, $hook:ident, $mask:expr, $args:tt; $($family:ty),*) => {{
        let version = $st.station.version;
        let mask: u32 = $mask;
        let mut bit = 1u32;
        $(
            if mask & bit != 0 && judges(<$family as Family>::VERSIONS, version) {
                <$family as Family>::$hook $args;
            }
            bit <<= 1;
        )*
        let _ = bit;
    }};
}

/// Tests only (hooks that hear every event): calls each family's time hook, and fails when
/// one reports a finding at an event before anything was due by its own `next_due` (a due
/// time it leaves out would lose or delay that finding under the wake).
#[cfg(test)]
macro_rules! on_time_checked {
    ($st:ident, $ctx:ident, $now:ident, $end:ident; $($family:ty),*) => {{
        let version = $st.station.version;
        $(
            if judges(<$family as Family>::VERSIONS, version) {
                let mut own = Wake::NEVER;
                <$family as Family>::next_due($st, $ctx, &mut own);
                let before = $ctx.out.len();
                <$family as Family>::on_time($st, $ctx, $now, $end);
                assert!(
                    $end || $ctx.out.len() == before || own.passed($now),
                    "{} reported at {} with nothing due by its next_due",
                    stringify!($family),
                    $now
                );
            }
        )*
    }};
}

macro_rules! listens {
    (; $($family:ty),*) => {
        [$((<$family as Family>::CALLS, <$family as Family>::REPLIES)),*]
    };
}

/// Which families listen to which action: built once from their [`Listen`] declarations.
struct Dispatch {
    /// Every action name of every version, sorted, with the families listening to its CALLs
    /// and to its answers.
    actions: Vec<(&'static str, u32, u32)>,
    /// The same masks keyed by the address of the catalogue's name of the action (a CALL's
    /// action is always that `&'static str`): a lookup compares integers, not strings.
    by_address: Vec<(usize, u32, u32)>,
    /// The families listening to every action (for a name no version has).
    all: (u32, u32),
}

static DISPATCH: LazyLock<Dispatch> = LazyLock::new(|| {
    let mut actions: Vec<(&'static str, u32, u32)> = [Version::V16, Version::V201, Version::V21]
        .into_iter()
        .flat_map(|v| {
            crate::ocpp::action::catalogue(v)
                .iter()
                .map(|a| (a.name, 0, 0))
        })
        .collect();
    actions.sort_unstable_by_key(|a| a.0);
    actions.dedup_by_key(|a| a.0);
    let mut all = (0u32, 0u32);
    for (i, (calls, replies)) in families!(listens!()).into_iter().enumerate() {
        let bit = 1u32 << i;
        for (listen, all_mask, pick) in [(calls, &mut all.0, 0usize), (replies, &mut all.1, 1usize)]
        {
            match listen {
                Listen::All => *all_mask |= bit,
                Listen::Only(names) => {
                    for name in names {
                        if let Ok(k) = actions.binary_search_by_key(name, |a| a.0) {
                            let a = &mut actions[k];
                            *(if pick == 0 { &mut a.1 } else { &mut a.2 }) |= bit;
                        }
                    }
                }
            }
        }
    }
    for a in &mut actions {
        a.1 |= all.0;
        a.2 |= all.1;
    }
    let mut by_address: Vec<(usize, u32, u32)> = [Version::V16, Version::V201, Version::V21]
        .into_iter()
        .flat_map(|v| crate::ocpp::action::catalogue(v).iter())
        .filter_map(|a| {
            let k = actions.binary_search_by_key(&a.name, |x| x.0).ok()?;
            Some((a.name.as_ptr() as usize, actions[k].1, actions[k].2))
        })
        .collect();
    by_address.sort_unstable_by_key(|a| a.0);
    Dispatch {
        actions,
        by_address,
        all,
    }
});

impl Dispatch {
    /// The families listening to the CALLs and to the answers of `action`.
    fn masks(&self, action: &str) -> (u32, u32) {
        let address = action.as_ptr() as usize;
        if let Ok(k) = self.by_address.binary_search_by_key(&address, |a| a.0) {
            return (self.by_address[k].1, self.by_address[k].2);
        }
        self.actions
            .binary_search_by(|a| a.0.cmp(action))
            .map_or(self.all, |k| (self.actions[k].1, self.actions[k].2))
    }
}

impl ProtoState {
    /// The connection speaks OCPP 1.6.
    pub(crate) fn is_v16(&self) -> bool {
        self.station.is_v16()
    }

    /// The connection speaks OCPP 2.0.1 or 2.1.
    pub(crate) fn is_2x(&self) -> bool {
        self.station.is_2x()
    }

    pub(crate) fn on_open(&mut self, ctx: &mut Ctx<'_>, open: &OpenInfo<'_>) {
        self.station.observe_open(open);
        families!(call_each!(self, on_open, u32::MAX, (self, ctx, open)));
        self.wake_for(ctx, u32::MAX);
    }

    pub(crate) fn on_close(&mut self, ctx: &mut Ctx<'_>, by: Option<Side>) {
        self.station.observe_close();
        families!(call_each!(self, on_close, u32::MAX, (self, ctx, by)));
        self.wake_for(ctx, u32::MAX);
    }

    /// Time has advanced to `now` (an event of this connection, or with `end` the end of
    /// the observation). The families hear it only when something of theirs is due.
    pub(crate) fn on_time(&mut self, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        #[cfg(test)]
        if ctx.config().time_on_every_event {
            families!(on_time_checked!(self, ctx, now, end));
            return;
        }
        if !end && !self.wake.passed(now) {
            return;
        }
        families!(call_each!(self, on_time, u32::MAX, (self, ctx, now, end)));
        self.wake = Wake::NEVER;
        self.wake_for(ctx, u32::MAX);
    }

    pub(crate) fn on_call(&mut self, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        self.station.observe_call(call, ctx.now(), ctx.line());
        let mask = DISPATCH.masks(call.action).0;
        families!(call_each!(self, on_call, mask, (self, ctx, call)));
        self.wake_for(ctx, mask);
    }

    pub(crate) fn on_reply(&mut self, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        self.station.observe_reply(reply, ctx.now());
        let mask = DISPATCH.masks(reply.action).1;
        families!(call_each!(self, on_reply, mask, (self, ctx, reply)));
        self.wake_for(ctx, mask);
    }

    /// Adds the due times of the families in `mask` (those whose hooks just ran, so may
    /// have started waiting) to the wake. It only moves earlier: what a family stopped
    /// waiting for at most wakes the time hooks once for nothing.
    fn wake_for(&mut self, ctx: &Ctx<'_>, mask: u32) {
        let mut wake = self.wake;
        families!(call_each!(self, next_due, mask, (self, ctx, &mut wake)));
        self.wake = wake;
    }
}

/// Old ids that still resolve, mapped to the id that replaced them.
pub static ALIASES: &[(&str, &str)] = &[];

/// Finds a rule by id (or alias).
pub fn find(id: &str) -> Option<&'static Rule> {
    let id = ALIASES
        .iter()
        .find(|(old, _)| *old == id)
        .map_or(id, |(_, new)| *new);
    REGISTRY.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in REGISTRY.iter() {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            let (family, fault) = r.id.split_once('.').expect("family.fault");
            assert!(
                family
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
            assert!(
                fault
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for r in REGISTRY.iter() {
            assert!(
                !r.summary.is_empty() && r.summary.len() <= 100,
                "{}: summary",
                r.id
            );
            assert!(!r.summary.ends_with('.'), "{}: summary is a phrase", r.id);
            assert!(!r.spec.is_empty(), "{}: spec", r.id);
            assert!(r.doc.len() > 80, "{}: doc too short", r.id);
            assert!(!r.versions.is_empty(), "{}: versions", r.id);
        }
    }

    #[test]
    fn every_action_a_family_listens_to_exists_and_the_families_fit_the_mask() {
        let listens = families!(listens!());
        assert!(listens.len() <= 32, "the dispatch masks hold 32 families");
        let known = |name: &str| {
            [Version::V16, Version::V201, Version::V21]
                .into_iter()
                .any(|v| crate::ocpp::action::lookup(v, name).is_some())
        };
        for (calls, replies) in listens {
            for listen in [calls, replies] {
                if let Listen::Only(names) = listen {
                    for name in names {
                        assert!(known(name), "no version has the action {name}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_family_is_dispatched_only_the_actions_it_listens_to() {
        let (calls, replies) = DISPATCH.masks("Heartbeat");
        let (mv_calls, _) = DISPATCH.masks("MeterValues");
        // status16 (the third family) judges MeterValues but not Heartbeat.
        assert_eq!(calls & 0b100, 0);
        assert_ne!(mv_calls & 0b100, 0);
        // seq::boot (the first) listens to every CALL and every answer.
        assert_ne!(calls & 1, 0);
        assert_ne!(replies & 1, 0);
        assert_eq!(DISPATCH.masks("NoSuchAction"), DISPATCH.all);
        // The catalogue's own name (found by address) and a copy of it (found by name)
        // give the same masks.
        let name = crate::ocpp::action::lookup(Version::V16, "MeterValues")
            .map(|(_, a)| a.name)
            .unwrap();
        assert_eq!(DISPATCH.masks(name), DISPATCH.masks(&String::from(name)));
    }

    /// The wake only skips the time hooks for events where nothing is due: on every trace
    /// of the repository's fixtures (the rules', sessions, test cases, captures), with a
    /// probe a day after its end, each finding comes at the same event, with the same words,
    /// as from hooks that hear every event; and there, no family reports from its time
    /// hook before its own `next_due` says something is due (so one family's wait cannot
    /// hide another's missing due time).
    #[test]
    fn the_wake_loses_no_finding_and_delays_none() {
        use crate::engine::schema::ErrataSelection;
        use crate::engine::{Config, Engine, SchemaSet};
        use crate::source::trace_reader::parse_record;
        use std::sync::Arc;

        /// Each finding with the number of the record whose feeding emitted it.
        fn emitted(schemas: &Arc<SchemaSet>, every: bool, text: &str) -> Vec<String> {
            let mut config = Config::default();
            config.time_on_every_event = every;
            let mut engine = Engine::new(schemas.clone(), Arc::new(config), None);
            let (mut out, mut seen, mut end) = (Vec::new(), Vec::new(), None);
            let mut note = |out: &mut Vec<crate::finding::Finding>, at: u64| {
                for f in out.drain(..) {
                    let m = &f.message;
                    seen.push(format!(
                        "@{at} {} {:?} {} {m}",
                        f.rule.id, f.severity, f.line
                    ));
                }
            };
            for (i, line) in text.lines().enumerate() {
                let n = i as u64 + 1;
                let Ok(record) = parse_record(line.as_bytes(), n) else {
                    continue;
                };
                end = Some(end.map_or(record.at, |e: crate::time::Timestamp| e.max(record.at)));
                if let Some(event) = record.event(n) {
                    let _ = engine.feed(&event, &mut out);
                }
                note(&mut out, n);
            }
            if let Some(end) = end {
                engine.finish(end, &mut out);
            }
            note(&mut out, u64::MAX);
            seen
        }
        let files = crate::wire::json::tests::repository_traces(&["tests/fixtures"]);
        assert!(files.len() > 500, "fixtures not found");
        let schemas = Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap());
        let mut timed = 0;
        for file in &files {
            let mut text = std::fs::read_to_string(file).unwrap();
            // A probe a day after the trace's last record on each of its connections: a
            // wait that ran out before it must be reported at the probe, not at the end.
            let (mut conns, mut last) = (Vec::new(), None);
            for (i, line) in text.lines().enumerate() {
                if let Ok(r) = parse_record(line.as_bytes(), i as u64 + 1) {
                    last = Some(last.map_or(r.at, |l: crate::time::Timestamp| l.max(r.at)));
                    if !r.conn.is_empty() && !conns.contains(&r.conn.to_string()) {
                        conns.push(r.conn.to_string());
                    }
                }
            }
            if let Some(last) = last {
                let at = last.after(86_400_000_000).to_rfc3339_micros();
                for conn in &conns {
                    text.push_str(&format!(
                        "\n{{\"ts\":\"{at}\",\"conn\":{},\"from\":\"charger\",\"text\":\"[2,\\\"probe\\\",\\\"Heartbeat\\\",{{}}]\"}}",
                        serde_json::to_string(conn).unwrap()
                    ));
                }
            }
            let woken = emitted(&schemas, false, &text);
            assert_eq!(woken, emitted(&schemas, true, &text), "{}", file.display());
            // A wait that ran out, reported before the trace's end.
            timed += usize::from(
                woken
                    .iter()
                    .any(|f| !f.starts_with(&format!("@{}", u64::MAX)) && f.contains("within")),
            );
        }
        assert!(
            timed >= 20,
            "{timed} traces with a wait that ran out mid-trace"
        );
    }

    #[test]
    fn aliases_point_at_rules() {
        for (old, new) in ALIASES {
            assert!(find(old).is_some_and(|r| r.id == *new));
        }
    }
}
