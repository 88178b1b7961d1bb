//! The Activities page: an organisation's log for its owner and admins, everyone's for
//! agents and managers; filters by user, action and date; typed text cannot forge entries.

mod common;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;

on_both_backends!(
    admins_see_their_organisations_events_filtered_by_user_action_and_date,
    agents_see_every_organisation,
    a_line_break_typed_into_the_email_field_cannot_forge_an_entry,
    a_long_log_says_how_long_it_is_and_pages_back_through_it,
    one_users_activity_is_a_link_away,
);

/// The rows of the activity table as (action, user) pairs.
fn rows(html: &str) -> Vec<(String, String)> {
    let document = scraper::Html::parse_document(html);
    let row = scraper::Selector::parse("tbody tr").unwrap();
    let cell = scraper::Selector::parse("td").unwrap();
    document
        .select(&row)
        .filter_map(|tr| {
            let cells: Vec<String> = tr.select(&cell).map(|td| td.text().collect::<String>()).collect();
            (cells.len() == 6).then(|| (cells[1].clone(), cells[2].clone()))
        })
        .collect()
}

async fn acme_with_a_lock(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    let acme = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let other = app.org("Other", "other", UnlockPolicy::Admins).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&acme)).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("bob@acme.test", "Bob Roe", "member", Some(&acme)).await;
    app.user("zed@other.test", "Zed Other", "member", Some(&other)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.log_in("bob@acme.test", "wrong password").await;
    app.log_in("zed@other.test", "wrong password").await;
    app
}

async fn admins_see_their_organisations_events_filtered_by_user_action_and_date(backend: Backend) {
    let app = acme_with_a_lock(backend).await;
    app.logged_in_as("admin@acme.test").await;
    let all = rows(&app.client.get("/activities").dispatch().await.into_string().await.unwrap());
    assert!(all.iter().any(|(a, u)| a == "Account locked" && u == "jane@acme.test"));
    assert!(all.iter().any(|(a, u)| a == "Login failed" && u == "bob@acme.test"));
    assert!(all.iter().all(|(_, u)| u != "zed@other.test"), "no other organisation's events");

    let jane_only =
        rows(&app.client.get("/activities?user=jane%40acme.test").dispatch().await.into_string().await.unwrap());
    assert!(!jane_only.is_empty() && jane_only.iter().all(|(_, u)| u == "jane@acme.test"));

    let locks =
        rows(&app.client.get("/activities?action=Account+locked").dispatch().await.into_string().await.unwrap());
    assert_eq!(locks, [("Account locked".to_owned(), "jane@acme.test".to_owned())]);

    let today = common::test_start().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let in_range = rows(
        &app.client.get(format!("/activities?from={today}&to={today}")).dispatch().await.into_string().await.unwrap(),
    );
    assert_eq!(in_range.len(), all.len());
    let future =
        rows(&app.client.get(format!("/activities?from={tomorrow}")).dispatch().await.into_string().await.unwrap());
    assert!(future.is_empty());
}

async fn agents_see_every_organisation(backend: Backend) {
    let app = acme_with_a_lock(backend).await;
    app.logged_in_as("agent@support.test").await;
    let all = rows(&app.client.get("/activities").dispatch().await.into_string().await.unwrap());
    assert!(all.iter().any(|(_, u)| u == "zed@other.test"));
    assert!(all.iter().any(|(_, u)| u == "jane@acme.test"));
}

async fn a_line_break_typed_into_the_email_field_cannot_forge_an_entry(backend: Backend) {
    let app = acme_with_a_lock(backend).await;
    // An unknown address leaves no entry at all; a known one with a CR/LF is not the account.
    app.log_in("jane@acme.test\r\nAccount unlocked", "wrong password").await;
    let app_services = app.services().clone();
    let events = app_services
        .run(|conn, _| {
            Ok(keydesk::store::events::list(
                conn,
                &keydesk::store::events::EventFilter { limit: 1000, ..Default::default() },
            )?)
        })
        .await
        .unwrap();
    for event in &events {
        for text in [&event.actor_label, &event.target_label, &event.detail] {
            assert!(!text.contains('\n') && !text.contains('\r'), "{text:?}");
        }
    }
    assert_eq!(events.iter().filter(|e| e.action.label() == "Account unlocked").count(), 0);
    // Through the forgot-password form, where the typed address is echoed nowhere.
    app.post_form("/forgot-password", &[("email", "jane@acme.test\nAccount unlocked")]).await;
    app.settled().await;
    let events = app_services
        .run(|conn, _| {
            Ok(keydesk::store::events::list(
                conn,
                &keydesk::store::events::EventFilter { limit: 1000, ..Default::default() },
            )?)
        })
        .await
        .unwrap();
    assert!(events.iter().all(|e| !e.actor_label.contains('\n') && e.action.label() != "Account unlocked"));
}

