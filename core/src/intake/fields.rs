//! The name, registered email and description a locked-out user is asked to send, found
//! in what they wrote. Three sources, strongest first: labelled lines ("Full name: …"),
//! sentences ("my name is …"), and the From header. Each field takes the strongest
//! source that yields a usable value, and records which one it was.

use super::names::{name_from_prose, normalise_full_name};
use super::quoting::{is_sign_off, trim_sign_off};
use super::{Extracted, FieldSource, Mailbox, RequestFields};
use crate::EmailAddress;

/// Longest description taken from prose; the full text is still on the ticket.
const MAX_PROSE_DESCRIPTION_CHARS: usize = 2000;
/// A labelled "name" longer than this is a sentence, not a name.
const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    FullName,
    RegisteredEmail,
    Description,
}

/// The fields in `reply_text` (what the sender wrote, without quoted history), falling
/// back to the From header.
pub fn extract_fields(reply_text: &str, from: Option<&Mailbox>) -> RequestFields {
    extract_fields_ignoring(reply_text, from, &[])
}

/// As [`extract_fields`], but never takes one of `ignored` (Keydesk's own addresses) as
/// the registered email: users mention the support address in passing.
pub fn extract_fields_ignoring(reply_text: &str, from: Option<&Mailbox>, ignored: &[EmailAddress]) -> RequestFields {
    let lines: Vec<&str> = reply_text.lines().collect();
    let labelled = LabelledFields::find(&lines, ignored);
    let is_ours = |email: &EmailAddress| ignored.contains(email);

    let full_name = labelled
        .full_name
        .map(|name| Extracted::new(name, FieldSource::BodyLabel))
        .or_else(|| name_from_prose(reply_text).map(|name| Extracted::new(name, FieldSource::Prose)))
        .or_else(|| {
            let name = normalise_full_name(from?.name.as_deref()?)?;
            Some(Extracted::new(name, FieldSource::Header))
        });

    let registered_email = labelled
        .email
        .map(|email| Extracted::new(email.as_str(), FieldSource::BodyLabel))
        .or_else(|| {
            let email = email_addresses_in(reply_text).find(|email| !is_ours(email))?;
            Some(Extracted::new(email.as_str(), FieldSource::Prose))
        })
        .or_else(|| {
            let email = EmailAddress::parse(&from?.address).ok().filter(|email| !is_ours(email))?;
            Some(Extracted::new(email.as_str(), FieldSource::Header))
        });

    let description = labelled.description.map(|text| Extracted::new(text, FieldSource::BodyLabel)).or_else(|| {
        let unlabelled: Vec<&str> =
            lines.iter().enumerate().filter(|(i, _)| !labelled.used[*i]).map(|(_, l)| *l).collect();
        description_from_prose(&unlabelled).map(|text| Extracted::new(text, FieldSource::Prose))
    });

    RequestFields { full_name, registered_email, description }
}

/// Values from labelled lines, and which lines they used (so prose does not repeat them).
struct LabelledFields {
    full_name: Option<String>,
    email: Option<EmailAddress>,
    description: Option<String>,
    used: Vec<bool>,
}

impl LabelledFields {
    fn find(lines: &[&str], ignored: &[EmailAddress]) -> Self {
        let mut found =
            LabelledFields { full_name: None, email: None, description: None, used: vec![false; lines.len()] };
        let mut i = 0;
        while i < lines.len() {
            let Some((kind, inline_value)) = labelled_line(lines[i]) else {
                i += 1;
                continue;
            };
            found.used[i] = true;
            let mut value: Vec<&str> = Vec::new();
            let mut next = i + 1;
            if inline_value.is_empty() {
                // "Full name:" with the answer on the next non-blank line.
                if let Some(j) = (next..lines.len()).find(|&j| !lines[j].trim().is_empty()) {
                    if labelled_line(lines[j]).is_none() {
                        value.push(clean_value(lines[j]));
                        found.used[j] = true;
                        next = j + 1;
                    }
                }
            } else {
                value.push(inline_value);
            }
            if kind == FieldKind::Description {
                // A description runs on until the next label or the closing sign-off.
                while next < lines.len() && labelled_line(lines[next]).is_none() && !is_sign_off(lines[next]) {
                    // Continuation lines are often indented under a bullet; the indent is layout.
                    value.push(lines[next].trim());
                    found.used[next] = true;
                    next += 1;
                }
            }
            found.accept(kind, &value.join("\n"), ignored);
            i = next;
        }
        found
    }

