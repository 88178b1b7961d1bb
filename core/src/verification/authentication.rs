//! Whether the From domain was authenticated, judged only by the `Authentication-Results`
//! header our own receiving server wrote.
//!
//! Every header below that one was added before our server saw the message (by the sender,
//! possibly forged), and headers from other servers are their claims, not ours: both are
//! ignored. Our server's header counts when it shows one of:
//!
//! - `dmarc=pass` (for the From domain, when it names one with `header.from`);
//! - `dkim=pass` whose `header.d` (or, without it, the domain of `header.i`) is aligned with
//!   the From domain;
//! - `spf=pass` whose `smtp.mailfrom` domain is aligned with the From domain.
//!
//! A `dmarc=fail`, or a DMARC result about a different From domain than the one Keydesk
//! read, vetoes the rest: the domain owner's policy may demand strict alignment, and a
//! different `header.from` means our server and Keydesk disagree about who the message is
//! from (duplicate From headers, for instance).

use super::auth_results::{self, AuthResultsHeader, MethodResult};
use std::fmt;

/// The verdict on the sender's domain and the evidence for it. `Display` is the sentence
/// staff read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    Passed { authserv_id: String, from_domain: String, by: AuthenticatedBy },
    Failed(NotAuthenticated),
}

/// The result that authenticated the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticatedBy {
    Dmarc,
    /// The signing domain (`header.d`, or the domain of `header.i`).
    Dkim {
        domain: String,
    },
    /// The `smtp.mailfrom` domain.
    Spf {
        domain: String,
    },
}

/// Why the From domain is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAuthenticated {
    NoFromDomain,
    /// No header from the trusted server; the authserv-ids that were there, topmost first.
    NoTrustedHeader {
        trusted: String,
        others: Vec<String>,
    },
    Unreadable {
        authserv_id: String,
        reason: String,
    },
    /// `authserv-id; none`, or no results at all.
    NoResults {
        authserv_id: String,
    },
    DmarcFailed {
        authserv_id: String,
    },
    DmarcForOtherDomain {
        authserv_id: String,
        header_from: String,
        from_domain: String,
    },
    /// Nothing passed aligned with the From domain; one line per relevant result.
    NothingAligned {
        authserv_id: String,
        from_domain: String,
        findings: Vec<String>,
    },
}

impl Authentication {
    pub fn passed(&self) -> bool {
        matches!(self, Authentication::Passed { .. })
    }
}

impl fmt::Display for Authentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authentication::Passed { authserv_id, from_domain, by } => match by {
                AuthenticatedBy::Dmarc => write!(f, "{authserv_id} reports dmarc=pass for {from_domain}"),
                AuthenticatedBy::Dkim { domain } => {
                    write!(f, "{authserv_id} reports dkim=pass for {domain}, aligned with {from_domain}")
                }
                AuthenticatedBy::Spf { domain } => {
                    write!(f, "{authserv_id} reports spf=pass for {domain}, aligned with {from_domain}")
                }
            },
            Authentication::Failed(reason) => reason.fmt(f),
        }
    }
}

impl fmt::Display for NotAuthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotAuthenticated::NoFromDomain => f.write_str("no From address to authenticate"),
            NotAuthenticated::NoTrustedHeader { trusted, .. } if trusted.trim().is_empty() => {
                write!(f, "no mail server is trusted: set verification.trusted_authserv_id")
            }
            NotAuthenticated::NoTrustedHeader { trusted, others } if others.is_empty() => {
                write!(f, "no Authentication-Results header from {trusted}")
            }
            NotAuthenticated::NoTrustedHeader { trusted, others } => {
                write!(f, "no Authentication-Results header from {trusted}; ignored headers from {}", others.join(", "))
            }
            NotAuthenticated::Unreadable { authserv_id, reason } => {
                write!(f, "the Authentication-Results header from {authserv_id} could not be read: {reason}")
            }
            NotAuthenticated::NoResults { authserv_id } => write!(f, "{authserv_id} reports no authentication results"),
            NotAuthenticated::DmarcFailed { authserv_id } => write!(f, "{authserv_id} reports dmarc=fail"),
            NotAuthenticated::DmarcForOtherDomain { authserv_id, header_from, from_domain } => {
                write!(f, "{authserv_id} evaluated DMARC for {header_from}, but the From domain is {from_domain}")
            }
            NotAuthenticated::NothingAligned { authserv_id, from_domain, findings } if findings.is_empty() => {
                write!(f, "{authserv_id} reports no dmarc, dkim or spf result for {from_domain}")
            }
            NotAuthenticated::NothingAligned { authserv_id, from_domain, findings } => {
                write!(f, "{authserv_id} reports {}; nothing passed for {from_domain}", findings.join(", "))
            }
        }
    }
}

