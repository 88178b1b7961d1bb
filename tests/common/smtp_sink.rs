//! An SMTP server the tests control: it accepts every message (recording its Message-ID),
//! can take its time over each (a slow server) and can refuse service for a while (a server
//! that is down: 421 to every greeting). Built on mailin-embedded, a real SMTP server.
#![allow(dead_code)]

use mailin_embedded::response::{NO_SERVICE, OK};
use mailin_embedded::{Handler, Response, Server, SslConfig};
use std::net::{IpAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Shared {
    message_ids: Mutex<Vec<String>>,
    down: AtomicBool,
}

pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct SinkHandler {
    shared: Arc<Shared>,
    delay: Duration,
    data: Vec<u8>,
}

impl Handler for SinkHandler {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        if self.shared.down.load(Ordering::SeqCst) {
            NO_SERVICE
        } else {
            OK
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        std::thread::sleep(self.delay);
        let id = mail_parser::MessageParser::default()
            .parse(&self.data)
            .and_then(|m| m.message_id().map(str::to_owned))
            .unwrap_or_default();
        self.shared.message_ids.lock().unwrap().push(id);
        OK
    }
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1 that takes `delay` over each message; it
    /// serves up to 32 connections at once and lives as long as the test process.
    pub fn start(delay: Duration) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let handler = SinkHandler { shared: shared.clone(), delay, data: Vec::new() };
        let mut server = Server::new(handler);
        server
            .with_name("sink.test")
            .with_ssl(SslConfig::None)
            .unwrap()
            .with_num_threads(32)
            .with_tcp_listener(listener);
        std::thread::spawn(move || drop(server.serve()));
        SmtpSink { port, shared }
    }

    /// The Message-IDs received so far, in arrival order (with repeats, if any).
    pub fn message_ids(&self) -> Vec<String> {
        self.shared.message_ids.lock().unwrap().clone()
    }

    /// Refuses (421) every new connection while `down`.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// `ROCKET_MAIL` for a Keydesk process sending here.
    pub fn rocket_mail(&self, extra: &str) -> String {
        format!(
            "{{transport=\"smtp\",host=\"127.0.0.1\",port={},security=\"none\",poll_interval=\"1s\",max_backoff=\"2s\"{extra}}}",
            self.port
        )
    }
}
