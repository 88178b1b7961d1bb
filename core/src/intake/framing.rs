//! What comes before and around a message's headers in files nobody here wrote: a byte
//! order mark, blank or indented lines, the "From " postmark line of an mbox, and the bare
//! CR line endings of old Mac mail. mail-parser reads none of these as intended (a file
//! with CR line endings is one long header), so they are set right before parsing. The
//! bytes stored and hashed stay exactly as they arrived.

use std::borrow::Cow;

/// How far into a message the line endings are judged.
const SNIFFED: usize = 64 * 1024;

/// `raw` as a parser should see it.
pub fn as_parseable(raw: &[u8]) -> Cow<'_, [u8]> {
    let mut start = 0;
    if raw.starts_with(b"\xef\xbb\xbf") {
        start = 3;
    }
    // Blank lines, and whitespace-only lines, before the first header.
    loop {
        let rest = &raw[start..];
        let line_end = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
        let line = &rest[..line_end];
        let is_blank = line.iter().all(|b| *b == b' ' || *b == b'\t');
        let is_postmark = line.starts_with(b"From ");
        if (!is_blank && !is_postmark) || line_end == rest.len() {
            break;
        }
        start += line_end;
        start += rest[line_end..].iter().take(2).take_while(|&&b| b == b'\r' || b == b'\n').count();
    }
    let raw = &raw[start..];
    let sniffed = &raw[..raw.len().min(SNIFFED)];
    let bare_cr = !sniffed.contains(&b'\n') && sniffed.contains(&b'\r');
    if bare_cr {
        return Cow::Owned(raw.iter().map(|&b| if b == b'\r' { b'\n' } else { b }).collect());
    }
    Cow::Borrowed(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_noise_goes_and_bare_cr_becomes_lf() {
        assert_eq!(as_parseable(b"\xef\xbb\xbfFrom: a@b.test\n\nx").as_ref(), b"From: a@b.test\n\nx");
        assert_eq!(as_parseable(b"\n  \r\nFrom: a@b.test\n\nx").as_ref(), b"From: a@b.test\n\nx");
        assert_eq!(
            as_parseable(b"From jane@acme.test Sat Jan  3 01:05:34 1996\nFrom: a@b.test\n\nx").as_ref(),
            b"From: a@b.test\n\nx"
        );
        assert_eq!(
            as_parseable(b"From: a@b.test\rSubject: s\r\rbody\r").as_ref(),
            b"From: a@b.test\nSubject: s\n\nbody\n"
        );
        assert!(matches!(as_parseable(b"From: a@b.test\r\n\r\nbody"), Cow::Borrowed(_)));
    }
}
