//! Unit tests for fields.rs on how people word things: labels in six languages, message
//! ids that look like addresses, mail written for someone else, and mails of one line.

use super::*;
use FieldSource::{BodyLabel, Header, Prose};

fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox { name: name.map(str::to_string), address: address.to_string() }
}

fn value(field: &Option<Extracted>) -> Option<(&str, FieldSource)> {
    field.as_ref().map(|e| (e.value.as_str(), e.source))
}

#[test]
fn labels_in_six_languages() {
    // (case, text, name, email, description), all from labelled lines
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "German",
            "Vollständiger Name: Anna Schmidt\nE-Mail-Adresse: anna.schmidt@acme.test\n\
             Beschreibung: Nach fünf Fehlversuchen gesperrt.",
            "Anna Schmidt",
            "anna.schmidt@acme.test",
            "Nach fünf Fehlversuchen gesperrt.",
        ),
        (
            "German, other wording",
            "Ihr Vor- und Nachname: Anna Schmidt\nRegistrierte E-Mail: anna.schmidt@acme.test\nProblem: gesperrt",
            "Anna Schmidt",
            "anna.schmidt@acme.test",
            "gesperrt",
        ),
        (
            "French, no-break spaces before the colons",
            "Nom complet\u{a0}: Chloé Dubois\nAdresse e-mail\u{a0}: chloe.dubois@acme.test\n\
             Problème\u{a0}: compte bloqué",
            "Chloé Dubois",
            "chloe.dubois@acme.test",
            "compte bloqué",
        ),
        (
            "French, possessives and an elided article",
            "Votre nom : Dubois, Chloé\nL’adresse e-mail enregistrée : chloe.dubois@acme.test\n\
             Description : bloqué depuis lundi",
            "Chloé Dubois",
            "chloe.dubois@acme.test",
            "bloqué depuis lundi",
        ),
        (
            "Spanish",
            "Nombre completo: Ana López\nCorreo electrónico: ana.lopez@acme.test\n\
             Descripción: cuenta bloqueada tras cinco intentos",
            "Ana López",
            "ana.lopez@acme.test",
            "cuenta bloqueada tras cinco intentos",
        ),
        (
            "Dutch",
            "Volledige naam: Jan de Vries\nE-mailadres: jan.devries@acme.test\nOmschrijving: account geblokkeerd",
            "Jan de Vries",
            "jan.devries@acme.test",
            "account geblokkeerd",
        ),
        (
            "Italian",
            "Nome e cognome: Giulia Rossi\nIndirizzo email: giulia.rossi@acme.test\nDescrizione: account bloccato",
            "Giulia Rossi",
            "giulia.rossi@acme.test",
            "account bloccato",
        ),
        (
            "English, product login",
            "Name: Jane Doe\nKeydesk login: Jane@ACME.test\nIssue: locked",
            "Jane Doe",
            "jane@acme.test",
            "locked",
        ),
    ];
    for (case, text, name, email, description) in cases {
        let fields = extract_fields(text, None);
        assert_eq!(value(&fields.full_name), Some((*name, BodyLabel)), "{case}: name");
        assert_eq!(value(&fields.registered_email), Some((*email, BodyLabel)), "{case}: email");
        assert_eq!(value(&fields.description), Some((*description, BodyLabel)), "{case}: description");
    }
}

#[test]
fn labels_that_only_contain_a_field_word_are_not_the_field() {
    for text in [
        "Nom d'utilisateur: jdupont",
        "Nombre de usuario: alopez",
        "Benutzername: aschmidt",
        "Gebruikersnaam: jdevries",
        "Nome utente: grossi",
        "Firmenname: ACME",
        "Betreff: gesperrt",
        "Login: jdoe",
    ] {
        let fields = extract_fields(text, None);
        assert_eq!((fields.full_name, fields.registered_email), (None, None), "{text:?}");
    }
}

#[test]
fn message_ids_are_never_the_registered_email() {
    let from = mailbox(Some("Jane Doe"), "jane@acme.test");
    for text in [
        "Message-ID: <abc@host>\nI'm locked out.",
        "Message-ID: <abc@mail.acme.test>\nI'm locked out.",
        "In-Reply-To: <request-91@keydesk.test>\nStill locked.",
        "References: <CAB4bXq0xkq=YH1sUvK8+E4xkOD3mF0rDjJ3p5_cVm0w-hWxg@mail.gmail.com>\n <request-88@keydesk.test>\n\
         Still locked.",
        "Return-Path: <bounces+123@mailer.vendor.test>\nX-Original-Sender: robot@vendor.test\nLocked.",
        "The error page shows <5F3A9B2C-1D4E-4F6A-9B8C-7D6E5F4A3B2C@acme.test> as the reference.",
        "Reference <20250304091200.GA12345@mx.acme.test>, please check.",
        "Ticket id <$4f2a@acme.test>",
        "Email: <DB9PR04MB8433D1F9A1B8B0C5A8D0C3B1@DB9PR04MB8433.eurprd04.prod.outlook.test>",
    ] {
        let fields = extract_fields(text, Some(&from));
        assert_eq!(value(&fields.registered_email), Some(("jane@acme.test", Header)), "{text:?}");
    }
}

