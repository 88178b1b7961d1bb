//! What one request says to the database: every statement (BEGIN and COMMIT included, each
//! a round trip), its time from sending to the answer, and the statements prepared anew.
//! Installed for every connection opened after `install`; it records only between `start`
//! and `stop`, so untraced requests pay one atomic load per event.

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static RECORDING: AtomicBool = AtomicBool::new(false);
static TRACE: Mutex<Vec<Statement>> = Mutex::new(Vec::new());

#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL without its bound values.
    pub sql: String,
    pub took: Duration,
    /// Prepared for the first time on this connection (one more round trip on PostgreSQL).
    pub prepared: bool,
}

#[derive(Default)]
struct Tracer {
    started: Option<(String, Instant)>,
    prepared: bool,
}

impl Instrumentation for Tracer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if !RECORDING.load(Ordering::Relaxed) {
            return;
        }
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds:").next().unwrap_or_default().trim().to_owned();
                self.started = Some((sql, Instant::now()));
                self.prepared = false;
            }
            InstrumentationEvent::CacheQuery { .. } => self.prepared = true,
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((sql, at)) = self.started.take() {
                    let prepared = std::mem::take(&mut self.prepared);
                    TRACE.lock().unwrap().push(Statement { sql, took: at.elapsed(), prepared });
                }
            }
            _ => {}
        }
    }
}

/// Traces every connection opened from now on (call before the app builds its pool).
pub fn install() {
    set_default_instrumentation(|| Some(Box::new(Tracer::default()))).expect("instrumentation");
}

pub fn start() {
    TRACE.lock().unwrap().clear();
    RECORDING.store(true, Ordering::SeqCst);
}

pub fn stop() -> Vec<Statement> {
    RECORDING.store(false, Ordering::SeqCst);
    std::mem::take(&mut *TRACE.lock().unwrap())
}

/// One line per statement, shortened, then the totals.
pub fn print(label: &str, statements: &[Statement], request: Duration) {
    let total: Duration = statements.iter().map(|s| s.took).sum();
    let prepared = statements.iter().filter(|s| s.prepared).count();
    println!(
        "  {label}: {} statements (round trips), {} prepared anew, {:.2} ms in the database of a {:.2} ms request",
        statements.len(),
        prepared,
        total.as_secs_f64() * 1000.0,
        request.as_secs_f64() * 1000.0
    );
    for statement in statements {
        let mut sql: String = statement.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if sql.chars().count() > 96 {
            sql = sql.chars().take(93).chain("...".chars()).collect();
        }
        let prepared = if statement.prepared { " (prepared)" } else { "" };
        println!("    {:>7.3} ms  {sql}{prepared}", statement.took.as_secs_f64() * 1000.0);
    }
}
