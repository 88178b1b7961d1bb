//! Forwarded requests: a manager, a shared inbox or the user's own second address passes
//! on a message with "FYI" or nothing at all above it. The request, and who made it, are
//! in the forwarded part; this file finds them. What counts as a forward marker is decided
//! by the quoting rules (one table of client wording, in quoting.rs); this file only reads
//! what follows one.

use super::addresses::email_addresses_in;
use super::quoting::{history_at, is_forward_subject, strip_quotes_and_signature, HeaderBlock, HeaderField, History};
use super::Mailbox;

/// A forwarded message found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// What the forwarder wrote above the forward, quotes and signature stripped; often "".
    pub own_text: String,
    /// The original sender, from the forwarded header block's From line, when it gives an
    /// address (an Outlook block may give only a display name).
    pub from: Option<Mailbox>,
    /// The forwarded message's own text, its quotes and signature stripped.
    pub text: String,
}

/// The message forwarded in `body`, if the body is a forward: Gmail's "---------- Forwarded
/// message ---------", Apple Mail's "Begin forwarded message:", Thunderbird's "--------
/// Forwarded Message --------" (each in the languages of the quoting table), or an Outlook
/// header block whose Subject is "FW: …". `None` when quoted history of a reply comes first:
/// then any forward is older mail, not what this sender passed on.
///
/// When the forwarded message is itself only a forward (a chain), the innermost message
/// with text of its own is returned.
pub fn find_forwarded(body: &str) -> Option<Forwarded> {
    find_forwarded_with_subject(body, "")
}

/// As [`find_forwarded`], also knowing the message's own subject. Outlook repeats the
/// forwarded message's headers with *its* subject, so a first-hand Outlook forward looks
/// exactly like an Outlook reply; a subject such as "FW: Locked out" tells them apart.
pub fn find_forwarded_with_subject(body: &str, subject: &str) -> Option<Forwarded> {
    let body = body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.lines().collect();
    let (marker, headers) = forward_start(&lines, is_forward_subject(subject))?;
    let own_text = strip_quotes_and_signature(&lines[..marker].join("\n"));
    let mut forwarded = read_forwarded(&lines[headers..]);
    // A forward of a forward: the request is further down.
    while forwarded.text.is_empty() {
        let inner_lines: Vec<&str> = forwarded.rest.lines().collect();
        let Some((_, inner_headers)) = forward_start(&inner_lines, false) else { break };
        forwarded = read_forwarded(&inner_lines[inner_headers..]);
    }
    Some(Forwarded { own_text, from: forwarded.from, text: forwarded.text })
}

/// The line of the first forward marker and where its headers start, unless a reply's
/// quoted history comes first. Signatures and footers do not stop the search: phones put
/// "Sent from my iPhone" above the forward.
fn forward_start(lines: &[&str], subject_says_forward: bool) -> Option<(usize, usize)> {
    (0..lines.len())
        .find_map(|i| match history_at(lines, i)? {
            History::Signature => None,
            History::Forward { headers } => Some(Some((i, headers))),
            History::Reply { headers: Some(headers) } if subject_says_forward => Some(Some((i, headers))),
            History::Reply { .. } => Some(None),
        })
        .flatten()
}

/// One forwarded message, read from the lines after its marker.
struct ForwardedPart {
    from: Option<Mailbox>,
    text: String,
    /// Its lines after the header block, unquoted, for a forward nested inside it.
    rest: String,
}

fn read_forwarded(lines: &[&str]) -> ForwardedPart {
    let unquoted = unquote_once(lines);
    let lines: Vec<&str> = unquoted.iter().map(String::as_str).collect();
    let first = lines.iter().position(|line| !line.trim().is_empty()).unwrap_or(lines.len());
    let block = (first < lines.len()).then(|| HeaderBlock::at(&lines, first)).flatten();
    let from = block.as_ref().and_then(|block| block.value(HeaderField::From)).and_then(mailbox_from_header);
    let rest = lines[block.as_ref().map_or(first, |block| block.end)..].join("\n");
    ForwardedPart { from, text: strip_quotes_and_signature(&rest), rest }
}

/// Apple Mail quotes a forwarded message in plain text ("> From: …"): when every line is
/// quoted, one level of quoting is the forward's framing, not history.
fn unquote_once(lines: &[&str]) -> Vec<String> {
    let all_quoted = lines.iter().filter(|line| !line.trim().is_empty()).all(|line| line.trim_start().starts_with('>'));
    lines
        .iter()
        .map(|line| match line.trim_start().strip_prefix('>') {
            Some(rest) if all_quoted => rest.strip_prefix(' ').unwrap_or(rest).to_string(),
            _ => line.to_string(),
        })
        .collect()
}

/// "Jane Doe <jane@acme.test>", "\"Doe, Jane\" <…>", "Jane Doe [mailto:jane@acme.test]",
/// "jane@acme.test" → a mailbox; `None` without an address.
fn mailbox_from_header(value: &str) -> Option<Mailbox> {
    let address = email_addresses_in(value).next()?;
    let before_address = value.split(['<', '[', '(']).next().unwrap_or_default();
    let name = before_address.trim().trim_matches(['"', '*', '\'']).trim();
    let name = (!name.is_empty() && !name.contains('@')).then(|| name.to_string());
    Some(Mailbox { name, address: address.as_str().to_string() })
}

#[cfg(test)]
#[path = "forwarded_tests.rs"]
mod tests;