    /// Keeps the first usable value of each kind; unusable ones are skipped so a later
    /// label (or prose, or the header) can still supply the field.
    fn accept(&mut self, kind: FieldKind, value: &str, ignored: &[EmailAddress]) {
        match kind {
            FieldKind::FullName if self.full_name.is_none() => {
                self.full_name = normalise_full_name(value).filter(|name| name.chars().count() <= MAX_NAME_CHARS);
            }
            FieldKind::RegisteredEmail if self.email.is_none() => {
                self.email = email_addresses_in(value).find(|email| !ignored.contains(email));
            }
            FieldKind::Description if self.description.is_none() => {
                let text = value.trim();
                self.description = (!text.is_empty()).then(|| text.to_string());
            }
            _ => {}
        }
    }
}

/// "Full name: Jane Doe", "• Email - jane@acme.test", "**Issue:** …", a table row
/// "Name│Jane Doe", or "Full name:" alone → the field and its (possibly empty) value.
fn labelled_line(line: &str) -> Option<(FieldKind, &str)> {
    let line = strip_bullet(line);
    line.char_indices().filter(|(_, c)| matches!(c, ':' | '：' | '-' | '–' | '—' | '│' | '|')).find_map(
        |(at, separator)| {
            let kind = field_for_label(&line[..at])?;
            Some((kind, clean_value(&line[at + separator.len_utf8()..])))
        },
    )
}

/// List markers users type and html2text renders: "• ", "- ", "* ", "1. ", "2) ".
fn strip_bullet(line: &str) -> &str {
    let line = line.trim_start();
    for bullet in ["• ", "- ", "* ", "· ", "– ", "▪ ", "◦ ", "➢ ", "○ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest.trim_start();
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if (1..=2).contains(&digits) {
        if let Some(rest) = line[digits..].strip_prefix(". ").or_else(|| line[digits..].strip_prefix(") ")) {
            return rest.trim_start();
        }
    }
    line
}

/// Trims spaces and the markup around a value: "** Jane Doe **", "│Jane Doe   ".
fn clean_value(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | '│' | '|'))
}

/// Which field a label asks for, in the many ways people and forms word it. Exact phrases
/// rather than keywords: "Username" and "Company name" must not read as the full name.
fn field_for_label(label: &str) -> Option<FieldKind> {
    const NAME_LABELS: &[&str] = &[
        "name",
        "full name",
        "employee name",
        "employee full name",
        "first and last name",
        "full legal name",
        "legal name",
        "staff name",
        "contact name",
        "name and surname",
        "requester name",
    ];
    const EMAIL_LABELS: &[&str] = &[
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "account email",
        "account email address",
        "login email",
        "login email address",
        "work email",
        "work email address",
        "user email",
    ];
    const EMAIL_PREFIXES: &[&str] = &[
        "registered email",
        "registered e-mail",
        "email address registered with",
        "e-mail address registered with",
        "email registered with",
    ];
    const DESCRIPTION_LABELS: &[&str] = &[
        "issue",
        "description",
        "problem",
        "details",
        "issue description",
        "problem description",
        "issue details",
        "details of the issue",
        "description of the issue",
        "description of issue",
        "description of the problem",
    ];
    const DESCRIPTION_PREFIXES: &[&str] = &["brief description"];

    let label = normalise_label(label);
    let is = |exact: &[&str], prefixes: &[&str]| {
        exact.contains(&label.as_str()) || prefixes.iter().any(|p| label.starts_with(p))
    };
    if is(NAME_LABELS, &[]) {
        Some(FieldKind::FullName)
    } else if is(EMAIL_LABELS, EMAIL_PREFIXES) {
        Some(FieldKind::RegisteredEmail)
    } else if is(DESCRIPTION_LABELS, DESCRIPTION_PREFIXES) {
        Some(FieldKind::Description)
    } else {
        None
    }
}

