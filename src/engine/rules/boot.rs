//! `boot`: (not built yet) protocol-state rules of this group.

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]
#![allow(dead_code, reason = "being filled in")]

use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, ProtoState, Reply};
use crate::engine::rules::Rule;
use crate::ocpp::Side;
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[];

/// The registration state of a station, as its BootNotifications were answered. Other
/// families read it (`st.boot.registration`); only this file changes it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration {
    /// Nothing seen yet (the trace may have started mid-life): rules that need the
    /// registration state stay silent or report `info` only.
    #[default]
    Unknown,
    /// A BootNotification was sent on this connection and is not answered yet.
    Booting,
    Pending,
    Rejected,
    Accepted,
}

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) registration: Registration,
}

pub(crate) fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}
pub(crate) fn on_close(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {}
pub(crate) fn on_time(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _now: Timestamp, _end: bool) {}
pub(crate) fn on_call(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _call: &Call<'_>) {}
pub(crate) fn on_reply(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _reply: &Reply<'_>) {}
