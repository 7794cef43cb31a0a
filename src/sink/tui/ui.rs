//! Drawing: `draw(frame, &App)` paints the whole screen from the state, and nothing else.
//! Pure: it changes no state, reads no clock, does no I/O, so a `TestBackend` shows
//! exactly what a terminal would.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, CaseState, Focus, FrameRow, Mode, RowKind, Shown};
use super::feed::CaseEnd;
use super::input::{Scope, help_rows};
use super::pretty;

mod overlays;
mod stats_pane;

use crate::finding::{Severity, shorten};
use crate::ocpp::Side;
use crate::time::Timestamp;
use crate::wire::frame::MessageType;
use overlays::{draw_act, draw_help};

/// Paints the screen.
pub fn draw(f: &mut Frame<'_>, app: &App) {
    let [body, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(f.area());
    if app.mode == Mode::Detail {
        draw_detail(f, app, body);
    } else if app.mode == Mode::Stats {
        stats_pane::draw_stats(f, app, body);
    } else {
        draw_panes(f, app, body);
    }
    draw_status(f, app, status);
    if app.mode == Mode::Help {
        draw_help(f, body);
    }
    if app.mode == Mode::Act {
        draw_act(f, app, body);
    }
    if app.no_color {
        strip_colour(f);
    }
}

/// `NO_COLOR`: no colours at all; what colour marked (a highlighted value, the partner
/// row) is shown reversed instead, so it still stands out.
fn strip_colour(f: &mut Frame<'_>) {
    let buf = f.buffer_mut();
    let area = buf.area;
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            if cell.bg != Color::Reset {
                cell.modifier.insert(Modifier::REVERSED);
            }
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
        }
    }
}

fn severity_style(s: Option<Severity>) -> Style {
    match s {
        Some(Severity::Error) => Style::new().fg(Color::Red),
        Some(Severity::Warning) => Style::new().fg(Color::Yellow),
        Some(Severity::Info) => Style::new().fg(Color::Cyan),
        None => Style::new(),
    }
}

fn severity_mark(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "✗",
        Some(Severity::Warning) => "!",
        Some(Severity::Info) => "i",
        None => " ",
    }
}

fn pane_block(title: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Block::bordered().border_style(style).title(title)
}

/// ` · indexing 42%` (or without a figure when the size is unknown).
fn indexing(p: super::app::Progress) -> String {
    match p.percent() {
        Some(pc) => format!(" · indexing {pc}%"),
        None => " · indexing…".to_owned(),
    }
}

/// `10:15:03.125` (UTC).
fn clock(at: Timestamp) -> String {
    let s = at.to_string();
    s.get(11..23).map_or(s.clone(), str::to_owned)
}

fn clamp(v: usize, lo: usize, hi: usize) -> u16 {
    u16::try_from(v.max(lo).min(hi.max(lo))).unwrap_or(u16::MAX)
}

/// The connections, cases (zero rows high when not shown), frames and findings panes of the
/// main screen, given the case rows and findings shown.
fn pane_areas(app: &App, area: Rect, cases: usize, findings: usize) -> [Rect; 4] {
    let avail = usize::from(area.height);
    let conns_h = clamp(app.conns.len() + 2, 3, (avail / 4).min(8));
    let cases_h = if app.cases_shown() {
        clamp(cases + 2, 3, avail / 3)
    } else {
        0
    };
    let findings_h = clamp(findings + 2, 3, avail * 3 / 10);
    Layout::vertical([
        Constraint::Length(conns_h),
        Constraint::Length(cases_h),
        Constraint::Min(3),
        Constraint::Length(findings_h),
    ])
    .areas(area)
}

/// Rows of the frames pane on a screen of `size` (for [`App::set_frames_rows`]).
pub fn frames_rows(app: &App, size: Rect) -> usize {
    let [body, _] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(size);
    let [_, _, frames, _] = pane_areas(
        app,
        body,
        app.visible_cases().len(),
        app.visible_findings().len(),
    );
    usize::from(frames.height.saturating_sub(3))
}

