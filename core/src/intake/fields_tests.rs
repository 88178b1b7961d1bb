//! Unit tests for field extraction, kept beside fields.rs so that file stays readable.

use super::*;
use crate::intake::addresses::email_addresses_in;
use FieldSource::{BodyLabel, Header, Prose};

fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox { name: name.map(str::to_string), address: address.to_string() }
}

fn value(field: &Option<Extracted>) -> Option<(&str, FieldSource)> {
    field.as_ref().map(|e| (e.value.as_str(), e.source))
}

#[test]
fn labelled_lines_in_many_wordings() {
    // (case, text, expected name, expected email, expected description)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let cases: &[Case] = &[
        (
            "the help-centre wording, bulleted",
            "• Your full name: Jane Doe\n• Your registered email address with AMS: Jane.Doe@ACME.test\n• A brief description of the issue: Locked out after five attempts",
            Some("Jane Doe"), Some("jane.doe@acme.test"), Some("Locked out after five attempts"),
        ),
        (
            "dash separators, any order, upper case",
            "ISSUE - cannot log in\nEMAIL - raj@acme.test\nNAME - Raj Patel",
            Some("Raj Patel"), Some("raj@acme.test"), Some("cannot log in"),
        ),
        (
            "markdown bold and star bullets",
            "* **Employee name:** Ana de la Cruz\n* **Account email:** ana@acme.test\n* **Problem:** locked",
            Some("Ana de la Cruz"), Some("ana@acme.test"), Some("locked"),
        ),
        (
            "values on the next line",
            "Full name:\nLi Wei\n\nLogin email:\n\nli.wei@acme.test\nDetails:\nLocked since Monday.",
            Some("Li Wei"), Some("li.wei@acme.test"), Some("Locked since Monday."),
        ),
        (
            "numbered list, e-mail with a hyphen, en dash",
            "1. Name – Ola Nordmann\n2. E-mail: ola@acme.test\n3) Description: forgot password",
            Some("Ola Nordmann"), Some("ola@acme.test"), Some("forgot password"),
        ),
        (
            "email registered with another product",
            "Email address registered with Medexa: <sam@clinic.test>",
            None, Some("sam@clinic.test"), None,
        ),
        (
            "a table row rendered from HTML",
            "Full name:      │Ana de la Cruz\nRegistered email│[ana@acme.test]",
            Some("Ana de la Cruz"), Some("ana@acme.test"), None,
        ),
        (
            "directory-style name in a label",
            "Name: Doe, Jane",
            Some("Jane Doe"), None, None,
        ),
        (
            "a multi-line description stops at the next label",
            "Issue: I was locked out\nafter the password change.\n\nIt says contact admin.\nName: Kim Lee",
            Some("Kim Lee"), None, Some("I was locked out\nafter the password change.\n\nIt says contact admin."),
        ),
        (
            "a multi-line description stops at the sign-off",
            "Description:\nLocked out.\nTried twice.\n\nThanks,\nKim",
            None, None, Some("Locked out.\nTried twice."),
        ),
        (
            "the first usable label wins",
            "Email: none\nEmail: second@acme.test\nEmail: third@acme.test",
            None, Some("second@acme.test"), None,
        ),
    ];
    for (case, text, name, email, description) in cases {
        let fields = extract_fields(text, None);
        assert_eq!(value(&fields.full_name), name.map(|n| (n, BodyLabel)), "{case}: name");
        assert_eq!(value(&fields.registered_email), email.map(|e| (e, BodyLabel)), "{case}: email");
        let expected_description = description.map(|d| (d, BodyLabel));
        if expected_description.is_some() {
            assert_eq!(value(&fields.description), expected_description, "{case}: description");
        } else {
            assert_ne!(fields.description.as_ref().map(|d| d.source), Some(BodyLabel), "{case}: description");
        }
    }
}

#[test]
fn labels_that_are_not_the_fields_are_ignored() {
    for text in [
        "Username: jdoe",
        "User name: jdoe",
        "Company name: ACME",
        "Subject: locked out",
        "Phone: 0400 000 000",
        "My name is on the account",
        "Name:",
    ] {
        let fields = extract_fields(text, None);
        assert_eq!(fields.full_name, None, "{text:?}");
        assert_eq!(fields.registered_email, None, "{text:?}");
    }
}

