//! Log lines, through `tracing`: readable text, or one JSON object per line with
//! `log_format = "json"`, at the level Rocket's `log_level` names.
//!
//! Keydesk writes through `tracing`; Rocket (and r2d2) through the `log` crate. Rocket installs
//! its own logger at launch only when none is installed yet, so `keydesk serve` installs a
//! bridge first ([`install`]) that hands `log` records to `tracing` — and drops Rocket's
//! per-request lines: they carry
//! the path as asked (password-reset and confirmation tokens, email addresses in API paths
//! and searches) and the values of fields a form failed on. The request line of
//! `web::telemetry` replaces them, with the route's template and a request id.
//!
//! No line may hold an email address, a name, a password or a token. Keydesk's own lines
//! name records by id; what an outside party says (an SMTP or IMAP server's error, which
//! often quotes the recipient) passes through [`without_addresses`] first.

use crate::config::LogFormat;
use rocket::config::LogLevel;
use rocket::figment::Figment;
use std::borrow::Cow;
use tracing_subscriber::filter::LevelFilter;

/// Installs the subscriber and the `log` bridge for this process, from the figment's
/// `log_format` and `log_level` (a bad value is reported when the configuration is checked;
/// here it falls back to the default). Returns the figment with Rocket's own colouring off:
/// the text formatter colours levels itself on a terminal, and JSON must have none.
pub fn install(figment: Figment) -> Figment {
    let format = figment.extract_inner::<LogFormat>("log_format").unwrap_or_default();
    let level = figment.extract_inner::<LogLevel>("log_level").unwrap_or(LogLevel::Normal);
    let level = level_filter(level);
    let colours = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_max_level(level).with_ansi(colours).with_writer(std::io::stdout);
    let installed = match format {
        LogFormat::Text => tracing::subscriber::set_global_default(builder.finish()),
        LogFormat::Json => tracing::subscriber::set_global_default(
            builder.json().flatten_event(true).with_current_span(true).with_span_list(false).finish(),
        ),
    };
    if installed.is_ok() && log::set_boxed_logger(Box::new(Bridge(tracing_log::LogTracer::new()))).is_ok() {
        log::set_max_level(log_level_filter(level));
    }
    figment.merge(("cli_colors", false))
}

/// Rocket's levels, as it maps them to `log`'s.
fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Critical => LevelFilter::WARN,
        LogLevel::Normal => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::TRACE,
        LogLevel::Off => LevelFilter::OFF,
    }
}

fn log_level_filter(level: LevelFilter) -> log::LevelFilter {
    match level.into_level() {
        None => log::LevelFilter::Off,
        Some(tracing::Level::ERROR) => log::LevelFilter::Error,
        Some(tracing::Level::WARN) => log::LevelFilter::Warn,
        Some(tracing::Level::INFO) => log::LevelFilter::Info,
        Some(tracing::Level::DEBUG) => log::LevelFilter::Debug,
        Some(tracing::Level::TRACE) => log::LevelFilter::Trace,
    }
}

/// What becomes of one `log` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    /// Rocket's launch banner: written as warnings so that `critical` still shows it; it
    /// is information.
    AsInfo,
    Drop,
}

/// Rocket marks the lines that continue a request's story with a target ending in `::_`
/// (the route matched, the outcome, a guard that failed and on what value, the catcher);
/// the request itself is an info line of `rocket::server` ("GET /reset-password/…"), and
/// `rocket::request` speaks of one request's URI and headers.
fn fate(target: &str, level: log::Level) -> Fate {
    let about_a_request = target.ends_with("::_")
        || target.starts_with("rocket::request")
        || (target == "rocket::server" && level >= log::Level::Info);
    if target == "rocket::launch" || target.starts_with("rocket::launch::") {
        Fate::AsInfo
    } else if about_a_request {
        Fate::Drop
    } else {
        Fate::Keep
    }
}

/// `log` records to `tracing` events, less Rocket's per-request lines.
struct Bridge(tracing_log::LogTracer);

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = match fate(record.target(), record.level()) {
            Fate::Drop => return,
            Fate::Keep => record.level(),
            Fate::AsInfo => log::Level::Info,
        };
        // Without the source file and line, which would be a field of every JSON line.
        let target = record.target().trim_end_matches("::_");
        self.0.log(&log::Record::builder().args(*record.args()).level(level).target(target).build());
    }

    fn flush(&self) {}
}

/// `text` with every email address in it replaced by `[address]`: for what servers outside
/// Keydesk say (an SMTP rejection usually quotes the recipient).
pub fn without_addresses(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let part = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(part) {
        out.push_str(&rest[..start]);
        let word = &rest[start..];
        let end = word.find(|c: char| !part(c)).unwrap_or(word.len());
        let (word, after) = word.split_at(end);
        match word.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => out.push_str("[address]"),
            _ => out.push_str(word),
        }
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rockets_request_lines_are_dropped_and_its_banner_is_information() {
        use log::Level::*;
        let table = [
            ("rocket::server", Info, Fate::Drop),
            ("rocket::server::_", Error, Fate::Drop),
            ("keydesk::web::auth::_", Warn, Fate::Drop),
            ("rocket::request::request", Warn, Fate::Drop),
            ("rocket::server", Warn, Fate::Keep),
            ("rocket::launch", Warn, Fate::AsInfo),
            ("rocket::launch::_", Warn, Fate::AsInfo),
            ("keydesk::intake::worker", Info, Fate::Keep),
            ("keydesk::app::error", Error, Fate::Keep),
            ("r2d2", Error, Fate::Keep),
        ];
        for (target, level, expected) in table {
            assert_eq!(fate(target, level), expected, "{target} {level}");
        }
    }

    #[test]
    fn addresses_are_taken_out_of_what_servers_say() {
        let table = [
            (
                "550 5.1.1 <jane.doe@clinic.example>: Recipient address rejected",
                "550 5.1.1 <[address]>: Recipient address rejected",
            ),
            ("to Jane+tag@Example.ORG, bob@x.test failed", "to [address], [address] failed"),
            ("connection refused (os error 111)", "connection refused (os error 111)"),
            ("a lone @ sign, and user@ and @host", "a lone @ sign, and user@ and @host"),
            ("imap:support@mail.example:993/INBOX", "imap:[address]:993/INBOX"),
        ];
        for (text, expected) in table {
            assert_eq!(without_addresses(text), expected, "{text}");
        }
    }
}
