//! What the user asked ([`Action`]s) applied to the [`App`]: focus, movement, selection,
//! filters, search and the detail view. No I/O: writing a report or quitting is an
//! [`Effect`] for the loop.

use std::sync::Arc;

use super::{Action, App, Effect, Filter, Focus, Mode, PAGE};
use crate::finding::Severity;

impl App {
    /// Tells the app how many rows the frames pane has, so scrolling moves the window only
    /// when the selection would leave it.
    pub fn set_frames_rows(&mut self, rows: usize) {
        self.frames_rows = rows.max(1);
    }

    /// Selects the first row and stays there while rows come in (a trace opened with
    /// `view` shows from its start).
    pub fn start_at_top(&mut self) {
        self.frame_sel = Some(self.first_seq());
        self.follow = false;
        self.frames_top = 0;
    }

    /// Selects the frame row `seq` (and stops following), scrolling just enough to show it.
    pub(super) fn select_frame(&mut self, seq: u64) {
        let v = self.visible_frames();
        if self.follow {
            // Start from where following left the window: the newest rows at the bottom.
            self.frames_top = v.len().saturating_sub(self.frames_rows);
        }
        self.frame_sel = Some(seq);
        self.follow = false;
        if let Some(i) = self.selected_frame_index(&v) {
            let rows = self.frames_rows;
            self.frames_top = self
                .frames_top
                .clamp(i.saturating_sub(rows.saturating_sub(1)), i);
        }
    }

    fn move_frames(&mut self, delta: isize) {
        let v = self.visible_frames();
        let Some(i) = self.selected_frame_index(&v) else {
            return;
        };
        let j = i.saturating_add_signed(delta).min(v.len() - 1);
        self.select_frame(self.seq_at(v[j]));
    }

    fn move_findings(&mut self, delta: isize) {
        let v = self.visible_findings();
        let Some(i) = self.selected_finding_index(&v) else {
            return;
        };
        let j = i.saturating_add_signed(delta).min(v.len() - 1);
        self.finding_sel = Some(self.findings[v[j]].no);
    }

    fn move_sel(&mut self, delta: isize) {
        if matches!(self.mode, Mode::Detail | Mode::Stats) {
            self.detail_scroll = if delta < 0 {
                self.detail_scroll
                    .saturating_sub(u16::try_from(delta.unsigned_abs()).unwrap_or(u16::MAX))
            } else {
                self.detail_scroll
                    .saturating_add(u16::try_from(delta).unwrap_or(u16::MAX))
            };
            return;
        }
        match self.focus {
            Focus::Conns => {
                if !self.conns.is_empty() {
                    self.conn_sel = self
                        .conn_sel
                        .saturating_add_signed(delta)
                        .min(self.conns.len() - 1);
                }
            }
            Focus::Cases => self.move_cases(delta),
            Focus::Frames => self.move_frames(delta),
            Focus::Findings => self.move_findings(delta),
        }
    }

    /// Changes the state as the user asked; says what the loop must do, if anything.
    pub fn apply(&mut self, action: Action) -> Option<Effect> {
        if self.mode == Mode::Export {
            return self.apply_export(action);
        }
        if self.mode == Mode::Act {
            return self.apply_act(action);
        }
        if let Some(e) = self.past_the_window(action) {
            return Some(e);
        }
        if action == Action::Back && self.mode == Mode::Normal && self.behind_live {
            return Some(Effect::CloseHistory);
        }
        let moved_up = matches!(action, Action::Up | Action::PageUp | Action::Top);
        let effect = self.apply_panes(action);
        if moved_up {
            self.note_window_top();
        }
        effect
    }

