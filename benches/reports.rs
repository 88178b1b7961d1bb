//! A one-year service-hours report over a seeded history, measured beside the bare SQL that
//! reads every ticket's row in the same run (one connection, rows loaded and counted). First
//! the worker's pass keeps every ended day's resolved tickets as measured rows
//! (`reports::keep`), as a running Keydesk has; the report is then timed as the app runs it
//! (two connections), on one connection, and measuring every ticket as before days were kept
//! (and as the tickets' CSV still reads), which must give the same figures. Goal: the year's
//! report within 1 s, and the report page (its default range, and this quarter) within 200 ms.
//!
//! Run with `cargo bench --bench reports` (SQLite; PostgreSQL too when
//! KEYDESK_TEST_POSTGRES_URL or the default local server answers). The size is
//! KEYDESK_BENCH_TICKETS (default 1,000,000 tickets over 365 days). The seeded databases are
//! kept under `target/bench-data/` and in PostgreSQL as `keydesk_reports_<n>` (not
//! `keydesk_bench_…`, which the other benches drop), and reused while they hold the tickets
//! asked for: seeding a million takes minutes. Set
//! KEYDESK_BENCH_RESEED=1 to start again, KEYDESK_BENCH_BACKENDS=sqlite or postgres for one.

mod common;

use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use common::median;
use diesel::{Connection, PgConnection, RunQueryDsl};
use keydesk::db::{self, DatabaseUrl, DbConnection};
use keydesk::demo::{self, DemoOptions};
use keydesk::reports::view::{self, ReportRequest};
use keydesk::reports::{keep, Reading};
use keydesk::store::reports as reads;
use keydesk_core::reports::{kinds_counted, Audience, Preset, ReportWindow, SlaTargets};
use keydesk_core::{BusinessCalendar, WorkingHoursConfig};

const RUNS: usize = 5;
const DAYS: u32 = 365;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn tickets_wanted() -> usize {
    std::env::var("KEYDESK_BENCH_TICKETS").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(1_000_000)
}

fn ticket_count(conn: &mut DbConnection) -> i64 {
    use diesel::dsl::count_star;
    use diesel::QueryDsl;
    keydesk::db::schema::tickets::table.select(count_star()).first(conn).unwrap_or(0)
}

/// The bare read: the report's own statements on one connection, rows loaded and counted,
/// nothing computed.
fn bare_read(conn: &mut DbConnection, window: &ReportWindow) -> usize {
    let verbose = std::env::var("KEYDESK_BENCH_VERBOSE").is_ok();
    let mut lap = Instant::now();
    let mut step = |what: &str| {
        if verbose {
            eprintln!("    {what}: {}", ms(lap.elapsed()));
        }
        lap = Instant::now();
    };
    let received = reads::tickets_received(conn, window.start, window.end, None, Ok).unwrap();
    step("tickets received, with their stored history");
    let older = reads::tickets_open_during(conn, window.start, None).unwrap();
    step("older tickets open in the range");
    let unlocks = reads::unlocks_by_source(conn, window.start, window.as_of, None, None).unwrap();
    step("unlocks");
    received.len() + older.len() + usize::from(unlocks.support > 0)
}

