use super::*;
use crate::intake::{AutomatedReason, MachineClass};

fn rules() -> IntakeRules {
    IntakeRules { own_addresses: vec![EmailAddress::parse("support@keydesk.test").unwrap()], ..IntakeRules::default() }
}

fn parse(raw: &str) -> Result<ParsedMessage, ParseError> {
    parse_message(raw.as_bytes(), &rules())
}

#[test]
fn rejects_only_what_is_not_an_email() {
    for raw in ["", "just a sentence without any headers", "\n\nbody only"] {
        assert_eq!(parse(raw).unwrap_err(), ParseError::NotAnEmail, "{raw:?}");
    }
}

#[test]
fn a_sender_nobody_can_answer_is_reported_not_refused() {
    let cases: &[(&str, ParseError)] = &[
        ("Subject: hello\n\nNo sender here", ParseError::NoSender),
        ("From: Jane Doe\nSubject: hi\n\nbody", ParseError::InvalidSender("Jane Doe".into())),
        ("From: <not an address>\n\nbody", ParseError::InvalidSender("<not an address>".into())),
    ];
    for (raw, expected) in cases {
        let parsed = parse(raw).unwrap();
        assert_eq!((parsed.from, parsed.sender_problem.as_ref()), (None, Some(expected)), "{raw:?}");
    }
}

#[test]
fn from_headers_a_person_can_read_are_salvaged() {
    let cases = [
        ("From: Jane Doe jane@acme.test", Some("Jane Doe"), "jane@acme.test"),
        ("From: jane@acme.test (Jane Doe)", Some("Jane Doe"), "jane@acme.test"),
        ("From: \"Jane Doe <jane@acme.test>", Some("Jane Doe"), "jane@acme.test"),
        ("From: <JANE@ACME.TEST", None, "jane@acme.test"),
    ];
    for (header, name, address) in cases {
        let parsed = parse(&format!("{header}\nSubject: locked\n\nHelp")).unwrap();
        let from = parsed.from.unwrap_or_else(|| panic!("{header}: {:?}", parsed.sender_problem));
        assert_eq!((from.name.as_deref(), from.address.as_str()), (name, address), "{header}");
    }
    let two = parse("From: a@acme.test b@acme.test\n\nx").unwrap();
    assert!(two.from.is_none(), "two addresses: nobody can say which one wrote");
}

#[test]
fn a_bounce_with_a_broken_from_is_still_a_bounce() {
    let raw = "From: Mail Delivery System\nReturn-Path: <>\nSubject: Undelivered Mail Returned to Sender\n\
               Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n\nGone.\n--b--\n";
    let parsed = parse(raw).unwrap();
    assert!(parsed.from.is_none());
    assert_eq!(parsed.machine_class(), Some(MachineClass::Bounce));
}

#[test]
fn a_message_without_a_body_still_parses() {
    let parsed = parse("From: Jane Doe <Jane@ACME.test>\nSubject: Locked out\n").unwrap();
    assert_eq!(parsed.from, Some(Mailbox { name: Some("Jane Doe".into()), address: "jane@acme.test".into() }));
    assert_eq!(parsed.subject, "Locked out");
    assert_eq!((parsed.body_text.as_str(), parsed.reply_text.as_str()), ("", ""));
    assert_eq!((parsed.fields.description, parsed.sender_date, parsed.message_id), (None, None, None));
}

#[test]
fn empty_text_alternative_falls_back_to_html() {
    let raw = "From: jane@acme.test\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b\"\n\n\
               --b\nContent-Type: text/plain\n\n\n--b\nContent-Type: text/html\n\n<p>Locked&nbsp;out</p>\n--b--\n";
    let parsed = parse(raw).unwrap();
    assert_eq!(parsed.body_text, "Locked out");
    assert!(parsed.has_html);
}

#[test]
fn message_ids_lose_their_angle_brackets() {
    let raw = "From: jane@acme.test\nMessage-ID: <abc@acme.test>\nIn-Reply-To: <t42.1@keydesk.test>\n\
               References: <t42.0@keydesk.test> <t42.1@keydesk.test>\n\nThanks";
    let parsed = parse(raw).unwrap();
    assert_eq!(parsed.message_id.as_deref(), Some("abc@acme.test"));
    assert_eq!(parsed.in_reply_to, ["t42.1@keydesk.test"]);
    assert_eq!(parsed.references, ["t42.0@keydesk.test", "t42.1@keydesk.test"]);
}

#[test]
fn nul_bytes_never_reach_the_text() {
    let raw = "From: Ja\0ne <jane@acme.test>\nSubject: Lo\0cked\nContent-Type: text/plain; charset=utf-8\n\
               Content-Transfer-Encoding: quoted-printable\n\nName: Jane=00 Doe\nI am=00 locked out.\n";
    let parsed = parse(raw).unwrap();
    let texts = [&parsed.subject, &parsed.body_text, &parsed.reply_text];
    assert!(texts.iter().all(|t| !t.contains('\0')), "{texts:?}");
    assert_eq!(parsed.subject, "Locked");
    assert!(parsed.body_text.contains("Jane Doe"), "{}", parsed.body_text);
}

