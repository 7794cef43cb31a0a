//! What a lab report says about the run besides the verdicts: the lab's own fields
//! (`--lab-info FILE`, TOML), the SHA-256 of the case set and of every trace or recording
//! judged, and the scan that tells whether a recording marks injected frames. It reads files
//! only when asked by the command line; it judges nothing and renders nothing.

use std::fmt;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The lab's fields on the report (`--lab-info`): who tested, for whom, and free notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabInfo {
    pub lab: String,
    pub operator: String,
    pub customer: String,
    pub notes: String,
}

/// Why a `--lab-info` file cannot be used: the file, the key (empty for the whole file) and
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabInfoError {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl fmt::Display for LabInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.file, self.key, self.message)
        }
    }
}

impl std::error::Error for LabInfoError {}

/// The keys a lab-info file may hold, in report order.
const LAB_KEYS: [&str; 4] = ["lab", "operator", "customer", "notes"];

impl LabInfo {
    /// Reads the TOML text of a lab-info file named `file` (for the messages): string keys
    /// `lab`, `operator`, `customer`, `notes`; `lab` is required.
    pub fn parse(text: &str, file: &str) -> Result<LabInfo, LabInfoError> {
        let err = |key: &str, message: String| LabInfoError {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|before| format!(" (line {})", before.matches('\n').count() + 1))
                .unwrap_or_default();
            err("", format!("not a TOML file{at}: {}", e.message().trim()))
        })?;
        let mut info = LabInfo::default();
        for (key, value) in &table {
            let Some(v) = value.as_str() else {
                if LAB_KEYS.contains(&key.as_str()) {
                    return Err(err(
                        key,
                        format!("must be a string, got a {}", value.type_str()),
                    ));
                }
                return Err(err(
                    key,
                    format!("unknown key; the keys are {}", LAB_KEYS.join(", ")),
                ));
            };
            let v = v.trim().to_owned();
            match key.as_str() {
                "lab" => info.lab = v,
                "operator" => info.operator = v,
                "customer" => info.customer = v,
                "notes" => info.notes = v,
                _ => {
                    return Err(err(
                        key,
                        format!("unknown key; the keys are {}", LAB_KEYS.join(", ")),
                    ));
                }
            }
        }
        if info.lab.is_empty() {
            return Err(err("lab", "is missing or empty: name the lab".into()));
        }
        Ok(info)
    }

    /// (label, value) pairs for the report, empty fields left out.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("Lab", self.lab.as_str()),
            ("Operator", self.operator.as_str()),
            ("Customer", self.customer.as_str()),
            ("Notes", self.notes.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The case set's fingerprint: per file `<sha256>  <path>` (the `sha256sum` format, paths
/// relative to the case folder, sorted), and the SHA-256 of that listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSet {
    /// Where the cases came from (`built-in` or the folder).
    pub origin: String,
    /// (relative path, SHA-256) per file, sorted by path.
    pub files: Vec<(String, String)>,
    /// SHA-256 of the listing.
    pub sha256: String,
}

impl CaseSet {
    /// The fingerprint of (relative path, file text) pairs.
    pub fn of<'a>(origin: &str, files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> CaseSet {
        let mut list: Vec<(String, String)> = files
            .into_iter()
            .map(|(p, t)| (p.to_owned(), sha256_hex(t)))
            .collect();
        list.sort();
        let listing: String = list.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
        CaseSet {
            origin: origin.to_owned(),
            sha256: sha256_hex(listing.as_bytes()),
            files: list,
        }
    }

    /// The built-in set (paths relative to `testcases/`, as for `--cases testcases`).
    pub fn builtin() -> CaseSet {
        let files = super::builtin::files()
            .map(|(p, t)| (p.strip_prefix("testcases/").unwrap_or(p), t.as_bytes()));
        CaseSet::of("built-in", files)
    }

    /// Every case file under `dir`, as `--cases DIR` loads them.
    pub fn of_dir(dir: &Path) -> std::io::Result<CaseSet> {
        let mut texts = Vec::new();
        for f in super::scenario::case_files(dir) {
            let bytes = std::fs::read(&f)?;
            let rel = f
                .strip_prefix(dir)
                .unwrap_or(&f)
                .to_string_lossy()
                .replace('\\', "/");
            texts.push((rel, bytes));
        }
        Ok(CaseSet::of(
            &dir.display().to_string(),
            texts.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        ))
    }
}

