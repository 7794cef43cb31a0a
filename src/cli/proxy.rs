//! `ocpp-inspector proxy`: the man-in-the-middle proxy between chargers and a CSMS.
//! (Not built yet: see the proxy issue.)

use anyhow::{Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct ProxyArgs {}

pub fn run(_args: &ProxyArgs) -> Result<u8> {
    bail!("`proxy` is not built yet")
}
