//! `ocpp-inspector certs --out DIR`: a test CA, a server certificate and charger client
//! certificates for the security profiles (see `certs/README.md`). Prints what each file is
//! for, never a key.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::exit;
use crate::certs::{CertsRequest, ServerCert, generate};

#[derive(Debug, Args)]
#[command(after_help = "\
Files: ca.pem/ca.key (the test CA; reused when DIR already has them, so chargers added later \
share it), server.pem/server.key (for --tls-cert/--tls-key; kept when they exist, made anew \
only with --reissue-server), <ID>.pem/<ID>.key per charger (CN=<ID>, for security profile 3; \
other chargers' files in DIR are left as they are). Private keys are written with mode 0600.")]
pub struct CertsArgs {
    /// Folder to write the PEM files to (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// A name the server certificate is valid for (repeatable; an IP address becomes an IP
    /// SAN) [default: localhost, 127.0.0.1]
    #[arg(long = "server-name", value_name = "NAME")]
    pub server_names: Vec<String>,

    /// A charger identity to make a client certificate for (repeatable)
    #[arg(long = "charger", value_name = "ID")]
    pub chargers: Vec<String>,

    /// Organization in the charger certificates' subject (OCPP: the CPO's name)
    #[arg(long, value_name = "NAME", default_value = "ocpp-inspector test CPO")]
    pub organization: String,

    /// Validity of the server and charger certificates, in days
    #[arg(long, value_name = "DAYS", default_value_t = 730)]
    pub days: u32,

    /// Make server.pem/server.key anew even when they exist (by default an existing server
    /// certificate is kept, so adding a charger changes nothing a CSMS or proxy uses)
    #[arg(long)]
    pub reissue_server: bool,
}

pub fn run(args: &CertsArgs) -> Result<u8> {
    let req = CertsRequest {
        out: args.out.clone(),
        server_names: args.server_names.clone(),
        chargers: args.chargers.clone(),
        organization: args.organization.clone(),
        days: args.days,
        reissue_server: args.reissue_server,
    };
    let outcome = generate(&req)?;
    if outcome.reused_ca {
        println!(
            "signed with the existing CA in {} (ca.pem, ca.key)",
            args.out.display()
        );
    }
    match &outcome.server {
        ServerCert::Issued => {}
        ServerCert::Reissued(why) => println!(
            "re-issued the server certificate ({why}): the old server.pem/server.key are replaced; restart what uses them"
        ),
        ServerCert::Kept(names) => println!(
            "kept the existing server certificate {} (valid for {}; --reissue-server makes it anew)",
            args.out.join("server.pem").display(),
            names.join(", ")
        ),
    }
    for w in &outcome.written {
        println!("wrote {}  {}", w.path.display(), w.role);
    }
    if !outcome.chargers.is_empty() {
        println!(
            "charger certificates in {}: {}",
            args.out.display(),
            outcome.chargers.join(", ")
        );
    }
    Ok(exit::CLEAN)
}
