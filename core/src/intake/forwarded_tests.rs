//! Unit tests for forwarded.rs, with forwards as Gmail, Apple Mail, Thunderbird and
//! Outlook write them, in several languages.

use super::*;
use crate::intake::{extract_fields, FieldSource};

fn mailbox(name: Option<&str>, address: &str) -> Option<Mailbox> {
    Some(Mailbox { name: name.map(str::to_string), address: address.to_string() })
}

fn forwarded(body: &str) -> Forwarded {
    find_forwarded(body).unwrap_or_else(|| panic!("no forward found in:\n{body}"))
}

/// The name, email and description extracted from the forwarded part, with their sources.
fn fields_of(forward: &Forwarded) -> [Option<(String, FieldSource)>; 3] {
    let fields = extract_fields(&forward.text, forward.from.as_ref());
    [fields.full_name, fields.registered_email, fields.description].map(|f| f.map(|f| (f.value, f.source)))
}

fn labelled(value: &str) -> Option<(String, FieldSource)> {
    Some((value.to_string(), FieldSource::BodyLabel))
}

#[test]
fn gmail_forward_with_the_request_in_the_forwarded_part() {
    let body = "Hi team, can you help Jane? She's locked out.\n\nThanks,\nBob\n\n\
                ---------- Forwarded message ---------\nFrom: Jane Doe <Jane.Doe@ACME.test>\n\
                Date: Tue, 4 Mar 2025 at 09:12\nSubject: Locked out of AMS\nTo: Bob Lee <bob.lee@acme.test>\n\n\n\
                Hi Bob,\n\nFull name: Jane Doe\nRegistered email: jane.doe@acme.test\n\
                Issue: locked out after the password change\n\nThanks,\nJane\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "Hi team, can you help Jane? She's locked out.");
    assert_eq!(forward.from, mailbox(Some("Jane Doe"), "jane.doe@acme.test"));
    assert_eq!(
        forward.text,
        "Hi Bob,\n\nFull name: Jane Doe\nRegistered email: jane.doe@acme.test\n\
         Issue: locked out after the password change"
    );
    assert_eq!(
        fields_of(&forward),
        [labelled("Jane Doe"), labelled("jane.doe@acme.test"), labelled("locked out after the password change")]
    );
}

#[test]
fn gmail_forward_in_german_with_german_labels() {
    let body = "Zur Info, bitte entsperren.\r\n\r\n---------- Weitergeleitete Nachricht ---------\r\n\
                Von: Anna Schmidt <anna.schmidt@acme.test>\r\nDate: Di., 4. März 2025 um 09:12 Uhr\r\n\
                Subject: Konto gesperrt\r\nTo: <it@acme.test>\r\n\r\n\r\nHallo,\r\n\r\n\
                Vollständiger Name: Anna Schmidt\r\nE-Mail-Adresse: anna.schmidt@acme.test\r\n\
                Beschreibung: Nach fünf Fehlversuchen gesperrt.\r\n\r\nViele Grüße\r\nAnna\r\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "Zur Info, bitte entsperren.");
    assert_eq!(forward.from, mailbox(Some("Anna Schmidt"), "anna.schmidt@acme.test"));
    assert_eq!(
        fields_of(&forward),
        [labelled("Anna Schmidt"), labelled("anna.schmidt@acme.test"), labelled("Nach fünf Fehlversuchen gesperrt.")]
    );
}

#[test]
fn apple_mail_forward_quoted_in_plain_text() {
    let body = "Sent from my iPhone\n\nBegin forwarded message:\n\n\
                > From: Jane Doe <jane.doe@acme.test>\n> Subject: Locked out\n\
                > Date: 4 March 2025 at 09:12:00 GMT\n> To: Bob Lee <bob.lee@acme.test>\n> \n\
                > I'm Jane Doe and my account jane.doe@acme.test is locked.\n> \n\
                > On 3 Mar 2025, at 17:00, Keydesk Support <support@keydesk.test> wrote:\n> \n\
                >> Your password expires tomorrow.\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "");
    assert_eq!(forward.from, mailbox(Some("Jane Doe"), "jane.doe@acme.test"));
    assert_eq!(forward.text, "I'm Jane Doe and my account jane.doe@acme.test is locked.");
    let [name, email, _] = fields_of(&forward);
    assert_eq!(name, Some(("Jane Doe".to_string(), FieldSource::Prose)));
    assert_eq!(email, Some(("jane.doe@acme.test".to_string(), FieldSource::Prose)));
}

