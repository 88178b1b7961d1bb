//! What the request benchmarks share: a quiet app (no background work, no throttle, no
//! second factor, one pool size per bench), its users, the login form's CSRF token, medians,
//! and throwaway PostgreSQL databases.
#![allow(dead_code)]

pub mod statements;

use diesel::{Connection, PgConnection, RunQueryDsl};
use keydesk::app::Services;
use keydesk::store::events::Actor;
use rocket::local::asynchronous::Client;
use std::time::Duration;

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Only the request path is measured: quiet logs, no background sender or intake, no login
/// throttle, nobody asked for a second factor.
pub fn quiet_figment(database_url: &str, dir: &std::path::Path, pool_size: u32) -> rocket::figment::Figment {
    keydesk::figment()
        .merge(("database_url", database_url))
        .merge(("database_pool_size", pool_size))
        .merge(("data_dir", dir.join("data").display().to_string()))
        .merge(("log_level", "off"))
        .merge(("mail.dir", dir.join("mail").display().to_string()))
        .merge(("mail.background_sender", false))
        .merge(("intake.source", "off"))
        .merge(("mfa.required_for", Vec::<String>::new()))
        .merge(("throttle.max_failures_per_ip", 0))
}

/// A member of the organisation "acme" (created with the first user).
pub async fn add_user(services: &Services, email: &str, password: &str) {
    let hash = services.passwords.hash(password);
    let email = email.to_owned();
    services
        .run(move |conn, services| {
            let now = services.stored_now();
            let org = match keydesk::store::orgs::find_by_slug(conn, "acme")? {
                Some(org) => org,
                None => keydesk::accounts::users::create_organisation(conn, "Acme", "acme", Default::default(), now)?,
            };
            let details = keydesk::accounts::users::UserDetails {
                email: &email,
                full_name: "Bench User",
                role: "member".parse().unwrap(),
                organisation: Some(&org),
            };
            keydesk::accounts::users::create_user(conn, details, &hash, &Actor::System("bench"), None, now)
        })
        .await
        .expect("user");
}

pub async fn csrf_token(client: &Client) -> String {
    let page = client.get("/login").dispatch().await.into_string().await.unwrap();
    let start = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    page[start..start + 64].to_owned()
}

pub fn admin_url() -> String {
    std::env::var("KEYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new empty database on the local server; `drop_bench_databases` removes it.
pub fn fresh_postgres_database() -> String {
    let admin = admin_url();
    let name = format!("keydesk_bench_{}", &keydesk_core::PlainToken::generate().expose()[..12]);
    let mut conn = PgConnection::establish(&admin).expect("PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// Drops the databases benchmarks created.
pub fn drop_bench_databases() {
    let Ok(mut conn) = PgConnection::establish(&admin_url()) else { return };
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'keydesk_bench_%'")
        .load(&mut conn)
        .unwrap_or_default();
    for name in names {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", name.datname)).execute(&mut conn);
    }
}
