//! 848 messages nobody here wrote (tests/corpus: bounces from ~80 mail servers, abuse
//! reports, helpdesk and mail-client samples, MIME parser suites; sources and licences in
//! its MANIFEST.tsv) delivered through Maildir intake on both databases: no panic, every
//! message accounted for, no machine or list mail ever becomes a ticket or is answered, and
//! the whole corpus delivered again under new names makes nothing new. (The 12 `unmarked`
//! messages are machine-written but carry nothing that says so; they are reported, not
//! asserted: see tests/corpus/README.md.)

mod common;

use common::{Backend, TestApp};
use keydesk_core::intake::LedgerOutcome;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

on_both_backends!(the_real_world_corpus_is_taken_in_exactly_once_and_no_machine_is_answered);

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Classes whose mail no person wrote: never a ticket, never an acknowledgement.
const MACHINE: &[&str] = &["bounce", "arf", "auto_reply", "list", "other"];

struct Row {
    file: String,
    class: String,
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            Row { file: columns[0].to_owned(), class: columns[5].to_owned() }
        })
        .collect()
}

async fn the_real_world_corpus_is_taken_in_exactly_once_and_no_machine_is_answered(backend: Backend) {
    let app = TestApp::new(backend).await;
    let rows = manifest();
    assert!(rows.len() >= 500, "the corpus has {} messages", rows.len());
    let mut class_of: HashMap<String, &str> = HashMap::new();
    for row in &rows {
        let path = app.drop_mail_bytes(&std::fs::read(Path::new(CORPUS).join("mail").join(&row.file)).unwrap());
        class_of.insert(path.file_name().unwrap().to_str().unwrap().to_owned(), row.class.as_str());
    }
    let summary = app.intake_once().await;
    let accounted = summary.new_tickets + summary.threaded + summary.ignored + summary.quarantined + summary.duplicates;
    assert_eq!((summary.fetched, accounted, summary.skipped), (rows.len(), rows.len(), 0), "{summary}");

    // What became of each class.
    let mut table: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut machine_tickets = Vec::new();
    for outcome in [
        LedgerOutcome::Ticket,
        LedgerOutcome::Threaded,
        LedgerOutcome::Ignored,
        LedgerOutcome::Quarantined,
        LedgerOutcome::Duplicate,
    ] {
        for entry in app.ledger(outcome).await {
            let class = class_of[&entry.source_key];
            *table.entry(class).or_default().entry(outcome.as_str()).or_default() += 1;
            if MACHINE.contains(&class) && matches!(outcome, LedgerOutcome::Ticket | LedgerOutcome::Threaded) {
                machine_tickets.push(format!("{class}: {} ({})", entry.source_key, entry.from_header));
            }
        }
    }
    println!("corpus outcome by class: {table:#?}");
    assert!(machine_tickets.is_empty(), "machine mail became tickets: {machine_tickets:#?}");

    // Acknowledgements went only to people: never to a machine-class message's sender.
    let answered: Vec<String> = app.mail().await.into_iter().map(|m| m.to).collect();
    let tickets = app.tickets().await.len();
    assert!(answered.len() <= tickets, "at most one acknowledgement per ticket");

    // The whole corpus again under new names: nothing new.
    for row in &rows {
        app.drop_mail_bytes(&std::fs::read(Path::new(CORPUS).join("mail").join(&row.file)).unwrap());
    }
    let again = app.intake_once().await;
    assert_eq!((again.fetched, again.duplicates), (rows.len(), rows.len()), "{again}");
    assert_eq!(app.tickets().await.len(), tickets);
    assert_eq!(app.mail().await.len(), answered.len(), "no acknowledgement twice");
}
