//! Every email in tests/fixtures/mail parsed end to end, against one table of what intake
//! must make of it. Fields not mentioned in a row take their "nothing" value, and are
//! asserted too: a human request must not be flagged as automated, a plain-text message
//! must not claim HTML, and so on.

use keydesk_core::intake::{parse_message, AutomatedReason, FieldSource, IntakeRules, ParseError, ParsedMessage};
use keydesk_core::EmailAddress;
use std::path::Path;
use FieldSource::{BodyLabel, Header, Prose};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");

#[derive(Default)]
struct Expect {
    subject: &'static str,
    from: (Option<&'static str>, &'static str),
    name: Option<(&'static str, FieldSource)>,
    email: Option<(&'static str, FieldSource)>,
    description: Option<(&'static str, FieldSource)>,
    automated: Option<AutomatedReason>,
    ticket: Option<i64>,
    has_html: bool,
    in_reply_to: &'static [&'static str],
    references: &'static [&'static str],
    authentication_results: &'static [&'static str],
    /// Text that decoding must have produced in the full body.
    body_contains: &'static [&'static str],
    /// Text that must not survive into the full body (scripts, styles).
    body_lacks: &'static [&'static str],
    /// Text present in the body that must not be in the reply (history, signatures).
    reply_lacks: &'static [&'static str],
}

// A table built once per test run: boxing the large variant would only add noise to it.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Parsed(Expect),
    Rejected(ParseError),
    /// Parsed, but with nobody to answer.
    NoSender(ParseError),
}

