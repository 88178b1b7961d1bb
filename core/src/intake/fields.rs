//! The name, registered email and description a locked-out user is asked to send, found
//! in what they wrote. Three sources, strongest first: labelled lines ("Full name: …"),
//! sentences ("my name is …"), and the From header. Each field takes the strongest
//! source that yields a usable value, and records which one it was.
//!
//! Only ever given what the sender wrote this time (the reply text, or a forwarded
//! message's own text): an address in quoted history is someone else's.

use super::addresses::registrable_addresses_in;
use super::names::{name_from_prose, normalise_full_name};
use super::quoting::{is_greeting, is_sign_off, plain, trim_blank_lines, without_sign_off};
use super::{Extracted, FieldSource, Mailbox, RequestFields};
use crate::EmailAddress;

/// Longest description taken from prose; the full text is still on the ticket.
const MAX_PROSE_DESCRIPTION_CHARS: usize = 2000;
/// The longest label looked for ("Your registered email address with Keydesk", in any of the
/// languages, with its markup): anything longer before a colon is prose.
const MAX_LABEL_BYTES: usize = 120;
/// A labelled "name" longer than this is a sentence, not a name.
const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    FullName,
    RegisteredEmail,
    Description,
}

/// The fields in `reply_text` (what the sender wrote, without quoted history), falling
/// back to the From header.
pub fn extract_fields(reply_text: &str, from: Option<&Mailbox>) -> RequestFields {
    extract_fields_ignoring(reply_text, from, &[])
}

/// As [`extract_fields`], but never takes one of `ignored` (Keydesk's own addresses) as
/// the registered email: users mention the support address in passing.
///
/// Someone may write for a colleague: a name stated in the body ("Name: …", "on behalf of
/// Jane Doe") wins over the From display name. Whether a From name is the user's or only
/// the writer's can only be told knowing who has an account; intake decides that.
pub fn extract_fields_ignoring(reply_text: &str, from: Option<&Mailbox>, ignored: &[EmailAddress]) -> RequestFields {
    let lines: Vec<&str> = reply_text.lines().collect();
    let labelled = LabelledFields::find(&lines, ignored);
    let is_ours = |email: &EmailAddress| ignored.contains(email);
    let from_address = from.and_then(|from| EmailAddress::parse(&from.address).ok());

    let registered_email = labelled
        .email
        .map(|email| Extracted::new(email.as_str(), FieldSource::BodyLabel))
        .or_else(|| {
            let email = registrable_addresses_in(reply_text).find(|email| !is_ours(email))?;
            Some(Extracted::new(email.as_str(), FieldSource::Prose))
        })
        .or_else(|| {
            let email = from_address.clone().filter(|email| !is_ours(email))?;
            Some(Extracted::new(email.as_str(), FieldSource::Header))
        });

    let full_name = labelled
        .full_name
        .map(|name| Extracted::new(name, FieldSource::BodyLabel))
        .or_else(|| name_from_prose(reply_text).map(|name| Extracted::new(name, FieldSource::Prose)))
        .or_else(|| {
            let name = normalise_full_name(from?.name.as_deref()?)?;
            Some(Extracted::new(name, FieldSource::Header))
        });

    let description = labelled.description.map(|text| Extracted::new(text, FieldSource::BodyLabel)).or_else(|| {
        let unlabelled: Vec<&str> =
            lines.iter().enumerate().filter(|(i, _)| !labelled.used[*i]).map(|(_, l)| *l).collect();
        let labels_elsewhere = labelled.used.contains(&true);
        description_from_prose(&unlabelled, labels_elsewhere).map(|text| Extracted::new(text, FieldSource::Prose))
    });

    RequestFields { full_name, registered_email, description }
}

/// Values from labelled lines, and which lines they used (so prose does not repeat them).
struct LabelledFields {
    full_name: Option<String>,
    email: Option<EmailAddress>,
    description: Option<String>,
    used: Vec<bool>,
}

impl LabelledFields {
    fn find(lines: &[&str], ignored: &[EmailAddress]) -> Self {
        let mut found =
            LabelledFields { full_name: None, email: None, description: None, used: vec![false; lines.len()] };
        let mut i = 0;
        while i < lines.len() {
            let Some((kind, inline_value)) = labelled_line(lines[i]) else {
                i += 1;
                continue;
            };
            found.used[i] = true;
            let mut value: Vec<&str> = Vec::new();
            let mut next = i + 1;
            if inline_value.is_empty() {
                // "Full name:" with the answer on the next non-blank line.
                if let Some(j) = (next..lines.len()).find(|&j| !lines[j].trim().is_empty()) {
                    if labelled_line(lines[j]).is_none() {
                        value.push(clean_value(lines[j]));
                        found.used[j] = true;
                        next = j + 1;
                    }
                }
            } else {
                value.push(inline_value);
            }
            if kind == FieldKind::Description {
                // A description runs on until the next label or the closing sign-off.
                while next < lines.len() && labelled_line(lines[next]).is_none() && !is_sign_off(lines[next]) {
                    // Continuation lines are often indented under a bullet; the indent is layout.
                    value.push(lines[next].trim());
                    found.used[next] = true;
                    next += 1;
                }
            }
            found.accept(kind, &value.join("\n"), ignored);
            i = next;
        }
        found
    }

