//! People's names as they turn up in mail: display names, labelled values, sign-offs and
//! sentences such as "my name is Jane Doe". Names are only tidied, never "corrected":
//! casing, particles and non-Latin scripts are kept exactly as written.

use regex::Regex;
use std::sync::LazyLock;

/// A capitalised name word ("Jane", "O'Neil", "Mary-Jane", "Ångström") or an initial ("F.").
const NAME_WORD: &str = r"\p{Lu}(?:\.|[\p{L}\p{M}'’-]*)";
/// Lower-case particles that sit inside a name ("Ana de la Cruz", "Vincent van Gogh").
const PARTICLE: &str = r"(?:van|von|de|der|den|del|della|da|di|du|la|le|dos|das|bin|binti|al|el|ter|ten)";
/// Spaces within a line; a name never continues onto the next line.
const GAP: &str = r"[ \t\u{a0}]+";

/// "my name is Jane Doe", "this is Jane Doe", "I'm Jane Doe", "I am Jane Doe".
static INTRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("{NAME_WORD}(?:{GAP}(?:{PARTICLE}{GAP})*{NAME_WORD}){{1,4}}");
    Regex::new(&format!(r"(?i:\bmy{GAP}name{GAP}is|\bthis{GAP}is|\bi'm|\bi’m|\bi{GAP}am){GAP}(?P<name>{name})"))
        .expect("introduction pattern is valid")
});

/// "Jane Doe here", at the start of a line, optionally after "Hi,".
static NAME_HERE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("{NAME_WORD}(?:{GAP}(?:{PARTICLE}{GAP})*{NAME_WORD}){{1,4}}");
    Regex::new(&format!(r"(?m)^[ \t]*(?:(?i:hi|hello|hey)[,!]?{GAP})?(?P<name>{name}){GAP}(?i:here)\b"))
        .expect("name-here pattern is valid")
});

/// Capitalised words that start sentences or subjects rather than names; a match
/// containing one ("This is Account Locked Again") is not a name.
const NOT_NAME_WORDS: &[&str] = &[
    "A",
    "An",
    "The",
    "My",
    "Our",
    "Your",
    "It",
    "This",
    "That",
    "Hi",
    "Hello",
    "Dear",
    "Re",
    "Regarding",
    "Account",
    "Support",
    "Team",
    "Urgent",
    "Please",
    "Help",
    "Locked",
];

/// Suffixes that follow a name after a comma; "Jane Doe, PhD" is not "Last, First".
const NAME_SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "mba", "cpa"];

/// Tidies a name from a header or a labelled line: trims, collapses whitespace, strips
/// surrounding quotes or parentheses and a trailing comment, and turns the directory
/// form "Doe, Jane" into "Jane Doe". `None` when nothing name-like is left, or when the
/// value is an email address (clients put the address in the display name).
pub fn normalise_full_name(raw: &str) -> Option<String> {
    let mut name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let stripped = strip_enclosing(&name);
        if stripped.len() == name.len() {
            break;
        }
        name = stripped.trim().to_string();
    }
    // "Jane Doe (ACME Finance)": mail-parser keeps RFC 5322 comments in the display name.
    if let Some(open) = name.rfind(" (") {
        if name.ends_with(')') {
            name.truncate(open);
        }
    }
    if name.contains('@') || !name.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(reorder_last_first(&name).unwrap_or(name))
}

fn strip_enclosing(text: &str) -> &str {
    const PAIRS: &[(char, char)] = &[('"', '"'), ('\'', '\''), ('“', '”'), ('‘', '’'), ('«', '»'), ('(', ')')];
    for &(open, close) in PAIRS {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            return inner;
        }
    }
    text
}

/// "Doe, Jane" → "Jane Doe"; `None` when the comma is not a directory-style separator.
fn reorder_last_first(name: &str) -> Option<String> {
    let (last, first) = name.split_once(',')?;
    let (last, first) = (last.trim(), first.trim());
    let words = |s: &str| s.split_whitespace().count();
    let is_suffix = NAME_SUFFIXES.contains(&first.trim_end_matches('.').to_lowercase().as_str());
    if first.contains(',') || is_suffix || !(1..=3).contains(&words(last)) || !(1..=3).contains(&words(first)) {
        return None;
    }
    Some(format!("{first} {last}"))
}