#[test]
fn apple_mail_forward_in_french() {
    let body = "Peux-tu regarder ?\n\nDébut du message réexpédié :\n\n\
                > De: Chloé Dubois <chloe.dubois@acme.test>\n> Objet: Compte bloqué\n\
                > Date: 4 mars 2025 à 09:12:00 UTC+1\n> À: Helpdesk <it@acme.test>\n> \n\
                > Nom complet : Chloé Dubois\n> Adresse e-mail : chloe.dubois@acme.test\n> Problème : compte bloqué\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "Peux-tu regarder ?");
    assert_eq!(forward.from, mailbox(Some("Chloé Dubois"), "chloe.dubois@acme.test"));
    assert_eq!(
        fields_of(&forward),
        [labelled("Chloé Dubois"), labelled("chloe.dubois@acme.test"), labelled("compte bloqué")]
    );
}

#[test]
fn thunderbird_forward_with_its_subject_first_header_block() {
    let body = "Please unlock her, she is on leave until Friday.\n\n-------- Forwarded Message --------\n\
                Subject: \tAccount locked\nDate: \tTue, 4 Mar 2025 09:12:00 +0100\n\
                From: \t\"Doe, Jane\" <jane.doe@acme.test>\nTo: \tBob Lee <bob.lee@acme.test>\n\n\n\n\
                Name: Jane Doe\nEmail: jane.doe@acme.test\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "Please unlock her, she is on leave until Friday.");
    assert_eq!(forward.from, mailbox(Some("Doe, Jane"), "jane.doe@acme.test"));
    assert_eq!(forward.text, "Name: Jane Doe\nEmail: jane.doe@acme.test");
}

#[test]
fn thunderbird_forward_in_dutch() {
    let body = "-------- Doorgestuurd bericht --------\nOnderwerp: \tAccount geblokkeerd\n\
                Datum: \tdi 4 mrt 2025 09:12\nVan: \tJan de Vries <jan.devries@acme.test>\nAan: \tit@acme.test\n\n\
                Naam: Jan de Vries\nE-mailadres: jan.devries@acme.test\n\
                Probleem: account geblokkeerd na vijf pogingen\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "");
    assert_eq!(forward.from, mailbox(Some("Jan de Vries"), "jan.devries@acme.test"));
    assert_eq!(
        fields_of(&forward),
        [labelled("Jan de Vries"), labelled("jan.devries@acme.test"), labelled("account geblokkeerd na vijf pogingen")]
    );
}

#[test]
fn outlook_forward_of_a_forward_is_told_by_its_subject() {
    let body = "Kannst du helfen?\n\n-----Ursprüngliche Nachricht-----\n\
                Von: Anna Schmidt [mailto:anna.schmidt@acme.test]\nGesendet: Dienstag, 4. März 2025 09:12\n\
                An: Bob Lee\nBetreff: WG: Konto gesperrt\n\nBitte entsperren: anna.schmidt@acme.test\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "Kannst du helfen?");
    assert_eq!(forward.from, mailbox(Some("Anna Schmidt"), "anna.schmidt@acme.test"));
    assert_eq!(forward.text, "Bitte entsperren: anna.schmidt@acme.test");

    let italian = "Vedi sotto.\n\nDa: Giulia Rossi <giulia.rossi@acme.test>\nInviato: martedì 4 marzo 2025 09:12\n\
                   A: Marco Bianchi\nOggetto: I: Account bloccato\n\nNome: Giulia Rossi\n";
    assert_eq!(forwarded(italian).from, mailbox(Some("Giulia Rossi"), "giulia.rossi@acme.test"));
    assert_eq!(forwarded(italian).text, "Nome: Giulia Rossi");
}

#[test]
fn a_first_hand_outlook_forward_needs_the_messages_subject() {
    // Outlook repeats the original subject, so the body alone reads as a reply.
    let body = "FYI\n\n________________________________\nFrom: Jane Doe <jane.doe@acme.test>\n\
                Sent: Tuesday, March 4, 2025 9:12 AM\nTo: Bob Lee <bob.lee@acme.test>\nSubject: Locked out\n\n\
                I'm locked out again.\n";
    assert_eq!(find_forwarded(body), None);
    assert_eq!(find_forwarded_with_subject(body, "RE: Locked out"), None);
    let forward = find_forwarded_with_subject(body, "FW: Locked out").expect("a forward by its subject");
    assert_eq!(forward.own_text, "FYI");
    assert_eq!(forward.from, mailbox(Some("Jane Doe"), "jane.doe@acme.test"));
    assert_eq!(forward.text, "I'm locked out again.");
}

