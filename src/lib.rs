//! Connector marketplace worker: the edge. It reads the environment, the
//! clock and randomness, builds the application's services (`app::App`) over
//! D1, KV, the tenant objects and `fetch`, converts `worker` types to plain
//! values (a request body is read at most to the 64 KiB limit), and hands
//! each request to `routes::handle` and each cron tick to the tenant objects.

pub mod app;
pub mod catalog;
pub mod db;
pub mod domain;
#[cfg(test)]
mod layering;
pub mod probe;
pub mod routes;
pub mod shared;
pub mod store;
pub mod tenant;
#[cfg(test)]
pub(crate) mod testing;

#[cfg(target_arch = "wasm32")]
pub(crate) mod edge {
    use crate::domain::ids::{Random, RequestId};
    use crate::domain::time::Millis;
    use crate::domain::vault::VaultKey;
    use crate::probe::fetch::FetchTransport;
    use crate::probe::guard::AllowList;
    use crate::routes::http::{HttpRequest, Method as M};
    use crate::routes::{self, App, Config};
    use crate::shared::Shared;
    use crate::store::{d1::D1Store, kv::KvCache};
    use crate::tenant::object::DoClient;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use worker::*;

    thread_local! {
        static SHARED: Rc<Shared> = Rc::new(Shared::default());
    }

    struct CryptoRandom;

    impl Random for CryptoRandom {
        fn fill(&self, buf: &mut [u8]) {
            getrandom::getrandom(buf).expect("the platform CSPRNG is available");
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        /// src/openapi.json, verbatim, from the JavaScript bundle
        /// (worker/entry.mjs).
        #[wasm_bindgen(js_namespace = globalThis, js_name = __cm_openapi)]
        pub(crate) fn openapi_document() -> String;
        /// catalog/manifest.schema.json, verbatim, from the JavaScript bundle.
        #[wasm_bindgen(js_namespace = globalThis, js_name = __cm_manifest_schema)]
        pub(crate) fn manifest_schema() -> String;
    }