/// Whether a whole line could be someone's name, e.g. the line after "Thanks,". Lenient
/// about case ("jane") because sign-offs often are, strict about shape.
pub(crate) fn looks_like_name(line: &str) -> bool {
    let line = line.trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= 4
        && line.chars().count() <= 50
        && words.iter().all(|w| w.chars().next().is_some_and(char::is_alphabetic))
        && !line.chars().any(|c| c.is_ascii_digit() || matches!(c, '@' | ':' | '?' | '!' | ','))
}

/// The sender's name as introduced in a sentence, if any; at least two words, because a
/// lone first name is weaker than the From header's full name.
pub(crate) fn name_from_prose(text: &str) -> Option<String> {
    [&*INTRODUCTION, &*NAME_HERE]
        .iter()
        .flat_map(|pattern| pattern.captures_iter(text))
        .filter_map(|captures| plausible_prose_name(&captures["name"]))
        .next()
}

fn plausible_prose_name(candidate: &str) -> Option<String> {
    // The pattern cannot tell "Jane Doe I work in Finance" from a name: cut at "I".
    let words: Vec<&str> = candidate.split_whitespace().take_while(|w| !matches!(*w, "I" | "I'm" | "I’m")).collect();
    let capitalised = words.iter().filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
    // "I'm Jane Doe's manager" introduces someone else.
    let possessive = words.iter().any(|w| w.ends_with("'s") || w.ends_with("’s"));
    if capitalised < 2 || possessive || words.iter().any(|w| NOT_NAME_WORDS.contains(w)) {
        return None;
    }
    normalise_full_name(&words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names_from_headers_and_labels() {
        let cases = [
            ("Jane Doe", Some("Jane Doe")),
            ("  Jane \t  Doe \n", Some("Jane Doe")),
            ("Doe, Jane", Some("Jane Doe")),
            ("\"Doe, Jane\"", Some("Jane Doe")),
            ("'Jane Doe'", Some("Jane Doe")),
            ("“Jane Doe”", Some("Jane Doe")),
            ("van der Berg, Anna", Some("Anna van der Berg")),
            ("Jane Doe (ACME Finance)", Some("Jane Doe")),
            ("(Jane Doe)", Some("Jane Doe")),
            ("Zoë Ångström", Some("Zoë Ångström")),
            ("山田 太郎", Some("山田 太郎")),
            // Not "Last, First": a suffix, or more than one comma.
            ("Jane Doe, PhD", Some("Jane Doe, PhD")),
            ("Doe, Jane, Finance", Some("Doe, Jane, Finance")),
            ("", None),
            ("   ", None),
            ("\"\"", None),
            ("jane@acme.test", None),
            ("'jane@acme.test'", None),
            ("1234", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_full_name(raw).as_deref(), expected, "{raw:?}");
        }
    }

    #[test]
    fn finds_names_introduced_in_sentences() {
        let cases = [
            ("Hi, this is Jane Doe, my account jane@acme.test is locked", Some("Jane Doe")),
            ("My name is Tomás García and my email is t@acme.test", Some("Tomás García")),
            ("my name is ana de la Cruz", None), // an uncapitalised first word is not trusted
            ("My name is Ana de la Cruz.", Some("Ana de la Cruz")),
            ("I'm Priya Nair (priya@acme.test) and I can't log in", Some("Priya Nair")),
            ("I’m Seán O’Brien from payroll", Some("Seán O’Brien")),
            ("I am John F. Kennedy", Some("John F. Kennedy")),
            ("Hello,\nKwame Mensah here. I'm locked out.", Some("Kwame Mensah")),
            ("Hi, Kwame Mensah here", Some("Kwame Mensah")),
            ("My name is Jane Doe I work in Finance", Some("Jane Doe")),
            // A single word is weaker than the From header.
            ("Hi, this is Jane from accounts", None),
            ("My name is Jane", None),
            // Sentences that merely look like introductions.
            ("This is my third email about this", None),
            ("I am locked out of AMS", None),
            ("This is Account Locked Again", None),
            ("I'm\nJane Doe", None),
            ("I'm Jane Doe's manager and she is locked out", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(name_from_prose(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn recognises_lines_that_are_just_a_name() {
        for line in ["Jane", "Jane Doe", "jane", "J. Doe", "Ana de la Cruz", "Zoë Ångström"] {
            assert!(looks_like_name(line), "{line:?}");
        }
        for line in [
            "",
            "Jane Doe, Finance",
            "jane@acme.test",
            "Call me on 0400 000 000",
            "This is a longer sentence here",
            "Name:",
        ] {
            assert!(!looks_like_name(line), "{line:?}");
        }
    }
}
