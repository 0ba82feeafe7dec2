//! `tools call`, `consumers tools`, `approvals list|approve|deny`.

use super::Out;
use crate::api::{seg, Api, Req};
use crate::args::{Call, Page};
use crate::error::{self, Failure, Result};
use crate::ui::{self, cell, clip, table, text};
use serde_json::{json, Map, Value};

/// The arguments of a call: `--args` as one JSON object, or `--arg`
/// pairs whose values are JSON when they parse as JSON, else strings.
pub fn arguments(args: Option<&str>, pairs: &[(String, String)]) -> Result<Map<String, Value>> {
    if let Some(a) = args {
        return match serde_json::from_str::<Value>(a) {
            Ok(Value::Object(o)) => Ok(o),
            Ok(_) => Err(Failure::Usage("--args must be a JSON object".into())),
            Err(e) => Err(Failure::Usage(format!("--args is not JSON: {e}"))),
        };
    }
    let mut m = Map::new();
    for (k, v) in pairs {
        let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.clone()));
        m.insert(k.clone(), value);
    }
    Ok(m)
}

/// A fresh idempotency key (`cli_` and 32 hex digits from the system's
/// random source).
pub fn fresh_key() -> String {
    let mut b = [0u8; 16];
    let got = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b));
    if got.is_err() {
        // No /dev/urandom: time and pid are unique enough for one caller.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id()) << 64;
        b = t.to_le_bytes();
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("cli_{hex}")
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn call(api: &Api, c: Call, out: Out) -> Result<()> {
    let args = arguments(c.args.as_deref(), &c.arg)?;
    let made_up = c.idempotency_key.is_none();
    let key = c.idempotency_key.clone().unwrap_or_else(fresh_key);
    let mut body = json!({ "arguments": args });
    if c.dry_run {
        body["dry_run"] = json!(true);
    }
    let r = api.send(
        Req::post(
            format!(
                "/v1/connectors/{}/tools/{}/call",
                seg(&c.connector),
                seg(&c.tool)
            ),
            body,
        )
        .header("idempotency-key", Some(&key))
        .doing(format!("calling {}", c.tool)),
    )?;
    let v = r.json();
    if out.json {
        ui::print_raw(&r.body);
    } else {
        let again = format!(
            "connector tools call {} {} --args {} --idempotency-key {}",
            shell_quote(&c.connector),
            shell_quote(&c.tool),
            shell_quote(&Value::Object(args.clone()).to_string()),
            shell_quote(&key)
        );
        print!("{}", receipt(&v, r.replayed, &again));
        if made_up && text(&v, "status") != "pending_approval" {
            eprintln!(
                "idempotency key {key} (to repeat this call safely: --idempotency-key {key})"
            );
        }
    }
    outcome(&v, r.status)
}

/// The exit code a receipt means.
pub fn outcome(v: &Value, status: u16) -> Result<()> {
    match (text(v, "status"), status) {
        ("pending_approval", _) | (_, 202) => Err(Failure::Outcome(error::CONFLICT)),
        ("failed", _) => Err(Failure::Outcome(error::API)),
        ("denied", _) => Err(Failure::Outcome(error::AUTH)),
        _ => Ok(()),
    }
}

/// A tool call receipt for people; `again` is the command that collects
/// the result of a held call.
pub fn receipt(v: &Value, replayed: bool, again: &str) -> String {
    let status = text(v, "status");
    let mut s = format!(
        "{} {} · {} {} · {} · {}",
        match status {
            "succeeded" => "✓",
            "failed" | "denied" => "✗",
            _ => "…",
        },
        text(v, "id"),
        text(v, "listing"),
        text(v, "tool"),
        text(v, "mode").replace('_', "-"),
        status.replace('_', " ")
    );
    if let Some(u) = v["upstream_status"].as_u64() {
        s.push_str(&format!(" · HTTP {u}"));
    }
    if let Some(l) = v["latency_ms"].as_u64() {
        s.push_str(&format!(" · {l} ms"));
    }
    if replayed {
        s.push_str(" · replayed");
    }
    s.push('\n');
    if status == "pending_approval" {
        let ap = text(v, "approval_id");
        s.push_str(&format!(
            "Waiting for approval {ap}: nothing was sent to the provider. A manager decides:\n  connector approvals approve {ap}\n  connector approvals deny {ap} --reason '…'\nAfterwards the same call with the same key returns the result:\n  {again}\n"
        ));
        return s;
    }
    if let Some(e) = v["error"].as_object() {
        s.push_str(&format!(
            "error: {}{}\n",
            e.get("message").and_then(Value::as_str).unwrap_or(""),
            e.get("code")
                .and_then(Value::as_str)
                .map(|c| format!(" (code {c})"))
                .unwrap_or_default()
        ));
    }
    if !v["result"].is_null() {
        let pretty = serde_json::to_string_pretty(&v["result"]).unwrap_or_default();
        s.push_str(&format!("result:\n{pretty}\n"));
        if v["truncated"].as_bool() == Some(true) {
            s.push_str("(truncated by the listing's result cap)\n");
        }
    }
    s
}

pub fn consumer_tools(api: &Api, consumer: &str, out: Out) -> Result<()> {
    let r = api.send(
        Req::get(format!("/v1/consumers/{}/tools", seg(consumer))).doing("reading the tools"),
    )?;
    if out.json {
        ui::print_raw(&r.body);
        return Ok(());
    }
    print!("{}", consumer_table(&r.json()));
    Ok(())
}

pub fn consumer_table(v: &Value) -> String {
    let rows: Vec<Vec<String>> = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            vec![
                text(t, "name").to_string(),
                text(t, "tool").to_string(),
                text(t, "capability").to_string(),
                text(t, "listing").to_string(),
                text(t, "connector_id").to_string(),
                if t["side_effect"].as_bool() == Some(true) {
                    "⚠ writes".into()
                } else {
                    "read".into()
                },
            ]
        })
        .collect();
    let mut s = table(
        &[
            "NAME",
            "TOOL",
            "CAPABILITY",
            "LISTING",
            "CONNECTOR",
            "EFFECT",
        ],
        &rows,
    );
    for w in v["withheld"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "withheld: {} ({})\n",
            text(w, "name"),
            text(w, "reason")
        ));
    }
    let unserved: Vec<String> = v["unserved_bindings"]
        .as_array()
        .map(|a| a.iter().map(cell).collect())
        .unwrap_or_default();
    if !unserved.is_empty() {
        s.push_str(&format!(
            "bindings no connector serves now: {}\n",
            unserved.join(", ")
        ));
    }
    s
}

