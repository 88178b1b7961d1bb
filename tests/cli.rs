//! The `keydesk` command line, run as the real binary: migrate, org/user/token create, demo
//! seed, and the refusals that print `keydesk: <reason>` and exit with status 1.

mod common;

use common::cli::Keydesk;
use common::{Backend, TestApp, PASSWORD};
use rocket::http::{Header, Status};

on_both_backends!(
    migrate_succeeds_and_can_run_again,
    org_create_refuses_a_duplicate_slug,
    user_create_reads_the_password_from_stdin_and_the_user_can_log_in,
    user_create_refuses_bad_input_with_the_reason,
    token_create_prints_a_token_for_an_agent_and_refuses_a_member,
    demo_seed_prints_the_logins_and_the_password_they_sign_in_with,
);

fn user_args<'a>(email: &'a str, name: &'a str, role: &'a str, org: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["user", "create", "--email", email, "--name", name, "--role", role];
    if let Some(org) = org {
        args.extend(["--org", org]);
    }
    args.push("--password-stdin");
    args
}

async fn user_count(app: &TestApp) -> i64 {
    app.services().run(|conn, _| Ok(keydesk::store::users::count(conn)?)).await.unwrap()
}

async fn migrate_succeeds_and_can_run_again(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    let run = keydesk.ok(&["migrate"], None);
    assert!(run.stdout.contains("Database is up to date."), "{run:?}");
    if backend == Backend::Sqlite {
        assert!(std::path::Path::new(&keydesk.database.url).is_file(), "the SQLite file was created");
    }
    keydesk.ok(&["migrate"], None);
    // The schema is there: the operator's next command works.
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
}

async fn org_create_refuses_a_duplicate_slug(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    let run = keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    assert!(run.stdout.contains("Acme Clinic (acme)"), "{run:?}");
    keydesk.refused(&["org", "create", "--name", "Another Acme", "--slug", "acme"], None, "already exists");
    keydesk.refused(
        &["org", "create", "--name", "Bad Slug", "--slug", "Not A Slug"],
        None,
        "lower-case letters, digits and dashes",
    );

    let app = keydesk.app().await;
    let orgs = app
        .services()
        .run(|conn, _| Ok(keydesk::store::orgs::find_by_slug(conn, "acme")?.map(|o| o.name)))
        .await
        .unwrap();
    assert_eq!(orgs.as_deref(), Some("Acme Clinic"), "the first organisation is kept as it was");
}

async fn user_create_reads_the_password_from_stdin_and_the_user_can_log_in(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    let run = keydesk
        .ok(&user_args("Owner@Acme.test", "Olive  Owner", "owner", Some("acme")), Some(&format!("{PASSWORD}\n")));
    assert!(run.stdout.contains("owner@acme.test"), "{run:?}");
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD), "the password is never echoed");
    keydesk.ok(&user_args("agent@support.test", "Agnes Agent", "agent", None), Some(PASSWORD));

    let app = keydesk.app().await;
    let owner = keydesk_user(&app, "owner@acme.test").await;
    assert_eq!(owner.full_name, "Olive Owner");
    assert_eq!(owner.role.as_str(), "owner");
    assert!(owner.password_hash.starts_with("$argon2id$"), "stored as an Argon2id hash");
    assert_eq!(app.log_in("owner@acme.test", PASSWORD).await.status(), Status::SeeOther, "the owner logs in");
    assert_eq!(
        app.client.get("/org/users").dispatch().await.status(),
        Status::Ok,
        "and manages the organisation's users"
    );
    let other = common::TestClient::new(&app).await;
    assert_eq!(other.log_in("agent@support.test", PASSWORD).await.status(), Status::SeeOther, "the agent logs in");
    assert_eq!(app.actions_of(&owner).await, ["User created", "Login succeeded"]);
}

async fn keydesk_user(app: &TestApp, email: &str) -> keydesk::store::users::User {
    let email = keydesk_core::EmailAddress::parse(email).unwrap();
    app.services()
        .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email)?))
        .await
        .unwrap()
        .expect("the user exists")
}

