//! The publish-time checks of executable tools (API §3) that the schema
//! cannot express: a tool runs the way its listing's transport does
//! (`request` for http, `mcp_tool` or `mcp_method` for mcp, `sql` for
//! database); a request's
//! placeholders name declared config, auth and `input_schema` properties, an
//! argument never sits in the host (nor in `basic_auth`/`signing`), a path
//! argument is required, every declared argument is used; `dry_run` belongs
//! to side-effecting tools and `test_arguments` to read tools (or to a
//! side-effecting tool's dry run), valid against
//! `input_schema`. Every failing field is reported at once.

use super::checks::template_faults;
use super::*;
use crate::domain::tool::{self as tool, ArgPlace};

pub(super) fn check_tools(
    m: &Value,
    config: &BTreeSet<&str>,
    auth: &BTreeSet<&str>,
) -> Result<(), Error> {
    let transport = m["transport"].as_str().unwrap_or_default();
    let mut faults: Vec<(String, String)> = vec![];
    for (i, t) in m["tools"].as_array().into_iter().flatten().enumerate() {
        let at = format!("/tools/{i}");
        let mut fault = |field: &str, message: String| {
            let path = if field.is_empty() {
                at.clone()
            } else {
                format!("{at}/{field}")
            };
            faults.push((path, message));
        };
        let ways: Vec<&str> = ["request", "mcp_tool", "mcp_method", "sql"]
            .into_iter()
            .filter(|f| !t[*f].is_null())
            .collect();
        let wants: &[&str] = match transport {
            "http" => &["request"],
            "mcp" => &["mcp_tool", "mcp_method"],
            "database" => &["sql"],
            _ => &[],
        };
        for way in ways.iter().filter(|w| !wants.contains(w)) {
            let owner = match *way {
                "request" => "http",
                "sql" => "database",
                _ => "mcp",
            };
            fault(
                way,
                format!("{way} is for transport {owner} listings; this listing's transport is {transport}."),
            );
        }
        match ways.iter().filter(|w| wants.contains(w)).count() {
            0 => fault(
                "",
                format!(
                    "a tool of a transport {transport} listing says how it runs in {}.",
                    wants.join(" or ")
                ),
            ),
            1 => {}
            _ => fault(
                "",
                "a tool runs one way: name mcp_tool or mcp_method, not both.".into(),
            ),
        }
        let side_effect = t["side_effect"] == true;
        if !t["dry_run"].is_null() && !side_effect {
            fault(
                "dry_run",
                "dry_run belongs to side-effecting tools; a read tool runs live (test_arguments)."
                    .into(),
            );
        }
        if !t["dry_run"].is_null() && transport != "http" {
            fault(
                "dry_run",
                "dry_run is an HTTP request: only transport http tools have one.".into(),
            );
        }
        if !t["test_arguments"].is_null() && side_effect && t["dry_run"].is_null() {
            fault(
                "test_arguments",
                "test_arguments of a side-effecting tool are for its dry_run, which it does not declare; a side-effecting tool never runs live in a test."
                    .into(),
            );
        }
        if !t["test_output"].is_null()
            && (side_effect || t["request"].is_null() || t["test_arguments"].is_null())
        {
            fault(
                "test_output",
                "test_output says where the answer's text is for a read tool that the test runs live: it needs request and test_arguments, and no side effect."
                    .into(),
            );
        }
        let schema = &t["input_schema"];
        let compiled = jsonschema_valid::Config::from_schema(
            schema,
            Some(jsonschema_valid::schemas::Draft::Draft7),
        );
        if compiled.is_err() {
            fault("input_schema", "the schema does not compile.".into());
            continue;
        }
        let declared: BTreeSet<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut used = BTreeSet::new();
        for field in ["request", "dry_run"] {
            if t[field].is_null() {
                continue;
            }
            let base = format!("{at}/{field}");
            template_faults(&t[field], &base, config, auth, Some(&declared), &mut faults);
            let req: tool::Request = match serde_json::from_value(t[field].clone()) {
                Ok(r) => r,
                Err(e) => {
                    faults.push((base, format!("not a request: {e}.")));
                    continue;
                }
            };
            if req.url.contains('#') {
                faults.push((
                    format!("{base}/url"),
                    "a request URL has no fragment ('#').".into(),
                ));
            }
            for u in tool::args_of(&req) {
                let path = format!("{base}{}", u.pointer);
                let arg = format!("{{{{args.{}}}}}", u.key);
                match u.at {
                    ArgPlace::Host => faults.push((
                        path,
                        format!("{arg} cannot sit in the URL's scheme, host or port: an argument never changes where a request goes."),
                    )),
                    ArgPlace::Credential => faults.push((
                        path,
                        format!("{arg} cannot fill basic_auth or signing: they come from the instance."),
                    )),
                    ArgPlace::Path if !required.contains(u.key.as_str()) => faults.push((
                        path,
                        format!("{arg} fills a path segment, so input_schema must list '{}' in required.", u.key),
                    )),
                    _ => {}
                }
                if field == "request" {
                    used.insert(u.key);
                }
            }
        }
        if !t["request"].is_null() {
            for unused in declared.iter().filter(|k| !used.contains(**k)) {
                faults.push((
                    format!("{at}/input_schema/properties/{unused}"),
                    format!("the request never uses the argument '{unused}': declare only what the request sends."),
                ));
            }
        }
        if let Some(args) = t.get("test_arguments").filter(|a| !a.is_null()) {
            if let Err(e) = tool::validate_arguments(schema, Some(args)) {
                faults.push((
                    format!("{at}/test_arguments"),
                    format!("not valid against input_schema: {e}"),
                ));
            }
        }
    }
    report(faults)
}

/// One error for every fault, like the schema's: the first path is `param`.
fn report(faults: Vec<(String, String)>) -> Result<(), Error> {
    let Some((first, _)) = faults.first().cloned() else {
        return Ok(());
    };
    let noun = if faults.len() == 1 { "field" } else { "fields" };
    let shown: Vec<String> = faults
        .iter()
        .take(MAX_REPORTED)
        .map(|(p, m)| format!("{p}: {}", m.trim_end_matches('.')))
        .collect();
    let more = faults.len().saturating_sub(MAX_REPORTED);
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    Err(bad(
        &first,
        format!("Manifest {noun} {}{tail}.", shown.join("; ")),
    ))
}

/// How many failing fields one answer lists (as for the schema).
const MAX_REPORTED: usize = 10;
