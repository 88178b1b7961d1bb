//! Self-serve unlock from Manage Users: the key icon under the `admins` policy, the owner's
//! PIN under `owner_pin`, and every refusal recorded as "Account unlock failed".

mod common;

use common::{Backend, TestApp, TestClient, PASSWORD};
use diesel::prelude::*;
use keydesk::db::schema::unlock_pins;
use keydesk::store::users::User;
use keydesk_core::UnlockPolicy;
use rocket::http::Status;

on_both_backends!(
    an_admin_unlocks_with_the_key_icon_and_the_user_is_told,
    the_manage_users_page_shows_the_key_only_for_locked_users,
    unlocking_an_account_that_is_not_locked_changes_nothing,
    under_owner_pin_an_admin_sees_a_greyed_key_and_a_try_is_recorded,
    under_owner_pin_the_owner_unlocks_with_the_emailed_pin,
    a_pin_expires_after_ten_minutes,
    five_wrong_pins_close_the_challenge,
    a_pin_is_bound_to_its_owner_and_its_user,
    a_pin_or_an_unlock_decided_under_an_earlier_lock_lifts_nothing,
    nobody_sees_or_unlocks_another_organisations_users,
    adding_a_user_never_reveals_who_has_an_account_elsewhere,
    asking_for_pin_after_pin_buys_no_more_than_two_pins_of_guesses_per_lock,
    a_pin_entered_after_its_owner_was_demoted_unlocks_nothing,
    an_admin_may_not_unlock_an_owner_nor_is_asked_to,
    a_changed_address_is_told_to_the_old_one_and_ends_sessions_and_reset_links,
    a_pin_never_goes_to_an_address_changed_within_a_day,
    a_pin_never_goes_to_an_owner_added_within_a_day,
    a_new_role_ends_the_sessions_made_under_the_old_one,
);

struct Clinic {
    app: TestApp,
    jane: User,
}

/// An organisation with an owner, an admin, and Jane, who has locked herself out.
async fn clinic(backend: Backend, policy: UnlockPolicy) -> Clinic {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", policy).await;
    app.user("owner@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let jane = app.reload(&jane).await;
    assert!(jane.locked_at.is_some());
    Clinic { app, jane }
}

fn unlock_path(user: &User) -> String {
    format!("/org/users/{}/unlock", user.id)
}

async fn an_admin_unlocks_with_the_key_icon_and_the_user_is_told(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    app.logged_in_as("admin@acme.test").await;
    let confirm = app.client.get(unlock_path(&jane)).dispatch().await;
    assert_eq!(confirm.status(), Status::Ok);
    assert!(confirm.into_string().await.unwrap().contains("Unlock Jane Doe?"));

    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/org/users"));
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("Account unlocked"), "the flash confirms it");

    let jane = app.reload(&jane).await;
    assert!(jane.locked_at.is_none());
    assert_eq!(jane.failed_attempts, 0);
    let unlocked =
        app.events_of(&jane).await.into_iter().find(|e| e.action.label() == "Account unlocked").expect("recorded");
    assert_eq!(unlocked.actor_label, "admin@acme.test");

    let mail = app.mail_to("jane@acme.test").await;
    let notice = mail.iter().find(|m| m.subject == "Your account has been unlocked").expect("the user is told");
    assert!(notice.text.contains("reset your password with the Forgot Password feature"));
    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::SeeOther);
}

async fn the_manage_users_page_shows_the_key_only_for_locked_users(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    app.logged_in_as("admin@acme.test").await;
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    let document = scraper::Html::parse_document(&page);
    let keys: Vec<String> = document
        .select(&scraper::Selector::parse("a.unlock-key").unwrap())
        .map(|a| a.value().attr("aria-label").unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["Unlock Jane Doe"]);
    let row = document.select(&scraper::Selector::parse(&format!("#user-{}", jane.id)).unwrap()).next().unwrap();
    assert!(row.text().any(|t| t.contains("Locked")));
}

