//! Where the CLI keeps its base URL and key: `$CONNECTOR_CONFIG`, else
//! `$XDG_CONFIG_HOME/connector/config.json`, else
//! `~/.config/connector/config.json`; the file is mode 0600 and the folders
//! the CLI creates 0700. `CONNECTOR_BASE_URL` and `CONNECTOR_API_KEY`
//! override what the file says.

use crate::error::{Failure, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The API the CLI talks to when none was ever given.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8787";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub base_url: Option<String>,
    pub api_key: Option<String>,
}

/// The config file's path from the environment (`get` reads a variable).
pub fn path_from(get: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let set = |k: &str| get(k).filter(|v| !v.is_empty());
    if let Some(p) = set("CONNECTOR_CONFIG") {
        return Ok(PathBuf::from(p));
    }
    if let Some(x) = set("XDG_CONFIG_HOME") {
        return Ok(Path::new(&x).join("connector").join("config.json"));
    }
    match set("HOME") {
        Some(h) => Ok(Path::new(&h)
            .join(".config")
            .join("connector")
            .join("config.json")),
        None => Err(Failure::Local(
            "cannot tell where to keep the config: set HOME, XDG_CONFIG_HOME or CONNECTOR_CONFIG"
                .into(),
        )),
    }
}

pub fn env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

pub fn path() -> Result<PathBuf> {
    path_from(&env)
}

/// Reads the file; a missing file is an empty config.
pub fn load(path: &Path) -> Result<Stored> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Stored::default()),
        Err(e) => {
            return Err(Failure::Local(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        Failure::Local(format!(
            "{} is not valid JSON ({e}): fix it or run `connector logout`",
            path.display()
        ))
    })?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Stored {
        base_url: text("base_url"),
        api_key: text("api_key"),
    })
}

/// Creates every missing folder above `path` with mode 0700 (existing ones
/// are left as they are).
fn make_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        make_dirs(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        r => r,
    }
}

/// Writes the file with mode 0600: a fresh file beside it, renamed over the
/// old one, so the key is never readable by others, even for a moment.
pub fn save(path: &Path, s: &Stored) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| {
        Failure::Local(format!("cannot {what} {}: {e}", path.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    make_dirs(dir).map_err(|e| fail("create the folder of", e))?;
    let body = serde_json::to_string_pretty(&json!({
        "base_url": s.base_url,
        "api_key": s.api_key,
    }))
    .expect("a JSON object");
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config.json".into()),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| fail("write", e))?;
    // The umask may only narrow the mode; make sure it is exactly 0600.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|_| f.write_all(body.as_bytes()))
        .and_then(|_| f.write_all(b"\n"))
        .and_then(|_| f.sync_all())
        .map_err(|e| fail("write", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail("write", e)
    })
}

/// Removes the file; answers whether there was one.
pub fn remove(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::Local(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}

/// What a command uses: the environment over the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub base_url: String,
    pub api_key: String,
}

pub fn trim_base(u: &str) -> String {
    u.trim().trim_end_matches('/').to_string()
}

/// The base URL alone (the environment over the file, else the default).
pub fn base_from(stored: &Stored, get: &dyn Fn(&str) -> Option<String>) -> String {
    get("CONNECTOR_BASE_URL")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| stored.base_url.clone())
        .map(|b| trim_base(&b))
        .unwrap_or_else(|| DEFAULT_BASE_URL.into())
}

pub fn session_from(stored: &Stored, get: &dyn Fn(&str) -> Option<String>) -> Result<Session> {
    let key = get("CONNECTOR_API_KEY")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| stored.api_key.clone())
        .map(|k| k.trim().to_string())
        .ok_or_else(|| {
            Failure::Auth("not logged in: run `connector login` (or set CONNECTOR_API_KEY)".into())
        })?;
    Ok(Session {
        base_url: base_from(stored, get),
        api_key: key,
    })
}

pub fn session() -> Result<Session> {
    session_from(&load(&path()?)?, &env)
}

/// A key as the CLI ever shows it: `mk_…` and its last four characters.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    if chars.len() < 12 {
        return "…".into();
    }
    match key.split_once('_') {
        Some((prefix, _)) if prefix.len() <= 4 => format!("{prefix}_…{tail}"),
        _ => format!("…{tail}"),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A fresh folder under the system's temporary one.
    pub fn scratch(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let d = std::env::temp_dir().join(format!(
            "connector-cli-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn the_path_follows_connector_config_then_xdg_then_home() {
        let p = path_from(&vars(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")])).unwrap();
        assert_eq!(p, PathBuf::from("/x/connector/config.json"));
        let p = path_from(&vars(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "")])).unwrap();
        assert_eq!(p, PathBuf::from("/h/.config/connector/config.json"));
        let p = path_from(&vars(&[
            ("HOME", "/h"),
            ("XDG_CONFIG_HOME", "/x"),
            ("CONNECTOR_CONFIG", "/c/mine.json"),
        ]))
        .unwrap();
        assert_eq!(p, PathBuf::from("/c/mine.json"));
        assert!(matches!(path_from(&vars(&[])), Err(Failure::Local(_))));
    }

    #[test]
    fn the_file_is_0600_in_a_0700_folder_and_reads_back() {
        let root = scratch("save");
        let p = root.join("deep").join("connector").join("config.json");
        let s = Stored {
            base_url: Some("http://127.0.0.1:8787".into()),
            api_key: Some("mk_AAAAAAAAAAAAAAAAAAAA_secretsecret".into()),
        };
        save(&p, &s).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
        assert_eq!(mode(&root.join("deep")), 0o700);
        assert_eq!(load(&p).unwrap(), s);
        // Saving again over a file someone widened makes it 0600 again.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        save(&p, &s).unwrap();
        assert_eq!(mode(&p), 0o600);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("config.json")]);
        assert!(remove(&p).unwrap());
        assert!(!remove(&p).unwrap());
        assert_eq!(load(&p).unwrap(), Stored::default());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_broken_file_says_how_to_recover() {
        let root = scratch("broken");
        let p = root.join("config.json");
        std::fs::write(&p, "{not json").unwrap();
        match load(&p) {
            Err(Failure::Local(m)) => assert!(m.contains("connector logout"), "{m}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let stored = Stored {
            base_url: Some("https://file.example/".into()),
            api_key: Some("mk_file".into()),
        };
        let s = session_from(&stored, &vars(&[])).unwrap();
        assert_eq!(
            (s.base_url.as_str(), s.api_key.as_str()),
            ("https://file.example", "mk_file")
        );
        let s = session_from(
            &stored,
            &vars(&[
                ("CONNECTOR_BASE_URL", "https://env.example"),
                ("CONNECTOR_API_KEY", "mk_env"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (s.base_url.as_str(), s.api_key.as_str()),
            ("https://env.example", "mk_env")
        );
        assert!(matches!(
            session_from(&Stored::default(), &vars(&[])),
            Err(Failure::Auth(_))
        ));
        assert_eq!(base_from(&Stored::default(), &vars(&[])), DEFAULT_BASE_URL);
    }

    #[test]
    fn keys_are_masked_to_their_last_four() {
        assert_eq!(
            mask("mk_AAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBwxyz"),
            "mk_…wxyz"
        );
        assert_eq!(mask("0123456789abcdef"), "…cdef");
        assert_eq!(mask("short"), "…");
    }
}
