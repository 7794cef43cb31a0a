//! The two WebSocket opening handshakes of a proxied connection, done by hand so the proxy can
//! mirror what the CSMS says: the charger's request is read (bounded) and checked, the same
//! request (minus hop-by-hop headers) goes upstream, and the CSMS's answer (its subprotocol
//! pick, or its refusal status) comes back to the charger unchanged. tungstenite's own client
//! would fail a handshake whose subprotocol answer was not offered; a transparent proxy must
//! pass that on and let the engine judge it.
//!
//! It parses HTTP heads and writes them; it judges no OCPP and keeps no state.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::ocpp::identity::{percent_decode, percent_encode};

/// The largest handshake head (request line and headers) accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Header lines at most, per head.
const MAX_HEADERS: usize = 64;

/// Why a head could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("handshake head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("connection closed before the handshake ended")]
    Closed,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Reads an HTTP head up to and including the blank line. Returns the bytes read (which may
/// run past the head) and the head's length.
pub async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> Result<(Vec<u8>, usize), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = memchr::memmem::find(&buf[from..], b"\r\n\r\n") {
            return Ok((buf, from + pos + 4));
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// A refusal of the charger's handshake: an HTTP status and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
    /// Extra headers to send (e.g. a CSMS's `WWW-Authenticate`).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Said in the body and on the proxy's notice stream.
    pub detail: String,
}

impl Refusal {
    pub fn new(status: u16, reason: &str, detail: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.to_owned(),
            headers: Vec::new(),
            detail: detail.into(),
        }
    }
}

/// What the charger asked for.
#[derive(Debug, Clone, Default)]
pub struct ChargerRequest {
    /// The station identity: the last path segment, percent-decoded.
    pub identity: String,
    /// The identity in its one canonical percent-encoding (what goes upstream).
    pub raw_identity: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    pub key: String,
    /// `Sec-WebSocket-Protocol` as offered (several header lines joined with `, `).
    pub offered: Option<String>,
    /// The user of `Authorization: Basic`; never the password.
    pub basic_auth_user: Option<String>,
    /// Headers passed upstream unchanged, in order.
    pub forward: Vec<(String, Vec<u8>)>,
}

