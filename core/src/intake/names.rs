//! People's names as they turn up in mail: display names, labelled values, sign-offs and
//! sentences such as "my name is Jane Doe" or "for my colleague Jane Doe". Names are only
//! tidied, never "corrected": casing, particles and non-Latin scripts are kept exactly as
//! written.

use regex::Regex;
use std::sync::LazyLock;

/// A capitalised name word ("Jane", "O'Neil", "Mary-Jane", "Ångström") or an initial ("F.").
const NAME_WORD: &str = r"\p{Lu}(?:\.|[\p{L}\p{M}'’-]*)";
/// Lower-case particles that sit inside a name ("Ana de la Cruz", "Vincent van Gogh").
const PARTICLE: &str = r"(?:van|von|de|der|den|del|della|da|di|du|la|le|dos|das|bin|binti|al|el|ter|ten)";
/// Spaces within a line; a name never continues onto the next line.
const GAP: &str = r"[ \t\u{a0}]+";

/// Two to five name words, particles allowed between them.
fn full_name_pattern() -> String {
    format!("{NAME_WORD}(?:{GAP}(?:{PARTICLE}{GAP})*{NAME_WORD}){{1,4}}")
}

/// "my name is Jane Doe", "this is Jane Doe", "I'm Jane Doe", "I am Jane Doe".
static INTRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    let name = full_name_pattern();
    Regex::new(&format!(r"(?i:\bmy{GAP}name{GAP}is|\bthis{GAP}is|\bi'm|\bi’m|\bi{GAP}am){GAP}(?P<name>{name})"))
        .expect("introduction pattern is valid")
});

/// "Jane Doe here", at the start of a line, optionally after "Hi,".
static NAME_HERE: LazyLock<Regex> = LazyLock::new(|| {
    let name = full_name_pattern();
    Regex::new(&format!(r"(?m)^[ \t]*(?:(?i:hi|hello|hey)[,!]?{GAP})?(?P<name>{name}){GAP}(?i:here)\b"))
        .expect("name-here pattern is valid")
});

/// How people say whom they write for, by language; the name follows. A relation ("my
/// colleague") is optional after "on behalf of" and required after a bare "for", which
/// precedes too many other things. `_` stands for a space.
const ON_BEHALF_PHRASES: &[&str] = &[
    // English
    "on_behalf_of(?:_(?:my|our)_(?:colleague|co-?worker|employee|team_member|staff_member|manager|boss))?",
    "for_(?:my|our)_(?:colleague|co-?worker|employee|team_member|staff_member|manager|boss)",
    // German
    "im_(?:namen|auftrag)_von",
    "im_(?:namen|auftrag)_(?:meiner|meines|unserer|unseres)_(?:kollegin|kollegen|mitarbeiterin|mitarbeiters|chefs?)",
    "für_(?:meine|meinen|unsere|unseren)_(?:kollegin|kollegen|mitarbeiterin|mitarbeiter|chefin|chef|vorgesetzten?)",
    // French
    "(?:de_la_part|au_nom)_de(?:_(?:ma|mon|notre)_(?:collègue|collaboratrice|collaborateur|employée?|responsable))?",
    "pour_(?:ma|mon|notre)_(?:collègue|collaboratrice|collaborateur|employée?|responsable)",
    // Spanish
    "(?:en_nombre|de_parte)_de(?:_(?:mi|nuestra|nuestro)_(?:compañera|compañero|colega|empleada|empleado|jefa|jefe))?",
    "(?:para|por)_(?:mi|nuestra|nuestro)_(?:compañera|compañero|colega|empleada|empleado|jefa|jefe)",
    // Dutch
    "(?:namens|(?:in|uit)_naam_van)(?:_(?:mijn|onze)_(?:collega|medewerker|medewerkster|leidinggevende|manager))?",
    "voor_(?:mijn|onze)_(?:collega|medewerker|medewerkster|leidinggevende|manager)",
    // Italian
    "(?:per_conto|a_nome|da_parte)_(?:di|del|della)(?:_(?:mia|mio|nostra|nostro)_(?:collega|dipendente|responsabile))?",
    "per_(?:la_mia|il_mio|mia|mio|la_nostra|il_nostro)_(?:collega|dipendente|responsabile)",
];

/// "on behalf of Jane Doe", "für meine Kollegin Jane Doe", "pour ma collègue Jane Doe".
static ON_BEHALF: LazyLock<Regex> = LazyLock::new(|| {
    let phrases = ON_BEHALF_PHRASES.join("|").replace('_', GAP);
    let name = full_name_pattern();
    Regex::new(&format!(r"(?i:\b(?:{phrases})),?{GAP}(?P<name>{name})")).expect("on-behalf pattern is valid")
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
    // Organisations are written for too: "on behalf of ACME Ltd".
    "Ltd",
    "Inc",
    "LLC",
    "GmbH",
    "AG",
    "SA",
    "BV",
    "SpA",
    "Department",
];

/// Words that start the next clause when a name runs on without punctuation: "my name is
/// Jane Doe I work in Finance".
const CLAUSE_STARTS: &[&str] = &["I", "I'm", "I’m", "Ich", "Je", "J'ai", "Ik", "Io", "Yo"];

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

/// The name of the person a message is about, as a sentence gives it, if any: whom the
/// writer writes for ("on behalf of Jane Doe") before how the writer introduces themselves
/// ("my name is Bob Smith"). At least two words, because a lone first name is weaker than
/// the From header's full name.
pub(crate) fn name_from_prose(text: &str) -> Option<String> {
    [&*ON_BEHALF, &*INTRODUCTION, &*NAME_HERE]
        .iter()
        .flat_map(|pattern| pattern.captures_iter(text))
        .filter_map(|captures| plausible_prose_name(&captures["name"]))
        .next()
}

fn plausible_prose_name(candidate: &str) -> Option<String> {
    // The pattern cannot tell "Jane Doe I work in Finance" from a name: cut at "I".
    let words: Vec<&str> = candidate.split_whitespace().take_while(|w| !CLAUSE_STARTS.contains(w)).collect();
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
    fn finds_whom_a_message_is_written_for() {
        let cases = [
            ("I'm writing on behalf of Jane Doe, who is on leave.", Some("Jane Doe")),
            ("This is Bob Lee, writing for my colleague Jane Doe.", Some("Jane Doe")),
            ("Writing for my co-worker, Priya Nair (p.nair@acme.test).", Some("Priya Nair")),
            ("Ich schreibe im Namen von Max Mustermann.", Some("Max Mustermann")),
            ("Ich schreibe für meine Kollegin Anna Schmidt, sie ist gesperrt.", Some("Anna Schmidt")),
            ("Je vous écris de la part de Marie Curie.", Some("Marie Curie")),
            ("Je vous écris pour ma collègue Chloé Dubois.", Some("Chloé Dubois")),
            ("Le escribo en nombre de mi compañera Ana López.", Some("Ana López")),
            ("Ik schrijf namens mijn collega Jan de Vries.", Some("Jan de Vries")),
            ("Scrivo per conto della mia collega Giulia Rossi.", Some("Giulia Rossi")),
            // Whom the mail is for comes before who writes it.
            ("My name is Bob Lee and I'm writing on behalf of Jane Doe.", Some("Jane Doe")),
            // A colleague mentioned in passing is not whom the mail is for.
            ("My colleague John Smith told me to write. My name is Jane Doe.", Some("Jane Doe")),
            ("I'm writing on behalf of ACME Ltd about a locked account.", None),
            ("I'm writing for my team, we are all locked out.", None),
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
