//! The test mail stack (Postfix and Dovecot on loopback, started by scripts/lib/mailstack.sh)
//! as the tests reach it: its settings, an IMAP session as one of its users, a new mailbox of
//! the test's own, and mail sent through Postfix.
#![allow(dead_code)]

/// One of the `KEYDESK_*` settings the mail stack exports.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts Postfix and Dovecot")
    })
}

/// A plain IMAP session as a mail user (the test's own client, not Keydesk's).
pub fn imap_as(user: &str) -> imap::Session<imap::Connection> {
    imap::ClientBuilder::new(env("KEYDESK_IMAP_HOST"), env("KEYDESK_IMAP_PORT").parse().unwrap())
        .mode(imap::ConnectionMode::Plaintext)
        .connect()
        .unwrap()
        .login(user, env("KEYDESK_MAIL_PASSWORD"))
        .map_err(|(e, _)| e)
        .unwrap()
}

/// A new, empty folder of the support mailbox, reached as support+NAME@keydesk.test.
pub fn new_support_folder(prefix: &str) -> String {
    let mut support = imap_as("support@keydesk.test");
    // Dovecot now and then answers a CREATE from one of the tests running side by side with
    // "[ALREADYEXISTS]" for a name nobody has used; another name then goes through.
    let mut refusals = Vec::new();
    for _ in 0..5 {
        let name = format!("{prefix}{}", &keydesk_core::PlainToken::generate().expose()[..10]);
        match support.create(&name) {
            Ok(()) => return name,
            Err(refused) => refusals.push(refused.to_string()),
        }
    }
    panic!("Dovecot refused to create a support folder: {refusals:?}")
}

/// Postfix's plain SMTP port, for sending as a locked user would.
pub fn postfix() -> lettre::SmtpTransport {
    lettre::SmtpTransport::builder_dangerous(env("KEYDESK_SMTP_HOST"))
        .port(env("KEYDESK_SMTP_PORT").parse().unwrap())
        .build()
}

/// A locked user's request to the support folder `folder`, sent through Postfix.
pub fn send_request(smtp: &lettre::SmtpTransport, folder: &str, n: usize) {
    let message = lettre::Message::builder()
        .from(format!("Person {n} <person{n}@acme.test>").parse().unwrap())
        .to(format!("support+{folder}@keydesk.test").parse().unwrap())
        .subject(format!("Locked out ({n})"))
        .body(format!("My name is Person {n}, my account person{n}@acme.test is locked."))
        .unwrap();
    lettre::Transport::send(smtp, &message).expect("Postfix accepts the message");
}

/// `ROCKET_INTAKE` for a Keydesk process reading `folder` over plain IMAP.
pub fn rocket_intake(folder: &str, extra: &str) -> String {
    format!(
        "{{source=\"imap\",host=\"{}\",port={},security=\"none\",username=\"support@keydesk.test\",\
         password=\"{}\",mailbox=\"{folder}\"{extra}}}",
        env("KEYDESK_IMAP_HOST"),
        env("KEYDESK_IMAP_PORT"),
        env("KEYDESK_MAIL_PASSWORD")
    )
}
