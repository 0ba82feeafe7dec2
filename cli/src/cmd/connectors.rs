//! `connectors install|list|show|test|health|rm`.

use super::Out;
use crate::api::{seg, Api, Req};
use crate::args::{Install, ListConnectors};
use crate::error::{self, ApiError, Failure, Result};
use crate::prompt::{self, Answers, Ask, Field, Section};
use crate::ui::{self, cell, clip, mark, table, text};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

/// The install request for the answers.
pub fn install_body(
    listing: &str,
    mode: &str,
    name: Option<&str>,
    a: &Answers,
    return_url: Option<&str>,
) -> Value {
    let mut auth = Map::new();
    auth.insert("type".into(), json!(mode));
    for (k, v) in &a.auth {
        auth.insert(k.clone(), v.clone());
    }
    let mut b = json!({"listing": listing, "auth": auth, "config": a.config});
    if let Some(n) = name {
        b["name"] = json!(n);
    }
    if let Some(u) = return_url {
        b["return_url"] = json!(u);
    }
    b
}

/// Which fields to ask again after the API refused an install, when a
/// person is there to answer. `None`: nothing to re-ask (give up).
pub fn to_reask<'a>(e: &ApiError, fields: &'a [Field]) -> Option<Vec<&'a Field>> {
    let param = e.param.as_deref().unwrap_or("");
    if let Some(f) = prompt::field_for(fields, param) {
        return Some(vec![f]);
    }
    match (e.code.as_str(), param) {
        // The provider refused the credential: ask for all of it again.
        ("auth_failed", _) => {
            let auth: Vec<&Field> = fields
                .iter()
                .filter(|f| f.section == Section::Auth)
                .collect();
            (!auth.is_empty()).then_some(auth)
        }
        // An address the service will not call: the URL-like settings.
        ("target_not_allowed", "config") => {
            let urls: Vec<&Field> = fields
                .iter()
                .filter(|f| f.section == Section::Config && f.key.ends_with("url"))
                .collect();
            (!urls.is_empty()).then_some(urls)
        }
        _ => None,
    }
}

pub fn install(api: &Api, i: Install, ask: &mut dyn Ask, out: Out) -> Result<()> {
    let m = api
        .send(Req::get(format!("/v1/catalog/{}", seg(&i.listing))).doing("reading the listing"))?
        .json();
    let mode = text(&m["auth"], "mode").to_string();
    let fields = prompt::fields(&m);
    if !fields.is_empty() && !out.json {
        eprintln!(
            "Installing {} ({}): {} field(s); press Enter to keep a [default].",
            text(&m, "name"),
            i.listing,
            fields.len()
        );
    }
    let mut given = i.set.clone();
    given.extend(i.secret.iter().cloned());
    let mut answers = prompt::collect(&fields, &given, ask)?;
    let mut name = i.name.clone();
    let mut tries = 0;
    let created = loop {
        tries += 1;
        let body = install_body(
            &i.listing,
            &mode,
            name.as_deref(),
            &answers,
            i.return_url.as_deref(),
        );
        let sent = api.send(
            Req::post("/v1/connectors", body)
                .header("idempotency-key", i.idempotency_key.as_deref())
                .doing("verifying the credentials and installing"),
        );
        let e = match sent {
            Ok(r) => break r,
            Err(Failure::Api(e)) => e,
            Err(other) => return Err(other),
        };
        let refused_input = matches!(e.status, 400 | 409 | 422);
        if !(ask.interactive() && refused_input && tries < 6) {
            return Err(Failure::Api(e));
        }
        // An install's 409 is a taken name (API §4); a bad name is `param: name`.
        if e.param.as_deref() == Some("name") || (e.status == 409 && e.code == "state_conflict") {
            eprintln!("{}\n  → asking for another name", e.describe_brief());
            let q = "Connector name (letters, digits, '-', '_', '.'): ";
            match ask.ask(q, false) {
                Ok(Some(n)) if !n.trim().is_empty() => name = Some(n.trim().to_string()),
                _ => return Err(Failure::Api(e)),
            }
            continue;
        }
        let Some(again) = to_reask(&e, &fields) else {
            return Err(Failure::Api(e));
        };
        let names: Vec<String> = again.iter().map(|f| f.param()).collect();
        eprintln!(
            "{}\n  → asking for {} again",
            e.describe_brief(),
            names.join(", ")
        );
        for f in again {
            let v = prompt::ask_field(f, ask)?;
            answers.set(f, v);
        }
    };
    let c = created.json();
    if out.json {
        ui::print_raw(&created.body);
    } else {
        print!("{}", installed(&c, created.replayed));
    }
    if c["next_step"] == "oauth" || c["status"] == "pending_auth" {
        if out.json {
            if let Some(u) = c["authorize_url"].as_str() {
                eprintln!("Open to give consent: {u}");
            }
        }
        if i.wait {
            return wait_for_consent(api, text(&c, "id"), i.wait_timeout, out);
        }
    }
    Ok(())
}