async fn unlocking_an_account_that_is_not_locked_changes_nothing(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    app.logged_in_as("admin@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("not locked"));
    let unlocks = app.actions_of(&jane).await.iter().filter(|a| *a == "Account unlocked").count();
    assert_eq!(unlocks, 1, "a double click unlocks once");
    let notices =
        app.mail_to("jane@acme.test").await.iter().filter(|m| m.subject == "Your account has been unlocked").count();
    assert_eq!(notices, 1, "and tells the user once");
}

async fn under_owner_pin_an_admin_sees_a_greyed_key_and_a_try_is_recorded(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("admin@acme.test").await;
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("disabled aria-label=\"Unlock Jane Doe (only the owner can unlock)\""));
    assert!(!page.contains("class=\"icon-button unlock-key\""));

    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(app.reload(&jane).await.locked_at.is_some());
    let failed =
        app.events_of(&jane).await.into_iter().find(|e| e.action.label() == "Account unlock failed").expect("recorded");
    assert_eq!(failed.actor_label, "admin@acme.test");
    assert!(app.mail_to("admin@acme.test").await.iter().all(|m| m.subject != "User Account Unlock"));
}

/// The PIN from the newest "User Account Unlock" email to `to`.
async fn emailed_pin(app: &TestApp, to: &str, full_name: &str) -> String {
    let mail = app.mail_to(to).await;
    let message = mail.iter().rev().find(|m| m.subject == "User Account Unlock").expect("a PIN email");
    assert!(message.text.contains(&format!("Use this PIN to unlock the account of this employee: {full_name}.")));
    message
        .text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.chars().all(|c| c.is_ascii_digit()))
        .expect("a six-digit PIN line")
        .to_owned()
}

fn wrong_pin_for(pin: &str) -> String {
    let first = pin.chars().next().unwrap().to_digit(10).unwrap();
    format!("{}{}", (first + 1) % 10, &pin[1..])
}

async fn under_owner_pin_the_owner_unlocks_with_the_emailed_pin(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.headers().get_one("Location"), Some(format!("/org/users/{}/unlock/pin", jane.id).as_str()));
    let form =
        app.client.get(format!("/org/users/{}/unlock/pin", jane.id)).dispatch().await.into_string().await.unwrap();
    assert!(form.contains("Please enter the PIN code to unlock the account."));
    assert!(app.reload(&jane).await.locked_at.is_some(), "nothing unlocks before the PIN");

    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    let pin_path = format!("/org/users/{}/unlock/pin", jane.id);
    app.post_form(&pin_path, &[("pin", &wrong_pin_for(&pin))]).await;
    assert!(app.reload(&jane).await.locked_at.is_some());
    let response = app.post_form(&pin_path, &[("pin", &pin)]).await;
    assert_eq!(response.headers().get_one("Location"), Some("/org/users"));
    assert!(app.reload(&jane).await.locked_at.is_none());

    let actions = app.actions_of(&jane).await;
    assert!(
        actions.ends_with(&["Unlock PIN sent".into(), "Account unlock failed".into(), "Account unlocked".into()]),
        "{actions:?}"
    );
    let events = app.events_of(&jane).await;
    assert!(events.iter().all(|e| !e.detail.contains(&pin)), "the PIN never reaches the log");

    // Used once: the same PIN does nothing more.
    app.log_in("jane@acme.test", "wrong").await;
    app.post_form(&pin_path, &[("pin", &pin)]).await;
    assert_eq!(app.actions_of(&jane).await.last().map(String::as_str), Some("Account unlock failed"));
}

async fn a_pin_expires_after_ten_minutes(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    let (created, expires) = app
        .services()
        .db
        .run(|conn| {
            let row: (chrono::NaiveDateTime, chrono::NaiveDateTime) =
                unlock_pins::table.select((unlock_pins::created_at, unlock_pins::expires_at)).first(conn)?;
            Ok::<_, keydesk::db::DbError>(row)
        })
        .await
        .unwrap();
    assert_eq!(expires - created, chrono::Duration::minutes(10));
    // Ten minutes pass.
    app.clock.advance(chrono::Duration::minutes(10));
    app.post_form(&format!("/org/users/{}/unlock/pin", jane.id), &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some());
    let failed = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!((failed.action.label(), failed.detail.as_str()), ("Account unlock failed", "PIN expired"));
}

