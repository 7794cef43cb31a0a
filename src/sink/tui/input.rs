//! Keys and mouse → [`Action`]s. One table, [`BINDINGS`], drives both the mapping and the
//! help overlay, so the overlay cannot drift from what the keys do.
//!
//! Pure: no terminal, no state besides the mode it is given.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

use super::app::{Action, Mode};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The panes and the detail view.
    Everywhere,
    /// The three panes.
    Panes,
    /// The detail view of one frame.
    Detail,
    /// The Statistics pane.
    Stats,
}

impl Scope {
    fn covers(self, mode: Mode) -> bool {
        match self {
            Scope::Everywhere => {
                matches!(mode, Mode::Normal | Mode::Detail | Mode::Help | Mode::Stats)
            }
            Scope::Panes => matches!(mode, Mode::Normal | Mode::Help),
            Scope::Detail => mode == Mode::Detail,
            Scope::Stats => mode == Mode::Stats,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Scope::Everywhere => "everywhere",
            Scope::Panes => "panes",
            Scope::Detail => "frame detail",
            Scope::Stats => "statistics",
        }
    }
}

/// One key (code and modifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub KeyCode, pub KeyModifiers);

const fn k(c: char) -> Key {
    Key(KeyCode::Char(c), KeyModifiers::NONE)
}
const fn code(c: KeyCode) -> Key {
    Key(c, KeyModifiers::NONE)
}
const fn ctrl(c: char) -> Key {
    Key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// One line of the table: keys, where, what, and the words for the help overlay.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub scope: Scope,
    pub action: Action,
    pub help: &'static str,
}

const fn b(keys: &'static [Key], scope: Scope, action: Action, help: &'static str) -> Binding {
    Binding {
        keys,
        scope,
        action,
        help,
    }
}

/// Every key binding, in the order the help overlay shows them.
pub const BINDINGS: &[Binding] = &[
    b(
        &[k('q'), ctrl('c')],
        Scope::Everywhere,
        Action::Quit,
        "quit",
    ),
    b(
        &[k('?')],
        Scope::Everywhere,
        Action::ToggleHelp,
        "this help",
    ),
    b(
        &[code(KeyCode::Esc)],
        Scope::Everywhere,
        Action::Back,
        "back to the panes",
    ),
    b(
        &[code(KeyCode::Up), k('k')],
        Scope::Everywhere,
        Action::Up,
        "up (scrolls the detail)",
    ),
    b(
        &[code(KeyCode::Down), k('j')],
        Scope::Everywhere,
        Action::Down,
        "down",
    ),
    b(
        &[code(KeyCode::PageUp)],
        Scope::Everywhere,
        Action::PageUp,
        "page up",
    ),
    b(
        &[code(KeyCode::PageDown), k(' ')],
        Scope::Everywhere,
        Action::PageDown,
        "page down",
    ),
    b(
        &[code(KeyCode::Home), k('g')],
        Scope::Everywhere,
        Action::Top,
        "first row",
    ),
    b(
        &[code(KeyCode::End), k('G')],
        Scope::Panes,
        Action::Bottom,
        "newest frame, follow new ones",
    ),
    b(
        &[code(KeyCode::Tab)],
        Scope::Panes,
        Action::FocusNext,
        "next pane (connections, cases, frames, findings)",
    ),
    b(
        &[code(KeyCode::BackTab)],
        Scope::Panes,
        Action::FocusPrev,
        "previous pane",
    ),
    b(
        &[code(KeyCode::Enter)],
        Scope::Panes,
        Action::Enter,
        "open: frame detail / filter by connection / go to the finding's frame",
    ),
    b(
        &[code(KeyCode::Enter)],
        Scope::Detail,
        Action::Back,
        "close the detail",
    ),
    b(
        &[k('x')],
        Scope::Detail,
        Action::ToggleExact,
        "the text exactly as sent / laid out in its order",
    ),
    b(
        &[k('p')],
        Scope::Everywhere,
        Action::Partner,
        "go to the request/reply partner",
    ),
    b(
        &[k('n')],
        Scope::Everywhere,
        Action::NextProblem,
        "next frame with a finding",
    ),
    b(
        &[k('N')],
        Scope::Everywhere,
        Action::PrevProblem,
        "previous frame with a finding",
    ),
    b(
        &[k('/')],
        Scope::Panes,
        Action::StartSearch,
        "search: show only what contains text",
    ),
    b(
        &[k('c')],
        Scope::Panes,
        Action::FilterConn,
        "only the selection's connection (again: all)",
    ),
    b(
        &[k('a')],
        Scope::Panes,
        Action::FilterAction,
        "only the selection's action (again: all)",
    ),
    b(
        &[k('s')],
        Scope::Panes,
        Action::CycleSeverity,
        "lowest severity: all/info/warning/error",
    ),
    b(
        &[k('t')],
        Scope::Panes,
        Action::ToggleCases,
        "show/hide the Cases pane (testcase run --live: each case per station)",
    ),
    b(
        &[k('x')],
        Scope::Panes,
        Action::ClearFilters,
        "clear every filter",
    ),
    b(
        &[k('e')],
        Scope::Everywhere,
        Action::StartExport,
        "export: filtered set as JSON Lines (detail: the frame, exact)",
    ),
    b(
        &[k('y')],
        Scope::Everywhere,
        Action::CopyFrame,
        "copy the frame's exact text to the clipboard (OSC 52)",
    ),
    b(
        &[k('S')],
        Scope::Panes,
        Action::ToggleStats,
        "statistics: stations, actions, round trips, unanswered calls, rules",
    ),
    b(
        &[k('S'), code(KeyCode::Enter)],
        Scope::Stats,
        Action::ToggleStats,
        "close the statistics",
    ),
    b(
        &[k('o')],
        Scope::Stats,
        Action::CycleSort,
        "sort by name, count, unanswered, median or p99 round trip",
    ),
    b(
        &[k('w')],
        Scope::Everywhere,
        Action::WriteReport,
        "write the session's report (JSON)",
    ),
    b(
        &[k('i')],
        Scope::Panes,
        Action::StartAct,
        "send a CALL to a live station (needs --allow-inject)",
    ),
];