    /// Keeps the first usable value of each kind; unusable ones are skipped so a later
    /// label (or prose, or the header) can still supply the field.
    fn accept(&mut self, kind: FieldKind, value: &str, ignored: &[EmailAddress]) {
        match kind {
            FieldKind::FullName if self.full_name.is_none() => {
                self.full_name = normalise_full_name(value).filter(|name| name.chars().count() <= MAX_NAME_CHARS);
            }
            FieldKind::RegisteredEmail if self.email.is_none() => {
                self.email = registrable_addresses_in(value).find(|email| !ignored.contains(email));
            }
            FieldKind::Description if self.description.is_none() => {
                let text = value.trim();
                self.description = (!text.is_empty()).then(|| text.to_string());
            }
            _ => {}
        }
    }
}

/// "Full name: Jane Doe", "• Email - jane@acme.test", "**Issue:** …", a table row
/// "Name│Jane Doe", or "Full name:" alone → the field and its (possibly empty) value.
fn labelled_line(line: &str) -> Option<(FieldKind, &str)> {
    let line = strip_bullet(line);
    // A label is a few words: only separators near the start can end one. (Trying every
    // separator of a long line against the whole text before it is quadratic.)
    let label_zone = line.floor_char_boundary(MAX_LABEL_BYTES);
    line[..label_zone].char_indices().filter(|(_, c)| matches!(c, ':' | '：' | '-' | '–' | '—' | '│' | '|')).find_map(
        |(at, separator)| {
            let kind = field_for_label(&line[..at])?;
            Some((kind, clean_value(&line[at + separator.len_utf8()..])))
        },
    )
}

/// List markers users type and html2text renders: "• ", "- ", "* ", "1. ", "2) ".
fn strip_bullet(line: &str) -> &str {
    let line = line.trim_start();
    for bullet in ["• ", "- ", "* ", "· ", "– ", "▪ ", "◦ ", "➢ ", "○ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return rest.trim_start();
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if (1..=2).contains(&digits) {
        if let Some(rest) = line[digits..].strip_prefix(". ").or_else(|| line[digits..].strip_prefix(") ")) {
            return rest.trim_start();
        }
    }
    line
}

/// Trims spaces and the markup around a value: "** Jane Doe **", "│Jane Doe   ".
fn clean_value(value: &str) -> &str {
    value.trim_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '_' | '│' | '|'))
}

