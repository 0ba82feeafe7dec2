//! `TenantObject`: the Durable Object class bound as `TENANT`, one per tenant.
//! Thin: decode the command, apply `protocol::Book`, persist idempotency
//! records in the object's storage. A request whose key is still running
//! waits here (briefly) for the first to finish, so concurrent retries of one
//! request all get its answer.

use super::alarm::{self, HooksState, Turn};
use super::protocol::{self, Answer, Book, Command, Idem, BINDING};
use crate::app::sweep::SweepState;
use crate::domain::idempotency::{Record, Stored, RETAIN_MS};
use crate::domain::ids::TenantId;
use crate::store::{StoreError, StoreResult, TenantObjects};
use async_trait::async_trait;
use std::cell::RefCell;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use worker::*;

mod hooks;

/// How long a repeated key waits for the first request before `409`.
const WAIT_MS: i64 = 15_000;
const POLL_MS: u64 = 50;

#[durable_object(alarm)]
pub struct TenantObject {
    state: State,
    env: Env,
    book: RefCell<Book>,
    /// The webhooks' state, read from storage once.
    hooks: RefCell<Option<HooksState>>,
    /// Whose turn the last alarm run was (`protocol::turn`).
    turn: std::cell::Cell<Turn>,
    /// When idempotency records next expire (`Some(0)`: not known yet).
    purge_at: std::cell::Cell<Option<i64>>,
    /// A sweep step that failed waits until then (or the next cron).
    sweep_pause_until: std::cell::Cell<i64>,
}

fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

impl DurableObject for TenantObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            book: RefCell::new(Book::default()),
            hooks: RefCell::new(None),
            turn: Default::default(),
            purge_at: std::cell::Cell::new(Some(0)),
            sweep_pause_until: std::cell::Cell::new(0),
        }
    }

    /// Commands arrive by RPC (`command`, below), never over HTTP.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("tenant object commands arrive by RPC", 404)
    }

    /// One alarm run: a sweep step or a webhook step (they take turns when
    /// both have work), the idempotency purge when due, then the alarm set
    /// for the earliest of what is due next.
    async fn alarm(&self) -> Result<Response> {
        let now = now_ms();
        let sweep_active = self.sweep_active().await?;
        let hooks_due = self.hooks().await?.due(now);
        let turn = alarm::turn(sweep_active, hooks_due, self.turn.get());
        match turn {
            Some(Turn::Sweep) => match self.sweep_step().await {
                // Its `connector.health_changed` events are for the webhooks.
                Ok(changed) if changed > 0 => self.wake_hooks(now).await?,
                Ok(_) => {}
                Err(e) => {
                    console_error!("sweep step failed: {e}");
                    self.sweep_pause_until.set(now + 30_000);
                }
            },
            Some(Turn::Hooks) => self.hooks_step(now).await?,
            None => {}
        }
        if let Some(t) = turn {
            self.turn.set(t);
        }
        if self.purge_at.get().is_some_and(|at| at <= now) {
            self.purge(now).await?;
        }
        self.rearm().await?;
        Response::ok("done")
    }
}

impl TenantObject {
    async fn apply(&self, body: &[u8]) -> Result<Answer> {
        let answer = match protocol::decode(body) {
            Err(refused) => refused,
            Ok(Command::Ping) => Answer::Pong,
            Ok(Command::Begin {
                idem,
                locks,
                now_ms,
            }) => self.begin(idem, locks, now_ms).await?,
            Ok(Command::Finish {
                idem,
                answer,
                locks,
            }) => {
                let persist = self
                    .book
                    .borrow_mut()
                    .finish(idem.as_deref(), answer, &locks);
                if let Some((key, record)) = persist {
                    self.persist(&key, record).await?;
                }
                Answer::Done
            }
            Ok(Command::Sweep { tenant, now_ms }) => self.start_sweep(tenant, now_ms).await?,
            Ok(Command::Rate {
                key,
                per_minute,
                now_ms,
            }) => self.rate(key, per_minute, now_ms).await?,
            Ok(Command::Poke { tenant, armed, .. }) => self.poke(tenant, armed).await?,
            Ok(Command::Details { ids }) => self.details(ids).await?,
        };
        Ok(answer)
    }

