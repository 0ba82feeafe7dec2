//! Every file under `catalog/` must pass; deliberately broken manifests must
//! fail with the JSON path of the fault.

use super::*;
use serde_json::json;
use std::path::Path;

fn catalog_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("catalog/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.schema.json"))
        .map(|p| {
            let id = p.file_stem().unwrap().to_string_lossy().into_owned();
            (id, std::fs::read_to_string(&p).expect("readable manifest"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_catalog_manifest_is_valid() {
    let files = catalog_files();
    assert!(files.len() >= 16, "only {} manifests", files.len());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|(id, raw)| {
            validate(raw, Some(id))
                .err()
                .map(|e| format!("catalog/{id}.json: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_catalog_covers_what_the_marketplace_promises() {
    let all: Vec<ListingSummary> = catalog_files()
        .iter()
        .map(|(id, raw)| validate(raw, Some(id)).unwrap().summary)
        .collect();
    for id in [
        "github",
        "gitlab",
        "slack",
        "notion",
        "linear",
        "jira",
        "stripe",
        "postgresql",
        "mysql",
        "mongodb-atlas",
        "magento",
        "kustomer",
        "amazon-connect",
        "salesforce",
        "google-drive",
    ] {
        assert!(all.iter().any(|l| l.id == id), "missing {id}");
    }
    let modes: BTreeSet<&str> = all.iter().map(|l| l.auth_mode.as_str()).collect();
    for mode in [
        "pat",
        "api_key",
        "basic",
        "conn_string",
        "oauth2",
        "mcp_oauth",
        "none",
    ] {
        assert!(modes.contains(mode), "no listing with auth mode {mode}");
    }
    assert!(all.iter().any(|l| l.availability == "early_access"));
    assert!(all.iter().any(|l| l.pricing["model"] == "paid"));
    assert!(all.iter().filter(|l| l.featured).count() >= 3);
    assert_eq!(
        validate(&catalog_files()[0].1, Some("not-this")).unwrap_err(),
        bad(
            "/id",
            format!(
                "The manifest id '{}' does not match 'not-this'.",
                catalog_files()[0].0
            )
        )
    );
}

fn github() -> Value {
    let raw = catalog_files()
        .into_iter()
        .find(|(id, _)| id == "github")
        .expect("github manifest")
        .1;
    serde_json::from_str(&raw).unwrap()
}

fn path_of(v: &Value) -> String {
    match validate(&v.to_string(), None) {
        Err(Error::InvalidManifest { path, .. }) => path,
        other => panic!("expected a manifest error, got {other:?}"),
    }
}

#[test]
fn broken_manifests_name_the_field() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("/id", Box::new(|m| m["id"] = json!("Not A Slug"))),
        (
            "/capabilities/0",
            Box::new(|m| m["capabilities"][0] = json!("repoRead")),
        ),
        (
            "/brand_color",
            Box::new(|m| m["brand_color"] = json!("red")),
        ),
        ("/version", Box::new(|m| m["version"] = json!("one"))),
        ("/kind", Box::new(|m| m["kind"] = json!("toaster"))),
        (
            "/tools/1/name",
            Box::new(|m| {
                let first = m["tools"][0]["name"].clone();
                m["tools"][1]["name"] = first;
            }),
        ),
        (
            "/tools/0/capability",
            Box::new(|m| m["tools"][0]["capability"] = json!("nothing.here")),
        ),
        (
            "/verify/url",
            Box::new(|m| m["verify"]["url"] = json!("{{config.nope}}/user")),
        ),
        (
            "/verify/url",
            Box::new(|m| m["verify"]["url"] = json!("{{config.base_url/user")),
        ),
        // Config patterns must compile as the validator will compile them:
        // ECMA-262-like, no Unicode property classes, balanced groups.
        (
            "/config_schema/properties/base_url/pattern",
            Box::new(|m| {
                m["config_schema"]["properties"]["base_url"]["pattern"] = json!("^\\p{L}+$")
            }),
        ),
        (
            "/config_schema/properties/base_url/pattern",
            Box::new(|m| {
                m["config_schema"]["properties"]["base_url"]["pattern"] = json!("^(https://")
            }),
        ),
    ];
    for (want, mutate) in cases {
        let mut m = github();
        mutate(&mut m);
        assert_eq!(path_of(&m), want, "{m}");
    }
    let mut m = github();
    m.as_object_mut().unwrap().remove("id");
    assert!(validate(&m.to_string(), None).is_err());
    let mut m = github();
    m["surprise"] = json!(1);
    assert!(validate(&m.to_string(), None).is_err());
    assert!(matches!(
        validate("{\"id\": ", None),
        Err(Error::InvalidManifest { ref message, .. }) if message.contains("line 1")
    ));
}

#[test]
fn placeholders_are_extracted() {
    assert_eq!(
        placeholders("{{config.base_url}}/x/{{ auth.token }}").unwrap(),
        vec!["config.base_url", "auth.token"]
    );
    assert!(placeholders("{{oops").is_err());
    assert!(placeholders("no placeholders").unwrap().is_empty());
}

#[test]
fn versions_order_as_semver() {
    use std::cmp::Ordering::*;
    for (a, b, want) in [
        ("1.0.0", "1.0.0", Equal),
        ("1.0.10", "1.0.9", Greater),
        ("2.0.0", "10.0.0", Less),
        ("1.2.0-beta", "1.2.0", Less),
        ("1.2.0-alpha.2", "1.2.0-alpha.10", Less),
        ("1.2.0-alpha", "1.2.0-alpha.1", Less),
        ("1.2.0-rc.1", "1.2.0-beta.9", Greater),
        ("1.0.0+build.5", "1.0.0", Equal),
    ] {
        assert_eq!(version_cmp(a, b), want, "{a} vs {b}");
    }
}

#[test]
fn schema_errors_are_reported_together_with_the_pattern() {
    let (_, raw) = catalog_files()
        .into_iter()
        .find(|(id, _)| id == "github")
        .unwrap();
    let mut m: Value = serde_json::from_str(&raw).unwrap();
    m["brand_color"] = json!("red");
    m.as_object_mut().unwrap().remove("name");
    m.as_object_mut().unwrap().remove("category");
    m["tools"][0]["side_effect"] = json!("no");
    let Err(Error::InvalidManifest { path, message }) = validate(&m.to_string(), None) else {
        panic!("refused");
    };
    // The deepest field is the param; every failure is in the message.
    assert_eq!(path, "/tools/0/side_effect", "{message}");
    assert!(
        message.contains("/brand_color: does not match the pattern ^#[0-9a-fA-F]{6}$"),
        "{message}"
    );
    assert!(
        message.contains("name") && message.contains("category"),
        "{message}"
    );
    assert!(message.starts_with("Manifest fields "), "{message}");
}

fn catalog(id: &str) -> Value {
    let raw = catalog_files()
        .into_iter()
        .find(|(i, _)| i == id)
        .unwrap_or_else(|| panic!("catalog/{id}.json"))
        .1;
    serde_json::from_str(&raw).unwrap()
}

fn refusal(m: &Value) -> (String, String) {
    match validate(&m.to_string(), None) {
        Err(Error::InvalidManifest { path, message }) => (path, message),
        other => panic!("expected a manifest error, got {other:?}"),
    }
}

/// Publish-time checks of executable tools (API §3): each names its field.
#[test]
fn tool_requests_are_checked_at_publish() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    // magento: tools[2] is get_order, tools[3] hold_order (side-effecting).
    let cases: Vec<(&str, &str, Mutation)> = vec![
        (
            "/tools/2/request/url",
            "names no declared",
            Box::new(|m| {
                m["tools"][2]["request"]["url"] =
                    json!("{{config.base_url}}/rest/V1/orders/{{args.nope}}")
            }),
        ),
        (
            "/tools/2/request/url",
            "cannot sit in the URL's scheme, host or port",
            Box::new(|m| {
                m["tools"][2]["request"]["url"] =
                    json!("https://{{args.order_id}}.example.com/rest/V1/orders")
            }),
        ),
        (
            "/tools/2/request/url",
            "must list 'order_id' in required",
            Box::new(|m| m["tools"][2]["input_schema"]["required"] = json!([])),
        ),
        (
            "/tools/2/input_schema/properties/extra",
            "never uses the argument 'extra'",
            Box::new(|m| {
                m["tools"][2]["input_schema"]["properties"]["extra"] = json!({"type": "string"})
            }),
        ),
        (
            "/tools/2/dry_run",
            "belongs to side-effecting tools",
            Box::new(|m| m["tools"][2]["dry_run"] = m["tools"][2]["request"].clone()),
        ),
        (
            "/tools/3/test_arguments",
            "are for its dry_run, which it does not declare",
            Box::new(|m| {
                m["tools"][3].as_object_mut().unwrap().remove("dry_run");
                m["tools"][3]["test_arguments"] = json!({"order_id": 1});
            }),
        ),
        (
            "/tools/1/test_arguments",
            "arguments.page_size",
            Box::new(|m| m["tools"][1]["test_arguments"] = json!({"page_size": "one"})),
        ),
        (
            "/tools/2/mcp_tool",
            "mcp_tool is for transport mcp listings",
            Box::new(|m| m["tools"][2]["mcp_tool"] = json!("get_order")),
        ),
        (
            "/tools/2",
            "says how it runs in request",
            Box::new(|m| {
                m["tools"][2].as_object_mut().unwrap().remove("request");
            }),
        ),
        (
            "/tools/3/dry_run/headers/Authorization",
            "names no declared",
            Box::new(|m| {
                m["tools"][3]["dry_run"]["headers"]["Authorization"] =
                    json!("Bearer {{auth.token}}")
            }),
        ),
        (
            // The schema's template pattern already admits no argument there.
            "/tools/2/request/basic_auth/username",
            "does not match the pattern",
            Box::new(|m| {
                m["tools"][2]["request"]["basic_auth"] =
                    json!({"username": "{{args.order_id}}", "password": "x"})
            }),
        ),
    ];
    for (want, says, mutate) in cases {
        let mut m = catalog("magento");
        mutate(&mut m);
        let (path, message) = refusal(&m);
        assert_eq!(path, want, "{message}");
        assert!(message.contains(says), "{want}: {message}");
    }
    // Every failing field at once, each with its path.
    let mut m = catalog("magento");
    // A side-effecting tool's test_arguments are its dry run's.
    m["tools"][3]["test_arguments"] = json!({"order_id": 1});
    assert!(validate(&m.to_string(), None).is_ok());
    m["tools"][2]["dry_run"] = m["tools"][2]["request"].clone();
    m["tools"][3].as_object_mut().unwrap().remove("dry_run");
    let (_, message) = refusal(&m);
    assert!(
        message.starts_with("Manifest fields ")
            && message.contains("/tools/2/dry_run: ")
            && message.contains("/tools/3/test_arguments: "),
        "{message}"
    );
}

#[test]
fn tools_run_the_way_their_transport_does() {
    let mut m = catalog("github-mcp");
    m["tools"][0]["request"] = json!({"method": "GET", "url": "https://api.github.com/user"});
    let (path, message) = refusal(&m);
    assert_eq!(path, "/tools/0/request", "{message}");
    assert!(
        message.contains("request is for transport http listings"),
        "{message}"
    );
    let mut m = catalog("postgresql");
    m["tools"][0]["mcp_tool"] = json!("query");
    assert_eq!(refusal(&m).0, "/tools/0/mcp_tool");
    let mut m = catalog("remote-mcp");
    m["tools"][0]["mcp_tool"] = json!("x");
    assert!(refusal(&m).1.contains("not both"));
}

/// A credential in a tool request goes only to the listing's hosts.
#[test]
fn tool_requests_carry_credentials_only_to_allowed_hosts() {
    let mut m = catalog("stripe");
    m["tools"][2]["request"]["url"] = json!("https://evil.example.com/v1/customers/{{args.id}}");
    let (path, message) = refusal(&m);
    assert_eq!(path, "/tools/2/request/url", "{message}");
    assert!(message.contains("evil.example.com"), "{message}");
    let mut m = catalog("stripe");
    m["tools"][6]["dry_run"]["url"] = json!("https://evil.example.com/x/{{args.payment_intent}}");
    assert_eq!(refusal(&m).0, "/tools/6/dry_run/url");
    // OAuth listings: the runtime adds the token to every tool request.
    let mut m = catalog("slack");
    m["tools"][0]["request"]["url"] = json!("https://evil.example.com/api/conversations.list");
    assert_eq!(refusal(&m).0, "/tools/0/request/url");
    // A listing without credentials may call any public host.
    let mut m = catalog("hacker-news");
    m["tools"][0]["request"]["url"] = json!("https://mirror.example.com/v0/topstories.json");
    assert!(validate(&m.to_string(), None).is_ok());
}

/// The langgraph listing's extensions: a header block only through
/// `{{auth.headers}}` and only of the modes that send a static credential,
/// `test_output` only on a read tool the test runs live, credential-bearing
/// runs bound to the base URL's host.
#[test]
fn header_blocks_and_test_outputs_are_checked_at_publish() {
    assert!(validate(&catalog("langgraph").to_string(), Some("langgraph")).is_ok());
    let mut m = catalog("langgraph");
    m["verify"]["header_lines"] = json!("{{auth.key}}");
    assert_eq!(refusal(&m).0, "/verify/header_lines");
    let mut m = catalog("langgraph");
    m["auth"]["fields"][1]["secret"] = json!(false);
    assert_eq!(refusal(&m).0, "/auth/fields/1/secret");
    let mut m = catalog("open-meteo");
    m["auth"]["fields"] =
        json!([{"key": "headers", "label": "Headers", "secret": true, "required": false}]);
    assert!(refusal(&m).0.starts_with("/auth/fields"));
    let mut m = catalog("langgraph");
    m["tools"][2]["test_output"] = json!({"pointer": "/messages"});
    let (path, message) = refusal(&m);
    assert_eq!(path, "/tools/2/test_output", "{message}");
    let mut m = catalog("langgraph");
    m["allowed_hosts"] = json!(["api.smith.langchain.com"]);
    m["tools"][1]["request"]["url"] = json!("https://evil.example.com/runs/wait");
    assert_eq!(refusal(&m).0, "/tools/1/request/url");
}

/// A signed request (AWS SigV4) carries the key pair without naming it: it
/// is bound to the listing's hosts like any credential, needs the key pair
/// declared, and a default built from config names config only.
#[test]
fn signed_requests_and_built_defaults_are_checked_at_publish() {
    let m = catalog("amazon-connect");
    assert!(m["tools"][0]["request"]["signing"].is_object());
    let mut bad = m.clone();
    bad["tools"][1]["request"]["url"] = json!("https://evil.example.com/instance/x");
    assert_eq!(refusal(&bad).0, "/tools/1/request/url");
    let mut bad = m.clone();
    bad["auth"] = json!({"mode": "api_key", "fields": [{"key": "key", "label": "Key", "secret": true, "required": true}]});
    let (path, message) = refusal(&bad);
    assert_eq!(path, "/verify/signing", "{message}");
    assert!(message.contains("auth.username"), "{message}");
    let mut bad = m.clone();
    bad["config_schema"]["properties"]["endpoint"]["default"] =
        json!("https://connect.{{auth.password}}.amazonaws.com");
    let (path, message) = refusal(&bad);
    assert_eq!(
        path, "/config_schema/properties/endpoint/default",
        "{message}"
    );
    assert!(validate(&m.to_string(), None).is_ok());
    let l = Listing::parse(&m.to_string()).unwrap();
    let config = crate::domain::connector::validate_config(
        Some(
            &json!({"instance_id": "0b3c5d2e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "region": "eu-west-2"}),
        ),
        &l,
    )
    .unwrap();
    assert_eq!(
        config["endpoint"],
        "https://connect.eu-west-2.amazonaws.com"
    );
}
