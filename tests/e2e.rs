//! End to end: the worker built by worker-build, served by `wrangler dev`
//! (workerd) with local D1, KV and Durable Objects, driven over HTTP.
//! Run by `make test` (it builds first); plain `cargo test` skips it unless
//! `--ignored` is passed, like an ignored test.

#[path = "scenarios/aws.rs"]
mod aws;
#[path = "scenarios/cli.rs"]
mod cli;
#[path = "scenarios/connect.rs"]
mod connect;
#[path = "scenarios/connectors.rs"]
mod connectors;
#[path = "scenarios/console.rs"]
mod console;
#[path = "scenarios/databases.rs"]
mod databases;
#[path = "scenarios/gateway.rs"]
mod gateway;
#[path = "scenarios/governance.rs"]
mod governance;
#[path = "scenarios/langgraph.rs"]
mod langgraph;
#[path = "scenarios/marketplace.rs"]
mod marketplace;
#[path = "scenarios/oauth.rs"]
mod oauth;
#[path = "scenarios/sql.rs"]
mod sql;
mod support;
#[path = "scenarios/sweep.rs"]
mod sweep;
#[path = "scenarios/tools.rs"]
mod tools;
#[path = "scenarios/webhooks.rs"]
mod webhooks;

/// A port on 127.0.0.1 that nothing listens on, allow-listed like the fake.
static DOWN_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

use serde_json::json;
use std::path::Path;
use support::{call, Server, OPERATOR};

fn catalog_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog")
}

