//! The tenant object's webhooks: the poke, the state kept in storage, and
//! one bounded webhook run from the alarm (`app::webhook_delivery`).

use super::{now_ms, TenantObject};
use crate::domain::ids::TenantId;
use crate::tenant::alarm::{self, HooksState};
use crate::tenant::protocol::Answer;
use std::time::Duration;
use worker::*;

impl TenantObject {
    /// The webhooks' state (storage once, then memory).
    pub(super) async fn hooks(&self) -> Result<HooksState> {
        if let Some(h) = self.hooks.borrow().clone() {
            return Ok(h);
        }
        let h: HooksState = self
            .state
            .storage()
            .get(alarm::HOOKS_STATE)
            .await?
            .unwrap_or_default();
        *self.hooks.borrow_mut() = Some(h.clone());
        Ok(h)
    }

    pub(super) async fn save_hooks(&self, h: HooksState) -> Result<()> {
        self.state.storage().put(alarm::HOOKS_STATE, &h).await?;
        *self.hooks.borrow_mut() = Some(h);
        Ok(())
    }

    /// Events may be waiting: wake the alarm soon (at once for a known
    /// tenant with endpoints; a tenant without any is left alone).
    pub(super) async fn poke(&self, tenant: String, armed: bool) -> Result<Answer> {
        let now = now_ms();
        let mut h = self.hooks().await?;
        if h.poke(&tenant, armed, now) {
            self.save_hooks(h.clone()).await?;
        }
        if h.due(now) {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none_or(|at| at > now) {
                storage.set_alarm(Duration::ZERO).await?;
            }
        }
        Ok(Answer::Done)
    }

    /// One webhook run from the alarm: fan out, send what is due (at most
    /// 50 requests), and note when the next run is due.
    pub(super) async fn hooks_step(&self, now: i64) -> Result<()> {
        let mut h = self.hooks().await?;
        // Not due while it runs: a poke meanwhile makes it due again.
        h.next_ms = None;
        self.save_hooks(h.clone()).await?;
        let app = crate::edge::build_app(
            &self.env,
            std::rc::Rc::new(wasm_bindgen_futures::spawn_local),
        )?;
        let tenant = TenantId::from_trusted(h.tenant.clone());
        let (next, idle) = match crate::app::webhook_delivery::run_once(&app, &tenant).await {
            Ok(r) => {
                console_log!(
                    "webhooks {tenant}: created {}, sent {}, delivered {}, next {:?}",
                    r.created,
                    r.sent,
                    r.delivered,
                    r.next_ms.map(|n| n - now)
                );
                (r.next_ms, r.idle)
            }
            Err(e) => {
                // D1 failed: try again in 30 s rather than wait for a poke.
                console_error!("webhooks {tenant}: {}", crate::app::sweep::fail_text(&e));
                (Some(now + 30_000), false)
            }
        };
        let mut h = self.hooks().await?;
        h.after_step(next, idle);
        self.save_hooks(h).await
    }

    /// Events written by the object itself (the sweep's) are due for the
    /// webhooks, as a poke would make them (a tenant without endpoints:
    /// nothing).
    pub(super) async fn wake_hooks(&self, now: i64) -> Result<()> {
        let mut h = self.hooks().await?;
        let tenant = h.tenant.clone();
        if h.poke(&tenant, false, now) {
            self.save_hooks(h).await?;
        }
        Ok(())
    }
}
