//! A station's identity as it travels in the WebSocket URL (OCPP-J: the last path segment,
//! percent-encoded): decoding it once, and the one canonical encoding of it. The proxy, the
//! security rules and the certificate rule all compare identities through these two, so they
//! agree on what "the same station" means.
//!
//! Text in, text out: no knowledge of requests, findings or certificates.

/// `%XX` escapes decoded once (`CP%2D1` → `CP-1`). `None` when an escape is not `%` followed
/// by two hexadecimal digits, or when the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (hi, lo) = (hex_digit(*b.get(i + 1)?)?, hex_digit(*b.get(i + 2)?)?);
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) as `%XX`, upper case:
/// the one form an identity takes in a URL we write.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// Whether `name` is the connection's identity `conn`, as it came or decoded once.
pub fn names(conn: &str, name: &str) -> bool {
    name == conn || (conn.contains('%') && percent_decode(conn).is_some_and(|d| d == name))
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_refuses_bad_escapes() {
        assert_eq!(percent_decode("CP%2D1").as_deref(), Some("CP-1"));
        assert_eq!(percent_decode("a%252F").as_deref(), Some("a%2F"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        // Not two hex digits: a sign is not a digit (`from_str_radix` would take "+1").
        for bad in ["%+1", "%-1", "%1", "%", "%g0", "%1g", "%FF"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn encodes_to_one_canonical_form_that_decodes_back() {
        assert_eq!(percent_encode("CP-1.a_b~"), "CP-1.a_b~");
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_encode("é"), "%C3%A9");
        for s in ["CP 1", "x/y", "é%", "..", "%2e"] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
    }

    #[test]
    fn names_compares_as_sent_and_decoded() {
        assert!(names("CP-1", "CP-1"));
        assert!(names("CP%2D1", "CP-1"));
        assert!(names("CP%2D1", "CP%2D1"));
        assert!(!names("CP-1", "CP%2D1"));
        assert!(!names("CP%2", "CP"));
    }
}
