//! Working a ticket from its page: every action works through its form, refusals come back
//! as error flashes with their reason, Unlock says why it cannot be pressed, and a sender's
//! HTML never reaches the page.

mod common;

use common::desk::*;
use common::{Backend, TestClient};
use std::time::Duration;

on_both_backends!(
    every_action_works_through_its_form_from_take_to_unlock,
    refusals_come_back_as_error_flashes_with_the_reason,
    unlock_is_disabled_with_the_reason_when_unverified_or_already_unlocked,
    unlock_is_disabled_while_support_is_closed_and_says_when_it_opens,
    html_from_an_email_never_reaches_the_page,
);

async fn every_action_works_through_its_form_from_take_to_unlock(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;

    let (kind, message) = act(&app, number, "take", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("success", format!("Done: Ticket #{number} is assigned to you.").as_str())
    );
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-assignee"), "Assigned to you");
    assert_eq!(text(&page, "#ticket-status"), "Open");
    assert_eq!(count(&page, "#take"), 0, "nothing to take any more");

    let (kind, _) = act(&app, number, "note", &[("text", "Called her office: she is on leave until Monday.")]).await;
    assert_eq!(kind, "success");
    let page = get(&app, &format!("/tickets/{number}")).await;
    let note = text(&page, "ol.history li.internal");
    assert!(
        note.contains("Internal note")
            && note.contains("Internal, not sent")
            && note.contains("she is on leave until Monday"),
        "{note}"
    );
    assert!(note.contains("agent@support.test"), "{note}");

    let (kind, message) = act(&app, number, "reply", &[("text", "Hello Jane,\nWe are looking into it.")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Reply sent to jane@acme.test."));
    let reply = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.text.contains("We are looking into it."))
        .expect("the reply was emailed");
    assert!(reply.raw.contains("In-Reply-To: <j@acme.test>"), "threaded to Jane's message:\n{}", reply.raw);
    assert!(reply.subject.contains(&format!("[#{number}]")), "{}", reply.subject);
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "article.message.out"), 2, "acknowledgement and reply");
    assert!(texts(&page, "ol.history li").iter().any(|h| h.contains("Replied to the user")));

    let (kind, message) = act(&app, number, "waiting", &[]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Marked as waiting on the user."));
    assert_eq!(text(&get(&app, &format!("/tickets/{number}")).await, "#ticket-status"), "Waiting on user");

    let (kind, message) = act(&app, number, "challenge", &[]).await;
    assert_eq!(kind, "success");
    assert!(message.contains("jane@acme.test"), "{message}");
    let link = app.latest_confirm_path("jane@acme.test").await;
    // Jane, in her own browser, presses the button.
    let jane = TestClient::new(&app).await;
    assert!(jane.post_form(&link, &[]).await.into_string().await.unwrap().contains("your mailbox is confirmed"));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-verification"), "Mailbox confirmed");
    assert!(text(&page, "#unlock-blocked").contains("not verified"));
    let ready = |page: &str| count(page, &format!("tr#ticket-{number} span.next-step.ready_to_unlock"));
    assert_eq!(ready(&get(&app, "/queue").await), 0, "the queue asks the same rule: not ready");

    let (kind, message) =
        act(&app, number, "verify", &[("method", "mailbox_confirmed"), ("note", "followed the link")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Verified (mailbox confirmed)."));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-verification"), "Verified (mailbox confirmed)");
    assert!(text(&page, "#verified-by").contains("Agnes Agent"));
    assert_eq!(count(&page, "#unlock:not([disabled])"), 1, "Unlock can be pressed now");
    assert_eq!(count(&page, "#unlock-blocked"), 0);
    assert_eq!(ready(&get(&app, "/queue").await), 1, "and the queue says so too");

    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(kind, "success", "{message}");
    assert!(message.starts_with("Done: Account unlocked and ticket resolved."), "{message}");
    assert!(!is_locked(&app, "jane@acme.test").await);
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-status"), "Resolved");
    assert_eq!(text(&page, ".account-line .status-active"), "Active");
    assert!(text(&page, "#resolved-note").starts_with("This ticket is resolved: nothing is left to do."));
    assert_eq!(count(&page, "#unlock"), 0, "a resolved ticket offers no unlock");
    assert_eq!(count(&page, "#resolve"), 0, "nor a resolve");
    let history = texts(&page, "ol.history li");
    assert!(history.iter().any(|h| h.contains("Account unlocked")), "{history:?}");
    let notices: Vec<_> = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .filter(|m| m.subject == "Your account has been unlocked")
        .collect();
    assert_eq!(notices.len(), 1);
    // Resolved: it has left the default queue.
    assert_eq!(queue(&app, "").await, Vec::<i64>::new());
}

