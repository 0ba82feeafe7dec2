//! The per-tenant Durable Object: it will serialise installs and hold
//! idempotency records; today it answers the reachability check.

#[cfg(target_arch = "wasm32")]
pub mod object;
pub mod protocol;
