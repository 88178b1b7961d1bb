//! Reading one `Authentication-Results` header value (RFC 8601):
//!
//! ```text
//! authserv-id [version] ( "; none" / *( ";" method[/version]=result [reason=value] *(ptype.property=value) ) )
//! ```
//!
//! with comments in parentheses (nested, with `\` escapes) and folding whitespace allowed
//! between any two parts, and quoted strings wherever a value may stand. It is a real
//! tokenizer rather than a split on `;`, because parts of the header are the sender's words
//! (the MAIL FROM address, the From domain, comments quoting them): a `;` inside a quoted
//! local part or a comment must not start a result of its own.
//!
//! Reading is strict about structure, lenient about values: a result that cannot be read
//! makes the whole header unreadable (and so never a pass), while values run to the next
//! space, `;` or `(` so that real-world ones such as `header.b=AbC+/=` are kept whole.

use std::fmt;

/// One header as its authentication server wrote it. Method, result, ptype and property
/// names are lower-cased (they are case-insensitive); values are kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthResultsHeader {
    pub authserv_id: String,
    /// Empty for `authserv-id; none`.
    pub results: Vec<MethodResult>,
}

/// `spf=pass (comment) smtp.mailfrom=jane@acme.test`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MethodResult {
    pub method: String,
    pub result: String,
    pub properties: Vec<Property>,
}

/// `smtp.mailfrom=jane@acme.test` is ptype `smtp`, name `mailfrom`. Non-standard
/// `key=value` pairs without a ptype (Microsoft's `action=none`) are kept with an empty name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    pub ptype: String,
    pub name: String,
    pub value: String,
}

