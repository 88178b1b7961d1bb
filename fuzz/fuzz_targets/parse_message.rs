//! Any bytes through the whole MIME-to-fields path intake runs on every message: it must
//! never panic (a panic inside mail-parser is caught and reported as `ParserFailed`), and
//! libFuzzer's -timeout and -rss_limit_mb (set by scripts/fuzz) hold it to intake's bound.
#![no_main]

use keydesk_core::intake::{parse_message, IntakeRules};
use keydesk_core::EmailAddress;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<IntakeRules> = LazyLock::new(|| IntakeRules {
    own_addresses: vec![EmailAddress::parse("support@keydesk.test").unwrap()],
    ..IntakeRules::default()
});

// libfuzzer-sys aborts on every panic, even one Keydesk catches on purpose (a library's
// panic on a hostile message is caught and the message quarantined). A silent hook instead:
// a panic that escapes still aborts (unwinding cannot leave the fuzzer's callback), and
// libFuzzer reports it as a crash with its input.
fuzz_target!(init: std::panic::set_hook(Box::new(|_| {})), |data: &[u8]| {
    if let Ok(parsed) = parse_message(data, &RULES) {
        // Whatever was read is storable text.
        assert!(!parsed.body_text.contains('\0') && !parsed.subject.contains('\0'));
    }
});
