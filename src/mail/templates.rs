//! Email templates, embedded in the binary so a deployed Keydesk cannot lose them.

use super::{Email, MailError};
use serde::Serialize;

pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct MailTemplates {
    tera: tera::Tera,
}

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        [$(
            (concat!($name, ".subject"), include_str!(concat!("templates/", $name, ".subject.tera"))),
            (concat!($name, ".txt"), include_str!(concat!("templates/", $name, ".text.tera"))),
            // Named `.html` so Tera escapes every value in it.
            (concat!($name, ".html"), include_str!(concat!("templates/", $name, ".html.tera"))),
        )*]
    };
}

/// What every email may use besides its own values.
#[derive(Serialize)]
struct Common<'a> {
    support_email: &'a str,
    public_url: &'a str,
}

impl MailTemplates {
    pub fn load() -> Result<Self, tera::Error> {
        let mut tera = tera::Tera::default();
        let sources = embedded![
            "account_locked",
            "account_locked_admin",
            "account_unlocked",
            "password_reset",
            "unlock_pin",
            "ticket_acknowledgement",
            "ticket_reply",
            "mailbox_challenge",
            "privileged_unlocked",
            "sla_alert",
            "sla_digest",
            "sign_in_address_changed",
        ];
        tera.add_raw_templates(sources)?;
        Ok(MailTemplates { tera })
    }

    pub fn render<E: Email>(
        &self,
        email: &E,
        support_email: &str,
        public_url: &str,
    ) -> Result<RenderedEmail, MailError> {
        let name = E::KIND.as_str();
        let failed = |e: tera::Error| MailError::Template(name, format!("{e:?}"));
        let mut context = tera::Context::from_serialize(Common { support_email, public_url }).map_err(failed)?;
        context.extend(tera::Context::from_serialize(email).map_err(failed)?);
        let render = |part: &str| self.tera.render(&format!("{name}.{part}"), &context).map_err(failed);
        Ok(RenderedEmail {
            // A subject is one line whatever the template's trailing newline or a value holds.
            subject: render("subject")?.split_whitespace().collect::<Vec<_>>().join(" "),
            text: render("txt")?,
            html: render("html")?,
        })
    }
}
