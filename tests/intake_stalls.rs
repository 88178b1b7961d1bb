//! Nothing stalls intake, nothing costs without bound, nothing is taken in twice: NUL bytes
//! (raw and quoted-printable), the odd things a Maildir can hold (a directory, a symbolic
//! link to a system file, a name that is not UTF-8 or carries Maildir flags, an empty file),
//! a message over the size limit (only its headers are read), the same bytes delivered again
//! under new names, and attachments handed to staff only as downloads.

mod common;

use common::{Backend, TestApp};
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::UnlockPolicy;
use rocket::http::Status;
use std::os::unix::ffi::OsStringExt;

on_both_backends!(
    nul_bytes_never_stall_a_pass,
    odd_maildir_entries_are_skipped_and_reported_and_never_followed,
    an_oversized_message_is_quarantined_from_its_headers_alone,
    the_same_bytes_under_new_names_make_nothing_new,
    attachments_are_listed_and_only_ever_downloaded,
    unreadable_from_headers_are_salvaged_and_8bit_headers_read,
    rows_from_before_the_header_columns_are_filled_at_the_next_start,
    an_overlong_message_id_neither_stalls_intake_nor_loses_its_thread,
);

async fn acme(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app
}

fn request(from: &str, id: &str) -> String {
    format!("From: {from}\nSubject: Locked\nMessage-ID: <{id}>\n\nFull name: Jane Doe\nIssue: locked out\n")
}

async fn nul_bytes_never_stall_a_pass(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail_bytes(b"From: Jane Doe <jane@acme.test>\r\nSubject: Lo\0cked\r\nMessage-ID: <nul1@acme.test>\r\n\r\nName: Jane\0 Doe\r\n");
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nSubject: Locked again\nMessage-ID: <nul2@acme.test>\n\
         Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nI am=00 locked out=00.\n",
    );
    app.drop_mail(&request("Joe <joe@elsewhere.test>", "behind@elsewhere.test"));
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.quarantined), (3, 0), "{summary}");
    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 2, "Jane's two messages are one ticket; the message behind them is taken in too");
    assert_eq!(tickets[0].subject, "Locked");
    let raw = app.services().run(|conn, _| Ok(keydesk::store::inbound::raw(conn, keydesk::ids::LedgerId(1))?)).await;
    assert!(raw.unwrap().unwrap().0.contains(&0), "the raw message is kept byte-exact");
}

async fn odd_maildir_entries_are_skipped_and_reported_and_never_followed(backend: Backend) {
    let app = acme(backend).await;
    let new = app.dir.path().join("intake").join("new");
    std::fs::create_dir_all(new.join("a-directory")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", new.join("1700000000.link.host")).unwrap();
    std::fs::write(new.join("1700000001.empty.host"), "").unwrap();
    let bad_name = std::ffi::OsString::from_vec(b"1700000002.bad-\xff.host".to_vec());
    std::fs::write(new.join(&bad_name), request("Jane <jane@acme.test>", "bad@acme.test")).unwrap();
    // A name that already carries Maildir flags is a message all the same.
    std::fs::write(new.join("1700000003.flagged.host:2,"), request("Jane <jane@acme.test>", "flags@acme.test"))
        .unwrap();
    app.drop_mail(&request("Joe <joe@elsewhere.test>", "joe@elsewhere.test"));

    for pass in 0..2 {
        let summary = app.intake_once().await;
        assert_eq!(summary.skipped, 4, "pass {pass}: {summary}");
        assert_eq!(summary.fetched, if pass == 0 { 2 } else { 0 }, "pass {pass}");
    }
    assert_eq!(app.tickets().await.len(), 2);
    assert!(app.dir.path().join("intake/cur/1700000003.flagged.host:2,S").exists());
    let everything = app.services().run(|conn, _| Ok(keydesk::store::inbound::raw(conn, keydesk::ids::LedgerId(1))?));
    assert!(!String::from_utf8_lossy(&everything.await.unwrap().unwrap().0).contains("root:"), "no system file read");

    app.logged_in_as("agent@support.test").await;
    let page = app.client.get("/intake").dispatch().await.into_string().await.unwrap();
    for shown in ["a-directory: a directory", "a symbolic link (never followed)", "an empty file", "not UTF-8"] {
        assert!(page.contains(shown), "/intake lists {shown:?}");
    }
}

async fn an_oversized_message_is_quarantined_from_its_headers_alone(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("intake.max_message_bytes", 4_096))).await;
    let body = "y".repeat(50_000);
    app.drop_mail(&format!("From: Big <big@sender.test>\nSubject: Huge\nMessage-ID: <big@sender.test>\n\n{body}"));
    let summary = app.intake_once().await;
    assert_eq!(summary.quarantined, 1);
    let entry = app.ledger(LedgerOutcome::Quarantined).await.remove(0);
    assert!(!entry.raw_complete && entry.size_bytes > 50_000, "{entry:?}");
    let (raw, _) =
        app.services().run(move |conn, _| Ok(keydesk::store::inbound::raw(conn, entry.id)?)).await.unwrap().unwrap();
    assert!(raw.len() < 200 && raw.ends_with(b"\r\n\r\n"), "only the header block was read: {} bytes", raw.len());
    assert!(app.dir.path().join("intake/cur").read_dir().unwrap().count() == 1, "the message stays in the Maildir");
}