/// The install's answer for people.
pub fn installed(c: &Value, replayed: bool) -> String {
    let mut s = format!(
        "{} {} ({}) from {} {} · status {}{}\n",
        if replayed {
            "Already installed (replayed):"
        } else {
            "Installed"
        },
        text(c, "name"),
        text(c, "id"),
        text(c, "listing"),
        text(c, "listing_version"),
        text(c, "status"),
        match c["health"]["healthy"].as_bool() {
            Some(true) => " · healthy ✓",
            Some(false) => " · unhealthy ✗",
            None => "",
        }
    );
    if let Some(p) = c.get("price").filter(|p| p.is_object()) {
        s.push_str(&format!("Price: {}\n", cell(p)));
    }
    if c["next_step"] == "oauth" {
        match c["authorize_url"].as_str() {
            Some(u) => {
                s.push_str("Open this URL in a browser to give consent");
                if let Some(x) = c["authorize_expires_at"].as_str() {
                    s.push_str(&format!(" (before {x})"));
                }
                s.push_str(&format!(":\n  {u}\n"));
                s.push_str(&format!(
                    "Then check it with: connector connectors show {} (or install with --wait).\n",
                    text(c, "id")
                ));
            }
            None => s.push_str(
                "Consent is needed; the link has expired: ask for a fresh one with POST /v1/connectors/{id}/authorize.\n",
            ),
        }
    }
    s
}

fn wait_for_consent(api: &Api, id: &str, timeout: u64, out: Out) -> Result<()> {
    let started = Instant::now();
    loop {
        let c = api
            .send(Req::get(format!("/v1/connectors/{}", seg(id))).doing("waiting for consent"))?
            .json();
        let status = text(&c, "status");
        if status != "pending_auth" {
            let msg = text(&c["health"], "message");
            if out.json {
                eprintln!("status: {status}");
            } else {
                println!(
                    "Consent done: {} is {status}{}",
                    text(&c, "name"),
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!(" ({msg})")
                    }
                );
            }
            return if status == "connected" {
                Ok(())
            } else {
                Err(Failure::Outcome(error::API))
            };
        }
        if started.elapsed() >= Duration::from_secs(timeout) {
            eprintln!(
                "error: still waiting for consent after {timeout} s\n  → Finish it in the browser, then check with `connector connectors show {id}`."
            );
            return Err(Failure::Outcome(error::API));
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
}

pub fn list(api: &Api, l: ListConnectors, out: Out) -> Result<()> {
    let r = api.send(
        Req::get("/v1/connectors")
            .query("listing", l.listing)
            .query("capability", l.capability)
            .query("kind", l.kind)
            .query("status", l.status)
            .query("limit", l.page.limit)
            .query("cursor", l.page.cursor)
            .doing("listing connectors"),
    )?;
    out.list(&r, list_table, "connectors");
    Ok(())
}

pub fn list_table(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|c| {
            vec![
                text(c, "id").to_string(),
                text(c, "name").to_string(),
                format!("{} {}", text(c, "listing"), text(c, "listing_version")),
                text(c, "status").to_string(),
                mark(&c["health"]["healthy"]).to_string(),
                text(c, "created_at").to_string(),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "LISTING", "STATUS", "HEALTHY", "CREATED"],
        &rows,
    )
}

pub fn show(api: &Api, id: &str, out: Out) -> Result<()> {
    let r =
        api.send(Req::get(format!("/v1/connectors/{}", seg(id))).doing("reading the connector"))?;
    if out.json {
        ui::print_raw(&r.body);
        return Ok(());
    }
    print!("{}", render(&r.json()));
    Ok(())
}

/// One connector for people; its credential only ever as the API's hint.
pub fn render(c: &Value) -> String {
    let mut s = format!(
        "{} ({}) · {} {} · {}\n",
        text(c, "name"),
        text(c, "id"),
        text(c, "listing"),
        text(c, "listing_version"),
        text(c, "status")
    );
    s.push_str(&format!(
        "kind {} · transport {} · created {} · updated {}\n",
        text(c, "kind"),
        text(c, "transport"),
        text(c, "created_at"),
        text(c, "updated_at")
    ));
    if let Some(crew) = c["crew_id"].as_str() {
        s.push_str(&format!("crew {crew}\n"));
    }
    let hint = text(&c["auth"], "hint");
    s.push_str(&format!(
        "auth: {}{}\n",
        text(&c["auth"], "type"),
        if hint.is_empty() {
            String::new()
        } else {
            format!(" {hint}")
        }
    ));
    let h = &c["health"];
    s.push_str(&format!(
        "health: {} · last check {} · {}{}\n",
        mark(&h["healthy"]),
        h["last_check"].as_str().unwrap_or("never"),
        h["latency_ms"]
            .as_u64()
            .map(|l| format!("{l} ms"))
            .unwrap_or_else(|| "–".into()),
        match text(h, "message") {
            "" => String::new(),
            m => format!(" · {}", clip(m, 200)),
        }
    ));
    if let Some(cfg) = c["config"].as_object() {
        s.push_str("config:\n");
        if cfg.is_empty() {
            s.push_str("  (none)\n");
        }
        for (k, v) in cfg {
            s.push_str(&format!("  {k} = {}\n", cell(v)));
        }
    }
    let tools: Vec<Vec<String>> = c["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            vec![
                text(t, "name").to_string(),
                text(t, "capability").to_string(),
                if t["side_effect"].as_bool() == Some(true) {
                    "⚠ writes".into()
                } else {
                    "read".into()
                },
            ]
        })
        .collect();
    s.push_str("tools:\n");
    for l in table(&["NAME", "CAPABILITY", "EFFECT"], &tools).lines() {
        s.push_str(&format!("  {l}\n"));
    }
    s
}

