//! Work a request starts and does not wait for (forgot-password's lookups and mail, so its
//! answer takes the same time whether or not the address has an account). Each piece runs on
//! its own task; `settled` waits until none is running, for tests and for a clean shutdown.

use rocket::tokio::sync::Notify;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Default)]
pub struct Background {
    running: AtomicUsize,
    idle: Notify,
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
            if tracker.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                tracker.idle.notify_waiters();
            }
        });
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