    fn apply_panes(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::StartAct => return self.start_act(),
            Action::StartExport => {
                self.export_from = if self.mode == Mode::Detail {
                    Mode::Detail
                } else {
                    Mode::Normal
                };
                self.mode = Mode::Export;
                self.export_input.clear();
                self.message = None;
            }
            Action::CopyFrame => return Some(Effect::Copy),
            Action::Quit => return Some(Effect::Quit),
            Action::WriteReport => return Some(Effect::WriteReport),
            Action::FocusNext | Action::FocusPrev => {
                let order = self.focus_order();
                let n = order.len();
                let i = order
                    .iter()
                    .position(|&f| f == self.focus)
                    .unwrap_or_else(|| order.iter().position(|&f| f == Focus::Frames).unwrap_or(0));
                let j = if action == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = order[j];
            }
            Action::ToggleCases => match self.cases.as_mut() {
                Some(c) => {
                    c.shown = !c.shown;
                    if !c.shown && self.focus == Focus::Cases {
                        self.focus = Focus::Frames;
                    }
                }
                None => self.message = Some("no test cases run here".into()),
            },
            Action::ToggleExact => {
                self.detail_exact = !self.detail_exact;
                self.detail_scroll = 0;
            }
            Action::Up => self.move_sel(-1),
            Action::Down => self.move_sel(1),
            Action::PageUp => self.move_sel(-(PAGE as isize)),
            Action::PageDown => self.move_sel(PAGE as isize),
            Action::Top => match (self.mode, self.focus) {
                (Mode::Detail | Mode::Stats, _) => self.detail_scroll = 0,
                (_, Focus::Conns) => self.conn_sel = 0,
                (_, Focus::Cases) => {
                    if let (Some(&p), Some(c)) = (self.visible_cases().first(), self.cases.as_mut())
                    {
                        c.sel = p;
                    }
                }
                (_, Focus::Frames) => {
                    if let Some(&p) = self.visible_frames().first() {
                        self.select_frame(self.seq_at(p));
                    }
                }
                (_, Focus::Findings) => self.finding_sel = None,
            },
            Action::Bottom => match (self.mode, self.focus) {
                (Mode::Detail | Mode::Stats, _) => {}
                (_, Focus::Conns) => self.conn_sel = self.conns.len().saturating_sub(1),
                (_, Focus::Cases) => {
                    if let (Some(&p), Some(c)) = (self.visible_cases().last(), self.cases.as_mut())
                    {
                        c.sel = p;
                    }
                }
                (_, Focus::Frames) => {
                    self.follow = true;
                    self.frame_sel = None;
                }
                (_, Focus::Findings) => {
                    if let Some(&p) = self.visible_findings().last() {
                        self.finding_sel = Some(self.findings[p].no);
                    }
                }
            },
            Action::Enter => self.enter(),
            Action::Back => {
                self.mode = Mode::Normal;
                self.message = None;
            }
            Action::ToggleStats => {
                self.mode = if self.mode == Mode::Stats {
                    Mode::Normal
                } else {
                    Mode::Stats
                };
                self.detail_scroll = 0;
            }
            Action::CycleSort => self.stats.sort = self.stats.sort.next(),
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Normal
                } else {
                    Mode::Help
                };
            }
            Action::StartSearch => {
                self.search_input = self.filter.text.clone();
                self.mode = Mode::Search;
            }
            Action::SearchChar(c) => {
                self.search_input.push(c);
                self.message = None;
            }
            Action::SearchBackspace => {
                self.search_input.pop();
            }
            Action::SearchSubmit => {
                let input = self.search_input.trim().to_owned();
                if super::super::filter::looks_like_expr(&input) {
                    match super::super::filter::parse(&input) {
                        Ok(e) => self.expr = Some(e),
                        Err(e) => {
                            // Stay in the prompt, saying where and what was expected.
                            self.message = Some(format!("filter {e}"));
                            return None;
                        }
                    }
                } else {
                    self.expr = None;
                }
                self.search_input.clear();
                if !input.is_empty() {
                    self.history.retain(|h| *h != input);
                    self.history.push(input.clone());
                    if self.history.len() > super::HISTORY {
                        self.history.remove(0);
                    }
                }
                self.history_at = None;
                self.filter.text = input;
                self.mode = Mode::Normal;
                self.message = self.nothing_shown();
            }
            Action::SearchHistory(step) => {
                let n = self.history.len();
                if n > 0 {
                    let at = match (self.history_at, step < 0) {
                        (None, true) => Some(n - 1),
                        (None, false) => None,
                        (Some(i), true) => Some(i.saturating_sub(1)),
                        (Some(i), false) => (i + 1 < n).then_some(i + 1),
                    };
                    self.history_at = at;
                    self.search_input = at.map_or(String::new(), |i| self.history[i].clone());
                }
            }
            // The form's keys come only while it is open (see `apply_act`).
            Action::ActField(_)
            | Action::ActMove(_)
            | Action::ActChar(_)
            | Action::ActBackspace
            | Action::ActEdit
            | Action::ActSubmit
            | Action::ActCancel => {}
            Action::SearchCancel => {
                self.search_input.clear();
                self.history_at = None;
                self.message = None;
                self.mode = Mode::Normal;
            }
            Action::FilterConn => {
                if self.filter.conn.is_some() {
                    self.filter.conn = None;
                } else {
                    let conn = match self.focus {
                        Focus::Conns => self.conns.get(self.conn_sel).map(|c| c.name.clone()),
                        Focus::Cases => self.selected_case().map(|r| r.station.clone()),
                        Focus::Frames => self.selected_frame().map(|f| f.conn.clone()),
                        Focus::Findings => self.selected_finding().map(|f| f.finding.conn.clone()),
                    };
                    self.filter.conn = conn;
                }
            }
            Action::FilterAction => {
                if self.filter.action.is_some() {
                    self.filter.action = None;
                } else {
                    let action = match self.focus {
                        Focus::Findings => self
                            .selected_finding()
                            .and_then(|f| f.finding.action.as_deref().map(Arc::from)),
                        _ => self.selected_frame().and_then(|f| f.action.cloned()),
                    };
                    self.filter.action = action;
                }
            }
            Action::CycleSeverity => {
                self.filter.min_severity = match self.filter.min_severity {
                    None => Some(Severity::Info),
                    Some(Severity::Info) => Some(Severity::Warning),
                    Some(Severity::Warning) => Some(Severity::Error),
                    Some(Severity::Error) => None,
                };
            }
            Action::ClearFilters => {
                self.filter = Filter::default();
                self.message = None;
            }
            Action::Partner => {
                match self.selected_frame().map(|f| (f.partner, f.seq)) {
                    Some((Some(p), _)) if self.row(p).is_some() => {
                        self.select_frame(p);
                        self.detail_scroll = 0;
                        // The partner may be filtered out: show it anyway.
                        if !self.visible_frames().iter().any(|&i| self.seq_at(i) == p) {
                            self.filter = Filter::default();
                        }
                    }
                    Some((Some(_), _)) => {
                        self.message = Some("its partner has left the view".into());
                    }
                    _ => self.message = Some("this frame has no request/reply partner".into()),
                }
            }
            Action::NextProblem | Action::PrevProblem => {
                let v = self.visible_frames();
                if let Some(i) = self.selected_frame_index(&v) {
                    let found = if action == Action::NextProblem {
                        v[i + 1..]
                            .iter()
                            .find(|&&p| self.rows.worst_at(p).is_some())
                    } else {
                        v[..i]
                            .iter()
                            .rev()
                            .find(|&&p| self.rows.worst_at(p).is_some())
                    };
                    match found {
                        Some(&p) => {
                            self.select_frame(self.seq_at(p));
                            self.detail_scroll = 0;
                        }
                        None => self.message = Some("no further frame with a finding".into()),
                    }
                }
            }
        }
        None
    }

    /// The export prompt: typing, then Enter (export) or Esc (back where it was).
    fn apply_export(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::SearchChar(c) => self.export_input.push(c),
            Action::SearchBackspace => {
                self.export_input.pop();
            }
            Action::SearchCancel => self.mode = self.export_from,
            Action::SearchSubmit => {
                if self.export_input.trim().is_empty() {
                    self.message = Some("type a file name".into());
                    return None;
                }
                self.mode = self.export_from;
                return Some(Effect::Export {
                    frame_only: self.export_from == Mode::Detail,
                });
            }
            _ => {}
        }
        None
    }

    fn enter(&mut self) {
        match (self.mode, self.focus) {
            (Mode::Detail | Mode::Help | Mode::Stats, _) => self.mode = Mode::Normal,
            (Mode::Search | Mode::Export | Mode::Act, _) => {}
            (Mode::Normal, Focus::Conns) => {
                let name = self.conns.get(self.conn_sel).map(|c| c.name.clone());
                self.filter.conn = if self.filter.conn == name { None } else { name };
            }
            (Mode::Normal, Focus::Cases) => {
                let name = self.selected_case().map(|r| r.station.clone());
                self.filter.conn = if self.filter.conn == name { None } else { name };
            }
            (Mode::Normal, Focus::Frames) => {
                if let Some(f) = self.selected_frame() {
                    // Pin the selection so new frames do not move the detail away.
                    let seq = f.seq;
                    self.select_frame(seq);
                    self.detail_scroll = 0;
                    self.mode = Mode::Detail;
                }
            }
            (Mode::Normal, Focus::Findings) => {
                let Some(r) = self.selected_finding() else {
                    return;
                };
                match r.frame {
                    Some(seq) if self.row(seq).is_some() => {
                        self.select_frame(seq);
                        self.focus = Focus::Frames;
                        if !self.visible_frames().iter().any(|&i| self.seq_at(i) == seq) {
                            self.filter.text.clear();
                            self.filter.action = None;
                            self.filter.min_severity = None;
                        }
                    }
                    Some(_) => self.message = Some("that frame has left the view".into()),
                    None => {
                        self.message =
                            Some("this finding is about the connection, not one frame".into());
                    }
                }
            }
        }
    }

    fn nothing_shown(&self) -> Option<String> {
        (self.visible_frames().is_empty() && self.visible_findings().is_empty())
            .then(|| format!("nothing matches `{}`", self.filter.text))
    }
}