pub fn approvals(
    api: &Api,
    status: Option<String>,
    consumer: Option<String>,
    page: Page,
    out: Out,
) -> Result<()> {
    let r = api.send(
        Req::get("/v1/approvals")
            .query("status", status)
            .query("consumer", consumer)
            .query("limit", page.limit)
            .query("cursor", page.cursor)
            .doing("listing approvals"),
    )?;
    out.list(&r, approvals_table, "approvals");
    Ok(())
}

pub fn approvals_table(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|a| {
            vec![
                text(a, "id").to_string(),
                text(a, "status").to_string(),
                text(a, "consumer").to_string(),
                text(a, "tool").to_string(),
                text(a, "connector_id").to_string(),
                clip(&a["arguments"].to_string(), 40),
                if text(a, "status") == "pending" {
                    text(a, "expires_at").to_string()
                } else {
                    a["decided_by"].as_str().unwrap_or("").to_string()
                },
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STATUS",
            "CONSUMER",
            "TOOL",
            "CONNECTOR",
            "ARGUMENTS",
            "EXPIRES / DECIDED BY",
        ],
        &rows,
    )
}

pub fn approve(api: &Api, id: &str, out: Out) -> Result<()> {
    let r = api.send(
        Req::post(format!("/v1/approvals/{}/approve", seg(id)), json!({}))
            .doing("approving and running the call"),
    )?;
    let v = r.json();
    if out.json {
        ui::print_raw(&r.body);
    } else {
        println!(
            "Approved {id} ({} {} for {}).",
            text(&v, "tool"),
            clip(&v["arguments"].to_string(), 60),
            text(&v, "consumer")
        );
        if v["tool_call"].is_object() {
            print!("{}", receipt(&v["tool_call"], false, ""));
        }
    }
    match text(&v["tool_call"], "status") {
        "failed" => Err(Failure::Outcome(error::API)),
        _ => Ok(()),
    }
}

