//! What a tool call answers (API §13 `result`): the provider's answer, or the
//! part a JSON pointer selects, capped at a byte size (`truncated` says so);
//! and where a read tool's answer text is (`test_output`), which
//! `POST …/test` quotes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// A read tool's `test_output`: where the text of its answer is, so the
/// connector test can quote it (seed 001's `response`: the agent's reply).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TestOutput {
    /// RFC 6901 pointer into the JSON answer.
    pub pointer: String,
    /// The value at `pointer` is an array: take its last item for which
    /// every pointer → value holds (`{}`: the last item).
    #[serde(default)]
    pub last: Option<Map<String, Value>>,
    /// Where the text is within what was picked.
    #[serde(default)]
    pub text: Option<String>,
}

impl TestOutput {
    /// The answer's text, when the answer has it: a string, a number or
    /// boolean as written, or an array's strings and text blocks
    /// (`{"type": "text", "text": …}`) joined by spaces. Unbounded and
    /// unredacted: the caller quotes it through its snippet.
    pub fn excerpt(&self, body: &[u8]) -> Option<String> {
        let answer: Value = serde_json::from_slice(body).ok()?;
        let mut at = answer.pointer(&self.pointer)?;
        if let Some(want) = &self.last {
            at = at
                .as_array()?
                .iter()
                .rev()
                .find(|item| want.iter().all(|(p, w)| item.pointer(p) == Some(w)))?;
        }
        if let Some(t) = &self.text {
            at = at.pointer(t)?;
        }
        let text = match at {
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) => at.to_string(),
            Value::Array(items) => items
                .iter()
                .filter_map(|i| {
                    i.as_str().or_else(|| {
                        let block = i["type"].is_null() || i["type"] == "text";
                        i["text"].as_str().filter(|_| block)
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
            _ => return None,
        };
        Some(text).filter(|t| !t.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> TestOutput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_last_matching_item_gives_the_text() {
        let ai = spec(json!({"pointer": "/messages", "last": {"/type": "ai"}, "text": "/content"}));
        let answer = json!({"messages": [
            {"type": "human", "content": "hello"},
            {"type": "ai", "content": "first"},
            {"type": "tool", "content": "42"},
            {"type": "ai", "content": [{"type": "text", "text": "echo:"}, {"type": "tool_use", "id": "t"}, "hello"]},
            {"type": "human", "content": "later"}
        ]})
        .to_string();
        assert_eq!(
            ai.excerpt(answer.as_bytes()).as_deref(),
            Some("echo: hello")
        );
        let any_last = spec(json!({"pointer": "/messages", "last": {}, "text": "/content"}));
        assert_eq!(
            any_last.excerpt(answer.as_bytes()).as_deref(),
            Some("later")
        );
        let plain = spec(json!({"pointer": "/messages/1/content"}));
        assert_eq!(plain.excerpt(answer.as_bytes()).as_deref(), Some("first"));
    }

    #[test]
    fn nothing_there_is_no_excerpt() {
        let ai = spec(json!({"pointer": "/messages", "last": {"/type": "ai"}, "text": "/content"}));
        for body in [
            r#"{"__error__": {"error": "ValueError", "message": "boom"}}"#,
            r#"{"messages": [{"type": "human", "content": "hello"}]}"#,
            r#"{"messages": {"type": "ai"}}"#,
            r#"{"messages": [{"type": "ai", "content": {"nested": true}}]}"#,
            r#"{"messages": [{"type": "ai", "content": "  "}]}"#,
            "not json",
        ] {
            assert_eq!(ai.excerpt(body.as_bytes()), None, "{body}");
        }
    }
}
