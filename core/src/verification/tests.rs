//! The checks end to end: crafted messages that must never verify, and honest ones that must.

use super::*;

const TRUSTED: &str = "mx.keydesk.test";

/// One message and the account its registered email names.
#[derive(Clone, Copy)]
struct Case {
    what: &'static str,
    stated: Option<&'static str>,
    registered: Option<&'static str>,
    from: Option<&'static str>,
    auth: &'static [&'static str],
    /// (email, full name, locked)
    account: Option<(&'static str, &'static str, bool)>,
    /// Received before the account's current lock began.
    before_the_lock: bool,
}

/// Jane, locked out, writing from her own address through our server, which passed DMARC.
const HONEST: Case = Case {
    what: "honest request",
    stated: Some("Jane Doe"),
    registered: Some("jane@acme.test"),
    from: Some("jane@acme.test"),
    auth: &["mx.keydesk.test; dmarc=pass header.from=acme.test"],
    account: Some(("jane@acme.test", "Jane Doe", true)),
    before_the_lock: false,
};

impl Case {
    fn run(&self) -> Vec<Check> {
        let email = |s: &str| EmailAddress::parse(s).unwrap_or_else(|e| panic!("{}: {s:?}: {e}", self.what));
        let registered = self.registered.map(email);
        let sender = self.from.map(email);
        let account_email = self.account.map(|(address, _, _)| email(address));
        let auth: Vec<String> = self.auth.iter().map(|h| h.to_string()).collect();
        let input = CheckInput {
            stated_full_name: self.stated,
            registered_email: registered.as_ref(),
            sender: sender.as_ref(),
            authentication_results: &auth,
            trusted_authserv_id: TRUSTED,
            account: self.account.zip(account_email.as_ref()).map(|((_, full_name, locked), email)| AccountFacts {
                email,
                full_name,
                locked,
            }),
            written_before_the_lock: self.before_the_lock,
        };
        let checks = run_checks(&input);
        let names: Vec<&str> = checks.iter().map(|check| check.name).collect();
        assert_eq!(names, Check::NAMES, "{}: always the five checks, in order", self.what);
        checks
    }

    fn failed(&self) -> Vec<&'static str> {
        self.run().into_iter().filter(|check| !check.passed).map(|check| check.name).collect()
    }
}

