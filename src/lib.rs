//! Keydesk: gets locked-out users back into their accounts, quickly and safely.
//!
//! `build` assembles the Rocket application from a configuration; `main.rs` adds the
//! command line. Rules live in the `keydesk-core` crate; here are the adapters around them.

pub mod accounts;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod ids;
pub mod intake;
pub mod logs;
pub mod mail;
pub mod metrics;
pub mod queue;
pub mod reports;
pub mod store;
pub mod web;

use accounts::passwords::Passwords;
use app::Services;
use config::Config;
use keydesk_core::{Clock, SystemClock};
use mail::MailTemplates;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::tokio::sync::Notify;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;
use std::sync::Arc;
use web::telemetry::in_request_spans;

/// Everything that can stop Keydesk from starting, each naming what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("email templates: {0}")]
    Templates(#[from] tera::Error),
    #[error("secret key in {path}: {error}")]
    SecretKey { path: String, error: std::io::Error },
    #[error("mail transport: {0}")]
    Mail(#[from] mail::sender::SendError),
}

/// Rocket's figment with Keydesk's defaults under it: `Rocket.toml` (or `ROCKET_CONFIG`) and
/// `ROCKET_…` variables override them. It is Rocket's own (`rocket::Config::figment`) with one
/// default changed: `ip_header` is off. Rocket trusts `X-Real-IP` out of the box, which lets
/// any client choose the address the throttle counts and the activity log records; behind a
/// reverse proxy that sets it, turn it on (`ip_header = "X-Real-IP"`).
pub fn figment() -> Figment {
    use rocket::figment::providers::{Env, Format, Serialized, Toml};
    Figment::from(rocket::Config::default())
        .merge(Serialized::default("ip_header", false))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(rocket::figment::Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE))
}

/// The shared services, opened from a validated configuration (database migrated), on the
/// system clock.
pub fn open_services(config: Config) -> Result<Services, StartError> {
    open_services_with_clock(config, Arc::new(SystemClock))
}

/// As [`open_services`], with time from `clock` (tests set it).
pub fn open_services_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Services, StartError> {
    let calendar = Arc::new(config.calendar()?);
    let url = db::DatabaseUrl::parse(&config.database_url);
    let pool = db::connect(&url, config.database_pool_size)?;
    {
        let mut conn = pool.get().map_err(db::DbError::from)?;
        store::inbound::fill_header_columns(&mut conn).map_err(db::DbError::from)?;
    }
    let intake_rules = Arc::new(config.intake_rules());
    Ok(Services {
        db: db::Db::new(pool),
        intake_rules,
        config: Arc::new(config),
        mail: Arc::new(MailTemplates::load()?),
        passwords: Arc::new(Passwords::new()),
        outbox_wake: Arc::new(Notify::new()),
        calendar,
        clock,
        background: Arc::new(app::Background::default()),
        metrics: Arc::new(metrics::Metrics::new()),
    })
}

/// Builds the application: configuration checked, secret key in place, database migrated,
/// routes and the outbox sender attached.
pub fn build(figment: Figment) -> Result<Rocket<Build>, StartError> {
    build_with_clock(figment, Arc::new(SystemClock))
}

/// As [`build`], with time from `clock` (tests set it).
pub fn build_with_clock(figment: Figment, clock: Arc<dyn Clock>) -> Result<Rocket<Build>, StartError> {
    let config = Config::from_figment(&figment)?;
    let figment = ensure_secret_key(figment, &config)?;
    let services = open_services_with_clock(config.clone(), clock)?;
    announce_first_steps(&services)?;
    let transport = mail::sender::Transport::from_config(&config)?;
    let static_dir = figment.extract_inner::<String>("static_dir").unwrap_or_else(|_| "static".into());

    let sender_services = services.clone();
    let outbox_sender = AdHoc::on_liftoff("Outbox sender", move |_| {
        Box::pin(async move {
            if sender_services.config.mail.background_sender {
                let Services { db, config, outbox_wake, clock, .. } = sender_services;
                rocket::tokio::spawn(mail::sender::run_forever(db, (*config).clone(), clock, transport, outbox_wake));
            }
        })
    });

    let intake_services = services.clone();
    let intake_worker = AdHoc::on_liftoff("Mail intake", move |_| {
        Box::pin(async move {
            if intake_services.config.intake.background
                && intake_services.config.intake.source != config::IntakeSourceKind::Off
            {
                rocket::tokio::spawn(intake::worker::run_forever(intake_services));
            }
        })
    });

    let watch_services = services.clone();
    let sla_watch = AdHoc::on_liftoff("SLA watch", move |_| {
        Box::pin(async move {
            if watch_services.config.sla.background_checks {
                rocket::tokio::spawn(queue::sla_watch::run_forever(watch_services));
            }
        })
    });

    Ok(rocket::custom(figment)
        .manage(services)
        .attach(sla_watch)
        .attach(Template::fairing())
        .attach(outbox_sender)
        .attach(intake_worker)
        .attach(web::telemetry::Telemetry)
        .mount("/", in_request_spans(web::page_routes()))
        .mount("/api/v1", in_request_spans(web::api_routes()))
        .mount("/static", in_request_spans(FileServer::from(static_dir)))
        .register("/", web::page_catchers())
        .register("/api", web::api_catchers()))
}

/// On an empty database, tells the operator how to create the first people.
fn announce_first_steps(services: &Services) -> Result<(), StartError> {
    let mut conn = services.db.pool().get().map_err(db::DbError::from)?;
    if store::users::count(&mut conn).map_err(db::DbError::from)? == 0 {
        eprintln!(
            "keydesk: no users yet. Create the first organisation and its owner:\n  \
             keydesk org create --name \"Acme Clinic\" --slug acme\n  \
             echo 'a long passphrase' | keydesk user create --email owner@acme.test --name \"Olive Owner\" --role owner --org acme --password-stdin\n\
             (with cargo: cargo run --release -- org create ...)"
        );
    }
    Ok(())
}

/// Rocket needs a secret key for private cookies. Without a configured one, Keydesk makes
/// one on first start and keeps it in the data directory, so sessions survive restarts.
fn ensure_secret_key(figment: Figment, config: &Config) -> Result<Figment, StartError> {
    // Rocket's own defaults supply an all-zero key, which it refuses in release builds.
    let configured = figment.extract_inner::<rocket::config::SecretKey>("secret_key").is_ok_and(|key| !key.is_zero());
    if configured {
        return Ok(figment);
    }
    let path = config.data_dir.join("secret_key");
    let failed = |error| StartError::SecretKey { path: path.display().to_string(), error };
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key.trim().to_owned(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            use base64::Engine;
            let mut bytes = [0u8; 64];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let key = base64::engine::general_purpose::STANDARD.encode(bytes);
            std::fs::create_dir_all(&config.data_dir).map_err(failed)?;
            write_private(&path, &key).map_err(failed)?;
            // Rocket's logger is not up yet at this point: say it on standard error.
            eprintln!("keydesk: no secret_key configured: generated one and kept it in {}", path.display());
            key
        }
        Err(error) => return Err(failed(error)),
    };
    Ok(figment.merge(("secret_key", key)))
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
