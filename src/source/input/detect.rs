//! Tells an input's format from its first bytes: the pcap and pcapng magic numbers, else the
//! first non-blank line (one of our trace records, an Open OCPP Trace record, or a log).

use super::InputFormat;

/// The format the first bytes (gzip already undone) show.
pub fn format_of(head: &[u8]) -> InputFormat {
    if head.len() >= 4 {
        let magic = [head[0], head[1], head[2], head[3]];
        if matches!(
            magic,
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        ) {
            return InputFormat::Pcap;
        }
    }
    // Binary bytes that are no capture: read as our format, so the file gets input errors
    // (bounded, with one closing line) rather than a silent "no frames" as a log.
    if looks_binary(head) {
        return InputFormat::Jsonl;
    }
    let first = head
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty());
    let Some(first) = first else {
        // Nothing at all: read as our format (an empty trace).
        return InputFormat::Jsonl;
    };
    if first.starts_with(b"{")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(first)
        && let Some(o) = v.as_object()
    {
        if o.contains_key("schemaVersion") && o.contains_key("direction") {
            return InputFormat::Oot;
        }
        if o.contains_key("ts") && (o.contains_key("from") || o.contains_key("event")) {
            return InputFormat::Jsonl;
        }
    }
    // A first line that starts like a record but is cut short (a torn single line) is
    // still ours.
    if first.starts_with(b"{\"ts\":") {
        return InputFormat::Jsonl;
    }
    InputFormat::Log(None)
}

/// NUL bytes, or more than 1 % of control bytes that text never holds: no text log (a log in
/// another encoding than UTF-8 is still text).
fn looks_binary(head: &[u8]) -> bool {
    let controls = head
        .iter()
        .filter(|&&b| b == 0 || b < 0x09 || (0x0e..0x20).contains(&b) || b == 0x7f)
        .count();
    head.contains(&0) || controls * 100 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_bytes_are_read_as_our_format_to_be_reported() {
        assert_eq!(
            format_of(&[0x13, 0x00, 0x9f, 0x0a, 0x41]),
            InputFormat::Jsonl
        );
        assert_eq!(
            format_of("2024-01-01 10:00:00 envoyé [2,\"1\",\"Heartbeat\",{}]\n".as_bytes()),
            InputFormat::Log(None)
        );
    }

    #[test]
    fn tells_formats_apart() {
        assert_eq!(
            format_of(&[0x0a, 0x0d, 0x0d, 0x0a, 1, 2]),
            InputFormat::Pcap
        );
        assert_eq!(
            format_of(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
            InputFormat::Pcap
        );
        assert_eq!(
            format_of(b"\n{\"ts\":\"2026-01-01T00:00:00Z\",\"conn\":\"a\",\"event\":\"open\"}\n"),
            InputFormat::Jsonl
        );
        assert_eq!(
            format_of(
                b"{\"schemaVersion\":\"1.1\",\"timestamp\":\"x\",\"direction\":\"cp-to-csms\"}"
            ),
            InputFormat::Oot
        );
        assert_eq!(
            format_of(b"2024-01-01 10:00:00 INFO sent [2,\"1\",\"Heartbeat\",{}]\n"),
            InputFormat::Log(None)
        );
        assert_eq!(format_of(b""), InputFormat::Jsonl);
    }
}
