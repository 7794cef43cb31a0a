//! The real terminal: raw mode, the alternate screen and mouse capture on the way in, and
//! the way back out on every path: a normal return (the guard's `Drop`), a panic (a hook
//! that restores before the panic message is printed), and Ctrl-C or SIGTERM from outside
//! (the command line sets a flag the loop polls, so it ends and restores like a normal
//! quit; see `cli::signal`).
//!
//! It draws nothing and knows no app state.

use std::io::{self, Stdout};
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal in UI mode; restored when dropped.
pub struct Screen {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Takes the screen: raw mode, alternate screen, mouse capture, and the panic hook.
pub fn enter() -> io::Result<Screen> {
    install_panic_hook();
    enable_raw_mode()?;
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture) {
        restore();
        return Err(e);
    }
    match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(terminal) => Ok(Screen { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Gives the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
}

/// Gives the terminal back for a while (an editor runs in it); [`resume`] takes it again.
pub fn suspend() {
    restore();
}

/// Takes the terminal again after [`suspend`] (the caller draws the whole screen again).
pub fn resume() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