    /// Marks a sweep as running and wakes the alarm now (an alarm already
    /// due keeps its time: a running sweep is not restarted).
    async fn start_sweep(&self, tenant: String, now_ms: i64) -> Result<Answer> {
        let storage = self.state.storage();
        let mut st: SweepState = storage
            .get(protocol::SWEEP_STATE)
            .await?
            .unwrap_or_default();
        st.tenant = tenant;
        if !st.active {
            st.active = true;
            st.cursor = None;
            st.started_ms = now_ms;
            storage.put(protocol::SWEEP_STATE, &st).await?;
        }
        self.sweep_pause_until.set(0);
        // `set_alarm` takes an offset from now.
        storage.set_alarm(Duration::ZERO).await?;
        Ok(Answer::Done)
    }

    /// One sweep run from the alarm; answers how many instances changed.
    async fn sweep_step(&self) -> Result<usize> {
        let storage = self.state.storage();
        let Some(mut st) = storage.get::<SweepState>(protocol::SWEEP_STATE).await? else {
            return Ok(0);
        };
        if !st.active {
            return Ok(0);
        }
        let app = crate::edge::build_app(
            &self.env,
            std::rc::Rc::new(wasm_bindgen_futures::spawn_local),
        )?;
        let tenant = TenantId::from_trusted(st.tenant.clone());
        let mut jitter = [0u8; 1];
        getrandom::getrandom(&mut jitter).map_err(|e| Error::RustError(e.to_string()))?;
        let report =
            crate::app::sweep::run_once(&app, &tenant, &mut st, f64::from(jitter[0]) / 256.0)
                .await
                .map_err(|e| Error::RustError(crate::app::sweep::fail_text(&e)))?;
        for (id, d) in &report.details {
            storage.put(&protocol::details_key(id), d).await?;
            self.book.borrow_mut().details.insert(id.clone(), d.clone());
        }
        storage.put(protocol::SWEEP_STATE, &st).await?;
        console_log!(
            "sweep {tenant}: probed {} (changed {}, skipped {}, outbound budget {}), done: {}",
            report.probed,
            report.changed,
            report.skipped,
            report.outbound_budget,
            report.done
        );
        Ok(report.changed)
    }

    /// A sweep is running and may take its next step now.
    async fn sweep_active(&self) -> Result<bool> {
        if now_ms() < self.sweep_pause_until.get() {
            return Ok(false);
        }
        let st: Option<SweepState> = self.state.storage().get(protocol::SWEEP_STATE).await?;
        Ok(st.is_some_and(|s| s.active))
    }

    /// The sweep's latest check of each of `ids` (a page's, at most 200):
    /// one storage read per 128 keys (its limit), not one per instance.
    async fn details(&self, ids: Vec<String>) -> Result<Answer> {
        let storage = self.state.storage();
        let mut details = std::collections::HashMap::new();
        let ids: Vec<String> = ids.into_iter().take(200).collect();
        for chunk in ids.chunks(128) {
            let keys: Vec<String> = chunk.iter().map(|id| protocol::details_key(id)).collect();
            let found = storage.get_multiple(keys).await?;
            for id in chunk {
                let v = found.get(&JsValue::from(protocol::details_key(id)));
                if v.is_undefined() {
                    continue;
                }
                if let Ok(d) = serde_wasm_bindgen::from_value::<serde_json::Value>(v) {
                    details.insert(id.clone(), d);
                }
            }
        }
        Ok(Answer::Details { details })
    }

