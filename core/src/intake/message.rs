//! MIME to [`ParsedMessage`]: decoding (RFC 2047 headers, quoted-printable and base64
//! bodies, any charset) is mail-parser's job; this file picks what intake needs from the
//! parsed tree, in an order that never lets a sender stop it: classify as machine mail
//! first, then read the sender (salvaging a From header a person can read), the text, the
//! fields and the attachments. Everything it returns is storable text (no NUL).

use super::attachments::attachments_of;
use super::automated::{detect_automated, Envelope};
use super::bounce::bounce_reason;
use super::charset::{headers_as_utf8, redecoded_text};
use super::fields::extract_fields_ignoring;
use super::forwarded::{find_forwarded_with_subject, Forwarded};
use super::framing::as_parseable;
use super::html::html_to_text;
use super::mentions::mentions_in;
use super::quoting::strip_quotes_and_signature;
use super::subject::subject_tag;
use super::{FieldSource, IntakeRules, Mailbox, ParseError, ParsedMessage, RequestFields};
use crate::EmailAddress;
use chrono::{DateTime, Utc};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use regex::Regex;
use std::sync::LazyLock;

/// Parses one inbound email. Only bytes with no readable header at all are an error; a
/// message whose sender cannot be answered comes back with `from: None` and the reason in
/// `sender_problem`, classified like any other (a bounce with a broken From is a bounce).
pub fn parse_message(raw: &[u8], rules: &IntakeRules) -> Result<ParsedMessage, ParseError> {
    // The libraries below must not take a pass down with them: a message that makes one
    // panic (mail-parser 0.11 does on some broken multiparts) is quarantined like any other
    // unreadable message.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(raw, rules)))
        .unwrap_or(Err(ParseError::ParserFailed))
}

fn parse(raw: &[u8], rules: &IntakeRules) -> Result<ParsedMessage, ParseError> {
    let raw = as_parseable(raw);
    let raw = headers_as_utf8(&raw);
    let message = MessageParser::default().parse(raw.as_ref()).ok_or(ParseError::NotAnEmail)?;
    // mail-parser reads any text as headers; a real message has at least one well-formed
    // field name, and random bytes or prose do not.
    if !message.headers().iter().any(|header| is_field_name(header.name.as_str())) {
        return Err(ParseError::NotAnEmail);
    }
    let headers = unfolded_headers(&message);
    let subject = message.subject().unwrap_or_default().trim().to_string();
    let (from, sender_problem) = match sender(&message) {
        Ok(from) => (Some(from), None),
        Err(problem) => (None, Some(problem)),
    };
    let body_text = readable_body(&message);
    let attached = attached_original_headers(&message);
    let part_types: Vec<String> = message.parts.iter().filter_map(part_type).collect();
    let envelope = Envelope {
        headers: &headers,
        subject: &subject,
        from: from.as_ref().map(|m| m.address.as_str()),
        from_raw: message.header_raw("From"),
        attached_original_headers: &attached,
        part_types: &part_types,
    };
    let automated = detect_automated(&envelope, &rules.own_addresses, &rules.machine_senders);
    let bounce = automated
        .as_ref()
        .filter(|reason| reason.class() == super::MachineClass::Bounce)
        .and_then(|_| bounce_reason(&message, &body_text));
    let reply_text = strip_quotes_and_signature(&body_text);
    let fields = request_fields(&message, &body_text, &reply_text, &subject, from.as_ref(), rules);

    let parsed = ParsedMessage {
        message_id: message.message_id().and_then(super::message_id::stored),
        in_reply_to: message_ids(message.in_reply_to()),
        references: message_ids(message.references()),
        ticket_number: subject_tag(&subject),
        mentions: mentions_in(&message, &body_text),
        sender_date: message
            .date()
            .filter(|date| date.is_valid())
            .and_then(|date| DateTime::<Utc>::from_timestamp(date.to_timestamp(), 0)),
        has_html: message.html_bodies().any(|part| matches!(part.body, PartType::Html(_))),
        automated,
        bounce,
        authentication_results: headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| value.clone())
            .collect(),
        marked_spam: spam_verdict(&headers),
        attachments: attachments_of(&message, rules.attachments),
        subject,
        body_text,
        reply_text,
        from,
        sender_problem,
        fields,
    };
    Ok(parsed.storable())
}

/// "type/subtype", lower case; an attached message without a Content-Type is message/rfc822.
fn part_type(part: &mail_parser::MessagePart) -> Option<String> {
    match part.content_type() {
        Some(ct) => Some(format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase()),
        None => part.is_message().then(|| "message/rfc822".to_owned()),
    }
}

