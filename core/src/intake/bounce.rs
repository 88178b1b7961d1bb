//! What went wrong, in a bounce: the words an agent needs to see on the ticket whose
//! notification failed ("mailbox full", "no such mailbox"). Read from the DSN's
//! `message/delivery-status` part (RFC 3464) when there is one, else from the enhanced
//! status code (RFC 3463) or the familiar phrases in the text a mail server wrote.

use mail_parser::{Message, MimeHeaders};
use regex::Regex;
use std::sync::LazyLock;

/// Text searched for a status, in bytes: a server's explanation comes first.
const MAX_SCANNED: usize = 64 * 1024;

/// "mailbox full (5.2.2)", "no such mailbox (5.1.1)", or the phrase found.
pub(crate) fn bounce_reason(message: &Message, body_text: &str) -> Option<String> {
    let report = message.parts.iter().find(|part| {
        part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("message")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
        })
    });
    let report_text = report.map(|part| String::from_utf8_lossy(part.contents()).into_owned());
    let scanned = report_text.as_deref().into_iter().chain([body_text]);
    for text in scanned {
        let text = &text[..text.floor_char_boundary(MAX_SCANNED)];
        if let Some(code) = status_code(text) {
            return Some(format!("{} ({code})", describe_status(&code)));
        }
        if let Some(phrase) = known_phrase(text) {
            return Some(phrase.to_owned());
        }
    }
    None
}

/// The first enhanced status code of a failure or delay ("5.2.2", "4.4.7").
fn status_code(text: &str) -> Option<String> {
    static CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b([45])\.(\d{1,3})\.(\d{1,3})\b").unwrap());
    static STATUS_FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?im)^\s*status:\s*([45]\.\d{1,3}\.\d{1,3})").unwrap());
    if let Some(field) = STATUS_FIELD.captures(text) {
        return Some(field[1].to_owned());
    }
    CODE.captures(text).map(|c| format!("{}.{}.{}", &c[1], &c[2], &c[3]))
}

/// RFC 3463's subject and detail, as an agent would say them.
fn describe_status(code: &str) -> &'static str {
    let mut parts = code.split('.');
    let (class, subject, detail) = (parts.next(), parts.next(), parts.next());
    let what = match (subject, detail) {
        (Some("1"), Some("1")) => "no such mailbox",
        (Some("1"), Some("2")) => "no such mail domain",
        (Some("1"), _) => "a bad address",
        (Some("2"), Some("2")) => "mailbox full",
        (Some("2"), Some("1")) => "mailbox disabled",
        (Some("2"), Some("3")) => "message too large for the mailbox",
        (Some("2"), _) => "a problem with the mailbox",
        (Some("3"), Some("4")) => "message too large",
        (Some("3"), _) => "a problem with the receiving mail system",
        (Some("4"), _) => "a network or routing problem",
        (Some("5"), _) => "a mail protocol problem",
        (Some("6"), _) => "a problem with the message's content",
        (Some("7"), _) => "refused by the receiving server's policy",
        _ => "not delivered",
    };
    match class {
        Some("4") if what == "not delivered" => "delayed",
        _ => what,
    }
}

/// Phrases mail servers write when they give no status code.
fn known_phrase(text: &str) -> Option<&'static str> {
    const PHRASES: &[(&str, &str)] = &[
        ("mailbox full", "mailbox full"),
        ("mailbox is full", "mailbox full"),
        ("quota exceeded", "mailbox full"),
        ("over quota", "mailbox full"),
        ("user unknown", "no such mailbox"),
        ("no such user", "no such mailbox"),
        ("does not exist", "no such mailbox"),
        ("unknown user", "no such mailbox"),
        ("mailbox unavailable", "mailbox unavailable"),
        ("host not found", "no such mail domain"),
        ("spam", "refused by the receiving server's policy"),
        ("message was delayed", "delayed"),
        ("delivery has been delayed", "delayed"),
        ("will retry", "delayed"),
    ];
    let lower = text.to_lowercase();
    PHRASES.iter().find(|(phrase, _)| lower.contains(phrase)).map(|(_, said)| *said)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn reason(raw: &str) -> Option<String> {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let body: String = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
        bounce_reason(&message, &body)
    }

    #[test]
    fn a_dsn_status_field_names_the_problem() {
        let raw = "From: MAILER-DAEMON@mx.test\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n\
                   --b\nContent-Type: text/plain\n\nDelivery failed.\n--b\nContent-Type: message/delivery-status\n\n\
                   Reporting-MTA: dns; mx.test\n\nFinal-Recipient: rfc822; jane@acme.test\nAction: failed\nStatus: 5.2.2\n\
                   Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n--b--\n";
        assert_eq!(reason(raw).as_deref(), Some("mailbox full (5.2.2)"));
    }

    #[test]
    fn a_plain_text_bounce_gives_its_code_or_phrase() {
        let coded = "From: postmaster@acme.test\n\n550 5.1.1 <jane@acme.test>: Recipient address rejected\n";
        assert_eq!(reason(coded).as_deref(), Some("no such mailbox (5.1.1)"));
        let worded = "From: postmaster@acme.test\n\nSorry, the user's mailbox is full.\n";
        assert_eq!(reason(worded).as_deref(), Some("mailbox full"));
        assert_eq!(reason("From: a@b.test\n\nHello there"), None);
    }
}