#[test]
fn prose_when_nothing_is_labelled() {
    let fields = extract_fields("Hi, this is Jane Doe, my account jane@acme.test is locked", None);
    assert_eq!(value(&fields.full_name), Some(("Jane Doe", Prose)));
    assert_eq!(value(&fields.registered_email), Some(("jane@acme.test", Prose)));
    assert_eq!(value(&fields.description), Some(("Hi, this is Jane Doe, my account jane@acme.test is locked", Prose)));

    let fields = extract_fields(
        "Hello,\n\nMy name is Tomás García and my email is Tomas.Garcia@ACME.test.\n\nKind regards,\nTomás",
        None,
    );
    assert_eq!(value(&fields.full_name), Some(("Tomás García", Prose)));
    assert_eq!(value(&fields.registered_email), Some(("tomas.garcia@acme.test", Prose)));
    // Greeting and sign-off are not part of the description.
    assert_eq!(
        value(&fields.description),
        Some(("My name is Tomás García and my email is Tomas.Garcia@ACME.test.", Prose))
    );
}

#[test]
fn labelled_lines_are_not_repeated_in_a_prose_description() {
    let text = "Name: Jane Doe\nEmail: jane@acme.test\n\nI can't log in since the update.";
    let fields = extract_fields(text, None);
    assert_eq!(value(&fields.description), Some(("I can't log in since the update.", Prose)));
    // Nothing but labels and a greeting: no description at all.
    let fields = extract_fields("Hi,\nName: Jane Doe\nEmail: jane@acme.test", None);
    assert_eq!(fields.description, None);
}

#[test]
fn the_from_header_is_the_last_resort() {
    let from = mailbox(Some("\"Doe, Jane\""), "jane@acme.test");
    let fields = extract_fields("I'm locked out, please help.", Some(&from));
    assert_eq!(value(&fields.full_name), Some(("Jane Doe", Header)));
    assert_eq!(value(&fields.registered_email), Some(("jane@acme.test", Header)));

    // A display name that is just the address is no name.
    let from = mailbox(Some("jane@acme.test"), "jane@acme.test");
    assert_eq!(extract_fields("", Some(&from)).full_name, None);

    // Labels and prose beat the header.
    let from = mailbox(Some("Shared Inbox"), "frontdesk@clinic.test");
    let fields = extract_fields("Name: Sam Lee\nI'm locked out, my login is sam.lee@clinic.test", Some(&from));
    assert_eq!(value(&fields.full_name), Some(("Sam Lee", BodyLabel)));
    assert_eq!(value(&fields.registered_email), Some(("sam.lee@clinic.test", Prose)));
}

#[test]
fn keydesks_own_addresses_are_never_the_registered_email() {
    let own = [EmailAddress::parse("support@keydesk.test").unwrap()];
    let from = mailbox(None, "jane@acme.test");
    let text = "I already wrote to support@keydesk.test yesterday. My login is jane.d@acme.test.";
    let fields = extract_fields_ignoring(text, Some(&from), &own);
    assert_eq!(value(&fields.registered_email), Some(("jane.d@acme.test", Prose)));

    let fields = extract_fields_ignoring("Email: support@keydesk.test", Some(&from), &own);
    assert_eq!(value(&fields.registered_email), Some(("jane@acme.test", Header)));
}

#[test]
fn finds_addresses_amid_punctuation() {
    let cases: &[(&str, &[&str])] = &[
        ("write to <Jane@Acme.test>, or (bob@acme.test).", &["jane@acme.test", "bob@acme.test"]),
        ("[ana@acme.test][1] and mailto:li@acme.test", &["ana@acme.test", "li@acme.test"]),
        ("first.last+tag@sub.acme.co.uk", &["first.last+tag@sub.acme.co.uk"]),
        ("zoë@exämple.test", &["zoë@exämple.test"]),
        ("@handle, jane@localhost, a@b.c, x@1.2.3.4, trailing@", &[]),
    ];
    for (text, expected) in cases {
        let found: Vec<String> = email_addresses_in(text).map(|e| e.as_str().to_string()).collect();
        assert_eq!(found, *expected, "{text:?}");
    }
}

#[test]
fn long_prose_descriptions_are_capped_on_a_word() {
    let text = "word ".repeat(1000);
    let description = extract_fields(&text, None).description.unwrap().value;
    assert!(description.ends_with("word…"), "{}", &description[description.len() - 20..]);
    assert!(description.chars().count() <= MAX_PROSE_DESCRIPTION_CHARS + 1);
}

#[test]
fn greetings_are_short_opening_lines() {
    for line in ["Hi,", "Hello team!", "Dear Support,", "Good morning", "hi there"] {
        assert!(is_greeting(line), "{line:?}");
    }
    for line in [
        "Hi, this is Jane Doe, my account is locked",
        "History of the issue",
        "Hello? Is anyone there? I've been locked out for days",
        "",
    ] {
        assert!(!is_greeting(line), "{line:?}");
    }
}
