//! The support address as a link a locked-out person can use at once: a `mailto:` with the
//! subject and the three lines support needs (the first seed's "full name, registered email
//! and a brief description"), so the request parses without a round trip.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Everything but unreserved characters is encoded: a space as `%20` (mail clients show a
/// `+` literally), and `&`, `=`, `?`, `#` so a typed address cannot add fields.
const MAILTO_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b',')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

pub const SUBJECT: &str = "My account is locked";

/// `mailto:support?subject=…&body=…`, the registered email filled in when the person typed one.
pub fn support_mailto(support_email: &str, typed_email: &str) -> String {
    let typed = typed_email.trim();
    let typed = if typed.chars().count() <= 254 && !typed.chars().any(char::is_control) { typed } else { "" };
    let body = format!("Full name: \nRegistered email: {typed}\nDescription: \n");
    format!(
        "mailto:{support_email}?subject={}&body={}",
        utf8_percent_encode(SUBJECT, MAILTO_VALUE),
        utf8_percent_encode(&body.replace('\n', "\r\n"), MAILTO_VALUE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_subject_and_the_three_lines() {
        assert_eq!(
            support_mailto("support@keydesk.example", "jane@acme.test"),
            "mailto:support@keydesk.example?subject=My%20account%20is%20locked&body=Full%20name%3A%20%0D%0ARegistered%20email%3A%20jane%40acme.test%0D%0ADescription%3A%20%0D%0A"
        );
        // What was typed cannot add a header or a field.
        let sneaky = support_mailto("s@k.example", "x@y.test&cc=evil@z.test");
        assert!(sneaky.contains("x%40y.test%26cc%3Devil%40z.test"), "{sneaky}");
        assert!(!support_mailto("s@k.example", "a\r\nBcc: e@z").contains("Bcc"));
    }
}
