//! The whole API over memory stores: every route, envelope and status.

use super::http::{HttpRequest, HttpResponse, Method};
use super::*;
use crate::domain::ids::testing::SeqRandom;
use crate::store::memory::{MemoryCache, MemoryCatalog, MemoryObjects, MemoryTenants};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};

const OP: &str = "Bearer test-operator";

/// Stores shared across the requests of one test.
struct World {
    tenants: Rc<MemoryTenants>,
    catalog: Rc<MemoryCatalog>,
    cache: Rc<MemoryCache>,
    shared: Rc<Shared>,
    seed: Cell<u64>,
    now: Cell<i64>,
    logs: Rc<RefCell<Vec<String>>>,
}

macro_rules! forward {
    ($ty:ty, $tr:path, $($m:ident($($a:ident: $t:ty),*) -> $r:ty;)*) => {
        #[async_trait::async_trait(?Send)]
        impl $tr for Fwd<$ty> {
            $(async fn $m(&self, $($a: $t),*) -> $r { self.0.$m($($a),*).await })*
        }
    };
}

/// Lets each request's `App` own a box while the test keeps the store.
struct Fwd<T>(Rc<T>);

use crate::domain::ids::{KeyId, ListingId, TenantId};
use crate::domain::manifest::{ListingSummary, ValidManifest};
use crate::store::*;

forward!(MemoryTenants, TenantStore,
    create_tenant(t: &TenantRecord, k: &KeyRecord, e: &EventRecord) -> StoreResult<()>;
    insert_key(t: &TenantId, k: &KeyRecord, e: &EventRecord) -> StoreResult<()>;
    list_keys(t: &TenantId, a: Option<(String, String)>, l: usize) -> StoreResult<Vec<KeyRecord>>;
    revoke_key(t: &TenantId, i: &KeyId, at: &str, e: &EventRecord) -> StoreResult<bool>;
    live_key(i: &KeyId) -> StoreResult<Option<KeyRecord>>;
    ping() -> StoreResult<()>;
);
forward!(MemoryCatalog, CatalogStore,
    put_listing(m: &ValidManifest, n: &str) -> StoreResult<bool>;
    listing(i: &ListingId) -> StoreResult<Option<StoredListing>>;
    summaries() -> StoreResult<Vec<ListingSummary>>;
);
forward!(MemoryCache, Cache,
    get(k: &str) -> StoreResult<Option<String>>;
    put(k: &str, v: &str, t: u64) -> StoreResult<()>;
    delete(k: &str) -> StoreResult<()>;
);

impl World {
    fn new() -> Self {
        World {
            tenants: Rc::default(),
            catalog: Rc::default(),
            cache: Rc::default(),
            shared: Rc::default(),
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
            now: Cell::new(1_795_349_599_000),
            logs: Rc::default(),
        }
    }

    fn app(&self) -> App {
        // Each request gets fresh randomness continuing the sequence.
        self.seed.set(
            self.seed
                .get()
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1),
        );
        let logs = self.logs.clone();
        App {
            tenants: Box::new(Fwd(self.tenants.clone())),
            catalog: Box::new(Fwd(self.catalog.clone())),
            cache: Box::new(Fwd(self.cache.clone())),
            objects: Box::new(MemoryObjects),
            shared: self.shared.clone(),
            config: Rc::new(Config {
                operator_token: "test-operator".into(),
            }),
            rng: Box::new(SeqRandom(Cell::new(self.seed.get() | 1))),
            now: crate::domain::time::Millis(self.now.get()),
            log: Box::new(move |l| logs.borrow_mut().push(l.to_string())),
        }
    }

    fn send(&self, req: HttpRequest) -> HttpResponse {
        self.now.set(self.now.get() + 1);
        let r = pollster::block_on(handle(&self.app(), req));
        assert!(r
            .get_header("request-id")
            .is_some_and(|id| id.starts_with("req_")));
        r
    }

    fn call(
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
    fn tenant(&self, name: &str) -> (String, String) {
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

    fn key(&self, admin: &str, role: &str) -> (String, String) {
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

    fn load_catalog(&self) {
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

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no code>")
}

#[test]
fn tenant_creation_needs_the_operator() {
    let w = World::new();
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        None,
        Some(json!({"name": "acme"})),
    );
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
    assert_eq!(v["error"]["type"], "authentication_error");
    assert!(v["error"]["request_id"]
        .as_str()
        .unwrap()
        .starts_with("req_"));
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some("Bearer wrong"),
        Some(json!({"name": "acme"})),
    );
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
    let (s, v) = w.call(Method::Post, "/v1/tenants", Some(OP), Some(json!({})));
    assert_eq!(
        (s, err_code(&v), v["error"]["param"].as_str()),
        (400, "missing_parameter", Some("name"))
    );
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some(OP),
        Some(json!({"name": "a", "plan": "x"})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("plan")));
    let (_, admin) = w.tenant("acme");
    // A tenant key cannot create tenants.
    let (s, v) = w.call(
        Method::Post,
        "/v1/tenants",
        Some(&admin),
        Some(json!({"name": "x"})),
    );
    assert_eq!((s, err_code(&v)), (403, "forbidden"));
}

