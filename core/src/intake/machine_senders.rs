//! `intake.machine_senders`: the sender addresses no person reads, whose mail is never a
//! ticket and never answered.

use regex::{Regex, RegexBuilder};

/// The sender addresses no person reads, as case-insensitive patterns over the whole
/// address: `intake.machine_senders`. The default follows what helpdesks ship.
#[derive(Debug, Clone)]
pub struct MachineSenders(Vec<Regex>);

impl MachineSenders {
    pub const DEFAULT: &'static [&'static str] = &[
        r"^(mailer[-_.]?daemon|post[-_.]?master|root|daemon|nobody|bounces?|abuse-reports?)([+-][^@]*)?@",
        r"^(e?news(letters?)?|announcements?|notifications?|owner-[^@]+|[^@]+-(request|owner))@",
        r"^(no|do[-_.]?not)[-_.]?reply([-_.+][^@]*)?@",
        r"^[^@]*[-_.+](no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)@",
        r"@(localhost|localhost\.localdomain)$",
    ];

    /// Compiles `patterns`; the error names the pattern that does not compile.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        let compiled = patterns
            .iter()
            .map(|p| {
                RegexBuilder::new(p.as_ref())
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("{:?}: {e}", p.as_ref()))
            })
            .collect::<Result<_, _>>()?;
        Ok(MachineSenders(compiled))
    }

    pub fn matches(&self, address: &str) -> bool {
        self.0.iter().any(|pattern| pattern.is_match(address))
    }
}

impl Default for MachineSenders {
    fn default() -> Self {
        MachineSenders::new(Self::DEFAULT).expect("the default patterns compile")
    }
}
