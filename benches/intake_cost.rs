//! What one hostile message within `intake.max_message_bytes` (10 MiB) costs to take in:
//! a fresh release `keydesk intake once` over a Maildir holding only that message, on
//! SQLite — wall time and peak RSS of the whole process (wait4's rusage), the median of
//! three runs — beside the floor (the same process taking in a 1.5 KB request) and the
//! bound the intake promises (10 s, 256 MiB).
//!
//! Run with `cargo bench --bench intake_cost`.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const LIMIT: usize = 10 * 1024 * 1024;

fn headers(content_type: &str, extra: &str) -> String {
    format!(
        "From: Jane Doe <jane@acme.test>\r\nTo: support@keydesk.test\r\nSubject: Locked\r\n\
         Message-ID: <{}@acme.test>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n{extra}\r\n",
        std::process::id()
    )
}

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let small = format!(
        "{}Full name: Jane Doe\r\nRegistered email: jane@acme.test\r\nIssue: locked out\r\n{}",
        headers("text/plain", ""),
        "x".repeat(1_200)
    );
    let row = "<tr><td class=\"c\">Product</td><td><a href=\"https://shop.test/p\">Offer</a></td><td>9.99</td></tr>";
    let mut wide = format!("{}<html><body><table>", headers("text/html; charset=utf-8", ""));
    while wide.len() < 7 * 1024 * 1024 {
        wide.push_str(row);
    }
    wide.push_str("</table></body></html>");
    let deep = format!("{}{}Locked out{}", headers("text/html", ""), "<div>".repeat(100_000), "</div>".repeat(100_000));
    let line = "Ich bin gesperrt und brauche Hilfe =C3=BC=C3=A4=C3=B6 bitte schnell.=\r\n";
    let mut quoted = headers("text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable\r\n");
    while quoted.len() < LIMIT - 100 {
        quoted.push_str(line);
    }
    let mut attached = headers("multipart/mixed; boundary=b", "");
    attached.push_str(
        "--b\r\nContent-Type: text/plain\r\n\r\nScreenshot attached.\r\n--b\r\nContent-Type: image/png\r\n\
                       Content-Disposition: attachment; filename=shot.png\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    while attached.len() < LIMIT - 200 {
        attached.push_str(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\r\n",
        );
    }
    attached.push_str("--b--\r\n");
    let mut nested = headers("multipart/mixed; boundary=b0", "");
    for depth in 0..5_000 {
        nested.push_str(&format!("--b{depth}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", depth + 1));
    }
    nested.push_str("--b5000\r\nContent-Type: text/plain\r\n\r\nLocked out\r\n");
    let mut many = headers("multipart/mixed; boundary=m", "");
    many.push_str("--m\r\nContent-Type: text/plain\r\n\r\nLocked out\r\n");
    while many.len() < LIMIT - 200 {
        many.push_str("--m\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAAA\r\n");
    }
    many.push_str("--m--\r\n");
    let mut tall = String::from("From: Jane Doe <jane@acme.test>\r\nSubject: Locked\r\n");
    while tall.len() < LIMIT - 200 {
        tall.push_str("X-Filler: 0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
    }
    tall.push_str("\r\nLocked out\r\n");
    vec![
        ("floor: a 1.5 KB request", small.into_bytes()),
        ("7 MB of HTML tables", wide.into_bytes()),
        ("100,000 nested <div>s", deep.into_bytes()),
        ("10 MB quoted-printable text", quoted.into_bytes()),
        ("10 MB base64 attachment", attached.into_bytes()),
        ("5,000 nested multiparts", nested.into_bytes()),
        ("10 MB of tiny attachments", many.into_bytes()),
        ("10 MB of header lines", tall.into_bytes()),
    ]
}

/// One `keydesk intake once` over a Maildir holding `message`: its time and peak RSS (KiB).
fn take_in(bin: &str, message: &[u8]) -> (Duration, i64) {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("var/intake/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::File::create(new.join("1700000000.bench.host")).unwrap().write_all(message).unwrap();
    let started = Instant::now();
    // Waited for below with wait4, which also gives its peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin)
        .args(["intake", "once"])
        .current_dir(dir.path())
        .env("ROCKET_CONFIG", dir.path().join("none.toml"))
        .env("ROCKET_LOG_LEVEL", "critical")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the status and rusage we own; the pid is our child's.
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert!(waited > 0, "wait4 failed");
    let exit = std::process::ExitStatus::from_raw(status);
    assert!(exit.success(), "keydesk intake once failed: {exit}");
    assert!(dir.path().join("var/intake/cur").read_dir().unwrap().count() == 1, "taken in and moved to cur/");
    (elapsed, usage.ru_maxrss)
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_keydesk");
    println!("intake cost of one message (release, SQLite, median of {RUNS}); bound: 10 s and 256 MiB peak RSS");
    println!("{:<28} {:>10} {:>10} {:>12}", "message", "size", "time", "peak RSS");
    for (name, message) in cases() {
        assert!(message.len() <= LIMIT, "{name} is within intake.max_message_bytes");
        let mut runs: Vec<(Duration, i64)> = (0..RUNS).map(|_| take_in(bin, &message)).collect();
        runs.sort();
        let (time, _) = runs[RUNS / 2];
        let peak = runs.iter().map(|(_, rss)| *rss).max().unwrap_or_default();
        println!(
            "{name:<28} {:>8.1} MB {:>8.2} s {:>8.1} MiB",
            message.len() as f64 / 1024.0 / 1024.0,
            time.as_secs_f64(),
            peak as f64 / 1024.0
        );
    }
}