#[test]
fn keys_roles_and_revocation() {
    let w = World::new();
    let (tenant, admin) = w.tenant("acme");
    let (viewer_id, viewer) = w.key(&admin, "viewer");
    let (_, manager) = w.key(&admin, "manager");
    let viewer_bearer = format!("Bearer {viewer}");
    // Basic works with the key id as user name.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{viewer_id}:{viewer}"))
    );
    assert_eq!(
        w.call(Method::Get, "/v1/catalog", Some(&basic), None).0,
        200
    );
    // Viewers and managers cannot manage keys.
    for weak in [&viewer_bearer, &format!("Bearer {manager}")] {
        let (s, v) = w.call(
            Method::Post,
            "/v1/api-keys",
            Some(weak),
            Some(json!({"role": "admin"})),
        );
        assert_eq!((s, err_code(&v)), (403, "forbidden"));
    }
    let (s, v) = w.call(
        Method::Post,
        "/v1/api-keys",
        Some(&admin),
        Some(json!({"role": "root"})),
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("role")));
    // Listing shows no secret; newest first; pages.
    let (s, v) = w.call(Method::Get, "/v1/api-keys?limit=2", Some(&admin), None);
    assert_eq!(s, 200);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert!(v["has_more"].as_bool().unwrap());
    assert!(!v.to_string().contains(&viewer) && !v.to_string().contains("\"secret\""));
    let cursor = v["next_cursor"].as_str().unwrap();
    let (_, v2) = w.call(
        Method::Get,
        &format!("/v1/api-keys?limit=2&cursor={cursor}"),
        Some(&admin),
        None,
    );
    assert_eq!(v2["data"].as_array().unwrap().len(), 1);
    assert_eq!(v2["data"][0]["role"], "admin");
    let (s, v) = w.call(Method::Get, "/v1/api-keys?cursor=nope", Some(&admin), None);
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("cursor")));
    // Revoke the viewer: it stops working at once.
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{viewer_id}"),
        Some(&admin),
        None,
    );
    assert_eq!((s, v["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(
        w.call(Method::Get, "/v1/catalog", Some(&viewer_bearer), None)
            .0,
        401
    );
    assert_eq!(
        w.call(
            Method::Delete,
            &format!("/v1/api-keys/{viewer_id}"),
            Some(&admin),
            None
        )
        .0,
        404
    );
    // Another tenant's admin sees 404, never 403.
    let (_, other_admin) = w.tenant("globex");
    let (mid, _) = w.key(&admin, "manager");
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{mid}"),
        Some(&other_admin),
        None,
    );
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    // A key cannot revoke itself.
    let own = w
        .tenants
        .keys
        .borrow()
        .iter()
        .find(|(k, _)| k.tenant.as_str() == tenant && k.role == crate::domain::auth::Role::Admin)
        .unwrap()
        .0
        .id
        .clone();
    let (s, v) = w.call(
        Method::Delete,
        &format!("/v1/api-keys/{own}"),
        Some(&admin),
        None,
    );
    assert_eq!((s, err_code(&v)), (409, "state_conflict"));
    // Events were written, without secrets.
    let events = w.tenants.events.borrow();
    assert!(events.iter().any(|e| e.kind == "api_key.revoked"));
    assert!(events.iter().all(|e| !e.data.to_string().contains("mk_")));
    // No secret is stored in clear.
    for (k, _) in w.tenants.keys.borrow().iter() {
        assert_eq!(k.secret_hash.len(), 64);
        assert_ne!(k.secret_hash, viewer);
    }
}

