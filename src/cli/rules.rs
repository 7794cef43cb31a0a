//! `ocpp-inspector rules [ID]`: the rule registry, listed or explained.

use std::io::{self, Write};

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde_json::json;

use super::exit;
use crate::engine::rules::{self, REGISTRY, Rule};
use crate::engine::schema::ERRATA;
use crate::ocpp::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule id to explain (`rpc.not-json`), or a family prefix to list (`rpc`)
    pub id: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,

    /// List the schema errata overlays instead of the rules
    #[arg(long)]
    pub errata: bool,
}

fn rule_json(r: &Rule) -> serde_json::Value {
    json!({
        "id": r.id,
        "severity": r.severity.as_str(),
        "severity_1_6": r.severity_16.map(|s| s.as_str()),
        "versions": r.versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "by": r.by.as_str(),
        "summary": r.summary,
        "spec": r.spec,
        "doc": r.doc,
    })
}

pub fn run(args: &RulesArgs) -> Result<u8> {
    let mut out = io::stdout().lock();
    if args.errata {
        for e in ERRATA {
            writeln!(
                out,
                "{:<28} {:<6} {:<30} {}",
                e.name,
                e.version.as_str(),
                e.schema,
                e.summary
            )?;
        }
        return Ok(exit::CLEAN);
    }
    if let Some(id) = &args.id {
        if let Some(rule) = rules::find(id) {
            match args.format {
                RulesFormat::Json => writeln!(out, "{}", rule_json(rule))?,
                RulesFormat::Text => {
                    writeln!(out, "{}  ({})", rule.id, rule.summary)?;
                    let sev = match rule.severity_16 {
                        Some(s16) => format!("{} (1.6: {s16})", rule.severity),
                        None => rule.severity.to_string(),
                    };
                    writeln!(
                        out,
                        "severity: {sev}    versions: {}    broken by: {}",
                        Version::list(rule.versions, ","),
                        rule.by.as_str()
                    )?;
                    writeln!(out, "spec: {}\n", rule.spec)?;
                    writeln!(out, "{}", rule.doc)?;
                }
            }
            return Ok(exit::CLEAN);
        }
        let family: Vec<&Rule> = REGISTRY
            .iter()
            .copied()
            .filter(|r| r.family() == id)
            .collect();
        if family.is_empty() {
            eprintln!(
                "ocpp-inspector: error: no rule or family `{id}` (see `ocpp-inspector rules`)"
            );
            return Ok(exit::USAGE);
        }
        return list(&mut out, &family, args.format).map(|()| exit::CLEAN);
    }
    let all: Vec<&Rule> = REGISTRY.to_vec();
    list(&mut out, &all, args.format)?;
    Ok(exit::CLEAN)
}

fn list(out: &mut impl Write, rules: &[&Rule], format: RulesFormat) -> Result<()> {
    match format {
        RulesFormat::Json => {
            let arr: Vec<_> = rules.iter().map(|r| rule_json(r)).collect();
            writeln!(out, "{}", serde_json::Value::Array(arr))?;
        }
        RulesFormat::Text => {
            for r in rules {
                writeln!(
                    out,
                    "{:<40} {:<8} {:<14} {}",
                    r.id,
                    r.severity.as_str(),
                    Version::list(r.versions, ","),
                    r.summary
                )?;
            }
            writeln!(
                out,
                "\n{} rules. `ocpp-inspector rules ID` explains one.",
                rules.len()
            )?;
        }
    }
    Ok(())
}
