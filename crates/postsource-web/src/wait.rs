//! Waiting in the browser without leaking: one `setTimeout` per stream and a
//! future that finishes early when the stream is closed or a deadline passes.
//!
//! Each await in the connection loop (the `fetch` promise, a body read, a backoff
//! pause) is wrapped in [`Signal::until`]. `close()` does not need to reach into
//! any of those promises: it flips [`Signal`]'s flag and wakes the task, and the
//! abandoned promise settles later into a dropped `JsFuture`, whose handlers are
//! already attached (so an abort's rejection is never "unhandled"). Racing each
//! read against a shared "closed" promise instead would pile a reaction on that
//! promise per chunk for the life of the stream.
//!
//! Deadlines are absolute `performance.now()` times, as in quinn-proto: the one
//! timer is re-armed only when a deadline moves earlier; a timer that fires early
//! (the idle deadline moved later meanwhile) just wakes the task, which re-arms.

use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use alloc::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::js;

/// How a wait ended.
pub enum Outcome<T> {
    /// The awaited future finished.
    Done(T),
    /// The deadline passed first.
    Deadline,
    /// The stream was closed first.
    Closed,
}

/// The stream's closed flag, its task's waker and its single timer.
pub struct Signal {
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// When the pending `setTimeout` fires (`INFINITY`: none pending).
    armed_for: Cell<f64>,
    timer_id: Cell<f64>,
    callback: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Signal {
    /// A fresh signal with its timer callback (which holds only a weak reference).
    pub fn new() -> Rc<Signal> {
        let signal = Rc::new(Signal {
            closed: Cell::new(false),
            waker: RefCell::new(None),
            armed_for: Cell::new(f64::INFINITY),
            timer_id: Cell::new(0.0),
            callback: RefCell::new(None),
        });
        let weak = Rc::downgrade(&signal);
        let callback = Closure::<dyn FnMut()>::own_aborting(move || {
            if let Some(signal) = weak.upgrade() {
                signal.armed_for.set(f64::INFINITY);
                signal.wake();
            }
        });
        *signal.callback.borrow_mut() = Some(callback);
        signal
    }

    /// Mark closed, cancel the timer and wake the task so it returns.
    pub fn close(&self) {
        self.closed.set(true);
        if self.armed_for.get().is_finite() {
            js::clear_timeout(self.timer_id.get());
            self.armed_for.set(f64::INFINITY);
        }
        self.wake();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    fn wake(&self) {
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn arm(&self, deadline: f64, now: f64) {
        if !deadline.is_finite() || self.armed_for.get() <= deadline {
            return;
        }
        if self.armed_for.get().is_finite() {
            js::clear_timeout(self.timer_id.get());
        }
        let callback = self.callback.borrow();
        let Some(callback) = callback.as_ref() else {
            return;
        };
        let id = js::set_timeout(callback.as_ref().unchecked_ref(), (deadline - now).max(0.0));
        self.timer_id.set(id);
        self.armed_for.set(deadline);
    }

    /// Wait for `fut`, unless the stream closes or `deadline` (absolute ms) passes.
    pub fn until<F: Future + Unpin>(&self, deadline: f64, fut: F) -> Until<'_, F> {
        Until {
            signal: self,
            deadline,
            fut,
        }
    }
}

/// The future returned by [`Signal::until`].
pub struct Until<'a, F> {
    signal: &'a Signal,
    deadline: f64,
    fut: F,
}

impl<F: Future + Unpin> Future for Until<'_, F> {
    type Output = Outcome<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.signal.is_closed() {
            return Poll::Ready(Outcome::Closed);
        }
        if let Poll::Ready(value) = Pin::new(&mut self.fut).poll(cx) {
            return Poll::Ready(Outcome::Done(value));
        }
        let now = js::now();
        if now >= self.deadline {
            return Poll::Ready(Outcome::Deadline);
        }
        *self.signal.waker.borrow_mut() = Some(cx.waker().clone());
        self.signal.arm(self.deadline, now);
        Poll::Pending
    }
}
