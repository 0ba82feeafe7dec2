//! The whole API over the production SQL on SQLite (`crate::testing::World`):
//! every route, envelope and status.

mod catalog;
mod catalog_golden;
mod connect;
mod connectors;
mod credentials;
mod databases;
mod gateway;
mod governance;
mod health_history;
mod keys;
mod langgraph;
mod marketplace;
mod oauth;
mod ownership;
mod service;
mod signed;
mod sweep;
mod tenant_scale;
mod tool_calls;
mod upgrade;
mod verdicts;
mod webhooks;
mod world;

use super::http::HttpResponse;
use crate::testing::*;
use serde_json::Value;
pub(super) use world::{err_code, github_as};