    /// Deletes idempotency records past their retention; notes when the
    /// next one expires.
    async fn purge(&self, now: i64) -> Result<()> {
        let all = self
            .state
            .storage()
            .list_with_options(ListOptions::new().prefix("idem:"))
            .await?;
        let mut expired = vec![];
        let mut next: Option<i64> = None;
        for entry in all.entries() {
            let pair: js_sys::Array = entry?.into();
            let key = pair.get(0).as_string().unwrap_or_default();
            let record: Option<Record> = serde_wasm_bindgen::from_value(pair.get(1)).ok();
            match record {
                Some(r) if now - r.created_ms < RETAIN_MS => {
                    let at = r.created_ms + RETAIN_MS;
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                _ => expired.push(key),
            }
        }
        for key in &expired {
            self.book
                .borrow_mut()
                .records
                .remove(key.trim_start_matches("idem:"));
        }
        if !expired.is_empty() {
            self.state.storage().delete_multiple(expired).await?;
        }
        self.purge_at.set(next);
        Ok(())
    }

    /// Sets the alarm for the earliest of what is due (read afresh: a
    /// command during the run may have started a sweep or poked).
    async fn rearm(&self) -> Result<()> {
        let now = now_ms();
        let sweep_active = self.sweep_active().await?;
        let hooks = self.hooks().await?;
        let hooks_next = if hooks.on { hooks.next_ms } else { None };
        if let Some(at) = alarm::next_alarm(now, sweep_active, hooks_next, self.purge_at.get()) {
            self.state
                .storage()
                .set_alarm(Duration::from_millis((at - now).max(0) as u64))
                .await?;
        }
        Ok(())
    }

    async fn begin(&self, idem: Option<Idem>, locks: Vec<String>, now_ms: i64) -> Result<Answer> {
        if let Some(i) = &idem {
            let known = self.book.borrow().records.contains_key(&i.key);
            if !known {
                let stored: Option<Record> = self
                    .state
                    .storage()
                    .get(&protocol::record_key(&i.key))
                    .await?;
                if let Some(r) = stored {
                    self.book
                        .borrow_mut()
                        .records
                        .entry(i.key.clone())
                        .or_insert(r);
                }
            }
        }
        let started = Date::now().as_millis() as i64;
        loop {
            let elapsed = Date::now().as_millis() as i64 - started;
            let (answer, persist) =
                self.book
                    .borrow_mut()
                    .begin(idem.as_ref(), &locks, now_ms + elapsed);
            if let Some((key, record)) = persist {
                self.persist(&key, Some(record)).await?;
            }
            if answer != Answer::InProgress || elapsed >= WAIT_MS {
                return Ok(answer);
            }
            Delay::from(Duration::from_millis(POLL_MS)).await;
        }
    }

    async fn persist(&self, key: &str, record: Option<Record>) -> Result<()> {
        let storage = self.state.storage();
        match record {
            Some(r) => {
                let expires = r.created_ms + RETAIN_MS;
                if self.purge_at.get().is_none_or(|at| at > expires) {
                    self.purge_at.set(Some(expires));
                }
                storage.put(&protocol::record_key(key), &r).await?;
                if storage.get_alarm().await?.is_none() {
                    storage
                        .set_alarm(Duration::from_millis(RETAIN_MS as u64))
                        .await?;
                }
            }
            None => {
                storage.delete(&protocol::record_key(key)).await?;
            }
        }
        Ok(())
    }
}

/// The RPC entry (`worker/entry.mjs` exposes it as `TenantObject.command`):
/// a command as JSON text in, the answer as JSON text out. No Request,
/// Response or body stream on either side, unlike `fetch`.
#[wasm_bindgen]
impl TenantObject {
    pub async fn command(&self, text: String) -> std::result::Result<JsValue, JsValue> {
        let answer = self.apply(text.as_bytes()).await.map_err(JsValue::from)?;
        let out = serde_json::to_string(&answer).map_err(|e| JsValue::from_str(&e.to_string()))?;
        Ok(JsValue::from_str(&out))
    }
}

#[wasm_bindgen]
extern "C" {
    /// A stub of the class above, as `worker/entry.mjs` exports it.
    type TenantStub;
    #[wasm_bindgen(method, catch)]
    fn command(this: &TenantStub, text: &str) -> std::result::Result<JsValue, JsValue>;
}

/// The worker's side: a typed client over the namespace.
pub struct DoClient {
    pub env: Env,
}

impl DoClient {
    async fn send(&self, name: &str, cmd: &Command) -> StoreResult<Answer> {
        let stub = self
            .env
            .durable_object(BINDING)?
            .id_from_name(name)?
            .get_stub()?;
        let stub: TenantStub = stub.into_rpc();
        // An RPC call answers a thenable, not a Promise: resolve it as one.
        let pending = stub
            .command(&serde_json::to_string(cmd)?)
            .map_err(Error::from)?;
        let text = JsFuture::from(js_sys::Promise::resolve(&pending))
            .await
            .map_err(Error::from)?
            .as_string()
            .ok_or_else(|| StoreError("tenant object answered no text".into()))?;
        match serde_json::from_str::<Answer>(&text)? {
            Answer::Refused { reason } => {
                Err(StoreError(format!("tenant object refused: {reason}")))
            }
            a => Ok(a),
        }
    }
}

impl TenantObject {
    /// One call from a rate limit's window: decided in memory with no await
    /// in between (the object runs one request at a time between awaits),
    /// then persisted, so the limit is exact under any concurrency.
    async fn rate(&self, key: String, per_minute: u32, now_ms: i64) -> Result<Answer> {
        let storage_key = protocol::rate_key(&key);
        if !self.book.borrow().windows.contains_key(&key) {
            let stored: Option<Vec<i64>> = self.state.storage().get(&storage_key).await?;
            self.book
                .borrow_mut()
                .windows
                .entry(key.clone())
                .or_insert_with(|| stored.unwrap_or_default());
        }
        let (wait, window) = {
            let mut book = self.book.borrow_mut();
            let window = book.windows.entry(key).or_default();
            let wait = crate::domain::governance::take(window, per_minute, now_ms).err();
            (wait, window.clone())
        };
        self.state.storage().put(&storage_key, &window).await?;
        Ok(Answer::Rate { wait_ms: wait })
    }
}

#[async_trait(?Send)]
impl TenantObjects for DoClient {
    async fn ping(&self, name: &str) -> StoreResult<()> {
        match self.send(name, &Command::Ping).await? {
            Answer::Pong => Ok(()),
            other => Err(StoreError(format!(
                "tenant object answered {}",
                other.name()
            ))),
        }
    }

