//! Browsing the catalog: the query (filters, search words, page) and the
//! per-isolate index that answers it (`index`: what it holds and how it is
//! kept up to date; `browse`: pages, search and category counts; `text`:
//! words and scores).

mod browse;
mod index;
pub mod text;

pub use index::{CatalogIndex, Change};

use super::page::PageRequest;
use super::Error;
use serde::Serialize;

/// `GET /v1/catalog` filters.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CatalogQuery {
    /// The search's distinct lower-cased words (`text::words`); every word
    /// must be a prefix of a word of the listing's name, id, tags or
    /// description.
    pub words: Vec<String>,
    pub category: Option<String>,
    pub kind: Option<String>,
    pub auth_mode: Option<String>,
    pub capability: Option<String>,
    pub tag: Option<String>,
    pub featured: Option<bool>,
    pub page: PageRequest,
}

impl CatalogQuery {
    /// Parses the query string; unknown parameters are refused so that a typo
    /// (`?catgory=`) is not silently ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut q = CatalogQuery::default();
        let (mut limit, mut cursor) = (None, None);
        for (k, v) in pairs {
            let v = v.trim();
            let slot = match k.as_str() {
                "q" => {
                    if v.len() > 200 {
                        return Err(Error::invalid("q", "The search text is limited to 200 characters."));
                    }
                    q.words = text::words(v);
                    continue;
                }
                "featured" => {
                    q.featured = Some(match v {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(Error::invalid(
                                "featured",
                                format!("Invalid featured '{v}': expected true or false."),
                            ))
                        }
                    });
                    continue;
                }
                "limit" => {
                    limit = Some(v.to_string());
                    continue;
                }
                "cursor" => {
                    cursor = Some(v.to_string());
                    continue;
                }
                "category" => &mut q.category,
                "kind" => &mut q.kind,
                "auth_mode" => &mut q.auth_mode,
                "capability" => &mut q.capability,
                "tag" => &mut q.tag,
                other => {
                    return Err(Error::invalid(
                        other,
                        format!(
                            "Unknown query parameter '{other}': expected q, category, kind, auth_mode, capability, tag, featured, limit or cursor."
                        ),
                    ))
                }
            };
            if !v.is_empty() {
                *slot = Some(v.to_string());
            }
        }
        q.page = PageRequest::parse(limit.as_deref(), cursor.as_deref())?;
        Ok(q)
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CategoryCount {
    pub id: String,
    pub object: &'static str,
    pub count: usize,
}

#[cfg(test)]
mod tests;
