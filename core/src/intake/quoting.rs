//! What the sender wrote this time, as opposed to what their mail client carried along:
//! quoted history ("> ", "On … wrote:", Outlook's "From: … Sent: …" block), forwarded
//! messages, signatures ("-- ", "Sent from my iPhone"), legal footers and a closing
//! "Thanks, Jane". Recognising these is heuristic; every rule errs on keeping text, because
//! a lost sentence is worse for staff than a stray signature.
//!
//! The words clients and writers use for all of this, in every language Keydesk reads,
//! are in one table (`mail_words`); the rules below only ever ask it.

use super::mail_words::{in_any_language, LANGUAGES};
use super::names::looks_like_name;
use regex::Regex;
use std::sync::LazyLock;

/// The form [`LANGUAGES`] is written in: lower case, one space between words, straight
/// apostrophes, no space before a colon (French typography) and "email" for "e-mail".
pub(crate) fn plain(text: &str) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    words.to_lowercase().replace(['’', '‘'], "'").replace(" :", ":").replace("e-mail", "email")
}

/// `body` without quoted replies, forwarded messages, signatures, legal footers and a
/// trailing sign-off. Line endings come out as "\n"; leading and trailing blank lines are
/// dropped.
///
/// A forward ends the forwarder's own text, so a message that is only a forward gives "".
/// Callers that want the request inside a forward ask [`super::find_forwarded`] for it.
pub fn strip_quotes_and_signature(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.lines().collect();
    let end = (0..lines.len()).find(|&i| history_at(&lines, i).is_some()).unwrap_or(lines.len());
    let unquoted: Vec<&str> = lines[..end].iter().copied().filter(|line| !line.trim_start().starts_with('>')).collect();
    let kept = trim_sign_off(&unquoted);
    trim_blank_lines(kept).join("\n")
}

/// What starts at a line and runs to the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum History {
    /// A signature, an app's line, a legal footer or link footnotes: the end of the
    /// writer's text, but not another message.
    Signature,
    /// Quoted earlier mail; `headers` is where its repeated header block starts, if it has one.
    Reply { headers: Option<usize> },
    /// A forwarded message; its header block (if any) starts at or after `headers`.
    Forward { headers: usize },
}

/// Whether everything from line `i` on is history, a signature or client boilerplate.
pub(crate) fn history_at(lines: &[&str], i: usize) -> Option<History> {
    let line = lines[i];
    if is_signature_delimiter(line) || is_app_signature(line) || is_legal_footer(lines, i) {
        return Some(History::Signature);
    }
    if starts_link_footnotes(&lines[i..]) {
        return Some(History::Signature);
    }
    if is_forward_separator(line) {
        return Some(History::Forward { headers: i + 1 });
    }
    if is_reply_separator(line) {
        // Outlook draws the same separator above a reply and a forward; the header block says which.
        let Some(next) = (i + 1..lines.len().min(i + 3)).find(|&j| !lines[j].trim().is_empty()) else {
            return Some(History::Reply { headers: None });
        };
        return Some(match HeaderBlock::at(lines, next) {
            Some(block) if block.is_forward() => History::Forward { headers: next },
            Some(_) => History::Reply { headers: Some(next) },
            None => History::Reply { headers: None },
        });
    }
    if is_attribution(lines, i) {
        return Some(History::Reply { headers: None });
    }
    let block = HeaderBlock::at(lines, i).filter(HeaderBlock::is_message_headers)?;
    Some(if block.is_forward() { History::Forward { headers: i } } else { History::Reply { headers: Some(i) } })
}