fn manifest_files() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(catalog_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.schema.json")
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Creates a tenant; answers (tenant id, admin secret, admin key id).
fn tenant(s: &Server, name: &str) -> (String, String, String) {
    let a = call("POST", &s.url("/v1/tenants"))
        .auth(OPERATOR)
        .json(&json!({ "name": name }));
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let v = a.json();
    (
        v["id"].as_str().unwrap().into(),
        v["api_key"]["secret"].as_str().unwrap().into(),
        v["api_key"]["id"].as_str().unwrap().into(),
    )
}

fn key(s: &Server, admin: &str, role: &str) -> (String, String) {
    let a = call("POST", &s.url("/v1/api-keys"))
        .auth(admin)
        .json(&json!({ "role": role }));
    assert_eq!(a.status, 201);
    let v = a.json();
    (
        v["id"].as_str().unwrap().into(),
        v["secret"].as_str().unwrap().into(),
    )
}

fn service_routes(s: &Server) {
    let a = call("GET", &s.url("/healthz")).send();
    assert_eq!(a.status, 200);
    let v = a.json();
    for part in ["d1", "kv", "durable_objects"] {
        assert_eq!(v["checks"][part]["ok"], true, "{part}: {v}");
    }
    assert_eq!(call("GET", &s.url("/v1/ping")).send().json()["ok"], true);
    let served = call("GET", &s.url("/v1/openapi.json")).send();
    let file =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/openapi.json")).unwrap();
    assert_eq!(
        served.body, file,
        "the served document is the validated file"
    );
    let doc = served.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/tenants",
        "/v1/api-keys",
        "/v1/api-keys/{id}",
        "/v1/catalog",
        "/v1/catalog/{listing}",
        "/v1/catalog/categories",
        "/healthz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    // The cron trigger reaches the scheduled handler.
    let a = call("GET", &s.url("/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*")).send();
    assert_eq!(a.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !s.log_text().contains("scheduled: cron '*/5 * * * *'") {
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduled handler did not run"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn tenants_and_keys(s: &Server) {
    let a = call("POST", &s.url("/v1/tenants")).json(&json!({"name": "x"}));
    assert_eq!((a.status, a.code()), (401, "unauthenticated".into()));
    let a = call("POST", &s.url("/v1/tenants"))
        .auth("not-the-operator")
        .json(&json!({"name": "x"}));
    assert_eq!(a.status, 401);
    let a = call("POST", &s.url("/v1/tenants"))
        .auth(OPERATOR)
        .json(&json!({}));
    assert_eq!(
        (a.status, a.json()["error"]["param"].clone()),
        (400, json!("name"))
    );

    let (_, admin, admin_id) = tenant(s, "acme");
    let (viewer_id, viewer) = key(s, &admin, "viewer");
    let (_, manager) = key(s, &admin, "manager");
    // Bearer and Basic both work.
    assert_eq!(
        call("GET", &s.url("/v1/catalog"))
            .auth(&viewer)
            .send()
            .status,
        200
    );
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{viewer_id}:{viewer}"));
    let a = call("GET", &s.url("/v1/catalog"))
        .header("authorization", &format!("Basic {basic}"))
        .send();
    assert_eq!(a.status, 200);
    // Roles.
    for weak in [&viewer, &manager] {
        let a = call("POST", &s.url("/v1/api-keys"))
            .auth(weak)
            .json(&json!({"role": "viewer"}));
        assert_eq!((a.status, a.code()), (403, "forbidden".into()));
        assert_eq!(
            call("GET", &s.url("/v1/api-keys")).auth(weak).send().status,
            403
        );
    }
    // The list never shows secrets and pages newest first.
    let a = call("GET", &s.url("/v1/api-keys?limit=2"))
        .auth(&admin)
        .send();
    let v = a.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(v["has_more"], true);
    assert!(!String::from_utf8_lossy(&a.body).contains("\"secret\""));
    let next = v["next_cursor"].as_str().unwrap();
    let v2 = call(
        "GET",
        &s.url(&format!("/v1/api-keys?limit=2&cursor={next}")),
    )
    .auth(&admin)
    .send()
    .json();
    assert_eq!(v2["data"][0]["id"], json!(admin_id));
    assert_eq!(v2["has_more"], false);
    // Revocation takes effect at once.
    let a = call("DELETE", &s.url(&format!("/v1/api-keys/{viewer_id}")))
        .auth(&admin)
        .send();
    assert_eq!((a.status, a.json()["deleted"].clone()), (200, json!(true)));
    assert_eq!(
        call("GET", &s.url("/v1/catalog"))
            .auth(&viewer)
            .send()
            .status,
        401
    );
    // Another tenant cannot see or revoke this tenant's keys.
    let (_, other_admin, _) = tenant(s, "globex");
    let (mid, _) = key(s, &admin, "manager");
    let a = call("DELETE", &s.url(&format!("/v1/api-keys/{mid}")))
        .auth(&other_admin)
        .send();
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    let a = call("DELETE", &s.url(&format!("/v1/api-keys/{admin_id}")))
        .auth(&admin)
        .send();
    assert_eq!((a.status, a.code()), (409, "state_conflict".into()));
}

fn catalog_browse(s: &Server) {
    let (_, admin, _) = tenant(s, "browser");
    let (_, viewer) = key(s, &admin, "viewer");
    let files = manifest_files();
    let all = call("GET", &s.url("/v1/catalog?limit=100"))
        .auth(&viewer)
        .send()
        .json();
    assert_eq!(all["total"], json!(files.len()));
    // Paging by 4 visits every listing exactly once, in a stable order.
    let mut seen = vec![];
    let mut url = s.url("/v1/catalog?limit=4");
    loop {
        let v = call("GET", &url).auth(&viewer).send().json();
        assert_eq!(v["total"], json!(files.len()));
        seen.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => url = s.url(&format!("/v1/catalog?limit=4&cursor={c}")),
            None => break,
        }
    }
    let ids: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids);
    // Filters.
    for (q, must, must_not) in [
        ("q=postgres", "postgresql", "github"),
        ("category=developer-tools", "github", "stripe"),
        ("kind=database", "mysql", "slack"),
        ("auth_mode=oauth2", "google-drive", "github"),
        ("featured=true", "github", "mysql"),
        ("tag=git", "gitlab", "stripe"),
        ("capability=issue.read", "jira", "stripe"),
    ] {
        let v = call("GET", &s.url(&format!("/v1/catalog?{q}")))
            .auth(&viewer)
            .send()
            .json();
        let got: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert!(
            got.contains(&must) && !got.contains(&must_not),
            "{q}: {got:?}"
        );
        assert_eq!(v["total"], json!(got.len()), "{q}");
    }
    let a = call("GET", &s.url("/v1/catalog?cursor=%%%"))
        .auth(&viewer)
        .send();
    assert_eq!(
        (a.status, a.json()["error"]["param"].clone()),
        (400, json!("cursor"))
    );
    let a = call("GET", &s.url("/v1/catalog?featured=1"))
        .auth(&viewer)
        .send();
    assert_eq!((a.status, a.code()), (400, "invalid_parameter".into()));
    // Categories add up.
    let cats = call("GET", &s.url("/v1/catalog/categories"))
        .auth(&viewer)
        .send()
        .json();
    let sum: u64 = cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum as usize, files.len());
    // Each listing verbatim, with an ETag that revalidates.
    for (id, raw) in &files {
        let a = call("GET", &s.url(&format!("/v1/catalog/{id}")))
            .auth(&viewer)
            .send();
        assert_eq!(a.status, 200, "{id}");
        assert_eq!(&a.body, raw, "{id} is not served verbatim");
        let etag = a.header("etag").unwrap().to_string();
        let b = call("GET", &s.url(&format!("/v1/catalog/{id}")))
            .auth(&viewer)
            .header("if-none-match", &etag)
            .send();
        assert_eq!((b.status, b.body.len()), (304, 0), "{id}");
    }
    let a = call("GET", &s.url("/v1/catalog/no-such-listing"))
        .auth(&viewer)
        .send();
    assert_eq!((a.status, a.code()), (404, "not_found".into()));
    assert_eq!(call("GET", &s.url("/v1/catalog")).send().status, 401);
}

