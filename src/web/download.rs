//! A file handed to staff: always a download (`Content-Disposition: attachment`), never shown
//! inline, with the declared type neutralised (`X-Content-Type-Options: nosniff`, and a type
//! that browsers do not render) and a file name safe in the header: an ASCII fallback and the
//! UTF-8 name (RFC 6266). What a sender attached must never run in Keydesk's origin.

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;

pub struct Download {
    bytes: Vec<u8>,
    disposition: String,
}

impl Download {
    /// `name` is shown to the person saving it; `declared` (the sender's claim) is only kept
    /// for the types that are harmless to hand over as they are.
    pub fn new(bytes: Vec<u8>, name: &str, _declared: &str) -> Self {
        Download { bytes, disposition: disposition(name) }
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
pub fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            // Never the sender's type: a browser must not render or run what was attached.
            .header(ContentType::Binary)
            .header(Header::new("Content-Disposition", self.disposition))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .header(Header::new("Content-Security-Policy", "default-src 'none'; sandbox"))
            .header(Header::new("Cache-Control", "private, no-store"))
            .sized_body(self.bytes.len(), Cursor::new(self.bytes))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn names_are_safe_in_the_header() {
        assert_eq!(disposition("report.pdf"), "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
        assert_eq!(
            disposition("Grüße \"x\";.txt"),
            "attachment; filename=\"Gr__e _x__.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22x%22%3B.txt"
        );
    }
}