async fn the_same_bytes_under_new_names_make_nothing_new(backend: Backend) {
    let app = acme(backend).await;
    let messages = [
        request("Jane <jane@acme.test>", "r1@acme.test"),
        "From: Sam <sam@elsewhere.test>\nSubject: no message id\n\nI have no Message-ID".to_owned(),
        "this is not an email".to_owned(),
    ];
    for raw in &messages {
        app.drop_mail(raw);
    }
    let first = app.intake_once().await;
    assert_eq!((first.new_tickets, first.quarantined), (2, 1));
    let sent = app.mail().await.len();
    // The same bytes again, under new names (an MTA retry, a restored mailbox).
    for raw in &messages {
        app.drop_mail(raw);
    }
    let again = app.intake_once().await;
    assert_eq!((again.fetched, again.duplicates, again.new_tickets, again.quarantined), (3, 3, 0, 0));
    assert_eq!(app.tickets().await.len(), 2);
    assert_eq!(app.mail().await.len(), sent, "no second acknowledgement");
}

/// PostgreSQL cannot index a value over about 2,700 bytes: a Message-ID of thousands of
/// random characters (which Postfix delivers) used to fail its ledger row, and its
/// quarantine row, at every pass, so nothing behind it was ever taken in.
async fn an_overlong_message_id_neither_stalls_intake_nor_loses_its_thread(backend: Backend) {
    let app = acme(backend).await;
    // Random, so that PostgreSQL cannot compress it under the limit either.
    let random: String = (0..100).map(|_| keydesk_core::PlainToken::generate().expose().to_owned()).collect();
    let long_id = format!("{random}@acme.test");
    assert!(long_id.len() > 4000);
    let first = request("Jane Doe <jane@acme.test>", &long_id);
    app.drop_mail(&first);
    app.drop_mail(&request("Joe <joe@elsewhere.test>", "behind-the-long-one@elsewhere.test"));
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.quarantined), (2, 2, 0), "{summary}");

    // The same bytes again, and Jane's reply to her first message (no ticket tag).
    app.drop_mail(&first);
    app.drop_mail(&format!(
        "From: Jane Doe <jane@acme.test>\nSubject: Re: Locked\nMessage-ID: <jane-reply@acme.test>\n\
         In-Reply-To: <{long_id}>\nReferences: <{long_id}>\n\nAny news?\n"
    ));
    let again = app.intake_once().await;
    assert_eq!((again.fetched, again.duplicates, again.new_tickets, again.quarantined), (2, 1, 0, 0), "{again}");
    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 2);
    let janes = tickets.iter().find(|t| t.sender == "jane@acme.test").expect("Jane's ticket").id;
    let messages =
        app.services().run(move |conn, _| Ok(keydesk::store::tickets::messages(conn, janes)?)).await.unwrap();
    let incoming: Vec<_> = messages.iter().filter(|m| m.direction == keydesk_core::MessageDirection::In).collect();
    assert_eq!(incoming.len(), 2, "the reply joined the ticket its long Message-ID started");
    assert!(incoming[0].message_id.len() < 120, "stored as a digest: {}", incoming[0].message_id);
}

