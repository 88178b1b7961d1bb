//! Every Message-ID and ticket tag a message mentions, wherever it mentions them: its own
//! threading headers, an attached original (`message/rfc822`, or the `text/rfc822-headers`
//! a bounce carries) and text that quotes one ("Message-ID: <…>", "[#42]"). This is how a
//! bounce of Keydesk's own notification finds its ticket: mail servers rarely thread a
//! bounce, but they nearly always attach or quote what bounced.

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use regex::Regex;
use std::sync::LazyLock;

/// At most this many of each are kept: a message quoting thousands proves nothing more.
const MAX_MENTIONS: usize = 64;
/// Text searched for mentions, per part.
const MAX_SCANNED_TEXT: usize = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Without angle brackets, in the order found, each once.
    pub message_ids: Vec<String>,
    /// From "[#N]" tags, in the order found, each once.
    pub ticket_numbers: Vec<i64>,
}

impl Mentions {
    fn add_id(&mut self, id: &str) {
        let Some(id) = super::message_id::stored(id) else { return };
        if self.message_ids.len() < MAX_MENTIONS && !self.message_ids.contains(&id) {
            self.message_ids.push(id);
        }
    }

    fn add_ids(&mut self, value: &HeaderValue) {
        match value {
            HeaderValue::Text(id) => self.add_id(id),
            HeaderValue::TextList(ids) => ids.iter().for_each(|id| self.add_id(id)),
            _ => {}
        }
    }

    fn add_ticket(&mut self, number: i64) {
        if number > 0 && self.ticket_numbers.len() < MAX_MENTIONS && !self.ticket_numbers.contains(&number) {
            self.ticket_numbers.push(number);
        }
    }

    /// Message-IDs on "Message-ID:", "In-Reply-To:" and "References:" lines, and ticket tags.
    fn scan_text(&mut self, text: &str) {
        static ID_LINE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?im)^[ \t>]*(?:message-id|in-reply-to|references)[ \t]*:[ \t]*((?:<[^<>\s]+>[ \t]*)+)")
                .unwrap()
        });
        static ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<([^<>\s]+)>").unwrap());
        static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[#(\d{1,12})\]").unwrap());
        let text = &text[..text.floor_char_boundary(MAX_SCANNED_TEXT)];
        for line in ID_LINE.captures_iter(text) {
            for id in ID.captures_iter(&line[1]) {
                self.add_id(&id[1]);
            }
        }
        for tag in TAG.captures_iter(text) {
            if let Ok(number) = tag[1].parse() {
                self.add_ticket(number);
            }
        }
    }

    fn add_message(&mut self, message: &Message, depth: usize) {
        if let Some(id) = message.message_id() {
            self.add_id(id);
        }
        self.add_ids(message.in_reply_to());
        self.add_ids(message.references());
        if let Some(subject) = message.subject() {
            self.scan_text(subject);
        }
        for part in message.parts.iter().skip(1) {
            match &part.body {
                // mail-parser limits how deep messages nest; this stops a loop of our own too.
                PartType::Message(inner) if depth < 4 => self.add_message(inner, depth + 1),
                PartType::Text(text) => {
                    if part
                        .content_type()
                        .and_then(|ct| ct.subtype())
                        .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
                    {
                        if let Some(headers) = MessageParser::default().parse_headers(text.as_bytes()) {
                            self.add_message(&headers, depth + 1);
                        }
                    }
                    self.scan_text(text);
                }
                PartType::Html(html) => self.scan_text(html),
                _ => {}
            }
        }
    }
}

/// What `message` mentions, `body_text` (its readable text) included.
pub(crate) fn mentions_in(message: &Message, body_text: &str) -> Mentions {
    let mut mentions = Mentions::default();
    mentions.add_message(message, 0);
    mentions.scan_text(body_text);
    mentions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(raw: &str) -> Mentions {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        mentions_in(&message, "")
    }

    #[test]
    fn an_attached_original_gives_its_ids_and_tag() {
        let raw = "From: MAILER-DAEMON@mx.acme.test\nSubject: Undelivered Mail Returned to Sender\n\
                   Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n\
                   Your message could not be delivered.\n--b\nContent-Type: message/rfc822\n\n\
                   From: support@keydesk.test\nMessage-ID: <keydesk.ticket-7.3@keydesk.test>\n\
                   Subject: Your account is unlocked [#7]\n\nHello\n--b--\n";
        let found = of(raw);
        assert_eq!(found.message_ids, ["keydesk.ticket-7.3@keydesk.test"]);
        assert_eq!(found.ticket_numbers, [7]);
    }

    #[test]
    fn headers_only_originals_and_quoted_text_count_too() {
        let raw = "From: postmaster@acme.test\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
                   --b\nContent-Type: text/plain\n\nThe original message was:\n> Message-ID: <quoted-1@keydesk.test>\n\
                   --b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <abc@keydesk.test>\nIn-Reply-To: <x@acme.test>\n\
                   Subject: Re: [#12] Locked\n--b--\n";
        let found = of(raw);
        assert!(found.message_ids.contains(&"abc@keydesk.test".to_owned()), "{found:?}");
        assert!(found.message_ids.contains(&"quoted-1@keydesk.test".to_owned()), "{found:?}");
        assert!(found.message_ids.contains(&"x@acme.test".to_owned()));
        assert_eq!(found.ticket_numbers, [12]);
    }

    #[test]
    fn mentions_are_capped() {
        let body = (0..1_000).map(|n| format!("[#{}]", n + 1)).collect::<String>();
        let message = MessageParser::default().parse(b"From: a@b.test\n\nx").unwrap();
        assert_eq!(mentions_in(&message, &body).ticket_numbers.len(), MAX_MENTIONS);
    }
}