pub fn deny(api: &Api, id: &str, reason: Option<String>, out: Out) -> Result<()> {
    let body = match &reason {
        Some(r) => json!({ "reason": r }),
        None => json!({}),
    };
    let r =
        api.send(Req::post(format!("/v1/approvals/{}/deny", seg(id)), body).doing("denying"))?;
    if out.json {
        ui::print_raw(&r.body);
    } else {
        let v = r.json();
        println!(
            "Denied {id} ({} for {}): the call will not run.",
            text(&v, "tool"),
            text(&v, "consumer")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_from_json_or_pairs() {
        let pairs = vec![
            ("order_id".to_string(), "42".to_string()),
            ("title".to_string(), "Hello there".to_string()),
            ("quoted".to_string(), "\"42\"".to_string()),
            ("flags".to_string(), "[1,true]".to_string()),
        ];
        assert_eq!(
            Value::Object(arguments(None, &pairs).unwrap()),
            json!({"order_id": 42, "title": "Hello there", "quoted": "42", "flags": [1, true]})
        );
        assert_eq!(
            Value::Object(arguments(Some(r#"{"a": {"b": 1}}"#), &[]).unwrap()),
            json!({"a": {"b": 1}})
        );
        assert!(matches!(
            arguments(Some("[1]"), &[]),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(arguments(Some("{"), &[]), Err(Failure::Usage(_))));
    }

    #[test]
    fn made_up_keys_are_fresh() {
        let (a, b) = (fresh_key(), fresh_key());
        assert!(a.starts_with("cli_") && a.len() == 36, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn receipts_map_to_exit_codes() {
        let r = |s: &str| json!({"status": s});
        assert!(outcome(&r("succeeded"), 200).is_ok());
        let code = |v: &Value, st| outcome(v, st).unwrap_err().exit_code();
        assert_eq!(code(&r("pending_approval"), 200), error::CONFLICT);
        assert_eq!(code(&r("pending_approval"), 202), error::CONFLICT);
        assert_eq!(code(&r("failed"), 200), error::API);
        assert_eq!(code(&r("denied"), 200), error::AUTH);
    }

    #[test]
    fn a_held_call_names_the_approval_and_the_commands() {
        let v = json!({"id": "tc_1", "listing": "magento", "tool": "hold_order", "mode": "live",
                       "status": "pending_approval", "approval_id": "ap_9", "result": null, "error": null});
        let s = receipt(
            &v,
            false,
            "connector tools call cn_1 hold_order --args '{}' --idempotency-key k",
        );
        assert!(
            s.starts_with("… tc_1 · magento hold_order · live · pending approval\n"),
            "{s}"
        );
        assert!(s.contains("connector approvals approve ap_9"), "{s}");
        assert!(s.contains("connector approvals deny ap_9"), "{s}");
        assert!(s.contains("--idempotency-key k"), "{s}");
    }

    #[test]
    fn a_done_call_shows_status_and_result() {
        let v = json!({"id": "tc_2", "listing": "magento", "tool": "get_order", "mode": "live",
                       "status": "succeeded", "upstream_status": 200, "latency_ms": 5,
                       "result": {"entity_id": 7}, "error": null});
        let s = receipt(&v, true, "");
        assert!(
            s.starts_with(
                "✓ tc_2 · magento get_order · live · succeeded · HTTP 200 · 5 ms · replayed\n"
            ),
            "{s}"
        );
        assert!(s.contains("result:\n{\n  \"entity_id\": 7\n}\n"), "{s}");
        let v = json!({"id": "tc_3", "listing": "x", "tool": "t", "mode": "live", "status": "failed",
                       "upstream_status": 404, "error": {"code": "provider_rejected", "message": "Not found."}, "result": null});
        assert!(receipt(&v, false, "").contains("error: Not found. (code provider_rejected)"));
    }

    #[test]
    fn quoting_for_the_shell() {
        assert_eq!(shell_quote("cn_1"), "cn_1");
        assert_eq!(shell_quote("{\"a\":1}"), "'{\"a\":1}'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn approvals_and_consumer_tools_are_tables() {
        let t = approvals_table(&[
            json!({"id": "ap_1", "status": "pending", "consumer": "bot", "tool": "hold_order",
            "connector_id": "cn_1", "arguments": {"order_id": 42}, "expires_at": "t1"}),
        ]);
        assert!(
            t.lines().nth(1).unwrap().starts_with(
                "ap_1  pending  bot       hold_order  cn_1       {\"order_id\":42}  t1"
            ),
            "{t}"
        );
        let c = consumer_table(
            &json!({"data": [{"name": "magento_hold_order", "tool": "hold_order", "capability": "order.hold",
            "listing": "magento", "connector_id": "cn_1", "side_effect": true}], "withheld": [{"name": "x", "reason": "clash"}],
            "unserved_bindings": ["bd_1"]}),
        );
        assert!(
            c.contains("magento_hold_order  hold_order  order.hold  magento  cn_1       ⚠ writes"),
            "{c}"
        );
        assert!(c.contains("withheld: x (clash)"), "{c}");
        assert!(c.contains("bindings no connector serves now: bd_1"), "{c}");
    }
}
