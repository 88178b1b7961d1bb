//! The few headers a ledger row shows (From, Subject, Message-ID) and the
//! Authentication-Results the identity checks read: stored as columns when a message is
//! taken in, so nothing parses raw mail to list or check it. For a message that was not
//! parsed (too large, unreadable) they come from its header block alone.

use super::charset::headers_as_utf8;
use super::{Mailbox, ParseError, ParsedMessage};
use mail_parser::MessageParser;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderSummary {
    pub message_id: Option<String>,
    /// "Name <address>", the address alone, or the raw header when no address is in it.
    pub from_header: String,
    pub subject: String,
    /// Topmost first.
    pub authentication_results: Vec<String>,
}

/// Longest From or Subject kept in a summary: it is for a list, the raw bytes stay.
const MAX_SHOWN: usize = 300;

impl HeaderSummary {
    pub fn of(parsed: &ParsedMessage) -> Self {
        let from_header = match (&parsed.from, &parsed.sender_problem) {
            (Some(from), _) => shown(from),
            (None, Some(ParseError::InvalidSender(raw))) => raw.clone(),
            (None, _) => String::new(),
        };
        HeaderSummary {
            message_id: parsed.message_id.clone(),
            from_header: cut(&from_header),
            subject: cut(&parsed.subject),
            authentication_results: parsed.authentication_results.clone(),
        }
    }
}

fn shown(mailbox: &Mailbox) -> String {
    match &mailbox.name {
        Some(name) => format!("{name} <{}>", mailbox.address),
        None => mailbox.address.clone(),
    }
}

fn cut(text: &str) -> String {
    let text = text.replace(['\0', '\r', '\n'], " ");
    match text.char_indices().nth(MAX_SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The summary of `raw` from its header block only (bounded: no body is decoded).
pub fn read_headers(raw: &[u8]) -> HeaderSummary {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| summarise(raw))).unwrap_or_default()
}

fn summarise(raw: &[u8]) -> HeaderSummary {
    let raw = headers_as_utf8(raw);
    let Some(message) = MessageParser::default().parse_headers(raw.as_ref()) else {
        return HeaderSummary::default();
    };
    let from = message.from().and_then(|from| from.first()).and_then(|addr| {
        let address = addr.address.as_deref()?.to_lowercase();
        Some(Mailbox { name: addr.name.as_deref().map(str::to_owned), address })
    });
    let from_header = match from {
        Some(from) => shown(&from),
        None => message.header_raw("From").unwrap_or_default().trim().to_owned(),
    };
    HeaderSummary {
        message_id: message.message_id().and_then(super::message_id::stored),
        from_header: cut(&from_header),
        subject: cut(message.subject().unwrap_or_default().trim()),
        authentication_results: message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" ").replace('\0', ""))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_alone_give_the_summary() {
        let raw = b"From: Jane Doe <Jane@Acme.test>\nSubject: Locked\nMessage-ID: <m1@acme.test>\n\
                    Authentication-Results: mx.test;\n dmarc=pass header.from=acme.test\n\n";
        let summary = read_headers(raw);
        assert_eq!(summary.from_header, "Jane Doe <jane@acme.test>");
        assert_eq!(summary.subject, "Locked");
        assert_eq!(summary.message_id.as_deref(), Some("m1@acme.test"));
        assert_eq!(summary.authentication_results, ["mx.test; dmarc=pass header.from=acme.test"]);
    }

    #[test]
    fn what_is_shown_is_one_bounded_line() {
        let long = format!("From: x@y.test\nSubject: {}\r\n\n", "a".repeat(1_000));
        let summary = read_headers(long.as_bytes());
        assert_eq!(summary.subject.chars().count(), MAX_SHOWN + 1);
        assert_eq!(read_headers(b"\0\0\0"), HeaderSummary::default());
    }
}