/// The "[1]: https://…" list that ends HTML mail rendered as text: link targets, not
/// words the sender wrote (they stay in the full body).
fn starts_link_footnotes(lines: &[&str]) -> bool {
    let is_footnote = |line: &str| {
        line.strip_prefix('[')
            .and_then(|rest| rest.split_once("]: "))
            .is_some_and(|(number, _)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
    };
    lines.first().is_some_and(|line| is_footnote(line))
        && lines.iter().all(|line| line.trim().is_empty() || is_footnote(line))
}

/// "-- " is the standard delimiter (RFC 3676); many clients trim it to "--".
fn is_signature_delimiter(line: &str) -> bool {
    matches!(line, "-- " | "--")
}

/// Words naming the device or app in an app's signature line: "Sent from my iPhone" is a
/// signature, "von meinem Konto wurde nichts gesendet" is a sentence.
#[rustfmt::skip]
const DEVICES: &[&str] = &[
    "iphone", "ipad", "ios", "android", "samsung", "galaxy", "huawei", "xiaomi", "pixel", "smartphone", "phone",
    "mobile", "handy", "tablet", "blackberry", "outlook", "mail", "gmail", "yahoo", "windows", "mac", "téléphone",
    "portable", "móvil", "telefoon", "mobiel", "cellulare", "telefono",
];

/// "Sent from my iPhone", "Von meinem iPhone gesendet", "Get Outlook for Android": short,
/// with a device or app named where the pattern has `*`.
fn is_app_signature(line: &str) -> bool {
    let line = plain(line);
    // Outlook renders its link after the words: "Get Outlook for iOS<https://aka.ms/o0ukef>".
    let line = match line.rfind('<') {
        Some(link) if line.ends_with('>') => &line[..link],
        _ => &line,
    };
    let line = line.trim_end_matches(['.', '!']).trim_end();
    line.chars().count() <= 80
        && in_any_language(|l| l.app_signatures).any(|pattern| match pattern.split_once('*') {
            None => line == pattern,
            Some((before, after)) => {
                let app = line.strip_prefix(before).and_then(|rest| rest.strip_suffix(after));
                app.is_some_and(|app| {
                    let mut words = app.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
                    let short = app.split_whitespace().count() <= 4 && !app.contains(',');
                    app.trim().is_empty() || (short && words.any(|word| DEVICES.contains(&word)))
                })
            }
        })
}

/// A confidentiality notice, disclaimer or "consider the environment" line, or a rule of
/// `*`, `=` or `-` directly above one.
fn is_legal_footer(lines: &[&str], i: usize) -> bool {
    let starts_footer = |line: &str| {
        let line = plain(line.trim().trim_start_matches(['*', '_', '#']));
        in_any_language(|l| l.legal_footers).any(|phrase| {
            line.strip_prefix(phrase).is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
        })
    };
    let is_rule = |line: &str| {
        let line = line.trim();
        line.chars().count() >= 5 && line.chars().all(|c| matches!(c, '*' | '=' | '-' | '_' | '~' | '#'))
    };
    starts_footer(lines[i])
        || (is_rule(lines[i])
            && lines[i + 1..]
                .iter()
                .take(3)
                .find(|line| !line.trim().is_empty())
                .is_some_and(|line| starts_footer(line)))
}

/// The words inside "-----Original Message-----" or "---------- Forwarded message ---------".
fn separator_words(line: &str) -> Option<String> {
    let line = line.trim();
    line.starts_with("--").then(|| plain(line.trim_matches('-')))
}

/// Outlook's and Thunderbird's "Original Message" separators in any language, and the row
/// of underscores Outlook draws above the quoted message's headers.
fn is_reply_separator(line: &str) -> bool {
    let underscores = line.trim().len() >= 10 && line.trim().chars().all(|c| c == '_');
    underscores
        || separator_words(line).is_some_and(|words| in_any_language(|l| l.reply_separators).any(|s| s == words))
}

/// Gmail's and Thunderbird's forward separators, and Apple Mail's "Begin forwarded message:".
fn is_forward_separator(line: &str) -> bool {
    let is_separator =
        separator_words(line).is_some_and(|words| in_any_language(|l| l.forward_separators).any(|s| s == words));
    is_separator || in_any_language(|l| l.forward_intros).any(|intro| plain(line) == intro)
}

/// "On Tue, 4 Mar 2025 at 09:12, Keydesk Support <support@…> wrote:", "Am … schrieb
/// Jane Doe <…>:", "Le … a écrit :", which clients wrap over up to three lines. A sentence
/// can start the same way ("On Monday I wrote:"), so it needs a time, a year or an address,
/// or quoted lines right after it. Without an opening word ("Jane <jane@…> writes:") it needs
/// both an address and the quote right after it.
fn is_attribution(lines: &[&str], i: usize) -> bool {
    static DATE_OR_ADDRESS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\d:\d\d|\b(?:19|20)\d\d\b|@").expect("date pattern is valid"));
    let first_word = plain(lines[i].split_whitespace().next().unwrap_or_default());
    if !in_any_language(|l| l.attribution_openings).any(|opening| opening == first_word) {
        // Emacs and mutt: "\"Jane Doe\" <jane@acme.test> writes:" right above the quote.
        let quoted_next = lines.get(i + 1..).and_then(|rest| rest.iter().find(|line| !line.trim().is_empty()));
        return lines[i].contains('@')
            && ends_with_attribution_verb(lines[i].trim())
            && quoted_next.is_some_and(|line| line.trim_start().starts_with('>'));
    }
    (1..=3).filter(|n| i + n <= lines.len()).any(|n| {
        let text = lines[i..i + n].iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ");
        let quoted_next = lines[i + n..]
            .iter()
            .find(|line| !line.trim().is_empty())
            .is_some_and(|line| line.trim_start().starts_with('>'));
        ends_with_attribution_verb(&text) && (DATE_OR_ADDRESS.is_match(&text) || quoted_next)
    })
}

fn ends_with_attribution_verb(text: &str) -> bool {
    let text = plain(text);
    let Some(text) = text.strip_suffix(':') else { return false };
    in_any_language(|l| l.attribution_verbs).any(|verb| {
        text.rmatch_indices(verb).next().is_some_and(|(at, _)| {
            let after = &text[at + verb.len()..];
            text[..at].ends_with(' ') && (after.is_empty() || after.starts_with(' ')) && after.chars().count() <= 120
        })
    })
}

/// A field in the header block clients repeat above a quoted or forwarded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderField {
    From,
    Date,
    To,
    Cc,
    Subject,
    Other,
}