async fn attachments_are_listed_and_only_ever_downloaded(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nSubject: Locked\nMessage-ID: <att@acme.test>\n\
         Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nScreenshot attached.\n\
         --b\nContent-Type: text/html; name=\"../evil.html\"\nContent-Disposition: attachment; filename=\"../evil.html\"\n\n\
         <script>alert(1)</script>\n--b\nContent-Type: application/ms-tnef\n\
         Content-Disposition: attachment; filename=winmail.dat\n\nTNEF\n--b--\n",
    );
    app.intake_once().await;
    let ticket = app.tickets().await[0].id;
    let files = app.attachments_of(ticket).await;
    let names: Vec<&str> = files.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, ["evil.html", "winmail.dat"]);
    assert!(files[1].note.contains("TNEF"), "winmail.dat is shown for what it is");

    app.logged_in_as("agent@support.test").await;
    let page = app.client.get(format!("/tickets/{ticket}")).dispatch().await.into_string().await.unwrap();
    assert!(page.contains("evil.html") && !page.contains("<script>alert(1)</script>"));
    let response = app.client.get(format!("/tickets/{ticket}/attachments/{}", files[0].id)).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    let header = |name: &str| response.headers().get_one(name).map(str::to_owned);
    assert_eq!(header("Content-Type").as_deref(), Some("application/octet-stream"));
    assert_eq!(header("X-Content-Type-Options").as_deref(), Some("nosniff"));
    assert!(header("Content-Disposition").unwrap().starts_with("attachment; filename=\"evil.html\""));
    assert!(header("Content-Security-Policy").unwrap().contains("sandbox"));
    // Another ticket's number does not reach this attachment.
    let elsewhere = app.client.get(format!("/tickets/999/attachments/{}", files[0].id)).dispatch().await;
    assert_eq!(elsewhere.status(), Status::NotFound);
}

async fn unreadable_from_headers_are_salvaged_and_8bit_headers_read(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail_bytes(
        b"From: Jane Doe jane@acme.test\r\nSubject: Locked\r\nMessage-ID: <s1@acme.test>\r\n\r\nhelp\r\n",
    );
    app.drop_mail_bytes(
        b"From: Ren\xe9e Dupont <renee@elsewhere.test>\r\nSubject: Compte bloqu\xe9\r\nMessage-ID: <s2@x.test>\r\n\r\n\
          Je suis bloqu\xe9e.\r\n",
    );
    let summary = app.intake_once().await;
    assert_eq!((summary.new_tickets, summary.quarantined), (2, 0), "{summary}");
    let tickets = app.tickets().await;
    assert_eq!((tickets[0].sender.as_str(), tickets[0].account_user_id.is_some()), ("jane@acme.test", true));
    assert_eq!(tickets[1].subject, "Compte bloqué");
    assert_eq!(tickets[1].sender_name.as_deref(), Some("Renée Dupont"));
}

async fn rows_from_before_the_header_columns_are_filled_at_the_next_start(backend: Backend) {
    use diesel::prelude::*;
    use keydesk::db::schema::inbound_messages;
    let app = acme(backend).await;
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nSubject: Locked\nMessage-ID: <old@acme.test>\n\
         Authentication-Results: mx.keydesk.test; dmarc=pass header.from=acme.test\n\nlocked out\n",
    );
    app.intake_once().await;
    // As an older Keydesk left it: no header columns.
    app.services()
        .run(|conn, _| {
            diesel::update(inbound_messages::table)
                .set((
                    inbound_messages::from_header.eq(""),
                    inbound_messages::subject.eq(""),
                    inbound_messages::authentication_results.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let TestApp { client, backend, database, dir, .. } = app;
    drop(client);
    let app = TestApp::open(backend, database, dir).await;
    let entry = app.ledger(LedgerOutcome::Ticket).await.remove(0);
    assert_eq!((entry.from_header.as_str(), entry.subject.as_str()), ("Jane Doe <jane@acme.test>", "Locked"));
    let id = entry.id;
    let results = app
        .services()
        .run(move |conn, _| Ok(keydesk::store::inbound::authentication_results(conn, id)?))
        .await
        .unwrap();
    assert_eq!(results, ["mx.keydesk.test; dmarc=pass header.from=acme.test"]);
}
