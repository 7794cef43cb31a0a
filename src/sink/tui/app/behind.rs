//! The frames before a live screen's window: a live screen keeps only its newest frames,
//! but when the run is recorded, moving up past its first row (↑, PgUp, `g`) asks the loop
//! for the recording ([`Effect::History`]), opened as `view` opens a trace (rows with byte
//! offsets, texts read back from the file, see [`super::super::store`]) and judged up to
//! the window. Esc on that screen asks to go back ([`Effect::CloseHistory`]). No I/O here.

use super::{Action, App, Effect, Focus, Mode};

impl App {
    /// The selection is on the window's first row, frames have left the window, and the
    /// recording has them.
    fn at_window_top(&self) -> bool {
        if !(self.live && self.recording_behind && self.totals.frames_out_of_view > 0) {
            return false;
        }
        let v = self.visible_frames();
        self.selected_frame_index(&v) == Some(0)
    }

    /// Up, PgUp or `g` on the window's first row of a live screen with a recording: the
    /// frames before it are asked for.
    pub(super) fn past_the_window(&mut self, action: Action) -> Option<Effect> {
        if !matches!(action, Action::Up | Action::PageUp | Action::Top)
            || self.mode != Mode::Normal
            || self.focus != Focus::Frames
            || !self.at_window_top()
        {
            return None;
        }
        self.message = None;
        Some(Effect::History {
            from_top: action == Action::Top,
        })
    }

    /// After a move: on the window's first row, say that more is in the recording.
    pub(super) fn note_window_top(&mut self) {
        if self.mode == Mode::Normal && self.focus == Focus::Frames && self.at_window_top() {
            self.message = Some(format!(
                "{} older frames are in the recording: ↑ or g reads them",
                self.totals.frames_out_of_view
            ));
        }
    }

    /// The line (in the recording) of the window's first frame: the recording is read up
    /// to it.
    pub fn window_first_line(&self) -> Option<u64> {
        self.frames().map(|f| f.line).find(|&l| l > 0)
    }

    /// This app shows the recording behind a live screen, opened at its end (`from_top`:
    /// at its start): Esc goes back to the live screen.
    pub fn show_as_behind(&mut self, from_top: bool) {
        self.behind_live = true;
        self.start_at_top();
        self.select_last_when_loaded = !from_top;
    }

    /// Once the recording is read: the last frame before the window, when asked.
    pub(super) fn on_loaded_behind(&mut self) {
        if std::mem::take(&mut self.select_last_when_loaded)
            && let Some(&p) = self.visible_frames().last()
        {
            self.select_frame(self.seq_at(p));
        }
    }
}
