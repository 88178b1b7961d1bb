//! Where a sign-in ends: the page the person was going to (a link in an email, a shared
//! ticket), when it is a safe path on this site, else their role's own start page. The page
//! they were going to is kept in a private cookie from the moment a page sent them to log
//! in, so it survives the second-factor step too.

use keydesk_core::{OrgRole, Role, StaffRole};
use rocket::http::{Cookie, CookieJar, SameSite};

const NEXT_COOKIE: &str = "keydesk_next";
const MAX_NEXT_CHARS: usize = 512;

/// `next` when it is a path on this site worth returning to: it starts with one `/` (not
/// `//` or `/\`, which browsers read as another host), has no scheme, no control
/// characters, and is not a sign-in page itself.
pub fn safe_next(next: &str) -> Option<&str> {
    let path_only = next.split(['?', '#']).next().unwrap_or_default();
    let sign_in_pages = ["/login", "/logout", "/login/code"];
    (next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= MAX_NEXT_CHARS
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !sign_in_pages.contains(&path_only))
    .then_some(next)
}

/// Each role's start page: agents the queue, managers the reports, owners and admins Manage
/// Users; everyone else the home page.
pub fn start_page(role: Role) -> &'static str {
    match role {
        Role::Staff(StaffRole::Agent) => "/queue",
        Role::Staff(StaffRole::Manager) => "/reports",
        Role::Org(OrgRole::Owner | OrgRole::Admin) => "/org/users",
        _ => "/",
    }
}

/// Remembers where the person was going (ignored when unsafe).
pub fn remember(cookies: &CookieJar<'_>, next: &str) {
    if let Some(next) = safe_next(next) {
        let mut cookie = Cookie::new(NEXT_COOKIE, next.to_owned());
        cookie.set_same_site(SameSite::Lax);
        cookie.set_http_only(true);
        cookie.set_path("/");
        cookies.add_private(cookie);
    }
}

/// Where to go now the sign-in is complete; forgets the remembered page.
pub fn after_sign_in(cookies: &CookieJar<'_>, role: Role) -> String {
    let remembered = cookies.get_private(NEXT_COOKIE).map(|c| c.value().to_owned());
    cookies.remove_private(NEXT_COOKIE);
    remembered.as_deref().and_then(safe_next).map_or_else(|| start_page(role).to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        for good in ["/tickets/42", "/org/users/7/unlock", "/queue?q=jane%40acme.test", "/reports#sla"] {
            assert_eq!(safe_next(good), Some(good), "{good}");
        }
        for bad in [
            "https://evil.test/",
            "//evil.test/x",
            "/\\evil.test",
            "javascript:alert(1)",
            "tickets/42",
            "",
            "/login",
            "/login?next=/x",
            "/logout",
            "/a\r\nSet-Cookie: x",
            "/a\\b",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(600))), None);
    }

    #[test]
    fn each_role_starts_on_its_own_page() {
        assert_eq!(start_page(Role::Staff(StaffRole::Agent)), "/queue");
        assert_eq!(start_page(Role::Staff(StaffRole::Manager)), "/reports");
        assert_eq!(start_page(Role::Staff(StaffRole::Operator)), "/");
        assert_eq!(start_page(Role::Org(OrgRole::Owner)), "/org/users");
        assert_eq!(start_page(Role::Org(OrgRole::Admin)), "/org/users");
        assert_eq!(start_page(Role::Org(OrgRole::Member)), "/");
    }
}