pub fn test(api: &Api, id: &str, tools: &[String], out: Out) -> Result<()> {
    let body = if tools.is_empty() {
        json!({})
    } else {
        json!({ "tools": tools })
    };
    let r = api.send(
        Req::post(format!("/v1/connectors/{}/test", seg(id)), body).doing("testing the tools"),
    )?;
    let v = r.json();
    if out.json {
        ui::print_raw(&r.body);
    } else {
        print!("{}", test_table(&v));
    }
    match text(&v, "status") {
        "failed" => Err(Failure::Outcome(error::API)),
        _ => Ok(()),
    }
}

pub fn test_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                text(r, "tool").to_string(),
                text(r, "mode").replace('_', "-"),
                match r["ok"].as_bool() {
                    Some(true) => "✓ ok".into(),
                    Some(false) => "✗ failed".into(),
                    None => "? not run".into(),
                },
                r["latency_ms"]
                    .as_u64()
                    .map(|l| format!("{l} ms"))
                    .unwrap_or_default(),
                clip(
                    match (text(r, "error"), text(r, "output")) {
                        ("", o) => o,
                        (e, _) => e,
                    },
                    80,
                ),
            ]
        })
        .collect();
    let mut s = table(&["TOOL", "MODE", "RESULT", "LATENCY", "DETAIL"], &rows);
    let status = text(v, "status");
    s.push_str(&format!(
        "\n{} {status}: {} tool(s); read tools ran live, side-effecting ones as dry runs.\n",
        match status {
            "passed" => "✓",
            "failed" => "✗",
            _ => "?",
        },
        rows.len()
    ));
    s
}

pub fn health(api: &Api, id: &str, out: Out) -> Result<()> {
    let r = api.send(
        Req::get(format!("/v1/connectors/{}/health", seg(id))).doing("checking the connector"),
    )?;
    let v = r.json();
    if out.json {
        ui::print_raw(&r.body);
    } else {
        println!(
            "{} {} · status {} · {} · checked {}{}",
            mark(&v["healthy"]),
            match v["healthy"].as_bool() {
                Some(true) => "healthy",
                Some(false) => "unhealthy",
                None => "not checkable here",
            },
            text(&v, "status"),
            v["latency_ms"]
                .as_u64()
                .map(|l| format!("{l} ms"))
                .unwrap_or_else(|| "–".into()),
            text(&v, "last_check"),
            match text(&v, "message") {
                "" => String::new(),
                m => format!("\n  {}", clip(m, 200)),
            }
        );
    }
    if v["healthy"].as_bool() == Some(false) {
        return Err(Failure::Outcome(error::API));
    }
    Ok(())
}