/// Connection-level headers that are the proxy's own business on each hop.
fn hop_by_hop(name: &str) -> bool {
    const HOP: &[&str] = &[
        "host",
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "content-length",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-accept",
        // The proxy relays messages, not compressed frames: no extension is negotiated.
        "sec-websocket-extensions",
    ];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

fn has_token(value: &[u8], token: &str) -> bool {
    std::str::from_utf8(value)
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Parses and checks the charger's handshake head.
pub fn parse_request(head: &[u8]) -> Result<ChargerRequest, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(Refusal::new(400, "Bad Request", "incomplete handshake"));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(
                431,
                "Request Header Fields Too Large",
                format!("more than {MAX_HEADERS} header lines"),
            ));
        }
        Err(e) => {
            return Err(Refusal::new(
                400,
                "Bad Request",
                format!("malformed handshake: {e}"),
            ));
        }
    }
    if req.method != Some("GET") {
        return Err(Refusal::new(
            405,
            "Method Not Allowed",
            "a WebSocket handshake is a GET request",
        ));
    }
    if req.version != Some(1) {
        return Err(Refusal::new(
            505,
            "HTTP Version Not Supported",
            "a WebSocket handshake needs HTTP/1.1",
        ));
    }
    let path = req.path.unwrap_or("/");
    let (path_only, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (path, None),
    };
    let raw_identity = path_only.rsplit('/').next().unwrap_or("");
    if raw_identity.is_empty() {
        return Err(Refusal::new(
            404,
            "Not Found",
            format!("no station identity in `{path_only}` (expected /…/<identity>)"),
        ));
    }
    let identity = percent_decode(raw_identity).ok_or_else(|| {
        Refusal::new(
            400,
            "Bad Request",
            format!("station identity `{raw_identity}` is not valid percent-encoded UTF-8"),
        )
    })?;
    // Decoded once; a segment `.` or `..` would climb the CSMS's path (`/base/..`), and the
    // upstream path carries the one canonical encoding of the identity (so `CP-1` and
    // `CP%2D1` are one station both here and at the CSMS).
    if identity
        .split(['/', '\\'])
        .any(|seg| seg == "." || seg == ".." || seg.is_empty())
    {
        return Err(Refusal::new(
            400,
            "Bad Request",
            format!("station identity `{raw_identity}` is a relative path segment or holds one"),
        ));
    }
    let canonical = percent_encode(&identity);
    let mut out = ChargerRequest {
        identity,
        raw_identity: canonical,
        query,
        ..ChargerRequest::default()
    };
    let (mut upgrade, mut connection, mut version) = (false, false, false);
    let mut offered: Vec<&str> = Vec::new();
    let mut authorizations = 0;
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade |= has_token(h.value, "websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection |= has_token(h.value, "upgrade");
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            version |= h.value.trim_ascii() == b"13";
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            out.key = String::from_utf8_lossy(h.value).trim().to_owned();
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            if let Ok(v) = std::str::from_utf8(h.value) {
                offered.push(v.trim());
            }
        } else if name.eq_ignore_ascii_case("authorization") {
            if authorizations > 0 {
                // Which one would the CSMS check, and which one would be recorded?
                return Err(Refusal::new(
                    400,
                    "Bad Request",
                    "more than one Authorization header",
                ));
            }
            authorizations += 1;
            out.basic_auth_user = basic_user(h.value);
        }
        if !hop_by_hop(name) {
            out.forward.push((name.to_owned(), h.value.to_vec()));
        }
    }
    if !(upgrade && connection) {
        return Err(Refusal::new(
            400,
            "Bad Request",
            "not a WebSocket upgrade (Upgrade: websocket and Connection: Upgrade expected)",
        ));
    }
    if !version {
        let mut r = Refusal::new(426, "Upgrade Required", "Sec-WebSocket-Version 13 expected");
        r.headers
            .push(("Sec-WebSocket-Version".into(), b"13".to_vec()));
        return Err(r);
    }
    if out.key.is_empty() {
        return Err(Refusal::new(
            400,
            "Bad Request",
            "Sec-WebSocket-Key missing",
        ));
    }
    if !valid_key(&out.key) {
        // RFC 6455 §4.1: a base64-encoded 16-byte value; anything else goes upstream as
        // header injection material and is no WebSocket client.
        return Err(Refusal::new(
            400,
            "Bad Request",
            "Sec-WebSocket-Key is not the base64 encoding of 16 bytes",
        ));
    }
    if !offered.is_empty() {
        out.offered = Some(offered.join(", "));
    }
    Ok(out)
}

/// The user name of an `Authorization: Basic` value (never the password).
fn basic_user(value: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let v = std::str::from_utf8(value).ok()?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    // RFC 7617: `user-id ":" password`; a token without the colon names no user.
    text.split_once(':').map(|(u, _)| u.to_owned())
}

/// RFC 6455 §4.1: the key is 16 random bytes, base64-encoded (24 characters).
fn valid_key(key: &str) -> bool {
    use base64::Engine as _;
    key.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_ok_and(|b| b.len() == 16)
}

/// The value of a `--forward-client-cert` header: `Cert="<URL-encoded PEM>";Subject="…"`
/// (the shape of Envoy's X-Forwarded-Client-Cert). The subject is a quoted string: `"` and
/// `\\` escaped, anything but visible ASCII and space percent-encoded.
pub fn client_cert_header(pem: &str, subject: &str) -> Vec<u8> {
    let mut quoted = String::with_capacity(subject.len());
    for c in subject.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            ' '..='~' => quoted.push(c),
            other => quoted.push_str(&percent_encode(other.encode_utf8(&mut [0; 4]))),
        }
    }
    format!("Cert=\"{}\";Subject=\"{quoted}\"", percent_encode(pem)).into_bytes()
}