/// The keys of the form of `i` (acting on a live station), for its own key line.
pub const ACT_KEYS: &str =
    "Tab/↑↓: field  ←→: choose  Ctrl-E: $EDITOR  Enter: confirm  Esc: cancel";

/// The form of `i`: fields, choices, the payload's text.
fn act_action(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => Some(Action::Quit),
        KeyCode::Char('e') if ctrl => Some(Action::ActEdit),
        KeyCode::Char(c) if !ctrl => Some(Action::ActChar(c)),
        KeyCode::Enter => Some(Action::ActSubmit),
        KeyCode::Esc => Some(Action::ActCancel),
        KeyCode::Backspace => Some(Action::ActBackspace),
        KeyCode::Tab | KeyCode::Down => Some(Action::ActField(1)),
        KeyCode::BackTab | KeyCode::Up => Some(Action::ActField(-1)),
        KeyCode::Left => Some(Action::ActMove(-1)),
        KeyCode::Right => Some(Action::ActMove(1)),
        _ => None,
    }
}

/// The action for a key in `mode`, if any.
pub fn action_for(key: KeyEvent, mode: Mode) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if mode == Mode::Act {
        return act_action(key);
    }
    if matches!(mode, Mode::Search | Mode::Export) {
        return match key.code {
            KeyCode::Enter => Some(Action::SearchSubmit),
            KeyCode::Esc => Some(Action::SearchCancel),
            KeyCode::Backspace => Some(Action::SearchBackspace),
            KeyCode::Up => Some(Action::SearchHistory(-1)),
            KeyCode::Down => Some(Action::SearchHistory(1)),
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Action::Quit)
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Action::SearchChar(c))
            }
            _ => None,
        };
    }
    // Shift comes with upper-case letters and `?` on most terminals: compare without it.
    let mods = key.modifiers - KeyModifiers::SHIFT;
    let pressed = Key(key.code, mods);
    if mode == Mode::Help {
        // Any key closes the overlay; the quit keys still quit.
        let quits = BINDINGS
            .iter()
            .any(|b| b.action == Action::Quit && b.keys.contains(&pressed));
        return Some(if quits {
            Action::Quit
        } else {
            Action::ToggleHelp
        });
    }
    let found = BINDINGS
        .iter()
        .filter(|b| b.scope.covers(mode))
        // The detail's (or the statistics') own meaning of a key wins over the general one.
        .find(|b| matches!(b.scope, Scope::Detail | Scope::Stats) && b.keys.contains(&pressed))
        .or_else(|| {
            BINDINGS
                .iter()
                .filter(|b| b.scope.covers(mode))
                .find(|b| b.keys.contains(&pressed))
        })?;
    Some(found.action)
}

