//! The close handle: a flag and a waker shared with the stream, so `close()` from
//! any thread or task wakes the stream's task, which then ends with exactly one
//! `Closed(Aborted)` and drops its request, whatever phase it was in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// Closes an [`EventSource`](super::EventSource) from anywhere. Cheap to clone,
/// `Send + Sync`. See [`EventSource::close_handle`](super::EventSource::close_handle).
#[derive(Clone, Debug, Default)]
pub struct CloseHandle {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    closed: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl CloseHandle {
    /// End the stream: its next item is `Closed(Aborted)` (unless it has already
    /// ended), the request or connection is dropped at once, and nothing follows.
    /// Idempotent; never blocks on I/O.
    pub fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let waker = self
            .shared
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// `close()` has been called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    pub(super) fn register(&self, waker: &Waker) {
        let mut slot = self.shared.waker.lock().unwrap_or_else(|e| e.into_inner());
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}
