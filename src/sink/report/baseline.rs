//! Baselines: a JSON report of an earlier run (`--write-baseline`, or any `--format json`
//! report) whose findings are accepted, so `check --baseline` reports and fails on new ones
//! only. A finding's identity is its rule, station, action, message id, JSON pointer and
//! message, never its line: traces move. The fingerprint of that identity is the one SARIF
//! (`partialFingerprints`) and GitLab carry.
//!
//! It reads the baseline as a stream, keeping one count per identity; it reads no trace.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::finding::Finding;

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read the baseline {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the baseline {path} is not a JSON report of `check` (`--format json` or `--write-baseline`): {source}"
    )]
    Format {
        path: String,
        source: serde_json::Error,
    },
}

/// FNV-1a, 64 bits: stable across builds and platforms (the standard hasher is not).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // A separator no UTF-8 text contains.
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn identity(
    rule: &str,
    conn: &str,
    action: Option<&str>,
    unique_id: Option<&str>,
    pointer: Option<&str>,
    message: &str,
) -> u64 {
    fnv(&[
        "v1",
        rule,
        conn,
        action.unwrap_or(""),
        unique_id.unwrap_or(""),
        pointer.unwrap_or(""),
        message,
    ])
}

/// The identity of a finding: rule, station, action, message id, JSON pointer, message.
pub fn fingerprint(f: &Finding) -> u64 {
    identity(
        f.rule.id,
        &f.conn,
        f.action.as_deref(),
        f.unique_id.as_deref(),
        f.pointer.as_deref(),
        &f.message,
    )
}

/// [`fingerprint`] as 16 hex digits, the form reports carry.
pub fn fingerprint_hex(f: &Finding) -> String {
    format!("{:016x}", fingerprint(f))
}

/// The accepted findings: how many of each identity remain to be matched.
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<u64, u32>,
    /// Findings in the file.
    pub entries: u64,
}

impl Baseline {
    /// Reads a JSON report as a stream (one count per identity kept).
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::read(BufReader::new(file)).map_err(|source| {
            if source.is_io() {
                BaselineError::Io {
                    path: shown,
                    source: source.into(),
                }
            } else {
                BaselineError::Format {
                    path: shown,
                    source,
                }
            }
        })
    }

    pub fn read(r: impl Read) -> Result<Baseline, serde_json::Error> {
        let mut b = Baseline::default();
        let mut de = serde_json::Deserializer::from_reader(r);
        ReportSeed(&mut b).deserialize(&mut de)?;
        de.end()?;
        Ok(b)
    }

    /// Matches one occurrence of `fp`: true if the baseline had it (and one fewer remains).
    pub fn take(&mut self, fp: u64) -> bool {
        match self.counts.get_mut(&fp) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    fn add(&mut self, fp: u64) {
        *self.counts.entry(fp).or_default() += 1;
        self.entries += 1;
    }
}

/// The report object: only `findings` is read; every other member is skipped.
struct ReportSeed<'a>(&'a mut Baseline);

impl<'de> DeserializeSeed<'de> for ReportSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON report object with a `findings` array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "findings" {
                map.next_value_seed(FindingsSeed(&mut *self.0))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("findings"))
        }
    }
}

struct FindingsSeed<'a>(&'a mut Baseline);

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// One finding of a report: its fingerprint if it has one, else the identity's members.
#[derive(Deserialize)]
struct Entry {
    fingerprint: Option<String>,
    rule: String,
    conn: String,
    action: Option<String>,
    unique_id: Option<String>,
    pointer: Option<String>,
    message: String,
}

impl<'de> Visitor<'de> for FindingsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of findings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<Entry>()? {
            let fp = match e.fingerprint.as_deref().map(|s| u64::from_str_radix(s, 16)) {
                Some(Ok(fp)) => fp,
                Some(Err(_)) => {
                    return Err(de::Error::custom(format!(
                        "fingerprint `{}` is not 16 hex digits",
                        e.fingerprint.unwrap_or_default()
                    )));
                }
                None => identity(
                    &e.rule,
                    &e.conn,
                    e.action.as_deref(),
                    e.unique_id.as_deref(),
                    e.pointer.as_deref(),
                    &e.message,
                ),
            };
            self.0.add(fp);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_separate_their_members() {
        // A fixed value: a change here breaks every baseline users keep.
        assert_eq!(
            identity("rpc.not-json", "CP-1", None, Some("1"), None, "m"),
            identity("rpc.not-json", "CP-1", None, Some("1"), None, "m")
        );
        assert_eq!(fnv(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv(&["ab", "c"]), fnv(&["a", "bc"]));
    }

    #[test]
    fn a_report_is_read_as_counts_per_identity() {
        let fp = identity("r.x", "CP-1", Some("Heartbeat"), Some("7"), None, "bad");
        let doc = format!(
            r#"{{"summary":{{"errors":3}},"findings":[
              {{"rule":"r.x","conn":"CP-1","action":"Heartbeat","unique_id":"7","pointer":null,"message":"bad","line":4}},
              {{"rule":"r.x","conn":"CP-1","action":"Heartbeat","unique_id":"7","message":"bad","line":9,"fingerprint":"{fp:016x}"}},
              {{"rule":"r.y","conn":"CP-2","message":"other"}}],"input_errors":[]}}"#
        );
        let mut b = Baseline::read(doc.as_bytes()).unwrap();
        assert_eq!(b.entries, 3);
        assert!(b.take(fp));
        assert!(b.take(fp));
        assert!(!b.take(fp), "only as many as the baseline had");
        assert!(Baseline::read(&b"{\"summary\":{}}"[..]).is_err());
        assert!(Baseline::read(&b"[1,2]"[..]).is_err());
    }
}