    async fn begin(
        &self,
        tenant: &TenantId,
        idem: Option<Idem>,
        locks: Vec<String>,
        now_ms: i64,
    ) -> StoreResult<Answer> {
        self.send(
            tenant.as_str(),
            &Command::Begin {
                idem,
                locks,
                now_ms,
            },
        )
        .await
    }

    async fn poke(&self, tenant: &TenantId, armed: bool, now_ms: i64) -> StoreResult<()> {
        let cmd = Command::Poke {
            tenant: tenant.to_string(),
            armed,
            now_ms,
        };
        self.send(tenant.as_str(), &cmd).await?;
        Ok(())
    }

    async fn sweep(&self, tenant: &TenantId, now_ms: i64) -> StoreResult<()> {
        let cmd = Command::Sweep {
            tenant: tenant.to_string(),
            now_ms,
        };
        self.send(tenant.as_str(), &cmd).await?;
        Ok(())
    }

    async fn details(
        &self,
        tenant: &TenantId,
        ids: Vec<String>,
    ) -> StoreResult<std::collections::HashMap<String, serde_json::Value>> {
        match self
            .send(tenant.as_str(), &Command::Details { ids })
            .await?
        {
            Answer::Details { details } => Ok(details),
            other => Err(StoreError(format!(
                "tenant object answered {} to details",
                other.name()
            ))),
        }
    }

    async fn rate(
        &self,
        tenant: &TenantId,
        key: &str,
        per_minute: u32,
        now_ms: i64,
    ) -> StoreResult<Option<i64>> {
        let cmd = Command::Rate {
            key: key.to_string(),
            per_minute,
            now_ms,
        };
        match self.send(tenant.as_str(), &cmd).await? {
            Answer::Rate { wait_ms } => Ok(wait_ms),
            other => Err(StoreError(format!(
                "tenant object answered {} to rate",
                other.name()
            ))),
        }
    }

    async fn finish(
        &self,
        tenant: &TenantId,
        idem: Option<String>,
        answer: Option<Stored>,
        locks: Vec<String>,
    ) -> StoreResult<()> {
        self.send(
            tenant.as_str(),
            &Command::Finish {
                idem,
                answer,
                locks,
            },
        )
        .await?;
        Ok(())
    }
}
