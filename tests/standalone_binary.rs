//! The release binary copied alone into an empty directory serves every page with its styles:
//! templates and static files are compiled in. A template or static file of the same name in
//! the override directories replaces the built-in one.

mod common;

use common::server::{binary, free_port};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child, String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `./keydesk serve` in `dir`, with nothing from the test's environment but a port.
fn serve_alone(dir: &Path) -> Running {
    let port = free_port();
    let child = Command::new(dir.join("keydesk"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the copied binary");
    let running = Running(child, format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{}/healthz", running.1)).call().is_err() {
        assert!(Instant::now() < deadline, "the copied binary did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    running
}

fn get(url: &str) -> (u16, String, String) {
    let response = match ureq::get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{url}: {error}"),
    };
    let status = response.status();
    let content_type = response.content_type().to_owned();
    (status, content_type, response.into_string().unwrap())
}

/// Every stylesheet, script and image a page refers to under /static.
fn assets_of(html: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("link[href], script[src], img[src]").unwrap();
    page.select(&selector)
        .filter_map(|e| e.value().attr("href").or(e.value().attr("src")))
        .filter(|url| url.starts_with("/static/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_binary_alone_in_an_empty_directory_serves_its_pages_and_styles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(binary(), dir.path().join("keydesk")).unwrap();
    let keydesk = serve_alone(dir.path());

    let (status, content_type, login) = get(&format!("{}/login", keydesk.1));
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/html");
    assert!(login.contains("name=\"csrf_token\""), "the real login form");
    let assets = assets_of(&login);
    assert!(assets.iter().any(|a| a.ends_with(".css")), "the page has its stylesheets: {assets:?}");
    for asset in &assets {
        let (status, content_type, body) = get(&format!("{}{asset}", keydesk.1));
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        if asset.ends_with(".css") {
            assert_eq!(content_type, "text/css", "{asset}");
        }
    }
    let (status, content_type, missing) = get(&format!("{}/no-such-page", keydesk.1));
    assert_eq!((status, content_type.as_str()), (404, "text/html"));
    assert!(missing.contains("<main"), "the error page is rendered from its template");
    drop(keydesk);

    // The operator's own template and stylesheet replace the built-in ones.
    let data = dir.path().join("var");
    std::fs::create_dir_all(data.join("templates")).unwrap();
    std::fs::write(
        data.join("templates").join("error.html.tera"),
        "{% extends \"base.html\" %}{% block content %}<p id=\"custom\">Our own {{ status }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::create_dir_all(data.join("static")).unwrap();
    std::fs::write(data.join("static").join("keydesk.css"), "/* ours */").unwrap();
    let keydesk = serve_alone(dir.path());
    let (status, _, missing) = get(&format!("{}/no-such-page", keydesk.1));
    assert_eq!(status, 404);
    assert!(missing.contains("<p id=\"custom\">Our own 404</p>"), "{missing}");
    assert_eq!(get(&format!("{}/static/keydesk.css", keydesk.1)).2, "/* ours */");
    let (status, _, pico) = get(&format!("{}/static/vendor/pico/pico.min.css", keydesk.1));
    assert_eq!(status, 200, "what is not overridden is still built in");
    assert!(pico.len() > 10_000);
}
