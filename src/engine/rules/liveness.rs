//! `liveness`: (not built yet) protocol-state rules of this group.

#![allow(clippy::needless_pass_by_ref_mut, reason = "hooks share one signature")]

use crate::engine::Ctx;
use crate::engine::protocol::{Call, OpenInfo, ProtoState, Reply};
use crate::engine::rules::Rule;
use crate::ocpp::Side;
use crate::time::Timestamp;

/// The rules of this file, in registry order.
pub static RULES: &[&Rule] = &[];

/// What this group remembers per station.
#[derive(Debug, Default)]
pub(crate) struct State {}

pub(crate) fn on_open(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _open: &OpenInfo<'_>) {}
pub(crate) fn on_close(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _by: Option<Side>) {}
pub(crate) fn on_time(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _now: Timestamp, _end: bool) {}
pub(crate) fn on_call(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _call: &Call<'_>) {}
pub(crate) fn on_reply(_st: &mut ProtoState, _ctx: &mut Ctx<'_>, _reply: &Reply<'_>) {}
