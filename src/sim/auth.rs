//! HTTP Basic authentication for the simulators (OCPP security profiles 1 and 2): the
//! charger's credentials (`--basic-auth USER:PASS`), the CSMS's accepted credentials and its
//! check of a handshake's `Authorization` header.
//!
//! A password never leaves this module except as the header the charger sends: no `Debug`,
//! no error message and no notice carries it (they name the user at most). OCPP makes the
//! user name the station identity; an empty user (`:PASS`) stands for "each station's own
//! identity", so one password can serve a fleet.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;

/// A password, kept out of `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

/// One `USER:PASS` pair. An empty user means "the station identity".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub user: String,
    pub password: Password,
}

/// A command-line value that holds a password: kept verbatim, shown as `<hidden>` by
/// `Debug`, and parsed by [`BasicAuth::parse`] with messages that never echo it (clap would
/// echo a value its own parser refuses).
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg(<hidden>)")
    }
}

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(s.to_owned()))
    }
}

impl BasicAuth {
    /// `USER:PASS` (the password is everything after the first colon). `what` names the
    /// flag or file line in the error, which never repeats the value.
    pub fn parse(s: &str, what: &str) -> Result<BasicAuth> {
        let Some((user, password)) = s.split_once(':') else {
            bail!("{what}: expected USER:PASS (no `:` found; the value is not shown)");
        };
        if password.is_empty() {
            bail!("{what}: the password after `:` is empty");
        }
        if user.chars().any(char::is_control) || password.chars().any(char::is_control) {
            bail!("{what}: control characters are not allowed in USER:PASS");
        }
        Ok(BasicAuth {
            user: user.to_owned(),
            password: Password(password.to_owned()),
        })
    }

    /// The user name sent for station `identity`.
    pub fn user_for<'a>(&'a self, identity: &'a str) -> &'a str {
        if self.user.is_empty() {
            identity
        } else {
            &self.user
        }
    }

    /// The `Authorization` header value for station `identity`.
    pub fn header(&self, identity: &str) -> String {
        let token = format!("{}:{}", self.user_for(identity), self.password.0);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(token)
        )
    }
}

/// The credentials a CSMS accepts: per user, and one password for every station (empty user).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_user: HashMap<String, Password>,
    any_station: Option<Password>,
}

/// Why a handshake's credentials were refused; names the user, never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoHeader,
    NotBasic,
    Malformed,
    NotIdentity { user: String },
    UnknownUser { user: String },
    WrongPassword { user: String },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoHeader => f.write_str("no Authorization header"),
            Refusal::NotBasic => f.write_str("the Authorization header is not Basic"),
            Refusal::Malformed => {
                f.write_str("the Authorization header is not base64 of USER:PASS")
            }
            Refusal::NotIdentity { user } => write!(
                f,
                "user `{user}` is not the station identity (OCPP makes them equal)"
            ),
            Refusal::UnknownUser { user } => write!(f, "no password is set for user `{user}`"),
            Refusal::WrongPassword { user } => write!(f, "wrong password for user `{user}`"),
        }
    }
}

impl Credentials {
    /// Adds one pair (a later pair for the same user replaces the earlier one).
    pub fn add(&mut self, auth: BasicAuth) {
        if auth.user.is_empty() {
            self.any_station = Some(auth.password);
        } else {
            self.by_user.insert(auth.user, auth.password);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_user.is_empty() && self.any_station.is_none()
    }

    /// Reads `USER:PASS` lines (blank lines and `#` comments skipped); errors name the file
    /// and line, never the line's text.
    pub fn read_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the credentials file {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add(BasicAuth::parse(
                line,
                &format!("{} line {}", path.display(), n + 1),
            )?);
        }
        Ok(())
    }

    /// Checks a handshake's `Authorization` header for station `identity`; `Ok` carries the
    /// user name (for the trace).
    pub fn check(&self, header: Option<&[u8]>, identity: &str) -> Result<String, Refusal> {
        let header = header.ok_or(Refusal::NoHeader)?;
        let text = std::str::from_utf8(header).map_err(|_| Refusal::Malformed)?;
        let (scheme, b64) = text.trim().split_once(' ').ok_or(Refusal::NotBasic)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(Refusal::NotBasic);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| Refusal::Malformed)?;
        let token = String::from_utf8(bytes).map_err(|_| Refusal::Malformed)?;
        let (user, password) = token.split_once(':').ok_or(Refusal::Malformed)?;
        let shown = || shown_user(user);
        let user = user.to_owned();
        let expected = match self.by_user.get(&user) {
            Some(p) => p,
            None if user == identity => match &self.any_station {
                Some(p) => p,
                None => return Err(Refusal::UnknownUser { user: shown() }),
            },
            None if self.any_station.is_some() => {
                return Err(Refusal::NotIdentity { user: shown() });
            }
            None => return Err(Refusal::UnknownUser { user: shown() }),
        };
        if !same(expected.0.as_bytes(), password.as_bytes()) {
            return Err(Refusal::WrongPassword { user: shown() });
        }
        if user != identity {
            return Err(Refusal::NotIdentity { user: shown() });
        }
        Ok(user)
    }
}