fn draw_panes(f: &mut Frame<'_>, app: &App, area: Rect) {
    let findings = app.visible_findings();
    let cases = app.visible_cases();
    let [conns, cases_area, frames, finds] = pane_areas(app, area, cases.len(), findings.len());
    draw_conns(f, app, conns);
    if app.cases_shown() {
        draw_cases(f, app, cases_area, &cases);
    }
    draw_frames(f, app, frames);
    draw_findings(f, app, finds, &findings);
}

fn case_style(state: &CaseState) -> Style {
    match state {
        CaseState::Waiting | CaseState::Ended(CaseEnd::NotRun { .. }) => {
            Style::new().fg(Color::DarkGray)
        }
        CaseState::Running { .. } | CaseState::Injecting { .. } => Style::new().fg(Color::Yellow),
        CaseState::Ended(CaseEnd::Passed) => Style::new().fg(Color::Green),
        CaseState::Ended(CaseEnd::Failed { .. }) => Style::new().fg(Color::Red),
    }
}

fn case_mark(state: &CaseState) -> &'static str {
    match state {
        CaseState::Waiting => "·",
        CaseState::Running { .. } | CaseState::Injecting { .. } => "…",
        CaseState::Ended(CaseEnd::Passed) => "✓",
        CaseState::Ended(CaseEnd::Failed { .. }) => "✗",
        CaseState::Ended(CaseEnd::NotRun { .. }) => "-",
    }
}

/// One row per case and station: station, case id, title (shortened), state.
fn draw_cases(f: &mut Frame<'_>, app: &App, area: Rect, visible: &[usize]) {
    let Some(cases) = &app.cases else {
        return;
    };
    let focused = app.focus == Focus::Cases;
    let n = cases.counts();
    let mut title = format!(
        " Cases {} · {} passed {} failed {} running {} waiting ",
        visible.len(),
        n.passed,
        n.failed,
        n.running,
        n.waiting
    );
    if n.not_run > 0 {
        title.push_str(&format!("{} not run ", n.not_run));
    }
    let width = usize::from(area.width.saturating_sub(2));
    let sel = app.selected_case_index(visible);
    let id_w = visible
        .iter()
        .filter_map(|&p| cases.catalog.get(cases.rows[p].case))
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let title_w = if width >= 100 {
        32
    } else if width >= 80 {
        20
    } else {
        0
    };
    draw_list(f, area, title, focused, visible, sel, |&p, here| {
        let r = &cases.rows[p];
        let info = cases.catalog.get(r.case);
        let style = case_style(&r.state);
        let mut spans = vec![
            Span::raw(if here { "▶" } else { " " }),
            Span::styled(format!("{} ", case_mark(&r.state)), style),
            Span::styled(
                format!("{:<12.12} ", r.station),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "{:<id_w$.id_w$} ",
                info.map_or("?", |c| c.id.as_str())
            )),
        ];
        if title_w > 0 {
            let t = shorten(info.map_or("", |c| c.title.as_str()), title_w - 1);
            spans.push(Span::styled(
                format!("{t:<title_w$} "),
                Style::new().fg(Color::DarkGray),
            ));
        }
        let state = r
            .state
            .text(info.map_or(0, |c| c.steps))
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>();
        spans.push(Span::styled(state, style));
        Line::from(spans)
    });
}

