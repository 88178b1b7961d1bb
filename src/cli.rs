//! The `keydesk` command line: serve, migrate, and the operator's set-up commands.

use crate::accounts::api_tokens;
use crate::accounts::passwords::Passwords;
use crate::accounts::users::{self, UserDetails};
use crate::config::Config;
use crate::demo::{self, DemoOptions};
use crate::store::{self, events::Actor};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use keydesk_core::{Role, UnlockPolicy};
use std::io::Read;

#[derive(Parser)]
#[command(name = "keydesk", version, about = "Gets locked-out users back into their accounts, quickly and safely.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web application (the default), with the background work unless --no-worker.
    Serve {
        /// Serve the web pages only; a `keydesk worker` does the background work.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run the background work alone — the outbox, mail intake, the SLA watch — without the
    /// web server. Any number may run against one database.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Organisations.
    Org {
        #[command(subcommand)]
        action: OrgAction,
    },
    /// Users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// API tokens for support staff.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Mail intake.
    Intake {
        #[command(subcommand)]
        action: IntakeAction,
    },
    /// Copy a live SQLite database into a new file (PostgreSQL: use pg_dump).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Check the configuration against the database, the mail servers, the clock and the
    /// files, one line each (OK, WARN or FAIL); exits non-zero when a check fails.
    Doctor,
    /// Retention of old activity and raw mail (`[retention]`).
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Service-hours reports.
    Reports {
        #[command(subcommand)]
        action: ReportsAction,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
}

#[derive(Subcommand)]
pub enum DemoAction {
    /// Fill the database with a realistic support history: organisations and their people,
    /// the desk's manager and agents, and tickets with their history. Run it again to add more.
    Seed {
        /// How many tickets to make.
        #[arg(long)]
        tickets: usize,
        /// How many days of history, ending now.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// The same seed gives the same history (for the same moment).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Read the demo users' shared password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum ReportsAction {
    /// Rewrite every ticket's stored report history from its history rows. The database
    /// keeps it as history is recorded; run this after restoring or editing history by hand.
    /// Safe while Keydesk runs. Every kept day is forgotten and kept again by the worker.
    Rebuild,
    /// Keep every ended day's resolved tickets as measured rows now, so long reports fold
    /// them instead of measuring each ticket. The worker does this every hour; run it after
    /// changing `[working_hours]` or `[sla]` for fast long reports at once. Safe while
    /// Keydesk runs.
    Keep,
}

#[derive(Subcommand)]
pub enum RetentionAction {
    /// Apply it now (the server applies it at start and daily) and print what it did.
    Apply,
}

#[derive(Subcommand)]
pub enum IntakeAction {
    /// Take in what the configured source holds now, once, and print a summary.
    Once,
}

#[derive(Subcommand)]
pub enum OrgAction {
    /// Create an organisation.
    Create {
        #[arg(long)]
        name: String,
        /// Short identifier: lower-case letters, digits and dashes.
        #[arg(long)]
        slug: String,
        /// Who may unlock the organisation's users: `admins`, or `owner_pin` (the owner, with an emailed PIN).
        #[arg(long, default_value = "admins", value_parser = parse_policy)]
        unlock_policy: UnlockPolicy,
    },
}

#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user. The password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// member, admin or owner (with --org); agent, manager or operator (support staff).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organisation's slug, for member, admin and owner.
        #[arg(long)]
        org: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum TokenAction {
    /// Print a new API token for a staff user; only its hash is stored. It works while the
    /// user is unlocked and keeps the role it was issued for.
    Create {
        #[arg(long)]
        email: String,
        /// Stop working after this long, e.g. `90d`, `12h` (default: no expiry).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
    /// List a staff user's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke a token by the id `token list` shows.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse().map_err(|e: keydesk_core::roles::UnknownRole| e.to_string())
}

fn parse_policy(value: &str) -> Result<UnlockPolicy, String> {
    value.parse().map_err(|e: keydesk_core::roles::UnknownUnlockPolicy| e.to_string())
}

/// Runs an administrative command (everything but `serve`).
pub fn run_admin(command: Command, config: Config) -> anyhow::Result<()> {
    if let Command::Intake { action: IntakeAction::Once } = command {
        let services = crate::open_services(config).context("opening the database")?;
        let summary = rocket::tokio::runtime::Handle::current().block_on(crate::intake::worker::run_once(&services))?;
        println!("{summary}");
        return Ok(());
    }
    if let Command::Retention { action: RetentionAction::Apply } = command {
        let services = crate::open_services(config).context("opening the database")?;
        let run = rocket::tokio::runtime::Handle::current().block_on(crate::ops::retention::apply(&services))?;
        println!("Retention applied: {run}.");
        return Ok(());
    }
    if let Command::Reports { action: ReportsAction::Keep } = command {
        let services = crate::open_services(config).context("opening the database")?;
        let started = std::time::Instant::now();
        let kept = rocket::tokio::runtime::Handle::current().block_on(crate::reports::keep::apply(&services))?;
        println!("Kept the measured rows of {kept} ended days in {:.1} s.", started.elapsed().as_secs_f64());
        return Ok(());
    }
    if let Command::Demo { action: DemoAction::Seed { tickets, days, seed, password_stdin } } = command {
        let options = DemoOptions {
            tickets,
            days,
            seed,
            now: chrono::SubsecRound::trunc_subsecs(keydesk_core::Clock::now(&keydesk_core::SystemClock), 6),
        };
        return seed_demo(&options, password_stdin, config);
    }
    let url = crate::db::DatabaseUrl::parse(&config.database_url);
    if let Command::Backup { output } = command {
        let report = crate::ops::backup::backup(&url, &output)?;
        println!("Backed up into {} ({} bytes, integrity checked).", report.path.display(), report.bytes);
        return Ok(());
    }
    if let Command::Migrate = command {
        let pool = crate::db::connect(&url, 1).context("migrating the database")?;
        drop(pool);
        println!("Database is up to date.");
        return Ok(());
    }
    let pool = crate::db::connect(&url, 1).context("opening the database")?;
    let conn = &mut *pool.get()?;
    // The command line acts at the system's time; only the server's clock is injectable.
    let now = chrono::SubsecRound::trunc_subsecs(keydesk_core::Clock::now(&keydesk_core::SystemClock), 6).naive_utc();
    match command {
        Command::Serve { .. }
        | Command::Worker
        | Command::Migrate
        | Command::Intake { .. }
        | Command::Demo { .. }
        | Command::Backup { .. }
        | Command::Doctor
        | Command::Retention { .. }
        | Command::Reports { action: ReportsAction::Keep } => {
            unreachable!("handled above")
        }
        Command::Org { action: OrgAction::Create { name, slug, unlock_policy } } => {
            let org = users::create_organisation(conn, &name, &slug, unlock_policy, now)?;
            println!("Created organisation {} ({}), unlock policy {}.", org.name, org.slug, org.unlock_policy.as_str());
        }
        Command::User { action: UserAction::Create { email, name, role, org, password_stdin: _ } } => {
            let organisation = match &org {
                Some(slug) => Some(
                    store::orgs::find_by_slug(conn, slug)?
                        .with_context(|| format!("no organisation with slug {slug:?}"))?,
                ),
                None => None,
            };
            let hash = Passwords::new().hash(&password_from_stdin()?);
            let details = UserDetails { email: &email, full_name: &name, role, organisation: organisation.as_ref() };
            let user = users::create_user(conn, details, &hash, &Actor::System("keydesk user create"), None, now)?;
            println!("Created {} <{}> as {}.", user.full_name, user.email, user.role);
        }
        Command::Token { action: TokenAction::Create { email, expires_in } } => {
            let expires_at = expires_in.map(|d| now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX));
            let token = api_tokens::create(conn, &email, expires_at, &Actor::System("keydesk token create"), now)?;
            println!("{}", token.expose());
        }
        Command::Token { action: TokenAction::List { email } } => {
            let when = |at: chrono::NaiveDateTime| at.format("%Y-%m-%d %H:%M UTC").to_string();
            println!("id\tcreated\trole\texpires\trevoked");
            for token in api_tokens::list(conn, &email)? {
                let expires = token.expires_at.map_or("never".to_owned(), when);
                let revoked = token.revoked_at.map_or("-".to_owned(), when);
                println!("{}\t{}\t{}\t{expires}\t{revoked}", token.id, when(token.created_at), token.role);
            }
        }
        Command::Reports { action: ReportsAction::Rebuild } => {
            let started = std::time::Instant::now();
            let mut shown = std::time::Instant::now();
            let rewritten = store::report_history::rebuild(conn, &mut |done, total| {
                if shown.elapsed() > std::time::Duration::from_secs(5) {
                    eprintln!("  {done} of {total} ticket numbers");
                    shown = std::time::Instant::now();
                }
            })?;
            println!(
                "Rebuilt the stored report history of {rewritten} tickets in {:.1} s.",
                started.elapsed().as_secs_f64()
            );
        }
        Command::Token { action: TokenAction::Revoke { id } } => {
            match api_tokens::revoke(conn, id, &Actor::System("keydesk token revoke"), now)? {
                true => println!("Revoked token {id}."),
                false => println!("Token {id} was revoked already."),
            }
        }
    }
    Ok(())
}

/// `keydesk doctor`: prints every check, then how many of each; fails when one failed.
pub async fn doctor(figment: &rocket::figment::Figment) -> std::process::ExitCode {
    use crate::ops::doctor::Outcome;
    let checks = crate::ops::doctor::run(figment, keydesk_core::Clock::now(&keydesk_core::SystemClock)).await;
    for check in &checks {
        println!("{check}");
    }
    let count = |outcome| checks.iter().filter(|c| c.outcome == outcome).count();
    let (ok, warn, fail) = (count(Outcome::Ok), count(Outcome::Warn), count(Outcome::Fail));
    println!("keydesk doctor: {ok} OK, {warn} WARN, {fail} FAIL");
    if fail == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// A new password read from standard input (without its line ending), checked.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if let Err(problem) = keydesk_core::secret::check_new_password(password) {
        bail!("password: {problem}");
    }
    Ok(password.to_owned())
}

/// `keydesk demo seed`: the history, then one password for every demo user, hashed once.
fn seed_demo(options: &DemoOptions, password_stdin: bool, config: Config) -> anyhow::Result<()> {
    options.check()?;
    let password = if password_stdin { password_from_stdin()? } else { generated_password() };
    let calendar = config.calendar()?;
    let pool =
        crate::db::connect(&crate::db::DatabaseUrl::parse(&config.database_url), 1).context("opening the database")?;
    let conn = &mut *pool.get()?;
    let started = std::time::Instant::now();
    let mut next_report = options.tickets / 10;
    let summary = demo::seed_with_progress(conn, &calendar, options, &mut |written, planned| {
        // Large seeds take minutes: say how far along they are, about every tenth.
        if planned >= 50_000 && written >= next_report {
            eprintln!("keydesk: {written} of {planned} tickets written ({:.0?})", started.elapsed());
            next_report += planned / 10;
        }
    })?;
    demo::set_password(conn, &Passwords::new().hash(&password), options.now.naive_utc())?;
    println!("{summary}");
    println!("Sign in at {} ({}).", config.link("/login"), calendar.describe_hours());
    if password_stdin {
        println!("Every demo user's password is the one given on standard input.");
    } else {
        println!("Every demo user's password (shown only now): {password}");
    }
    println!("Took {:.1?}.", started.elapsed());
    Ok(())
}

/// Four groups of four letters and digits, none easily misread: about 79 bits.
fn generated_password() -> String {
    use rand::seq::SliceRandom;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> =
        (0..4).map(|_| (0..4).map(|_| char::from(*ALPHABET.choose(&mut rng).expect("alphabet"))).collect()).collect();
    groups.join("-")
}