/// The name, registered email and description. In a forward ("FYI, see below", or nothing
/// of the forwarder's own), the request is the forwarded message's and so is the person it
/// is about: its fields come from the forwarded part and its sender, and the forwarder is
/// only who passed it on (as for mail written on someone's behalf).
fn request_fields(
    message: &Message,
    body_text: &str,
    reply_text: &str,
    subject: &str,
    from: Option<&Mailbox>,
    rules: &IntakeRules,
) -> RequestFields {
    let own = extract_fields_ignoring(reply_text, from, &rules.own_addresses);
    let says_who = |fields: &RequestFields| {
        [&fields.full_name, &fields.registered_email].into_iter().flatten().any(|f| f.source != FieldSource::Header)
    };
    if says_who(&own) {
        return own;
    }
    let forwarded = find_forwarded_with_subject(body_text, subject).or_else(|| attached_forward(message));
    let Some(forwarded) = forwarded.filter(|f| f.from.is_some() || !f.text.is_empty()) else { return own };
    let theirs = extract_fields_ignoring(&forwarded.text, forwarded.from.as_ref(), &rules.own_addresses);
    // The forward is the request when it says who it is about, or when the forwarder only
    // passed it on ("FYI"); a forwarder with something of their own to say is the one asking.
    let own_lines: Vec<&str> = reply_text.lines().filter(|l| !l.trim().is_empty()).collect();
    let passed_on = own_lines.len() <= 1 && own_lines.iter().all(|l| l.chars().count() <= 80);
    if !says_who(&theirs) && !passed_on {
        return own;
    }
    RequestFields {
        full_name: theirs.full_name,
        registered_email: theirs.registered_email,
        description: theirs.description.or(own.description),
    }
}

/// A person's message forwarded as an attachment (`message/rfc822`) with little or no text
/// of the forwarder's own.
fn attached_forward(message: &Message) -> Option<Forwarded> {
    let inner = message.attachments().find_map(|part| part.message())?;
    let from = inner.from().and_then(|f| f.first()).and_then(|addr| {
        let address = EmailAddress::parse(addr.address.as_deref()?).ok()?;
        let name = addr.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        Some(Mailbox { name, address: address.as_str().to_owned() })
    });
    let text = strip_quotes_and_signature(&readable_body(inner));
    Some(Forwarded { own_text: String::new(), from, text })
}

/// "X-Spam-Flag: YES" (SpamAssassin, rspamd), "X-Spam-Status: Yes, score=…", "X-Spam: Yes".
fn spam_verdict(headers: &[(String, String)]) -> Option<String> {
    headers.iter().find_map(|(name, value)| {
        let says_spam = ["X-Spam-Flag", "X-Spam-Status", "X-Spam"].iter().any(|n| name.eq_ignore_ascii_case(n))
            && value.trim_start().get(..3).is_some_and(|start| start.eq_ignore_ascii_case("yes"));
        says_spam.then(|| format!("{name}: {}", value.split(',').next().unwrap_or_default().trim()))
    })
}

/// RFC 5322 field names are printable ASCII without spaces or colons.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

fn sender(message: &Message) -> Result<Mailbox, ParseError> {
    let raw = message.header_raw("From").map(|value| value.trim().to_string());
    let parsed = message.from().and_then(|header| header.first()).and_then(|addr| {
        let address = EmailAddress::parse(addr.address.as_deref()?).ok()?;
        let name = addr.name.as_deref().map(str::trim).filter(|name| !name.is_empty()).map(str::to_string);
        Some(Mailbox { name, address: address.as_str().to_string() })
    });
    match (parsed, raw) {
        (Some(mailbox), _) => Ok(mailbox),
        (None, None) => Err(ParseError::NoSender),
        (None, Some(raw)) => salvaged_sender(&raw).ok_or(ParseError::InvalidSender(raw)),
    }
}

/// A From header mail-parser cannot read but a person can: "Jane Doe jane@acme.test",
/// "jane@acme.test (Jane Doe)", an unclosed bracket. The one address in it, and what is
/// left as the name.
fn salvaged_sender(raw: &str) -> Option<Mailbox> {
    static ADDRESS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap());
    let mut found = ADDRESS.find_iter(raw);
    let first = found.next()?;
    if found.any(|other| !other.as_str().eq_ignore_ascii_case(first.as_str())) {
        // Two different addresses: nobody can say which one wrote.
        return None;
    }
    let address = EmailAddress::parse(first.as_str()).ok()?;
    let rest = raw.replace(first.as_str(), " ");
    let name: String = rest
        .chars()
        .map(|c| if matches!(c, '<' | '>' | '(' | ')' | '"' | '[' | ']') { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let name = name.trim_matches(|c: char| c == ',' || c == ';' || c.is_whitespace()).to_string();
    Some(Mailbox { name: (!name.is_empty()).then_some(name), address: address.as_str().to_string() })
}

/// The headers of the first attached original (a bounce's or a report's copy), unfolded.
fn attached_original_headers(message: &Message) -> Vec<(String, String)> {
    message.parts.iter().find_map(|part| part.message()).map(unfolded_headers).unwrap_or_default()
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
    ids.into_iter().filter_map(super::message_id::stored).collect()
}

/// The text a person would read: every inline text part, with HTML parts converted. An
/// empty text/plain alternative (some clients send one) falls back to the HTML. Parts whose
/// bytes do not fit their charset label are decoded as the bytes suggest.
fn readable_body(message: &Message) -> String {
    let raw = message.raw_message();
    let as_text = |part: &mail_parser::MessagePart| {
        let declared = part.content_type().and_then(|ct| ct.attribute("charset"));
        match &part.body {
            PartType::Text(text) => Some(redecoded_text(raw, part, declared, text).unwrap_or_else(|| text.to_string())),
            PartType::Html(html) => {
                Some(html_to_text(&redecoded_text(raw, part, declared, html).unwrap_or_else(|| html.to_string())))
            }
            _ => None,
        }
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

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
