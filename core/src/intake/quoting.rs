//! What the sender wrote this time, as opposed to what their mail client carried along:
//! quoted history ("> ", "On … wrote:", Outlook's "From: … Sent: …" block), signatures
//! ("-- ", "Sent from my iPhone") and a closing "Thanks, Jane". Recognising these is
//! heuristic; every rule errs on keeping text, because a lost sentence is worse for staff
//! than a stray signature.

use super::names::looks_like_name;

/// `body` without quoted replies, signatures and a trailing sign-off. Line endings come
/// out as "\n"; leading and trailing blank lines are dropped.
pub fn strip_quotes_and_signature(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.lines().collect();
    let end = (0..lines.len()).find(|&i| starts_quoted_history(&lines, i)).unwrap_or(lines.len());
    let unquoted: Vec<&str> = lines[..end].iter().copied().filter(|line| !line.trim_start().starts_with('>')).collect();
    let kept = trim_sign_off(&unquoted);
    trim_blank_lines(kept).join("\n")
}

/// Whether everything from line `i` on is history, a signature or client boilerplate.
fn starts_quoted_history(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    is_signature_delimiter(line)
        || is_mobile_signature(line)
        || is_original_message_separator(line)
        || is_attribution(lines, i)
        || is_outlook_header_block(lines, i)
        || starts_link_footnotes(&lines[i..])
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

fn is_mobile_signature(line: &str) -> bool {
    let line = line.trim();
    ["Sent from my ", "Sent from Outlook", "Sent from Mail for ", "Sent from Yahoo Mail", "Get Outlook for "]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// "-----Original Message-----", "----- Original Message -----", and the row of
/// underscores Outlook draws above the quoted message's headers.
fn is_original_message_separator(line: &str) -> bool {
    let line = line.trim();
    let inner = line.trim_matches('-').trim();
    (line.starts_with("--") && inner.eq_ignore_ascii_case("original message"))
        || (line.len() >= 10 && line.chars().all(|c| c == '_'))
}

/// "On Tue, 4 Mar 2025 at 09:12, Keydesk Support <support@…> wrote:", which clients wrap
/// over up to three lines; also the French, German and Spanish forms.
fn is_attribution(lines: &[&str], i: usize) -> bool {
    const OPENINGS: &[&str] = &["On ", "Le ", "Am ", "El "];
    const ENDINGS: &[&str] = &["wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:"];
    if !OPENINGS.iter().any(|opening| lines[i].trim_start().starts_with(opening)) {
        return false;
    }
    lines[i..].iter().take(3).any(|line| {
        let line = line.trim_end();
        ENDINGS.iter().any(|ending| line.ends_with(ending))
    })
}

/// Outlook quotes without ">" and instead repeats the headers: "From: …" followed within
/// a few lines by "Sent:"/"Date:" and "To:"/"Subject:". HTML mail renders them in bold,
/// hence the asterisks.
fn is_outlook_header_block(lines: &[&str], i: usize) -> bool {
    let field = |line: &str, name: &str| {
        let line = line.trim().trim_start_matches('*');
        line.len() > name.len() && line.get(..name.len()).is_some_and(|start| start.eq_ignore_ascii_case(name))
    };
    if !field(lines[i], "From:") {
        return false;
    }
    let next = &lines[i + 1..lines.len().min(i + 5)];
    let has_date = next.iter().any(|l| field(l, "Sent:") || field(l, "Date:"));
    let has_recipient_or_subject = next.iter().any(|l| field(l, "To:") || field(l, "Subject:"));
    has_date && has_recipient_or_subject
}

const SIGN_OFFS: &[&str] = &[
    "thanks",
    "thank you",
    "thanks a lot",
    "many thanks",
    "thanks in advance",
    "thanks again",
    "thank you in advance",
    "regards",
    "kind regards",
    "best regards",
    "warm regards",
    "warmest regards",
    "best wishes",
    "best",
    "cheers",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
    "yours truly",
    "respectfully",
    "all the best",
    "br",
    "kr",
    "cordialement",
    "merci",
    "mit freundlichen grüßen",
    "viele grüße",
    "saludos",
    "un saludo",
];

/// A line that is only a closing phrase: "Thanks,", "Kind regards", "Cheers!".
pub(crate) fn is_sign_off(line: &str) -> bool {
    let phrase = line.trim().trim_end_matches([',', '.', '!', '-', ' ']).to_lowercase();
    SIGN_OFFS.contains(&phrase.as_str())
}

/// Drops a closing sign-off when nothing but a name follows it: "Thanks,\nJane",
/// "Kind regards, Jane Doe", or a bare "Thanks!" at the end. A sign-off followed by a
/// job title or phone number is left alone: that is a signature we cannot bound safely.
/// A message that is nothing but "Thanks!" keeps it: then it is the message.
pub(crate) fn trim_sign_off<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let lines = trim_blank_lines(lines);
    let Some((last, before)) = lines.split_last() else { return lines };
    let rest = if is_sign_off(last) || is_inline_sign_off(last) {
        before
    } else {
        match trim_blank_lines(before).split_last() {
            Some((sign_off, rest)) if looks_like_name(last) && is_sign_off(sign_off) => rest,
            _ => lines,
        }
    };
    if trim_blank_lines(rest).is_empty() {
        lines
    } else {
        rest
    }
}

/// "Thanks, Jane" or "Kind regards, Jane Doe" on one line.
fn is_inline_sign_off(line: &str) -> bool {
    line.split_once(',').is_some_and(|(phrase, name)| is_sign_off(phrase) && looks_like_name(name))
}

fn trim_blank_lines<'a>(lines: &'a [&'a str]) -> &'a [&'a str] {
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(start, |i| i + 1);
    &lines[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_quoted_history_and_signatures() {
        let cases: &[(&str, &str, &str)] = &[
            ("plain text is untouched", "I am locked out.\n\nPlease help.", "I am locked out.\n\nPlease help."),
            ("CRLF becomes LF", "Line one\r\nLine two\r\n", "Line one\nLine two"),
            ("> quoted lines", "It works now.\n\n> Your account is unlocked.\n> Keydesk", "It works now."),
            ("inline reply keeps both answers", "> Name?\nJane Doe\n> Email?\njane@acme.test", "Jane Doe\njane@acme.test"),
            (
                "attribution over two lines",
                "Still locked.\n\nOn Tue, 4 Mar 2025 at 09:12, Keydesk Support <\nsupport@keydesk.test> wrote:\n> Try again",
                "Still locked.",
            ),
            ("French attribution", "C'est réglé.\n\nLe mar. 4 mars 2025, Keydesk a écrit :\n> Bonjour", "C'est réglé."),
            ("signature delimiter", "Locked out.\n-- \nJane Doe\nFinance, ACME", "Locked out."),
            ("trimmed delimiter", "Locked out.\n--\nJane", "Locked out."),
            ("mobile signature", "Locked out again\n\nSent from my iPhone\n\n> earlier", "Locked out again"),
            ("Outlook app", "Locked out\n\nGet Outlook for Android", "Locked out"),
            (
                "Outlook separator and header block",
                "Done, thanks.\n\n________________________________\nFrom: Keydesk <support@keydesk.test>\nSent: Monday\nTo: Jane\nSubject: Unlock",
                "Done, thanks.",
            ),
            (
                "Outlook header block without separator, bold from HTML",
                "It still fails.\n\n**From:** Keydesk\n**Sent:** Monday\n**To:** Jane",
                "It still fails.",
            ),
            ("original message", "See below.\n-----Original Message-----\nFrom: x", "See below."),
            ("spaced original message", "See below.\n----- Original Message -----\nFrom: x", "See below."),
            ("sign-off then name", "Please unlock me.\n\nThanks,\nJane Doe", "Please unlock me."),
            ("sign-off then blank then name", "Please unlock me.\n\nKind regards,\n\nJane", "Please unlock me."),
            ("inline sign-off", "Please unlock me.\nCheers, Jane", "Please unlock me."),
            ("bare sign-off", "Please unlock me.\nThank you!", "Please unlock me."),
            ("a reply that is only thanks keeps it", "Thanks!\n\nOn Mon, Keydesk wrote:\n> Unlocked", "Thanks!"),
            ("only a sign-off and name keeps them", "Thanks,\nJane", "Thanks,\nJane"),
            ("sign-off before a title is kept", "Unlock me.\nRegards,\nJane Doe\nHead of Finance, ACME Ltd", "Unlock me.\nRegards,\nJane Doe\nHead of Finance, ACME Ltd"),
            ("a From: line on its own is content", "From: the finance team\nWe are all locked out.", "From: the finance team\nWe are all locked out."),
            ("thanks mid-text is content", "Thanks for the quick reply.\nIt still fails.", "Thanks for the quick reply.\nIt still fails."),
            ("a sentence starting On is content", "On Monday I was locked out.\nPlease help.", "On Monday I was locked out.\nPlease help."),
            ("link footnotes of rendered HTML", "See [the page][1].\n\nThanks,\nAna\n\n[1]: https://acme.test/x\n[2]: mailto:a@acme.test", "See [the page][1]."),
            ("a footnote-like line mid-text is content", "[1]: first point\nand more", "[1]: first point\nand more"),
            ("empty", "", ""),
        ];
        for (case, body, expected) in cases {
            assert_eq!(strip_quotes_and_signature(body), *expected, "{case}");
        }
    }

    #[test]
    fn recognises_sign_off_phrases_only_when_alone() {
        for line in [
            "Thanks",
            "Thanks,",
            "thank you!",
            "Kind regards,",
            "  Best regards ",
            "Cheers!",
            "Mit freundlichen Grüßen",
        ] {
            assert!(is_sign_off(line), "{line:?}");
        }
        for line in ["Thanks for your help", "Regards from Sydney,", "Best practice", ""] {
            assert!(!is_sign_off(line), "{line:?}");
        }
    }
}
