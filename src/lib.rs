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
pub mod ops;
pub mod private_files;
pub mod queue;
pub mod reports;
pub mod store;
pub mod web;
pub mod workers;

use accounts::passwords::Passwords;
use accounts::verification::Verifiers;
use app::Services;
use config::Config;
use keydesk_core::{Clock, SystemClock};
use mail::MailTemplates;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::fs::FileServer;
use rocket::tokio::sync::Notify;
use rocket::{Build, Rocket};
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
    #[error("`{key}` {path}: {error}")]
    Directory { key: &'static str, path: String, error: std::io::Error },
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
    let passwords = Arc::new(Passwords::new());
    let verifiers = Arc::new(Verifiers::new(Arc::clone(&passwords), config.database_pool_size as usize));
    Ok(Services {
        db: db::Db::new(pool),
        intake_rules,
        config: Arc::new(config),
        mail: Arc::new(MailTemplates::load()?),
        passwords,
        outbox_wake: Arc::new(Notify::new()),
        calendar,
        clock,
        background: Arc::new(app::Background::default()),
        instance: instance_name().into(),
        metrics: Arc::new(metrics::Metrics::new()),
        throttled_addresses: Arc::default(),
        verifiers,
    })
}

/// This process's name among the others sharing the database: the host, the process id and
/// a random part (a restarted process with a reused pid is still someone new).
fn instance_name() -> String {
    let host = hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

/// Builds the application: configuration checked, secret key in place, database migrated,
/// routes and the background work (`workers`, unless `worker = false`) attached.
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
    let template_dir = config.template_override_dir();
    if config.template_dir.is_some() && !template_dir.is_dir() {
        let error = std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory");
        return Err(StartError::Directory { key: "template_dir", path: template_dir.display().to_string(), error });
    }
    let engine_root = web::assets::engine_root(&config).map_err(|error| StartError::Directory {
        key: "data_dir",
        path: config.data_dir.display().to_string(),
        error,
    })?;
    let figment = figment.merge(("template_dir", engine_root.display().to_string()));

    let worker_services = services.clone();
    let workers = AdHoc::on_liftoff("Background work", move |_| {
        Box::pin(async move {
            if worker_services.config.worker {
                workers::spawn(&worker_services, transport);
            }
        })
    });

    Ok(rocket::custom(figment)
        .manage(services)
        .attach(web::assets::templates(template_dir))
        .attach(workers)
        .attach(web::telemetry::Telemetry)
        .mount("/", in_request_spans(web::page_routes()))
        .mount("/api/v1", in_request_spans(web::api_routes()))
        .mount("/static", in_request_spans(static_overrides(&config)))
        .register("/", web::page_catchers())
        .register("/api", web::api_catchers()))
}

/// The operator's static files, served before the built-in ones of the same name — none when
/// the override directory does not exist at start.
fn static_overrides(config: &Config) -> Vec<rocket::Route> {
    let dir = config.static_override_dir();
    match dir.is_dir() {
        true => FileServer::from(dir).into(),
        false => Vec::new(),
    }
}

/// `keydesk worker`: the background work without the web server, until SIGTERM or Ctrl-C.
pub async fn run_worker(figment: Figment) -> Result<(), StartError> {
    let config = Config::from_figment(&figment)?;
    let transport = mail::sender::Transport::from_config(&config)?;
    let services = open_services(config)?;
    workers::spawn(&services, transport);
    tracing::info!("worker {} running", services.instance);
    wait_for_shutdown().await;
    finish_background_work(&services).await;
    Ok(())
}

/// How long a stopping process waits for its work in hand: an email being sent (at most
/// `SEND_TIMEOUT`, 90 s) and its record (retried for up to `RECORD_SENT_FOR`, 60 s, while
/// the database is away), a forgot-password answered in the last moments. Below systemd's
/// `TimeoutStopSec` in `deploy/`.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(160);

/// On a stop: picks up no more background work and finishes what is in hand (a
/// forgot-password request answered just before, whose work starts after its answer; an
/// email handed to the SMTP server and not yet recorded, which cut off here would be sent
/// again), so a stop loses and repeats nothing; bounded, so a stuck one cannot hold the stop
/// for ever.
pub async fn finish_background_work(services: &Services) {
    services.background.stop();
    if rocket::tokio::time::timeout(STOP_GRACE, services.background.settled()).await.is_err() {
        eprintln!("keydesk: stopped with background work still running after {STOP_GRACE:?}");
    }
}

/// Returns on SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
async fn wait_for_shutdown() {
    use rocket::tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            rocket::tokio::select! {
                _ = terminate.recv() => {}
                _ = rocket::tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = rocket::tokio::signal::ctrl_c().await;
        }
    }
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
    let key = match kept_secret_key(&path).map_err(failed)? {
        Some(key) => key,
        None => generate_secret_key(&path, config).map_err(failed)?,
    };
    Ok(figment.merge(("secret_key", key)))
}

/// The key kept at `path`; None when there is none, or only an empty file (an earlier
/// version killed while writing it, before anything was signed with it).
fn kept_secret_key(path: &std::path::Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_owned())),
        Ok(_) => Ok(None),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Makes a secret key and keeps it at `path`, whole or not at all. Several processes
/// starting at once on one data directory (web instances behind one proxy) must end up with
/// one key, or each would refuse the others' cookies: they take turns on a lock file, and
/// each looks again once it holds it, using the key the first one kept.
fn generate_secret_key(path: &std::path::Path, config: &Config) -> std::io::Result<String> {
    use base64::Engine;
    private_files::create_private_dir(&config.data_dir)?;
    let turn = private_files::open_private_file(&config.data_dir.join("secret_key.lock"))?;
    turn.lock()?;
    if let Some(key) = kept_secret_key(path)? {
        return Ok(key);
    }
    // Only an empty one can be there: nobody else writes it while this process has its turn.
    if path.symlink_metadata().is_ok() {
        std::fs::remove_file(path)?;
    }
    let mut bytes = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    private_files::create_private_file_whole(path, |temporary| std::fs::write(temporary, &key))?;
    // Rocket's logger is not up yet at this point: say it on standard error.
    eprintln!("keydesk: no secret_key configured: generated one and kept it in {}", path.display());
    Ok(key)
}