#[test]
fn a_chain_of_forwards_gives_the_innermost_request() {
    let body = "---------- Forwarded message ---------\nFrom: Bob Lee <bob.lee@acme.test>\n\
                Date: Tue, 4 Mar 2025 at 10:00\nSubject: Fwd: Locked out\nTo: <manager@acme.test>\n\n\n\
                ---------- Forwarded message ---------\nFrom: Jane Doe <jane.doe@acme.test>\n\
                Date: Tue, 4 Mar 2025 at 09:12\nSubject: Locked out\nTo: Bob Lee <bob.lee@acme.test>\n\n\n\
                Locked out since the update.\n";
    let forward = forwarded(body);
    assert_eq!(forward.own_text, "");
    assert_eq!(forward.from, mailbox(Some("Jane Doe"), "jane.doe@acme.test"));
    assert_eq!(forward.text, "Locked out since the update.");
}

#[test]
fn replies_and_plain_messages_are_not_forwards() {
    for body in [
        "I'm locked out, please help.",
        "",
        // A reply quoting an older forward: the forward is history, not what was passed on.
        "Thanks, works now.\n\nOn Tue, 4 Mar 2025 at 09:12, Bob <bob@acme.test> wrote:\n\
         > ---------- Forwarded message ---------\n> From: Jane Doe <jane@acme.test>",
        "Still locked.\n\n-----Original Message-----\nFrom: Keydesk <support@keydesk.test>\n\
         Sent: Tuesday\nTo: Jane\nSubject: RE: Locked out\n\n---------- Forwarded message ---------\nFrom: x@acme.test",
        // Someone writing about a forward.
        "I forwarded the message to my manager yesterday.",
    ] {
        assert_eq!(find_forwarded(body), None, "{body:?}");
    }
}

#[test]
fn a_forward_without_a_header_block_still_gives_its_text() {
    let forward = forwarded("See below\n\n---------- Forwarded message ---------\n\nLocked out again.");
    assert_eq!(
        (forward.own_text.as_str(), forward.from, forward.text.as_str()),
        ("See below", None, "Locked out again.")
    );
}

#[test]
fn reads_the_sender_from_every_from_line_shape() {
    let cases = [
        ("Jane Doe <Jane.Doe@ACME.test>", mailbox(Some("Jane Doe"), "jane.doe@acme.test")),
        ("Jane Doe [mailto:jane@acme.test]", mailbox(Some("Jane Doe"), "jane@acme.test")),
        ("\"Doe, Jane\" <jane@acme.test>", mailbox(Some("Doe, Jane"), "jane@acme.test")),
        ("Jane Doe <[jane@acme.test][1]>", mailbox(Some("Jane Doe"), "jane@acme.test")),
        ("**Jane Doe** <jane@acme.test>", mailbox(Some("Jane Doe"), "jane@acme.test")),
        ("jane@acme.test", mailbox(None, "jane@acme.test")),
        ("<jane@acme.test>", mailbox(None, "jane@acme.test")),
        ("Jane Doe", None),
        ("", None),
    ];
    for (value, expected) in cases {
        assert_eq!(mailbox_from_header(value), expected, "{value:?}");
    }
}

proptest::proptest! {
    /// Mail is whatever people send: no text makes the quoting, forward or field rules panic,
    /// and a forward's parts are never longer than the body they came from.
    #[test]
    fn any_text_is_read_without_panicking(
        lines in proptest::collection::vec(
            "(>|-- |-----Original Message-----|---------- Forwarded message ---------|Begin forwarded message:|\
              From: |Von: |De\u{a0}: |Sent: |Date: |To: |Subject: FW: |On |Am |wrote:|schrieb|<|>|@|\\$|é|\u{a0}|\
              [a-zA-Z0-9 .:,<>@=$\\[\\]*_-]){0,12}",
            0..20,
        )
    ) {
        let body = lines.join("\n");
        let _ = strip_quotes_and_signature(&body);
        if let Some(forward) = find_forwarded_with_subject(&body, "FW: x") {
            proptest::prop_assert!(forward.own_text.len() + forward.text.len() <= body.len());
            let _ = extract_fields(&forward.text, forward.from.as_ref());
        }
        let _ = extract_fields(&body, None);
    }
}
