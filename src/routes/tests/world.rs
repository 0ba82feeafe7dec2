//! Driving the `World` over HTTP: the route tests' requests, and the set-up
//! they share (tenants, keys, the catalog loaded the way `make dev` loads it).

use crate::routes::handle;
use crate::routes::http::{HttpRequest, HttpResponse, Method};
use crate::testing::{World, OP};
use serde_json::{json, Value};

impl World {
    pub(crate) fn send(&self, req: HttpRequest) -> HttpResponse {
        self.now.set(self.now.get() + 1);
        let r = pollster::block_on(handle(&self.app(), req));
        assert!(r
            .get_header("request-id")
            .is_some_and(|id| id.starts_with("req_")));
        r
    }

    pub(crate) fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = HttpRequest::new(method, path);
        if let Some(a) = auth {
            req = req.with_header("authorization", a);
        }
        if let Some(b) = body {
            req = req.with_body(b.to_string());
        }
        let r = self.send(req);
        let v = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).expect("every answer is JSON")
        };
        (r.status, v)
    }

    /// Creates a tenant; answers its id and admin bearer header.
    pub(crate) fn tenant(&self, name: &str) -> (String, String) {
        let (s, v) = self.call(
            Method::Post,
            "/v1/tenants",
            Some(OP),
            Some(json!({"name": name})),
        );
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_str().unwrap().into(),
            format!("Bearer {}", v["api_key"]["secret"].as_str().unwrap()),
        )
    }

    pub(crate) fn key(&self, admin: &str, role: &str) -> (String, String) {
        let (s, v) = self.call(
            Method::Post,
            "/v1/api-keys",
            Some(admin),
            Some(json!({"role": role})),
        );
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_str().unwrap().into(),
            v["secret"].as_str().unwrap().into(),
        )
    }

    pub(crate) fn load_catalog(&self) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == "manifest.schema.json" {
                continue;
            }
            let id = name.trim_end_matches(".json");
            let req = HttpRequest::new(Method::Put, &format!("/v1/catalog/{id}"))
                .with_header("authorization", OP)
                .with_body(std::fs::read(&p).unwrap());
            let r = self.send(req);
            assert_eq!(r.status, 200, "{id}: {}", String::from_utf8_lossy(&r.body));
        }
    }
}

/// `catalog/github.json` under another id, name and version: a manifest
/// to submit.
pub(crate) fn github_as(id: &str, name: &str, version: &str) -> Value {
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json"))
        .unwrap();
    let mut m: Value = serde_json::from_str(&raw).unwrap();
    m["id"] = json!(id);
    m["name"] = json!(name);
    m["version"] = json!(version);
    m
}

impl World {
    /// `POST /v1/submissions {manifest, visibility}`.
    pub(crate) fn submit(&self, key: &str, m: Value, visibility: &str) -> (u16, Value) {
        self.call(
            Method::Post,
            "/v1/submissions",
            Some(key),
            Some(json!({"manifest": m, "visibility": visibility})),
        )
    }

    /// `POST /v1/submissions/{id}/{verb}` (`approve` or `reject`).
    pub(crate) fn review(
        &self,
        key: &str,
        id: &str,
        verb: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call(
            Method::Post,
            &format!("/v1/submissions/{id}/{verb}"),
            Some(key),
            body,
        )
    }
}

pub(crate) fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no code>")
}
