//! The `keydesk` command line: serve, migrate, and the operator's set-up commands.

use crate::accounts::passwords::Passwords;
use crate::accounts::users::{self, UserDetails};
use crate::config::Config;
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
    /// Run the web application (the default).
    Serve,
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
    /// Print a new API token for a staff user; only its hash is stored.
    Create {
        #[arg(long)]
        email: String,
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
    let url = crate::db::DatabaseUrl::parse(&config.database_url);
    if let Command::Migrate = command {
        let pool = crate::db::connect(&url, 1).context("migrating the database")?;
        drop(pool);
        println!("Database is up to date.");
        return Ok(());
    }
    let pool = crate::db::connect(&url, 1).context("opening the database")?;
    let conn = &mut *pool.get()?;
    match command {
        Command::Serve | Command::Migrate | Command::Intake { .. } => unreachable!("handled above"),
        Command::Org { action: OrgAction::Create { name, slug, unlock_policy } } => {
            let org = users::create_organisation(conn, &name, &slug, unlock_policy)?;
            println!("Created organisation {} ({}), unlock policy {}.", org.name, org.slug, org.unlock_policy);
        }
        Command::User { action: UserAction::Create { email, name, role, org, password_stdin: _ } } => {
            let organisation = match &org {
                Some(slug) => Some(store::orgs::find_by_slug(conn, slug)?.with_context(|| format!("no organisation with slug {slug:?}"))?),
                None => None,
            };
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if let Err(problem) = keydesk_core::secret::check_new_password(password) {
                bail!("password: {problem}");
            }
            let hash = Passwords::new().hash(password);
            let details = UserDetails { email: &email, full_name: &name, role, organisation: organisation.as_ref() };
            let user = users::create_user(conn, details, &hash, &Actor::System("keydesk user create"), None)?;
            println!("Created {} <{}> as {}.", user.full_name, user.email, user.role);
        }
        Command::Token { action: TokenAction::Create { email } } => {
            let token = users::create_api_token(conn, &email)?;
            println!("{}", token.expose());
        }
    }
    Ok(())
}
