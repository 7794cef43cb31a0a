//! Embeds the built-in schemas (`schemas/<version>/*.json`) into the binary, so an installed
//! `ocpp-inspector` works anywhere. Generates a table of `(version, name, include_str!(...))`.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let schemas = Path::new(&root).join("schemas");
    println!("cargo:rerun-if-changed=schemas");
    let mut out = String::from("pub static BUILTIN: &[(&str, &str, &str)] = &[\n");
    for version in ["1.6", "2.0.1", "2.1"] {
        let dir = schemas.join(version);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut names: Vec<_> = fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for path in names {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            writeln!(
                out,
                "    ({version:?}, {stem:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .ok();
        }
    }
    out.push_str("];\n");
    let dest =
        Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("builtin_schemas.rs");
    if let Err(e) = fs::write(&dest, out) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
    }
}
