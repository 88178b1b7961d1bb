//! The reference deployment in `deploy/` is a configuration Keydesk accepts, and nginx and
//! Keydesk agree on the header that carries the client's address.

mod common;

use rocket::figment::providers::{Format, Toml};
use rocket::figment::Figment;

#[test]
fn the_reference_configuration_is_valid_and_trusts_the_header_nginx_sets() {
    let path = common::repo_path("deploy/keydesk.toml");
    let figment = Figment::from(rocket::Config::default()).merge(Toml::file(&path).nested());
    let config = keydesk::config::Config::from_figment(&figment).expect("deploy/keydesk.toml is valid");
    assert!(config.database_url.starts_with("postgres://"));
    assert!(config.public_url.starts_with("https://"));
    assert!(config.worker, "the web units turn the worker off on the command line, not in the shared file");
    let ip_header: String = figment.extract_inner("ip_header").unwrap();
    assert_eq!(ip_header, "X-Real-IP");

    let nginx = std::fs::read_to_string(common::repo_path("deploy/nginx.conf")).unwrap();
    assert!(nginx.contains("proxy_set_header X-Real-IP $remote_addr;"), "nginx overwrites the client's X-Real-IP");
    let web = std::fs::read_to_string(common::repo_path("deploy/keydesk-web@.service")).unwrap();
    assert!(web.contains("ExecStart=/usr/local/bin/keydesk serve --no-worker"));
    let worker = std::fs::read_to_string(common::repo_path("deploy/keydesk-worker.service")).unwrap();
    assert!(worker.contains("ExecStart=/usr/local/bin/keydesk worker"));
}
