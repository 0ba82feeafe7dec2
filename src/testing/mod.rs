//! The native test world (compiled only for tests): the application's
//! services over the production SQL on a native SQLite, hand-written fakes
//! only for what has no native engine (the KV cache, the tenant Durable
//! Objects, the outbound provider). `World` holds them across the calls of
//! one test; `routes/tests` drives it over HTTP, use-case tests call `app()`.

mod aws;
pub(crate) mod db;
mod langgraph;
mod provider;

pub(crate) use aws::{AWS_KEY_ID, AWS_SECRET, INSTANCE as AWS_INSTANCE};
pub(crate) use langgraph::{LG_ASSISTANT, LG_KEY, LG_OPEN, LG_SECURED};
pub(crate) use provider::{FakeProvider, GOOD_TOKEN, HOOKS};

use crate::app::{App, Config};
use crate::domain::ids::testing::SeqRandom;
use crate::shared::Shared;
use crate::store::d1::SqlStore;
use crate::store::memory::{MemoryCache, MemoryObjects};
use crate::store::sqlite::SqliteDb;
use serde_json::Value;
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
    /// The database server `transport: database` listings reach.
    pub(crate) databases: Rc<db::FakeDb>,
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
            databases: Rc::default(),
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
            tool_calls: self.store.clone(),
            connect_sessions: self.store.clone(),
            webhooks: self.store.clone(),
            transport: self.provider.clone(),
            databases: Rc::new(self.databases.clone()),
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
                mcp_origins: vec!["https://agents.example.com".into()],
                development: self.development.get(),
                webhook_retry_scale: 1.0,
            }),
            request_id: crate::domain::ids::RequestId::generate(&SeqRandom(Cell::new(
                self.seed.get() ^ 0xABCD,
            ))),
            rng: Box::new(SeqRandom(Cell::new(self.seed.get() | 1))),
            now: crate::domain::time::Millis(self.now.get()),
            log: Rc::new(move |l| logs.borrow_mut().push(l.to_string())),
            background: Rc::new(pollster::block_on),
            poke: Default::default(),
        }
    }

    /// Moves the clock (consent expiry).
    pub(crate) fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
    }
}