async fn five_wrong_pins_close_the_challenge(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    let pin_path = format!("/org/users/{}/unlock/pin", jane.id);
    for _ in 0..5 {
        app.post_form(&pin_path, &[("pin", &wrong_pin_for(&pin))]).await;
    }
    app.post_form(&pin_path, &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some(), "the right PIN after five wrong ones is refused");
    let failures = app.actions_of(&jane).await.iter().filter(|a| *a == "Account unlock failed").count();
    assert_eq!(failures, 6);
}

async fn a_pin_is_bound_to_its_owner_and_its_user(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    let org = keydesk_find_org(&app, "acme").await;
    app.user("owner2@acme.test", "Otto Owner", "owner", Some(&org)).await;
    let bob = app.user("bob@acme.test", "Bob Roe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("bob@acme.test", "wrong password").await;
    }
    app.logged_in_as("owner@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    // Jane's PIN does not unlock Bob.
    app.post_form(&format!("/org/users/{}/unlock/pin", bob.id), &[("pin", &pin)]).await;
    assert!(app.reload(&bob).await.locked_at.is_some());
    // Nor does it work for another owner.
    app.logged_in_as("owner2@acme.test").await;
    app.post_form(&format!("/org/users/{}/unlock/pin", jane.id), &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some());
}

/// Jane is unlocked another way while the owner's PIN is on its way, and locks herself out
/// again: the PIN was asked for about the first lock and confirms nothing about the second;
/// likewise an unlock decided about the first lock (read before the second began) lifts
/// nothing.
async fn a_pin_or_an_unlock_decided_under_an_earlier_lock_lifts_nothing(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    let first_lock = jane.locked_at.unwrap();
    let jane_id = jane.id;
    let lifted =
        app.services().run(move |conn, _| Ok(keydesk::store::users::unlock(conn, jane_id, first_lock)?)).await.unwrap();
    assert!(lifted, "support lifted the first lock");
    app.clock.advance(chrono::Duration::minutes(2));
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let second_lock = app.reload(&jane).await.locked_at.expect("locked again");
    assert!(second_lock > first_lock);

    app.post_form(&format!("/org/users/{}/unlock/pin", jane.id), &[("pin", &pin)]).await;
    assert_eq!(app.reload(&jane).await.locked_at, Some(second_lock), "the old PIN unlocked nothing");
    let failed = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!(
        (failed.action.label(), failed.detail.as_str()),
        ("Account unlock failed", "PIN from before the current lock")
    );

    let lifted =
        app.services().run(move |conn, _| Ok(keydesk::store::users::unlock(conn, jane_id, first_lock)?)).await.unwrap();
    assert!(!lifted, "an unlock about the first lock does not lift the second");
    assert_eq!(app.reload(&jane).await.locked_at, Some(second_lock));
}

async fn keydesk_find_org(app: &TestApp, slug: &'static str) -> keydesk::store::orgs::Organisation {
    app.services().run(move |conn, _| Ok(keydesk::store::orgs::find_by_slug(conn, slug)?.unwrap())).await.unwrap()
}

async fn nobody_sees_or_unlocks_another_organisations_users(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    let other = app.org("Other Co", "other", UnlockPolicy::Admins).await;
    app.user("admin@other.test", "Odile Admin", "admin", Some(&other)).await;
    app.logged_in_as("admin@other.test").await;
    let list = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(!list.contains("jane@acme.test"));
    assert_eq!(app.client.get(unlock_path(&jane)).dispatch().await.status(), Status::NotFound);
    assert_eq!(app.client.get(format!("/org/users/{}/edit", jane.id)).dispatch().await.status(), Status::NotFound);
    assert_eq!(app.post_form(&unlock_path(&jane), &[]).await.status(), Status::NotFound);
    assert_eq!(
        app.post_form(
            &format!("/org/users/{}", jane.id),
            &[("email", "x@other.test"), ("full_name", "X"), ("role", "member")]
        )
        .await
        .status(),
        Status::NotFound
    );
    assert!(app.reload(&jane).await.locked_at.is_some());
    let activities = app.client.get("/activities").dispatch().await.into_string().await.unwrap();
    assert!(!activities.contains("jane@acme.test"), "another organisation's log stays hidden");
    let filtered = app.client.get("/activities?user=jane%40acme.test").dispatch().await.into_string().await.unwrap();
    assert!(filtered.contains("No activity matches."), "filtering by another organisation's user shows nothing");
}

/// An admin typing addresses into "Add a user" learns nothing about accounts outside their
/// organisation: a colleague's, another organisation's user's and a staff member's address
/// all get the same refusal.
async fn adding_a_user_never_reveals_who_has_an_account_elsewhere(backend: Backend) {
    let Clinic { app, .. } = clinic(backend, UnlockPolicy::Admins).await;
    let globex = app.org("Globex", "globex", UnlockPolicy::Admins).await;
    app.user("gus@globex.test", "Gus Globex", "member", Some(&globex)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.logged_in_as("admin@acme.test").await;
    let mut errors = Vec::new();
    for email in ["jane@acme.test", "gus@globex.test", "agent@support.test"] {
        let response =
            app.post_form("/org/users", &[("email", email), ("full_name", "Some Body"), ("role", "member")]).await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{email}");
        let page = response.into_string().await.unwrap();
        let document = scraper::Html::parse_document(&page);
        let error = document
            .select(&scraper::Selector::parse("[role=alert], .error").unwrap())
            .map(|e| e.text().collect::<String>())
            .collect::<String>();
        assert!(!error.contains("already exists"), "{email}: {error}");
        errors.push(error.trim().to_owned());
    }
    assert!(!errors[0].is_empty() && errors.windows(2).all(|w| w[0] == w[1]), "{errors:#?}");
}

/// Whoever holds an owner's session could otherwise ask for a fresh PIN after every five
/// wrong tries and guess on for good.
async fn asking_for_pin_after_pin_buys_no_more_than_two_pins_of_guesses_per_lock(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    let pin_path = format!("/org/users/{}/unlock/pin", jane.id);
    let mut pin = String::new();
    // 4 wrong tries on the first PIN, 5 on the second, 1 on the third: ten in all.
    for wrong in [4, 5, 1] {
        let response = app.post_form(&unlock_path(&jane), &[]).await;
        assert_eq!(response.headers().get_one("Location"), Some(pin_path.as_str()), "PIN after {wrong} more");
        pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
        for _ in 0..wrong {
            app.post_form(&pin_path, &[("pin", &wrong_pin_for(&pin))]).await;
        }
    }
    app.post_form(&pin_path, &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some(), "the right PIN after the lock's ten wrong tries is refused");
    let refusal = app.events_of(&jane).await.into_iter().next().unwrap();
    assert!(refusal.detail.contains("all their tries"), "{}", refusal.detail);

    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.headers().get_one("Location"), Some("/org/users"), "no fourth PIN form");
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("PINs have had all their tries"), "{page}");
    let pins = app.mail_to("owner@acme.test").await.iter().filter(|m| m.subject == "User Account Unlock").count();
    assert_eq!(pins, 3, "no fourth PIN is sent");
    let refusal = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!(refusal.action.label(), "Account unlock failed");
    assert!(refusal.detail.contains("all their tries"), "{}", refusal.detail);

    // The next lock starts afresh.
    app.lift_lock(jane.id).await;
    app.clock.advance(chrono::Duration::minutes(1));
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.headers().get_one("Location"), Some(pin_path.as_str()));
}