async fn user_create_refuses_bad_input_with_the_reason(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    keydesk.ok(&user_args("owner@acme.test", "Olive Owner", "owner", Some("acme")), Some(PASSWORD));

    keydesk.refused(
        &user_args("short@acme.test", "Sho Rt", "member", Some("acme")),
        Some("short\n"),
        "at least 10 characters",
    );
    keydesk.refused(
        &user_args("empty@acme.test", "Em Pty", "member", Some("acme")),
        Some(""),
        "at least 10 characters",
    );
    keydesk.refused(
        &user_args("  OWNER@Acme.TEST ", "Olive Again", "member", Some("acme")),
        Some(PASSWORD),
        "already exists",
    );
    keydesk.refused(
        &user_args("new@acme.test", "New Person", "member", Some("nope")),
        Some(PASSWORD),
        "no organisation with slug \"nope\"",
    );
    keydesk.refused(&user_args("new@acme.test", "New Person", "admin", None), Some(PASSWORD), "needs an organisation");
    keydesk.refused(
        &user_args("agent@acme.test", "Agnes Agent", "agent", Some("acme")),
        Some(PASSWORD),
        "has no organisation",
    );
    keydesk.refused(
        &user_args("bad address", "New Person", "member", Some("acme")),
        Some(PASSWORD),
        "name@example.com",
    );

    let app = keydesk.app().await;
    assert_eq!(user_count(&app).await, 1, "only the owner was created");
}