/// A user name as a message may show it: control characters escaped, at most 64 characters
/// (the peer chose it).
fn shown_user(user: &str) -> String {
    let mut out: String = user.chars().take(64).flat_map(char::escape_debug).collect();
    if user.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Compares without stopping at the first difference (the length still shows).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(pairs: &[&str]) -> Credentials {
        let mut c = Credentials::default();
        for p in pairs {
            c.add(BasicAuth::parse(p, "test").expect("valid pair"));
        }
        c
    }

    #[test]
    fn the_password_is_in_no_message_and_no_debug() {
        let a = BasicAuth::parse("CP-001:s3cr3t-pw", "--basic-auth").expect("valid");
        assert!(!format!("{a:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", SecretArg("CP-001:s3cr3t-pw".into())).contains("s3cr3t"));
        for bad in ["s3cr3t-pw", "CP-001:", "CP\u{7}:s3cr3t-pw"] {
            let e = BasicAuth::parse(bad, "--basic-auth")
                .expect_err("refused")
                .to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
            assert!(e.contains("--basic-auth"), "{e}");
        }
        let c = creds(&["CP-001:right-one"]);
        let e = c
            .check(Some(a.header("CP-001").as_bytes()), "CP-001")
            .expect_err("wrong password");
        assert_eq!(
            e,
            Refusal::WrongPassword {
                user: "CP-001".into()
            }
        );
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn the_check_wants_the_pair_and_the_identity() {
        let c = creds(&["CP-001:pw-one", ":fleet-pw"]);
        let ok = |user: &str, pw: &str, id: &str| {
            let h = BasicAuth::parse(&format!("{user}:{pw}"), "t")
                .expect("valid")
                .header(id);
            c.check(Some(h.as_bytes()), id)
        };
        assert_eq!(ok("CP-001", "pw-one", "CP-001"), Ok("CP-001".into()));
        assert_eq!(ok("CP-002", "fleet-pw", "CP-002"), Ok("CP-002".into()));
        assert!(matches!(
            ok("CP-001", "pw-one", "CP-009"),
            Err(Refusal::NotIdentity { .. })
        ));
        assert!(matches!(
            ok("CP-002", "pw-one", "CP-002"),
            Err(Refusal::WrongPassword { .. })
        ));
        assert!(matches!(
            ok("CP-003", "fleet-pw", "CP-002"),
            Err(Refusal::NotIdentity { .. })
        ));
        assert_eq!(c.check(None, "CP-001"), Err(Refusal::NoHeader));
        assert_eq!(
            c.check(Some(b"Bearer abc"), "CP-001"),
            Err(Refusal::NotBasic)
        );
        assert_eq!(
            c.check(Some(b"Basic !!!"), "CP-001"),
            Err(Refusal::Malformed)
        );
        // An empty user on the charger side sends the station identity.
        let fleet = BasicAuth::parse(":fleet-pw", "t").expect("valid");
        assert_eq!(fleet.user_for("CP-007"), "CP-007");
        assert_eq!(
            c.check(Some(fleet.header("CP-007").as_bytes()), "CP-007"),
            Ok("CP-007".into())
        );
        // A user name from the peer is shown escaped and cut.
        let odd = BasicAuth::parse(&format!("{}\u{1b}[2J:x", "u".repeat(100)), "t")
            .expect_err("control characters are refused on our side");
        assert!(odd.to_string().contains("control characters"));
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a\u{1b}[2Jb:pw")
        );
        match c.check(Some(header.as_bytes()), "CP-001") {
            Err(Refusal::NotIdentity { user }) => assert_eq!(user, "a\\u{1b}[2Jb"),
            other => panic!("{other:?}"),
        }
        let only_one = creds(&["CP-001:pw-one"]);
        assert!(matches!(
            only_one.check(Some(fleet.header("CP-002").as_bytes()), "CP-002"),
            Err(Refusal::UnknownUser { .. })
        ));
    }
}
