//! `catalog search` and `catalog show`.

use super::Out;
use crate::api::{seg, Api, Req};
use crate::args::Search;
use crate::error::Result;
use crate::prompt::{self, Section};
use crate::ui::{self, cell, clip, table, text};
use serde_json::Value;

pub fn search(api: &Api, s: Search, out: Out) -> Result<()> {
    let r = api.send(
        Req::get("/v1/catalog")
            .query("q", s.query)
            .query("category", s.category)
            .query("kind", s.kind)
            .query("auth_mode", s.auth_mode)
            .query("capability", s.capability)
            .query("tag", s.tag)
            .query("featured", s.featured.then_some("true"))
            .query("limit", s.page.limit)
            .query("cursor", s.page.cursor)
            .doing("searching the catalog"),
    )?;
    out.list(&r, search_table, "listings");
    Ok(())
}

pub fn search_table(items: &[Value]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|l| {
            vec![
                text(l, "id").to_string(),
                text(l, "name").to_string(),
                text(l, "category").to_string(),
                text(l, "kind").to_string(),
                text(l, "auth_mode").to_string(),
                match (l["featured"].as_bool(), text(l, "availability")) {
                    (_, "early_access") => "early access".into(),
                    (Some(true), _) => "★".into(),
                    _ => String::new(),
                },
                clip(text(l, "description"), 60),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "CATEGORY", "KIND", "AUTH", "", "DESCRIPTION"],
        &rows,
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

pub fn show(api: &Api, listing: &str, out: Out) -> Result<()> {
    let r =
        api.send(Req::get(format!("/v1/catalog/{}", seg(listing))).doing("reading the listing"))?;
    if out.json {
        ui::print_raw(&r.body);
        return Ok(());
    }
    print!("{}", render_listing(&r.json()));
    Ok(())
}

/// A listing for people: what it is, how it authenticates, what it needs,
/// what it can do (side-effecting tools marked).
pub fn render_listing(m: &Value) -> String {
    let mut s = String::new();
    let mut head = vec![
        format!("{} ({})", text(m, "name"), text(m, "id")),
        format!("v{}", text(m, "version")),
    ];
    for k in ["category", "kind", "transport", "availability"] {
        if !text(m, k).is_empty() {
            head.push(text(m, k).to_string());
        }
    }
    if m["featured"].as_bool() == Some(true) {
        head.push("★ featured".into());
    }
    s.push_str(&head.join(" · "));
    s.push('\n');
    if !text(m, "description").is_empty() {
        s.push_str(text(m, "description"));
        s.push('\n');
    }
    if let Some(p) = m.get("pricing").filter(|p| p.is_object()) {
        let price = match (p["amount_cents"].as_u64(), text(p, "currency")) {
            (Some(c), cur) => format!(
                "{}.{:02} {} / {}",
                c / 100,
                c % 100,
                cur.to_uppercase(),
                text(p, "interval").replace('_', " ")
            ),
            _ => text(p, "model").to_string(),
        };
        s.push_str(&format!("Pricing: {price}\n"));
    }
    let fields = prompt::fields(m);
    s.push_str(&format!("\nAuth: {}\n", text(&m["auth"], "mode")));
    let auth: Vec<Vec<String>> = fields
        .iter()
        .filter(|f| f.section == Section::Auth)
        .map(|f| {
            vec![
                f.key.clone(),
                f.label.clone(),
                if f.secret { "yes" } else { "no" }.into(),
                if f.required { "yes" } else { "no" }.into(),
                f.pattern.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if auth.is_empty() {
        s.push_str("  (no credential fields)\n");
    } else {
        s.push_str(&indent(&table(
            &["KEY", "LABEL", "SECRET", "REQUIRED", "PATTERN"],
            &auth,
        )));
    }
    let config: Vec<Vec<String>> = fields
        .iter()
        .filter(|f| f.section == Section::Config)
        .map(|f| {
            let schema = &m["config_schema"]["properties"][&f.key];
            let ty = match &schema["type"] {
                Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join("|"),
                t => cell(t),
            };
            vec![
                f.key.clone(),
                ty,
                if f.required && f.default.is_none() {
                    "yes"
                } else {
                    "no"
                }
                .into(),
                f.default
                    .as_ref()
                    .map(|d| match d {
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
                clip(
                    f.help
                        .as_deref()
                        .unwrap_or(if f.label == f.key { "" } else { &f.label }),
                    60,
                ),
            ]
        })
        .collect();
    s.push_str("\nConfig:\n");
    if config.is_empty() {
        s.push_str("  (no settings)\n");
    } else {
        s.push_str(&indent(&table(
            &["KEY", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"],
            &config,
        )));
    }
    let caps: Vec<String> = m["capabilities"]
        .as_array()
        .map(|a| a.iter().map(cell).collect())
        .unwrap_or_default();
    s.push_str(&format!("\nCapabilities: {}\n", caps.join(", ")));
    let tools: Vec<Vec<String>> = m["tools"]
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
                clip(
                    if text(t, "title").is_empty() {
                        text(t, "description")
                    } else {
                        text(t, "title")
                    },
                    60,
                ),
            ]
        })
        .collect();
    s.push_str("\nTools (⚠ writes: changes something at the provider; tests only dry-run it):\n");
    s.push_str(&indent(&table(
        &["NAME", "CAPABILITY", "EFFECT", "DESCRIPTION"],
        &tools,
    )));
    s.push_str(&format!(
        "\nInstall: connector connectors install {}\n",
        text(m, "id")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listing_shows_auth_config_capabilities_and_marked_tools() {
        let mut m = crate::prompt::tests::manifest();
        m["name"] = json!("Shop");
        m["version"] = json!("1.2.0");
        m["kind"] = json!("saas");
        m["description"] = json!("Orders and products.");
        m["pricing"] =
            json!({"model": "paid", "amount_cents": 1900, "currency": "usd", "interval": "month"});
        m["capabilities"] = json!(["order.read", "order.hold"]);
        m["tools"] = json!([
            {"name": "get_order", "capability": "order.read", "side_effect": false, "description": "Read an order."},
            {"name": "hold_order", "capability": "order.hold", "side_effect": true, "title": "Hold an order"}
        ]);
        let s = render_listing(&m);
        assert!(s.starts_with("Shop (shop) · v1.2.0 · saas\n"), "{s}");
        assert!(s.contains("Pricing: 19.00 USD / month"), "{s}");
        assert!(s.contains("Auth: api_key"), "{s}");
        assert!(
            s.contains("  key  Access token  yes     yes       ^tok_[a-z0-9]+$\n"),
            "{s}"
        );
        assert!(
            s.contains("  base_url   string      yes                Where the store is.\n"),
            "{s}"
        );
        assert!(s.contains("  page_size  integer     no        20\n"), "{s}");
        assert!(
            s.contains("  read_only  boolean     no        true\n"),
            "{s}"
        );
        assert!(s.contains("  tags       array|null  no\n"), "{s}");
        assert!(s.contains("Capabilities: order.read, order.hold"), "{s}");
        assert!(
            s.contains("get_order   order.read  read      Read an order."),
            "{s}"
        );
        assert!(
            s.contains("hold_order  order.hold  ⚠ writes  Hold an order"),
            "{s}"
        );
    }

    #[test]
    fn search_rows_mark_featured_and_early_access() {
        let t = search_table(&[
            json!({"id": "github", "name": "GitHub", "category": "dev", "kind": "saas", "auth_mode": "pat", "featured": true, "availability": "live", "description": "Code."}),
            json!({"id": "atlas", "name": "Atlas", "category": "db", "kind": "database", "auth_mode": "basic", "featured": false, "availability": "early_access", "description": ""}),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with("github  GitHub  dev       saas      pat    ★"),
            "{t}"
        );
        assert!(lines[2].contains("early access"), "{t}");
    }
}
