//! Connect sessions: a manager's single-use link, through which an end user
//! with no API key installs one connector (and nothing else).

use super::*;
use crate::routes::http::Method;
use serde_json::json;

const RETURN: &str = "https://app.example.com/done?x=1";

fn setup() -> (World, String) {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, manager) = w.key(&admin, "manager");
    (w, format!("Bearer {manager}"))
}

/// Creates a session; answers (its id, the link's bearer header).
fn session(w: &World, manager: &str, body: Value) -> (String, String) {
    let (s, v) = w.call(
        Method::Post,
        "/v1/connect-sessions",
        Some(manager),
        Some(body),
    );
    assert_eq!(s, 201, "{v}");
    let url = v["url"].as_str().unwrap();
    let (page, token) = url.split_once('#').unwrap();
    assert!(
        page.ends_with(&format!("/connect/{}", v["id"].as_str().unwrap())),
        "{url}"
    );
    assert!(token.starts_with("cst_"), "{url}");
    (v["id"].as_str().unwrap().into(), format!("Bearer {token}"))
}

fn github(token: &str) -> Value {
    json!({"listing": "github", "name": "gh-user", "auth": {"type": "pat", "token": token}})
}

#[test]
fn creating_a_session_checks_every_field_and_needs_a_manager() {
    let (w, manager) = setup();
    let (_, admin) = w.tenant("other");
    let (_, viewer) = w.key(&admin, "viewer");
    let viewer = format!("Bearer {viewer}");
    let ok = json!({"return_url": RETURN});
    let (s, e) = w.call(
        Method::Post,
        "/v1/connect-sessions",
        Some(&viewer),
        Some(ok),
    );
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    for (body, status, code, param) in [
        (json!({}), 400, "missing_parameter", "return_url"),
        (
            json!({"return_url": "https://evil.example/x"}),
            400,
            "invalid_parameter",
            "return_url",
        ),
        (
            json!({"return_url": RETURN, "listing": "nope"}),
            400,
            "invalid_parameter",
            "listing",
        ),
        (
            json!({"return_url": RETURN, "expires_in": 3600}),
            400,
            "invalid_parameter",
            "expires_in",
        ),
        (
            json!({"return_url": RETURN, "color": "red"}),
            400,
            "invalid_parameter",
            "color",
        ),
        (
            json!({"return_url": RETURN, "listing": "mongodb-atlas"}),
            422,
            "listing_early_access",
            "listing",
        ),
    ] {
        let (s, e) = w.call(
            Method::Post,
            "/v1/connect-sessions",
            Some(&manager),
            Some(body.clone()),
        );
        assert_eq!(
            (s, err_code(&e), e["error"]["param"].as_str()),
            (status, code, Some(param)),
            "{body}: {e}"
        );
    }
    // Nothing was stored by the refusals.
    assert!(w.rows("SELECT id FROM connect_sessions").is_empty());
}

#[test]
fn the_token_is_shown_once_and_stored_only_as_a_hash() {
    let (w, manager) = setup();
    let (id, link) = session(
        &w,
        &manager,
        json!({"return_url": RETURN, "listing": "github", "consumer": "user-42", "expires_in": 600}),
    );
    let token = link.trim_start_matches("Bearer ");
    let (s, v) = w.call(
        Method::Get,
        &format!("/v1/connect-sessions/{id}"),
        Some(&manager),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["status"].as_str(),
            v["listing"].as_str(),
            v["consumer"].as_str(),
            v["return_url"].as_str()
        ),
        (
            Some("pending"),
            Some("github"),
            Some("user-42"),
            Some(RETURN)
        )
    );
    assert!(
        v.get("url").is_none() && !v.to_string().contains(token),
        "{v}"
    );
    let (_, list) = w.call(Method::Get, "/v1/connect-sessions", Some(&manager), None);
    assert_eq!(list["data"][0]["id"].as_str(), Some(id.as_str()));
    assert!(!list.to_string().contains(token));
    let rows = w.rows("SELECT * FROM connect_sessions");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].to_string().contains(&token[4..]), "{}", rows[0]);
    let events = w.rows("SELECT data FROM events WHERE type = 'connect_session.created'");
    assert_eq!(events.len(), 1);
    assert!(!events[0].to_string().contains(&token[4..]));
}

