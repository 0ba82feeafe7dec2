//! The checks a manifest passes before it is published: its schema (every
//! failing field reported at once) and what a schema cannot express (unique
//! tool names, declared capabilities and placeholders, https OAuth URLs,
//! executable tools (`tools.rs`), and every credential-bearing URL, tool
//! requests included, on a host the listing binds).

use super::*;

pub(super) fn check_schema(value: &Value) -> Result<(), Error> {
    let schema: Value =
        serde_json::from_str(&schema_text()).expect("the bundled manifest schema is JSON");
    let cfg = jsonschema_valid::Config::from_schema(
        &schema,
        Some(jsonschema_valid::schemas::Draft::Draft7),
    )
    .expect("the bundled manifest schema compiles");
    let result = cfg.validate(value);
    if let Err(errors) = result {
        let errors: Vec<_> = errors.collect();
        // Every failing field is reported at once, deepest first; a oneOf or
        // anyOf failure whose branches report deeper errors adds nothing.
        // `param` is the deepest, most specific field.
        let mut found: Vec<(String, String)> = errors
            .iter()
            .filter(|e| {
                let combinator =
                    matches!(e.msg.as_str(), "anyOf failed" | "nothing matched in oneOf");
                !(combinator
                    && errors.iter().any(|o| {
                        o.instance_path.len() > e.instance_path.len()
                            && o.instance_path.ends_with(&e.instance_path)
                    }))
            })
            .map(|e| (pointer(&e.instance_path), describe(e)))
            .collect();
        found.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
        found.dedup();
        let (path, _) = found
            .first()
            .cloned()
            .expect("an Err carries at least one error");
        let shown: Vec<String> = found
            .iter()
            .take(MAX_REPORTED)
            .map(|(p, m)| format!("{p}: {m}"))
            .collect();
        let more = found.len().saturating_sub(MAX_REPORTED);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        let noun = if found.len() == 1 { "field" } else { "fields" };
        return Err(bad(
            &path,
            format!("Manifest {noun} {}{tail}.", shown.join("; ")),
        ));
    }
    Ok(())
}

/// How many failing fields one answer lists.
const MAX_REPORTED: usize = 10;

/// A schema error in words, with the pattern a string failed to match.
fn describe(e: &jsonschema_valid::ValidationError) -> String {
    let msg = e.msg.trim_end_matches('.');
    match (&e.schema, msg) {
        (Some(Value::String(pattern)), "Does not match pattern") => {
            format!("does not match the pattern {pattern}")
        }
        _ => msg.to_string(),
    }
}

/// jsonschema-valid records paths leaf first.
fn pointer(reversed: &[String]) -> String {
    if reversed.is_empty() {
        return "/".into();
    }
    reversed.iter().rev().fold(String::new(), |mut s, seg| {
        s.push('/');
        s.push_str(&seg.replace('~', "~0").replace('/', "~1"));
        s
    })
}