/// Judges the topmost `Authentication-Results` header (values topmost first) whose
/// authserv-id is `trusted_authserv_id`, ignoring ASCII case. `from_domain` is the domain
/// of the From address.
pub fn sender_authenticated(auth_results: &[String], trusted_authserv_id: &str, from_domain: &str) -> Authentication {
    use NotAuthenticated::*;
    let from_domain = normalise_domain(from_domain);
    if from_domain.is_empty() {
        return Authentication::Failed(NoFromDomain);
    }
    let trusted = trusted_authserv_id.trim();
    let mut others = Vec::new();
    let raw = auth_results.iter().find(|raw| match auth_results::authserv_id(raw) {
        Some(id) if !trusted.is_empty() && id.eq_ignore_ascii_case(trusted) => true,
        Some(id) => {
            others.push(id);
            false
        }
        None => false,
    });
    let Some(raw) = raw else {
        return Authentication::Failed(NoTrustedHeader { trusted: trusted.to_string(), others });
    };
    match auth_results::parse(raw) {
        Ok(header) => judge(&header, &from_domain),
        Err(reason) => {
            Authentication::Failed(Unreadable { authserv_id: trusted.to_string(), reason: reason.to_string() })
        }
    }
}

fn judge(header: &AuthResultsHeader, from_domain: &str) -> Authentication {
    use NotAuthenticated::*;
    let authserv_id = header.authserv_id.clone();
    if header.results.is_empty() {
        return Authentication::Failed(NoResults { authserv_id });
    }
    let of = |method: &'static str| header.results.iter().filter(move |r| r.method == method);

    for dmarc in of("dmarc") {
        if let Some(header_from) = dmarc.property("header", "from") {
            if normalise_domain(domain_part(header_from)) != from_domain {
                let header_from = header_from.to_string();
                return Authentication::Failed(DmarcForOtherDomain {
                    authserv_id,
                    header_from,
                    from_domain: from_domain.into(),
                });
            }
        }
        if dmarc.result == "fail" {
            return Authentication::Failed(DmarcFailed { authserv_id });
        }
    }
    if of("dmarc").any(MethodResult::passed) {
        return Authentication::Passed { authserv_id, from_domain: from_domain.into(), by: AuthenticatedBy::Dmarc };
    }

    let mut findings = Vec::new();
    let dkim = of("dkim").map(|result| (result, dkim_domain(result)));
    let spf = of("spf").map(|result| (result, spf_domain(result)));
    for (result, domain) in dkim.chain(spf) {
        let (method, outcome) = (&result.method, &result.result);
        match domain {
            Some(domain) if result.passed() && domains_aligned(&domain, from_domain) => {
                let by =
                    if method == "dkim" { AuthenticatedBy::Dkim { domain } } else { AuthenticatedBy::Spf { domain } };
                return Authentication::Passed { authserv_id, from_domain: from_domain.into(), by };
            }
            Some(domain) if result.passed() => findings.push(format!("{method}=pass for {domain}, not aligned")),
            Some(domain) => findings.push(format!("{method}={outcome} for {domain}")),
            None => findings.push(format!("{method}={outcome} without a domain")),
        }
    }
    findings.extend(of("dmarc").map(|r| format!("dmarc={}", r.result)));
    Authentication::Failed(NothingAligned { authserv_id, from_domain: from_domain.into(), findings })
}

fn dkim_domain(result: &MethodResult) -> Option<String> {
    let domain = match result.property("header", "d") {
        Some(d) => d,
        None => domain_part(result.property("header", "i")?),
    };
    Some(normalise_domain(domain)).filter(|d| !d.is_empty())
}

