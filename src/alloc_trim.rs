//! Hands the memory a thread's allocator heap keeps back, once per "trim epoch", when the
//! thread goes idle. It exists because mimalloc keeps per-thread heaps: a block freed by
//! another thread (a relay's message dropped on another tokio worker or on the inspection
//! thread) only goes back to its page's owner when the owner allocates in that size class
//! again or collects, and a page all of whose blocks were freed is kept "retired" by its
//! owner for a while in case it is needed again. A worker that went idle after a burst does
//! neither, so the pages stay resident for as long as it stays idle (issue #15: 30 stuck
//! relays left about 9 MiB that way). [`idle`] makes such a thread collect its own heap
//! (`mi_collect`), at most once per [`new_epoch`]; the proxy starts an epoch on the ticks
//! after large messages went through or a connection ended.
//!
//! This is the only module with `unsafe` code (the crate denies it elsewhere): one FFI call
//! with no pointer argument. Nothing else may call into the allocator this way; everything
//! else in the crate stays safe Rust. Nothing here allocates, blocks or reads a clock: the
//! hot path of [`idle`] is an atomic load and a thread-local compare.
#![allow(
    unsafe_code,
    reason = "the one FFI call into mimalloc, see the module's doc"
)]

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

/// The current trim epoch; 0: none started yet.
static EPOCH: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// The epoch this thread last trimmed in.
    static SEEN: Cell<u32> = const { Cell::new(0) };
}

/// Starts a trim epoch: every thread that calls [`idle`] after this trims once.
pub fn new_epoch() {
    // Never back to 0, which means "none yet".
    let _ = EPOCH.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |e| {
        Some(e.wrapping_add(1).max(1))
    });
}

/// Called by a thread about to go idle (a tokio worker parking, the inspection thread about
/// to block): the first call in each epoch hands its allocator heap's free memory back.
pub fn idle() {
    if SEEN.with(|seen| due(EPOCH.load(Ordering::Relaxed), seen)) {
        collect();
    }
}

/// Whether a thread that last trimmed in `seen` trims in epoch `now` (and `seen` becomes it).
fn due(now: u32, seen: &Cell<u32>) -> bool {
    now != 0 && seen.replace(now) != now
}

/// The calling thread's mimalloc heap: blocks other threads freed are taken back, pages left
/// with nothing in use (retired ones included) go back to the arena, and the arena's free
/// pages are returned to the system. When mimalloc is not the global allocator (the library's
/// tests), its heap on this thread was never set up and there is nothing to collect.
fn collect() {
    // SAFETY: `mi_collect` takes no pointer and touches only the calling thread's own heap
    // and mimalloc's internally synchronized arenas; it is documented as callable at any
    // time from any thread ("release outstanding resources").
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_trims_once_per_epoch() {
        let seen = Cell::new(0);
        assert!(!due(0, &seen), "no epoch started yet");
        assert!(due(1, &seen), "the first call in an epoch");
        assert!(!due(1, &seen), "and only once");
        assert!(due(2, &seen), "again in the next one");
        assert!(due(1, &seen), "any other epoch (the counter wraps)");
    }

    #[test]
    fn an_epoch_is_never_zero_and_idle_is_safe_without_mimalloc() {
        new_epoch();
        assert_ne!(EPOCH.load(Ordering::Relaxed), 0);
        // The library's tests run on the system allocator: mimalloc's heap on this thread
        // was never set up, and the collect returns at once.
        idle();
        idle();
    }
}