    /// A secret, or a plain var of that name (local development), or empty.
    fn setting(env: &Env, name: &str) -> String {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|s| s.to_string()))
            .unwrap_or_default()
    }

    /// The per-request (or per-alarm) application over the platform's parts.
    pub(crate) fn build_app(env: &Env, background: Rc<dyn Fn(routes::Deferred)>) -> Result<App> {
        let vault = setting(env, "VAULT_KEY");
        let config = Config {
            operator_token: setting(env, "OPERATOR_TOKEN"),
            allow: AllowList::parse(&setting(env, "PROBE_ALLOW_HOSTS")),
            // A malformed key is treated as absent: writes that need it fail
            // with a logged internal error rather than storing anything.
            vault: VaultKey::from_base64(&vault).ok(),
            public_base_url: Some(setting(env, "PUBLIC_BASE_URL")).filter(|s| !s.is_empty()),
            return_url_origins: crate::domain::connector::parse_origins(&format!(
                "{} {}",
                setting(env, "RETURN_URL_ORIGINS"),
                setting(env, "PUBLIC_BASE_URL")
            )),
            mcp_origins: crate::domain::connector::parse_origins(&setting(
                env,
                "MCP_ALLOWED_ORIGINS",
            )),
            development: setting(env, "ENVIRONMENT") == "development",
            // Through serde_json's number parser: `str::parse::<f64>` would
            // link core's float parser and its tables (~13 KB gzip of Wasm)
            // for one test setting.
            webhook_retry_scale: serde_json::from_str(setting(env, "WEBHOOK_RETRY_SCALE").trim())
                .unwrap_or(1.0),
        };
        let d1 = Rc::new(D1Store::new(env.d1("DB")?));
        Ok(App {
            tenants: d1.clone(),
            catalog: d1.clone(),
            connectors: d1.clone(),
            oauth: d1.clone(),
            sweep: d1.clone(),
            tool_calls: d1.clone(),
            connect_sessions: d1.clone(),
            webhooks: d1,
            transport: Rc::new(FetchTransport),
            databases: Rc::new(crate::db::edge::EdgeDatabases),
            clock: Rc::new(|| Date::now().as_millis() as i64),
            cache: Rc::new(KvCache::new(env.kv("MANIFESTS")?)),
            objects: Rc::new(DoClient { env: env.clone() }),
            shared: SHARED.with(Rc::clone),
            config: Rc::new(config),
            request_id: RequestId::generate(&CryptoRandom),
            rng: Box::new(CryptoRandom),
            now: Millis(Date::now().as_millis() as i64),
            log: Rc::new(|line| console_error!("{line}")),
            background,
            poke: Default::default(),
        })
    }

    async fn to_plain(mut req: Request) -> Result<HttpRequest> {
        let url = req.url()?;
        let headers = req
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let declared = req
            .headers()
            .get("content-length")?
            .and_then(|v| v.parse::<usize>().ok());
        let body = match declared {
            // Read no further than needed to know it is too large.
            Some(n) if n > routes::MAX_BODY_BYTES => vec![0; routes::MAX_BODY_BYTES + 1],
            // A declared length within the cap is read in one piece.
            Some(_) => req.bytes().await.unwrap_or_default(),
            // No length (chunked): streamed, and cut one byte past the cap,
            // so an endless body is never held whole before the 413.
            None => read_capped(&mut req, routes::MAX_BODY_BYTES + 1).await,
        };
        Ok(HttpRequest {
            // The raw method: `worker::Method` reads any method it does not
            // know (QUERY, PROPFIND, …) as GET, which served them as GETs.
            method: M::parse(&req.inner().method()),
            origin: url.origin().ascii_serialization(),
            path: url.path().to_string(),
            query: url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers,
            body,
        })
    }

    /// At most `cap` bytes of a request body read as a stream.
    async fn read_capped(req: &mut Request, cap: usize) -> Vec<u8> {
        use futures_util::StreamExt;
        let Ok(mut stream) = req.stream() else {
            return Vec::new();
        };
        let mut body = Vec::new();
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk);
            if body.len() >= cap {
                body.truncate(cap);
                break;
            }
        }
        body
    }

    fn from_plain(r: routes::http::HttpResponse) -> Result<Response> {
        let headers = Headers::new();
        for (k, v) in &r.headers {
            headers.append(k, v)?;
        }
        let resp = if r.body.is_empty() {
            Response::empty()?
        } else {
            Response::from_bytes(r.body)?
        };
        Ok(resp.with_status(r.status).with_headers(headers))
    }

    /// Chains a panic hook that tells worker/entry.mjs (`__cm_on_panic`), so
    /// the requests in flight answer the 500 envelope: after the hook the
    /// instance traps, and their futures would otherwise never complete.
    fn install_panic_notice() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                previous(info);
                let notice = js_sys::Reflect::get(&js_sys::global(), &"__cm_on_panic".into());
                if let Ok(f) = notice.and_then(|f| f.dyn_into::<js_sys::Function>()) {
                    let _ = f.call0(&wasm_bindgen::JsValue::NULL);
                }
            }));
        });
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        install_panic_notice();
        // A test hook, off unless the deployment sets ENABLE_TEST_ROUTES=true:
        // proves that a panic still answers the 500 envelope (worker/entry.mjs).
        if req.path() == "/v1/_test/panic"
            && env
                .var("ENABLE_TEST_ROUTES")
                .is_ok_and(|v| v.to_string() == "true")
        {
            panic!("deliberate panic from the test route");
        }
        let app = build_app(&env, Rc::new(move |f| ctx.wait_until(f)))?;
        let plain = to_plain(req).await?;
        from_plain(routes::handle(&app, plain).await)
    }

    #[event(scheduled)]
    async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        // The sweep fans out: each tenant object sweeps its own instances
        // from its alarm, so this invocation makes one request per tenant.
        let app = match build_app(&env, Rc::new(wasm_bindgen_futures::spawn_local)) {
            Ok(a) => a,
            Err(e) => return console_error!("scheduled: cannot start: {e}"),
        };
        // Approvals past their 24 h expire (API §15): their calls never run.
        match crate::app::governance::expire_due(&app).await {
            Ok(0) => {}
            Ok(n) => console_log!("scheduled: {n} approvals expired"),
            Err(e) => console_error!("scheduled: expiring approvals: {e:?}"),
        }
        let tenants = match app.sweep.tenants_with_connectors().await {
            Ok(t) => t,
            Err(e) => return console_error!("scheduled: cannot list tenants: {}", e.0),
        };
        let mut started = 0;
        for t in &tenants {
            match app.objects.sweep(t, app.now.0).await {
                Ok(()) => started += 1,
                Err(e) => console_error!("scheduled: tenant {t}: {}", e.0),
            }
        }
        console_log!(
            "scheduled: cron '{}': sweep started for {started} of {} tenants",
            event.cron(),
            tenants.len()
        );
        // The webhooks' backstop: every tenant with an endpoint is poked, so
        // a lost poke (or a restart) delays a delivery by one cron at most.
        match app.webhooks.tenants_with_webhooks().await {
            Ok(hooked) => {
                for t in &hooked {
                    if let Err(e) = app.objects.poke(t, true, app.now.0).await {
                        console_error!("scheduled: webhooks of {t}: {}", e.0);
                    }
                }
                console_log!("scheduled: webhooks poked for {} tenants", hooked.len());
            }
            Err(e) => console_error!("scheduled: cannot list webhook tenants: {}", e.0),
        }
    }
}
