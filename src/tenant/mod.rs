//! The per-tenant Durable Object: it serialises a tenant's installs, renames,
//! uninstalls and binding changes (locks), holds the idempotency records, and
//! runs the tenant's health sweep and delivers its webhooks from its alarm.
//! `protocol` is the typed command set, `alarm` what the alarm does next,
//! `object` the thin object.

pub mod alarm;
#[cfg(target_arch = "wasm32")]
pub mod object;
pub mod protocol;