async fn a_pin_entered_after_its_owner_was_demoted_unlocks_nothing(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    let pin = emailed_pin(&app, "owner@acme.test", "Jane Doe").await;
    let owner = app.reload_email("owner@acme.test").await;
    app.services()
        .db
        .run(move |conn| {
            use keydesk::db::schema::users;
            diesel::update(users::table.find(owner.id)).set(users::role.eq("admin")).execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    app.post_form(&format!("/org/users/{}/unlock/pin", jane.id), &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some(), "an admin's PIN unlocks nothing under owner_pin");
    let refusal = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!(refusal.action.label(), "Account unlock failed");
}

/// An owner locked out (someone guessing their password): every unlock gives the guesser
/// five more tries, and an admin may not edit an owner, so may not unlock one either.
async fn an_admin_may_not_unlock_an_owner_nor_is_asked_to(backend: Backend) {
    let Clinic { app, .. } = clinic(backend, UnlockPolicy::Admins).await;
    let org = keydesk_find_org(&app, "acme").await;
    app.user("owner2@acme.test", "Otto Owner", "owner", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("owner@acme.test", "wrong password").await;
    }
    let olive = app.reload_email("owner@acme.test").await;
    assert!(olive.locked_at.is_some());
    let told = |mail: &[common::Mail]| mail.iter().any(|m| m.subject == "Olive Owner's account is locked");
    assert!(!told(&app.mail_to("admin@acme.test").await), "the admin is not asked to unlock the owner");
    assert!(told(&app.mail_to("owner2@acme.test").await), "the other owner is");

    app.logged_in_as("admin@acme.test").await;
    let page = app.client.get("/org/users").dispatch().await.into_string().await.unwrap();
    assert!(!page.contains("aria-label=\"Unlock Olive Owner\""), "no active key for the owner");
    assert!(page.contains("only another owner or support can unlock an owner"), "a greyed one that says why");
    let confirm = app.client.get(unlock_path(&olive)).dispatch().await.into_string().await.unwrap();
    assert!(confirm.contains("unlocked by another owner, or by support") && !confirm.contains("confirm-unlock"));
    app.post_form(&unlock_path(&olive), &[]).await;
    assert!(app.reload(&olive).await.locked_at.is_some());
    let refusal = app.events_of(&olive).await.into_iter().next().unwrap();
    assert_eq!(refusal.action.label(), "Account unlock failed");
    assert_eq!(refusal.detail, "an admin may not unlock an owner");

    app.logged_in_as("owner2@acme.test").await;
    app.post_form(&unlock_path(&olive), &[]).await;
    assert!(app.reload(&olive).await.locked_at.is_none(), "another owner may");
}

fn edit(user: &User, email: &str, role: &str) -> (String, Vec<(&'static str, String)>) {
    let fields = vec![("email", email.to_owned()), ("full_name", user.full_name.clone()), ("role", role.to_owned())];
    (format!("/org/users/{}", user.id), fields)
}

async fn post_edit(app: &TestApp, user: &User, email: &str, role: &str) -> Status {
    let (path, fields) = edit(user, email, role);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(&path, &fields).await.status()
}

/// Whoever can change Jane's address can have her password-reset links sent to the new one:
/// the old address, the one an impostor does not hold, is told; what was open under it ends.
async fn a_changed_address_is_told_to_the_old_one_and_ends_sessions_and_reset_links(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    app.lift_lock(jane.id).await;
    let janes_browser = TestClient::new(&app).await;
    assert_eq!(janes_browser.log_in("jane@acme.test", PASSWORD).await.status(), Status::SeeOther);
    assert_eq!(janes_browser.post_form("/forgot-password", &[("email", "jane@acme.test")]).await.status(), Status::Ok);
    janes_browser.settled().await;
    let link = app
        .mail_to("jane@acme.test")
        .await
        .iter()
        .find(|m| m.subject == "Reset your password")
        .and_then(|m| m.text.split_whitespace().find(|w| w.contains("/reset-password/")).map(str::to_owned))
        .expect("a reset link");
    let link = link.trim_start_matches("http://keydesk.test").to_owned();

    app.logged_in_as("admin@acme.test").await;
    assert_eq!(post_edit(&app, &jane, "jane@elsewhere.test", "member").await, Status::SeeOther);

    let notice = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.subject == "Your sign-in address was changed")
        .expect("the old address is told");
    assert!(notice.text.contains("from jane@acme.test to jane@elsewhere.test by Adam Admin (admin@acme.test)"));
    assert!(app.mail_to("jane@elsewhere.test").await.iter().all(|m| m.subject != "Your sign-in address was changed"));
    let response = janes_browser.client.get("/").dispatch().await;
    assert_eq!(response.headers().get_one("Location"), Some("/login"), "Jane's session ended");
    let reset = janes_browser.post_form(&link, &[("password", "a brand new password 9")]).await;
    assert_ne!(reset.status(), Status::SeeOther, "the link sent to the old address is void");
    assert!(app.services().passwords.verify(PASSWORD, &app.reload_email("jane@elsewhere.test").await.password_hash));
}

/// A stolen owner session that points the owner's address at the thief's mailbox gets no
/// PIN there for a day, while the real owner's old address hears of the change.
async fn a_pin_never_goes_to_an_address_changed_within_a_day(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    app.logged_in_as("owner@acme.test").await;
    let olive = app.reload_email("owner@acme.test").await;
    assert_eq!(post_edit(&app, &olive, "thief@evil.test", "owner").await, Status::SeeOther);
    assert!(app.mail_to("owner@acme.test").await.iter().any(|m| m.subject == "Your sign-in address was changed"));

    app.logged_in_as("thief@evil.test").await;
    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.headers().get_one("Location"), Some("/org/users"));
    assert!(app.mail_to("thief@evil.test").await.iter().all(|m| m.subject != "User Account Unlock"), "no PIN");
    let refusal = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!(refusal.detail, "the owner's address is less than a day old");

    app.clock.advance(chrono::Duration::hours(24));
    app.logged_in_as("thief@evil.test").await;
    let response = app.post_form(&unlock_path(&jane), &[]).await;
    assert_eq!(response.headers().get_one("Location"), Some(format!("/org/users/{}/unlock/pin", jane.id).as_str()));
}

/// Promoted to admin, Jane's session made as a member does not carry the new powers: she
/// signs in again (and a role that needs a second factor asks for it then).
async fn a_new_role_ends_the_sessions_made_under_the_old_one(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::Admins).await;
    app.lift_lock(jane.id).await;
    let janes_browser = TestClient::new(&app).await;
    assert_eq!(janes_browser.log_in("jane@acme.test", PASSWORD).await.status(), Status::SeeOther);
    app.logged_in_as("owner@acme.test").await;
    assert_eq!(post_edit(&app, &jane, "jane@acme.test", "admin").await, Status::SeeOther);
    let response = janes_browser.client.get("/org/users").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
    assert!(
        app.mail_to("jane@acme.test").await.iter().all(|m| m.subject != "Your sign-in address was changed"),
        "the address did not change"
    );
}

