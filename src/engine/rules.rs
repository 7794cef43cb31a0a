//! The rule registry, like a linter's: every rule has a stable id, a default severity, the
//! versions it applies to, the party whose frame breaks it, a one-line summary, a spec
//! reference and a longer doc. `ocpp-inspector rules` prints this table.
//!
//! Ids are stable forever: a rule may be removed or renamed only by adding an alias in
//! [`ALIASES`]. The checks themselves live beside the metadata, one file per family.

pub mod auth;
pub mod auth_cert;
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
pub(crate) mod support;
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
use super::station::Station;
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
        auth_cert::RULES,
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
    pub boot: seq::boot::State,
    pub liveness: seq::liveness::State,
    pub status16: status16::connector::State,
    pub tx16: tx16::transaction::State,
    pub tx2: tx2::transaction::State,
    pub status2: status2::connector::State,
    pub dm: dm::device_model::State,
    pub trig: trig::trigger::State,
    pub sc: sc::charging_profile::State,
    pub fw: fw::firmware::State,
    pub resv: resv::reservation::State,
    pub sec: sec::security::State,
}

/// The hooks of one protocol-state family. Every hook has a no-op default, so a family
/// writes only those it uses; the dispatcher calls a family only on connections of its
/// [`VERSIONS`](Family::VERSIONS).
pub(crate) trait Family {
    /// The versions this family judges. A family of every version also runs while the
    /// version is unknown (open, close and time still reach it).
    const VERSIONS: &'static [Version];

    fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}
    fn on_close(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {}
    /// Time has advanced to `now` (an event of this connection, or with `end` the end of
    /// the observation).
    fn on_time(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _now: Timestamp, _end: bool) {}
    fn on_call(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _call: &Call<'_>) {}
    fn on_reply(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _reply: &Reply<'_>) {}
}

/// Whether a family of `versions` judges a connection of `version`.
fn judges(versions: &[Version], version: Option<Version>) -> bool {
    versions == ALL || version.is_some_and(|v| versions.contains(&v))
}

/// Calls one hook of every family that judges this connection's version, in this order
/// (the one place the families are listed).
macro_rules! each_family {
    ($st:ident . $hook:ident ( $($arg:ident),* )) => {
        each_family!(@ $st, $hook, ($st, $($arg),*);
            seq::boot::Boot, seq::liveness::Liveness, status16::connector::Status16,
            tx16::transaction::Tx16, tx2::transaction::Tx2, status2::connector::Status2,
            dm::device_model::Dm, trig::trigger::Trig, sc::charging_profile::Sc,
            fw::firmware::Fw, resv::reservation::Resv, sec::security::Sec,
            value::formats::ValueFormats)
    };
    (@ $st:ident, $hook:ident, $args:tt; $($family:ty),*) => {{
        let version = $st.station.version;
        $(
            if judges(<$family as Family>::VERSIONS, version) {
                <$family as Family>::$hook $args;
            }
        )*
    }};
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
        self.station.observe_open();
        each_family!(self.on_open(ctx, open));
    }

    pub(crate) fn on_close(&mut self, ctx: &mut Ctx<'_>, by: Option<Side>) {
        each_family!(self.on_close(ctx, by));
    }

    /// Time has advanced to `now` (an event of this connection, or with `end` the end of
    /// the observation).
    pub(crate) fn on_time(&mut self, ctx: &mut Ctx<'_>, now: Timestamp, end: bool) {
        each_family!(self.on_time(ctx, now, end));
    }

    pub(crate) fn on_call(&mut self, ctx: &mut Ctx<'_>, call: &Call<'_>) {
        self.station.observe_call(call, ctx.now());
        each_family!(self.on_call(ctx, call));
    }

    pub(crate) fn on_reply(&mut self, ctx: &mut Ctx<'_>, reply: &Reply<'_>) {
        self.station.observe_reply(reply);
        each_family!(self.on_reply(ctx, reply));
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
    fn aliases_point_at_rules() {
        for (old, new) in ALIASES {
            assert!(find(old).is_some_and(|r| r.id == *new));
        }
    }
}
