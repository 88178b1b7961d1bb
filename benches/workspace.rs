//! The agent's workspace over a million-ticket demo history, measured through the app as an
//! agent uses it (a signed-in session, Rocket's local client, the real routes and
//! templates): the queue's first page (`GET /queue`: unresolved tickets by next step), a
//! search by a seeded user's email, a search by a word some requests use, and a ticket page.
//! Goal: each within 200 ms at the median. Prints the median and 95th percentile of each
//! beside that floor, one table per backend.
//!
//! Run with `cargo bench --bench workspace` (SQLite; PostgreSQL too when
//! KEYDESK_TEST_POSTGRES_URL or the default local server answers). The size is
//! KEYDESK_BENCH_TICKETS (default 1,000,000 tickets over 365 days, seeded with `keydesk demo
//! seed`'s history: most resolved, a few thousand still open). Seeding a million through the
//! search triggers takes many minutes, so each backend's database is built once and kept:
//! SQLite as `/var/cache/keydesk-bench/workspace-<n>.sqlite` (KEYDESK_BENCH_CACHE moves the
//! directory), PostgreSQL as the database `keydesk_workspace_<n>` (not `keydesk_bench_…`,
//! which the other benches drop when they end). Migrations added since are applied to the
//! kept copy. Set KEYDESK_BENCH_RESEED=1 to build them again (after a change to the demo
//! history), KEYDESK_BENCH_BACKENDS=sqlite or postgres for one.

mod common;

use common::{admin_url, csrf_token, median, quiet_figment, statements};
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use keydesk::app::Services;
use keydesk::db::{self, DatabaseUrl, DbConnection};
use keydesk::demo::{self, roster::Roster, DemoOptions};
use keydesk_core::{BusinessCalendar, WorkingHoursConfig};
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DAYS: u32 = 365;
const PASSWORD: &str = "workspace bench passphrase";
const WARM_UP: usize = 2;
const SAMPLES: usize = 25;
const FLOOR: Duration = Duration::from_millis(200);
/// A word in one of the demo's issue lines ("…cannot log in to the booking system"): in
/// some requests' descriptions, not in most.
const WORD: &str = "booking";

fn tickets_wanted() -> usize {
    std::env::var("KEYDESK_BENCH_TICKETS").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(1_000_000)
}