fn spf_domain(result: &MethodResult) -> Option<String> {
    let mailfrom = result.property("smtp", "mailfrom")?;
    Some(normalise_domain(domain_part(mailfrom))).filter(|d| !d.is_empty())
}

/// `jane@acme.test` → `acme.test`; `<jane@acme.test>` and `acme.test` work too.
fn domain_part(value: &str) -> &str {
    let value = value.trim().trim_start_matches('<').trim_end_matches('>');
    value.rsplit_once('@').map_or(value, |(_, domain)| domain)
}

fn normalise_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_lowercase()
}

/// Relaxed alignment without a public-suffix list: equal, or one is a subdomain of the
/// other (`mail.acme.test` and `acme.test`). `acme.test.evil.test`, `acme-test.test` and
/// siblings such as `a.acme.test`/`b.acme.test` are not aligned, and nothing aligns with a
/// bare top-level domain. Compared as written, so a look-alike letter from another script
/// never aligns, and neither does the punycode form of the same domain.
pub fn domains_aligned(a: &str, b: &str) -> bool {
    let (a, b) = (normalise_domain(a), normalise_domain(b));
    if a.is_empty() || b.is_empty() || a.split('.').chain(b.split('.')).any(str::is_empty) {
        return false;
    }
    let (parent, child) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    parent == child
        || (parent.contains('.') && child.strip_suffix(parent.as_str()).is_some_and(|rest| rest.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_equal_domains_and_subdomains_only() {
        let cases = [
            ("acme.test", "acme.test", true),
            ("ACME.Test.", "acme.test", true),
            ("mail.acme.test", "acme.test", true),
            ("acme.test", "eu.mail.acme.test", true),
            ("acme.test.evil.test", "acme.test", false),
            ("evilacme.test", "acme.test", false),
            ("acme-test.test", "acme.test", false),
            ("a.acme.test", "b.acme.test", false),
            ("acme.test", "test", false),
            ("evil.test", "acme.test", false),
            ("\u{430}cme.test", "acme.test", false), // Cyrillic а
            ("xn--cme-8cd.test", "acme.test", false),
            ("", "", false),
            ("acme..test", "acme..test", false),
            (".acme.test", "x.acme.test", false),
        ];
        for (a, b, aligned) in cases {
            assert_eq!(domains_aligned(a, b), aligned, "{a:?} vs {b:?}");
            assert_eq!(domains_aligned(b, a), aligned, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn evidence_names_the_result_that_counted_or_why_nothing_did() {
        let trusted = "mx.keydesk.test";
        let cases: &[(&[&str], &str)] = &[
            (&["mx.keydesk.test; dmarc=pass header.from=acme.test"], "mx.keydesk.test reports dmarc=pass for acme.test"),
            (
                &["mx.keydesk.test; dkim=pass header.d=mail.acme.test"],
                "mx.keydesk.test reports dkim=pass for mail.acme.test, aligned with acme.test",
            ),
            (&[], "no Authentication-Results header from mx.keydesk.test"),
            (
                &["relay.acme.test; dmarc=pass", "mx.evil.test; dmarc=pass"],
                "no Authentication-Results header from mx.keydesk.test; ignored headers from relay.acme.test, mx.evil.test",
            ),
            (&["mx.keydesk.test; none"], "mx.keydesk.test reports no authentication results"),
            (
                &["mx.keydesk.test; spf=softfail smtp.mailfrom=acme.test; dkim=pass header.d=evil.test; dkim=none"],
                "mx.keydesk.test reports dkim=pass for evil.test, not aligned, dkim=none without a domain, spf=softfail for acme.test; nothing passed for acme.test",
            ),
            (
                &["mx.keydesk.test; dmarc=pass header.from=evil.test"],
                "mx.keydesk.test evaluated DMARC for evil.test, but the From domain is acme.test",
            ),
            (
                &["mx.keydesk.test; spf=pass (unclosed"],
                "the Authentication-Results header from mx.keydesk.test could not be read: a comment is not closed",
            ),
        ];
        for (headers, evidence) in cases {
            let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
            assert_eq!(sender_authenticated(&headers, trusted, "acme.test").to_string(), *evidence, "{headers:?}");
        }
        assert_eq!(sender_authenticated(&[], trusted, "").to_string(), "no From address to authenticate");
    }
}