/// The labels of each field, as people and forms word them in every language Keydesk
/// reads, in [`normalise_label`] form: (field, exact labels, label beginnings). Exact
/// phrases rather than keywords: "Username" and "Company name" must not read as the full
/// name, nor "Nom d'utilisateur" as "Nom".
#[rustfmt::skip]
const LABELS: &[(FieldKind, &[&str], &[&str])] = &[
    (
        FieldKind::FullName,
        &[
            // English
            "name", "full name", "employee name", "employee full name", "first and last name", "full legal name",
            "legal name", "staff name", "contact name", "name and surname", "requester name",
            // German
            "vollständiger name", "vor- und nachname", "vor und nachname", "vorname und nachname", "voller name",
            "name des mitarbeiters", "name der mitarbeiterin", "mitarbeitername",
            // French
            "nom", "nom complet", "prénom et nom", "nom et prénom", "nom prénom", "prénom nom", "nom de l'employé",
            // Spanish
            "nombre", "nombre completo", "nombre y apellidos", "nombre y apellido", "nombre del empleado",
            // Dutch
            "naam", "volledige naam", "voor- en achternaam", "voornaam en achternaam", "naam medewerker",
            // Italian
            "nome", "nome completo", "nome e cognome", "cognome e nome", "nominativo", "nome del dipendente",
        ],
        &[],
    ),
    (
        FieldKind::RegisteredEmail,
        &[
            // English
            "email", "email address", "account email", "account email address", "login", "login email",
            "login email address", "keydesk login", "keydesk email", "work email", "work email address", "user email",
            // German
            "email-adresse", "emailadresse", "mailadresse", "anmelde-email", "login-email",
            // French
            "adresse email", "adresse mail", "courriel", "adresse courriel", "mail", "identifiant",
            // Spanish
            "correo", "correo electrónico", "dirección de correo", "dirección de correo electrónico",
            "dirección de email",
            // Dutch
            "emailadres", "email-adres", "mailadres", "inlog", "inlognaam",
            // Italian
            "indirizzo email", "indirizzo mail", "indirizzo di posta elettronica", "posta elettronica",
        ],
        &[
            "registered email", "email address registered with", "email registered with",
            "registrierte email",
            "adresse email enregistrée", "email enregistré",
            "correo electrónico registrado", "correo registrado",
            "geregistreerd emailadres", "geregistreerde email",
            "indirizzo email registrato", "email registrata",
        ],
    ),
    (
        FieldKind::Description,
        &[
            // English
            "issue", "description", "problem", "details", "issue description", "problem description", "issue details",
            "details of the issue", "description of the issue", "description of issue", "description of the problem",
            // German
            "beschreibung", "problembeschreibung", "fehlerbeschreibung", "beschreibung des problems", "anliegen",
            // French
            "problème", "description du problème", "détails",
            // Spanish
            "problema", "descripción", "descripción del problema", "detalles", "incidencia",
            // Dutch
            "probleem", "omschrijving", "beschrijving", "probleemomschrijving", "omschrijving van het probleem",
            // Italian
            "descrizione", "descrizione del problema", "dettagli",
        ],
        &[
            "brief description", "kurze beschreibung", "kurzbeschreibung", "brève description", "courte description",
            "breve descripción", "korte omschrijving", "korte beschrijving", "breve descrizione",
        ],
    ),
];

/// Which field a label asks for, if any.
fn field_for_label(label: &str) -> Option<FieldKind> {
    let label = normalise_label(label);
    LABELS.iter().find_map(|(kind, exact, beginnings)| {
        let matches = exact.contains(&label.as_str()) || beginnings.iter().any(|b| label.starts_with(b));
        matches.then_some(*kind)
    })
}

/// Words before the label proper: "Your full name", "Ihr vollständiger Name", "Votre nom",
/// "Il tuo nome".
#[rustfmt::skip]
const LABEL_OPENERS: &[&str] = &[
    "your", "my", "the", "a", "ihr", "ihre", "mein", "meine", "die", "der", "votre", "vos", "mon", "ma", "le", "la",
    "l'", "su", "mi", "tu", "el", "uw", "je", "mijn", "het", "il", "lo", "tuo", "tua", "suo", "sua", "vostro", "vostra",
];

/// "**Your Registered E-mail Address with AMS**" → "registered email address with ams".
fn normalise_label(label: &str) -> String {
    let words: String =
        plain(label).chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '\'') { c } else { ' ' }).collect();
    // "l'adresse": the elided article is a word of its own.
    let words = words.replace("l'", "l' ");
    let mut words: &[&str] = &words.split_whitespace().collect::<Vec<_>>();
    while let [first, rest @ ..] = words {
        if !LABEL_OPENERS.contains(first) {
            break;
        }
        words = rest;
    }
    words.join(" ").replace("l' ", "l'")
}

/// What the sender wrote, less the greeting and sign-off, when no line was labelled as the
/// description; capped so a pasted log does not become the ticket summary. A greeting or
/// sign-off is only dropped when other text remains: a mail that is just "Hello to
/// myself!" or "Thanks!" keeps it, unless it had labelled fields besides.
fn description_from_prose(lines: &[&str], labels_elsewhere: bool) -> Option<String> {
    let lines = trim_blank_lines(lines);
    let mut body = without_sign_off(lines);
    if body.first().is_some_and(|first| is_greeting(first)) {
        body = trim_blank_lines(&body[1..]);
    }
    if body.is_empty() && !labels_elsewhere {
        body = lines;
    }
    let mut text = String::new();
    let mut blank_run = 0;
    for line in body.iter().map(|l| l.trim_end()) {
        blank_run = if line.trim().is_empty() { blank_run + 1 } else { 0 };
        if blank_run <= 1 {
            text.push_str(line);
            text.push('\n');
        }
    }
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(cap_chars(text, MAX_PROSE_DESCRIPTION_CHARS))
}

fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            // Prefer to end on a word boundary.
            let cut = text[..cut].rfind(char::is_whitespace).filter(|&i| i > cut / 2).unwrap_or(cut);
            format!("{}…", text[..cut].trim_end())
        }
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "fields_wording_tests.rs"]
mod wording_tests;
