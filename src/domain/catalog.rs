//! Browsing the catalog: filters, stable order, pagination and category
//! counts, all over the listing summaries (a few hundred at most, so the
//! filtering runs in memory after one cached read).

use super::manifest::ListingSummary;
use super::page::{Page, PageRequest};
use super::Error;
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /v1/catalog` filters.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CatalogQuery {
    /// Lower-cased search words; every word must appear in the id, name,
    /// description or a tag.
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
                    q.words = v.split_whitespace().map(str::to_lowercase).collect();
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

    fn matches(&self, l: &ListingSummary) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.category, &l.category)
            && eq(&self.kind, &l.kind)
            && eq(&self.auth_mode, &l.auth_mode)
            && self.featured.is_none_or(|f| f == l.featured)
            && self
                .tag
                .as_deref()
                .is_none_or(|t| l.tags.iter().any(|x| x == t))
            && self
                .capability
                .as_deref()
                .is_none_or(|c| l.capabilities.iter().any(|x| x == c))
            && self.words.iter().all(|w| {
                l.id.contains(w.as_str())
                    || l.name.to_lowercase().contains(w.as_str())
                    || l.description.to_lowercase().contains(w.as_str())
                    || l.tags.iter().any(|t| t.contains(w.as_str()))
            })
    }
}

/// The stable browse order: featured first, then by name, then by id.
fn sort_key(l: &ListingSummary) -> (u8, String, String) {
    (u8::from(!l.featured), l.name.to_lowercase(), l.id.clone())
}

/// Filters, orders and pages the listings; `total` counts every match.
pub fn search(all: &[ListingSummary], q: &CatalogQuery) -> Result<Page<ListingSummary>, Error> {
    let after = q
        .page
        .after
        .as_deref()
        .map(|s| {
            serde_json::from_str::<(u8, String, String)>(s).map_err(|_| {
                Error::invalid(
                    "cursor",
                    "Invalid cursor: pass the next_cursor of a previous page unchanged.",
                )
            })
        })
        .transpose()?;
    let mut hits: Vec<&ListingSummary> = all.iter().filter(|l| q.matches(l)).collect();
    hits.sort_by_cached_key(|l| sort_key(l));
    let total = hits.len();
    let page_items: Vec<ListingSummary> = hits
        .into_iter()
        .filter(|l| after.as_ref().is_none_or(|a| sort_key(l) > *a))
        .take(q.page.limit + 1)
        .cloned()
        .collect();
    let mut page = Page::from_overfetch(page_items, q.page.limit, |l| {
        serde_json::to_string(&sort_key(l)).expect("a tuple of strings serialises")
    });
    page.total = Some(total);
    Ok(page)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CategoryCount {
    pub id: String,
    pub object: &'static str,
    pub count: usize,
}

/// Categories with how many listings each holds, by name.
pub fn categories(all: &[ListingSummary]) -> Vec<CategoryCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in all {
        *counts.entry(l.category.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(id, count)| CategoryCount {
            id: id.to_string(),
            object: "category",
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(
        id: &str,
        name: &str,
        featured: bool,
        category: &str,
        tags: &[&str],
    ) -> ListingSummary {
        ListingSummary {
            id: id.into(),
            object: "listing".into(),
            name: name.into(),
            description: format!("Connect {name}"),
            category: category.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            icon: String::new(),
            brand_color: "#000000".into(),
            version: "1.0.0".into(),
            kind: "saas".into(),
            transport: "http".into(),
            availability: "live".into(),
            featured,
            pricing: json!({"model": "free"}),
            auth_mode: "pat".into(),
            capabilities: vec![format!("{id}.read")],
            visibility: "public".into(),
            owner: "platform".into(),
        }
    }

    fn q(s: &[(&str, &str)]) -> Result<CatalogQuery, Error> {
        CatalogQuery::parse(
            &s.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    fn all() -> Vec<ListingSummary> {
        vec![
            listing("zeta", "Zeta", false, "crm", &["sales"]),
            listing("alpha", "Alpha", false, "crm", &["sales", "git"]),
            listing("github", "GitHub", true, "developer-tools", &["git"]),
            listing("beta", "beta", false, "payments", &[]),
        ]
    }

    fn ids(p: &Page<ListingSummary>) -> Vec<&str> {
        p.data.iter().map(|l| l.id.as_str()).collect()
    }

    #[test]
    fn order_is_featured_then_name() {
        let p = search(&all(), &q(&[]).unwrap()).unwrap();
        assert_eq!(ids(&p), ["github", "alpha", "beta", "zeta"]);
        assert_eq!(p.total, Some(4));
    }

    #[test]
    fn filters_combine() {
        let p = search(&all(), &q(&[("tag", "git"), ("category", "crm")]).unwrap()).unwrap();
        assert_eq!(ids(&p), ["alpha"]);
        let p = search(&all(), &q(&[("q", "CONNECT git")]).unwrap()).unwrap();
        assert_eq!(ids(&p), ["github", "alpha"]);
        let p = search(
            &all(),
            &q(&[("featured", "false"), ("capability", "zeta.read")]).unwrap(),
        )
        .unwrap();
        assert_eq!(ids(&p), ["zeta"]);
        let p = search(&all(), &q(&[("kind", "database")]).unwrap()).unwrap();
        assert!(p.data.is_empty() && p.total == Some(0) && !p.has_more);
    }

    #[test]
    fn pages_walk_every_item_once() {
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("limit", "1")];
            if let Some(c) = &cursor {
                params.push(("cursor", c.as_str()));
            }
            let p = search(&all(), &q(&params).unwrap()).unwrap();
            seen.extend(ids(&p).iter().map(|s| s.to_string()));
            assert_eq!(p.total, Some(4));
            match p.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["github", "alpha", "beta", "zeta"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (params, param) in [
            (vec![("featured", "yes")], "featured"),
            (vec![("limit", "0")], "limit"),
            (vec![("cursor", "garbage")], "cursor"),
            (vec![("catgory", "crm")], "catgory"),
        ] {
            match q(&params) {
                Err(Error::InvalidParameter { param: p, .. }) => assert_eq!(p, param),
                other => panic!("{params:?}: {other:?}"),
            }
        }
        // A well-formed cursor whose payload is not a sort key.
        let c = crate::domain::page::encode_cursor("nope");
        assert!(search(&all(), &q(&[("cursor", &c)]).unwrap()).is_err());
    }

    #[test]
    fn category_counts() {
        assert_eq!(
            categories(&all())
                .iter()
                .map(|c| (c.id.as_str(), c.count))
                .collect::<Vec<_>>(),
            [("crm", 2), ("developer-tools", 1), ("payments", 1)]
        );
    }
}
