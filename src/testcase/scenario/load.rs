//! Loading case files: every `*.toml` under a folder (bounded depth, sorted, the
//! known-failures list left out), parsed with [`super::parse_case`]; ids and OCA ids unique
//! across the set; every error returned, not only the first. Reads files; judges no traffic.

use std::path::Path;

use super::{Case, ScenarioError, parse_case};

/// Reads and validates every `*.toml` under `dir` (recursively, sorted by path). Ids must be
/// unique. All errors are returned, not only the first.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, Vec<ScenarioError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect_toml(dir, &mut files, &mut errors, 0);
    files.sort();
    let mut texts = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match std::fs::read_to_string(&f) {
            Ok(t) => texts.push((name, t)),
            Err(e) => errors.push(ScenarioError {
                file: name,
                key: String::new(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
    match load_texts(texts.iter().map(|(n, t)| (n.as_str(), t.as_str()))) {
        Ok(cases) if errors.is_empty() => Ok(cases),
        Ok(_) => Err(errors),
        Err(mut more) => {
            errors.append(&mut more);
            Err(errors)
        }
    }
}

/// Validates a set of (name, text) case files; ids must be unique across the set.
pub fn load_texts<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Case>, Vec<ScenarioError>> {
    let mut cases: Vec<Case> = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in files {
        match parse_case(text, name) {
            Ok(c) => {
                if let Some(prev) = cases.iter().find(|p| p.id == c.id) {
                    errors.push(ScenarioError {
                        file: name.to_owned(),
                        key: "id".into(),
                        message: format!("`{}` is also the id of {}", c.id, prev.source),
                    });
                } else if let Some((prev, o)) = cases.iter().find_map(|p| {
                    p.oca
                        .as_ref()
                        .zip(c.oca.as_ref())
                        .filter(|(a, b)| a.id == b.id)
                        .map(|(a, _)| (p, a))
                }) {
                    errors.push(ScenarioError {
                        file: name.to_owned(),
                        key: "oca.id".into(),
                        message: format!(
                            "`{}` is already followed by {} ({}): one case per OCA case",
                            o.id, prev.id, prev.source
                        ),
                    });
                } else {
                    cases.push(c);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// The case files under `dir` as [`load_dir`] reads them (recursively, sorted by path,
/// the known-failures list left out), for hashing the case set.
pub fn case_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    collect_toml(dir, &mut files, &mut Vec::new(), 0);
    files.sort();
    files
}

/// Directory depth bound: case trees are shallow; a symlink loop must not hang the load.
const MAX_DEPTH: usize = 8;

fn collect_toml(
    dir: &Path,
    out: &mut Vec<std::path::PathBuf>,
    errors: &mut Vec<ScenarioError>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(ScenarioError {
                file: dir.display().to_string(),
                key: String::new(),
                message: format!("cannot read the case directory: {e}"),
            });
            return;
        }
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_toml(&p, out, errors, depth + 1);
        } else if p.extension().is_some_and(|x| x == "toml")
            && p.file_name().is_none_or(|n| n != KNOWN_FAILURES_FILE)
        {
            out.push(p);
        }
    }
}

/// The file name of a known-failures list (`testcase run --known-failures`), which may sit
/// beside the cases and is not one.
pub const KNOWN_FAILURES_FILE: &str = "known-failures.toml";
