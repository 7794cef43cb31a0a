//! Log presets: the line layouts of widely used OCPP stacks, so their logs are read
//! without flags. Each names the stack, whose log it is (charger or CSMS: what "sent"
//! means), how to find the identity on a line, and how to recognise the log from its first
//! lines. The layouts follow the stacks' public logging code; the fixtures in
//! `tests/fixtures/logs/` are written by us in those layouts.

use std::sync::LazyLock;

use regex::Regex;

use crate::ocpp::Side;

/// One stack's log layout.
pub struct Preset {
    pub name: &'static str,
    /// The stack, for `--help` and notes.
    pub stack: &'static str,
    /// Whose log it is (`None`: either; inferred).
    pub owner: Option<Side>,
    /// Phrases before a frame meaning the owner sent it.
    pub outgoing: &'static [&'static str],
    /// Phrases meaning the owner received it.
    pub incoming: &'static [&'static str],
    /// A line of this log matches this (used to tell the preset from the first lines).
    detect: &'static str,
    /// Group 1 is the station identity.
    identity: Option<&'static str>,
}

impl Preset {
    /// The identity a line names, by this preset's pattern.
    pub fn identity(&self, line: &str) -> Option<String> {
        let re = compiled(self.identity?)?;
        re.captures(line)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned())
    }
}

fn compiled(pattern: &'static str) -> Option<&'static Regex> {
    static CACHE: LazyLock<Vec<(&'static str, Option<Regex>)>> = LazyLock::new(|| {
        PRESETS
            .iter()
            .flat_map(|p| [Some(p.detect), p.identity])
            .flatten()
            .chain(GENERIC_IDENTITY.iter().copied())
            .map(|s| (s, Regex::new(s).ok()))
            .collect()
    });
    CACHE
        .iter()
        .find(|(s, _)| *s == pattern)
        .and_then(|(_, r)| r.as_ref())
}

/// The presets, in the order they are tried on a log's first lines.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "steve",
        stack: "SteVe (CSMS, Java): de.rwth.idsg.steve.ocpp.ws.WebSocketLogger lines",
        owner: Some(Side::Csms),
        outgoing: &["] sending:"],
        incoming: &["] received:", "] received message:"],
        detect: r"\[chargeBoxId=[^,\]]+, sessionId=",
        identity: Some(r"\[chargeBoxId=([^,\]]+)"),
    },
    Preset {
        name: "homeassistant",
        stack: "Home Assistant OCPP integration (CSMS, home-assistant.log, logger `ocpp`)",
        owner: Some(Side::Csms),
        outgoing: &[": send "],
        incoming: &[": receive message "],
        detect: r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [A-Z]+ \([^)]*\) \[ocpp[\].]",
        identity: Some(r"\[ocpp[^\]]*\] ([^\s:]+): (?:send|receive message) "),
    },
    Preset {
        name: "ocpp-py",
        stack: "mobilityhouse `ocpp` for Python (charger or CSMS, logger `ocpp`: `<id>: send` / `<id>: receive message`)",
        owner: None,
        outgoing: &[": send "],
        incoming: &[": receive message "],
        detect: r"(?:^|[\s:])([^\s:]+): (?:send|receive message) \[",
        identity: Some(r"(?:^|[\s:])([^\s:]+): (?:send|receive message) "),
    },
    Preset {
        name: "evcc",
        stack: "evcc (CSMS, Go; ocpp-go lines at TRACE: `send <id>:` / `recv <id>:`)",
        owner: Some(Side::Csms),
        outgoing: &[" send "],
        incoming: &[" recv "],
        detect: r"^\[ocpp\s*\] TRACE ",
        identity: Some(r" (?:send|recv) ([^\s:]+): "),
    },
    Preset {
        name: "everest",
        stack: "EVerest libocpp (charger, C++; `Received Message:` / `Sending message:` debug lines)",
        owner: Some(Side::Charger),
        outgoing: &["sending message:", "sending:"],
        incoming: &["received message:"],
        detect: r"\[(?:DEBG|INFO|WARN|ERRO|CRIT|VERB)\].*(?:Received Message|Sending message): ",
        identity: None,
    },
];

/// Identity patterns any log may use (`chargeBoxId=…`, `chargePointId: …`, a URL's last
/// segment).
static GENERIC_IDENTITY: &[&str] = &[
    r"(?i)\b(?:chargeBoxId|chargePointId|chargingStationId|stationId|cpId|cp_id|identity)\s*[=:]\s*\x22?([A-Za-z0-9._\-]+)",
    r"wss?://[^\s/]+(?:/[^\s/]+)*/([A-Za-z0-9._\-]+)\b",
];

/// The preset named `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of the presets.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset whose lines the log's first bytes hold, if any.
pub fn detect(head: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| {
        compiled(p.detect).is_some_and(|re| head.lines().take(500).any(|l| re.is_match(l)))
    })
}

/// An identity named by a common pattern on the line.
pub fn generic_identity(line: &str) -> Option<String> {
    GENERIC_IDENTITY.iter().find_map(|p| {
        compiled(p)?
            .captures(line)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for p in PRESETS {
            assert!(compiled(p.detect).is_some(), "{}", p.name);
            if let Some(i) = p.identity {
                assert!(compiled(i).is_some(), "{}", p.name);
            }
        }
        for g in GENERIC_IDENTITY {
            assert!(compiled(g).is_some());
        }
        assert_eq!(
            generic_identity("connect to ws://csms:9000/ocpp/CP-7 ok").as_deref(),
            Some("CP-7")
        );
    }
}
