//! Field extraction against 30 real people's messages from the corpus (tests/corpus/
//! HUMAN30.tsv: read by hand — the name they sign with or give, an address they state as
//! theirs, the first line of what they wrote this time). The floors are what extraction
//! reaches today; a change that loses ground fails here, one that gains raises them.

use keydesk_core::intake::{parse_message, IntakeRules};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus");

#[test]
fn real_peoples_messages_give_their_name_address_and_words() {
    let table = std::fs::read_to_string(format!("{CORPUS}/HUMAN30.tsv")).unwrap();
    let (mut names, mut emails, mut first_lines, mut stated) = (0, 0, 0, 0);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    for row in &rows {
        let columns: Vec<&str> = row.split('\t').map(str::trim).collect();
        let (file, name, email, first_line) = (columns[0], columns[1], columns[2], columns[3]);
        let raw = std::fs::read(format!("{CORPUS}/mail/{file}")).unwrap();
        // One of them makes mail-parser panic: quarantined, so nothing is extracted.
        let fields = parse_message(&raw, &IntakeRules::default()).map(|p| p.fields).unwrap_or_default();
        let value =
            |f: &Option<keydesk_core::intake::Extracted>| f.as_ref().map(|f| f.value.clone()).unwrap_or_default();
        let (got_name, got_email, description) =
            (value(&fields.full_name), value(&fields.registered_email), value(&fields.description));
        names += usize::from(got_name.eq_ignore_ascii_case(name));
        if !email.is_empty() {
            stated += 1;
            emails += usize::from(got_email.eq_ignore_ascii_case(email));
        }
        first_lines += usize::from(!first_line.is_empty() && description.contains(first_line));
        if !got_name.eq_ignore_ascii_case(name) || !description.contains(first_line) {
            println!("{file}: name {got_name:?} (hand: {name:?}); description starts {:?}", description.lines().next());
        }
    }
    println!(
        "names {names}/{}, stated addresses {emails}/{stated}, first lines {first_lines}/{}",
        rows.len(),
        rows.len()
    );
    assert_eq!(rows.len(), 30);
    assert!(names >= 27, "names {names}/30");
    assert!(emails >= stated - 1, "stated addresses {emails}/{stated}");
    assert!(first_lines >= 27, "first lines {first_lines}/30");
}
