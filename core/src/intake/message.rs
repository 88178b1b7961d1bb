//! MIME to [`ParsedMessage`]: decoding (RFC 2047 headers, quoted-printable and base64
//! bodies, any charset) is mail-parser's job; this file picks what intake needs from the
//! parsed tree and turns HTML-only mail into readable text.

use super::automated::detect_automated;
use super::fields::extract_fields_ignoring;
use super::quoting::strip_quotes_and_signature;
use super::subject::subject_tag;
use super::{Mailbox, ParseError, ParsedMessage};
use crate::EmailAddress;
use chrono::{DateTime, Utc};
use mail_parser::{HeaderValue, Message, MessageParser, PartType};

/// Lines of HTML are wrapped at this width: wide enough that a labelled line or a
/// sentence stays on one line, narrow enough that a page of text stays a page.
const HTML_TEXT_WIDTH: usize = 1_000;

/// Parses one inbound email. `own_addresses` are the addresses Keydesk sends from: mail
/// from them is flagged as automated (a loop), and they are never taken as the user's
/// registered email.
pub fn parse_message(raw: &[u8], own_addresses: &[EmailAddress]) -> Result<ParsedMessage, ParseError> {
    let message = MessageParser::default().parse(raw).ok_or(ParseError::NotAnEmail)?;
    // mail-parser reads any text as headers; a real message has at least one well-formed
    // field name, and random bytes or prose do not.
    if !message.headers().iter().any(|header| is_field_name(header.name.as_str())) {
        return Err(ParseError::NotAnEmail);
    }
    let from = sender(&message)?;
    let headers = unfolded_headers(&message);

    let body_text = readable_body(&message);
    let reply_text = strip_quotes_and_signature(&body_text);
    let subject = message.subject().unwrap_or_default().trim().to_string();
    let fields = extract_fields_ignoring(&reply_text, Some(&from), own_addresses);
    let has_html = message.html_bodies().any(|part| matches!(part.body, PartType::Html(_)));

    Ok(ParsedMessage {
        message_id: message.message_id().map(without_angle_brackets).filter(|id| !id.is_empty()),
        in_reply_to: message_ids(message.in_reply_to()),
        references: message_ids(message.references()),
        ticket_number: subject_tag(&subject),
        subject,
        sender_date: message
            .date()
            .filter(|date| date.is_valid())
            .and_then(|date| DateTime::<Utc>::from_timestamp(date.to_timestamp(), 0)),
        has_html,
        automated: detect_automated(&headers, Some(&from.address), own_addresses),
        authentication_results: headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| value.clone())
            .collect(),
        body_text,
        reply_text,
        from: Some(from),
        fields,
    })
}

/// RFC 5322 field names are printable ASCII without spaces or colons.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

fn sender(message: &Message) -> Result<Mailbox, ParseError> {
    let Some(header) = message.from() else {
        return Err(ParseError::NoSender);
    };
    let raw = || message.header_raw("From").unwrap_or_default().trim().to_string();
    let addr = header.first().ok_or_else(|| ParseError::InvalidSender(raw()))?;
    let address = addr
        .address
        .as_deref()
        .and_then(|address| EmailAddress::parse(address).ok())
        .ok_or_else(|| ParseError::InvalidSender(raw()))?;
    let name = addr.name.as_deref().map(str::trim).filter(|name| !name.is_empty()).map(str::to_string);
    Ok(Mailbox { name, address: address.as_str().to_string() })
}

/// Every header as (name, value), folded lines joined with single spaces. Raw rather than
/// decoded: the automated-mail and authentication checks read the bytes as sent.
fn unfolded_headers(message: &Message) -> Vec<(String, String)> {
    message
        .headers_raw()
        .map(|(name, value)| {
            let value =
                value.split(['\r', '\n']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            (name.to_string(), value)
        })
        .collect()
}

fn message_ids(value: &HeaderValue) -> Vec<String> {
    let ids: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    ids.into_iter().map(without_angle_brackets).filter(|id| !id.is_empty()).collect()
}

fn without_angle_brackets(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

/// The text a person would read: every inline text part, with HTML parts converted. An
/// empty text/plain alternative (some clients send one) falls back to the HTML.
fn readable_body(message: &Message) -> String {
    let as_text = |part: &mail_parser::MessagePart| match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        PartType::Html(html) => Some(html_to_text(html)),
        _ => None,
    };
    let mut texts: Vec<String> = message.text_bodies().filter_map(as_text).filter(|t| !t.trim().is_empty()).collect();
    if texts.is_empty() {
        texts = message.html_bodies().filter_map(as_text).filter(|t| !t.trim().is_empty()).collect();
    }
    let text = texts.join("\n\n").replace("\r\n", "\n");
    let text = text.trim_start_matches('\u{feff}').trim_end();
    // Drop leading blank lines but keep the first line's indentation.
    let first_text = text.find(|c: char| c != '\n').unwrap_or(text.len());
    text[first_text..].to_string()
}

/// HTML as plain text: no markup decoration (so "From:" and "Name:" read as written),
/// links kept as footnotes, scripts and styles dropped. Table cells stay separated by
/// "│" so a row reads "Full name│Jane Doe"; the ruled lines between rows are dropped.
fn html_to_text(html: &str) -> String {
    let text = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .string_from_read(html.as_bytes(), HTML_TEXT_WIDTH)
        // html2text only fails on pathological layouts; mail-parser's simpler converter
        // still gives staff something to read.
        .unwrap_or_else(|_| mail_parser::decoders::html::html_to_text(html));
    let is_table_rule = |line: &str| !line.is_empty() && line.chars().all(|c| ('\u{2500}'..='\u{257f}').contains(&c));
    text.lines()
        .filter(|line| !is_table_rule(line))
        // &nbsp; is layout in HTML; in text it is just a space.
        .map(|line| line.replace('\u{a0}', " ").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<ParsedMessage, ParseError> {
        parse_message(raw.as_bytes(), &[EmailAddress::parse("support@keydesk.test").unwrap()])
    }

    #[test]
    fn rejects_what_is_not_an_email() {
        let cases: &[(&str, ParseError)] = &[
            ("", ParseError::NotAnEmail),
            ("just a sentence without any headers", ParseError::NotAnEmail),
            ("\n\nbody only", ParseError::NotAnEmail),
            ("Subject: hello\n\nNo sender here", ParseError::NoSender),
            ("From: Jane Doe\nSubject: hi\n\nbody", ParseError::InvalidSender("Jane Doe".into())),
            ("From: <not an address>\n\nbody", ParseError::InvalidSender("<not an address>".into())),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse(raw).unwrap_err(), *expected, "{raw:?}");
        }
    }

    #[test]
    fn a_message_without_a_body_still_parses() {
        let parsed = parse("From: Jane Doe <Jane@ACME.test>\nSubject: Locked out\n").unwrap();
        assert_eq!(parsed.from, Some(Mailbox { name: Some("Jane Doe".into()), address: "jane@acme.test".into() }));
        assert_eq!(parsed.subject, "Locked out");
        assert_eq!(parsed.body_text, "");
        assert_eq!(parsed.reply_text, "");
        assert_eq!(parsed.fields.description, None);
        assert_eq!(parsed.sender_date, None);
        assert_eq!(parsed.message_id, None);
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
}
