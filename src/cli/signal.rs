//! How a live run is told to stop from outside the process: Ctrl-C, or SIGTERM on Unix.
//! A process concern, so it lives with the command line: the pipeline and the screen get a
//! stop flag or a future, never a signal handler of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Ctrl-C, or SIGTERM on Unix: how every live front end (proxy, test cases, the screen)
/// is told to stop.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A flag set when the process gets Ctrl-C (SIGINT) or SIGTERM from outside, so the screen's
/// loop ends and restores the terminal instead of dying with it in raw mode. (In raw mode a
/// Ctrl-C typed on the keyboard arrives as a key, which quits too.)
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                wait_for_signal().await;
                set.store(true, Ordering::SeqCst);
            });
        });
    drop(spawned);
    flag
}
