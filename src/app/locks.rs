//! What a write holds in the tenant's Durable Object while it runs: the use
//! cases name their locks, and the HTTP side (`routes::write::guarded`) takes
//! them around the write together with the `Idempotency-Key` check.

use crate::domain::ids::ConnectorId;

/// The locks of one guarded write.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Locks {
    /// Taken before the write (all or none), released after it.
    pub take: Vec<String>,
    /// Released after the write without being taken: names the write frees
    /// (an uninstall, a rename), whose claim may outlive a successful install.
    pub free: Vec<String>,
    /// A successful write without an `Idempotency-Key` leaves its locks to
    /// expire (or to be freed as above) instead of releasing them: one tenant
    /// object call less per install. Only for locks on what the write made
    /// permanent (a new name, now held by D1's unique index anyway).
    pub keep_on_success: bool,
}

impl Locks {
    pub fn take(take: Vec<String>) -> Self {
        Locks {
            take,
            ..Locks::default()
        }
    }
}

/// An instance name being claimed (install, rename).
pub fn name(n: &str) -> String {
    format!("name:{n}")
}

/// One instance being changed (update, upgrade, uninstall).
pub fn connector(id: &ConnectorId) -> String {
    format!("cn:{id}")
}

/// Every binding change and uninstall of a tenant.
pub const BINDINGS: &str = "bindings";