/// A stolen owner session could add an owner with the thief's address, and then have PINs
/// sent there: an address typed in Manage Users is as new as a changed one.
async fn a_pin_never_goes_to_an_owner_added_within_a_day(backend: Backend) {
    let Clinic { app, jane } = clinic(backend, UnlockPolicy::OwnerPin).await;
    let olive = app.reload_email("owner@acme.test").await;
    app.services()
        .run(move |conn, services| {
            let owner = keydesk_core::Role::Org(keydesk_core::OrgRole::Owner);
            let added = keydesk::accounts::users::add_colleague(
                conn,
                services,
                &olive,
                "thief@evil.test",
                "T Hief",
                owner,
                None,
            )?;
            let hash = services.passwords.hash(PASSWORD);
            Ok(keydesk::store::users::set_password_hash(conn, added.id, &hash, services.stored_now())?)
        })
        .await
        .unwrap();
    app.logged_in_as("thief@evil.test").await;
    app.post_form(&unlock_path(&jane), &[]).await;
    assert!(app.mail_to("thief@evil.test").await.iter().all(|m| m.subject != "User Account Unlock"), "no PIN");
    let refusal = app.events_of(&jane).await.into_iter().next().unwrap();
    assert_eq!(refusal.detail, "the owner's address is less than a day old");
}
