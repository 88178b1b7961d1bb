//! Text in the charset it was really written in, not the one it claims. Real mail carries
//! raw 8-bit headers (a Latin-1 name with no encoded word), bodies labelled us-ascii or
//! UTF-8 that are Windows-1252, and Latin-1 labels on UTF-8 text. mail-parser decodes what
//! is labelled; where the bytes do not fit their label, chardetng guesses the encoding from
//! the bytes themselves and encoding_rs decodes it.

use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};
use mail_parser::{Encoding, MessagePart};
use std::borrow::Cow;

/// `raw` with its header block made valid UTF-8 (RFC 6532 allows UTF-8 headers), the body
/// untouched. Headers that already are UTF-8 (or ASCII) are returned as they are.
pub fn headers_as_utf8(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_block_end(raw);
    let head = &raw[..end];
    if std::str::from_utf8(head).is_ok() {
        return Cow::Borrowed(raw);
    }
    let decoded = guess_and_decode(head);
    let mut fixed = Vec::with_capacity(raw.len() + decoded.len() - head.len());
    fixed.extend_from_slice(decoded.as_bytes());
    fixed.extend_from_slice(&raw[end..]);
    Cow::Owned(fixed)
}

/// The header block's length, its blank line included (all of `raw` when there is none).
pub fn header_block_len(raw: &[u8]) -> usize {
    let end = header_block_end(raw);
    let blank = if raw[end..].starts_with(b"\r\n\r\n") { 4 } else { 2 };
    (end + blank).min(raw.len())
}

/// Where the header block ends (the blank line's start), or the whole input.
fn header_block_end(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    }
}

/// Decodes bytes whose encoding nobody stated, as the bytes themselves suggest.
pub fn guess_and_decode(bytes: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// A text part decoded again when mail-parser's reading does not fit the bytes: either
/// characters could not be decoded (U+FFFD: the label is wrong, or there was none and the
/// text is not UTF-8), or a single-byte label sits on text that is valid UTF-8 (a client
/// that labelled UTF-8 as Latin-1 — mojibake like "Ã©" otherwise). None: keep mail-parser's.
pub fn redecoded_text(raw_message: &[u8], part: &MessagePart, declared: Option<&str>, decoded: &str) -> Option<String> {
    let suspicious_label = declared.is_some_and(|label| !is_utf8_label(label)) && !decoded.is_ascii();
    if !decoded.contains('\u{FFFD}') && !suspicious_label {
        return None;
    }
    let start = part.offset_body as usize;
    let end = (part.offset_end as usize).min(raw_message.len());
    let body = raw_message.get(start..end)?;
    let bytes = match part.encoding {
        Encoding::QuotedPrintable => Cow::Owned(quoted_printable_decode(body)?),
        Encoding::Base64 => Cow::Owned(base64_decode(body)?),
        Encoding::None => Cow::Borrowed(body),
    };
    if let Ok(text) = std::str::from_utf8(&bytes) {
        return (text != decoded).then(|| text.to_owned());
    }
    if suspicious_label {
        // The label may well be right (a real Latin-1 text): keep what it gave.
        return None;
    }
    Some(guess_and_decode(&bytes))
}

fn is_utf8_label(label: &str) -> bool {
    matches!(label.trim().to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_headers_become_utf8_and_the_body_stays() {
        let raw = b"From: Ren\xe9e Dupont <renee@acme.test>\nSubject: Compte bloqu\xe9\n\nbody \xff";
        let fixed = headers_as_utf8(raw);
        let text = String::from_utf8_lossy(&fixed);
        assert!(text.starts_with("From: Renée Dupont <renee@acme.test>\nSubject: Compte bloqué\n\n"), "{text}");
        assert!(fixed.ends_with(b"body \xff"), "the body is not touched");
    }

    #[test]
    fn utf8_headers_are_left_alone() {
        let raw = "From: Renée <renee@acme.test>\n\nbody".as_bytes();
        assert!(matches!(headers_as_utf8(raw), Cow::Borrowed(_)));
    }

    #[test]
    fn the_header_block_ends_at_the_first_blank_line() {
        assert_eq!(header_block_len(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_block_len(b"A: b\n\nbody"), 6);
        assert_eq!(header_block_len(b"A: b\nno end"), 11);
    }

    #[test]
    fn a_guess_reads_windows_1252() {
        assert_eq!(
            guess_and_decode(b"Gr\xfc\xdfe, ich bin gesperrt \x96 bitte helfen"),
            "Grüße, ich bin gesperrt – bitte helfen"
        );
    }
}
