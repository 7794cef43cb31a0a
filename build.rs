//! Embeds the built-in schemas (`schemas/<version>/*.json`) into the binary, so an installed
//! `ocpp-inspector` works anywhere. Generates a table of `(version, name, include_str!(...))`.
//! Also tells `--version` the git commit built (`OCPP_INSPECTOR_GIT_COMMIT`, when git and a
//! repository are there) and the schema set (`OCPP_INSPECTOR_SCHEMA_SET`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::{env, fs};

/// Runs git in `root`; its trimmed output, if it succeeded.
fn git(root: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The commit for `--version`, rebuilt when HEAD moves.
fn git_commit(root: &str) {
    if let Some(commit) = git(root, &["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=OCPP_INSPECTOR_GIT_COMMIT={commit}");
    }
    if let Some(head) = git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-path", "HEAD"],
    ) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(name) = git(root, &["symbolic-ref", "-q", "HEAD"])
        && let Some(r) = git(
            root,
            &["rev-parse", "--path-format=absolute", "--git-path", &name],
        )
    {
        println!("cargo:rerun-if-changed={r}");
    }
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let schemas = Path::new(&root).join("schemas");
    println!("cargo:rerun-if-changed=schemas");
    git_commit(&root);
    let mut set = Vec::new();
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
        set.push(format!("OCPP {version} ({} files)", names.len()));
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
    println!(
        "cargo:rustc-env=OCPP_INSPECTOR_SCHEMA_SET={}",
        set.join(", ")
    );
    let dest =
        Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("builtin_schemas.rs");
    if let Err(e) = fs::write(&dest, out) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
    }
}
