//! Protocol facts: OCPP versions, the two sides of a connection, the action catalogue of
//! each version (with the side that may send each CALL), the RPC error codes, and the value
//! lists the rules judge against (1.6 connector statuses and their transitions, sampled-value
//! phases/locations/contexts, security event types), and the station identity's URL form.
//!
//! This module holds data only. It knows nothing of frames, traces or findings.

pub mod action;
pub mod charge_point_status;
pub mod config_keys16;
pub mod error_code;
pub mod identity;
pub mod meter;
pub mod security_event;
pub mod variables;

use std::fmt;
use std::str::FromStr;

/// An OCPP-J version the inspector has rules and schemas for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    V16,
    V201,
    V21,
}

impl Version {
    pub const ALL: [Version; 3] = [Version::V16, Version::V201, Version::V21];

    /// The version number as users write it: `1.6`, `2.0.1`, `2.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V16 => "1.6",
            Version::V201 => "2.0.1",
            Version::V21 => "2.1",
        }
    }

    /// The WebSocket subprotocol token: `ocpp1.6`, `ocpp2.0.1`, `ocpp2.1`.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Version::V16 => "ocpp1.6",
            Version::V201 => "ocpp2.0.1",
            Version::V21 => "ocpp2.1",
        }
    }

    /// Maps a negotiated subprotocol token to a version. Tokens are case-sensitive.
    pub fn from_subprotocol(token: &str) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.subprotocol() == token)
    }

    /// 2.0.1 and 2.1 share most rules; 1.6 is the odd one out.
    pub fn is_2x(self) -> bool {
        !matches!(self, Version::V16)
    }

    /// `versions` as users write them, `sep` between them.
    pub fn list(versions: &[Version], sep: &str) -> String {
        versions
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// Index for per-version tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("ocpp").unwrap_or(s);
        match s {
            "1.6" | "16" => Ok(Version::V16),
            "2.0.1" | "201" => Ok(Version::V201),
            "2.1" | "21" => Ok(Version::V21),
            other => Err(format!(
                "unknown OCPP version `{other}` (expected 1.6, 2.0.1 or 2.1)"
            )),
        }
    }
}

/// The party that sent a frame. The charger is always the WebSocket client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Charger,
    Csms,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Charger => Side::Csms,
            Side::Csms => Side::Charger,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Charger => "charger",
            Side::Csms => "csms",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// `charger→csms` or `csms→charger`, for human output.
    pub fn arrow(self) -> &'static str {
        match self {
            Side::Charger => "charger→csms",
            Side::Csms => "csms→charger",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "charger" => Ok(Side::Charger),
            "csms" => Ok(Side::Csms),
            other => Err(format!("unknown side `{other}` (expected charger or csms)")),
        }
    }
}
