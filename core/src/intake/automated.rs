//! Loop protection: recognising mail a machine sent, so Keydesk never answers an
//! auto-reply with an auto-reply. Follows RFC 3834 (Auto-Submitted) and the headers
//! Exchange, vacation programs, list servers and MTAs use in practice.
//!
//! It only classifies; whether such a message is dropped, filed or shown to staff is the
//! caller's decision.

use crate::EmailAddress;
use serde::Serialize;

/// Why a message is considered automated. Values carry the header value as sent, so staff
/// can see exactly what triggered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum AutomatedReason {
    /// `Auto-Submitted` with any value but "no" (RFC 3834), e.g. "auto-replied".
    AutoSubmitted(String),
    /// `X-Autoreply`, set by many vacation programs.
    XAutoreply,
    /// `X-Autorespond`, set by some autoresponders instead.
    XAutorespond,
    /// `X-Auto-Response-Suppress` asking not to be auto-answered (Exchange), e.g. "All, OOF".
    AutoResponseSuppress(String),
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`.
    Precedence(String),
    /// A `multipart/report`: a bounce or a read receipt.
    DeliveryReport,
    /// From, Sender or Return-Path is a mailer-daemon or postmaster address.
    MailerDaemon,
    /// The From address is one Keydesk itself sends from.
    OwnAddress,
}

impl AutomatedReason {
    /// One line for staff explaining why the message was not treated as a person's request.
    pub fn describe(&self) -> String {
        match self {
            AutomatedReason::AutoSubmitted(value) => format!("Sent automatically (Auto-Submitted: {value})"),
            AutomatedReason::XAutoreply => "An automatic reply (X-Autoreply header)".to_string(),
            AutomatedReason::XAutorespond => "An automatic reply (X-Autorespond header)".to_string(),
            AutomatedReason::AutoResponseSuppress(value) => {
                format!(
                    "The sender's system asked not to be answered automatically (X-Auto-Response-Suppress: {value})"
                )
            }
            AutomatedReason::Precedence(value) => format!("Bulk or mailing-list mail (Precedence: {value})"),
            AutomatedReason::DeliveryReport => "A delivery or read report, not a message from a person".to_string(),
            AutomatedReason::MailerDaemon => "Sent by a mail server (mailer-daemon or postmaster)".to_string(),
            AutomatedReason::OwnAddress => "Sent from one of Keydesk's own addresses".to_string(),
        }
    }
}

/// Exchange's X-Auto-Response-Suppress values that ask for no automatic answers.
const SUPPRESSING_VALUES: &[&str] = &["all", "oof", "autoreply", "dr", "ndr", "rn", "nrn"];
const BULK_PRECEDENCES: &[&str] = &["bulk", "junk", "list", "auto_reply"];
const SERVER_LOCAL_PARTS: &[&str] = &["mailer-daemon", "postmaster"];

/// The first reason, in order of certainty, that the message is automated. `headers` are
/// (name, unfolded raw value) pairs; `from` is the canonical From address.
pub(crate) fn detect_automated(
    headers: &[(String, String)],
    from: Option<&str>,
    own_addresses: &[EmailAddress],
) -> Option<AutomatedReason> {
    let values =
        |name: &'static str| headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    let first = |name: &'static str| values(name).next();

    if from.is_some_and(|from| own_addresses.iter().any(|own| own.as_str() == from)) {
        return Some(AutomatedReason::OwnAddress);
    }
    if first("Content-Type").is_some_and(|ct| first_token(ct) == "multipart/report") {
        return Some(AutomatedReason::DeliveryReport);
    }
    let server_addresses = from.into_iter().chain(values("Sender")).chain(values("Return-Path"));
    if server_addresses.map(local_part).any(|local| SERVER_LOCAL_PARTS.contains(&local.as_str())) {
        return Some(AutomatedReason::MailerDaemon);
    }
    if let Some(value) = first("Auto-Submitted").map(first_token).filter(|v| v != "no") {
        return Some(AutomatedReason::AutoSubmitted(value));
    }
    if first("X-Autoreply").is_some_and(is_affirmative) {
        return Some(AutomatedReason::XAutoreply);
    }
    if first("X-Autorespond").is_some_and(is_affirmative) {
        return Some(AutomatedReason::XAutorespond);
    }
    if let Some(value) = first("Precedence").map(first_token).filter(|v| BULK_PRECEDENCES.contains(&v.as_str())) {
        return Some(AutomatedReason::Precedence(value));
    }
    first("X-Auto-Response-Suppress")
        .filter(|value| value.split(',').any(|v| SUPPRESSING_VALUES.contains(&v.trim().to_lowercase().as_str())))
        .map(|value| AutomatedReason::AutoResponseSuppress(value.to_string()))
}

/// "Auto-Replied; owner-email=…" → "auto-replied".
fn first_token(value: &str) -> String {
    value.split(';').next().unwrap_or_default().trim().to_lowercase()
}

/// These headers are flags: present means yes, unless someone wrote it out as "no".
fn is_affirmative(value: &str) -> bool {
    !matches!(value.to_lowercase().as_str(), "no" | "false" | "0")
}

/// "MAILER-DAEMON@mx.acme.test", "<postmaster@acme.test>" or a bare "MAILER-DAEMON" →
/// the lower-cased local part.
fn local_part(address: &str) -> String {
    let address = match (address.find('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    address.split('@').next().unwrap_or_default().trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(headers: &[(&str, &str)], from: &str) -> Option<AutomatedReason> {
        let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        let own = [EmailAddress::parse("support@keydesk.test").unwrap()];
        detect_automated(&headers, Some(from), &own)
    }

    #[test]
    fn classifies_machine_mail() {
        use AutomatedReason::*;
        let person = "jane@acme.test";
        // (headers, From address, expected reason)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<AutomatedReason>);
        let cases: &[Case] = &[
            (&[("Subject", "Locked out")], person, None),
            (&[("Auto-Submitted", "auto-replied")], person, Some(AutoSubmitted("auto-replied".into()))),
            (
                &[("auto-submitted", "Auto-Generated; owner-email=\"x@y\"")],
                person,
                Some(AutoSubmitted("auto-generated".into())),
            ),
            (&[("Auto-Submitted", "no")], person, None),
            (&[("Auto-Submitted", " No ")], person, None),
            (&[("X-Autoreply", "yes")], person, Some(XAutoreply)),
            (&[("X-Autoreply", "")], person, Some(XAutoreply)),
            (&[("X-Autoreply", "no")], person, None),
            (&[("X-Autorespond", "Out of office")], person, Some(XAutorespond)),
            (&[("X-Auto-Response-Suppress", "All")], person, Some(AutoResponseSuppress("All".into()))),
            (
                &[("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply")],
                person,
                Some(AutoResponseSuppress("DR, RN, NRN, OOF, AutoReply".into())),
            ),
            (&[("X-Auto-Response-Suppress", "None")], person, None),
            (&[("Precedence", "bulk")], person, Some(Precedence("bulk".into()))),
            (&[("Precedence", "List")], person, Some(Precedence("list".into()))),
            (&[("Precedence", "junk")], person, Some(Precedence("junk".into()))),
            (&[("Precedence", "first-class")], person, None),
            (
                &[("Content-Type", "multipart/report; report-type=delivery-status; boundary=\"b\"")],
                person,
                Some(DeliveryReport),
            ),
            (
                &[("Content-Type", "Multipart/Report; report-type=disposition-notification")],
                person,
                Some(DeliveryReport),
            ),
            (&[("Content-Type", "multipart/mixed; boundary=\"b\"")], person, None),
            (&[], "mailer-daemon@mx.acme.test", Some(MailerDaemon)),
            (&[], "postmaster@acme.test", Some(MailerDaemon)),
            (&[("Return-Path", "<MAILER-DAEMON@mx.acme.test>")], person, Some(MailerDaemon)),
            (&[("Return-Path", "MAILER-DAEMON")], person, Some(MailerDaemon)),
            (&[("Sender", "Postmaster <postmaster@acme.test>")], person, Some(MailerDaemon)),
            (&[("Return-Path", "<jane@acme.test>")], person, None),
            (&[], "support@keydesk.test", Some(OwnAddress)),
            // Most certain first: our own address beats the auto-reply header it also carries.
            (&[("Auto-Submitted", "auto-replied")], "support@keydesk.test", Some(OwnAddress)),
            (
                &[("Auto-Submitted", "auto-replied"), ("Content-Type", "multipart/report")],
                "mailer-daemon@mx.test",
                Some(DeliveryReport),
            ),
        ];
        for (headers, from, expected) in cases {
            assert_eq!(detect(headers, from), *expected, "{headers:?} from {from}");
        }
    }

    #[test]
    fn descriptions_name_the_header_that_triggered_them() {
        assert_eq!(
            AutomatedReason::AutoSubmitted("auto-replied".into()).describe(),
            "Sent automatically (Auto-Submitted: auto-replied)"
        );
        assert!(AutomatedReason::Precedence("bulk".into()).describe().contains("Precedence: bulk"));
        assert!(AutomatedReason::AutoResponseSuppress("All".into())
            .describe()
            .contains("X-Auto-Response-Suppress: All"));
    }
}