/// Rows moved per mouse wheel step.
pub const WHEEL_ROWS: usize = 3;

/// The actions for any terminal event (keys and the mouse wheel).
pub fn actions_for(event: &Event, mode: Mode) -> Vec<Action> {
    match event {
        Event::Key(key) => action_for(*key, mode).into_iter().collect(),
        Event::Mouse(MouseEvent { kind, .. })
            if !matches!(mode, Mode::Search | Mode::Export | Mode::Act) =>
        {
            match kind {
                MouseEventKind::ScrollUp => vec![Action::Up; WHEEL_ROWS],
                MouseEventKind::ScrollDown => vec![Action::Down; WHEEL_ROWS],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// How a key is written in the help overlay.
pub fn key_label(key: Key) -> String {
    let base = match key.0 {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        other => format!("{other:?}"),
    };
    if key.1.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// The help overlay's lines: (keys, scope, what), from [`BINDINGS`].
pub fn help_rows() -> Vec<(String, Scope, &'static str)> {
    BINDINGS
        .iter()
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|&k| key_label(k)).collect();
            (keys.join(" "), b.scope, b.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn keys_map_by_mode() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            action_for(press(KeyCode::Char('q'), none), Mode::Normal),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(
                press(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Mode::Normal
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('c'), none), Mode::Normal),
            Some(Action::FilterConn)
        );
        // Shifted letters and `?` arrive with SHIFT on some terminals.
        assert_eq!(
            action_for(press(KeyCode::Char('G'), KeyModifiers::SHIFT), Mode::Normal),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('?'), KeyModifiers::SHIFT), Mode::Normal),
            Some(Action::ToggleHelp)
        );
        // Enter opens in the panes and closes the detail.
        assert_eq!(
            action_for(press(KeyCode::Enter, none), Mode::Normal),
            Some(Action::Enter)
        );
        assert_eq!(
            action_for(press(KeyCode::Enter, none), Mode::Detail),
            Some(Action::Back)
        );
        // Filters are for the panes only.
        assert_eq!(
            action_for(press(KeyCode::Char('c'), none), Mode::Detail),
            None
        );
        // While searching, letters are text, and `q` does not quit.
        assert_eq!(
            action_for(press(KeyCode::Char('q'), none), Mode::Search),
            Some(Action::SearchChar('q'))
        );
        assert_eq!(
            action_for(press(KeyCode::Esc, none), Mode::Search),
            Some(Action::SearchCancel)
        );
        // The help overlay closes on any bound key, and still quits on q.
        assert_eq!(
            action_for(press(KeyCode::Down, none), Mode::Help),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('q'), none), Mode::Help),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(press(KeyCode::F(5), none), Mode::Help),
            Some(Action::ToggleHelp)
        );
        assert_eq!(action_for(press(KeyCode::F(5), none), Mode::Normal), None);
    }

    #[test]
    fn the_mouse_wheel_scrolls() {
        let ev = Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        });
        assert_eq!(
            actions_for(&ev, Mode::Normal),
            vec![Action::Down; WHEEL_ROWS]
        );
        assert!(actions_for(&ev, Mode::Search).is_empty());
    }

    #[test]
    fn the_help_lists_every_binding_with_its_keys() {
        let rows = help_rows();
        assert_eq!(rows.len(), BINDINGS.len());
        assert!(
            rows.iter()
                .any(|(keys, _, what)| keys == "q Ctrl-c" && *what == "quit")
        );
        assert!(rows.iter().any(|(keys, _, _)| keys == "/"));
        // No key means two things in one scope.
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope == b.scope {
                    assert!(
                        !a.keys.iter().any(|k| b.keys.contains(k)),
                        "{:?} bound twice in {:?}",
                        a.keys,
                        a.scope
                    );
                }
            }
        }
    }
}