/// "From: Jane <jane@…>", "**Von:** Jane", "*From:* Jane", "Objet : Compte bloqué",
/// "Subject:\tLocked out" → the field and its value.
fn header_field(line: &str) -> Option<(HeaderField, &str)> {
    let line = line.trim().trim_start_matches(['*', '_']);
    let (name, value) = line.split_once([':', '：'])?;
    let name = plain(name.trim_end_matches(['*', '_']));
    let named = |names: &[&str]| names.contains(&name.as_str());
    let field = LANGUAGES.iter().find_map(|l| {
        [
            (HeaderField::From, l.from),
            (HeaderField::Date, l.date),
            (HeaderField::To, l.to),
            (HeaderField::Cc, l.cc),
            (HeaderField::Subject, l.subject),
            (HeaderField::Other, l.other_headers),
        ]
        .into_iter()
        .find_map(|(field, names)| named(names).then_some(field))
    })?;
    Some((field, value.trim_start_matches(['*', '_']).trim()))
}

/// Consecutive header fields, as Outlook, Gmail, Apple Mail and Thunderbird repeat them.
pub(crate) struct HeaderBlock<'a> {
    fields: Vec<(HeaderField, &'a str)>,
    /// The line after the block.
    pub end: usize,
}

impl<'a> HeaderBlock<'a> {
    /// The block starting at line `start`, which must be a header field. A line that is no
    /// field ends it, unless it carries on a list of recipients.
    pub(crate) fn at(lines: &[&'a str], start: usize) -> Option<Self> {
        const MAX_LINES: usize = 12;
        let mut fields: Vec<(HeaderField, &str)> = Vec::new();
        let mut end = start;
        while end < lines.len().min(start + MAX_LINES) {
            let line = lines[end];
            if let Some(field) = header_field(line) {
                fields.push(field);
            } else {
                let after_recipients = matches!(fields.last(), Some((HeaderField::To | HeaderField::Cc, _)));
                if !(after_recipients && !line.trim().is_empty() && line.contains(['@', ';'])) {
                    break;
                }
            }
            end += 1;
        }
        (!fields.is_empty()).then_some(HeaderBlock { fields, end })
    }

    pub(crate) fn value(&self, field: HeaderField) -> Option<&'a str> {
        self.fields.iter().find(|(f, _)| *f == field).map(|(_, value)| *value)
    }