#[test]
fn mailboxes_that_look_a_little_like_ids_are_still_mailboxes() {
    let cases = [
        ("Please unlock <jane.doe@acme.test>.", "jane.doe@acme.test"),
        ("My student login is s20231234@student.uni.test", "s20231234@student.uni.test"),
        ("It is <jane.doe1985@acme.test>", "jane.doe1985@acme.test"),
        ("From: Jane Doe <jane.doe@acme.test>", "jane.doe@acme.test"),
        ("Delivered-To: jane.doe@acme.test", "jane.doe@acme.test"),
    ];
    for (text, expected) in cases {
        let fields = extract_fields(text, None);
        assert_eq!(value(&fields.registered_email), Some((expected, Prose)), "{text:?}");
    }
}

#[test]
fn mail_written_for_a_colleague_names_the_colleague() {
    let cases = [
        (
            "English, on behalf of my colleague",
            mailbox(Some("Bob Lee"), "bob.lee@acme.test"),
            "Hi,\n\nI'm writing on behalf of my colleague Jane Doe, who is on leave. Her login is jane.doe@acme.test \
             and she is locked out.\n\nThanks,\nBob",
            Some(("Jane Doe", Prose)),
        ),
        (
            "English, the writer introduces themselves first",
            mailbox(Some("Bob Lee"), "bob.lee@acme.test"),
            "My name is Bob Lee and I'm writing for my colleague Jane Doe: jane.doe@acme.test is locked.",
            Some(("Jane Doe", Prose)),
        ),
        (
            "German",
            mailbox(Some("Thomas Müller"), "thomas.mueller@acme.test"),
            "Hallo,\n\nich schreibe für meine Kollegin Anna Schmidt: ihr Konto anna.schmidt@acme.test ist gesperrt.\n\n\
             Viele Grüße\nThomas Müller",
            Some(("Anna Schmidt", Prose)),
        ),
        (
            "French",
            mailbox(Some("Pierre Martin"), "pierre.martin@acme.test"),
            "Bonjour,\n\nJe vous écris pour ma collègue Chloé Dubois (chloe.dubois@acme.test), \
             son compte est bloqué.\n\nCordialement,\nPierre",
            Some(("Chloé Dubois", Prose)),
        ),
        (
            "a labelled name wins",
            mailbox(Some("Front Desk"), "frontdesk@clinic.test"),
            "Name: Sam Lee\nEmail: sam.lee@clinic.test",
            Some(("Sam Lee", BodyLabel)),
        ),
        (
            // Whether Bob is Sam's colleague or Sam's own other address is for intake to
            // tell (it knows the accounts): the field says where the name came from.
            "no name stated: the From name, marked as the header's",
            mailbox(Some("Bob Lee"), "bob.lee@acme.test"),
            "Please unlock sam.lee@clinic.test, she is locked out.",
            Some(("Bob Lee", Header)),
        ),
        (
            "the body names the sender's own address: the display name is theirs",
            mailbox(Some("Jane Doe"), "jane.doe@acme.test"),
            "My login is Jane.Doe@ACME.test and it is locked.",
            Some(("Jane Doe", Header)),
        ),
    ];
    for (case, from, text, expected) in cases {
        let fields = extract_fields(text, Some(&from));
        assert_eq!(value(&fields.full_name), expected, "{case}");
    }
}

#[test]
fn a_mail_of_one_line_is_its_own_description() {
    let from = mailbox(Some("Jane Doe"), "jane@acme.test");
    let cases = [
        ("Hello to myself!", Some("Hello to myself!")),
        ("locked out again", Some("locked out again")),
        ("Thanks!", Some("Thanks!")),
        ("Hi,", Some("Hi,")),
        // A greeting or sign-off goes only when other text remains.
        ("Hi,\n\nlocked out again", Some("locked out again")),
        ("Hallo,\nKonto gesperrt.\nViele Grüße", Some("Konto gesperrt.")),
        ("Name: Jane Doe\nEmail: jane@acme.test\n\nThanks!", None),
        ("Hallo,\nName: Jane Doe", None),
    ];
    for (text, expected) in cases {
        let fields = extract_fields(text, Some(&from));
        assert_eq!(value(&fields.description), expected.map(|d| (d, Prose)), "{text:?}");
    }
}
