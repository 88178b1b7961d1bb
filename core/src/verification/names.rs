//! Whether the name someone wrote is the account holder's name: the same words, however
//! they were typed. Case, accents, spacing, punctuation and word order are ignored ("doe,
//! JANE" is "Jane Doe"); the words themselves are not: this is not a fuzzy match.
//!
//! Decisions, so that staff can predict the answer:
//! - Hyphens, dots, commas and other punctuation separate words: "Mary-Jane" is
//!   "Mary Jane" (and, since order is ignored, "Jane Mary"), but not "Maryjane".
//! - Apostrophes join: "O'Neil" is "ONeil" and "O’Neil", not "O Neil".
//! - Accents go (NFKD, then combining marks dropped), and the Latin letters that do not
//!   decompose are spelt out: ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ/ð→d, þ→th, ı→i.
//! - Every word counts, as often as it occurs: a middle name or an initial on one side only
//!   fails, and the evidence names the word that differs. An agent who knows better can
//!   still verify by another method; the check only reports.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Whether two names are the same words once case, accents, spacing, punctuation and
/// order are set aside. A name with no letters or digits matches nothing.
pub fn names_match(a: &str, b: &str) -> bool {
    NameComparison::new(a, b).matched()
}

/// The words of each name that the other lacks.
struct NameComparison {
    a_empty: bool,
    b_empty: bool,
    only_in_a: Vec<String>,
    only_in_b: Vec<String>,
}

impl NameComparison {
    fn new(a: &str, b: &str) -> Self {
        let (a, b) = (name_words(a), name_words(b));
        let (a_empty, b_empty) = (a.is_empty(), b.is_empty());
        // Each word of `a` cancels one equal word of `b`; what is left differs.
        let mut only_in_b = b;
        let only_in_a = a
            .into_iter()
            .filter(|word| match only_in_b.iter().position(|other| other == word) {
                Some(index) => {
                    only_in_b.remove(index);
                    false
                }
                None => true,
            })
            .collect();
        NameComparison { a_empty, b_empty, only_in_a, only_in_b }
    }

    fn matched(&self) -> bool {
        !self.a_empty && !self.b_empty && self.only_in_a.is_empty() && self.only_in_b.is_empty()
    }
}