#[test]
fn catalog_browse_filter_page() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, viewer) = w.key(&admin, "viewer");
    let viewer = format!("Bearer {viewer}");
    let (s, v) = w.call(Method::Get, "/v1/catalog?limit=100", Some(&viewer), None);
    assert_eq!(s, 200);
    let total = v["total"].as_u64().unwrap() as usize;
    assert!(total >= 16);
    assert_eq!(v["data"].as_array().unwrap().len(), total);
    // Featured listings come first.
    let featured: Vec<bool> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["featured"].as_bool().unwrap())
        .collect();
    assert!(featured.windows(2).all(|w| w[0] >= w[1]));
    // Paging by 5 visits every listing once.
    let mut seen = vec![];
    let mut url = "/v1/catalog?limit=5".to_string();
    loop {
        let (s, v) = w.call(Method::Get, &url, Some(&viewer), None);
        assert_eq!(s, 200);
        assert_eq!(v["total"].as_u64().unwrap() as usize, total);
        seen.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/catalog?limit=5&cursor={c}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (total, total));
    // Filters.
    for (query, must) in [
        ("auth_mode=oauth2", "slack"),
        ("kind=database", "postgresql"),
        ("category=developer-tools", "github"),
        ("q=postgres", "postgresql"),
        ("featured=true", "github"),
        ("tag=git", "gitlab"),
    ] {
        let (s, v) = w.call(
            Method::Get,
            &format!("/v1/catalog?{query}"),
            Some(&viewer),
            None,
        );
        assert_eq!(s, 200, "{query}: {v}");
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&must), "{query}: {ids:?}");
        assert!(ids.len() < total, "{query} filtered nothing");
    }
    let cap = "issue.read";
    let (_, v) = w.call(
        Method::Get,
        &format!("/v1/catalog?capability={cap}"),
        Some(&viewer),
        None,
    );
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == cap)));
    let (s, v) = w.call(
        Method::Get,
        "/v1/catalog?featured=maybe",
        Some(&viewer),
        None,
    );
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("featured")));
    let (s, v) = w.call(Method::Get, "/v1/catalog?limit=500", Some(&viewer), None);
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("limit")));
    // Categories sum to the total.
    let (s, v) = w.call(Method::Get, "/v1/catalog/categories", Some(&viewer), None);
    assert_eq!(s, 200);
    let sum: u64 = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum as usize, total);
}

#[test]
fn listing_is_verbatim_with_etag() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let raw = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json")).unwrap();
    let r = w.send(
        HttpRequest::new(Method::Get, "/v1/catalog/github").with_header("authorization", &admin),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, raw, "served verbatim");
    let etag = r.get_header("etag").unwrap().to_string();
    let r = w.send(
        HttpRequest::new(Method::Get, "/v1/catalog/github")
            .with_header("authorization", &admin)
            .with_header("if-none-match", &format!("\"x\", {etag}")),
    );
    assert_eq!((r.status, r.body.len()), (304, 0));
    let (s, v) = w.call(Method::Get, "/v1/catalog/nope-nope", Some(&admin), None);
    assert_eq!((s, err_code(&v)), (404, "not_found"));
    let (s, _) = w.call(Method::Get, "/v1/catalog/..%2F", Some(&admin), None);
    assert_eq!(s, 404);
    // Reads are cached: after one warm-up read each, repeated reads do not
    // reach the store.
    w.call(Method::Get, "/v1/catalog?q=git", Some(&admin), None);
    let before = *w.catalog.reads.borrow();
    for _ in 0..5 {
        w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
        w.call(Method::Get, "/v1/catalog?q=git", Some(&admin), None);
    }
    assert_eq!(*w.catalog.reads.borrow(), before);
}