/// Draws a list pane: the items that fit its height, from one that keeps the selected item
/// (`sel`) in view, each drawn by `line` (told whether it is the selected one while the pane
/// has the focus; that one is shown reversed).
fn draw_list<'a, T>(
    f: &mut Frame<'_>,
    area: Rect,
    title: String,
    focused: bool,
    items: &'a [T],
    sel: Option<usize>,
    mut line: impl FnMut(&'a T, bool) -> Line<'a>,
) {
    let inner_h = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line<'a>> = items
        .iter()
        .enumerate()
        .skip(offset(sel, inner_h))
        .take(inner_h)
        .map(|(i, item)| {
            let here = focused && Some(i) == sel;
            let l = line(item, here);
            if here {
                l.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                l
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(pane_block(title, focused)),
        area,
    );
}

/// First row shown so that `sel` is inside a window of `height` rows.
fn offset(sel: Option<usize>, height: usize) -> usize {
    sel.map_or(0, |s| s.saturating_sub(height.saturating_sub(1)))
}

fn draw_conns(f: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Focus::Conns && app.mode != Mode::Detail;
    let title = format!(" Connections {} ", app.conns.len());
    let sel =
        (!app.conns.is_empty()).then_some(app.conn_sel.min(app.conns.len().saturating_sub(1)));
    let width = usize::from(area.width.saturating_sub(2));
    let wide = width >= 70;
    // Names in full up to 24 characters (elided in the middle beyond); the security
    // column only where it fits.
    let name_w = app
        .conns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 24);
    let with_security = width >= name_w + 90;
    draw_list(f, area, title, focused, &app.conns, sel, |c, here| {
        let worst = if c.errors > 0 {
            Some(Severity::Error)
        } else if c.warnings > 0 {
            Some(Severity::Warning)
        } else {
            None
        };
        let filtered = app.filter.conn.as_deref() == Some(&*c.name);
        let mark = match (here, filtered) {
            (true, _) => "▶",
            (false, true) => "*",
            (false, false) => " ",
        };
        let bold = Style::new().add_modifier(Modifier::BOLD);
        if wide {
            let mut spans = vec![
                Span::raw(mark),
                Span::styled(format!("{:<name_w$} ", elide_middle(&c.name, name_w)), bold),
                Span::raw(format!("{:<6} ", c.version)),
            ];
            if with_security {
                spans.push(Span::raw(format!("{:<13} ", c.security)));
            }
            spans.push(Span::raw(format!(
                "{:<15}{:>8} ",
                c.state(),
                plural(c.frames, "frame")
            )));
            spans.push(Span::styled(
                format!(
                    "{:>10} {:>12}",
                    plural(c.errors, "error"),
                    plural(c.warnings, "warning")
                ),
                severity_style(worst),
            ));
            Line::from(spans)
        } else {
            Line::from(vec![
                Span::raw(mark),
                Span::styled(format!("{:<9.9} ", c.name), bold),
                Span::raw(format!("{:<5} {:<9.9} ", c.version, c.state())),
                Span::styled(
                    format!("{}E {}W", c.errors, c.warnings),
                    severity_style(worst),
                ),
            ])
        }
    });
}

fn type_label(row: &FrameRow<'_>) -> &'static str {
    match (row.kind, row.message_type) {
        (RowKind::Open, _) => "OPEN",
        (RowKind::Close, _) => "CLOSE",
        (RowKind::Binary, _) => "BINARY",
        (RowKind::Frame, Some(MessageType::Call)) => "CALL",
        (RowKind::Frame, Some(MessageType::CallResult)) => "RESULT",
        (RowKind::Frame, Some(MessageType::CallError)) => "ERROR",
        (RowKind::Frame, Some(MessageType::CallResultError)) => "RERROR",
        (RowKind::Frame, Some(MessageType::Send)) => "SEND",
        (RowKind::Frame, None) => "?",
    }
}

fn arrow(row: &FrameRow<'_>) -> &'static str {
    match (row.kind, row.from) {
        (RowKind::Open, _) => "+",
        (RowKind::Close, _) => "×",
        (_, Some(Side::Charger)) => "→",
        (_, Some(Side::Csms)) => "←",
        (_, None) => " ",
    }
}

/// `text` in spans, the matches of a plain search (smart case) highlighted; a filter
/// expression highlights nothing.
fn marked_matches(text: &str, needle: &str) -> Vec<Span<'static>> {
    if needle.is_empty() || super::filter::looks_like_expr(needle) {
        return vec![Span::raw(text.to_owned())];
    }
    let exact = needle.chars().any(char::is_uppercase);
    let (hay, pat) = if exact {
        (text.to_owned(), needle.to_owned())
    } else {
        (text.to_ascii_lowercase(), needle.to_ascii_lowercase())
    };
    let hl = Style::new()
        .bg(Color::Yellow)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD);
    let mut spans = Vec::new();
    let mut from = 0;
    // ASCII lower-casing keeps byte offsets, so they index `text` too.
    while let Some(i) = hay[from..].find(&pat) {
        let (a, b) = (from + i, from + i + pat.len());
        if a > from {
            spans.push(Span::raw(text[from..a].to_owned()));
        }
        spans.push(Span::styled(text[a..b].to_owned(), hl));
        from = b;
    }
    if from < text.len() {
        spans.push(Span::raw(text[from..].to_owned()));
    }
    spans
}

/// `n thing` or `n things`.
pub fn plural(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `s` in at most `w` characters: cut in the middle with `…` when longer (ids and names
/// keep their start and end, where they differ most).
fn elide_middle(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        return s.to_owned();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    let head = (w - 1).div_ceil(2);
    let tail = w - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// Column widths of the frames pane for `width` characters, given the longest action and
/// id on screen: the action in full when it fits, the id up to its length (elided in the
/// middle beyond), the connection when there are several, and the payload the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameCols {
    conn: usize,
    action: usize,
    id: usize,
}

fn frame_cols(width: usize, conn: usize, action: usize, id: usize, show_conn: bool) -> FrameCols {
    // mark(2) + time(12) + space + arrow + space + type(6) + space = 24 before the action.
    let fixed = 24;
    let rest = width.saturating_sub(fixed);
    // The payload keeps at least a third of the rest.
    let mut budget = rest.saturating_sub(rest / 3);
    let action = action.max(6).min(budget.saturating_sub(1)).min(40);
    budget = budget.saturating_sub(action + 1);
    let conn = if show_conn && budget >= 8 {
        conn.clamp(6, 16).min(budget - 1)
    } else {
        0
    };
    budget = budget.saturating_sub(if conn > 0 { conn + 1 } else { 0 });
    let id = if budget >= 4 {
        id.clamp(2, 36).min(budget - 1)
    } else {
        0
    };
    FrameCols { conn, action, id }
}

fn draw_frames(f: &mut Frame<'_>, app: &App, area: Rect) {
    let focused = app.focus == Focus::Frames;
    let visible = app.visible_frames();
    let sel = app.selected_frame_index(&visible);
    let selected = sel.and_then(|i| app.frame(visible[i]));
    let partner = selected.as_ref().and_then(|r| r.partner);
    let rows = app.frames_len() as u64;
    let mut title = if visible.len() as u64 == rows {
        format!(" Frames {} ", plural(rows, "row"))
    } else {
        format!(" Frames {} of {} ", visible.len(), plural(rows, "row"))
    };
    if let Some(p) = app.loading {
        title.push_str(indexing(p).trim_start());
        title.push(' ');
    }
    if app.behind_live {
        title.push_str(&format!("· {} · Esc: back to live ", app.title));
    } else if app.live {
        title.push_str(if app.follow {
            "· following "
        } else {
            "· paused (End: follow) "
        });
    }
    if let Some(r) = &selected
        && let Some(ms) = app.round_trip_ms(r)
    {
        let shown = app.shown(r);
        title.push_str(&format!(
            "· {} ↔ {} {:.1} ms ",
            shown.id.as_deref().unwrap_or("?"),
            if r.message_type == Some(MessageType::Call) {
                "reply"
            } else {
                "request"
            },
            ms
        ));
    }
    // One line of column headers, then the rows.
    let inner_h = usize::from(area.height.saturating_sub(3));
    let width = usize::from(area.width.saturating_sub(2));
    // Where the user scrolled to, moved only as far as needed to show the selection.
    let first = match sel {
        Some(sel) if !app.follow => app
            .frames_top
            .clamp(sel.saturating_sub(inner_h.saturating_sub(1)), sel),
        _ => offset(sel, inner_h),
    };
    let on_screen: Vec<(usize, FrameRow<'_>, Shown<'_>)> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h)
        .filter_map(|(i, &p)| {
            let r = app.frame(p)?;
            let shown = app.shown(&r);
            Some((i, r, shown))
        })
        .collect();
    let longest = |it: &mut dyn Iterator<Item = usize>| it.max().unwrap_or(0);
    let show_conn = app.filter.conn.is_none() && app.conns.len() > 1;
    let cols = frame_cols(
        width,
        longest(&mut on_screen.iter().map(|(_, r, _)| r.conn.chars().count())),
        longest(
            &mut on_screen
                .iter()
                .map(|(_, r, _)| r.action.map_or(0, |a| a.chars().count())),
        ),
        longest(
            &mut on_screen
                .iter()
                .map(|(_, _, s)| s.id.as_deref().map_or(0, |a| a.chars().count())),
        ),
        show_conn,
    );
    let pad = |s: &str, w: usize| format!("{:<w$} ", elide_middle(s, w));
    let mut header = format!("  {:<12}   {:<6} ", "time", "type");
    if cols.conn > 0 {
        header.push_str(&pad("station", cols.conn));
    }
    header.push_str(&pad("action", cols.action));
    if cols.id > 0 {
        header.push_str(&pad("id", cols.id));
    }
    header.push_str("payload");
    let mut lines = vec![Line::styled(
        header,
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    lines.extend(on_screen.into_iter().map(|(i, r, shown)| {
        let mark = if Some(i) == sel {
            "▶"
        } else if Some(r.seq) == partner {
            "↔"
        } else {
            " "
        };
        let mut spans = vec![
            Span::raw(mark),
            Span::styled(severity_mark(r.worst), severity_style(r.worst)),
            Span::raw(format!(" {} {} ", clock(r.at), arrow(&r))),
            Span::styled(format!("{:<6} ", type_label(&r)), severity_style(r.worst)),
        ];
        if cols.conn > 0 {
            spans.push(Span::raw(pad(r.conn, cols.conn)));
        }
        spans.push(Span::styled(
            pad(r.action.map_or("", |a| &**a), cols.action),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        if cols.id > 0 {
            spans.push(Span::raw(pad(shown.id.as_deref().unwrap_or(""), cols.id)));
        }
        spans.extend(marked_matches(&shown.short, &app.filter.text));
        let mut line = Line::from(spans);
        if Some(i) == sel {
            line = line.style(if focused {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new().add_modifier(Modifier::UNDERLINED)
            });
        } else if Some(r.seq) == partner {
            line = line.style(Style::new().bg(Color::Blue).fg(Color::White));
        }
        line
    }));
    f.render_widget(
        Paragraph::new(lines).block(pane_block(title, focused)),
        area,
    );
}

fn draw_findings(f: &mut Frame<'_>, app: &App, area: Rect, visible: &[usize]) {
    let focused = app.focus == Focus::Findings;
    // The counts are of the findings listed, so they add up to the number in front.
    let count = |s: Severity| {
        visible
            .iter()
            .filter(|&&p| app.findings[p].finding.severity == s)
            .count() as u64
    };
    let kept = app.findings.len();
    let mut title = if visible.len() == kept {
        format!(" Findings {} ", visible.len())
    } else {
        format!(" Findings {} of {kept} ", visible.len())
    };
    title.push_str(&format!(
        "· {} {} {} ",
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "info")
    ));
    let sel = app.selected_finding_index(visible);
    draw_list(f, area, title, focused, visible, sel, |&p, here| {
        let fnd = &app.findings[p].finding;
        Line::from(vec![
            Span::raw(if here { "▶" } else { " " }),
            Span::styled(
                format!(
                    "{} {:<7} ",
                    severity_mark(Some(fnd.severity)),
                    fnd.severity.as_str()
                ),
                severity_style(Some(fnd.severity)),
            ),
            Span::styled(
                format!("{} ", fnd.rule.id),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                "{} {}{} ",
                fnd.conn,
                if fnd.line > 0 { "line " } else { "" },
                if fnd.line > 0 {
                    fnd.line.to_string()
                } else {
                    String::new()
                }
            )),
            Span::raw(fnd.message.clone()),
        ])
    });
}

fn draw_status(f: &mut Frame<'_>, app: &App, area: Rect) {
    let mut spans = Vec::new();
    if app.mode == Mode::Export {
        spans.push(Span::styled(
            format!("export to: {}▏", app.export_input),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(match &app.message {
            Some(m) => format!("  {m}"),
            None => "  Enter: write  Esc: cancel".to_owned(),
        }));
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if app.mode == Mode::Search {
        spans.push(Span::styled(
            format!("/{}▏", app.search_input),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        match &app.message {
            Some(m) => spans.push(Span::styled(
                format!("  {m}"),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            )),
            None => spans.push(Span::raw(
                "  Enter: apply  Esc: cancel  ↑↓: history  ~a ~c ~t ~d ~s ~p ~re ~r ~time & | !",
            )),
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let t = &app.totals;
    let mut text = format!(
        " {} · {} ({})",
        plural(app.conns.len() as u64, "conn"),
        plural(app.frames_len() as u64, "row"),
        plural(t.frames, "frame")
    );
    if let Some(p) = app.loading {
        text.push_str(&indexing(p));
    }
    if let Some(rate) = app.rate {
        text.push_str(&format!(" · {rate:.0}/s"));
    }
    spans.push(Span::raw(text));
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        format!("{}E", t.errors),
        severity_style(Some(Severity::Error)),
    ));
    spans.push(Span::raw(" "));
    spans.push(Span::styled(
        format!("{}W", t.warnings),
        severity_style(Some(Severity::Warning)),
    ));
    spans.push(Span::raw(" "));
    spans.push(Span::styled(
        format!("{}I", t.infos),
        severity_style(Some(Severity::Info)),
    ));
    let mut filters = Vec::new();
    if let Some(c) = &app.filter.conn {
        filters.push(format!("conn={c}"));
    }
    if let Some(a) = &app.filter.action {
        filters.push(format!("action={a}"));
    }
    if let Some(s) = app.filter.min_severity {
        filters.push(format!("severity≥{s}"));
    }
    if !app.filter.text.is_empty() {
        filters.push(format!("/{}", app.filter.text));
    }
    if !filters.is_empty() {
        spans.push(Span::styled(
            format!(" · {}", filters.join(" ")),
            Style::new().fg(Color::Magenta),
        ));
    }
    let dropped = t.frames_out_of_view + app.feed_dropped;
    if dropped > 0 {
        spans.push(Span::raw(format!(" · {dropped} out of view")));
    }
    let injection = app.injection_status();
    if let Some(m) = app
        .message
        .as_ref()
        .or(injection.as_ref())
        .or(app.finished.as_ref())
        .or(app.notice.as_ref())
    {
        spans.push(Span::styled(
            format!(" · {m}"),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::styled(
        " · ? help  q quit",
        Style::new().add_modifier(Modifier::DIM),
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_detail(f: &mut Frame<'_>, app: &App, area: Rect) {
    let Some(row) = app.selected_frame() else {
        f.render_widget(
            Paragraph::new("no frame selected").block(Block::bordered().title(" Frame ")),
            area,
        );
        return;
    };
    let partner = row.partner.and_then(|p| app.row(p));
    let (main, side) = if partner.is_none() {
        (area, None)
    } else if area.width >= 100 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
            .areas(area);
        (a, Some(b))
    } else {
        let [a, b] =
            Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(area);
        (a, Some(b))
    };

    let findings: Vec<_> = app.findings_of(row.seq).collect();
    let highlight = findings.iter().find_map(|r| r.finding.pointer.as_deref());
    let mut lines = frame_lines(app, &row, highlight, app.detail_exact);
    lines.push(Line::raw(""));
    if findings.is_empty() {
        lines.push(Line::styled(
            "No findings on this frame.",
            Style::new().fg(Color::Green),
        ));
    }
    for r in findings {
        let fnd = &r.finding;
        lines.push(Line::from(vec![
            Span::styled(
                format!("{}[{}] ", fnd.severity, fnd.rule.id),
                severity_style(Some(fnd.severity)).add_modifier(Modifier::BOLD),
            ),
            Span::raw(fnd.message.clone()),
        ]));
        if let Some(p) = &fnd.pointer {
            lines.push(Line::raw(format!("  at {p}")));
        }
        lines.push(Line::styled(
            format!("  {} ({})", fnd.rule.summary, fnd.rule.spec),
            Style::new().add_modifier(Modifier::ITALIC),
        ));
        for l in fnd.rule.doc.lines() {
            lines.push(Line::raw(format!("  {l}")));
        }
        lines.push(Line::raw(""));
    }
    let title = format!(
        " {} {} {} · {} · line {} · {} ",
        type_label(&row),
        row.action.map_or("", |a| &**a),
        app.shown(&row).id.as_deref().unwrap_or(""),
        row.conn,
        row.line,
        clock(row.at)
    );
    f.render_widget(
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .title(title)
                    .border_style(Style::new().fg(Color::Cyan)),
            )
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0)),
        main,
    );
    if let (Some(side), Some(p)) = (side, partner) {
        let rtt = app
            .round_trip_ms(&row)
            .map_or(String::new(), |ms| format!(" · round trip {ms:.1} ms"));
        let what = if p.seq < row.seq { "request" } else { "reply" };
        let title = format!(" {what} {} · line {}{rtt} (p) ", type_label(&p), p.line);
        let lines = frame_lines(app, &p, None, app.detail_exact);
        f.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(title))
                .wrap(Wrap { trim: false }),
            side,
        );
    }
}

/// A frame's header and its text: laid out in the order sent (or, in the exact view, the
/// text as sent), with the value at `pointer` (into the payload) marked.
fn frame_lines(
    app: &App,
    row: &FrameRow<'_>,
    pointer: Option<&str>,
    exact: bool,
) -> Vec<Line<'static>> {
    let shown = app.shown(row);
    let mut lines = vec![Line::raw(format!(
        "{} {} {}{}",
        row.from.map_or("", Side::arrow),
        type_label(row),
        shown
            .id
            .as_deref()
            .map_or(String::new(), |id| format!("id {id}")),
        if exact {
            " · exact (x: laid out)"
        } else {
            " · laid out (x: exact)"
        }
    ))];
    if row.kind != RowKind::Frame || shown.text.is_empty() {
        lines.push(Line::raw(shown.short.into_owned()));
        return lines;
    }
    // The finding's pointer is into the payload: the 4th member of a CALL, the 3rd of a
    // CALLRESULT.
    let pointer = match (row.message_type, pointer) {
        (Some(MessageType::Call), Some(p)) => Some(format!("/3{p}")),
        (Some(MessageType::CallResult), Some(p)) => Some(format!("/2{p}")),
        _ => None,
    };
    let hl = Style::new()
        .bg(Color::Red)
        .fg(Color::White)
        .add_modifier(Modifier::BOLD);
    // A mark in the text too, for terminals without colour.
    let here = Span::styled(
        "  ◀ here",
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    );
    let Some(laid) = pretty::pretty(&shown.text, pointer.as_deref()) else {
        lines.push(Line::styled(
            "not JSON; the text as sent:",
            Style::new().add_modifier(Modifier::ITALIC),
        ));
        lines.push(Line::styled(
            shown.text.into_owned(),
            Style::new().fg(Color::Red),
        ));
        return lines;
    };
    if exact {
        let text = &shown.text;
        lines.push(match laid.span {
            Some((a, b)) => Line::from(vec![
                Span::raw(text[..a].to_owned()),
                Span::styled(text[a..b].to_owned(), hl),
                Span::raw(text[b..].to_owned()),
                here,
            ]),
            None => Line::raw(text.to_string()),
        });
        return lines;
    }
    let mut first = true;
    lines.extend(laid.lines.into_iter().map(|(text, marked)| {
        if marked {
            let mut spans = vec![Span::styled(text, hl)];
            if std::mem::take(&mut first) {
                spans.push(here.clone());
            }
            Line::from(spans)
        } else {
            Line::raw(text)
        }
    }));
    lines
}