/// The comparable words of a name, sorted: lower-cased, accents removed, punctuation as
/// separators except apostrophes, which join.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // Lower-case first: some capitals lower-case to a letter plus a combining mark (İ).
    for c in name.to_lowercase().nfkd().filter(|&c| !is_combining_mark(c)) {
        if matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`' | '´') {
            continue;
        }
        if c.is_alphanumeric() {
            match c {
                'ß' => word.push_str("ss"),
                'æ' => word.push_str("ae"),
                'œ' => word.push_str("oe"),
                'þ' => word.push_str("th"),
                'ø' => word.push('o'),
                'ł' => word.push('l'),
                'đ' | 'ð' => word.push('d'),
                'ı' => word.push('i'),
                'ς' => word.push('σ'),
                c => word.push(c),
            }
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.sort();
    words
}

/// Whether the stated name matches the account's, and the sentence staff read.
pub(crate) fn name_evidence(stated: &str, account: &str) -> (bool, String) {
    let comparison = NameComparison::new(stated, account);
    let both = format!("stated \"{stated}\", account name \"{account}\"");
    let detail = if comparison.matched() {
        format!("{both}: the same words")
    } else if comparison.a_empty {
        format!("{both}: the stated name has no letters to compare")
    } else if comparison.b_empty {
        format!("{both}: the account name has no letters to compare")
    } else {
        let quoted = |words: &[String]| words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ");
        let mut differences = Vec::new();
        if !comparison.only_in_a.is_empty() {
            differences.push(format!("{} only in the stated name", quoted(&comparison.only_in_a)));
        }
        if !comparison.only_in_b.is_empty() {
            differences.push(format!("{} only in the account name", quoted(&comparison.only_in_b)));
        }
        format!("{both}: {}", differences.join("; "))
    };
    (comparison.matched(), detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_words_however_typed_match() {
        let cases = [
            ("Jane Doe", "Jane Doe"),
            ("jane doe", "JANE DOE"),
            ("Doe Jane", "Jane Doe"),
            ("Doe, Jane", "Jane Doe"),
            ("  Jane \t  Doe \n", "Jane Doe"),
            ("Zoë Ångström", "Zoe Angstrom"),
            ("ZOË ÅNGSTRÖM", "zoe angstrom"),
            ("Zoe\u{308} A\u{30a}ngstro\u{308}m", "Zoë Ångström"), // decomposed vs composed
            ("Mary-Jane Doe", "Mary Jane Doe"),
            ("Mary–Jane Doe", "Mary Jane Doe"), // en dash
            ("O'Neil", "ONeil"),
            ("O’Neil", "O'Neil"),
            ("Jane Doe.", "Jane Doe"),
            ("J.R.R. Tolkien", "J R R Tolkien"),
            ("Søren Kierkegaard", "Soren Kierkegaard"),
            ("Grüßner", "Grussner"),
            ("Łukasz Żółć", "Lukasz Zolc"),
            ("Tomás García", "Tomas Garcia"),
            ("İlkay Gündoğan", "ilkay gundogan"),
            ("ｊａｎｅ　ｄｏｅ", "Jane Doe"), // fullwidth letters and space
            ("山田 太郎", "太郎 山田"),
            ("Ana de la Cruz", "Cruz Ana de la"),
        ];
        for (a, b) in cases {
            assert!(names_match(a, b), "{a:?} should match {b:?}");
            assert!(names_match(b, a), "{b:?} should match {a:?}");
        }
    }

    #[test]
    fn different_words_do_not_match() {
        let cases = [
            ("Jane Do", "Jane Doe"),
            ("Jane", "Jane Doe"),
            ("Jane Marie Doe", "Jane Doe"), // a middle name on one side only
            ("J. Doe", "Jane Doe"),         // an initial is not the name
            ("J Doe", "Jane Doe"),
            ("Jane Doe Doe", "Jane Doe"), // words count as often as they occur
            ("Maryjane Doe", "Mary-Jane Doe"),
            ("O Neil", "O'Neil"),
            ("John Doe", "Jane Doe"),
            ("J\u{430}ne Doe", "Jane Doe"), // Cyrillic а is another letter
            ("", ""),
            ("---", "---"),
            ("", "Jane Doe"),
        ];
        for (a, b) in cases {
            assert!(!names_match(a, b), "{a:?} should not match {b:?}");
            assert!(!names_match(b, a), "{b:?} should not match {a:?}");
        }
    }

    #[test]
    fn evidence_says_which_words_differ() {
        let cases = [
            ("Doe Jane", "Jane Doe", true, "stated \"Doe Jane\", account name \"Jane Doe\": the same words"),
            (
                "Jane Marie Doe",
                "Jane Doe",
                false,
                "stated \"Jane Marie Doe\", account name \"Jane Doe\": \"marie\" only in the stated name",
            ),
            (
                "Jane Do",
                "Jane Doe",
                false,
                "stated \"Jane Do\", account name \"Jane Doe\": \"do\" only in the stated name; \"doe\" only in the account name",
            ),
            ("J. Doe", "Jane Doe", false, "stated \"J. Doe\", account name \"Jane Doe\": \"j\" only in the stated name; \"jane\" only in the account name"),
            ("--", "Jane Doe", false, "stated \"--\", account name \"Jane Doe\": the stated name has no letters to compare"),
        ];
        for (stated, account, matched, detail) in cases {
            assert_eq!(name_evidence(stated, account), (matched, detail.to_string()), "{stated:?}");
        }
    }
}
