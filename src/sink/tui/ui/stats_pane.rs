//! Draws the Statistics pane from [`crate::sink::tui::stats::Stats`]: stations, actions
//! (with round trips) and findings per rule, sorted as the user chose. Reads the app only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{elide_middle, severity_style};
use crate::sink::tui::app::App;
use crate::sink::tui::stats::{Counts, SortBy};

/// `s` in exactly `w` characters (elided in the middle, or padded).
fn pad(s: &str, w: usize) -> String {
    format!("{:<w$}", elide_middle(s, w))
}

/// Width of a numeric column.
const NUM: usize = 9;

/// A numeric column: its header, what it sorts by, its priority (lower: kept first when
/// the width is short) and its value.
struct Col {
    label: &'static str,
    sort: Option<SortBy>,
    priority: u8,
    value: fn(&Counts) -> String,
}

const COLS: &[Col] = &[
    Col {
        label: "frames",
        sort: Some(SortBy::Count),
        priority: 0,
        value: |c| c.frames.to_string(),
    },
    Col {
        label: "calls",
        sort: None,
        priority: 1,
        value: |c| c.calls.to_string(),
    },
    Col {
        label: "unanswrd",
        sort: Some(SortBy::Unanswered),
        priority: 2,
        value: |c| c.unanswered().to_string(),
    },
    Col {
        label: "errors",
        sort: None,
        priority: 7,
        value: |c| c.errors.to_string(),
    },
    Col {
        label: "findings",
        sort: None,
        priority: 6,
        value: |c| c.findings.to_string(),
    },
    Col {
        label: "rtt min",
        sort: None,
        priority: 5,
        value: |c| ms(c.rtt.min.map(|m| m as f64)),
    },
    Col {
        label: "median",
        sort: Some(SortBy::Median),
        priority: 3,
        value: |c| ms(c.rtt.quantile(0.5)),
    },
    Col {
        label: "p99",
        sort: Some(SortBy::P99),
        priority: 4,
        value: |c| ms(c.rtt.quantile(0.99)),
    },
];

fn ms(us: Option<f64>) -> String {
    us.map_or_else(|| "-".to_owned(), |us| format!("{:.1}ms", us / 1000.0))
}

/// The columns that fit in `room` characters, in screen order.
fn fitting(room: usize) -> Vec<&'static Col> {
    let n = (room / NUM).min(COLS.len());
    let mut by_priority: Vec<&Col> = COLS.iter().collect();
    by_priority.sort_by_key(|c| c.priority);
    let keep: Vec<u8> = by_priority.iter().take(n).map(|c| c.priority).collect();
    COLS.iter().filter(|c| keep.contains(&c.priority)).collect()
}

fn table_lines(
    title: &str,
    rows: &[(&std::sync::Arc<str>, &Counts)],
    name_w: usize,
    cols: &[&Col],
    sort: SortBy,
) -> Vec<Line<'static>> {
    let name_mark = if sort == SortBy::Name { "▼" } else { "" };
    let mut header = format!(" {}", pad(&format!("{name_mark}{title}"), name_w));
    for c in cols {
        let mark = if c.sort == Some(sort) { "▼" } else { "" };
        header.push_str(&format!("{:>NUM$}", format!("{mark}{}", c.label)));
    }
    let mut lines = vec![Line::styled(
        header,
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    for (name, c) in rows {
        let mut l = format!(" {}", pad(name, name_w));
        for col in cols {
            l.push_str(&format!("{:>NUM$}", (col.value)(c)));
        }
        lines.push(Line::raw(l));
    }
    if rows.is_empty() {
        lines.push(Line::raw(" none"));
    }
    lines
}

/// The Statistics pane over `area`.
pub(super) fn draw_stats(f: &mut Frame<'_>, app: &App, area: Rect) {
    let s = &app.stats;
    let stations = s.sorted(&s.stations);
    let actions = s.sorted(&s.actions);
    let longest = stations
        .iter()
        .chain(&actions)
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    // Names get what the numbers leave, within 10..=32.
    let width = usize::from(area.width.saturating_sub(2));
    let name_w = longest
        .clamp(10, 32)
        .min(width.saturating_sub(1 + NUM * 3).max(10));
    let cols = fitting(width.saturating_sub(1 + name_w));
    let mut lines = table_lines("station", &stations, name_w, &cols, s.sort);
    lines.push(Line::raw(""));
    lines.extend(table_lines("action", &actions, name_w, &cols, s.sort));
    lines.push(Line::raw(""));
    let rules = s.sorted_rules();
    let count_mark = if s.sort == SortBy::Name { "" } else { "▼" };
    let rule_mark = if s.sort == SortBy::Name { "▼" } else { "" };
    lines.push(Line::styled(
        format!(
            " {:>8} {:<8} {rule_mark}rule",
            format!("{count_mark}count"),
            "severity"
        ),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    ));
    for r in &rules {
        lines.push(Line::from(vec![
            Span::raw(format!(" {:>8} ", r.count)),
            Span::styled(
                format!("{:<8} ", r.severity.as_str()),
                severity_style(Some(r.severity)),
            ),
            Span::raw(r.rule),
        ]));
    }
    if rules.is_empty() {
        lines.push(Line::raw(" no findings"));
    }
    let title = format!(
        " Statistics · sorted by {} (o: next) · S: close ",
        s.sort.label()
    );
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(title))
            .scroll((app.detail_scroll, 0)),
        area,
    );
}