/// Writes the request that goes upstream: the charger's own key and forwarded headers.
pub fn upstream_request(host_header: &str, base_path: &str, req: &ChargerRequest) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(base_path.trim_end_matches('/').as_bytes());
    out.push(b'/');
    out.extend_from_slice(req.raw_identity.as_bytes());
    if let Some(q) = &req.query {
        out.push(b'?');
        out.extend_from_slice(q.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host_header.as_bytes());
    out.extend_from_slice(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
    out.extend_from_slice(req.key.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &req.forward {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// What the CSMS answered.
#[derive(Debug, Clone)]
pub enum UpstreamAnswer {
    /// 101: the subprotocol it picked and the other headers to mirror.
    Accepted {
        subprotocol: Option<String>,
        headers: Vec<(String, Vec<u8>)>,
    },
    /// Any other status, mirrored to the charger.
    Refused(Refusal),
}

/// Why the CSMS's answer to the handshake is not usable (the charger then gets a 502).
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("incomplete HTTP response")]
    Incomplete,
    #[error("malformed HTTP response: {0}")]
    Malformed(httparse::Error),
    #[error("101 without the right Sec-WebSocket-Accept")]
    WrongAccept,
    /// Its head could not be read whole.
    #[error("{0}")]
    Head(HeadError),
}

/// Parses the CSMS's answer to `key`. `Err` for an answer that is not a usable HTTP
/// response (the charger then gets a 502).
pub fn parse_response(head: &[u8], key: &str) -> Result<UpstreamAnswer, AnswerError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(AnswerError::Incomplete),
        Err(e) => return Err(AnswerError::Malformed(e)),
    }
    let status = resp.code.unwrap_or(0);
    let reason = resp.reason.unwrap_or("").to_owned();
    let mut mirrored = Vec::new();
    let mut subprotocol = None;
    let mut accept = None;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("sec-websocket-protocol") {
            subprotocol = Some(String::from_utf8_lossy(h.value).trim().to_owned());
        } else if h.name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept = Some(String::from_utf8_lossy(h.value).trim().to_owned());
        } else if !hop_by_hop(h.name) {
            mirrored.push((h.name.to_owned(), h.value.to_vec()));
        }
    }
    if status != 101 {
        return Ok(UpstreamAnswer::Refused(Refusal {
            status,
            reason: reason.clone(),
            headers: mirrored,
            detail: format!("the CSMS answered HTTP {status} {reason}"),
        }));
    }
    if accept.as_deref() != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err(AnswerError::WrongAccept);
    }
    Ok(UpstreamAnswer::Accepted {
        subprotocol,
        headers: mirrored,
    })
}