#[test]
fn publishing_validates_and_invalidates() {
    let w = World::new();
    w.load_catalog();
    let (_, admin) = w.tenant("acme");
    let (_, v) = w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
    let mut m = v.clone();
    // A broken manifest is refused with its JSON path; nothing changes.
    m["capabilities"][0] = json!("NotACapability");
    let (s, e) = w.call(Method::Put, "/v1/catalog/github", Some(OP), Some(m));
    assert_eq!(
        (s, err_code(&e), e["error"]["param"].as_str()),
        (400, "invalid_manifest", Some("/capabilities/0"))
    );
    // Only the operator publishes.
    let (s, _) = w.call(
        Method::Put,
        "/v1/catalog/github",
        Some(&admin),
        Some(v.clone()),
    );
    assert_eq!(s, 403);
    // The id in the path must match.
    let (s, e) = w.call(Method::Put, "/v1/catalog/gitlab", Some(OP), Some(v.clone()));
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("/id")));
    // A change is visible at once, through both caches.
    let mut m = v.clone();
    m["name"] = json!("GitHub Enterprise");
    let (s, r) = w.call(Method::Put, "/v1/catalog/github", Some(OP), Some(m));
    assert_eq!((s, r["changed"].as_bool()), (200, Some(true)));
    let (_, got) = w.call(Method::Get, "/v1/catalog/github", Some(&admin), None);
    assert_eq!(got["name"], "GitHub Enterprise");
    let (_, list) = w.call(Method::Get, "/v1/catalog?q=enterprise", Some(&admin), None);
    assert_eq!(list["data"][0]["id"], "github");
}

#[test]
fn envelopes_for_unknown_routes_methods_bodies() {
    let w = World::new();
    let (_, admin) = w.tenant("acme");
    let (s, v) = w.call(Method::Get, "/v1/nothing", Some(&admin), None);
    assert_eq!((s, err_code(&v)), (404, "route_not_found"));
    let (s, v) = w.call(Method::Get, "/", None, None);
    assert_eq!((s, err_code(&v)), (404, "route_not_found"));
    let r = w
        .send(HttpRequest::new(Method::Delete, "/v1/catalog").with_header("authorization", &admin));
    assert_eq!((r.status, r.get_header("allow")), (405, Some("GET")));
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/api-keys")
            .with_header("authorization", &admin)
            .with_body("{\"role\": \"viewer\",\n \"name\": }"),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, err_code(&v)), (400, "malformed_json"));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2, column"),
        "{v}"
    );
    let r = w.send(
        HttpRequest::new(Method::Post, "/v1/api-keys")
            .with_header("authorization", &admin)
            .with_body(vec![b' '; MAX_BODY_BYTES + 1]),
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((r.status, err_code(&v)), (413, "payload_too_large"));
    let (s, v) = w.call(Method::Get, "/v1/catalog", Some("Basic Zm9vOmJhcg=="), None);
    assert_eq!((s, err_code(&v)), (401, "unauthenticated"));
}

#[test]
fn service_routes() {
    let w = World::new();
    let (s, v) = w.call(Method::Get, "/healthz", None, None);
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    assert_eq!(v["checks"]["durable_objects"]["ok"], true);
    let (s, v) = w.call(Method::Get, "/v1/ping", None, None);
    assert_eq!((s, v["ok"].as_bool()), (200, Some(true)));
}

#[test]
fn openapi_documents_every_route_and_code() {
    let doc: Value = serde_json::from_str(service::OPENAPI).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        for m in *methods {
            let key = m.as_str().to_lowercase();
            assert!(
                item.get(&key).is_some(),
                "{} {path} is not documented",
                m.as_str()
            );
        }
        // The template resolves to a route with exactly these methods.
        let concrete = path.replace("{id}", "key_x").replace("{listing}", "github");
        assert_eq!(resolve(&concrete).map(|(_, m)| m), Some(*methods), "{path}");
    }
    assert_eq!(
        paths.len(),
        ROUTES.len(),
        "documented paths that are not routed"
    );
    let text = service::OPENAPI;
    for code in error::CODES {
        assert!(
            text.contains(&format!("\"{code}\"")),
            "code {code} is not documented"
        );
    }
}
