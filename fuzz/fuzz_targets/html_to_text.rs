//! Any HTML through the bounded HTML-to-text conversion: never a panic, and (with
//! scripts/fuzz's -timeout and -rss_limit_mb) never more time or memory than intake allows.
#![no_main]

use libfuzzer_sys::fuzz_target;

// libfuzzer-sys aborts on every panic, even one Keydesk catches on purpose (a library's
// panic on a hostile message is caught and the message quarantined). A silent hook instead:
// a panic that escapes still aborts (unwinding cannot leave the fuzzer's callback), and
// libFuzzer reports it as a crash with its input.
fuzz_target!(init: std::panic::set_hook(Box::new(|_| {})), |data: &[u8]| {
    if let Ok(html) = std::str::from_utf8(data) {
        let _ = keydesk_core::intake::html_to_text(html);
    }
});
