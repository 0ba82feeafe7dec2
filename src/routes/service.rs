//! Service routes: liveness of the platform parts, a do-nothing floor route
//! for benchmarks, and the OpenAPI document.

use super::error::ApiError;
use super::http::HttpResponse;
use super::App;
use serde_json::json;

/// The OpenAPI 3.1 document, kept beside the code it describes. Native
/// builds (the tests) embed it; the Wasm build does not: static text need not
/// be compiled into the module, so worker/entry.mjs bundles it and hands it
/// over (`crate::edge::openapi_document`).
#[cfg(not(target_arch = "wasm32"))]
pub const OPENAPI: &str = include_str!("../openapi.json");

#[cfg(not(target_arch = "wasm32"))]
fn document() -> String {
    OPENAPI.to_owned()
}

#[cfg(target_arch = "wasm32")]
fn document() -> String {
    crate::edge::openapi_document()
}

/// `GET /healthz` — no auth; checks D1, KV and a Durable Object. Answers 503
/// with the failing part named when any is unreachable.
pub async fn healthz(app: &App) -> Result<HttpResponse, ApiError> {
    let d1 = app.tenants.ping().await;
    let kv = app.cache.get("healthz").await.map(|_| ());
    let dobj = app.objects.ping("healthz").await;
    let part = |r: &Result<(), crate::store::StoreError>, name: &str| match r {
        Ok(()) => json!({"ok": true}),
        Err(e) => {
            (app.log)(&format!("healthz: {name} unreachable: {}", e.0));
            json!({"ok": false})
        }
    };
    let ok = d1.is_ok() && kv.is_ok() && dobj.is_ok();
    Ok(HttpResponse::json(
        if ok { 200 } else { 503 },
        &json!({
            "status": if ok { "ok" } else { "degraded" },
            "checks": {"d1": part(&d1, "d1"), "kv": part(&kv, "kv"), "durable_objects": part(&dobj, "durable_objects")},
            "time": app.now.rfc3339(),
        }),
    ))
}

/// `GET /v1/ping` — touches no storage: the benchmark's floor.
pub fn ping() -> HttpResponse {
    HttpResponse::json(200, &json!({"object": "ping", "ok": true}))
}

/// `GET /v1/openapi.json`.
pub fn openapi() -> HttpResponse {
    HttpResponse::raw_json(200, document().into_bytes())
}
