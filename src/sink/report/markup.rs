//! Escaping text for the markup reports write: XML (JUnit, the lab's JUnit) and HTML (the
//! `check` and lab HTML reports). One table of the characters markup reserves; the two
//! differ only in how they write an apostrophe and in XML's forbidden control characters.
//! Pure functions: no I/O.

/// Escapes text for XML content and attribute values (control characters XML 1.0 forbids
/// become `?`).
pub fn xml_escape(s: &str) -> String {
    escape(s, Markup::Xml)
}

/// Escapes text for HTML content and attribute values.
pub fn html_escape(s: &str) -> String {
    escape(s, Markup::Html)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Markup {
    Xml,
    Html,
}

fn escape(s: &str, markup: Markup) -> String {
    let xml = markup == Markup::Xml;
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' if xml => o.push_str("&apos;"),
            '\'' => o.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped.
            c if xml && (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('?'),
            '\u{fffe}' | '\u{ffff}' if xml => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_html_differ_only_in_apostrophes_and_controls() {
        let s = "a<b>&\"c'\u{1}\t\u{ffff}";
        assert_eq!(xml_escape(s), "a&lt;b&gt;&amp;&quot;c&apos;?\t?");
        assert_eq!(html_escape(s), "a&lt;b&gt;&amp;&quot;c&#39;\u{1}\t\u{ffff}");
    }
}
