//! The Activities page: an organisation's log for its owner and admins, everyone's for
//! agents and managers; filters by user, action and date; typed text cannot forge entries.

mod common;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;

on_both_backends!(
    admins_see_their_organisations_events_filtered_by_user_action_and_date,
    agents_see_every_organisation,
    a_line_break_typed_into_the_email_field_cannot_forge_an_entry,
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
