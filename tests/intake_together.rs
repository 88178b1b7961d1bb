//! A batch's new requests are filed together (`intake::together`), and the rest one by one.
//! Filing a batch must give exactly what filing its messages one at a time, in order, gives:
//! the same ledger outcomes, tickets, links to accounts, threads, histories, acknowledgements
//! and withheld ones. Checked on a batch made to hold every way two messages of a batch can
//! depend on each other, on the real-world corpus, and with a ticket the database refuses to
//! write (the batch falls back to one by one, that message is quarantined alone).

mod common;

use common::{Backend, TestApp};
use keydesk::app::Services;
use keydesk::intake::{take_in, take_in_batch, IntakeOutcome, RawMessage};
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::UnlockPolicy;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

on_both_backends!(
    a_batch_gives_what_filing_its_messages_one_at_a_time_gives,
    the_real_world_corpus_filed_in_batches_gives_what_one_at_a_time_gives,
    a_ticket_the_database_refuses_is_quarantined_alone_and_the_rest_filed,
    a_message_answering_forty_thousand_message_ids_is_filed_with_its_batch,
    batches_of_another_shape_are_filed_one_by_one_with_the_same_result,
);

fn email(from: &str, message_id: &str, subject: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@keydesk.test\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n{extra_headers}\
         Date: Mon, 23 Nov 2026 09:12:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn request(name: &str, registered: &str) -> String {
    format!("Hello,\r\n\r\nFull name: {name}\r\nRegistered email: {registered}\r\nIssue: my account is locked.\r\n")
}

/// Every way a message of a batch can depend on an earlier one, and some that do not.
fn dependent_batch() -> Vec<Vec<u8>> {
    let with_attachment = "From: Dora Doe <dora@elsewhere.test>\r\nTo: support@keydesk.test\r\nSubject: Locked, \
        screenshot attached\r\nMessage-ID: <dora-1@elsewhere.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; \
        boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFull name: Dora Doe\r\nIssue: locked out.\r\n--b\r\n\
        Content-Type: image/png\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\nContent-Transfer-Encoding: \
        base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
    let jane_asks = email(
        "Jane Doe <jane@acme.test>",
        "jane-1@acme.test",
        "Account locked",
        "",
        &request("Jane Doe", "jane@acme.test"),
    );
    let mut batch = vec![
        // Jane, twice: the second threads onto the first's new ticket.
        jane_asks.clone(),
        email("Jane Doe <jane@acme.test>", "jane-2@acme.test", "Still locked", "", "Any news?"),
        // An admin for an employee, then the employee: one ticket, about Bob, asked by Alice.
        email(
            "Alice Admin <alice@acme.test>",
            "alice-1@acme.test",
            "Bob is locked",
            "",
            &request("Bob Builder", "bob@acme.test"),
        ),
        email("Bob <bob@acme.test>", "bob-1@acme.test", "Locked", "", "Please unlock me."),
        // Someone answering Jane's first message from elsewhere: threaded by In-Reply-To.
        email(
            "Jane at home <jane.doe@home.test>",
            "jane-3@home.test",
            "Re: Account locked",
            "In-Reply-To: <jane-1@acme.test>\r\n",
            "Writing from home.",
        ),
        // The same bytes as Jane's first message, delivered again under another name.
        jane_asks,
        // Carol already has an open ticket: threaded onto it.
        email("Carol <carol@acme.test>", "carol-2@acme.test", "Locked again?", "", "Hello again."),
        // A tag naming no ticket, and a reply to a message no thread holds: new tickets.
        email("Erin <erin@elsewhere.test>", "erin-1@elsewhere.test", "[#99999] Locked", "", "Locked out."),
        email(
            "Frank <frank@elsewhere.test>",
            "frank-1@elsewhere.test",
            "Re: Your account was locked",
            "In-Reply-To: <lock-notice-1@vendor.test>\r\n",
            "That was me, please unlock.",
        ),
        // Marked as spam by the receiving server: a ticket without an answer.
        email("Gus <gus@elsewhere.test>", "gus-1@elsewhere.test", "Locked", "X-Spam-Flag: YES\r\n", "Locked out."),
        // Machine mail and mail that cannot be answered.
        email(
            "Mail Delivery System <MAILER-DAEMON@mx.test>",
            "bounce-1@mx.test",
            "Undelivered Mail Returned to Sender",
            "Auto-Submitted: auto-replied\r\n",
            "This is the mail system. Your message could not be delivered.",
        ),
        b"Subject: no sender at all\r\n\r\nhello\r\n".to_vec(),
        with_attachment.as_bytes().to_vec(),
    ];
    // A sender writing five times (a flood), spelling the address differently: five tickets,
    // three acknowledgements.
    for (n, address) in ["hal", "Hal", "HAL", "hal", "hAl"].iter().enumerate() {
        let from = format!("Hal <{address}@elsewhere.test>");
        batch.push(email(&from, &format!("hal-{n}@elsewhere.test"), &format!("Locked {n}"), "", "x"));
    }
    // People writing once each, about no account: the plain case.
    for n in 0..20 {
        let from = format!("Person {n} <person{n}@elsewhere.test>");
        batch.push(email(&from, &format!("p{n}@elsewhere.test"), "Locked", "", &request(&format!("Person {n}"), "")));
    }
    batch
}

async fn acme(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    for (email, name, role) in [
        ("jane@acme.test", "Jane Doe", "member"),
        ("alice@acme.test", "Alice Admin", "admin"),
        ("bob@acme.test", "Bob Builder", "member"),
        ("carol@acme.test", "Carol", "member"),
    ] {
        app.user(email, name, role, Some(&org)).await;
    }
    // Carol's open ticket, from before the batch.
    let carol =
        email("Carol <carol@acme.test>", "carol-1@acme.test", "Locked", "", &request("Carol", "carol@acme.test"));
    let raw = raw_message("before", carol, &app);
    app.services().run(move |conn, services| take_in(conn, services, &raw)).await.unwrap();
    app
}

fn raw_message(key: &str, bytes: Vec<u8>, app: &TestApp) -> RawMessage {
    RawMessage::whole("test:together".into(), key.into(), app.now().naive_utc(), bytes)
}

fn raws(messages: &[Vec<u8>], app: &TestApp) -> Vec<RawMessage> {
    messages.iter().enumerate().map(|(n, bytes)| raw_message(&format!("{n:04}"), bytes.clone(), app)).collect()
}

/// Files `messages` in batches of `batch` (the intake sources' largest), or one at a time
/// through `take_in`, which never files together.
async fn file(app: &TestApp, messages: &[Vec<u8>], batch: Option<usize>) -> Vec<IntakeOutcome> {
    file_raws(app, raws(messages, app), batch).await
}

async fn file_raws(app: &TestApp, raws: Vec<RawMessage>, batch: Option<usize>) -> Vec<IntakeOutcome> {
    app.services()
        .run(move |conn, services: &Services| {
            let mut outcomes = Vec::new();
            match batch {
                Some(size) => {
                    for chunk in raws.chunks(size) {
                        outcomes.extend(take_in_batch(conn, services, chunk)?);
                    }
                }
                None => {
                    for raw in &raws {
                        outcomes.push(take_in(conn, services, raw)?);
                    }
                }
            }
            Ok(outcomes)
        })
        .await
        .unwrap()
}

/// Everything filing wrote, told without ids (which differ with the filing order): per ledger
/// row in source-key order, its outcome and its ticket as a whole.
async fn everything_filed(app: &TestApp) -> Vec<String> {
    app.services()
        .run(|conn, _| {
            use diesel::prelude::*;
            use keydesk::db::schema;
            use keydesk::store::{inbound, ticket_events, tickets, users};
            let mut ledger = Vec::new();
            for outcome in LedgerOutcome::ALL {
                ledger.extend(inbound::with_outcome(conn, outcome, 10_000)?);
            }
            ledger.sort_by(|a, b| a.source_key.cmp(&b.source_key));
            // A ticket is named by the ledger row that opened it.
            let names: HashMap<i64, String> = ledger
                .iter()
                .filter(|row| row.outcome == LedgerOutcome::Ticket)
                .filter_map(|row| Some((row.ticket_id?.0, format!("T{}", row.source_key))))
                .collect();
            let email_of = |conn: &mut keydesk::db::DbConnection, id: Option<keydesk::ids::UserId>| {
                id.map(|id| users::find(conn, id).map(|u| u.map(|u| u.email))).transpose().map(Option::flatten)
            };
            let mut told = Vec::new();
            for row in &ledger {
                let attached: i64 = schema::attachments::table
                    .filter(schema::attachments::inbound_message_id.eq(row.id))
                    .count()
                    .get_result(conn)?;
                let mut line = format!("{} {} {:?} attachments={attached}", row.source_key, row.outcome.as_str(), row.reason);
                if let Some(id) = row.ticket_id {
                    let ticket = tickets::find(conn, id)?.expect("the ledger's ticket");
                    let account = email_of(conn, ticket.account_user_id)?;
                    let requester = email_of(conn, ticket.requester_user_id)?;
                    line += &format!(
                        "\n  ticket {}: {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} account={account:?} requester={requester:?}",
                        names[&id.0],
                        ticket.status.as_str(),
                        ticket.sender,
                        ticket.sender_name,
                        ticket.subject,
                        ticket.full_name,
                        ticket.registered_email,
                        ticket.description,
                        ticket.received_at,
                    );
                    for message in tickets::messages(conn, id)? {
                        // Only Keydesk's own messages name the ticket by its number.
                        let direction = message.direction.as_str();
                        let (subject, body) = match direction {
                            "out" => (renumber(&message.subject, &names), renumber(&message.body_text, &names)),
                            _ => (message.subject.clone(), message.body_text.clone()),
                        };
                        line += &format!("\n  thread: {direction} {:?} {subject:?} {body:?}", message.sender);
                    }
                    for event in ticket_events::of_ticket(conn, id)? {
                        line += &format!("\n  history: {} {:?} {:?}", event.kind.as_str(), event.actor_label, event.detail);
                    }
                }
                told.push(line);
            }
            Ok(told)
        })
        .await
        .unwrap()
}

/// What Keydesk writes of a ticket's number (`[#N]`, `ticket #N`) with the ticket's name in
/// its place.
fn renumber(text: &str, names: &HashMap<i64, String>) -> String {
    let mut out = text.to_owned();
    for (number, name) in names {
        for (before, after) in [("[#", "]"), ("ticket #", ".")] {
            out = out.replace(&format!("{before}{number}{after}"), &format!("{before}{name}{after}"));
        }
    }
    out
}

/// Two accounts of what was filed, row by row: the first difference is shown, with its
/// row's first line.
fn assert_same(together: &[String], alone: &[String]) {
    for (a, b) in together.iter().zip(alone) {
        let Some(at) = a
            .char_indices()
            .zip(b.chars())
            .find(|((_, x), y)| x != y)
            .map(|((i, _), _)| i)
            .or_else(|| (a.len() != b.len()).then_some(a.len().min(b.len())))
        else {
            continue;
        };
        let row = a.lines().next().unwrap_or_default();
        let near = |s: &str| s.get(at.saturating_sub(300)..).unwrap_or(s).chars().take(600).collect::<String>();
        panic!("{row}: filed together:\n…{}\n\none at a time:\n…{}", near(a), near(b));
    }
    assert_eq!(together.len(), alone.len());
}

/// The acknowledgements queued, by mailbox (however its address was spelt).
async fn acknowledgements(app: &TestApp) -> BTreeMap<String, usize> {
    let mut sent = BTreeMap::new();
    for mail in app.mail().await {
        *sent.entry(mail.to.to_lowercase()).or_insert(0) += 1;
    }
    sent
}

/// Each outcome's kind ("NewTicket", "Threaded", …), without the ids that differ.
fn outcome_kinds(outcomes: &[IntakeOutcome]) -> Vec<String> {
    outcomes.iter().map(|o| format!("{o:?}").split('(').next().unwrap().to_owned()).collect()
}

async fn a_batch_gives_what_filing_its_messages_one_at_a_time_gives(backend: Backend) {
    let messages = dependent_batch();
    let (together, alone) = (acme(backend).await, acme(backend).await);
    let filed_together = file(&together, &messages, Some(200)).await;
    let filed_alone = file(&alone, &messages, None).await;
    let kinds = outcome_kinds;
    assert_eq!(kinds(&filed_together), kinds(&filed_alone));
    let (told_together, told_alone) = (everything_filed(&together).await, everything_filed(&alone).await);
    assert_same(&told_together, &told_alone);
    assert_eq!(acknowledgements(&together).await, acknowledgements(&alone).await);

    // The batch held what it was made to hold.
    let count = |kind: &str| kinds(&filed_together).iter().filter(|k| *k == kind).count();
    assert_eq!(count("NewTicket"), 1 + 1 + 2 + 1 + 1 + 5 + 20, "{told_together:#?}");
    assert_eq!((count("Threaded"), count("Duplicate"), count("Ignored"), count("Quarantined")), (4, 1, 1, 1));
    let hal = acknowledgements(&together).await.get("hal@elsewhere.test").copied();
    assert_eq!(hal, Some(3), "a flooding sender gets three acknowledgements an hour");
    assert!(told_together.iter().any(|t| t.contains("requester=Some(\"alice@acme.test\")")));
    assert!(told_together.iter().any(|t| t.contains("attachments=1")));
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

async fn the_real_world_corpus_filed_in_batches_gives_what_one_at_a_time_gives(backend: Backend) {
    let manifest = std::fs::read_to_string(Path::new(CORPUS).join("MANIFEST.tsv")).unwrap();
    let messages: Vec<Vec<u8>> = manifest
        .lines()
        .skip(1)
        .map(|line| std::fs::read(Path::new(CORPUS).join("mail").join(line.split('\t').next().unwrap())).unwrap())
        .collect();
    assert!(messages.len() >= 500);
    let (together, alone) = (acme(backend).await, acme(backend).await);
    // The corpus's bounces mention ticket numbers ("[#105]") that point at whichever ticket
    // has that number here; new tickets are numbered from a million, beyond them all.
    for app in [&together, &alone] {
        number_tickets_from_a_million(app, backend).await;
    }
    file(&together, &messages, Some(200)).await;
    file(&alone, &messages, None).await;
    let (told_together, told_alone) = (everything_filed(&together).await, everything_filed(&alone).await);
    assert_eq!(told_together.len(), messages.len() + 1, "every message has its ledger row, and Carol's");
    assert_same(&told_together, &told_alone);
    assert_eq!(acknowledgements(&together).await, acknowledgements(&alone).await);
}

async fn number_tickets_from_a_million(app: &TestApp, backend: Backend) {
    let statement = match backend {
        Backend::Sqlite => "UPDATE sqlite_sequence SET seq = 999999 WHERE name = 'tickets'",
        Backend::Postgres => "SELECT setval('tickets_id_seq', 999999)",
    };
    app.services()
        .run(move |conn, _| {
            use diesel::RunQueryDsl;
            diesel::sql_query(statement).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn a_ticket_the_database_refuses_is_quarantined_alone_and_the_rest_filed(backend: Backend) {
    let app = acme(backend).await;
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON tickets WHEN NEW.sender = 'boom@elsewhere.test' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN \
             IF NEW.sender = 'boom@elsewhere.test' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
        ],
    };
    app.services()
        .run(move |conn, _| {
            use diesel::RunQueryDsl;
            for statement in refuse {
                diesel::sql_query(statement).execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut messages: Vec<Vec<u8>> = (0..5)
        .map(|n| email(&format!("<person{n}@elsewhere.test>"), &format!("p{n}@elsewhere.test"), "Locked", "", "locked"))
        .collect();
    messages.insert(2, email("<boom@elsewhere.test>", "boom@elsewhere.test", "Locked", "", "locked"));
    let outcomes = file(&app, &messages, Some(200)).await;
    let kinds: Vec<bool> = outcomes.iter().map(|o| matches!(o, IntakeOutcome::NewTicket(_))).collect();
    assert_eq!(kinds, [true, true, false, true, true, true], "{outcomes:?}");
    assert!(
        matches!(&outcomes[2], IntakeOutcome::Quarantined(why) if why.contains("refused by the test")),
        "{outcomes:?}"
    );
    assert_eq!(app.tickets().await.len(), 1 + 5, "Carol's and the five others");
}

/// Each Message-ID looked up is a statement parameter, and SQLite takes at most 32,766: a
/// sender listing 40,000 in References must not fail its batch, pass after pass.
async fn a_message_answering_forty_thousand_message_ids_is_filed_with_its_batch(backend: Backend) {
    let app = acme(backend).await;
    let references: Vec<String> = (0..40_000).map(|n| format!("<old-{n}@elsewhere.test>")).collect();
    let header = format!("References: {}\r\n", references.join("\r\n "));
    let mut messages: Vec<Vec<u8>> = (0..5)
        .map(|n| email(&format!("<person{n}@elsewhere.test>"), &format!("p{n}@elsewhere.test"), "Locked", "", "locked"))
        .collect();
    messages.insert(2, email("<many@elsewhere.test>", "many@elsewhere.test", "Re: Locked", &header, "locked"));
    let outcomes = file(&app, &messages, Some(200)).await;
    assert!(outcomes.iter().all(|o| matches!(o, IntakeOutcome::NewTicket(_))), "{outcomes:?}");
    assert_eq!(app.tickets().await.len(), 1 + 6);
}

/// A batch longer than the sources cut (more than 200) or holding two sources' messages is
/// not filed together (the bind limits and the ledger's per-source lookups are sized for
/// one source's batch): every message of it is filed on its own, with the same result.
async fn batches_of_another_shape_are_filed_one_by_one_with_the_same_result(backend: Backend) {
    let mut messages = dependent_batch();
    for n in 0..(260 - messages.len()) {
        let from = format!("Someone {n} <someone{n}@elsewhere.test>");
        messages.push(email(
            &from,
            &format!("s{n}@elsewhere.test"),
            "Locked",
            "",
            &request(&format!("Someone {n}"), ""),
        ));
    }
    let (long, alone) = (acme(backend).await, acme(backend).await);
    let long_outcomes = file(&long, &messages, Some(messages.len())).await;
    let alone_outcomes = file(&alone, &messages, None).await;
    assert_eq!(long_outcomes.len(), 260);
    assert_eq!(outcome_kinds(&long_outcomes), outcome_kinds(&alone_outcomes));
    assert_same(&everything_filed(&long).await, &everything_filed(&alone).await);
    assert_eq!(acknowledgements(&long).await, acknowledgements(&alone).await);

    // Two sources in one batch: every other message from a second mailbox.
    let two_sources = |app: &TestApp| -> Vec<RawMessage> {
        let mut raws = raws(&dependent_batch(), app);
        for raw in raws.iter_mut().skip(1).step_by(2) {
            raw.source = "test:other".into();
        }
        raws
    };
    let (mixed, alone) = (acme(backend).await, acme(backend).await);
    let mixed_outcomes = file_raws(&mixed, two_sources(&mixed), Some(200)).await;
    let alone_outcomes = file_raws(&alone, two_sources(&alone), None).await;
    assert_eq!(outcome_kinds(&mixed_outcomes), outcome_kinds(&alone_outcomes));
    assert_same(&everything_filed(&mixed).await, &everything_filed(&alone).await);
    assert_eq!(acknowledgements(&mixed).await, acknowledgements(&alone).await);
    assert!(mixed_outcomes.iter().filter(|o| matches!(o, IntakeOutcome::NewTicket(_))).count() >= 20);
}