/// The history rows the report no longer reads, read as the report read them before each
/// ticket kept its own (one statement, rows loaded and counted): what the stored history
/// saves.
fn history_rows_read(conn: &mut DbConnection, window: &ReportWindow) -> usize {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    let kinds: Vec<String> = kinds_counted().iter().map(|kind| format!("'{}'", kind.as_str())).collect();
    let sql = format!(
        "SELECT e.ticket_id, e.kind, e.actor_id, e.id FROM ticket_events e WHERE e.kind IN ({}) AND e.at >= ",
        kinds.join(", ")
    );
    let rows: Vec<(i64, String, Option<i64>, i64)> = match conn {
        DbConnection::Postgres(c) => diesel::dsl::sql::<(BigInt, Text, Nullable<BigInt>, BigInt)>(&sql)
            .bind::<Timestamp, _>(window.start.naive_utc())
            .sql(" AND e.at < ")
            .bind::<Timestamp, _>(window.as_of.naive_utc())
            .load(c),
        DbConnection::Sqlite(c) => diesel::dsl::sql::<(BigInt, Text, Nullable<BigInt>, BigInt)>(&sql)
            .bind::<Timestamp, _>(window.start.naive_utc())
            .sql(" AND e.at < ")
            .bind::<Timestamp, _>(window.as_of.naive_utc())
            .load(c),
    }
    .unwrap();
    rows.len()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn run(label: &str, url: &str) {
    let wanted = tickets_wanted();
    let pool = db::connect(&DatabaseUrl::parse(url), 2).expect("database");
    let mut conn = pool.get().expect("connection");
    let mut second = pool.get().expect("a second connection");
    db::migrate(&mut conn).expect("migrations");
    let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
    let now = Utc::now();
    let have = ticket_count(&mut conn);
    if have < wanted as i64 {
        let started = Instant::now();
        let mut last = Instant::now();
        let options = DemoOptions { tickets: wanted - have as usize, days: DAYS, seed: 7, now };
        let summary = demo::seed_with_progress(&mut conn, &calendar, &options, &mut |done, total| {
            if last.elapsed() > Duration::from_secs(15) {
                eprintln!("  {label}: seeded {done} of {total}");
                last = Instant::now();
            }
        })
        .expect("seed");
        println!(
            "{label}: seeded {} tickets ({} history rows) in {:.0} s",
            summary.tickets,
            summary.ticket_events,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("{label}: reusing {have} seeded tickets");
    }
    // Fresh statistics, and (PostgreSQL) a visibility map, so plans are the ones a
    // maintained database gets.
    let maintenance = match &mut *conn {
        DbConnection::Postgres(_) => "VACUUM ANALYZE",
        DbConnection::Sqlite(_) => "ANALYZE",
    };
    diesel::sql_query(maintenance).execute(&mut *conn).expect("analyze");

    // The worker's hourly pass: every ended day's resolved tickets kept as measured rows.
    let targets = SlaTargets { first_response_seconds: 3600, unlock_seconds: 4 * 3600 };
    let started = Instant::now();
    let kept = keep::keep_ended_days(&mut conn, &calendar, targets, now).expect("keep");
    let first_pass = started.elapsed();
    let started = Instant::now();
    let again = keep::keep_ended_days(&mut conn, &calendar, targets, now).expect("keep");
    println!(
        "{label}: the worker kept {kept} ended days' rows in {} (a pass with nothing new: {}, {again} kept)",
        ms(first_pass),
        ms(started.elapsed())
    );

    let today = calendar.local_date(now);
    let request = ReportRequest {
        from: Some((today - Days::days(i64::from(DAYS) - 1)).to_string()),
        to: Some(today.to_string()),
        org: None,
        agent: None,
    };
    let window = ReportWindow::new(&calendar, today - Days::days(i64::from(DAYS) - 1), today, now).unwrap();
    let (everything, figures, each) = (Audience::Everything, Reading::Figures, Reading::EveryTicket);
    let (mut reads_taken, mut reports_taken, mut one_connection_taken) = (Vec::new(), Vec::new(), Vec::new());
    let mut every_ticket_taken = Vec::new();
    let (mut rows, mut received) = (0, 0);
    for _ in 0..RUNS {
        let started = Instant::now();
        rows = bare_read(&mut conn, &window);
        reads_taken.push(started.elapsed());
        let started = Instant::now();
        let report = view::report(&mut conn, Some(&mut second), &calendar, targets, everything, &request, now, figures)
            .expect("report");
        reports_taken.push(started.elapsed());
        received = report.summary.received;
        let kept_figures = report.summary.clone();
        drop(report);
        let started = Instant::now();
        let report = view::report(&mut conn, Some(&mut second), &calendar, targets, everything, &request, now, each)
            .expect("report");
        every_ticket_taken.push(started.elapsed());
        assert_eq!(report.summary, kept_figures, "kept rows give the figures measuring every ticket gives");
        drop(report);
        let started = Instant::now();
        let input = keydesk::reports::load(&mut conn, None, &calendar, targets, window, Default::default(), figures)
            .expect("load");
        let loaded = started.elapsed();
        let summary = keydesk_core::reports::build(&input);
        one_connection_taken.push(started.elapsed());
        if std::env::var("KEYDESK_BENCH_VERBOSE").is_ok() {
            let lap = Instant::now();
            let rules = keydesk_core::reports::rules_key(&calendar, targets);
            let (start, end, as_of) = (window.start.naive_utc(), window.end.naive_utc(), window.as_of.naive_utc());
            let days = keydesk::store::report_days::usable(&mut conn, start, end, &rules, as_of).expect("kept");
            let read = lap.elapsed();
            let tickets: usize =
                days.iter().map(|day| keydesk_core::reports::decode_settled(&day.settled).unwrap().len()).sum();
            eprintln!("    the kept days: read {}, decoded {} ({tickets} tickets)", ms(read), ms(lap.elapsed() - read));
            eprintln!(
                "    one connection: loaded in {}, built in {} ({} tickets)",
                ms(loaded),
                ms(started.elapsed() - loaded),
                summary.received
            );
        }
    }
    let (read, report, one_connection) = (median(reads_taken), median(reports_taken), median(one_connection_taken));
    let every_ticket = median(every_ticket_taken);
    println!(
        "{label}: one-year report over {received} tickets ({rows} rows read): report {} (two connections; {} on one) · bare read {} · ratio {:.2}× ({:.2}× on one) · peak RSS {:.0} MiB (median of {RUNS})",
        ms(report),
        ms(one_connection),
        ms(read),
        report.as_secs_f64() / read.as_secs_f64(),
        one_connection.as_secs_f64() / read.as_secs_f64(),
        peak_rss_mib(),
    );
    println!(
        "{label}: the same report measuring every ticket (no kept rows, as the tickets' CSV reads): {}",
        ms(every_ticket)
    );
    println!(
        "{label}: goal: the year's report under 1 s: {}",
        if report < Duration::from_secs(1) { "met" } else { "NOT met" }
    );

    // The report page as a manager opens it (its default range, the last 30 days), and its
    // longest preset, this quarter: each a page, held to 200 ms.
    let presets = [("the report page's default (last 30 days)", None), ("this quarter", Some(Preset::ThisQuarter))];
    for (what, preset) in presets {
        let page = match preset {
            None => ReportRequest { from: None, to: None, ..request.clone() },
            Some(preset) => {
                let (from, to) = preset.dates(today);
                ReportRequest { from: Some(from.to_string()), to: Some(to.to_string()), ..request.clone() }
            }
        };
        let times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                view::report(&mut conn, Some(&mut second), &calendar, targets, everything, &page, now, figures)
                    .expect("report");
                started.elapsed()
            })
            .collect();
        let taken = median(times);
        if std::env::var("KEYDESK_BENCH_VERBOSE").is_ok() {
            let (from, to) = view::dates(&page, today).unwrap();
            let window = ReportWindow::new(&calendar, from, to, now).unwrap();
            bare_read(&mut conn, &window);
            let lap = Instant::now();
            let kept = keep::usable(&mut conn, &calendar, targets, &window, None).expect("kept");
            eprintln!("    the kept days read back: {} ({} tickets)", ms(lap.elapsed()), kept.settled.len());
        }
        println!(
            "{label}: {what}: {} (goal: a page under 200 ms: {})",
            ms(taken),
            if taken < Duration::from_millis(200) { "met" } else { "NOT met" }
        );
    }

    let started = Instant::now();
    let history_rows = history_rows_read(&mut conn, &window);
    println!(
        "{label}: for comparison, the year's {history_rows} counted history rows, read alone as reports did before each ticket kept its own: {}",
        ms(started.elapsed())
    );
    if std::env::var("KEYDESK_BENCH_REBUILD").is_ok() {
        let started = Instant::now();
        let rewritten = keydesk::store::report_history::rebuild(&mut conn, &mut |_, _| {}).expect("rebuild");
        println!("{label}: `keydesk reports rebuild` rewrote {rewritten} tickets in {}", ms(started.elapsed()));
    }
}

fn admin_url() -> String {
    std::env::var("KEYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_url(tickets: usize) -> Option<String> {
    let admin = admin_url();
    let mut conn = PgConnection::establish(&admin).ok()?;
    let name = format!("keydesk_reports_{tickets}");
    if std::env::var("KEYDESK_BENCH_RESEED").is_ok() {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).ok()?;
    }
    let _ = diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn);
    Some(format!("{}/{name}", admin.rsplit_once('/')?.0))
}

fn main() {
    let tickets = tickets_wanted();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = dir.join(format!("reports-{tickets}.sqlite"));
    if std::env::var("KEYDESK_BENCH_RESEED").is_ok() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
        }
    }
    // KEYDESK_BENCH_BACKENDS=sqlite (or postgres) measures one alone.
    let only = std::env::var("KEYDESK_BENCH_BACKENDS").unwrap_or_default();
    if only.is_empty() || only.contains("sqlite") {
        run("SQLite", &sqlite.display().to_string());
    }
    if !(only.is_empty() || only.contains("postgres")) {
        return;
    }
    match postgres_url(tickets) {
        Some(url) => run("PostgreSQL", &url),
        None => println!("PostgreSQL: skipped (no server at {})", admin_url()),
    }
}
