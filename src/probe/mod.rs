//! Outbound calls, the pure half: `guard` decides whether a URL may be
//! reached at all (the SSRF check every hop goes through) and `template`
//! renders a manifest's probe from an instance's config and credentials
//! without letting a value change the request's shape. Neither touches the
//! network or the platform, so both compile and test natively.

pub mod client;
pub mod credential;
#[cfg(target_arch = "wasm32")]
pub mod fetch;
pub mod guard;
pub mod mcp;
pub mod run;
pub mod template;
