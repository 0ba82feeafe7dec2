//! Cursor pagination (API §2): `limit` 1–100 (default 20) and an opaque
//! `cursor` that encodes the sort key of the last item of the previous page.

use super::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;
const CURSOR_VERSION: &str = "c1:";

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The sort key after which the page starts; `None` for the first page.
    pub after: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(DEFAULT_LIMIT)
    }
}

impl PageRequest {
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "limit",
                        format!("Invalid limit '{s}': expected an integer from 1 to {MAX_LIMIT}."),
                    )
                })?,
        };
        let after = cursor.map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }

    pub fn first(limit: usize) -> Self {
        Self { limit, after: None }
    }
}

pub fn encode_cursor(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{sort_key}"))
}

pub fn decode_cursor(s: &str) -> Result<String, Error> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(CURSOR_VERSION).map(str::to_string))
        .ok_or_else(|| {
            Error::invalid(
                "cursor",
                "Invalid cursor: pass the next_cursor of a previous page unchanged.",
            )
        })
}

/// One page of a list answer, in the envelope of API §2.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items already sorted and already
    /// past the cursor; the extra item only tells whether there is more.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Self {
        let has_more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if has_more {
            items.last().map(|t| encode_cursor(&key(t)))
        } else {
            None
        };
        Page {
            object: "list",
            data: items,
            has_more,
            next_cursor,
            total: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(PageRequest::parse(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "x", "", "1.5"] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert!(
                matches!(err, Error::InvalidParameter { ref param, .. } if param == "limit"),
                "{bad}"
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("2026-01-01T00:00:00.000Z|key_1");
        assert_eq!(
            PageRequest::parse(None, Some(&c)).unwrap().after.as_deref(),
            Some("2026-01-01T00:00:00.000Z|key_1")
        );
        for bad in ["!!", "Zm9v", "", "YzE"] {
            assert!(PageRequest::parse(None, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn overfetch_sets_has_more_and_cursor() {
        let p = Page::from_overfetch(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(p.data, vec![1, 2]);
        assert!(p.has_more);
        assert_eq!(p.next_cursor, Some(encode_cursor("2")));
        let p = Page::from_overfetch(vec![1, 2], 2, |n| n.to_string());
        assert!(!p.has_more && p.next_cursor.is_none());
    }
}