/// Writes the 101 to the charger.
pub async fn write_accept<S: AsyncWrite + Unpin>(
    s: &mut S,
    key: &str,
    subprotocol: Option<&str>,
    headers: &[(String, Vec<u8>)],
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.extend_from_slice(derive_accept_key(key.as_bytes()).as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(p) = subprotocol {
        out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    s.write_all(&out).await?;
    s.flush().await
}

/// Writes a refusal and shuts the write side, within `limit`.
pub async fn write_refusal<S: AsyncWrite + Unpin>(s: &mut S, r: &Refusal, limit: Duration) {
    let body = format!("{}\n", r.detail);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        r.reason,
        body.len()
    )
    .into_bytes();
    for (name, value) in &r.headers {
        // The body is the proxy's own: its type and framing headers are the ones above.
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    let _ = tokio::time::timeout(limit, async {
        s.write_all(&out).await?;
        s.shutdown().await
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(extra: &str, path: &str) -> Result<ChargerRequest, Refusal> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
        );
        parse_request(head.as_bytes())
    }

    #[test]
    fn identity_is_the_decoded_last_segment_and_hop_headers_stay_behind() {
        let r = req(
            "Sec-WebSocket-Protocol: ocpp2.0.1\r\nSec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic Q1AtMDAxOnMzY3JldA==\r\nX-Site: 7\r\n",
            "/ocpp/v2/CP%2F%C3%A9?x=1",
        )
        .expect("a good request");
        assert_eq!(r.identity, "CP/é");
        assert_eq!(r.raw_identity, "CP%2F%C3%A9");
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(r.offered.as_deref(), Some("ocpp2.0.1, ocpp1.6"));
        assert_eq!(r.basic_auth_user.as_deref(), Some("CP-001"));
        let names: Vec<&str> = r.forward.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Protocol",
                "Authorization",
                "X-Site"
            ]
        );
        let up = String::from_utf8(upstream_request("csms:9000", "/base/", &r)).expect("ascii");
        assert!(up.starts_with("GET /base/CP%2F%C3%A9?x=1 HTTP/1.1\r\nHost: csms:9000\r\n"));
        assert!(up.contains("Authorization: Basic Q1AtMDAxOnMzY3JldA==\r\n"));
        assert!(!up.contains("keep-alive"));
    }

    #[test]
    fn bad_handshakes_are_refused_with_a_fitting_status() {
        assert_eq!(req("", "/ocpp/").err().map(|r| r.status), Some(404));
        assert_eq!(req("", "/ocpp/%zz").err().map(|r| r.status), Some(400));
        // A sign is no hex digit: `%+1` must not decode to a control character.
        assert_eq!(req("", "/ocpp/CP%+1").err().map(|r| r.status), Some(400));
        assert_eq!(
            parse_request(b"POST /a HTTP/1.1\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(405)
        );
        assert_eq!(
            parse_request(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(400)
        );
        assert_eq!(
            parse_request(b"\x00\x01garbage\r\n\r\n")
                .err()
                .map(|r| r.status),
            Some(400)
        );
        let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(req(&many, "/a").err().map(|r| r.status), Some(431));
    }

    #[test]
    fn identities_are_canonical_and_relative_segments_refused() {
        for bad in [
            "..",
            "%2e%2e",
            "..%2F..%2Fadmin",
            ".",
            "a%2F..",
            "%2E",
            "a%2F%2Fb",
        ] {
            let r = req("", &format!("/ocpp/{bad}"));
            assert_eq!(r.err().map(|r| r.status), Some(400), "{bad}");
        }
        let a = req("", "/ocpp/CP-1").expect("plain");
        let b = req("", "/ocpp/CP%2D1").expect("encoded");
        assert_eq!((a.identity.as_str(), b.identity.as_str()), ("CP-1", "CP-1"));
        assert_eq!(a.raw_identity, b.raw_identity, "one upstream path");
        // Decoded once: `%252e%252e` is the identity `%2e%2e`, sent on encoded again.
        let c = req("", "/ocpp/%252e%252e").expect("decoded once");
        assert_eq!(c.identity, "%2e%2e");
        assert_eq!(c.raw_identity, "%252e%252e");
    }

    #[test]
    fn bad_keys_double_authorization_and_colonless_basic() {
        let head = |key: &str, extra: &str| {
            format!(
                "GET /ocpp/CP-1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n{extra}\r\n"
            )
        };
        for key in [
            "x",
            "dGhlIHNhbXBsZSBub25jZQ",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let r = parse_request(head(key, "").as_bytes());
            assert_eq!(r.err().map(|r| r.status), Some(400), "{key:?}");
        }
        let two = "Authorization: Basic Q1AtMTpzZWNyZXQ=\r\nAuthorization: Basic YWRtaW46eA==\r\n";
        let r = parse_request(head("dGhlIHNhbXBsZSBub25jZQ==", two).as_bytes());
        assert_eq!(r.err().map(|r| r.status), Some(400));
        // `c2VjcmV0` is "secret": no colon, no user (it is the password, if anything).
        let r = parse_request(
            head(
                "dGhlIHNhbXBsZSBub25jZQ==",
                "Authorization: Basic c2VjcmV0\r\n",
            )
            .as_bytes(),
        )
        .expect("accepted");
        assert_eq!(r.basic_auth_user, None);
    }

    #[test]
    fn responses_are_mirrored_or_rejected() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        assert!(matches!(
            parse_response(ok.as_bytes(), key),
            Ok(UpstreamAnswer::Accepted { subprotocol: Some(ref p), .. }) if p == "ocpp1.6"
        ));
        assert!(parse_response(ok.as_bytes(), "b3RoZXIga2V5IGhlcmUhIQ==").is_err());
        let refused = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
        let Ok(UpstreamAnswer::Refused(r)) = parse_response(refused, key) else {
            panic!("a refusal")
        };
        assert_eq!((r.status, r.reason.as_str()), (401, "Unauthorized"));
        assert_eq!(r.headers[0].0, "WWW-Authenticate");
    }
}