#[test]
fn crafted_messages_never_verify_the_sender() {
    use Check as C;
    let cases: &[(Case, &[&str])] = &[
        // The From address is not the registered one.
        (
            Case {
                what: "spoofed From, the attacker's own domain authenticated",
                from: Some("mallory@evil.test"),
                auth: &["mx.keydesk.test; dmarc=pass header.from=evil.test"],
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        // Authenticated, from the registered address, but written before the current lock:
        // a reply on an old thread is judged on itself, and an old one proves nothing now.
        (
            Case { what: "an authenticated message from before the current lock", before_the_lock: true, ..HONEST },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "plus-addressing",
                from: Some("jane+x@acme.test"),
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case {
                what: "plus-addressing, the other way",
                registered: Some("jane+x@acme.test"),
                account: Some(("jane+x@acme.test", "Jane Doe", true)),
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case {
                what: "look-alike domain with a hyphen",
                from: Some("jane@acme-test.test"),
                auth: &["mx.keydesk.test; dmarc=pass header.from=acme-test.test"],
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case {
                what: "look-alike domain under the attacker's",
                from: Some("jane@acme.test.evil.test"),
                auth: &["mx.keydesk.test; dmarc=pass header.from=acme.test.evil.test"],
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case {
                what: "Cyrillic а in the domain",
                from: Some("jane@\u{430}cme.test"),
                auth: &["mx.keydesk.test; dmarc=pass header.from=\u{430}cme.test"],
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case { what: "Cyrillic е in the local part", from: Some("jan\u{435}@acme.test"), ..HONEST },
            &[C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case {
                what: "no From address",
                from: None,
                ..HONEST
            },
            &[C::SENDER_IS_REGISTERED_ADDRESS, C::SENDER_AUTHENTICATED],
        ),
        // The From address is the registered one, but nothing trustworthy says so.
        (
            Case {
                what: "forged From, our server saw DMARC fail",
                auth: &["mx.keydesk.test; spf=pass smtp.mailfrom=evil.test; dkim=none; dmarc=fail header.from=acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "forged header added by the sender below ours",
                auth: &[
                    "mx.keydesk.test; spf=fail smtp.mailfrom=evil.test; dmarc=none header.from=acme.test",
                    "mx.keydesk.test; dmarc=pass header.from=acme.test",
                ],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "forged pass below an unreadable header of ours",
                auth: &[
                    "mx.keydesk.test; spf=pass (unclosed smtp.mailfrom=acme.test",
                    "mx.keydesk.test; dmarc=pass header.from=acme.test",
                ],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "ours absent, another server says pass",
                auth: &["relay.acme.test; dmarc=pass header.from=acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "another server above ours says pass",
                auth: &[
                    "filter.keydesk.test; dmarc=pass header.from=acme.test",
                    "mx.keydesk.test; spf=fail smtp.mailfrom=acme.test; dmarc=none",
                ],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "authserv-ids that only resemble ours",
                auth: &[
                    "mx.keydesk.test.evil.test; dmarc=pass header.from=acme.test",
                    "mx-keydesk.test; dmarc=pass header.from=acme.test",
                    "mx.k\u{435}ydesk.test; dmarc=pass header.from=acme.test",
                    "keydesk.test; dmarc=pass header.from=acme.test",
                    "mx.keydesk.test.; dmarc=pass header.from=acme.test",
                    "\"\"; dmarc=pass header.from=acme.test",
                ],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "spf=softfail",
                auth: &["mx.keydesk.test; spf=softfail smtp.mailfrom=jane@acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "every result that is not pass",
                auth: &["mx.keydesk.test; \
                    spf=neutral smtp.mailfrom=acme.test; spf=none smtp.mailfrom=acme.test; \
                    spf=temperror smtp.mailfrom=acme.test; spf=permerror smtp.mailfrom=acme.test; \
                    spf=fail smtp.mailfrom=acme.test; dkim=fail header.d=acme.test; \
                    dkim=policy header.d=acme.test; dkim=neutral header.d=acme.test; \
                    dmarc=temperror; dmarc=permerror; dmarc=none"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (Case { what: "none", auth: &["mx.keydesk.test; none"], ..HONEST }, &[C::SENDER_AUTHENTICATED]),
        (Case { what: "no headers at all", auth: &[], ..HONEST }, &[C::SENDER_AUTHENTICATED]),
        (
            Case {
                what: "dkim=pass for an unaligned domain",
                auth: &["mx.keydesk.test; dkim=pass header.d=evil.test header.i=@evil.test; spf=none"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dkim=pass for a look-alike domain",
                auth: &["mx.keydesk.test; dkim=pass header.d=acme.test.evil.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dkim=pass for a domain that merely ends in the same letters",
                auth: &["mx.keydesk.test; dkim=pass header.d=evilacme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dkim=pass by a bare top-level domain",
                auth: &["mx.keydesk.test; dkim=pass header.d=test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "spf=pass for an unaligned mailfrom",
                auth: &["mx.keydesk.test; spf=pass smtp.mailfrom=bounce@mailer.evil.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "spf=pass for the HELO name only",
                auth: &["mx.keydesk.test; spf=pass smtp.helo=acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dmarc=fail with a third party's dkim=pass",
                auth: &["mx.keydesk.test; dkim=pass header.d=mailer.evil.test; spf=pass smtp.mailfrom=mailer.evil.test; dmarc=fail header.from=acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dmarc=fail vetoes a relaxed-aligned dkim=pass (the owner may demand strict alignment)",
                auth: &["mx.keydesk.test; dkim=pass header.d=mail.acme.test; dmarc=fail (p=reject adkim=s) header.from=acme.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "dmarc=pass for another From than the one Keydesk read (duplicate From headers)",
                auth: &["mx.keydesk.test; dkim=pass header.d=acme.test; dmarc=pass header.from=evil.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "results smuggled into a quoted MAIL FROM",
                auth: &["mx.keydesk.test; spf=fail smtp.mailfrom=\"x;dmarc=pass;dkim=pass header.d=acme.test\"@evil.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "results in a comment",
                auth: &["mx.keydesk.test; spf=fail (dmarc=pass; dkim=pass header.d=acme.test) smtp.mailfrom=evil.test"],
                ..HONEST
            },
            &[C::SENDER_AUTHENTICATED],
        ),
        (
            Case {
                what: "everything wrong at once",
                stated: Some("J. Doe"),
                from: Some("jane+x@\u{430}cme.test"),
                auth: &["relay.evil.test; dmarc=pass"],
                account: Some(("jane@acme.test", "Jane Doe", false)),
                ..HONEST
            },
            &[C::ACCOUNT_LOCKED, C::NAME_MATCHES, C::SENDER_IS_REGISTERED_ADDRESS, C::SENDER_AUTHENTICATED],
        ),
    ];
    for (case, failing) in cases {
        let checks = case.run();
        assert!(!registered_sender_authenticated(&checks), "{}: must never verify\n{checks:#?}", case.what);
        assert_eq!(case.failed(), *failing, "{}\n{checks:#?}", case.what);
    }
}

#[test]
fn honest_messages_verify_the_sender() {
    let cases = [
        HONEST,
        Case { what: "canonical case", registered: Some("Jane@ACME.TEST"), from: Some("JANE@acme.test"), ..HONEST },
        Case {
            what: "dkim=pass, aligned subdomain",
            auth: &["mx.keydesk.test; dkim=pass header.d=mail.acme.test header.s=sel1"],
            ..HONEST
        },
        Case {
            what: "dkim=pass by header.i alone",
            auth: &["mx.keydesk.test; dkim=pass header.i=@acme.test"],
            ..HONEST
        },
        Case { what: "spf=pass, aligned", auth: &["mx.keydesk.test; spf=pass smtp.mailfrom=jane@acme.test"], ..HONEST },
        Case {
            what: "spf=pass, aligned bounce subdomain",
            auth: &["mx.keydesk.test; spf=pass smtp.mailfrom=bounces+123@bounce.acme.test; dmarc=none"],
            ..HONEST
        },
        Case {
            what: "a third party's pass beside an aligned one",
            auth: &["mx.keydesk.test; dkim=pass header.d=esp.test; dkim=pass header.d=acme.test"],
            ..HONEST
        },
        Case { what: "mixed case", auth: &["MX.KeyDesk.TEST; DMARC=Pass Header.From=ACME.test"], ..HONEST },
        Case {
            what: "comments and folding whitespace",
            auth: &["mx.keydesk.test (keydesk inbound)\r\n\t1;\r\n dkim=pass (2048-bit key; secure) header.d=acme.test\r\n \
                     header.s=sel1 header.b=\"AbC+/=\";\r\n  spf = softfail (not ours) smtp.mailfrom = acme.test"],
            ..HONEST
        },
        Case {
            what: "other servers' headers above and below ours are ignored",
            auth: &[
                "filter.keydesk.test; dmarc=fail",
                "mx.keydesk.test; spf=pass smtp.mailfrom=acme.test",
                "mx.keydesk.test; none",
                "relay.acme.test; spf=fail",
            ],
            ..HONEST
        },
        Case {
            what: "a real-world header (Microsoft style)",
            auth: &["mx.keydesk.test; spf=pass (sender IP is 203.0.113.25) smtp.mailfrom=acme.test; \
                     dkim=pass (signature was verified) header.d=acme.test;\
                     dmarc=pass action=none header.from=acme.test;compauth=pass reason=100"],
            ..HONEST
        },
        Case {
            what: "the intake corpus's header",
            auth: &[
                "mx.keydesk.test; dkim=pass header.d=acme.test header.s=sel1 header.b=AbCdEf12; spf=pass (mx.keydesk.test: domain of jane@acme.test designates 203.0.113.25 as permitted sender) smtp.mailfrom=jane@acme.test; dmarc=pass (p=REJECT) header.from=acme.test",
                "relay.acme.test; spf=none smtp.helo=laptop.acme.test",
            ],
            ..HONEST
        },
    ];
    for case in cases {
        let checks = case.run();
        assert!(checks.iter().all(|check| check.passed), "{}\n{checks:#?}", case.what);
        assert!(registered_sender_authenticated(&checks), "{}", case.what);
    }
}

#[test]
fn account_and_name_checks_report_what_is_missing() {
    use Check as C;
    let cases: &[(Case, &[&str])] = &[
        (
            Case { what: "no registered email", registered: None, ..HONEST },
            &[C::REGISTERED_EMAIL_HAS_ACCOUNT, C::ACCOUNT_LOCKED, C::NAME_MATCHES, C::SENDER_IS_REGISTERED_ADDRESS],
        ),
        (
            Case { what: "no such account", account: None, ..HONEST },
            &[C::REGISTERED_EMAIL_HAS_ACCOUNT, C::ACCOUNT_LOCKED, C::NAME_MATCHES],
        ),
        (
            Case {
                what: "an account other than the registered email's",
                account: Some(("john@acme.test", "Jane Doe", true)),
                ..HONEST
            },
            &[C::REGISTERED_EMAIL_HAS_ACCOUNT, C::ACCOUNT_LOCKED, C::NAME_MATCHES],
        ),
        (
            Case { what: "not locked", account: Some(("jane@acme.test", "Jane Doe", false)), ..HONEST },
            &[C::ACCOUNT_LOCKED],
        ),
        (Case { what: "no name stated", stated: None, ..HONEST }, &[C::NAME_MATCHES]),
        (Case { what: "middle name on one side", stated: Some("Jane Marie Doe"), ..HONEST }, &[C::NAME_MATCHES]),
        (Case { what: "initial", stated: Some("J. Doe"), ..HONEST }, &[C::NAME_MATCHES]),
        (Case { what: "accents, order, case", stated: Some("DOE,  Jáne"), ..HONEST }, &[]),
    ];
    for (case, failing) in cases {
        assert_eq!(case.failed(), *failing, "{}", case.what);
    }
}

#[test]
fn evidence_is_what_an_agent_reads() {
    let details = |case: Case| case.run().into_iter().map(|check| check.detail).collect::<Vec<_>>();
    assert_eq!(
        details(HONEST),
        [
            "registered jane@acme.test is the account of \"Jane Doe\"",
            "account jane@acme.test is locked",
            "stated \"Jane Doe\", account name \"Jane Doe\": the same words",
            "From header jane@acme.test, registered jane@acme.test",
            "mx.keydesk.test reports dmarc=pass for acme.test",
        ]
    );
    let lookalike = Case {
        from: Some("jane+x@\u{430}cme.test"),
        auth: &["mx.keydesk.test; dkim=pass header.d=evil.test"],
        ..HONEST
    };
    assert_eq!(
        details(lookalike)[3..],
        [
            "From header jane+x@\u{430}cme.test, registered jane@acme.test: the local part jane+x is not jane; \
             the domain \u{430}cme.test is not acme.test; \
             the From address has characters the registered one lacks: U+0430 '\u{430}'",
            "mx.keydesk.test reports dkim=pass for evil.test, not aligned; nothing passed for \u{430}cme.test",
        ]
    );
    let serialised = serde_json::to_value(&HONEST.run()[0]).unwrap();
    assert_eq!(
        serialised,
        serde_json::json!({
            "name": "registered_email_has_account",
            "passed": true,
            "detail": "registered jane@acme.test is the account of \"Jane Doe\"",
        })
    );
}

#[test]
fn a_spoof_is_suspected_only_when_our_server_failed_the_registered_address() {
    let jane = EmailAddress::parse("jane@acme.test").unwrap();
    let other = EmailAddress::parse("someone@else.test").unwrap();
    let trusted = "mx.keydesk.test";
    let suspected = |sender: &EmailAddress, auth: &[&str]| {
        let auth: Vec<String> = auth.iter().map(|a| a.to_string()).collect();
        super::spoof_suspected(Some(sender), Some(&jane), &auth, trusted)
    };
    let failed = "mx.keydesk.test; spf=fail smtp.mailfrom=acme.test; dkim=none; dmarc=fail header.from=acme.test";
    assert!(
        suspected(&jane, &[failed]).is_some_and(|why| why.contains("dmarc=fail")),
        "{:?}",
        suspected(&jane, &[failed])
    );
    assert_eq!(suspected(&jane, &["mx.keydesk.test; dmarc=pass header.from=acme.test"]), None, "authenticated");
    assert_eq!(suspected(&jane, &[]), None, "no results is unauthenticated, not forged");
    assert_eq!(
        suspected(&jane, &["mx.evil.test; dmarc=fail header.from=acme.test"]),
        None,
        "someone else's header proves nothing"
    );
    assert_eq!(suspected(&other, &[failed]), None, "not claiming the registered address");
}