async fn refusals_come_back_as_error_flashes_with_the_reason(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    let stranger = arrives(&app, "From: sam@elsewhere.test\nTo: support@keydesk.test\nSubject: help\nMessage-ID: <s@elsewhere.test>\n\nI cannot log in.\n", Duration::from_secs(30)).await;

    let (kind, message) = act(&app, number, "verify", &[("method", "call_back"), ("note", "sounds right")]).await;
    assert_eq!(kind, "error");
    assert_eq!(message, "Error: Not verified. The sender is not authenticated: the mailbox challenge must be answered, or a manager must verify.");
    let (kind, message) = act(&app, number, "verify", &[("method", "mailbox_confirmed"), ("note", "")]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("mailbox challenge has not been answered"), "{message}");
    let (kind, message) = act(&app, number, "note", &[("text", "   ")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", "Error: Write the note first."));
    let (kind, message) = act(&app, number, "reply", &[("text", "")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", "Error: Write the reply first."));
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("error", "Error: Not unlocked. The ticket is not verified: verify the sender first.")
    );
    assert!(is_locked(&app, "jane@acme.test").await);
    let (kind, message) = act(&app, stranger, "challenge", &[]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("not linked to an account"), "{message}");
    assert_eq!(
        count(&get(&app, &format!("/tickets/{stranger}")).await, "#send-challenge"),
        0,
        "no challenge button without an account"
    );

    // A manager may verify an unauthenticated sender.
    app.logged_in_as("manager@support.test").await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(text(&page, "#verification-rule").contains("As a manager, you may verify"));
    let (kind, message) = act(&app, number, "verify", &[("method", "call_back"), ("note", "known to me")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Verified (call back)."));
    let (kind, _) = act(&app, number, "verify", &[("method", "call_back"), ("note", "again")]).await;
    assert_eq!(kind, "info", "verified already: a note, not an error");

    act(&app, number, "resolve", &[]).await;
    let (kind, message) = act(&app, number, "waiting", &[]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("is resolved"), "{message}");
    let (kind, _) = act(&app, number, "resolve", &[]).await;
    assert_eq!(kind, "info", "resolved already");
}

async fn unlock_is_disabled_with_the_reason_when_unverified_or_already_unlocked(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    // The lock came first: mail from before a lock shows nobody now.
    app.clock.advance(chrono::Duration::minutes(10));
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::from_secs(60)).await;

    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), "The ticket is not verified: verify the sender first.");
    assert_eq!(count(&page, "#verification-rule"), 0, "an authenticated sender needs no challenge");

    act(&app, number, "verify", &[("method", "call_back"), ("note", "called the number on file")]).await;
    assert_eq!(count(&get(&app, &format!("/tickets/{number}")).await, "button#unlock:not([disabled])"), 1);

    // Her admin unlocked her meanwhile.
    let jane = app.tickets().await[0].account_user_id.unwrap();
    app.lift_lock(jane).await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), "The account is already unlocked — resolve without unlocking.");
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("error", "Error: Not unlocked. The account is already unlocked — resolve without unlocking.")
    );
    let (kind, message) = act(&app, number, "resolve", &[("note", "unlocked by her admin")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", format!("Done: Ticket #{number} resolved.").as_str()));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(texts(&page, "ol.history li")
        .iter()
        .any(|h| h.contains("Resolved") && h.contains("unlocked by her admin")));
}

async fn unlock_is_disabled_while_support_is_closed_and_says_when_it_opens(backend: Backend) {
    let today = common::test_start().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let reopening = tomorrow.succ_opt().unwrap();
    let app =
        desk(backend, move |f| f.merge(("working_hours.holidays", [today.to_string(), tomorrow.to_string()]))).await;
    lock(&app, "jane@acme.test").await;
    // The lock came first: mail from before a lock shows nobody now.
    app.clock.advance(chrono::Duration::minutes(10));
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::from_secs(60)).await;
    act(&app, number, "verify", &[("method", "call_back"), ("note", "called the number on file")]).await;

    let expected = format!("Support is closed; opens {} 00:00 UTC.", reopening.format("%a %-d %b"));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), expected);
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", format!("Error: Not unlocked. {expected}").as_str()));
    assert!(is_locked(&app, "jane@acme.test").await);

    // It arrived on a holiday: out of hours, and no business time has passed.
    assert_eq!(queue(&app, "?hours=out").await, vec![number]);
    assert_eq!(queue(&app, "?hours=in").await, Vec::<i64>::new());
    let page = get(&app, "/queue").await;
    assert_eq!(text(&page, &format!("tr#ticket-{number} td.age .arrived")), "Out of hours");
    assert_eq!(text(&page, &format!("tr#ticket-{number} td.age span[title]")), "under 1 business hour");
}

async fn html_from_an_email_never_reaches_the_page(backend: Backend) {
    let app = desk(backend, |f| f).await;
    let html = "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: <b>Locked</b> <script>alert(0)</script>\nMessage-ID: <h@acme.test>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Full name: Jane Doe</p><p>Registered email: jane@acme.test</p><p>Issue: locked out <script>alert(1)</script></p><img src=x onerror=\"alert(2)\"><p>&lt;script&gt;alert(3)&lt;/script&gt; <a href=\"javascript:alert(4)\" onclick=\"alert(5)\">link</a></p></body></html>\n";
    let number = arrives(&app, html, Duration::from_secs(60)).await;
    for path in [format!("/tickets/{number}"), "/queue".to_owned()] {
        let page = get(&app, &path).await;
        assert!(!page.contains("<script>alert"), "{path}:\n{page}");
        assert!(!page.contains("onerror="), "{path}:\n{page}");
        assert!(!page.contains("onclick="), "{path}:\n{page}");
        assert!(!page.contains("<img"), "{path}:\n{page}");
        assert!(!page.contains("<b>Locked"), "{path}:\n{page}");
    }
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(text(&page, "article.message.in .message-body").contains("Full name: Jane Doe"), "the text is kept");
}