/// Writes `count` "Login failed" entries about `user`, a second apart and oldest first, with
/// their number as the detail.
async fn many_entries(app: &TestApp, user: &keydesk::store::users::User, count: usize) {
    let (id, email, organisation) = (user.id, user.email.clone(), user.organisation_id);
    let start = app.now().naive_utc() - chrono::Duration::hours(2);
    app.services()
        .run(move |conn, _| {
            let actor = keydesk::store::events::Actor::System("test");
            for n in 0..count {
                keydesk::store::events::record(
                    conn,
                    keydesk::store::events::NewEvent {
                        at: start + chrono::Duration::seconds(n as i64),
                        kind: keydesk_core::EventKind::LoginFailed,
                        actor: &actor,
                        target_user_id: Some(id),
                        target_label: &email,
                        organisation_id: organisation,
                        ip: None,
                        detail: &format!("entry {n}"),
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn text_of(html: &str, selector: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document.select(&selector).map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Where the page's "Newer" (`prev`) or "Older" (`next`) link goes, if it has one.
fn pager_link(html: &str, rel: &str) -> Option<String> {
    let document = scraper::Html::parse_document(html);
    let link = scraper::Selector::parse(&format!("nav.pager a[rel={rel}]")).unwrap();
    document.select(&link).next().and_then(|a| a.value().attr("href")).map(str::to_owned)
}

fn details(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let cell = scraper::Selector::parse("tbody td.detail").unwrap();
    document.select(&cell).map(|td| td.text().collect::<String>()).collect()
}

async fn a_long_log_says_how_long_it_is_and_pages_back_through_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    let acme = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    many_entries(&app, &jane, 1_203).await;
    app.logged_in_as("agent@support.test").await;
    // And whatever creating the people and the agent's login wrote.
    let total =
        app.services().run(|conn, _| Ok(keydesk::store::events::count(conn, &Default::default())?)).await.unwrap();
    let newest_other = total - 1_203;

    let first = app.client.get("/activities").dispatch().await.into_string().await.unwrap();
    assert_eq!(text_of(&first, "#activity-count"), format!("Latest 500 of {total}, newest first."));
    assert_eq!(rows(&first).len(), 500);
    assert_eq!(details(&first)[newest_other as usize], "entry 1202", "newest first");
    assert_eq!(pager_link(&first, "next").as_deref(), Some("/activities?page=2"), "an Older link");
    assert_eq!(pager_link(&first, "prev"), None, "no Newer link on the newest page");

    let second = app.client.get("/activities?page=2").dispatch().await.into_string().await.unwrap();
    assert_eq!(text_of(&second, "#activity-count"), format!("Entries 501–1000 of {total}, newest first."));
    assert_eq!(details(&second).first().map(String::as_str), Some(format!("entry {}", 702 + newest_other).as_str()));
    assert_eq!(pager_link(&second, "prev").as_deref(), Some("/activities?page=1"));
    assert_eq!(pager_link(&second, "next").as_deref(), Some("/activities?page=3"));

    let last = app.client.get("/activities?page=3").dispatch().await.into_string().await.unwrap();
    assert_eq!(text_of(&last, "#activity-count"), format!("Entries 1001–{total} of {total}, newest first."));
    assert_eq!(details(&last).last().map(String::as_str), Some("entry 0"));
    assert_eq!(pager_link(&last, "next"), None, "no Older link on the last page");

    // A page past the end shows the last; the filters stay in the links.
    let beyond = app.client.get("/activities?page=99").dispatch().await.into_string().await.unwrap();
    assert_eq!(details(&beyond), details(&last));
    let filtered =
        app.client.get("/activities?action=Login+failed&page=2").dispatch().await.into_string().await.unwrap();
    assert_eq!(text_of(&filtered, "#activity-count"), "Entries 501–1000 of 1203, newest first.");
    assert_eq!(pager_link(&filtered, "next").as_deref(), Some("/activities?action=Login+failed&page=3"));
}

async fn one_users_activity_is_a_link_away(backend: Backend) {
    // Manage Users links each person to /activities?user=<their email>.
    let app = acme_with_a_lock(backend).await;
    app.logged_in_as("admin@acme.test").await;
    let html = app.client.get("/activities?user=bob%40acme.test").dispatch().await.into_string().await.unwrap();
    let bobs = rows(&html);
    assert!(bobs.contains(&("Login failed".to_owned(), "bob@acme.test".to_owned())), "{bobs:?}");
    assert!(bobs.iter().all(|(_, user)| user == "bob@acme.test"), "{bobs:?}");
    assert_eq!(text_of(&html, "#activity-count"), format!("All {} entries, newest first.", bobs.len()));
    // Someone from another organisation is nobody here.
    let other = app.client.get("/activities?user=zed%40other.test").dispatch().await.into_string().await.unwrap();
    assert!(rows(&other).is_empty());
    assert_eq!(text_of(&other, "#activity-count"), "No entries.");
}
