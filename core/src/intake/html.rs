//! HTML mail as plain text, at a cost bounded whatever the sender sends.
//!
//! html2text renders tables and paragraphs well, but it builds a whole DOM (about 260 bytes
//! of memory per byte of HTML) and html5ever's tree building is quadratic in nesting depth
//! (100,000 nested `<div>`s took 36 s). So only the first [`MAX_RENDERED_HTML`] bytes go to
//! html2text, and only when a linear tokenizer pass finds the nesting shallow; deeper HTML
//! goes to mail-parser's linear converter instead. Either way the time is linear in the
//! input and the memory a small multiple of it. People's mail is far below both limits;
//! what exceeds them is generated (newsletters, attacks), and staff still get its words.

use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::Cell;

/// Lines of HTML are wrapped at this width: wide enough that a labelled line or a
/// sentence stays on one line, narrow enough that a page of text stays a page.
const TEXT_WIDTH: usize = 1_000;
/// HTML rendered with html2text, in bytes; the rest of a longer body is left out (and said so).
pub const MAX_RENDERED_HTML: usize = 256 * 1024;
/// Deeper nesting than this is never handed to a tree builder.
pub const MAX_NESTING: usize = 400;

/// `html` as plain text: no markup decoration (so "From:" and "Name:" read as written),
/// links kept as footnotes, scripts and styles dropped. Table cells stay separated by
/// "│" so a row reads "Full name│Jane Doe"; the ruled lines between rows are dropped.
pub fn html_to_text(html: &str) -> String {
    let head = &html[..html.floor_char_boundary(MAX_RENDERED_HTML)];
    let rendered = if nesting_depth(head) <= MAX_NESTING {
        // html2text 0.17 panics on some malformed tables (found by fuzzing): then the linear
        // converter below reads it instead.
        std::panic::catch_unwind(|| {
            html2text::config::plain_no_decorate().link_footnotes(true).string_from_read(head.as_bytes(), TEXT_WIDTH)
        })
        .ok()
        .and_then(Result::ok)
    } else {
        None
    };
    let Some(mut text) = rendered else {
        // Too deep for a tree builder, or html2text gave up: mail-parser's converter reads
        // the whole body in one linear pass.
        return tidy(&mail_parser::decoders::html::html_to_text(html));
    };
    if head.len() < html.len() {
        let left_out = (html.len() - head.len()).div_ceil(1024);
        text.push_str(&format!("\n\n[The rest of this long HTML message ({left_out} KB) is not shown here.]"));
    }
    tidy(&text)
}

fn tidy(text: &str) -> String {
    let is_table_rule = |line: &str| !line.is_empty() && line.chars().all(|c| ('\u{2500}'..='\u{257f}').contains(&c));
    text.lines()
        .filter(|line| !is_table_rule(line))
        // &nbsp; is layout in HTML; in text it is just a space.
        .map(|line| line.replace('\u{a0}', " ").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The deepest nesting of elements, as a tokenizer (linear, no tree) sees it. Elements
/// that are void or whose end tag may be left out (`<p>`, `<li>`, `<td>`, …) do not count:
/// a tree builder closes them itself, so they never pile up.
pub fn nesting_depth(html: &str) -> usize {
    let sink = DepthSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.deepest.get()
}

#[derive(Default)]
struct DepthSink {
    depth: Cell<usize>,
    deepest: Cell<usize>,
}

/// Elements that never hold others, or whose end tag is implied by what follows.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p", "li",
    "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "html", "head", "body",
];

impl TokenSink for DepthSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            if tag.self_closing || NOT_NESTING.contains(&&*tag.name) {
                return TokenSinkResult::Continue;
            }
            match tag.kind {
                StartTag => {
                    let depth = self.depth.get() + 1;
                    self.depth.set(depth);
                    self.deepest.set(self.deepest.get().max(depth));
                }
                EndTag => self.depth.set(self.depth.get().saturating_sub(1)),
            }
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_paragraphs_read_as_text() {
        let html = "<p>Hello</p><table><tr><td>Full name</td><td>Jane Doe</td></tr></table><script>x()</script>";
        let text = html_to_text(html);
        assert!(text.contains("Hello"), "{text}");
        assert!(text.contains("Full name│Jane Doe"), "{text}");
        assert!(!text.contains("x()"));
    }

    #[test]
    fn depth_ignores_elements_that_close_themselves() {
        assert_eq!(nesting_depth("<div><div><p>a<p>b<br><img src=x></div></div>"), 2);
        assert_eq!(nesting_depth(&"<li>item".repeat(10_000)), 0);
        assert_eq!(nesting_depth(&"<div>".repeat(1_000)), 1_000);
    }

    #[test]
    fn deep_nesting_still_gives_the_words() {
        let html = format!("{}Locked out{}", "<div>".repeat(5_000), "</div>".repeat(5_000));
        assert_eq!(html_to_text(&html).trim(), "Locked out");
    }

    #[test]
    fn html_that_makes_html2text_panic_still_gives_text() {
        let found_by_fuzzing = include_str!("../../tests/fixtures/fuzz/html2text-colspan-panic.html");
        assert!(!html_to_text(found_by_fuzzing).is_empty());
    }

    #[test]
    fn a_long_body_is_cut_and_says_so() {
        let html = format!("<p>Start</p>{}", "<p>filler text</p>".repeat(40_000));
        let text = html_to_text(&html);
        assert!(text.starts_with("Start"));
        assert!(text.ends_with("KB) is not shown here.]"), "{}", &text[text.len() - 200..]);
    }
}
