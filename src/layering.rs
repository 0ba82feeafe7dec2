//! The layering rule (STYLE.md): dependencies point inward. Nothing outside
//! `routes/` (and the edge, `lib.rs`) imports the HTTP layer, and the domain
//! imports no platform crate; the application layer knows no HTTP; status
//! codes are chosen in one place; route handlers stay adapters. Checked on
//! the source text, so a change that breaks the rule fails `cargo test`.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("a source folder") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Code lines only: comments may name any module.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The needles are built at run time, so this file never matches itself.
fn path(a: &str, b: &str) -> String {
    format!("{a}::{b}")
}

fn offenders(under: &str, skip: &[&str], needles: &[String]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    sources(&root.join(under), &mut files);
    let mut found = vec![];
    for f in files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if skip
            .iter()
            .any(|s| rel == *s || rel.starts_with(&format!("{s}/")))
        {
            continue;
        }
        let text = code(&std::fs::read_to_string(&f).unwrap());
        for n in needles {
            if text.contains(n) {
                found.push(format!("src/{rel} uses `{n}`"));
            }
        }
    }
    found
}

#[test]
fn nothing_below_the_http_layer_imports_it() {
    let found = offenders(
        "",
        &["routes", "lib.rs"],
        &[
            path("crate", "routes"),
            path("super", "routes"),
            path("routes", ""),
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_domain_imports_no_platform_crate() {
    let found = offenders(
        "domain",
        &[],
        &[
            path("worker", ""),
            format!("wasm_{}", "bindgen"),
            format!("js_{}", "sys"),
            format!("web_{}", "sys"),
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_application_layer_knows_no_http() {
    let found = offenders(
        "app",
        &[],
        &[
            format!("Http{}", "Request"),
            format!("Http{}", "Response"),
            format!("Api{}", "Error"),
            path("worker", ""),
            format!("wasm_{}", "bindgen"),
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn every_status_code_lives_in_the_error_mapping() {
    // Statuses and codes are chosen in routes/error.rs from domain errors;
    // an `ApiError::new` anywhere else would pick one on its own.
    let found = offenders(
        "",
        &["routes/error.rs"],
        &[format!("{}(", path("ApiError", "new"))],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn route_handlers_are_adapters() {
    // Parse → use case → render: a handler that grows past this holds logic
    // that belongs in `app/`. The HTTP machinery itself (the router, the
    // extractors, the guarded write, the error mapping) is not a handler.
    const MAX_LINES: usize = 45;
    let mut files = vec![];
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes"),
        &mut files,
    );
    let mut long = vec![];
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if f.components().any(|c| c.as_os_str() == "tests")
            || ["mod.rs", "extract.rs", "write.rs", "error.rs", "http.rs"].contains(&name.as_str())
        {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if let Some(rest) = l.strip_prefix("pub async fn ") {
                let end = lines[i..].iter().position(|l| *l == "}").unwrap_or(0);
                if end + 1 > MAX_LINES {
                    let fn_name = rest.split('(').next().unwrap_or(rest);
                    long.push(format!("{name}: {fn_name} has {} lines", end + 1));
                }
            }
        }
    }
    assert!(long.is_empty(), "{long:#?}");
}