pub(super) fn check_semantics(m: &Value, allow: &AllowList) -> Result<(), Error> {
    let capabilities: BTreeSet<&str> = m["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut tool_names = BTreeSet::new();
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        let name = tool["name"].as_str().unwrap_or_default();
        if !tool_names.insert(name) {
            return Err(bad(
                &format!("/tools/{i}/name"),
                format!("Manifest field /tools/{i}/name: the tool name '{name}' is used twice."),
            ));
        }
        for hint in ["destructive", "idempotent"] {
            if tool["side_effect"] == false && !tool[hint].is_null() {
                return Err(bad(
                    &format!("/tools/{i}/{hint}"),
                    format!("Manifest field /tools/{i}/{hint}: only a side-effecting tool declares '{hint}' (a read tool is neither)."),
                ));
            }
        }
        let cap = tool["capability"].as_str().unwrap_or_default();
        if !capabilities.contains(cap) {
            return Err(bad(
                &format!("/tools/{i}/capability"),
                format!("Manifest field /tools/{i}/capability: '{cap}' is not one of the listing's capabilities."),
            ));
        }
    }
    let config_keys: BTreeSet<&str> = m["config_schema"]["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let auth_keys: BTreeSet<&str> = m["auth"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["key"].as_str())
        .collect();
    for section in ["verify", "health", "mcp", "allowed_hosts", "token_exchange"] {
        check_templates(
            &m[section],
            &format!("/{section}"),
            &config_keys,
            &auth_keys,
        )?;
    }
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        check_templates(
            &tool["probe"],
            &format!("/tools/{i}/probe"),
            &config_keys,
            &auth_keys,
        )?;
    }
    for field in ["authorize_url", "token_url"] {
        check_templates(
            &m["oauth"][field],
            &format!("/oauth/{field}"),
            &config_keys,
            &BTreeSet::new(),
        )?;
    }
    for (k, p) in m["config_schema"]["properties"]
        .as_object()
        .into_iter()
        .flatten()
    {
        // A default may be built from other config values (an endpoint
        // from the region); never from a credential.
        check_templates(
            &p["default"],
            &format!(
                "/config_schema/properties/{}/default",
                k.replace('~', "~0").replace('/', "~1")
            ),
            &config_keys,
            &BTreeSet::new(),
        )?;
    }
    super::tools::check_tools(m, &config_keys, &auth_keys)?;
    check_signing_keys(m, &auth_keys)?;
    check_credential_hosts(m, allow)?;
    for field in ["authorize_url", "token_url"] {
        // A template (`{{config.login_url}}/…`) is checked when rendered:
        // the guard refuses plain http outside the development allow-list.
        if let Some(u) = m["oauth"][field].as_str().filter(|u| !u.starts_with("{{")) {
            let ok = url::Url::parse(u).is_ok_and(|p| {
                p.host().is_some()
                    && (p.scheme() == "https"
                        || (p.scheme() == "http"
                            && allow.contains(
                                p.host_str().unwrap_or_default(),
                                p.port_or_known_default().unwrap_or(80),
                            )))
            });
            if !ok {
                return Err(bad(
                    &format!("/oauth/{field}"),
                    format!("Manifest field /oauth/{field}: '{u}' is not an absolute https URL."),
                ));
            }
        }
    }
    Ok(())
}

/// The URL templates of a manifest that can carry a credential, with their
/// JSON path: probes and tool requests (`request`, `dry_run`) using
/// `{{auth.*}}` or `signing` (for OAuth listings and listings with a `token_exchange`,
/// verify, health and every tool request always: the access token is added
/// to them), the MCP endpoint of a listing with credentials, the token
/// exchange and the OAuth endpoints.
pub fn credential_urls(m: &Value) -> Vec<(String, String)> {
    let mode = m["auth"]["mode"].as_str().unwrap_or("none");
    let oauth = matches!(mode, "oauth2" | "mcp_oauth") || m["token_exchange"].is_object();
    // A signed request (AWS SigV4) carries the key pair without naming it.
    let carries =
        |probe: &Value| probe.to_string().contains("{{auth.") || probe["signing"].is_object();
    let mut out = vec![];
    let mut push = |path: String, url: &Value| {
        if let Some(u) = url.as_str() {
            out.push((path, u.to_string()));
        }
    };
    for section in ["verify", "health"] {
        let p = &m[section];
        if p.is_object() && (oauth || carries(p)) {
            push(format!("/{section}/url"), &p["url"]);
        }
    }
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        if carries(&tool["probe"]) {
            push(format!("/tools/{i}/probe/url"), &tool["probe"]["url"]);
        }
        for field in ["request", "dry_run"] {
            let r = &tool[field];
            if r.is_object() && (oauth || carries(r)) {
                push(format!("/tools/{i}/{field}/url"), &r["url"]);
            }
        }
    }
    if mode != "none" {
        push("/mcp/url".into(), &m["mcp"]["url"]);
    }
    push("/token_exchange/url".into(), &m["token_exchange"]["url"]);
    for field in ["authorize_url", "token_url"] {
        push(format!("/oauth/{field}"), &m["oauth"][field]);
    }
    out
}

/// `signing` signs with `auth.username` (the access key id) and
/// `auth.password` (the secret access key): a listing that signs declares both.
fn check_signing_keys(m: &Value, auth: &BTreeSet<&str>) -> Result<(), Error> {
    let mut signed = vec![];
    for section in ["verify", "health"] {
        signed.push((format!("/{section}/signing"), &m[section]["signing"]));
    }
    for (i, tool) in m["tools"].as_array().into_iter().flatten().enumerate() {
        for field in ["request", "dry_run", "probe"] {
            signed.push((
                format!("/tools/{i}/{field}/signing"),
                &tool[field]["signing"],
            ));
        }
    }
    let keys_declared = auth.contains("username") && auth.contains("password");
    match signed.into_iter().find(|(_, s)| s.is_object()) {
        Some((path, _)) if !keys_declared => Err(bad(
            &path,
            format!("Manifest field {path}: signing uses auth.username (access key id) and auth.password (secret access key), which /auth/fields must declare (auth mode basic)."),
        )),
        _ => Ok(()),
    }
}

