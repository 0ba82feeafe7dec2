//! Pure domain logic: ids, tenants and keys, manifests, the catalog query,
//! pagination, connectors (install checks, hints, refusals), health, OAuth
//! (state, PKCE, tokens), the sweep's plan, the vault, idempotency, errors,
//! manifest templates and executable tool requests (rendering, argument checks),
//! webhooks (subscriptions, Standard Webhooks signatures, the retry schedule),
//! AWS Signature Version 4 (`sigv4`).
//! Nothing here touches `worker`, `wasm_bindgen`, `js_sys` or `web_sys`
//! (`src/layering.rs` checks), so all of it compiles and is tested natively.

pub mod auth;
pub mod catalog;
pub mod connect;
pub mod connector;
pub mod error;
pub mod gateway;
pub mod governance;
pub mod health;
pub mod idempotency;
pub mod ids;
pub mod manifest;
pub mod oauth;
pub mod page;
pub mod sigv4;
pub mod sweep;
pub mod template;
pub mod time;
pub mod tool;
pub mod vault;
pub mod webhook;

pub use error::Error;
