//! Mail that must never be answered: Keydesk's own acknowledgement bounced back in the
//! shapes real mail servers send (a standard DSN, a null-sender notice with the original
//! attached, an Exchange-style "Undeliverable" with the original's headers, a qmail text
//! bounce quoting it, an out-of-office reply) goes onto its ticket's history and nowhere
//! else; machine senders and list mail make no ticket; a flooding sender gets three
//! acknowledgements an hour; forged or spam-flagged mail opens a ticket but is not answered.

mod common;

use common::{Backend, TestApp};
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::UnlockPolicy;

on_both_backends!(
    a_bounced_acknowledgement_goes_on_its_ticket_in_every_shape_and_is_never_answered,
    machine_senders_and_list_mail_make_no_ticket_and_get_no_reply,
    a_flooding_sender_gets_three_acknowledgements_an_hour,
    forged_or_spam_flagged_mail_opens_a_ticket_without_an_answer,
);

async fn acme(backend: Backend) -> TestApp {
    let app = TestApp::with(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app
}

const JANE_ASKS: &str = "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked out\n\
                         Message-ID: <jane-1@acme.test>\n\nFull name: Jane Doe\nRegistered email: jane@acme.test\n\
                         Issue: locked out this morning\n";

/// Bounces of `ack` (the acknowledgement as it left, LF line endings), as servers send them.
fn bounces_of(ack: &str, ack_id: &str, ack_subject: &str) -> Vec<(&'static str, String)> {
    let headers = &ack[..ack.find("\n\n").unwrap_or(ack.len())];
    vec![
        (
            "postfix",
            format!(
                "Return-Path: <>\nFrom: MAILER-DAEMON@mx.acme.test (Mail Delivery System)\nTo: support@keydesk.test\n\
                 Subject: Undelivered Mail Returned to Sender\nAuto-Submitted: auto-replied\nMessage-ID: <b1@mx.acme.test>\n\
                 MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"\n\n\
                 --B1\nContent-Type: text/plain\n\nThis is the mail system at host mx.acme.test.\n\n\
                 <jane@acme.test>: host mx.acme.test said: 552 5.2.2 Mailbox full\n\
                 --B1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.test\n\n\
                 Final-Recipient: rfc822; jane@acme.test\nAction: failed\nStatus: 5.2.2\n\
                 --B1\nContent-Type: message/rfc822\n\n{ack}\n--B1--\n"
            ),
        ),
        (
            "null sender, no report, original attached",
            format!(
                "Return-Path: <>\nFrom: no-reply@mx.acme.test\nTo: support@keydesk.test\nSubject: Delivery Failure\n\
                 Message-ID: <b2@mx.acme.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B2\"\n\n\
                 --B2\nContent-Type: text/plain\n\nYour message could not be delivered to jane@acme.test.\n\
                 --B2\nContent-Type: message/rfc822\n\n{ack}\n--B2--\n"
            ),
        ),
        (
            "exchange",
            format!(
                "From: postmaster@acme.test\nTo: support@keydesk.test\nSubject: Undeliverable: {ack_subject}\n\
                 Message-ID: <b3@acme.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B3\"\n\n\
                 --B3\nContent-Type: text/plain\n\nDelivery has failed to these recipients: jane@acme.test\n\
                 Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n\
                 --B3\nContent-Type: text/rfc822-headers\n\n{headers}\n--B3--\n"
            ),
        ),
        (
            "qmail",
            format!(
                "From: MAILER-DAEMON@mail.acme.test\nTo: support@keydesk.test\nSubject: failure notice\n\
                 Message-ID: <b4@mail.acme.test>\n\nHi. This is the qmail-send program at mail.acme.test.\n\
                 I'm afraid I wasn't able to deliver your message to the following addresses.\n\n\
                 <jane@acme.test>:\nSorry, the user's mailbox is full.\n\n--- Below this line is a copy of the message.\n\n\
                 {headers}\n\nHello again\n"
            ),
        ),
        (
            "out of office",
            format!(
                "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Automatic reply: {ack_subject}\n\
                 Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\nIn-Reply-To: <{ack_id}>\n\
                 Message-ID: <ooo@acme.test>\n\nI am out of the office until Monday.\n"
            ),
        ),
    ]
}

async fn a_bounced_acknowledgement_goes_on_its_ticket_in_every_shape_and_is_never_answered(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(JANE_ASKS);
    app.intake_once().await;
    let ticket = app.tickets().await[0].id;
    let ack = app.mail_to("jane@acme.test").await.remove(0);
    let raw = ack.raw.replace("\r\n", "\n");
    let ack_id = raw.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap().trim_matches(['<', '>']).to_owned();
    let sent_before = app.mail().await.len();

    for (shape, bounce) in bounces_of(&raw, &ack_id, &ack.subject) {
        app.drop_mail(&bounce);
        let summary = app.intake_once().await;
        assert_eq!((summary.ignored, summary.new_tickets, summary.quarantined), (1, 0, 0), "{shape}");
    }
    assert_eq!(app.tickets().await.len(), 1, "no bounce became a ticket");
    assert_eq!(app.mail().await.len(), sent_before, "nothing answered any of them");
    let history = app.history_of(ticket).await;
    let noted: Vec<&(String, String)> =
        history.iter().filter(|(label, _)| label == "Notification bounced" || label == "Auto-reply received").collect();
    assert_eq!(noted.len(), 5, "{history:#?}");
    assert!(noted[0].1.starts_with("mailbox full (5.2.2), from mailer-daemon@mx.acme.test"), "{noted:?}");
    assert!(noted[2].1.starts_with("no such mailbox (5.1.1)"), "{noted:?}");
    assert!(noted[3].1.starts_with("mailbox full"), "{noted:?}");
    assert_eq!(noted[4].0, "Auto-reply received");
    let ignored = app.ledger(LedgerOutcome::Ignored).await;
    assert!(ignored.iter().all(|m| m.ticket_id == Some(ticket)), "each filed under its ticket");
}

async fn machine_senders_and_list_mail_make_no_ticket_and_get_no_reply(backend: Backend) {
    let app = acme(backend).await;
    let machine = [
        "From: Shop <noreply@shop.test>\nSubject: Your order\n\nThanks for your order",
        "From: root@localhost\nSubject: Cron <root@host> backup\n\nbackup done",
        "From: News <news@letters.test>\nList-Unsubscribe: <mailto:unsub@letters.test>\nSubject: Weekly\n\nNews",
        "From: users@lists.test\nList-Id: <users.lists.test>\nSubject: [users] locked out?\n\nAnyone else?",
        "From: Abuse Desk <abuse@isp.test>\nFeedback-Type: abuse\nSubject: complaint\n\nReport",
        "From: Jane Doe <jane@acme.test>\nSubject: Abwesenheitsnotiz: Locked out\n\nIch bin nicht im Büro.",
    ];
    for raw in machine {
        app.drop_mail(raw);
    }
    let summary = app.intake_once().await;
    assert_eq!((summary.ignored, summary.new_tickets), (machine.len(), 0));
    assert!(app.mail().await.is_empty(), "no acknowledgement to any machine or list");
    let classes: Vec<Option<String>> =
        app.ledger(LedgerOutcome::Ignored).await.into_iter().rev().map(|m| m.machine_class).collect();
    let expected = ["machine", "machine", "list", "list", "abuse_report", "auto_reply"];
    assert_eq!(classes, expected.map(|c| Some(c.to_owned())));
}

async fn a_flooding_sender_gets_three_acknowledgements_an_hour(backend: Backend) {
    let app = acme(backend).await;
    // However the address is spelt: one mailbox, one allowance (intake reads a sender in its
    // canonical form).
    for (n, address) in
        ["sam@elsewhere.test", "Sam@Elsewhere.test", "SAM@elsewhere.test", "sam@ELSEWHERE.TEST", "sam@elsewhere.test"]
            .iter()
            .enumerate()
    {
        app.drop_mail(&format!(
            "From: Sam <{address}>\nSubject: help {n}\nMessage-ID: <s{n}@elsewhere.test>\n\nhelp {n}"
        ));
    }
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 5, "every message is still taken in");
    let to_sam =
        |mail: &Vec<common::Mail>| mail.iter().filter(|m| m.to.eq_ignore_ascii_case("sam@elsewhere.test")).count();
    assert_eq!(to_sam(&app.mail().await), 3);
    let withheld = app.tickets().await;
    let last = app.history_of(withheld[4].id).await;
    assert!(last
        .iter()
        .any(|(label, detail)| label == "Acknowledgement not sent" && detail.contains("3 acknowledgements")));

    // An hour later the brake has let go.
    app.clock.advance(chrono::Duration::minutes(61));
    app.drop_mail("From: Sam <sam@elsewhere.test>\nSubject: still locked\nMessage-ID: <s9@elsewhere.test>\n\nplease");
    app.intake_once().await;
    assert_eq!(to_sam(&app.mail().await), 4);
}

async fn forged_or_spam_flagged_mail_opens_a_ticket_without_an_answer(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nAuthentication-Results: mx.keydesk.test; dmarc=fail header.from=acme.test\n\
         Subject: Locked\nMessage-ID: <forged@evil.test>\n\nFull name: Jane Doe\nIssue: unlock me now\n",
    );
    app.drop_mail("From: Prize <winner@prizes.test>\nX-Spam-Flag: YES\nSubject: You won\n\nClaim it");
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 2, "staff still see them");
    assert!(app.mail().await.is_empty(), "no backscatter");
    for ticket in app.tickets().await {
        let history = app.history_of(ticket.id).await;
        assert!(history.iter().any(|(label, _)| label == "Acknowledgement not sent"), "{history:?}");
    }
}
