//! jsonschema-valid compiles JSON Schema `pattern`, `patternProperties` and
//! `format: regex` with `regex::Regex::new` and matches with `is_match`.
//! This crate stands in for `regex` there (root Cargo.toml, `[patch]`) and
//! serves both from `regex-lite`: the same author's engine without Unicode
//! tables or the lazy DFA, about 130 KB less Wasm.
//!
//! It is also closer to what a JSON Schema pattern means: patterns are
//! ECMA-262 regular expressions, whose `\d` and `\w` are ASCII, as in
//! regex-lite. Unicode property classes (`\p{…}`) do not compile; a schema
//! using one is reported as having an invalid pattern.

pub use regex_lite::{Error, Regex};