impl MethodResult {
    /// The first value of `ptype.name`, e.g. `property("header", "d")`.
    pub fn property(&self, ptype: &str, name: &str) -> Option<&str> {
        self.properties.iter().find(|p| p.ptype == ptype && p.name == name).map(|p| p.value.as_str())
    }

    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

/// Why a header could not be read; shown to staff as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable(String);

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Only the authserv-id, so that a header from a server we do not trust is never read further.
pub(crate) fn authserv_id(value: &str) -> Option<String> {
    let mut cursor = Cursor::new(value);
    cursor.skip_cfws().ok()?;
    let id = cursor.value().ok()?;
    (!id.is_empty()).then_some(id)
}

pub(crate) fn parse(value: &str) -> Result<AuthResultsHeader, Unreadable> {
    let mut cursor = Cursor::new(value);
    cursor.skip_cfws()?;
    let authserv_id = cursor.value()?;
    if authserv_id.is_empty() {
        return Err(Unreadable("no authserv-id".into()));
    }
    cursor.skip_cfws()?;
    if cursor.peek().is_some_and(|c| c.is_ascii_digit()) {
        cursor.keyword(); // the header's version number
        cursor.skip_cfws()?;
    }
    let mut results = Vec::new();
    loop {
        match cursor.bump() {
            None => break,
            Some(';') => {
                if let Some(result) = cursor.resinfo()? {
                    results.push(result);
                }
            }
            Some(c) => return Err(Unreadable(format!("expected ';' but found {c:?}"))),
        }
    }
    Ok(AuthResultsHeader { authserv_id, results })
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.pos += expected.len_utf8();
        }
        found
    }

    /// Whitespace (folded lines included) and comments, which may nest.
    fn skip_cfws(&mut self) -> Result<(), Unreadable> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('(') => self.skip_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn skip_comment(&mut self) -> Result<(), Unreadable> {
        let mut depth = 0usize;
        loop {
            match self.bump() {
                Some('(') => depth += 1,
                Some(')') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some('\\') => {
                    self.bump();
                }
                Some(_) => {}
                None => return Err(Unreadable("a comment is not closed".into())),
            }
        }
    }

    /// Letters, digits, `-` and `_`: method, result, ptype and property names.
    fn keyword(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            self.bump();
        }
        (self.pos > start).then(|| &self.text[start..self.pos])
    }

    fn expect_keyword(&mut self, what: &str) -> Result<String, Unreadable> {
        match self.keyword() {
            Some(word) => Ok(word.to_ascii_lowercase()),
            None => Err(Unreadable(match self.peek() {
                Some(c) => format!("expected {what} but found {c:?}"),
                None => format!("expected {what} but the header ends"),
            })),
        }
    }

    fn expect(&mut self, expected: char, after: &str) -> Result<(), Unreadable> {
        if self.eat(expected) {
            Ok(())
        } else {
            Err(Unreadable(format!("expected {expected:?} after {after}")))
        }
    }

    /// A value: bare characters and quoted strings (unquoted here), up to whitespace, `;`
    /// or `(`. `"x;y"@evil.test` is one value. May be empty (`header.d=`).
    fn value(&mut self) -> Result<String, Unreadable> {
        let mut value = String::new();
        loop {
            match self.peek() {
                None | Some(';' | '(') => return Ok(value),
                Some(c) if c.is_whitespace() => return Ok(value),
                Some('"') => {
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('"') => break,
                            Some('\\') => value.extend(self.bump()),
                            Some(c) => value.push(c),
                            None => return Err(Unreadable("a quoted string is not closed".into())),
                        }
                    }
                }
                Some(c) => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }

    /// What follows one `;`. `None` for `none` and for a trailing `;`.
    fn resinfo(&mut self) -> Result<Option<MethodResult>, Unreadable> {
        self.skip_cfws()?;
        if self.peek().is_none() {
            return Ok(None);
        }
        let method = self.expect_keyword("a method name")?;
        self.skip_cfws()?;
        if method == "none" && matches!(self.peek(), None | Some(';')) {
            return Ok(None);
        }
        if self.eat('/') {
            self.skip_cfws()?;
            self.expect_keyword("a method version")?;
            self.skip_cfws()?;
        }
        self.expect('=', &method)?;
        self.skip_cfws()?;
        let result = self.expect_keyword(&format!("the result of {method}"))?;
        let mut properties = Vec::new();
        loop {
            self.skip_cfws()?;
            if matches!(self.peek(), None | Some(';')) {
                break;
            }
            let ptype = self.expect_keyword(&format!("a property of {method}"))?;
            self.skip_cfws()?;
            let name = if self.eat('.') {
                self.skip_cfws()?;
                let name = self.expect_keyword(&format!("a property name after {ptype}."))?;
                self.skip_cfws()?;
                name
            } else {
                String::new() // `reason=…`, or a non-standard `action=none`
            };
            self.expect('=', &ptype)?;
            self.skip_cfws()?;
            let value = self.value()?;
            properties.push(Property { ptype, name, value });
        }
        Ok(Some(MethodResult { method, result, properties }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (method, result, [(ptype.name, value)]) for compact expectations.
    type Summary = Vec<(String, String, Vec<(String, String)>)>;
    type Expected<'a> = &'a [(&'a str, &'a str, &'a [(&'a str, &'a str)])];

    fn summary(header: &AuthResultsHeader) -> Summary {
        header
            .results
            .iter()
            .map(|r| {
                let props = r.properties.iter().map(|p| (format!("{}.{}", p.ptype, p.name), p.value.clone())).collect();
                (r.method.clone(), r.result.clone(), props)
            })
            .collect()
    }

    fn owned(expected: Expected) -> Summary {
        expected
            .iter()
            .map(|(m, r, props)| {
                (m.to_string(), r.to_string(), props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
            })
            .collect()
    }

    #[test]
    fn reads_the_syntax_rfc_8601_allows() {
        let cases: &[(&str, &str, Expected)] = &[
            ("mx.keydesk.test; none", "mx.keydesk.test", &[]),
            ("mx.keydesk.test 1; none", "mx.keydesk.test", &[]),
            ("mx.keydesk.test;", "mx.keydesk.test", &[]),
            ("mx.keydesk.test", "mx.keydesk.test", &[]),
            (
                "mx.keydesk.test; spf=pass smtp.mailfrom=jane@acme.test",
                "mx.keydesk.test",
                &[("spf", "pass", &[("smtp.mailfrom", "jane@acme.test")])],
            ),
            // Case, version numbers, comments and folding whitespace anywhere.
            (
                "MX.Keydesk.Test 1 (ours);\r\n\tSPF/1 = Pass (sender (nested) is ok) SMTP . MailFrom = jane@acme.test (x);\r\n DKIM=PASS header.d=acme.test",
                "MX.Keydesk.Test",
                &[
                    ("spf", "pass", &[("smtp.mailfrom", "jane@acme.test")]),
                    ("dkim", "pass", &[("header.d", "acme.test")]),
                ],
            ),
            // A quoted authserv-id and quoted values; a quoted `;` does not split.
            (
                "\"mx.keydesk.test\"; spf=fail smtp.mailfrom=\"x;dmarc=pass\"@evil.test",
                "mx.keydesk.test",
                &[("spf", "fail", &[("smtp.mailfrom", "x;dmarc=pass@evil.test")])],
            ),
            // A comment that quotes results is only a comment.
            (
                "mx.keydesk.test; arc=pass (i=1 spf=pass; dkim=pass header.d=acme.test) smtp.remote-ip=192.0.2.1",
                "mx.keydesk.test",
                &[("arc", "pass", &[("smtp.remote-ip", "192.0.2.1")])],
            ),
            // reason=, Microsoft's key=value without a ptype, base64 with `/+=`.
            (
                "mx.keydesk.test; dkim=pass reason=\"good sig\" header.d=acme.test header.b=AbC+/=;dmarc=pass action=none header.from=acme.test;compauth=pass reason=100",
                "mx.keydesk.test",
                &[
                    ("dkim", "pass", &[(r"reason.", "good sig"), ("header.d", "acme.test"), ("header.b", "AbC+/=")]),
                    ("dmarc", "pass", &[("action.", "none"), ("header.from", "acme.test")]),
                    ("compauth", "pass", &[("reason.", "100")]),
                ],
            ),
            // An escaped parenthesis inside a comment.
            (
                "mx.keydesk.test; spf=softfail (domain of \\) x; dmarc=pass) smtp.mailfrom=acme.test",
                "mx.keydesk.test",
                &[("spf", "softfail", &[("smtp.mailfrom", "acme.test")])],
            ),
        ];
        for (raw, id, expected) in cases {
            let header = parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert_eq!(&header.authserv_id, id, "{raw:?}");
            assert_eq!(summary(&header), owned(expected), "{raw:?}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read_rather_than_guess() {
        for raw in [
            "",
            "   ",
            "; spf=pass",
            "mx.keydesk.test; spf=pass (unclosed comment smtp.mailfrom=acme.test",
            "mx.keydesk.test; spf=pass smtp.mailfrom=\"unclosed",
            "mx.keydesk.test; spf pass",
            "mx.keydesk.test; =pass",
            "mx.keydesk.test; spf=",
            "mx.keydesk.test; spf=pass smtp.=acme.test",
            "mx.keydesk.test; spf=pass smtp.mailfrom acme.test",
            "mx.keydesk.test spf=pass",
        ] {
            assert!(parse(raw).is_err(), "{raw:?} should be unreadable");
        }
    }

    #[test]
    fn reads_only_the_authserv_id_when_asked() {
        assert_eq!(authserv_id("  (c) mx.keydesk.test(x); spf=pass").as_deref(), Some("mx.keydesk.test"));
        assert_eq!(authserv_id("\"mx.keydesk.test\"; none").as_deref(), Some("mx.keydesk.test"));
        assert_eq!(authserv_id("; spf=pass"), None);
        assert_eq!(authserv_id("(unclosed"), None);
    }
}