/// "**Your Registered Email Address with AMS**" → "registered email address with ams".
fn normalise_label(label: &str) -> String {
    let lower = label.to_lowercase();
    let plain: String = lower.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { ' ' }).collect();
    let mut words: &[&str] = &plain.split_whitespace().collect::<Vec<_>>();
    while let [first, rest @ ..] = words {
        if !matches!(*first, "your" | "my" | "the" | "a") {
            break;
        }
        words = rest;
    }
    words.join(" ")
}

/// Email addresses written anywhere in `text`, in order, valid by [`EmailAddress::parse`].
/// Tolerates the punctuation around them: "<jane@acme.test>", "(jane@acme.test).",
/// "mailto:jane@acme.test", "[jane@acme.test]".
pub(crate) fn email_addresses_in(text: &str) -> impl Iterator<Item = EmailAddress> + '_ {
    let is_local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let is_domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    text.match_indices('@').filter_map(move |(at, _)| {
        let start = text[..at].char_indices().rev().take_while(|(_, c)| is_local(*c)).last().map_or(at, |(i, _)| i);
        let end = text[at + 1..].char_indices().find(|(_, c)| !is_domain(*c)).map_or(text.len(), |(i, _)| at + 1 + i);
        let local = text[start..at].trim_start_matches('.');
        let domain = text[at + 1..end].trim_end_matches(['.', '-']);
        let top_level = domain.rsplit('.').next().unwrap_or_default();
        // A dotted domain with an alphabetic top level: rules out "@handle" and "x@1.2.3.4".
        let plausible_domain =
            domain.contains('.') && top_level.chars().count() >= 2 && top_level.chars().all(char::is_alphabetic);
        if local.is_empty() || !plausible_domain {
            return None;
        }
        EmailAddress::parse(&format!("{local}@{domain}")).ok()
    })
}

/// What the sender wrote, less the greeting and sign-off, when no line was labelled as the
/// description; capped so a pasted log does not become the ticket summary.
fn description_from_prose(lines: &[&str]) -> Option<String> {
    let mut lines = trim_sign_off(lines);
    let first_text = lines.iter().position(|l| !l.trim().is_empty())?;
    if is_greeting(lines[first_text]) {
        lines = &lines[first_text + 1..];
    }
    let mut text = String::new();
    let mut blank_run = 0;
    for line in lines.iter().map(|l| l.trim_end()) {
        blank_run = if line.trim().is_empty() { blank_run + 1 } else { 0 };
        if blank_run <= 1 {
            text.push_str(line);
            text.push('\n');
        }
    }
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(cap_chars(text, MAX_PROSE_DESCRIPTION_CHARS))
}

/// "Hi,", "Hello team!", "Dear Support,": a short opening line and nothing else.
fn is_greeting(line: &str) -> bool {
    const GREETINGS: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "dear",
        "hiya",
        "morning",
        "good morning",
        "good afternoon",
        "good evening",
        "greetings",
        "to whom it may concern",
        "bonjour",
        "hallo",
        "hola",
    ];
    let line = line.trim().trim_end_matches([',', '!', '.', ':']).to_lowercase();
    let word_count = line.split_whitespace().count();
    (1..=5).contains(&word_count)
        && GREETINGS.iter().any(|g| line == *g || line.strip_prefix(g).is_some_and(|rest| rest.starts_with([' ', ','])))
}

fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            // Prefer to end on a word boundary.
            let cut = text[..cut].rfind(char::is_whitespace).filter(|&i| i > cut / 2).unwrap_or(cut);
            format!("{}…", text[..cut].trim_end())
        }
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