#[test]
fn raw_8bit_headers_and_mislabelled_bodies_read_right() {
    let latin1 = b"From: Ren\xe9e Dupont <renee@acme.test>\nSubject: Compte bloqu\xe9\n\
                   Content-Type: text/plain; charset=us-ascii\n\nJe suis bloqu\xe9e depuis ce matin.\n";
    let parsed = parse_message(latin1, &rules()).unwrap();
    assert_eq!(parsed.from.unwrap().name.as_deref(), Some("Renée Dupont"));
    assert_eq!(parsed.subject, "Compte bloqué");
    assert!(parsed.body_text.contains("bloquée depuis"), "{}", parsed.body_text);

    let utf8_labelled_latin1 = "From: jane@acme.test\nContent-Type: text/plain; charset=iso-8859-1\n\
                                Content-Transfer-Encoding: 8bit\n\nGrüße aus München\n";
    let parsed = parse(utf8_labelled_latin1).unwrap();
    assert_eq!(parsed.body_text, "Grüße aus München");

    let broken_encoded_word =
        "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@acme.test>\nSubject: =?UTF-8?B?R2VzcGVycnQ=?=\n\nx";
    let parsed = parse(broken_encoded_word).unwrap();
    assert_eq!((parsed.from.unwrap().name.as_deref(), parsed.subject.as_str()), (Some("Jürgen Müller"), "Gesperrt"));
}

#[test]
fn attachments_are_listed_with_safe_names() {
    let raw = "From: jane@acme.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n\
               See attached.\n--b\nContent-Type: application/pdf; name=\"../../x.pdf\"\n\
               Content-Disposition: attachment; filename=\"../../x.pdf\"\nContent-Transfer-Encoding: base64\n\n\
               JVBERi0=\n--b--\n";
    let parsed = parse(raw).unwrap();
    assert_eq!(parsed.body_text, "See attached.");
    let names: Vec<_> =
        parsed.attachments.iter().map(|a| (a.filename.as_str(), a.content_type.as_str(), a.size_bytes)).collect();
    assert_eq!(names, [("x.pdf", "application/pdf", 5)]);
}

#[test]
fn a_bounce_of_our_notification_names_its_ticket_and_problem() {
    let raw = "From: MAILER-DAEMON@mx.acme.test (Mail Delivery System)\nReturn-Path: <>\n\
               Subject: Undelivered Mail Returned to Sender\n\
               Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n\
               --b\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your message could not be delivered.\n\
               --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.acme.test\n\n\
               Final-Recipient: rfc822; jane@acme.test\nAction: failed\nStatus: 5.2.2\n\
               --b\nContent-Type: message/rfc822\n\nFrom: support@keydesk.test\nTo: jane@acme.test\n\
               Message-ID: <keydesk.9.1@keydesk.test>\nSubject: Your account has been unlocked [#9]\n\nHello\n--b--\n";
    let parsed = parse(raw).unwrap();
    assert!(matches!(parsed.automated, Some(AutomatedReason::Report(_))));
    assert_eq!(parsed.bounce.as_deref(), Some("mailbox full (5.2.2)"));
    assert_eq!(parsed.mentions.ticket_numbers, [9]);
    assert!(parsed.mentions.message_ids.contains(&"keydesk.9.1@keydesk.test".to_owned()));
}

#[test]
fn a_forwarded_request_is_about_the_person_who_wrote_it() {
    let inline = "From: Max Manager <max@acme.test>\nSubject: Fwd: Locked out\n\nFYI, see below.\n\n\
                  ---------- Forwarded message ---------\nFrom: Jane Doe <jane@acme.test>\nDate: Mon, 2 Mar 2026\n\
                  Subject: Locked out\nTo: Max Manager <max@acme.test>\n\nHi Max,\n\nName: Jane Doe\n\
                  Keydesk login: jane@acme.test\nMy account is locked since this morning.\n";
    let attached = "From: Max Manager <max@acme.test>\nSubject: Fw: Locked out\n\
                    Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nFYI\n\
                    --b\nContent-Type: message/rfc822\n\nFrom: Jane Doe <jane@acme.test>\nSubject: Locked out\n\n\
                    I cannot log in: my account is locked.\n--b--\n";
    for raw in [inline, attached] {
        let fields = parse(raw).unwrap().fields;
        let name = fields.full_name.map(|f| f.value);
        let email = fields.registered_email.map(|f| f.value);
        assert_eq!((name.as_deref(), email.as_deref()), (Some("Jane Doe"), Some("jane@acme.test")), "{raw}");
        assert!(fields.description.unwrap().value.contains("locked"), "{raw}");
    }
}

#[test]
fn a_forwarders_own_request_stays_theirs() {
    let raw = "From: Jane Doe <jane@acme.test>\nSubject: Fwd: your lock notice\n\nName: Jane Doe\n\
               Registered email: jane@acme.test\nIssue: I got this and cannot log in.\n\n\
               ---------- Forwarded message ---------\nFrom: Keydesk <keydesk@keydesk.test>\nSubject: Account Locked\n\n\
               Your account has been locked.\n";
    let fields = parse(raw).unwrap().fields;
    assert_eq!(fields.registered_email.map(|f| f.value).as_deref(), Some("jane@acme.test"));
    assert_eq!(fields.description.map(|f| f.value).as_deref(), Some("I got this and cannot log in."));
}

#[test]
fn only_the_newest_references_are_looked_up() {
    let references: Vec<String> = (0..1_000).map(|n| format!("<r{n}@x.test>")).collect();
    let raw = format!(
        "From: a@x.test\nSubject: Re: hi\nIn-Reply-To: <parent@x.test>\nReferences: {}\n\nhello\n",
        references.join(" ")
    );
    let parsed = parse(&raw).unwrap();
    assert_eq!(parsed.references.len(), 1_000, "all are kept");
    let looked_up: Vec<&str> = parsed.answered_message_ids().collect();
    assert_eq!(looked_up.len(), 1 + crate::intake::MAX_REFERENCES_LOOKED_UP);
    assert_eq!(looked_up[0], "parent@x.test");
    assert_eq!(looked_up[1], "r950@x.test");
    assert_eq!(looked_up.last(), Some(&"r999@x.test"));
}