fn corpus() -> Vec<(&'static str, Outcome)> {
    use AutomatedReason as Auto;
    use Outcome::{NoSender, Parsed, Rejected};
    vec![
        ("labelled_seed_wording.eml", Parsed(Expect {
            subject: "Account locked - AMS",
            from: (Some("Jane Doe"), "jane.doe@acme.test"),
            name: Some(("Jane Doe", BodyLabel)),
            email: Some(("jane.doe@acme.test", BodyLabel)),
            description: Some(("I entered the wrong password too many times\nafter the password change on Monday and now the login page says my account is locked.", BodyLabel)),
            body_contains: &["• Your full name: Jane Doe"],
            reply_lacks: &["Thank you,"],
            ..Expect::default()
        })),
        ("labelled_dash_reordered.eml", Parsed(Expect {
            subject: "locked out",
            from: (Some("Raj P."), "rajp.personal@gmail.test"),
            name: Some(("Raj Patel", BodyLabel)),
            // The labelled work address, not the personal address it was sent from.
            email: Some(("raj.patel@acme.test", BodyLabel)),
            description: Some(("I can't get into AMS from home, it says too many attempts", BodyLabel)),
            ..Expect::default()
        })),
        ("labelled_next_line_bold.eml", Parsed(Expect {
            subject: "Please unlock my account",
            from: (Some("Li Wei"), "li.wei@acme.test"),
            name: Some(("Li Wei", BodyLabel)),
            email: Some(("li.wei@acme.test", BodyLabel)),
            description: Some(("I was away for two weeks and my password expired.\nI tried the old one a few times before remembering.", BodyLabel)),
            reply_lacks: &["Best regards"],
            ..Expect::default()
        })),
        ("labelled_employee_wording.eml", Parsed(Expect {
            subject: "Locked user",
            from: (Some("Front Desk"), "frontdesk@clinic.test"),
            name: Some(("Ana de la Cruz", BodyLabel)),
            email: Some(("ana.delacruz@clinic.test", BodyLabel)),
            description: Some(("Locked after five failed logins this morning", BodyLabel)),
            ..Expect::default()
        })),
        ("prose_this_is.eml", Parsed(Expect {
            subject: "Can't log in",
            from: (None, "jd.home@gmail.test"),
            name: Some(("Jane Doe", Prose)),
            email: Some(("jane@acme.test", Prose)),
            description: Some(("Hi, this is Jane Doe, my account jane@acme.test is locked. I think I typed\nthe old password too many times. Could you unlock it please?", Prose)),
            reply_lacks: &["Thanks!"],
            ..Expect::default()
        })),
        ("prose_my_name_is.eml", Parsed(Expect {
            subject: "Bloqueado / locked out",
            from: (Some("Tomás García"), "tgarcia@acme.test"),
            name: Some(("Tomás García", Prose)),
            email: Some(("tomas.garcia@acme.test", Prose)),
            description: Some(("My name is Tomás García and my email is tomas.garcia@acme.test. Since this\nmorning AMS tells me my account is locked.", Prose)),
            ..Expect::default()
        })),
        ("prose_im_parenthesised.eml", Parsed(Expect {
            subject: "Locked out again",
            from: (Some("Priya Nair"), "priya.nair@acme.test"),
            name: Some(("Priya Nair", Prose)),
            email: Some(("p.nair@acme.test", Prose)),
            description: Some(("I'm Priya Nair (p.nair@acme.test) and I can't log in after the weekend.\nThe screen says \"Account locked\".", Prose)),
            reply_lacks: &["Cheers"],
            ..Expect::default()
        })),
        ("prose_name_here.eml", Parsed(Expect {
            subject: "Account locked",
            from: (None, "kwame.mensah@acme.test"),
            name: Some(("Kwame Mensah", Prose)),
            email: Some(("kwame.mensah@acme.test", Header)),
            description: Some(("Kwame Mensah here. I was locked out of AMS while the VPN was down and\nthe login page kept rejecting me.", Prose)),
            ..Expect::default()
        })),
        ("html_only_table_script.eml", Parsed(Expect {
            subject: "Locked",
            from: (Some("Ana de la Cruz"), "ana.cruz@acme.test"),
            name: Some(("Ana de la Cruz", BodyLabel)),
            email: Some(("ana.cruz@acme.test", BodyLabel)),
            description: Some(("I’m locked out of AMS & can't approve invoices.\nIt happened after the café Wi-Fi logged me out twice.", Prose)),
            has_html: true,
            body_contains: &["I’m locked out of AMS & can't", "café Wi-Fi logged me out twice"],
            body_lacks: &["trackingPixelSecret", "alert(", "hidden-css-marker", "<p>", "&amp;", "&nbsp;", "\u{a0}", "────"],
            reply_lacks: &["Regards,", "[1]: mailto:"],
            ..Expect::default()
        })),
        ("quoted_printable_utf8.eml", Parsed(Expect {
            subject: "Compte bloqué",
            from: (Some("Renée François"), "renee.francois@acme.test"),
            name: Some(("Renée François", BodyLabel)),
            email: Some(("renee.francois@acme.test", BodyLabel)),
            // One line: the soft line breaks of quoted-printable are undone.
            description: Some(("After the update I typed my password wrong five times and now AMS says the account is locked for security reasons – please unlock it.", BodyLabel)),
            body_lacks: &["=C3", "=\n"],
            reply_lacks: &["Merci,"],
            ..Expect::default()
        })),
        ("base64_body.eml", Parsed(Expect {
            subject: "AMS account locked",
            from: (Some("Sven Lindqvist"), "sven.lindqvist@acme.test"),
            name: Some(("Sven Lindqvist", BodyLabel)),
            email: Some(("sven.lindqvist@acme.test", BodyLabel)),
            description: Some(("Locked out after entering my old password from the password manager.", BodyLabel)),
            ..Expect::default()
        })),
        ("encoded_words_utf8.eml", Parsed(Expect {
            subject: "Konto låst - account locked",
            from: (Some("Zoë Ångström"), "zoe.angstrom@acme.test"),
            name: Some(("Zoë Ångström", Header)),
            email: Some(("zoe.angstrom@acme.test", Header)),
            description: Some(("Hej! My AMS account is locked after too many attempts, can you help?", Prose)),
            ..Expect::default()
        })),
        ("encoded_words_latin1.eml", Parsed(Expect {
            subject: "Låst konto",
            from: (Some("Zoë Ångström"), "zoe.a@acme.test"),
            name: Some(("Zoë Ångström", Header)),
            email: Some(("zoe.a@acme.test", Header)),
            description: Some(("Mitt konto är låst. Jag har glömt lösenordet.", Prose)),
            ..Expect::default()
        })),
        ("windows_1252_body.eml", Parsed(Expect {
            subject: "Locked out",
            from: (Some("Chloe Dubois"), "chloe.dubois@acme.test"),
            name: Some(("Chloé Dubois", BodyLabel)),
            email: Some(("chloe.dubois@acme.test", BodyLabel)),
            description: Some(("I’m locked out – the “Account locked” page appeared while I was paying a €40 invoice.", BodyLabel)),
            body_lacks: &["\u{fffd}"],
            ..Expect::default()
        })),
        ("reply_quoted_with_signature.eml", Parsed(Expect {
            subject: "Re: Your unlock request",
            from: (Some("Jane Doe"), "jane.doe@acme.test"),
            name: Some(("Jane Doe", BodyLabel)),
            email: Some(("jane.doe@acme.test", BodyLabel)),
            description: Some(("still locked after the reset link expired", BodyLabel)),
            in_reply_to: &["request-88@keydesk.test"],
            references: &["request-88@keydesk.test"],
            reply_lacks: &["Accounts Payable", "+61 2 5550 1234", "wrote:", "> Hello", "(your name)"],
            ..Expect::default()
        })),
        ("outlook_reply.eml", Parsed(Expect {
            subject: "RE: Your unlock request",
            from: (Some("Okafor, Chidi"), "chidi.okafor@acme.test"),
            name: Some(("Chidi Okafor", BodyLabel)),
            email: Some(("chidi.okafor@acme.test", BodyLabel)),
            description: Some(("Locked out since this morning, I have a payroll run due at 3pm.", BodyLabel)),
            in_reply_to: &["request-91@keydesk.test"],
            references: &["request-91@keydesk.test"],
            reply_lacks: &["________________________________", "Sent: Tuesday", "support-template@keydesk.test"],
            ..Expect::default()
        })),
        ("original_message_mobile.eml", Parsed(Expect {
            subject: "RE: Account locked",
            from: (Some("Marta Kowalska"), "marta.kowalska@acme.test"),
            name: Some(("Marta Kowalska", Prose)),
            email: Some(("marta.kowalska@acme.test", Prose)),
            description: Some(("My name is Marta Kowalska. Yes the account is marta.kowalska@acme.test, still locked.", Prose)),
            reply_lacks: &["Sent from my iPhone", "-----Original Message-----", "helpdesk@keydesk.test"],
            ..Expect::default()
        })),
        ("from_last_first.eml", Parsed(Expect {
            subject: "locked",
            from: (Some("Doe, Jane"), "jane.doe@acme.test"),
            name: Some(("Jane Doe", Header)),
            email: Some(("jane.doe@acme.test", Header)),
            description: Some(("my account is locked, I need it for month end", Prose)),
            ..Expect::default()
        })),
        ("out_of_office.eml", Parsed(Expect {
            subject: "Automatic reply: [#57] Your account has been unlocked",
            from: (Some("Bob Smith"), "bob.smith@acme.test"),
            name: Some(("Bob Smith", Header)),
            email: Some(("alice@acme.test", Prose)),
            description: Some(("I am out of the office until Monday 24 March with limited access to email.\nFor urgent matters please contact alice@acme.test.", Prose)),
            // Auto-Submitted outranks the X-Auto-Response-Suppress it also carries.
            automated: Some(Auto::AutoSubmitted("auto-replied".into())),
            ticket: Some(57),
            in_reply_to: &["ticket-57-reply@keydesk.test"],
            ..Expect::default()
        })),
        ("newsletter_bulk.eml", Parsed(Expect {
            subject: "March product update",
            from: (Some("Vendor News"), "news@vendor.test"),
            name: Some(("Vendor News", Header)),
            email: Some(("news@vendor.test", Header)),
            description: Some(("What's new in March: faster reports, dark mode.\nUnsubscribe: https://vendor.test/unsubscribe?u=123", Prose)),
            automated: Some(Auto::Precedence("bulk".into())),
            has_html: true,
            body_lacks: &["<h1>"],
            ..Expect::default()
        })),
        ("x_autoreply.eml", Parsed(Expect {
            subject: "Abwesenheitsnotiz: Account locked",
            from: (Some("Lena Vogel"), "lena.vogel@acme.test"),
            name: Some(("Lena Vogel", Header)),
            email: Some(("lena.vogel@acme.test", Header)),
            description: Some(("Ich bin bis 31. März nicht im Büro.", Prose)),
            automated: Some(Auto::AutoReplyHeader("X-Autoreply".into())),
            ..Expect::default()
        })),
        ("x_autorespond.eml", Parsed(Expect {
            subject: "We received your message",
            from: (Some("Help Bot"), "helpbot@vendor.test"),
            name: Some(("Help Bot", Header)),
            email: Some(("helpbot@vendor.test", Header)),
            description: Some(("Thanks for contacting us, we will get back to you within 2 business days.", Prose)),
            automated: Some(Auto::AutoReplyHeader("X-Autorespond".into())),
            ..Expect::default()
        })),
        ("auto_response_suppress.eml", Parsed(Expect {
            subject: "Automatic reply: Account locked",
            from: (Some("Okafor, Chidi"), "chidi.okafor@acme.test"),
            name: Some(("Chidi Okafor", Header)),
            email: Some(("chidi.okafor@acme.test", Header)),
            description: Some(("I'm on leave until 1 April.", Prose)),
            automated: Some(Auto::AutoResponseSuppress("DR, RN, NRN, OOF, AutoReply".into())),
            ..Expect::default()
        })),
        ("bounce_delivery_report.eml", Parsed(Expect {
            subject: "Undelivered Mail Returned to Sender",
            from: (Some("Mail Delivery System"), "mailer-daemon@mx1.keydesk.test"),
            name: Some(("Mail Delivery System", Header)),
            email: Some(("nobody@acme.test", Prose)),
            description: Some(("This is the mail system at host mx1.keydesk.test.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<nobody@acme.test>: host mail.acme.test[203.0.113.25] said: 550 5.1.1\n    <nobody@acme.test>: Recipient address rejected: User unknown", Prose)),
            automated: Some(Auto::Report("delivery-status".into())),
            body_contains: &["Recipient address rejected"],
            ..Expect::default()
        })),
        ("from_own_address.eml", Parsed(Expect {
            subject: "[#63] Your account has been unlocked",
            from: (Some("Keydesk Support"), "support@keydesk.test"),
            name: Some(("Keydesk Support", Header)),
            // Our own address is never taken as the user's.
            email: None,
            description: Some(("Your account has been unlocked. Reply to this email if you still cannot log in.\n\nKeydesk Support", Prose)),
            automated: Some(Auto::OwnAddress),
            ticket: Some(63),
            ..Expect::default()
        })),
        ("ticket_reply_tag.eml", Parsed(Expect {
            subject: "Re: [#42] Your account has been unlocked",
            from: (Some("Jane Doe"), "jane.doe@acme.test"),
            // "Full name: Jane Doe" is only in the quoted history, so the header supplies it.
            name: Some(("Jane Doe", Header)),
            email: Some(("jane.doe@acme.test", Header)),
            description: Some(("It works again, thank you for the quick help.", Prose)),
            ticket: Some(42),
            in_reply_to: &["ticket-42-unlocked@keydesk.test"],
            references: &["ticket-42-request@keydesk.test", "ticket-42-unlocked@keydesk.test"],
            reply_lacks: &["> Your account has been unlocked."],
            ..Expect::default()
        })),
        ("two_authentication_results.eml", Parsed(Expect {
            subject: "Locked out",
            from: (Some("Jane Doe"), "jane.doe@acme.test"),
            name: Some(("Jane Doe", Header)),
            email: Some(("jane.doe@acme.test", Header)),
            description: Some(("Locked out of AMS, please help.", Prose)),
            authentication_results: &[
                "mx1.keydesk.test; dkim=pass header.d=acme.test header.s=sel1 header.b=AbCdEf12; spf=pass (mx1.keydesk.test: domain of jane.doe@acme.test designates 203.0.113.25 as permitted sender) smtp.mailfrom=jane.doe@acme.test; dmarc=pass (p=REJECT) header.from=acme.test",
                "relay.acme.test; spf=none smtp.helo=laptop.acme.test",
            ],
            ..Expect::default()
        })),
        ("multipart_alternative.eml", Parsed(Expect {
            subject: "Locked account - Medexa",
            from: (Some("Sam Lee"), "sam.lee@clinic.test"),
            name: Some(("Sam Lee", BodyLabel)),
            email: Some(("sam.lee@clinic.test", BodyLabel)),
            description: Some(("the clinic owner is away and my account is locked.", BodyLabel)),
            has_html: true,
            // The text alternative is read; the HTML one is not added to it.
            body_lacks: &["HTML-PART-ONLY"],
            ..Expect::default()
        })),
        ("empty_body.eml", Parsed(Expect {
            subject: "locked out",
            from: (Some("Kim Lee"), "kim.lee@acme.test"),
            name: Some(("Kim Lee", Header)),
            email: Some(("kim.lee@acme.test", Header)),
            description: None,
            ..Expect::default()
        })),
        ("no_from_header.eml", NoSender(ParseError::NoSender)),
        ("garbage_bytes.eml", Rejected(ParseError::NotAnEmail)),
    ]
}