    /// A sender, a date and a recipient or subject: the headers of a message, not a
    /// "From: the finance team" line someone wrote.
    fn is_message_headers(&self) -> bool {
        let has = |field| self.value(field).is_some();
        has(HeaderField::From) && has(HeaderField::Date) && (has(HeaderField::To) || has(HeaderField::Subject))
    }

    fn is_forward(&self) -> bool {
        self.value(HeaderField::Subject).is_some_and(is_forward_subject)
    }
}

/// "FW: …", "Fwd: …", "WG: …", "TR : …", "RV: …", "Doorst: …", "I: …".
pub(crate) fn is_forward_subject(subject: &str) -> bool {
    plain(subject)
        .split_once(':')
        .is_some_and(|(prefix, _)| in_any_language(|l| l.forward_subject_prefixes).any(|p| p == prefix))
}

/// A line that is only a closing phrase: "Thanks,", "Kind regards", "Cheers!".
pub(crate) fn is_sign_off(line: &str) -> bool {
    let phrase = plain(line.trim().trim_end_matches([',', '.', '!', '-', ' ']));
    in_any_language(|l| l.sign_offs).any(|sign_off| sign_off == phrase)
}

/// "Hi,", "Hello team!", "Dear Support,", "Sehr geehrte Frau Müller,": a short opening
/// phrase followed by nothing but names and the words that address a group.
pub(crate) fn is_greeting(line: &str) -> bool {
    let words: Vec<&str> =
        line.split(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '’'))).filter(|w| !w.is_empty()).collect();
    if !(1..=6).contains(&words.len()) || line.contains('?') {
        return false;
    }
    let lower: Vec<String> = words.iter().map(|word| plain(word)).collect();
    let addresses_someone = |(word, lower): (&&str, &String)| {
        word.starts_with(char::is_uppercase) || in_any_language(|l| l.greeting_addressees).any(|a| a == lower)
    };
    in_any_language(|l| l.greetings).any(|greeting| {
        let opening: Vec<&str> = greeting.split(' ').collect();
        lower.len() >= opening.len()
            && lower.iter().zip(&opening).all(|(word, expected)| word == expected)
            && words.iter().zip(&lower).skip(opening.len()).all(addresses_someone)
    })
}

/// The lines before a closing sign-off that nothing but a name follows: "Thanks,\nJane",
/// "Kind regards, Jane Doe", or a bare "Thanks!" at the end; possibly nothing. A sign-off
/// followed by a job title or phone number is left alone: that is a signature we cannot
/// bound safely.
pub(crate) fn without_sign_off<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let lines = trim_blank_lines(lines);
    let Some((last, before)) = lines.split_last() else { return lines };
    if is_sign_off(last) || is_inline_sign_off(last) {
        return trim_blank_lines(before);
    }
    match trim_blank_lines(before).split_last() {
        Some((sign_off, rest)) if looks_like_name(last) && is_sign_off(sign_off) => trim_blank_lines(rest),
        _ => lines,
    }
}

/// As [`without_sign_off`], but a message that is nothing but "Thanks!" keeps it: then it
/// is the message.
pub(crate) fn trim_sign_off<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let rest = without_sign_off(lines);
    if rest.is_empty() {
        trim_blank_lines(lines)
    } else {
        rest
    }
}

/// "Thanks, Jane" or "Kind regards, Jane Doe" on one line.
fn is_inline_sign_off(line: &str) -> bool {
    line.split_once(',').is_some_and(|(phrase, name)| is_sign_off(phrase) && looks_like_name(name))
}

pub(crate) fn trim_blank_lines<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(start, |i| i + 1);
    &lines[start..end]
}

#[cfg(test)]
#[path = "quoting_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "quoting_clients_tests.rs"]
mod clients_tests;