fn publishing(s: &Server) {
    let (_, admin, _) = tenant(s, "publisher-watch");
    let original = call("GET", &s.url("/v1/catalog/stripe"))
        .auth(&admin)
        .send()
        .json();
    // A broken manifest is refused with its path, and nothing changes.
    let mut broken = original.clone();
    broken["tools"][0]["capability"] = json!("not.declared");
    let a = call("PUT", &s.url("/v1/catalog/stripe"))
        .auth(OPERATOR)
        .json(&broken);
    assert_eq!((a.status, a.code()), (400, "invalid_manifest".into()));
    assert_eq!(a.json()["error"]["param"], "/tools/0/capability");
    assert_eq!(
        call("PUT", &s.url("/v1/catalog/stripe"))
            .auth(&admin)
            .json(&original)
            .status,
        403
    );
    // A change is visible at once through the KV cache and the isolate cache.
    let warm = call("GET", &s.url("/v1/catalog?q=stripe"))
        .auth(&admin)
        .send()
        .json();
    assert_eq!(warm["total"], 1);
    let mut changed = original.clone();
    changed["description"] = json!("Payments, changed by the e2e suite: zebracorn");
    let a = call("PUT", &s.url("/v1/catalog/stripe"))
        .auth(OPERATOR)
        .json(&changed);
    assert_eq!((a.status, a.json()["changed"].clone()), (200, json!(true)));
    let got = call("GET", &s.url("/v1/catalog/stripe"))
        .auth(&admin)
        .send()
        .json();
    assert_eq!(got["description"], changed["description"]);
    let found = call("GET", &s.url("/v1/catalog?q=zebracorn"))
        .auth(&admin)
        .send()
        .json();
    assert_eq!(found["data"][0]["id"], "stripe");
    // Restore the file's exact text.
    let raw = std::fs::read(catalog_dir().join("stripe.json")).unwrap();
    let a = call("PUT", &s.url("/v1/catalog/stripe"))
        .auth(OPERATOR)
        .raw(&raw);
    assert_eq!(a.status, 200);
    let again = call("GET", &s.url("/v1/catalog/stripe"))
        .auth(&admin)
        .send();
    assert_eq!(again.body, raw);
}

fn envelopes(s: &Server) {
    let (_, admin, _) = tenant(s, "errors");
    let a = call("GET", &s.url("/v1/nothing-here")).auth(&admin).send();
    assert_eq!((a.status, a.code()), (404, "route_not_found".into()));
    let e = a.json()["error"].clone();
    assert_eq!(e["type"], "invalid_request_error");
    assert_eq!(e["request_id"].as_str(), a.header("request-id"));
    let a = call("PATCH", &s.url("/v1/catalog"))
        .auth(&admin)
        .json(&json!({}));
    assert_eq!(
        (a.status, a.code(), a.header("allow")),
        (405, "method_not_allowed".into(), Some("GET"))
    );
    let a = call("POST", &s.url("/v1/api-keys"))
        .auth(&admin)
        .raw(b"{\n\"role\": viewer}");
    assert_eq!((a.status, a.code()), (400, "malformed_json".into()));
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("line 2, column"));
    let big = vec![b' '; 70 * 1024];
    let a = call("POST", &s.url("/v1/api-keys")).auth(&admin).raw(&big);
    assert_eq!((a.status, a.code()), (413, "payload_too_large".into()));
    // Without a Content-Length (chunked) the body is read only up to the cap.
    let big = vec![b' '; 200 * 1024];
    let a = support::post_chunked(&s.url("/v1/api-keys"), &admin, &big);
    assert_eq!((a.status, a.code()), (413, "payload_too_large".into()));
    let a = support::post_chunked(
        &s.url("/v1/api-keys"),
        &admin,
        json!({"role": "viewer"}).to_string().as_bytes(),
    );
    assert_eq!(
        (a.status, a.json()["role"].as_str()),
        (201, Some("viewer")),
        "a small chunked body is read whole"
    );
    let a = call("POST", &s.url("/v1/api-keys"))
        .auth(&admin)
        .json(&json!({"role": "viewer", "scope": "all"}));
    assert_eq!(
        (a.status, a.json()["error"]["param"].clone()),
        (400, json!("scope"))
    );
    let a = call("GET", &s.url("/v1/catalog"))
        .header("authorization", "Basic !!!")
        .send();
    assert_eq!((a.status, a.code()), (401, "unauthenticated".into()));
    let a = call("GET", &s.url("/v1/catalog"))
        .auth("mk_AAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
        .send();
    assert_eq!(a.status, 401);
}

