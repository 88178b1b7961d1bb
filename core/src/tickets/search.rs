//! What an agent typed into the queue's search box, as a query both backends' indexes
//! answer the same way: `#42` (or `42`) is a ticket number; anything else is words, each
//! matched as a prefix, all of them required. Words are split at every non-alphanumeric
//! character, exactly as the indexes split the tickets' text (SQLite's unicode61 tokenizer,
//! PostgreSQL's `regexp_replace(…, '[^[:alnum:]]+', ' ')`), so an address searches as its
//! parts: `mia.member@acme.test` finds the tickets holding all of mia, member, acme and test.

/// At most this many words are looked up: a pasted paragraph is not a search.
pub const MAX_WORDS: usize = 8;
/// A word longer than this is cut (no name or address part is longer).
const MAX_WORD_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketSearch {
    Number(i64),
    /// Lower-case alphanumeric words, each a prefix.
    Words(Vec<String>),
}

impl TicketSearch {
    /// `None` for a box left empty (or holding only punctuation).
    pub fn parse(input: &str) -> Option<TicketSearch> {
        let trimmed = input.trim();
        let digits = trimmed.strip_prefix('#').unwrap_or(trimmed);
        if !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits.parse().ok().map(TicketSearch::Number);
        }
        let words: Vec<String> = trimmed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| word.chars().take(MAX_WORD_CHARS).flat_map(char::to_lowercase).collect())
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(TicketSearch::Words(words))
    }

    /// The words as an FTS5 query: each quoted (so no word is read as an operator) and a prefix.
    pub fn fts5_query(words: &[String]) -> String {
        words.iter().map(|word| format!("\"{word}\"*")).collect::<Vec<_>>().join(" ")
    }

    /// The words as a PostgreSQL `to_tsquery('simple', …)` argument: each a prefix, all required.
    /// Words are alphanumeric, so none carries tsquery syntax.
    pub fn tsquery(words: &[String]) -> String {
        words.iter().map(|word| format!("{word}:*")).collect::<Vec<_>>().join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Option<TicketSearch> {
        Some(TicketSearch::Words(list.iter().map(|w| w.to_string()).collect()))
    }

    #[test]
    fn numbers_words_and_addresses() {
        assert_eq!(TicketSearch::parse("#42"), Some(TicketSearch::Number(42)));
        assert_eq!(TicketSearch::parse(" 1234567 "), Some(TicketSearch::Number(1234567)));
        assert_eq!(TicketSearch::parse("Mia.Member@Acme.test"), words(&["mia", "member", "acme", "test"]));
        assert_eq!(TicketSearch::parse("locked  out!"), words(&["locked", "out"]));
        assert_eq!(TicketSearch::parse("Zoë O'Brien"), words(&["zoë", "o", "brien"]));
        assert_eq!(TicketSearch::parse("#"), None);
        assert_eq!(TicketSearch::parse("  \"*\" OR NEAR( "), words(&["or", "near"]));
        assert_eq!(TicketSearch::parse("99999999999999999999"), words(&["99999999999999999999"]));
        assert_eq!(TicketSearch::parse(""), None);
    }

    #[test]
    fn a_pasted_paragraph_is_cut_to_a_few_words_and_no_word_is_syntax() {
        let Some(TicketSearch::Words(found)) = TicketSearch::parse(&"word ".repeat(1000)) else { panic!() };
        assert_eq!(found.len(), MAX_WORDS);
        let list = vec!["mia".to_string(), "near".to_string()];
        assert_eq!(TicketSearch::fts5_query(&list), "\"mia\"* \"near\"*");
        assert_eq!(TicketSearch::tsquery(&list), "mia:* & near:*");
    }
}
