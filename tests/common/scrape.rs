//! Reading the admin endpoint's answers, shared by the tests and the soak benchmark: the
//! status and body of an HTTP/1.1 response, and the `name{labels} value` samples of a
//! Prometheus scrape. Text in, values out; no I/O.

#![allow(dead_code, reason = "each includer uses a part")]

use std::collections::BTreeMap;

/// (status, body) of a whole HTTP/1.1 response; status 0 when the status line is unreadable.
pub fn status_and_body(out: &str) -> (u16, String) {
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_owned())
}

/// `name{labels} value` lines of a scrape, as a map (comments left out).
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect()
}
