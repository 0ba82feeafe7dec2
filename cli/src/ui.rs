//! Output for people: tables, a spinner on stderr, small formatting helpers.

use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A spinner on stderr for anything slower than a second, only when stderr
/// is a terminal. Stopped (and its line cleared) when dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

impl Spinner {
    pub fn start(what: &str) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Spinner { stop, thread: None };
        }
        let (flag, what) = (stop.clone(), what.to_string());
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(1) {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            let mut i = 0;
            let mut err = std::io::stderr();
            while !flag.load(Ordering::Relaxed) {
                let _ = write!(
                    err,
                    "\r{} {what} ({}s)",
                    FRAMES[i % FRAMES.len()],
                    started.elapsed().as_secs()
                );
                let _ = err.flush();
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        Spinner {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Display width of a cell (characters; the CLI prints no wide glyphs).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Shortens `s` to at most `max` characters, ending in `…` when cut; keeps
/// one line.
pub fn clip(s: &str, max: usize) -> String {
    let one: String = s
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if width(&one) <= max {
        return one;
    }
    let mut out: String = one.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A plain-text table: a header row, then one row per item, columns padded
/// to their widest cell (the last column is not padded).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let n = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            widths[i] = widths[i].max(width(c));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - width(c) + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for r in rows {
        let cells: Vec<&str> = (0..n)
            .map(|i| r.get(i).map_or("", |c| c.as_str()))
            .collect();
        out.push_str(&line(cells));
        out.push('\n');
    }
    out
}

/// A JSON value as a table cell: strings bare, null empty, others compact.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string(),
    }
}

pub fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// A yes/no/unknown mark.
pub fn mark(v: &Value) -> &'static str {
    match v.as_bool() {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "?",
    }
}

/// Prints the API's JSON as it came (for `--json`).
pub fn print_raw(body: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(body);
    if !body.ends_with(b"\n") {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// A list page's footer: how many, and how to get the next page.
pub fn page_footer(v: &Value, shown: usize, noun: &str) -> String {
    let total = v.get("total").and_then(Value::as_u64);
    let mut s = match total {
        Some(t) => format!("{shown} of {t} {noun}"),
        None => format!("{shown} {noun}"),
    };
    if v.get("has_more").and_then(Value::as_bool) == Some(true) {
        if let Some(c) = v.get("next_cursor").and_then(Value::as_str) {
            s.push_str(&format!(" · next page: --cursor {c}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_pad_columns_to_the_widest_cell() {
        let t = table(
            &["ID", "NAME", "STATUS"],
            &[
                vec!["cn_1".into(), "shop".into(), "connected".into()],
                vec!["cn_22222".into(), "ü-store".into(), "".into()],
            ],
        );
        assert_eq!(
            t,
            "ID        NAME     STATUS\n\
             cn_1      shop     connected\n\
             cn_22222  ü-store\n"
        );
    }

    #[test]
    fn a_table_without_rows_is_its_header() {
        assert_eq!(table(&["A", "B"], &[]), "A  B\n");
    }

    #[test]
    fn cells_are_clipped_to_one_line() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a\nb", 10), "a b");
        assert_eq!(clip("abcdefghijk", 5), "abcd…");
        assert_eq!(width(&clip("ééééééééé", 4)), 4);
    }

    #[test]
    fn json_values_become_cells() {
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!("x")), "x");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(cell(&json!({"a": 1})), "{\"a\":1}");
        assert_eq!(mark(&json!(true)), "✓");
        assert_eq!(mark(&json!(null)), "?");
    }

    #[test]
    fn the_footer_says_how_to_page_on() {
        let v = json!({"total": 30, "has_more": true, "next_cursor": "abc"});
        assert_eq!(
            page_footer(&v, 20, "listings"),
            "20 of 30 listings · next page: --cursor abc"
        );
        let v = json!({"has_more": false, "next_cursor": null});
        assert_eq!(page_footer(&v, 2, "connectors"), "2 connectors");
    }
}
