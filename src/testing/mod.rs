//! The native test world (compiled only for tests): the whole API over the
//! production SQL on a native SQLite, hand-written fakes only for what has
//! no native engine (the KV cache, the tenant Durable Objects, the outbound
//! provider). `World` holds them across the requests of one test.

mod provider;

pub(crate) use provider::{FakeProvider, GOOD_TOKEN};

use crate::domain::ids::testing::SeqRandom;
use crate::routes::http::{HttpRequest, HttpResponse, Method};
use crate::routes::{handle, App, Config};
use crate::shared::Shared;
use crate::store::d1::SqlStore;
use crate::store::memory::{MemoryCache, MemoryObjects};
use crate::store::sqlite::SqliteDb;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub(crate) const OP: &str = "Bearer test-operator";

/// Stores shared across the requests of one test.
pub(crate) struct World {
    /// Tenants, catalog, connectors, OAuth states and the sweep: one database.
    pub(crate) store: Rc<SqlStore<SqliteDb>>,
    cache: Rc<MemoryCache>,
    pub(crate) objects: Rc<MemoryObjects>,
    pub(crate) provider: Rc<FakeProvider>,
    shared: Rc<Shared>,
    seed: Cell<u64>,
    pub(crate) now: Cell<i64>,
    pub(crate) logs: Rc<RefCell<Vec<String>>>,
    /// `ENVIRONMENT=development` (a short operator token is fine there).
    pub(crate) development: Cell<bool>,
}

impl World {
    pub(crate) fn new() -> Self {
        World {
            store: Rc::new(SqlStore::new(SqliteDb::migrated())),
            objects: Rc::default(),
            provider: Rc::default(),
            cache: Rc::default(),
            shared: Rc::default(),
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
            now: Cell::new(1_795_349_599_000),
            logs: Rc::default(),
            development: Cell::new(true),
        }
    }

    /// The database, for tests that look at what was stored.
    pub(crate) fn db(&self) -> &SqliteDb {
        self.store.db()
    }

    /// Every row `sql` answers, as JSON objects.
    pub(crate) fn rows(&self, sql: &str) -> Vec<Value> {
        self.db().rows(sql)
    }

    pub(crate) fn app(&self) -> App {
        // Each request gets fresh randomness continuing the sequence.
        self.seed.set(
            self.seed
                .get()
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1),
        );
        let logs = self.logs.clone();
        App {
            tenants: self.store.clone(),
            catalog: self.store.clone(),
            cache: self.cache.clone(),
            objects: self.objects.clone(),
            connectors: self.store.clone(),
            oauth: self.store.clone(),
            sweep: self.store.clone(),
            transport: self.provider.clone(),
            clock: Rc::new(|| 0),
            shared: self.shared.clone(),
            config: Rc::new(Config {
                operator_token: "test-operator".into(),
                allow: crate::probe::guard::AllowList::parse(""),
                vault: Some(
                    crate::domain::vault::VaultKey::from_base64(
                        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                    )
                    .expect("a 32-byte test key"),
                ),
                public_base_url: None,
                return_url_origins: vec!["https://app.example.com".into()],
                development: self.development.get(),
            }),
            request_id: crate::domain::ids::RequestId::generate(&SeqRandom(Cell::new(
                self.seed.get() ^ 0xABCD,
            ))),
            rng: Box::new(SeqRandom(Cell::new(self.seed.get() | 1))),
            now: crate::domain::time::Millis(self.now.get()),
            log: Rc::new(move |l| logs.borrow_mut().push(l.to_string())),
            background: Rc::new(pollster::block_on),
        }
    }

    /// Moves the clock (consent expiry).
    pub(crate) fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
    }

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

pub(crate) fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no code>")
}
