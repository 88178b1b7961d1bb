//! Email addresses in what people write: every plausible one, and the ones someone could
//! have registered with — not those in pasted header lines or shaped like a message id. The
//! scans are bounded by the RFC's lengths, so a text full of "@"s stays linear.

use crate::EmailAddress;

/// Email addresses written anywhere in `text`, in order, valid by [`EmailAddress::parse`].
/// Tolerates the punctuation around them: "<jane@acme.test>", "(jane@acme.test).",
/// "mailto:jane@acme.test", "[jane@acme.test]".
pub(crate) fn email_addresses_in(text: &str) -> impl Iterator<Item = EmailAddress> + '_ {
    addresses_with_positions(text).map(|(_, email)| email)
}

/// As [`email_addresses_in`], with where each address starts in `text`.
fn addresses_with_positions(text: &str) -> impl Iterator<Item = (usize, EmailAddress)> + '_ {
    let is_local = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let is_domain = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-');
    // Local parts and domains have a length limit (RFC 5321: 64 and 255 bytes), and looking
    // no further keeps a text of many "@"s linear.
    text.match_indices('@').filter_map(move |(at, _)| {
        let before = &text[text.floor_char_boundary(at.saturating_sub(64))..at];
        let start = at - before.chars().rev().take_while(|c| is_local(*c)).map(char::len_utf8).sum::<usize>();
        let after = &text[at + 1..text.floor_char_boundary(at + 1 + 255)];
        let end = after.char_indices().find(|(_, c)| !is_domain(*c)).map_or(at + 1 + after.len(), |(i, _)| at + 1 + i);
        let local = text[start..at].trim_start_matches('.');
        let domain = text[at + 1..end].trim_end_matches(['.', '-']);
        let top_level = domain.rsplit('.').next().unwrap_or_default();
        // A dotted domain with an alphabetic top level: rules out "@handle" and "x@1.2.3.4".
        let plausible_domain =
            domain.contains('.') && top_level.chars().count() >= 2 && top_level.chars().all(char::is_alphabetic);
        if local.is_empty() || !plausible_domain {
            return None;
        }
        let email = EmailAddress::parse(&format!("{local}@{domain}")).ok()?;
        Some((at - local.len(), email))
    })
}

/// Addresses someone could have registered with: those in `text` less the ones in pasted
/// header lines ("Message-ID: <…>", "References: …") and those shaped like a message id.
/// A message id has an "@" and a domain too, but is never anyone's mailbox.
pub(crate) fn registrable_addresses_in(text: &str) -> impl Iterator<Item = EmailAddress> + '_ {
    let mut in_pasted_header = false;
    text.lines()
        .filter(move |line| {
            // A header's folded continuation lines start with white space.
            let continues = in_pasted_header && line.starts_with([' ', '\t']) && !line.trim().is_empty();
            in_pasted_header = continues || is_pasted_header_line(line);
            !in_pasted_header
        })
        .flat_map(|line| addresses_with_positions(line).filter(move |(start, _)| !is_message_id_at(line, *start)))
        .map(|(_, email)| email)
}

/// A header line that carries message ids or routing, pasted into the text; a "From:" or
/// "To:" line is left alone, as it names mailboxes.
fn is_pasted_header_line(line: &str) -> bool {
    const ID_HEADERS: &[&str] = &[
        "message-id",
        "in-reply-to",
        "references",
        "content-id",
        "resent-message-id",
        "original-message-id",
        "thread-index",
        "received",
        "return-path",
        "dkim-signature",
        "authentication-results",
        "received-spf",
        "list-id",
        "list-unsubscribe",
    ];
    let Some((name, _)) = line.trim_start().split_once(':') else { return false };
    let name = name.trim().to_lowercase().replace(' ', "-");
    ID_HEADERS.contains(&name.as_str()) || name.starts_with("x-") || name.starts_with("arc-")
}

/// Whether the address starting at `start` is an angle-bracketed message id such as
/// "<CAB4bXq0=YH1sUvK8+E4x@mail.gmail.com>", "<5F3A9B2C-1D4E-4F6A-9B8C-7D6E5F4A3B2C@acme.test>"
/// or "<20250304091200.GA12345@mx.acme.test>": characters or runs of digits and hex no
/// mailbox has. Unbracketed addresses are left alone ("s20231234@student.uni.test").
fn is_message_id_at(line: &str, start: usize) -> bool {
    let token_start = line[..start].rfind(|c: char| c.is_whitespace() || c == '<').unwrap_or(0);
    if !line[token_start..].starts_with('<') {
        return false;
    }
    let Some(at) = line[start..].find('@').map(|i| start + i) else { return false };
    let local = &line[token_start + 1..at];
    let digits = local.chars().filter(char::is_ascii_digit).count();
    let hex = local.chars().filter(char::is_ascii_hexdigit).count();
    let hex_like = local.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, '-' | '.')) && hex >= 16 && digits > 0;
    let long_mixed = local.len() >= 24 && digits >= 4 && local.chars().any(|c| c.is_ascii_uppercase());
    local.contains(['$', '=']) || digits >= 10 || hex_like || long_mixed
}