/// A trace or recording judged: its name, size and SHA-256, and whether it marks injected
/// frames (`"injected":true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub marks_injected: bool,
}

/// The marker a recording puts on injected frames.
const INJECTED_MARK: &[u8] = b"\"injected\":true";

/// Hashes the file at `path` in one streaming pass (memory bounded by the buffer) and looks
/// for the injected-frame marker (in the bytes as stored: a compressed recording is not
/// looked into).
pub fn hash_file(path: &Path) -> std::io::Result<FileHash> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    // The marker may straddle two reads: the tail of the previous read is kept.
    let mut tail: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    let mut marks = false;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        bytes += n as u64;
        if !marks {
            tail.extend_from_slice(chunk);
            marks = memchr::memmem::find(&tail, INJECTED_MARK).is_some();
            let keep = INJECTED_MARK.len() - 1;
            if tail.len() > keep {
                tail.drain(..tail.len() - keep);
            }
        }
    }
    Ok(FileHash {
        path: path.display().to_string(),
        bytes,
        sha256: hex(&hasher.finalize()),
        marks_injected: marks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_info_reads_the_keys_and_names_file_and_key_when_bad() {
        let ok = LabInfo::parse(
            "lab = \"Lab A\"\noperator = \"J. Doe\"\ncustomer = \"ACME\"\nnotes = \"n\"\n",
            "lab.toml",
        )
        .unwrap();
        assert_eq!(ok.lab, "Lab A");
        assert_eq!(ok.fields().len(), 4);
        let e = LabInfo::parse("lab = \"L\"\noperatr = \"x\"\n", "lab.toml").unwrap_err();
        assert_eq!(e.key, "operatr");
        assert!(
            e.to_string()
                .starts_with("lab.toml: `operatr`: unknown key"),
            "{e}"
        );
        let e = LabInfo::parse("lab = 3\n", "lab.toml").unwrap_err();
        assert_eq!(e.key, "lab");
        assert!(e.message.contains("string"), "{e}");
        let e = LabInfo::parse("operator = \"x\"\n", "lab.toml").unwrap_err();
        assert_eq!(e.key, "lab");
        let e = LabInfo::parse("lab = \n", "lab.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("lab.toml: not a TOML file (line 1)"),
            "{e}"
        );
    }

    #[test]
    fn the_marker_is_found_across_reads_and_the_hash_is_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        // The marker straddles the 64 KiB read boundary.
        let mut text = vec![b'x'; 64 * 1024 - 5];
        text.extend_from_slice(INJECTED_MARK);
        std::fs::write(&p, &text).unwrap();
        let h = hash_file(&p).unwrap();
        assert!(h.marks_injected);
        assert_eq!(h.bytes, text.len() as u64);
        assert_eq!(h.sha256, sha256_hex(&text));
        std::fs::write(&p, b"{\"injected\":false}").unwrap();
        assert!(!hash_file(&p).unwrap().marks_injected);
    }

    #[test]
    fn the_case_set_hash_is_of_the_sorted_listing() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let a = CaseSet::of("x", [("b.toml", &b"2"[..]), ("a.toml", &b"1"[..])]);
        let b = CaseSet::of("x", [("a.toml", &b"1"[..]), ("b.toml", &b"2"[..])]);
        assert_eq!(a, b);
        let listing = format!(
            "{}  a.toml\n{}  b.toml\n",
            sha256_hex(b"1"),
            sha256_hex(b"2")
        );
        assert_eq!(a.sha256, sha256_hex(listing.as_bytes()));
        assert_ne!(
            a.sha256,
            CaseSet::of("x", [("a.toml", &b"1"[..]), ("b.toml", &b"3"[..])]).sha256
        );
    }
}