fn rules() -> IntakeRules {
    IntakeRules { own_addresses: vec![EmailAddress::parse("support@keydesk.test").unwrap()], ..IntakeRules::default() }
}

fn parse_fixture(file: &str) -> Result<ParsedMessage, ParseError> {
    let raw = std::fs::read(Path::new(FIXTURES).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    parse_message(&raw, &rules())
}

fn field(extracted: &Option<keydesk_core::intake::Extracted>) -> Option<(&str, FieldSource)> {
    extracted.as_ref().map(|e| (e.value.as_str(), e.source))
}

#[test]
fn every_fixture_parses_as_expected() {
    for (file, outcome) in corpus() {
        let expect = match (parse_fixture(file), outcome) {
            (Err(error), Outcome::Rejected(expected)) => {
                assert_eq!(error, expected, "{file}");
                continue;
            }
            (Ok(parsed), Outcome::NoSender(expected)) => {
                assert_eq!((parsed.from, parsed.sender_problem), (None, Some(expected)), "{file}");
                continue;
            }
            (Ok(_), Outcome::Rejected(expected)) => panic!("{file}: parsed, expected {expected:?}"),
            (Err(error), Outcome::NoSender(_)) => panic!("{file}: {error}"),
            (Err(error), Outcome::Parsed(_)) => panic!("{file}: {error}"),
            (Ok(parsed), Outcome::Parsed(expect)) => (parsed, expect),
        };
        let (parsed, expect) = expect;
        let from = parsed.from.as_ref().expect("a parsed message has a sender");
        assert_eq!((from.name.as_deref(), from.address.as_str()), expect.from, "{file}: from");
        assert_eq!(parsed.subject, expect.subject, "{file}: subject");
        assert_eq!(field(&parsed.fields.full_name), expect.name, "{file}: full name");
        assert_eq!(field(&parsed.fields.registered_email), expect.email, "{file}: registered email");
        assert_eq!(field(&parsed.fields.description), expect.description, "{file}: description");
        assert_eq!(parsed.automated, expect.automated, "{file}: automated");
        assert_eq!(parsed.ticket_number, expect.ticket, "{file}: ticket tag");
        assert_eq!(parsed.has_html, expect.has_html, "{file}: has_html");
        assert_eq!(parsed.in_reply_to, expect.in_reply_to, "{file}: in_reply_to");
        assert_eq!(parsed.references, expect.references, "{file}: references");
        assert_eq!(parsed.authentication_results, expect.authentication_results, "{file}: authentication results");
        for text in expect.body_contains {
            assert!(parsed.body_text.contains(text), "{file}: body lacks {text:?}:\n{}", parsed.body_text);
        }
        for text in expect.body_lacks {
            assert!(!parsed.body_text.contains(text), "{file}: body contains {text:?}:\n{}", parsed.body_text);
        }
        for text in expect.reply_lacks {
            assert!(
                parsed.body_text.contains(text),
                "{file}: {text:?} is not in the body, so its absence from the reply proves nothing"
            );
            assert!(!parsed.reply_text.contains(text), "{file}: reply contains {text:?}:\n{}", parsed.reply_text);
        }
        // Invariants for every message.
        assert!(!parsed.body_text.contains('\r'), "{file}: body keeps CR");
        assert!(parsed.message_id.is_some(), "{file}: every fixture has a Message-ID");
        assert!(parsed.sender_date.is_some(), "{file}: every fixture has a Date");
        for id in parsed.message_id.iter().chain(&parsed.in_reply_to).chain(&parsed.references) {
            assert!(!id.contains(['<', '>']), "{file}: id {id:?} keeps its brackets");
        }
    }
}

#[test]
fn every_fixture_has_a_row_in_the_table() {
    let mut on_disk: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut in_table: Vec<String> = corpus().into_iter().map(|(file, _)| file.to_string()).collect();
    on_disk.sort();
    in_table.sort();
    assert_eq!(on_disk, in_table);
}

#[test]
fn dates_are_the_senders_claim_converted_to_utc() {
    let parsed = parse_fixture("labelled_dash_reordered.eml").unwrap();
    // "Mon, 3 Mar 2025 22:41:10 +1100"
    assert_eq!(parsed.sender_date.unwrap().to_rfc3339(), "2025-03-03T11:41:10+00:00");
    assert_eq!(parsed.message_id.as_deref(), Some("CAJk2@mail.gmail.test"));
}

#[test]
fn the_whole_body_is_kept_for_staff_even_when_the_reply_is_short() {
    let parsed = parse_fixture("reply_quoted_with_signature.eml").unwrap();
    assert!(parsed.body_text.contains("> brief description of the issue."));
    assert_eq!(
        parsed.reply_text,
        "Full name: Jane Doe\nRegistered email: jane.doe@acme.test\nIssue: still locked after the reset link expired"
    );
}

#[test]
fn quarantine_messages_say_what_is_wrong() {
    let error = parse_fixture("garbage_bytes.eml").unwrap_err();
    assert_eq!(error.to_string(), "not an email: no message headers could be read");
    let error = parse_fixture("no_from_header.eml").unwrap().sender_problem.expect("no sender");
    assert!(error.to_string().contains("no From address"), "{error}");
}
