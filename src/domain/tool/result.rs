//! What a tool call answers (API §13 `result`): the provider's answer, or the
//! part a JSON pointer selects, capped at a byte size (`truncated` says so).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The cap when a tool's `result` names none.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;

/// A tool's `result`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ResultSpec {
    /// RFC 6901 pointer into the JSON answer; absent: all of it.
    #[serde(default)]
    pub pointer: Option<String>,
    #[serde(default)]
    pub max_bytes: Option<usize>,
}

/// A shaped answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Shaped {
    pub value: Value,
    pub truncated: bool,
}

impl ResultSpec {
    /// Shapes a provider's answer: JSON is selected by the pointer (nothing
    /// there: `null`), anything else is kept as text. Over the cap, an array
    /// keeps its leading items that fit, anything else becomes the leading
    /// bytes of its JSON text (cut on a character boundary).
    pub fn apply(&self, body: &[u8]) -> Shaped {
        let max = self.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
        let value = match serde_json::from_slice::<Value>(body) {
            Ok(v) => match &self.pointer {
                Some(p) => v.pointer(p).cloned().unwrap_or(Value::Null),
                None => v,
            },
            Err(_) if body.is_empty() => Value::Null,
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        };
        cap(value, max)
    }
}

fn cap(value: Value, max: usize) -> Shaped {
    let size = |v: &Value| v.to_string().len();
    if size(&value) <= max {
        return Shaped {
            value,
            truncated: false,
        };
    }
    let value = match value {
        Value::Array(items) => {
            let mut kept = vec![];
            let mut used = 2;
            for item in items {
                let n = size(&item) + usize::from(!kept.is_empty());
                if used + n > max {
                    break;
                }
                used += n;
                kept.push(item);
            }
            Value::Array(kept)
        }
        Value::String(s) => Value::String(prefix(&s, max.saturating_sub(2)).to_string()),
        other => Value::String(prefix(&other.to_string(), max.saturating_sub(2)).to_string()),
    };
    Shaped {
        value,
        truncated: true,
    }
}

fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
