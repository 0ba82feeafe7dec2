//! `POST /v1/connectors/{id}/test` over HTTP (API §4): parse, call
//! `app::tool_test`, render.

use super::error::ApiError;
use super::extract::JsonBody;
use super::http::{HttpRequest, HttpResponse};
use super::App;
use crate::domain::auth::Role;
use serde_json::json;

/// `POST /v1/connectors/{id}/test` — `{tools?: [names]}`; all tools when absent.
pub async fn test_connector(
    app: &App,
    req: &HttpRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let principal = app.principal(req).await?;
    let (tenant, by) = principal.require(Role::Manager)?;
    let body = JsonBody::parse(&req.body)?;
    body.only(&["tools"])?;
    let report =
        crate::app::tool_test::test(app, tenant, by.as_str(), id, body.get("tools")).await?;
    let results: Vec<_> = report
        .results
        .iter()
        .map(|r| {
            let mut v =
                json!({"tool": r.tool, "mode": r.mode, "ok": r.ok, "latency_ms": r.latency_ms});
            if let Some(e) = &r.error {
                v["error"] = json!(e);
            }
            if let Some(o) = &r.output {
                v["output"] = json!(o);
            }
            v
        })
        .collect();
    Ok(HttpResponse::json(
        200,
        &json!({"object": "connector_test", "connector_id": report.connector_id, "status": report.status, "results": results}),
    ))
}