#[test]
fn a_link_installs_its_listing_once_and_reaches_nothing_else() {
    let (w, manager) = setup();
    let (id, link) = session(
        &w,
        &manager,
        json!({"return_url": RETURN, "listing": "github"}),
    );
    let (s, v) = w.call(Method::Get, "/v1/connect/session", Some(&link), None);
    assert_eq!(
        (s, v["status"].as_str(), v["listing"].as_str()),
        (200, Some("pending"), Some("github")),
        "{v}"
    );
    let (s, v) = w.call(Method::Get, "/v1/catalog?q=github", Some(&link), None);
    assert_eq!(
        (s, v["data"][0]["id"].as_str()),
        (200, Some("github")),
        "{v}"
    );
    let (s, _) = w.call(Method::Get, "/v1/catalog/github", Some(&link), None);
    assert_eq!(s, 200);
    // Everything else a key could do is refused.
    for (m, path) in [
        (Method::Get, "/v1/connectors"),
        (Method::Get, "/v1/connect-sessions"),
        (Method::Get, "/v1/events"),
        (Method::Post, "/v1/connect-sessions"),
        (Method::Get, "/v1/approvals"),
    ] {
        let (s, e) = w.call(m, path, Some(&link), Some(json!({"return_url": RETURN})));
        assert_eq!((s, err_code(&e)), (403, "forbidden"), "{path}: {e}");
    }
    let (s, e) = w.call(
        Method::Post,
        "/v1/mcp",
        Some(&link),
        Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    );
    assert_eq!(s, 403, "{e}");
    // Another listing, or a return_url of its own, is refused.
    let (s, e) = w.call(
        Method::Post,
        "/v1/catalog/gitlab/verify",
        Some(&link),
        Some(json!({})),
    );
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    let mut other = github(GOOD_TOKEN);
    other["listing"] = json!("gitlab");
    let (s, e) = w.call(Method::Post, "/v1/connectors", Some(&link), Some(other));
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    let mut own_return = github(GOOD_TOKEN);
    own_return["return_url"] = json!("https://app.example.com/elsewhere");
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&link),
        Some(own_return),
    );
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("return_url")),
        "{e}"
    );

    // Verify works; a refused credential leaves the link usable.
    let (s, v) = w.call(
        Method::Post,
        "/v1/catalog/github/verify",
        Some(&link),
        Some(json!({"auth": {"type": "pat", "token": "ghp_wrong"}})),
    );
    assert_eq!((s, v["ok"].as_bool()), (200, Some(false)), "{v}");
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&link),
        Some(github("ghp_wrong")),
    );
    assert_eq!((s, err_code(&e)), (422, "auth_failed"), "{e}");
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&link),
        Some(github(GOOD_TOKEN)),
    );
    assert_eq!(s, 201, "{v}");
    let cn = v["id"].as_str().unwrap().to_string();

    // Read back: the session names the connector, which returns where the
    // session said; the link is spent.
    let (_, s_view) = w.call(
        Method::Get,
        &format!("/v1/connect-sessions/{id}"),
        Some(&manager),
        None,
    );
    assert_eq!(
        (s_view["status"].as_str(), s_view["connector_id"].as_str()),
        (Some("completed"), Some(cn.as_str())),
        "{s_view}"
    );
    let (s, c) = w.call(
        Method::Get,
        &format!("/v1/connectors/{cn}"),
        Some(&manager),
        None,
    );
    assert_eq!((s, c["status"].as_str()), (200, Some("connected")), "{c}");
    let rows = w.rows(&format!(
        "SELECT return_url FROM connectors WHERE id = '{cn}'"
    ));
    assert_eq!(rows[0]["return_url"].as_str(), Some(RETURN));
    for (m, path, body) in [
        (Method::Post, "/v1/connectors", Some(github(GOOD_TOKEN))),
        (Method::Get, "/v1/connect/session", None),
        (Method::Get, "/v1/catalog", None),
    ] {
        let (s, e) = w.call(m, path, Some(&link), body);
        assert_eq!(
            (s, err_code(&e)),
            (401, "connect_session_used"),
            "{path}: {e}"
        );
    }
    let (_, all) = w.call(Method::Get, "/v1/connectors", Some(&manager), None);
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "{all}");
    let (_, ev) = w.call(Method::Get, "/v1/events", Some(&manager), None);
    let done: Vec<&Value> = ev["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "connect_session.completed")
        .collect();
    assert_eq!(done.len(), 1, "{ev}");
    assert_eq!(done[0]["data"]["connector_id"].as_str(), Some(cn.as_str()));
}

