//! The probe side of manifest templates: the renderer is pure and lives in
//! `domain::template` (tool requests render through it too); probes and the
//! credential path use it from here.

pub use crate::domain::template::{
    render_body, render_header, render_url, Scope, TemplateError, Values,
};
