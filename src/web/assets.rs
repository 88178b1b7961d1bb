//! The pages' templates and static files, compiled into the binary so that a copy of it alone
//! serves every page with its styles, from any directory. Each can be customised without a
//! rebuild: a template or file of the same name in the override directories (`template_dir`,
//! `static_dir`) is used instead of the built-in one.
//!
//! Templates are registered with Tera as `name.html` (for example `queue/list.html`), so Tera
//! escapes every value in them and Rocket answers them as HTML; `Layout::render` adds the
//! suffix. rocket_dyn_templates insists on a template directory that exists, and compiles the
//! templates it finds there on their own — an override that extends the built-in base would
//! fail. So it is given an empty directory of its own (`engine_root`), and the built-in and
//! the overriding templates are registered together, in its callback.

use rocket::fairing::Fairing;
use rocket::http::ContentType;
use rocket::response::Responder;
use rocket_dyn_templates::Template;
use rust_embed::RustEmbed;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct BuiltinTemplates;

#[derive(RustEmbed)]
#[folder = "static/"]
struct BuiltinStatic;

/// The empty directory rocket_dyn_templates is pointed at (see above), made if missing.
pub fn engine_root(config: &crate::config::Config) -> std::io::Result<PathBuf> {
    let root = config.data_dir.join(".template-engine");
    crate::private_files::create_private_dir(&root)?;
    Ok(root)
}

/// The name a template file is registered under: `queue/list.html.tera` → `queue/list.html`.
fn template_name(file: &str) -> Option<&str> {
    file.strip_suffix(".tera").filter(|name| name.ends_with(".html"))
}

/// The template engine, with the built-in templates and, over them, any in `override_dir`.
pub fn templates(override_dir: PathBuf) -> impl Fairing {
    Template::try_custom(move |engines| {
        let mut sources: Vec<(String, String)> = Vec::new();
        for file in BuiltinTemplates::iter() {
            let (Some(name), Some(embedded)) = (template_name(&file), BuiltinTemplates::get(&file)) else { continue };
            sources.push((name.to_owned(), String::from_utf8(embedded.data.into_owned())?));
        }
        let overrides = if override_dir.is_dir() { overriding_templates(&override_dir)? } else { Vec::new() };
        for (name, source) in overrides {
            sources.retain(|(builtin, _)| *builtin != name);
            sources.push((name, source));
        }
        // All at once, so that each template's base is known when it is added.
        engines.tera.add_raw_templates(sources)?;
        Ok(())
    })
}

/// `*.html.tera` files under `dir`, named as the built-in ones are.
fn overriding_templates(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if let Some(name) = template_name(&relative) {
                found.push((name.to_owned(), std::fs::read_to_string(&path)?));
            }
        }
    }
    Ok(found)
}

/// A built-in static file, by its path under `/static` (an override, when there is one, is
/// served before this by a `FileServer` on the override directory).
#[derive(Responder)]
pub struct BuiltinFile {
    body: Cow<'static, [u8]>,
    content_type: ContentType,
}

#[rocket::get("/static/<path..>", rank = 20)]
pub fn builtin_static(path: PathBuf) -> Option<BuiltinFile> {
    let name = path.to_str()?;
    let file = BuiltinStatic::get(name)?;
    let content_type = path.extension().and_then(|e| e.to_str()).and_then(ContentType::from_extension);
    Some(BuiltinFile { body: file.data, content_type: content_type.unwrap_or(ContentType::Binary) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_and_the_stylesheet_are_built_in() {
        assert_eq!(template_name("queue/list.html.tera"), Some("queue/list.html"));
        assert_eq!(template_name("notes.txt.tera"), None);
        let names: Vec<String> = BuiltinTemplates::iter().map(|n| n.into_owned()).collect();
        assert!(names.iter().any(|n| n == "base.html.tera"), "{names:?}");
        assert!(names.iter().any(|n| n == "queue/ticket.html.tera"), "{names:?}");
        assert!(BuiltinStatic::get("keydesk.css").is_some());
        assert!(BuiltinStatic::get("vendor/pico/pico.min.css").is_some());
    }
}
