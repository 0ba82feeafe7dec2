//! The agent gateway's names (API §14): a consumer sees each granted tool as
//! `{alias}_{tool}`. An alias is `^[a-z0-9][a-z0-9-]{0,31}$` and a tool name
//! `^[a-z][a-z0-9_]*$`, so the first `_` always splits a name back into its
//! two parts: two different (alias, tool) pairs never make the same name, and
//! two bindings can only clash through the same alias. Every name matches
//! `^[a-zA-Z0-9_-]{1,64}$`, which every major LLM API accepts.

use super::manifest::Tool;
use serde_json::{json, Value};

/// The longest alias.
pub const ALIAS_MAX: usize = 32;
/// The longest tool name a consumer sees.
pub const NAME_MAX: usize = 64;

/// `^[a-z0-9][a-z0-9-]{0,31}$`.
pub fn valid_alias(a: &str) -> bool {
    let b = a.as_bytes();
    (1..=ALIAS_MAX).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// The alias a binding gets when none is given: the slug of the listing that
/// serves it when it is made (`github`), or, with nothing serving it yet, the
/// noun of its capability (`order.read` → `order`); cut to [`ALIAS_MAX`].
/// Stored with the binding, so it never changes afterwards.
pub fn default_alias(listing_slug: Option<&str>, capability: &str) -> String {
    let base = listing_slug.unwrap_or_else(|| capability.split('.').next().unwrap_or(capability));
    let mut a: String = base
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .take(ALIAS_MAX)
        .collect();
    while a.ends_with('-') {
        a.pop();
    }
    if a.is_empty() {
        a.push_str("tools");
    }
    a
}

/// The name a consumer sees, or `None` when it would be longer than
/// [`NAME_MAX`].
pub fn tool_name(alias: &str, tool: &str) -> Option<String> {
    let name = format!("{alias}_{tool}");
    (name.len() <= NAME_MAX).then_some(name)
}

/// MCP tool annotations from the manifest (never from an upstream server):
/// a tool without side effects is read-only; a side-effecting one is
/// destructive and not idempotent unless its manifest says otherwise (the
/// MCP defaults). Every tool reaches a system outside the service.
pub fn annotations(t: &Tool) -> Value {
    if t.side_effect {
        json!({
            "readOnlyHint": false,
            "destructiveHint": t.destructive.unwrap_or(true),
            "idempotentHint": t.idempotent.unwrap_or(false),
            "openWorldHint": true,
        })
    } else {
        json!({
            "readOnlyHint": true,
            "destructiveHint": false,
            "idempotentHint": true,
            "openWorldHint": true,
        })
    }
}

/// The title shown for a tool: the manifest's, or its name in words.
pub fn title(t: &Tool) -> String {
    t.title.clone().unwrap_or_else(|| {
        let words = t.name.replace('_', " ");
        let mut c = words.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => words,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(valid_alias("github"));
        assert!(valid_alias("crm-2"));
        assert!(!valid_alias(""));
        assert!(!valid_alias("-x"));
        assert!(!valid_alias("a_b"));
        assert!(!valid_alias("GitHub"));
        assert!(!valid_alias(&"a".repeat(33)));
        assert_eq!(default_alias(Some("github"), "issue.read"), "github");
        assert_eq!(default_alias(None, "order.read"), "order");
        assert_eq!(
            default_alias(None, "customer_profile.read"),
            "customer-profile"
        );
        let long = "a".repeat(40);
        assert_eq!(default_alias(Some(&long), "x.y").len(), ALIAS_MAX);
        assert!(valid_alias(&default_alias(Some(&long), "x.y")));
    }

    #[test]
    fn names_split_back_and_stay_within_llm_limits() {
        assert_eq!(
            tool_name("github", "issues_create").unwrap(),
            "github_issues_create"
        );
        assert!(tool_name(&"a".repeat(32), &"b".repeat(32)).is_none());
        let n = tool_name(&"a".repeat(32), &"b".repeat(31)).unwrap();
        assert_eq!(n.len(), 64);
        assert!(n
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
        // The alias ends at the first underscore.
        let (a, t) = "crm-2_get_order".split_once('_').unwrap();
        assert_eq!((a, t), ("crm-2", "get_order"));
    }
}
