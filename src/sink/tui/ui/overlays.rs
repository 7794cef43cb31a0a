//! The overlays drawn over the panes: the form that acts on a live station (`i`) and the
//! key help (`?`). Pure drawing from the app's state, like the rest of `ui`.

use super::*;

/// The form of `i`: station, action, payload (scrolled to its cursor), what the schema
/// says, and the keys; or the confirmation.
pub(super) fn draw_act(f: &mut Frame<'_>, app: &App, area: Rect) {
    use crate::sink::tui::act::Field;
    let Some(form) = &app.act else {
        return;
    };
    let popup = centered(area, 78, 10);
    let inner = usize::from(popup.width.saturating_sub(2));
    let label = |name: &str, field: Field| {
        let style = if form.field == field && !form.confirm {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        Span::styled(format!(" {name:<8}"), style)
    };
    let station = form.station_name().map_or_else(String::new, |s| {
        format!(
            "◀ {s} ({}) ▶  {}/{}",
            form.version().map_or("-", |v| v.as_str()),
            form.station + 1,
            form.stations.len()
        )
    });
    let action = form.action_name().map_or_else(
        || "(no action for this version)".to_owned(),
        |a| format!("◀ {a} ▶  {}/{}", form.action + 1, form.actions.len()),
    );
    // The payload on one line, scrolled so the cursor shows.
    let room = inner.saturating_sub(10).max(1);
    let chars: Vec<char> = form.payload.chars().collect();
    let start = form.cursor.saturating_sub(room.saturating_sub(1));
    let shown: String = chars.iter().skip(start).take(room).collect();
    let cursor_at = form.cursor - start;
    let (before, after): (String, String) = (
        shown.chars().take(cursor_at).collect(),
        shown.chars().skip(cursor_at).collect(),
    );
    let mut payload = vec![label("payload", Field::Payload), Span::raw(" ")];
    payload.push(Span::raw(before));
    if form.field == Field::Payload && !form.confirm {
        payload.push(Span::styled("▏", Style::new().fg(Color::Cyan)));
    }
    payload.push(Span::raw(after));
    let verdict = match (form.problems.first(), form.version(), form.action_name()) {
        (None, Some(v), Some(a)) => Line::styled(
            shorten(
                &format!("          ✓ valid: {v} {a} request schema"),
                inner.saturating_sub(1),
            ),
            Style::new().fg(Color::Green),
        ),
        (Some(p), _, _) => Line::styled(
            shorten(&format!("          ✗ {p}"), inner.saturating_sub(1)),
            Style::new().fg(Color::Red),
        ),
        _ => Line::raw(""),
    };
    let mut lines = vec![
        Line::from(vec![
            label("station", Field::Station),
            Span::raw(format!(" {station}")),
        ]),
        Line::from(vec![
            label("action", Field::Action),
            Span::raw(format!(" {action}")),
        ]),
        Line::from(payload),
        verdict,
        Line::raw(""),
    ];
    if form.confirm {
        lines.push(Line::styled(
            shorten(
                &format!(
                    " Send {} to {}{}?",
                    form.action_name().unwrap_or("?"),
                    form.station_name().map_or("?", |s| &**s),
                    if form.problems.is_empty() {
                        ""
                    } else {
                        " although the schema says no"
                    }
                ),
                inner,
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::styled(
            " Enter: send  Esc: back to the form",
            Style::new().add_modifier(Modifier::DIM),
        ));
    } else {
        lines.push(Line::styled(
            format!(" {}", crate::sink::tui::input::ACT_KEYS),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Send a CALL to a station (--allow-inject) ")),
        popup,
    );
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn draw_help(f: &mut Frame<'_>, area: Rect) {
    let rows = help_rows();
    let mut lines = Vec::new();
    for scope in [Scope::Everywhere, Scope::Panes, Scope::Detail, Scope::Stats] {
        lines.push(Line::styled(
            scope.title(),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (keys, _, what) in rows.iter().filter(|(_, s, _)| *s == scope) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<16}"), Style::new().fg(Color::Cyan)),
                Span::raw(*what),
            ]));
        }
    }
    lines.push(Line::raw("Mouse wheel: scroll the focused pane"));
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let popup = centered(area, 90, h);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ")),
        popup,
    );
}
