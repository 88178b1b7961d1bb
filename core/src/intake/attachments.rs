//! The files a message carries, as staff may see and download them: a safe name, the type
//! the sender declared, the size, and the bytes — within limits on how many and how large.
//! Attached messages (a forwarded original, the copy a bounce returns) are files too.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// How many attachments, and how large, intake keeps from one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_count: usize,
    pub max_bytes: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits { max_count: 20, max_bytes: 10 * 1024 * 1024 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Safe to show and to offer as a download name: no path, no control characters,
    /// no quotes, never empty.
    pub filename: String,
    /// As declared by the sender, lower-case "type/subtype" (a claim, never trusted for display).
    pub content_type: String,
    pub size_bytes: usize,
    /// False when a limit left the file out (`note` says which); `bytes` is then empty.
    pub kept: bool,
    pub bytes: Vec<u8>,
    /// Why a file was not kept, or what it is when that is not obvious.
    pub note: Option<String>,
}

/// Files listed from one message, kept or not; the rest are counted in one last line. A
/// sender can pack hundreds of thousands of tiny parts into a message within the size limit,
/// and each listed file is a database row and a line on the ticket page.
pub const MAX_LISTED: usize = 200;

/// The attachments of `message`, in order, within `limits`: at most [`MAX_LISTED`], then one
/// line saying how many more were left out.
pub(crate) fn attachments_of(message: &Message, limits: AttachmentLimits) -> Vec<Attachment> {
    let mut found = Vec::new();
    let mut not_listed = 0usize;
    for (position, part) in message.attachments().enumerate() {
        let bytes: &[u8] = match &part.body {
            PartType::Message(inner) => inner.raw_message(),
            PartType::Multipart(_) => continue,
            _ => part.contents(),
        };
        if found.len() >= MAX_LISTED {
            not_listed += 1;
            continue;
        }
        let content_type = declared_type(part);
        let filename = safe_filename(part.attachment_name(), position + 1, &content_type);
        let mut attachment =
            Attachment { filename, content_type, size_bytes: bytes.len(), kept: false, bytes: Vec::new(), note: None };
        if found.len() >= limits.max_count {
            attachment.note = Some(format!("not kept: a message may bring at most {} files", limits.max_count));
        } else if bytes.len() > limits.max_bytes {
            attachment.note = Some(format!("not kept: larger than {} bytes", limits.max_bytes));
        } else {
            attachment.kept = true;
            attachment.bytes = bytes.to_vec();
            attachment.note = what_it_is(&attachment);
        }
        found.push(attachment);
    }
    if not_listed > 0 {
        found.push(Attachment {
            filename: format!("{not_listed} more files"),
            content_type: "application/octet-stream".into(),
            size_bytes: 0,
            kept: false,
            bytes: Vec::new(),
            note: Some(format!(
                "not listed: a message lists at most {MAX_LISTED} files; {not_listed} more were left out"
            )),
        });
    }
    found
}

fn declared_type(part: &MessagePart) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(subtype) => format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".into(),
        None => "application/octet-stream".into(),
    }
}

/// What a file is, when its name or type does not say it plainly.
fn what_it_is(attachment: &Attachment) -> Option<String> {
    let name = attachment.filename.to_ascii_lowercase();
    if name == "winmail.dat" || attachment.content_type == "application/ms-tnef" {
        return Some(
            "Outlook's winmail.dat (TNEF) wrapper: Keydesk does not unpack it; ask the sender to attach the files \
             themselves, or open it with a TNEF viewer"
                .into(),
        );
    }
    (attachment.content_type == "message/rfc822").then(|| "an attached email (for example a forwarded original)".into())
}

/// A name that is safe in a download header and on a page: the last path component,
/// without control characters, quotes or characters file systems refuse, at most 120
/// characters; "attachment-N" with an extension from the type when nothing is left.
pub fn safe_filename(declared: Option<&str>, position: usize, content_type: &str) -> String {
    let base = declared.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ':' | '*' | '?' | '<' | '>' | '|' | ';'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let truncated: String = cleaned.chars().rev().take(120).collect::<Vec<_>>().into_iter().rev().collect();
    if !truncated.is_empty() {
        return truncated;
    }
    let extension = match content_type {
        "message/rfc822" => ".eml",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "application/pdf" => ".pdf",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        _ => "",
    };
    format!("attachment-{position}{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    #[test]
    fn names_lose_paths_and_dangerous_characters() {
        assert_eq!(safe_filename(Some("C:\\Users\\jane\\..\\report.pdf"), 1, "application/pdf"), "report.pdf");
        assert_eq!(safe_filename(Some("../../etc/passwd"), 1, "text/plain"), "passwd");
        assert_eq!(safe_filename(Some("a\"b\r\nc;.txt"), 1, "text/plain"), "abc.txt");
        assert_eq!(safe_filename(Some(".htaccess"), 2, "text/plain"), "htaccess");
        assert_eq!(safe_filename(None, 3, "message/rfc822"), "attachment-3.eml");
        assert_eq!(safe_filename(Some("   "), 4, "application/x-unknown"), "attachment-4");
        assert_eq!(safe_filename(Some(&format!("{}.pdf", "x".repeat(300))), 1, "").chars().count(), 120);
    }

    #[test]
    fn a_message_of_thousands_of_tiny_parts_lists_a_bounded_few_and_counts_the_rest() {
        let mut raw = String::from("From: a@b.test\nContent-Type: multipart/mixed; boundary=m\n\n--m\n\nhello\n");
        for _ in 0..5_000 {
            raw.push_str("--m\nContent-Type: a/b\n\n\n");
        }
        raw.push_str("--m--\n");
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let found = attachments_of(&message, AttachmentLimits::default());
        assert_eq!(found.len(), MAX_LISTED + 1);
        let last = found.last().unwrap();
        assert!(!last.kept && last.filename.ends_with("more files"), "{last:?}");
        let counted: usize = last.filename.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(MAX_LISTED + counted, 5_000, "every part is listed or counted");
    }

    #[test]
    fn limits_keep_the_list_but_not_the_bytes() {
        let mut raw = String::from("From: a@b.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhello\n");
        for n in 0..3 {
            raw.push_str(&format!(
                "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"f{n}.pdf\"\n\n{}\n",
                "x".repeat(10 * (n + 1))
            ));
        }
        raw.push_str("--b\nContent-Type: application/ms-tnef\nContent-Disposition: attachment; filename=winmail.dat\n\nTNEF\n--b--\n");
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let found = attachments_of(&message, AttachmentLimits { max_count: 3, max_bytes: 25 });
        let summary: Vec<_> = found.iter().map(|a| (a.filename.as_str(), a.bytes.len(), a.kept)).collect();
        assert_eq!(
            summary,
            [("f0.pdf", 10, true), ("f1.pdf", 20, true), ("f2.pdf", 0, false), ("winmail.dat", 0, false)]
        );
        assert!(found[2].note.as_deref().unwrap().contains("larger than"));
        assert!(found[3].note.as_deref().unwrap().contains("at most 3"));
    }
}