fn panics_answer_the_envelope(s: &Server) {
    let a = call("GET", &s.url("/v1/_test/panic")).allow_5xx().send();
    assert_eq!(a.status, 500);
    let v = a.json();
    assert_eq!(
        (v["error"]["type"].as_str(), v["error"]["code"].as_str()),
        (Some("api_error"), Some("internal_error"))
    );
    assert_eq!(v["error"]["request_id"].as_str(), a.header("request-id"));
    assert!(
        !String::from_utf8_lossy(&a.body).contains("deliberate"),
        "internals leaked"
    );
    // The instance is re-initialised: the next requests are served normally.
    let (_, admin, _) = tenant(s, "after-panic");
    assert_eq!(
        call("GET", &s.url("/v1/catalog?limit=1"))
            .auth(&admin)
            .send()
            .status,
        200
    );
    assert_eq!(call("GET", &s.url("/healthz")).send().status, 200);
}

fn no_secret_anywhere(s: &Server, seen: &connectors::Seen) {
    let secrets = [
        connectors::GOOD,
        connectors::BAD,
        connectors::ROTATED,
        "xoxb-e2e-client-secret",
        langgraph::API_KEY,
        langgraph::HEADER_VALUE,
        aws::SECRET,
    ];
    for body in seen.lock().unwrap().iter() {
        for x in secrets {
            assert!(
                !String::from_utf8_lossy(body).contains(x),
                "a response carried {x}"
            );
        }
    }
    let log = s.log_text();
    assert!(
        log.contains("POST /v1/connectors"),
        "the wrangler log of this run was read"
    );
    for x in secrets {
        assert!(!log.contains(x), "the log carried {x}");
    }
    let files = support::files_under(&s.state.join("persist"));
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("d1")),
        "local D1 state was read"
    );
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("kv")),
        "local KV state was read"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        for x in secrets {
            assert!(
                !bytes.windows(x.len()).any(|w| w == x.as_bytes()),
                "{x} in clear in {}",
                f.display()
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args
        .iter()
        .any(|a| a == "--ignored" || a == "--include-ignored")
    {
        eprintln!("e2e: skipped (needs the built worker and wrangler; `make test` runs it)");
        return;
    }
    let provider = support::fake::Provider::start(connectors::GOOD);
    let provider_b = support::fake::Provider::start(connectors::GOOD);
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    DOWN_PORT.set(down).unwrap();
    // The webhooks scenario's receiver, allow-listed like the fakes.
    let receiver = webhooks::Receiver::start();
    // Real PostgreSQL and MariaDB, with TLS from a test CA the worker trusts.
    let dbs = support::db::Databases::start();
    // A real `langgraph dev` for the langgraph listing.
    let lg = langgraph::LangGraph::start();
    // The Amazon Connect scenario's fake endpoint (checks SigV4 with botocore).
    let connect = aws::Connect::start();
    let allow = format!(
        "127.0.0.1:{},127.0.0.1:{},127.0.0.1:{down},127.0.0.1:{},127.0.0.1:{},127.0.0.1:{},{}",
        provider.port,
        provider_b.port,
        receiver.port,
        lg.port,
        connect.port,
        dbs.allow_hosts()
    );
    let mut server = Server::start(&[
        ("ENABLE_TEST_ROUTES", "true"),
        ("PROBE_ALLOW_HOSTS", &allow),
        ("WEBHOOK_RETRY_SCALE", webhooks::RETRY_SCALE),
        dbs.wrangler_env(),
    ]);
    let d = &dbs;
    let r = &receiver;
    let s = &server;
    let p = &provider;
    let seen = connectors::Seen::default();
    let seen = &seen;
    let mut ok = support::run(&[
        ("service_routes", &|| service_routes(s)),
        ("tenants_and_keys", &|| tenants_and_keys(s)),
        ("catalog_browse", &|| catalog_browse(s)),
        ("publishing", &|| publishing(s)),
        ("envelopes", &|| envelopes(s)),
        ("panics_answer_the_envelope", &|| {
            panics_answer_the_envelope(s)
        }),
        ("connector_lifecycle", &|| connectors::lifecycle(s, p, seen)),
        ("install_concurrency", &|| {
            connectors::concurrency(s, p, seen)
        }),
        ("tenant_isolation_and_roles", &|| {
            connectors::isolation(s, p, seen)
        }),
        ("provider_failures", &|| {
            connectors::provider_failures(s, p, seen)
        }),
        ("refused_targets", &|| {
            connectors::refused_targets(s, p, seen)
        }),
        ("database_servers", &|| databases::servers(d)),
        ("postgresql_tools", &|| sql::sql_tools(s, &d.pg, seen)),
        ("mysql_tools", &|| sql::sql_tools(s, &d.maria, seen)),
        ("connect_sessions", &|| {
            connect::connect_sessions(s, p, seen)
        }),
        ("oauth_consent", &|| oauth::consent(s, p, seen)),
        ("mcp_oauth_consent", &|| oauth::mcp_consent(s, p, seen)),
        ("marketplace", &|| marketplace::marketplace(s, p, seen)),
        ("malformed_submissions", &|| {
            marketplace::malformed_submissions(s)
        }),
        ("racing_approvals", &|| marketplace::racing_approvals(s)),
        ("health_checks", &|| connectors::health_checks(s, p, seen)),
        ("mcp_tools", &|| connectors::mcp_tools(s, p, seen)),
        ("tool_calls", &|| tools::tool_calls(s, p, seen)),
        ("mcp_tool_pins", &|| tools::mcp_pins(s, p, seen)),
        ("mcp_gateway", &|| gateway::gateway(s, p, seen)),
        ("governed_side_effects", &|| {
            governance::governance(s, p, seen, r)
        }),
        ("cron_sweep", &|| sweep::sweep(s, p, &provider_b)),
        ("langgraph", &|| langgraph::langgraph(s, &lg, seen)),
        ("webhooks", &|| webhooks::webhooks(s, r)),
        ("webhooks:before_restart", &|| {
            webhooks::before_restart(s, r)
        }),
        ("amazon_connect", &|| aws::amazon_connect(s, &connect, seen)),
        ("console", &|| console::console(s, p, seen)),
        ("cli", &|| cli::cli(s, p, seen)),
        // Last: no credential appears in any answer, the log, or the local D1/KV state.
        ("no_secret_anywhere", &|| no_secret_anywhere(s, seen)),
    ]);
    // A second start on the same state keeps every tenant, key and listing,
    // and its catalog load (from disk) neither lowers a version published
    // since nor re-lists a de-listed listing.
    let (_, admin, _) = tenant(&server, "survivor");
    marketplace::before_restart(&server);
    let listed = call("GET", &server.url("/v1/catalog?limit=1"))
        .auth(&admin)
        .send()
        .json()["total"]
        .clone();
    // Every file but the de-listed one (and the marketplace's own listings).
    assert!(listed.as_u64().unwrap() as usize >= manifest_files().len() - 1);
    server.restart();
    let s = &server;
    ok &= support::run(&[("restart_keeps_state", &|| {
        let v = call("GET", &s.url("/v1/catalog?limit=1"))
            .auth(&admin)
            .send()
            .json();
        assert_eq!(v["total"], listed);
        assert_eq!(
            call("GET", &s.url("/v1/api-keys"))
                .auth(&admin)
                .send()
                .status,
            200
        );
        marketplace::after_restart(s, &admin);
    })]);
    ok &= support::run(&[("webhooks:after_restart", &|| webhooks::after_restart(s, r))]);
    let log = server.log_text();
    drop(server);
    drop(receiver);
    drop(dbs);
    drop(lg);
    drop(connect);
    if !ok {
        eprintln!("--- wrangler log ---\n{log}");
        std::process::exit(1);
    }
}