fn reseed() -> bool {
    std::env::var("KEYDESK_BENCH_RESEED").is_ok()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The sample at or below which `fraction` of them lie (nearest rank).
fn percentile(samples: &[Duration], fraction: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Picked {
    #[diesel(sql_type = Text)]
    email: String,
}

fn count(conn: &mut DbConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).map(|c| c.n).unwrap_or(0)
}

/// Seeds the demo history unless the kept database already holds it; the seeding time, if any.
fn ensure_seeded(label: &str, url: &str) -> Option<Duration> {
    let wanted = tickets_wanted();
    let pool = db::connect(&DatabaseUrl::parse(url), 1).expect("database");
    let mut conn = pool.get().expect("connection");
    let have = count(&mut conn, "SELECT count(*) AS n FROM tickets");
    if have >= wanted as i64 {
        println!("{label}: reusing the {have} tickets seeded earlier");
        return None;
    }
    assert_eq!(have, 0, "{label}: a partly seeded database; run again with KEYDESK_BENCH_RESEED=1");
    let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
    let options = DemoOptions { tickets: wanted, days: DAYS, seed: 11, now: chrono::Utc::now() };
    let started = Instant::now();
    let mut last = Instant::now();
    let summary = demo::seed_with_progress(&mut conn, &calendar, &options, &mut |done, total| {
        if last.elapsed() > Duration::from_secs(30) {
            eprintln!("  {label}: seeded {done} of {total} ({:.0?})", started.elapsed());
            last = Instant::now();
        }
    })
    .expect("seed");
    // Fresh statistics, and (PostgreSQL) a visibility map, as a maintained database has.
    let maintenance = match &mut *conn {
        DbConnection::Postgres(_) => "VACUUM ANALYZE",
        DbConnection::Sqlite(_) => "ANALYZE",
    };
    diesel::sql_query(maintenance).execute(&mut *conn).expect("analyze");
    let took = started.elapsed();
    println!(
        "{label}: seeded {} tickets ({} history rows, {} still open) in {:.0} s",
        summary.tickets,
        summary.ticket_events,
        summary.still_open,
        took.as_secs_f64()
    );
    Some(took)
}

/// A ticket to open (the oldest unresolved: the first an agent sorting by age opens) and the
/// email of the seeded user with the most tickets (whose search finds the most).
fn pick(conn: &mut DbConnection) -> (i64, String) {
    let ticket = count(
        conn,
        "SELECT id AS n FROM tickets WHERE status IN ('new', 'open', 'waiting_on_user') ORDER BY received_at, id LIMIT 1",
    );
    let person: Picked = diesel::sql_query(
        "SELECT u.email AS email FROM users u JOIN \
         (SELECT account_user_id, count(*) AS n FROM tickets WHERE account_user_id IS NOT NULL \
          GROUP BY account_user_id ORDER BY n DESC LIMIT 1) busiest ON busiest.account_user_id = u.id",
    )
    .get_result(conn)
    .expect("a seeded user with tickets");
    (ticket, person.email)
}

struct Measured {
    what: String,
    median: Duration,
    p95: Duration,
    note: String,
}

async fn run(label: &str, url: &str) {
    let seeding = ensure_seeded(label, url);
    let dir = tempfile::tempdir().unwrap();
    let client = Client::tracked(keydesk::build(quiet_figment(url, dir.path(), 4)).expect("keydesk builds"))
        .await
        .expect("rocket");
    let services = client.rocket().state::<Services>().unwrap().clone();
    let hash = services.passwords.hash(PASSWORD);
    let (ticket, email) = services
        .run(move |conn, services| {
            demo::set_password(conn, &hash, services.stored_now()).map_err(|e| match e {
                demo::DemoError::Database(e) => e.into(),
                other => keydesk::app::AppError::Invalid(other.to_string()),
            })?;
            Ok(pick(conn))
        })
        .await
        .expect("setup");
    let roster = Roster::for_tickets(tickets_wanted());
    let agent = &roster.staff[roster.agents().next().expect("an agent")].email;
    let unresolved = services
        .run(|conn, _| {
            Ok(count(conn, "SELECT count(*) AS n FROM tickets WHERE status IN ('new', 'open', 'waiting_on_user')"))
        })
        .await
        .unwrap();

    let token = csrf_token(&client).await;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf_token", token.as_str()), ("email", agent), ("password", PASSWORD)])
        .finish();
    let response = client.post("/login").header(ContentType::Form).body(form).dispatch().await;
    assert_eq!(response.status(), Status::SeeOther, "{label}: the agent {agent} signs in");

    let query =
        |q: &str| format!("/queue?q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>());
    let requests = [
        ("GET /queue (first page, by next step)".to_owned(), "/queue".to_owned()),
        (format!("GET /queue?q={email}"), query(&email)),
        (format!("GET /queue?q={WORD}"), query(WORD)),
        (format!("GET /tickets/{ticket}"), format!("/tickets/{ticket}")),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(SAMPLES); requests.len()];
    let mut notes = vec![String::new(); requests.len()];
    // Interleaved, so that drift in the machine's speed hits every request alike.
    for round in 0..WARM_UP + SAMPLES {
        for (i, (_, path)) in requests.iter().enumerate() {
            let started = Instant::now();
            let response = client.get(path.as_str()).dispatch().await;
            let status = response.status();
            let body = response.into_string().await.unwrap_or_default();
            let took = started.elapsed();
            assert_eq!(status, Status::Ok, "{label}: {path}");
            if round >= WARM_UP {
                samples[i].push(took);
            }
            if round == 0 {
                notes[i] = describe(path, &body);
            }
        }
    }
    let measured: Vec<Measured> = requests
        .iter()
        .zip(samples)
        .zip(notes)
        .map(|(((what, _), taken), note)| Measured {
            what: what.clone(),
            p95: percentile(&taken, 0.95),
            median: median(taken),
            note,
        })
        .collect();
    print_table(label, &measured, unresolved, seeding);
    if std::env::var("KEYDESK_BENCH_EXPLAIN").is_ok() {
        // Every statement the queue's first page runs, with its time.
        statements::start();
        let started = Instant::now();
        client.get("/queue").dispatch().await.into_string().await;
        statements::print("GET /queue", &statements::stop(), started.elapsed());
        explain(label, url, &email);
    }
}

/// What the page showed: how many tickets matched and how many rows, for the queue's pages.
fn describe(path: &str, body: &str) -> String {
    if !path.starts_with("/queue") {
        return String::new();
    }
    let rows = body.matches("aria-label=\"Ticket ").count();
    let matched = body
        .split_once("class=\"queue-count\"")
        .and_then(|(_, after)| after.split_once('>'))
        .and_then(|(_, text)| text.split_whitespace().next())
        .unwrap_or("?");
    format!("{matched} matched, {rows} rows shown")
}

fn print_table(label: &str, measured: &[Measured], unresolved: i64, seeding: Option<Duration>) {
    let tickets = tickets_wanted();
    let seeded =
        seeding.map_or("kept from an earlier run".to_owned(), |d| format!("seeded now in {:.0} s", d.as_secs_f64()));
    println!();
    println!(
        "{label}: {tickets} tickets ({unresolved} unresolved; {seeded}); {SAMPLES} samples each, signed in as an agent"
    );
    let width = measured.iter().map(|m| m.what.len()).max().unwrap_or(0).max(7);
    println!("  {:<width$}  {:>10}  {:>10}  {:>8}        page", "request", "median", "p95", "floor");
    for m in measured {
        let verdict = if m.median <= FLOOR { "ok" } else { "SLOW" };
        println!(
            "  {:<width$}  {:>10}  {:>10}  {:>8}  {:<4}  {}",
            m.what,
            ms(m.median),
            ms(m.p95),
            format!("{} ms", FLOOR.as_millis()),
            verdict,
            m.note
        );
    }
}

/// KEYDESK_BENCH_EXPLAIN=1: the plans of the queue's reads as `store::queue::tickets` writes
/// them (EXPLAIN QUERY PLAN and a timed run on SQLite, EXPLAIN ANALYZE on PostgreSQL), to
/// find out which read a slow page waits on. Not part of the timings.
fn explain(label: &str, url: &str, email: &str) {
    #[derive(QueryableByName)]
    struct SqlitePlan {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    #[derive(QueryableByName)]
    struct Listed {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    #[derive(QueryableByName)]
    struct PostgresPlan {
        #[diesel(sql_type = Text)]
        #[diesel(column_name = "QUERY PLAN")]
        line: String,
    }
    let pool = db::connect(&DatabaseUrl::parse(url), 1).expect("database");
    let mut conn = pool.get().expect("connection");
    let sqlite = matches!(&*conn, DbConnection::Sqlite(_));
    let columns = "tickets.id, tickets.status, tickets.received_at, tickets.subject, tickets.description";
    let search = |q: &str| match keydesk_core::tickets::TicketSearch::parse(q) {
        Some(keydesk_core::tickets::TicketSearch::Words(words)) if sqlite => format!(
            "tickets.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH '{}')",
            keydesk_core::tickets::TicketSearch::fts5_query(&words)
        ),
        Some(keydesk_core::tickets::TicketSearch::Words(words)) => format!(
            "tickets.search_words @@ to_tsquery('simple', '{}')",
            keydesk_core::tickets::TicketSearch::tsquery(&words)
        ),
        other => panic!("not a word search: {other:?}"),
    };
    let reads = [
        format!(
            "SELECT {columns} FROM tickets WHERE tickets.status IN ('new', 'open', 'waiting_on_user') \
             ORDER BY tickets.received_at, tickets.id"
        ),
        format!("SELECT {columns} FROM tickets WHERE {} ORDER BY tickets.id DESC LIMIT 2000", search(email)),
        format!("SELECT {columns} FROM tickets WHERE {} ORDER BY tickets.id DESC LIMIT 2000", search(WORD)),
    ];
    println!("{label}: plans of the queue's reads");
    for read in reads {
        println!("  {read}");
        if sqlite {
            let plan: Vec<SqlitePlan> =
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {read}")).load(&mut *conn).unwrap();
            for step in plan {
                println!("    {}", step.detail);
            }
            let started = Instant::now();
            let rows: Vec<Listed> = diesel::sql_query(&read).load(&mut *conn).unwrap();
            println!("    {} rows in {}", rows.len(), ms(started.elapsed()));
        } else {
            let plan: Vec<PostgresPlan> =
                diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {read}")).load(&mut *conn).unwrap();
            for step in plan {
                println!("    {}", step.line);
            }
        }
    }
}

fn cache_dir() -> PathBuf {
    std::env::var("KEYDESK_BENCH_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/var/cache/keydesk-bench"))
}

fn sqlite_url() -> String {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("the bench's cache directory");
    let file = dir.join(format!("workspace-{}.sqlite", tickets_wanted()));
    if reseed() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
    file.display().to_string()
}

fn postgres_url() -> Option<String> {
    let admin = admin_url();
    let mut conn = PgConnection::establish(&admin).ok()?;
    let name = format!("keydesk_workspace_{}", tickets_wanted());
    if reseed() {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).ok()?;
    }
    let _ = diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn);
    Some(format!("{}/{name}", admin.rsplit_once('/')?.0))
}

#[rocket::main]
async fn main() {
    statements::install();
    let only = std::env::var("KEYDESK_BENCH_BACKENDS").unwrap_or_default();
    if only.is_empty() || only.contains("sqlite") {
        run("SQLite", &sqlite_url()).await;
    }
    if only.is_empty() || only.contains("postgres") {
        match postgres_url() {
            Some(url) => run("PostgreSQL", &url).await,
            None => println!("PostgreSQL: skipped (no server at {})", admin_url()),
        }
    }
}