async fn token_create_prints_a_token_for_an_agent_and_refuses_a_member(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    keydesk.ok(&user_args("jane@acme.test", "Jane Doe", "member", Some("acme")), Some(PASSWORD));
    keydesk.ok(&user_args("agent@support.test", "Agnes Agent", "agent", None), Some(PASSWORD));

    let run = keydesk.ok(&["token", "create", "--email", "Agent@Support.test"], None);
    let token = run.stdout.trim().to_owned();
    assert_eq!(token.len(), 64, "{run:?}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{run:?}");
    let second = keydesk.ok(&["token", "create", "--email", "agent@support.test"], None);
    assert_ne!(second.stdout.trim(), token, "every token is new");

    keydesk.refused(&["token", "create", "--email", "jane@acme.test"], None, "not support staff");
    keydesk.refused(&["token", "create", "--email", "nobody@acme.test"], None, "no user nobody@acme.test");

    // Listed (never the token itself), one expiring, one revoked.
    let expiring = keydesk.ok(&["token", "create", "--email", "agent@support.test", "--expires-in", "90d"], None);
    let expiring = expiring.stdout.trim().to_owned();
    let list = keydesk.ok(&["token", "list", "--email", "agent@support.test"], None).stdout;
    let rows: Vec<Vec<&str>> = list.lines().skip(1).map(|line| line.split('\t').collect()).collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert!(rows[0][3] != "never" && rows[1][3] == "never" && rows[0][2] == "agent", "{list}");
    assert!(!list.contains(&token) && !list.contains(&expiring), "tokens are never shown again: {list}");
    let second_id = rows[1][0];
    assert!(keydesk.ok(&["token", "revoke", "--id", second_id], None).stdout.contains("Revoked"));
    assert!(keydesk.ok(&["token", "revoke", "--id", second_id], None).stdout.contains("revoked already"));
    let list = keydesk.ok(&["token", "list", "--email", "agent@support.test"], None).stdout;
    assert_ne!(list.lines().nth(2).unwrap().split('\t').nth(4), Some("-"), "shown revoked: {list}");
    let second = second.stdout.trim().to_owned();

    let app = keydesk.app().await;
    for (revoked, expected) in [(&second, Status::Unauthorized), (&expiring, Status::Ok)] {
        let response = app
            .client
            .get("/api/v1/accounts/jane@acme.test")
            .header(Header::new("Authorization", format!("Bearer {revoked}")))
            .dispatch()
            .await;
        assert_eq!(response.status(), expected);
    }
    let actions = app.actions_of(&app.reload_email("agent@support.test").await).await;
    assert!(actions.contains(&"API token revoked".to_owned()), "{actions:?}");
    let response = app
        .client
        .get("/api/v1/accounts/jane@acme.test")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok, "the printed token works on the API");
    let hashes = app
        .services()
        .run(|conn, _| {
            use diesel::prelude::*;
            use keydesk::db::schema::api_tokens;
            Ok(api_tokens::table.select(api_tokens::token_hash).load::<String>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(hashes.len(), 3);
    assert!(!hashes.contains(&token), "only the token's hash is stored");
}

/// "Sign in as the manager m, the agent a, or the owner o." → [m, a, o].
fn demo_logins(stdout: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Sign in as the manager "))
        .unwrap_or_else(|| panic!("no logins in {stdout:?}"));
    line.split_whitespace()
        .filter(|word| word.contains('@'))
        .map(|word| word.trim_end_matches([',', '.']).to_owned())
        .collect()
}

async fn demo_seed_prints_the_logins_and_the_password_they_sign_in_with(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    let run = keydesk.ok(&["demo", "seed", "--tickets", "120", "--days", "14"], None);
    assert!(run.stdout.contains("Seeded 120 tickets"), "{run:?}");
    let logins = demo_logins(&run.stdout);
    assert_eq!(logins.len(), 3, "{run:?}");
    let generated = run
        .stdout
        .lines()
        .find_map(|l| l.split_once("(shown only now): "))
        .map(|(_, p)| p.trim().to_owned())
        .expect("the password is printed");
    assert!(generated.len() >= 16 && !run.stderr.contains(&generated), "{run:?}");

    // Again, with a password of one's own: more tickets, the same people, the new password.
    let again = keydesk
        .ok(&["demo", "seed", "--tickets", "30", "--seed", "2", "--password-stdin"], Some(&format!("{PASSWORD}\n")));
    assert!(
        again.stdout.contains("Organisations: 8 (0 new)") && again.stdout.contains("(0 new), staff included"),
        "{again:?}"
    );
    assert_eq!(demo_logins(&again.stdout), logins);
    assert!(!again.stdout.contains(PASSWORD) && !again.stderr.contains(PASSWORD), "the password is never echoed");

    let app = keydesk.app().await;
    for login in &logins {
        let client = common::TestClient::new(&app).await;
        assert_eq!(client.log_in(login, PASSWORD).await.status(), Status::SeeOther, "{login} signs in");
    }
    assert_eq!(app.log_in(&logins[0], &generated).await.status(), Status::Ok, "the first password was replaced");
    let tickets =
        app.services().run(|conn, _| Ok(keydesk::store::tickets::list(conn, None, 1_000)?.len())).await.unwrap();
    assert_eq!(tickets, 150);
}

#[test]
fn demo_seed_refuses_to_seed_nothing_before_touching_the_database() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    keydesk.refused(&["demo", "seed", "--tickets", "0"], None, "--tickets must be at least 1");
    keydesk.refused(&["demo", "seed", "--tickets", "10", "--days", "0"], None, "--days must be between 1 and 3650");
    keydesk.refused(&["demo", "seed", "--days", "10"], None, "--tickets");
    keydesk.refused(
        &["demo", "seed", "--tickets", "10", "--password-stdin"],
        Some("short\n"),
        "at least 10 characters",
    );
    assert!(!std::path::Path::new(&keydesk.database.url).exists(), "nothing was created");
}

#[test]
fn a_bad_config_value_stops_migrate_and_serve_naming_the_key() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    let bad = [("ROCKET_PUBLIC_URL", "ftp://x"), ("ROCKET_PORT", "0")];
    for command in [&["migrate"][..], &["serve"][..], &[][..]] {
        let run = keydesk.run_with(command, None, &bad);
        assert_eq!(run.code, Some(1), "keydesk {command:?} with a bad public_url: {run:?}");
        assert!(run.stderr.contains("`public_url`"), "keydesk {command:?} names the key: {:?}", run.stderr);
        assert!(run.stderr.starts_with("keydesk: "), "{:?}", run.stderr);
    }
    assert!(!std::path::Path::new(&keydesk.database.url).exists(), "nothing was created with a bad configuration");
}

/// Arguments the parser rejects are refused like every other mistake: `keydesk: <reason>`
/// and status 1 (README, "Command line").
#[test]
fn bad_arguments_exit_with_status_1_and_the_reason() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    keydesk.refused(
        &user_args("new@acme.test", "New Person", "boss", Some("acme")),
        Some(PASSWORD),
        "unknown role \"boss\"",
    );
    keydesk.refused(
        &["org", "create", "--name", "Bad Policy", "--slug", "bad", "--unlock-policy", "anyone"],
        None,
        "unknown unlock policy \"anyone\"",
    );
    keydesk.refused(
        &["user", "create", "--email", "new@acme.test", "--name", "New Person", "--role", "member", "--org", "acme"],
        Some(PASSWORD),
        "--password-stdin",
    );
    keydesk.refused(&["org", "remove", "--slug", "acme"], None, "remove");
}