pub fn rm(api: &Api, id: &str, yes: bool, ask: &mut dyn Ask, out: Out) -> Result<()> {
    if !yes && ask.interactive() {
        let q = format!("Uninstall {id}? Its stored credentials are purged. [y/N] ");
        let a = ask
            .ask(&q, false)
            .map_err(|e| Failure::Local(format!("cannot read an answer: {e}")))?;
        if !matches!(
            a.as_deref().map(str::trim),
            Some("y" | "Y" | "yes" | "YES" | "Yes")
        ) {
            eprintln!("Nothing was changed.");
            return Err(Failure::Outcome(error::USAGE));
        }
    }
    let r =
        api.send(Req::new("DELETE", format!("/v1/connectors/{}", seg(id))).doing("uninstalling"))?;
    if out.json {
        ui::print_raw(&r.body);
    } else {
        println!("Uninstalled {id}: its credentials are purged; its events are kept.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::tests::{manifest, Script};

    fn api_error(status: u16, code: &str, param: Option<&str>) -> ApiError {
        let mut e = json!({"type": "invalid_request_error", "code": code, "message": "No."});
        if let Some(p) = param {
            e["param"] = json!(p);
        }
        ApiError::from_answer(
            status,
            None,
            None,
            json!({"error": e}).to_string().into_bytes(),
        )
    }

    #[test]
    fn a_terminal_is_asked_again_for_the_field_the_server_refused() {
        let m = manifest().to_string();
        let refused = r#"{"error":{"type":"invalid_request_error","code":"invalid_parameter","param":"config.base_url","message":"Invalid config.base_url: is not a uri.","request_id":"req_2"}}"#;
        let taken = r#"{"error":{"type":"conflict_error","code":"state_conflict","message":"A connector named 'main' already exists.","request_id":"req_3"}}"#;
        let created = r#"{"id":"cn_1","object":"connector","name":"main2","listing":"shop","status":"connected"}"#;
        let (base, seen) = crate::api::tests::canned(vec![
            (200, m),
            (400, refused.into()),
            (409, taken.into()),
            (201, created.into()),
        ]);
        let api = Api::new(&base, "mk_k");
        let mut s = Script::new(
            true,
            &[
                "http://x:99999",
                "",
                "",
                "",
                "",
                "tok_1",
                "https://ok.example",
                "main2",
            ],
        );
        let i = Install {
            listing: "shop".into(),
            name: Some("main".into()),
            set: vec![],
            secret: vec![],
            wait: false,
            wait_timeout: 1,
            return_url: None,
            idempotency_key: None,
        };
        install(&api, i, &mut s, Out { json: true }).unwrap();
        let seen = seen.lock().unwrap();
        let bodies: Vec<Value> = seen[1..]
            .iter()
            .map(|x| serde_json::from_str(&x.body).unwrap())
            .collect();
        assert_eq!(bodies[0]["config"]["base_url"], "http://x:99999");
        assert_eq!(bodies[1]["config"]["base_url"], "https://ok.example");
        assert_eq!(
            bodies[1]["auth"],
            json!({"type": "api_key", "key": "tok_1"})
        );
        assert_eq!(
            (bodies[1]["name"].as_str(), bodies[2]["name"].as_str()),
            (Some("main"), Some("main2"))
        );
        assert_eq!(bodies[2]["config"]["base_url"], "https://ok.example");
        // Only the refused field was asked again (7 fields, then 1, then the name).
        assert_eq!(s.asked.len(), 8, "{:?}", s.asked);
        assert!(s.asked[6].0.starts_with("Store URL (config.base_url"));
    }

    #[test]
    fn piped_answers_end_at_the_server_refusal() {
        let m = manifest().to_string();
        let refused = r#"{"error":{"type":"invalid_request_error","code":"invalid_parameter","param":"config.base_url","message":"Invalid config.base_url.","request_id":"req_2"}}"#;
        let (base, seen) = crate::api::tests::canned(vec![(200, m), (400, refused.into())]);
        let api = Api::new(&base, "mk_k");
        let mut s = Script::new(
            false,
            &["http://x:99999", "", "", "", "", "tok_1", "never read"],
        );
        let i = Install {
            listing: "shop".into(),
            name: None,
            set: vec![],
            secret: vec![],
            wait: false,
            wait_timeout: 1,
            return_url: None,
            idempotency_key: Some("k1".into()),
        };
        match install(&api, i, &mut s, Out { json: false }) {
            Err(f @ Failure::Api(_)) => {
                assert_eq!(f.exit_code(), error::USAGE);
                assert!(f.describe().unwrap().contains("param config.base_url"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.asked.len(), 6);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[1]
            .headers
            .contains(&("idempotency-key".into(), "k1".into())));
    }

    #[test]
    fn the_body_carries_the_auth_type_and_only_the_answers() {
        let f = prompt::fields(&manifest());
        let mut s = Script::new(false, &["https://a.example", "", "", "", "", "tok_1"]);
        let a = prompt::collect(&f, &[], &mut s).unwrap();
        let b = install_body("shop", "api_key", Some("main"), &a, None);
        assert_eq!(
            b,
            json!({"listing": "shop", "name": "main", "auth": {"type": "api_key", "key": "tok_1"},
                   "config": {"base_url": "https://a.example"}})
        );
    }

    #[test]
    fn a_refusal_names_what_to_ask_again() {
        let f = prompt::fields(&manifest());
        let keys =
            |v: Option<Vec<&Field>>| v.map(|v| v.iter().map(|f| f.param()).collect::<Vec<_>>());
        assert_eq!(
            keys(to_reask(
                &api_error(400, "invalid_parameter", Some("config.base_url")),
                &f
            )),
            Some(vec!["config.base_url".to_string()])
        );
        assert_eq!(
            keys(to_reask(&api_error(422, "auth_failed", Some("auth")), &f)),
            Some(vec!["auth.key".to_string()])
        );
        assert_eq!(
            keys(to_reask(
                &api_error(400, "target_not_allowed", Some("config")),
                &f
            )),
            Some(vec!["config.base_url".to_string()])
        );
        assert_eq!(
            keys(to_reask(
                &api_error(422, "listing_early_access", Some("listing")),
                &f
            )),
            None
        );
    }

    #[test]
    fn a_connector_shows_its_hint_never_more() {
        let c = json!({"id": "cn_1", "name": "shop", "listing": "magento", "listing_version": "1.2.0",
            "status": "connected", "kind": "saas", "transport": "http", "created_at": "t0", "updated_at": "t1",
            "crew_id": null, "auth": {"type": "api_key", "hint": "mg_****41"},
            "health": {"healthy": true, "last_check": "t2", "latency_ms": 12, "message": ""},
            "config": {"base_url": "http://x"},
            "tools": [{"name": "get_order", "capability": "order.read", "side_effect": false},
                      {"name": "hold_order", "capability": "order.hold", "side_effect": true}]});
        let s = render(&c);
        assert!(
            s.starts_with("shop (cn_1) · magento 1.2.0 · connected\n"),
            "{s}"
        );
        assert!(s.contains("auth: api_key mg_****41\n"), "{s}");
        assert!(s.contains("health: ✓ · last check t2 · 12 ms\n"), "{s}");
        assert!(s.contains("  base_url = http://x\n"), "{s}");
        assert!(s.contains("  hold_order  order.hold  ⚠ writes\n"), "{s}");
        let l = list_table(&[c]);
        assert!(l.contains("cn_1  shop  magento 1.2.0  connected  ✓"), "{l}");
    }

    #[test]
    fn test_results_are_a_table() {
        let v = json!({"object": "connector_test", "status": "failed", "results": [
            {"tool": "get_order", "mode": "live", "ok": true, "latency_ms": 8},
            {"tool": "hold_order", "mode": "dry_run", "ok": false, "latency_ms": 9, "error": "HTTP 401"},
            {"tool": "query", "mode": "dry_run", "ok": null, "latency_ms": null, "error": "cannot run here"}]});
        let t = test_table(&v);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "TOOL        MODE     RESULT     LATENCY  DETAIL");
        assert_eq!(lines[1], "get_order   live     ✓ ok       8 ms");
        assert_eq!(
            lines[2],
            "hold_order  dry-run  ✗ failed   9 ms     HTTP 401"
        );
        assert_eq!(
            lines[3],
            "query       dry-run  ? not run           cannot run here"
        );
        assert!(t.contains("✗ failed: 3 tool(s)"), "{t}");
    }

    #[test]
    fn an_oauth_install_says_where_to_consent() {
        let c = json!({"id": "cn_2", "name": "drive", "listing": "google-drive", "listing_version": "1.0.0",
            "status": "pending_auth", "health": {"healthy": null}, "next_step": "oauth",
            "authorize_url": "https://accounts.example/auth?state=s", "authorize_expires_at": "t9"});
        let s = installed(&c, false);
        assert!(s.contains("status pending_auth"), "{s}");
        assert!(
            s.contains("(before t9):\n  https://accounts.example/auth?state=s\n"),
            "{s}"
        );
        assert!(s.contains("--wait"), "{s}");
    }
}
