//! Canned replies: a manager's text with a few placeholders, filled for one ticket. Only the
//! named placeholders are replaced, as plain text (no template language runs on what a
//! manager typed), and a placeholder Keydesk does not know is refused when the reply is
//! saved rather than sent to a user as `{{ typo }}`.

/// Each placeholder, and what it stands for (the editing page lists them).
pub const PLACEHOLDERS: [(&str, &str); 5] = [
    ("full_name", "the user's full name (as they gave it, else the account's)"),
    ("ticket", "the ticket's number, as #42"),
    ("hours", "support's working hours"),
    ("next_opening", "when support next opens (\"now\" while it is open)"),
    ("agent_name", "your name"),
];

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 5_000;

/// The values of the placeholders for one ticket, in [`PLACEHOLDERS`]'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedValues {
    pub full_name: String,
    pub ticket: String,
    pub hours: String,
    pub next_opening: String,
    pub agent_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CannedReplyError {
    #[error("give the reply a title")]
    NoTitle,
    #[error("the title is over {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("write the reply's text")]
    NoBody,
    #[error("the text is over {MAX_BODY_CHARS} characters")]
    BodyTooLong,
    #[error(
        "unknown placeholder {{{{ {0} }}}}: the placeholders are full_name, ticket, hours, next_opening and agent_name"
    )]
    UnknownPlaceholder(String),
}

/// A title and body fit to save: trimmed, within the limits, every placeholder known.
pub fn check(title: &str, body: &str) -> Result<(String, String), CannedReplyError> {
    let (title, body) = (title.trim(), body.trim());
    if title.is_empty() {
        return Err(CannedReplyError::NoTitle);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(CannedReplyError::TitleTooLong);
    }
    if body.is_empty() {
        return Err(CannedReplyError::NoBody);
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(CannedReplyError::BodyTooLong);
    }
    if let Some(unknown) = placeholders(body).find(|name| !PLACEHOLDERS.iter().any(|(known, _)| known == name)) {
        return Err(CannedReplyError::UnknownPlaceholder(unknown.to_owned()));
    }
    Ok((title.to_owned(), body.replace("\r\n", "\n")))
}

/// The body with each known placeholder replaced by its value.
pub fn fill(body: &str, values: &CannedValues) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let value = match after[..end].trim() {
                    "full_name" => Some(&values.full_name),
                    "ticket" => Some(&values.ticket),
                    "hours" => Some(&values.hours),
                    "next_opening" => Some(&values.next_opening),
                    "agent_name" => Some(&values.agent_name),
                    _ => None,
                };
                match value {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names between `{{` and `}}`, trimmed.
fn placeholders(body: &str) -> impl Iterator<Item = &str> {
    body.split("{{").skip(1).filter_map(|part| part.split_once("}}").map(|(name, _)| name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> CannedValues {
        CannedValues {
            full_name: "Jane Doe".into(),
            ticket: "#42".into(),
            hours: "Monday to Friday, 09:00–17:00".into(),
            next_opening: "now".into(),
            agent_name: "Agnes Agent".into(),
        }
    }

    #[test]
    fn known_placeholders_are_filled_as_text_and_nothing_else_runs() {
        let body = "Hello {{ full_name }}, ticket {{ticket}} — {{ agent_name }}. {% if x %}{{ x }} {{ unclosed";
        assert_eq!(fill(body, &values()), "Hello Jane Doe, ticket #42 — Agnes Agent. {% if x %}{{ x }} {{ unclosed");
        let sneaky = CannedValues { full_name: "{{ ticket }}".into(), ..values() };
        assert_eq!(fill("{{ full_name }}", &sneaky), "{{ ticket }}");
    }

    #[test]
    fn a_reply_is_checked_before_it_is_saved() {
        assert_eq!(check("  Hi ", " Hello {{ full_name }}\r\n "), Ok(("Hi".into(), "Hello {{ full_name }}".into())));
        assert_eq!(check("", "x"), Err(CannedReplyError::NoTitle));
        assert_eq!(check("t", "  "), Err(CannedReplyError::NoBody));
        assert_eq!(check(&"t".repeat(101), "x"), Err(CannedReplyError::TitleTooLong));
        assert_eq!(check("t", &"x".repeat(5001)), Err(CannedReplyError::BodyTooLong));
        assert_eq!(check("t", "Dear {{ fullname }}"), Err(CannedReplyError::UnknownPlaceholder("fullname".into())));
        assert_eq!(
            CannedReplyError::UnknownPlaceholder("x".into()).to_string(),
            "unknown placeholder {{ x }}: the placeholders are full_name, ticket, hours, next_opening and agent_name"
        );
    }
}
