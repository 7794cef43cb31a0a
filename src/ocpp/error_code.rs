//! CALLERROR / CALLRESULTERROR codes per version, and the cross-version spellings that real
//! traffic carries (OCPP-J 1.6 §4.2.3 table 7, 2.0.1 Part 4 §4.3, 2.1 Part 4 §4.3).
//!
//! The 2.0.1 spelling of `Occur(r)enceConstraintViolation` is disputed: both are accepted on
//! 2.0.1 (the lenient reading).

use super::Version;

/// How a CALLERROR code relates to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFit {
    /// Defined by this version.
    Valid,
    /// The other generation's spelling, or a 2.x-only code used on 1.6.
    OtherVersion,
    /// Not an OCPP error code at all.
    Unknown,
}

const COMMON: &[&str] = &[
    "GenericError",
    "InternalError",
    "NotImplemented",
    "NotSupported",
    "PropertyConstraintViolation",
    "ProtocolError",
    "SecurityError",
    "TypeConstraintViolation",
];

const V16_ONLY: &[&str] = &["FormationViolation", "OccurenceConstraintViolation"];
const V201_ONLY: &[&str] = &[
    "FormatViolation",
    "MessageTypeNotSupported",
    "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation",
    "RpcFrameworkError",
];
const V21_ONLY: &[&str] = &[
    "FormatViolation",
    "MessageTypeNotSupported",
    "OccurrenceConstraintViolation",
    "RpcFrameworkError",
];

/// The codes a version defines.
pub fn codes(version: Version) -> impl Iterator<Item = &'static str> {
    let own = match version {
        Version::V16 => V16_ONLY,
        Version::V201 => V201_ONLY,
        Version::V21 => V21_ONLY,
    };
    COMMON.iter().chain(own.iter()).copied()
}

/// Judges a code against a version.
pub fn fit(version: Version, code: &str) -> CodeFit {
    if codes(version).any(|c| c == code) {
        CodeFit::Valid
    } else if Version::ALL
        .into_iter()
        .any(|v| codes(v).any(|c| c == code))
    {
        CodeFit::OtherVersion
    } else {
        CodeFit::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_per_version() {
        assert_eq!(fit(Version::V16, "FormationViolation"), CodeFit::Valid);
        assert_eq!(fit(Version::V16, "FormatViolation"), CodeFit::OtherVersion);
        assert_eq!(
            fit(Version::V201, "FormationViolation"),
            CodeFit::OtherVersion
        );
        assert_eq!(
            fit(Version::V201, "OccurenceConstraintViolation"),
            CodeFit::Valid
        );
        assert_eq!(
            fit(Version::V201, "OccurrenceConstraintViolation"),
            CodeFit::Valid
        );
        assert_eq!(
            fit(Version::V21, "OccurenceConstraintViolation"),
            CodeFit::OtherVersion
        );
        assert_eq!(
            fit(Version::V16, "RpcFrameworkError"),
            CodeFit::OtherVersion
        );
        assert_eq!(fit(Version::V21, "NotImplemented"), CodeFit::Valid);
        assert_eq!(fit(Version::V21, "Oops"), CodeFit::Unknown);
        assert_eq!(fit(Version::V21, "notimplemented"), CodeFit::Unknown);
    }
}
