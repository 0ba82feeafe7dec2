//! Outbound calls (API §10): `guard` decides whether a URL may be reached at
//! all (the SSRF check every hop goes through), `template` re-exports the
//! domain's renderer (a probe from an instance's config and credentials,
//! without letting a value change the request's shape), `client` is the one
//! guarded client (redirects re-checked, credentials dropped across origins),
//! `credential` the one path a stored credential takes (refresh, a listing's
//! token exchange (`exchange`), render, send bound to the listing version's
//! `allowed_hosts` on every hop; `call` sends a tool's request on it;
//! `signing` signs an AWS request last, as it is sent), `run`
//! and `mcp` read the answers, and `fetch` is the platform transport (wasm32
//! only). All but `fetch` are pure and tested natively.

pub mod call;
pub mod client;
pub mod credential;
pub mod database;
pub mod exchange;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
pub mod guard;
pub mod mcp;
pub mod run;
pub mod signing;
pub mod template;
