//! Work a request starts and does not wait for (forgot-password's lookups and mail, so its
//! answer takes the same time whether or not the address has an account), and work that must
//! not be cut off halfway (an email handed to the SMTP server and not yet recorded as sent:
//! cut off, it would be sent again). `settled` waits until none is running, for tests and for
//! a clean shutdown; `stop` tells the loops that pick up such work to pick up no more.

use rocket::tokio::sync::Notify;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Background {
    running: AtomicUsize,
    idle: Notify,
    stopping: AtomicBool,
}

/// Counts one piece of work as running until it is dropped (finished, or cancelled).
struct Running<'a>(&'a Background);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.finished_one();
    }
}

impl Background {
    /// Runs `work` on its own task; a failure is logged by the work itself.
    pub fn spawn(self: &Arc<Self>, work: impl Future<Output = ()> + Send + 'static) {
        self.running.fetch_add(1, Ordering::SeqCst);
        let tracker = self.clone();
        // Its log lines carry the id of the request that started it.
        let work = tracing::Instrument::in_current_span(work);
        rocket::tokio::spawn(async move {
            work.await;
            tracker.finished_one();
        });
    }

    /// Runs `work` in the caller's task, counted as running: a shutdown waits for it.
    pub async fn hold<T>(&self, work: impl Future<Output = T>) -> T {
        self.running.fetch_add(1, Ordering::SeqCst);
        let _running = Running(self);
        work.await
    }

    fn finished_one(&self) {
        if self.running.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// From now on the loops that pick up work (the outbox sender) pick up none; what runs
    /// finishes.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Returns once no background work is running.
    pub async fn settled(&self) {
        loop {
            let idle = self.idle.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}