#[test]
fn a_link_expires_and_a_forged_one_is_refused() {
    let (w, manager) = setup();
    let (id, link) = session(
        &w,
        &manager,
        json!({"return_url": RETURN, "expires_in": 60}),
    );
    // No listing named: the end user may pick any.
    let (s, _) = w.call(Method::Get, "/v1/connect/session", Some(&link), None);
    assert_eq!(s, 200);
    let last = if link.ends_with('X') { "Y" } else { "X" };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    let (s, e) = w.call(Method::Get, "/v1/connect/session", Some(&forged), None);
    assert_eq!((s, err_code(&e)), (401, "unauthenticated"), "{e}");
    let (s, e) = w.call(Method::Get, "/v1/connect/session", Some(&manager), None);
    assert_eq!((s, err_code(&e)), (403, "forbidden"), "{e}");
    w.advance(60_000);
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&link),
        Some(github(GOOD_TOKEN)),
    );
    assert_eq!((s, err_code(&e)), (401, "connect_session_expired"), "{e}");
    let (_, v) = w.call(
        Method::Get,
        &format!("/v1/connect-sessions/{id}"),
        Some(&manager),
        None,
    );
    assert_eq!(v["status"].as_str(), Some("expired"), "{v}");
    assert!(w.rows("SELECT id FROM connectors").is_empty());
}

#[test]
fn a_link_without_a_listing_installs_the_one_the_user_picks() {
    let (w, manager) = setup();
    let (id, link) = session(&w, &manager, json!({"return_url": RETURN}));
    let (s, v) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&link),
        Some(github(GOOD_TOKEN)),
    );
    assert_eq!(s, 201, "{v}");
    let (_, s_view) = w.call(
        Method::Get,
        &format!("/v1/connect-sessions/{id}"),
        Some(&manager),
        None,
    );
    assert_eq!(s_view["connector_id"], v["id"]);
}

/// What a form needs to put an error at its field: a taken name names
/// `name`, a failed format names the format.
#[test]
fn field_errors_name_their_field_and_rule() {
    let (w, manager) = setup();
    let (s, _) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&manager),
        Some(github(GOOD_TOKEN)),
    );
    assert_eq!(s, 201);
    let (s, e) = w.call(
        Method::Post,
        "/v1/connectors",
        Some(&manager),
        Some(github(GOOD_TOKEN)),
    );
    assert_eq!(
        (s, err_code(&e), e["error"]["param"].as_str()),
        (409, "state_conflict", Some("name")),
        "{e}"
    );
    let mut bad = github(GOOD_TOKEN);
    bad["name"] = json!("gh-2");
    bad["config"] = json!({"base_url": "http://127.0.0.1:99999"});
    let (s, e) = w.call(Method::Post, "/v1/connectors", Some(&manager), Some(bad));
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("config.base_url")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("'uri'"),
        "{e}"
    );
}
