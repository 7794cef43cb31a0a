//! `ocpp-inspector certs`: a test CA, a server certificate and charger client certificates.
//! (Not built yet.)

use anyhow::{Result, bail};
use clap::Args;

#[derive(Debug, Args)]
pub struct CertsArgs {}

pub fn run(_args: &CertsArgs) -> Result<u8> {
    bail!("`certs` is not built yet")
}