/// The host part of a URL template (`https://{{config.sub}}.x.com/…` →
/// `{{config.sub}}.x.com`), without a port; `None` when it starts with a
/// placeholder (the base URL).
fn template_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    Some(host.to_ascii_lowercase())
}

/// API §3: every host a credential-bearing template can reach is named in
/// the listing's `allowed_hosts` (or is a development pair of
/// `PROBE_ALLOW_HOSTS`, like a local fake's OAuth endpoints).
fn check_credential_hosts(m: &Value, allow: &AllowList) -> Result<(), Error> {
    let urls = credential_urls(m);
    let Some((first, _)) = urls.first() else {
        return Ok(());
    };
    let Some(hosts) = m["allowed_hosts"].as_array() else {
        return Err(bad(
            "/allowed_hosts",
            format!("Manifest field /allowed_hosts: the listing sends a credential ({first}), so it must name the hosts it may go to."),
        ));
    };
    let hosts: Vec<&str> = hosts.iter().filter_map(Value::as_str).collect();
    let literal: Vec<&str> = hosts
        .iter()
        .copied()
        .filter(|h| !h.starts_with("{{"))
        .collect();
    for (path, url) in &urls {
        match template_host(url) {
            None => {
                let slot = url
                    .strip_prefix("{{")
                    .and_then(|r| r.split_once("}}"))
                    .map(|(s, _)| s.trim())
                    .unwrap_or_default();
                let named = hosts
                    .iter()
                    .any(|h| h.trim_start_matches("{{").trim_end_matches("}}").trim() == slot);
                if !named && literal.is_empty() {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to the host of {{{{{slot}}}}}, which /allowed_hosts does not cover: add \"{{{{{slot}}}}}\" (self-hosted instances) or the provider's hosts."),
                    ));
                }
            }
            Some(h) if h.contains("{{") => {
                if literal.is_empty() {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to a host built from config, which /allowed_hosts must name (exact hosts or '*.' patterns)."),
                    ));
                }
            }
            Some(h) => {
                let dev_pair = url::Url::parse(url)
                    .is_ok_and(|u| allow.contains(&h, u.port_or_known_default().unwrap_or(443)));
                if !dev_pair
                    && !literal
                        .iter()
                        .any(|p| crate::probe::run::host_matches(p, &h))
                {
                    return Err(bad(
                        path,
                        format!("Manifest field {path}: a credential goes to '{h}', which /allowed_hosts does not name."),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Every `{{…}}` in a probe must name a declared config property or auth field.
fn check_templates(
    v: &Value,
    path: &str,
    config: &BTreeSet<&str>,
    auth: &BTreeSet<&str>,
) -> Result<(), Error> {
    let mut faults = vec![];
    template_faults(v, path, config, auth, None, &mut faults);
    match faults.into_iter().next() {
        Some((path, message)) => Err(bad(&path, format!("Manifest field {path}: {message}"))),
        None => Ok(()),
    }
}

/// The placeholders of `v` (any JSON; every string is a template) that
/// name nothing declared, as (path, message). `args`: the arguments a tool
/// request may use (`None`: none, outside tool requests).
pub(super) fn template_faults(
    v: &Value,
    path: &str,
    config: &BTreeSet<&str>,
    auth: &BTreeSet<&str>,
    args: Option<&BTreeSet<&str>>,
    out: &mut Vec<(String, String)>,
) {
    match v {
        Value::String(s) => match placeholders(s) {
            Err(m) => out.push((path.to_string(), m)),
            Ok(found) => {
                for placeholder in found {
                    let known = match (placeholder.split_once('.'), args) {
                        (Some(("config", k)), _) => config.contains(k),
                        (Some(("auth", k)), _) => auth.contains(k),
                        (Some(("args", k)), Some(args)) => args.contains(k),
                        _ => false,
                    };
                    if !known {
                        let declared = if args.is_some() {
                            "no declared config property, auth field or input_schema property"
                        } else {
                            "no declared config property or auth field"
                        };
                        out.push((
                            path.to_string(),
                            format!("the placeholder '{{{{{placeholder}}}}}' names {declared}."),
                        ));
                    }
                }
            }
        },
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                template_faults(x, &format!("{path}/{i}"), config, auth, args, out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                template_faults(x, &format!("{path}/{k}"), config, auth, args, out);
            }
        }
        _ => {}
    }
}

/// The trimmed contents of each `{{…}}` in a template.
pub fn placeholders(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a '{{' placeholder is never closed.".to_string())?;
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(out)
}
