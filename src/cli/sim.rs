//! `ocpp-inspector sim`: the built-in charger and CSMS simulators.
//! (Not built yet: see the simulators issue.)

use anyhow::{Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct SimArgs {}

pub fn run(_args: &SimArgs) -> Result<u8> {
    bail!("`sim` is not built yet")
}
