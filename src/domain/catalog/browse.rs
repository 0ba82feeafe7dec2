//! Answering `GET /v1/catalog` and `/v1/catalog/categories` from the index,
//! as one caller sees it: live public listings, and the caller's own private
//! ones unless a public listing took their id.
//!
//! Browse walks the public listings in browse order from the cursor (the
//! shortest list of a filter value when filters are given) merged with the
//! caller's private ones, and stops after the page; `total` is a maintained
//! count (one filter or none) or a walk of the shortest filter list. Search
//! visits the listings its words match (a prefix range of the sorted
//! vocabulary per word), scores them, and selects the page without sorting
//! all matches.

use super::index::{unpack, BrowseKey, CatalogIndex};
use super::text::{self, Score};
use super::{CatalogQuery, CategoryCount};
use crate::domain::page::Page;
use crate::domain::Error;
use std::cmp::Ordering;
use std::collections::BTreeMap;

fn bad_cursor() -> Error {
    Error::invalid(
        "cursor",
        "Invalid cursor: pass the next_cursor of a previous page unchanged.",
    )
}

/// The filter values a query names (`field=value`).
fn facet_names(q: &CatalogQuery) -> Vec<String> {
    let mut f = vec![];
    let mut add = |field: &str, v: Option<String>| {
        if let Some(v) = v {
            f.push(format!("{field}={v}"));
        }
    };
    add("category", q.category.clone());
    add("kind", q.kind.clone());
    add("auth_mode", q.auth_mode.clone());
    add("tag", q.tag.clone());
    add("capability", q.capability.clone());
    add("featured", q.featured.map(|b| b.to_string()));
    f
}

impl CatalogIndex {
    fn item(&self, i: u32) -> &super::index::Item {
        &self.items[i as usize]
    }

    /// The query's filter values; `None` when no listing ever had one of
    /// them (nothing matches).
    fn wanted(&self, q: &CatalogQuery) -> Option<Vec<u32>> {
        facet_names(q).iter().map(|f| self.facets.find(f)).collect()
    }

    /// Whether a public listing holds this private listing's id.
    fn shadowed(&self, it: &super::index::Item) -> bool {
        self.by_key
            .get(it.slug())
            .is_some_and(|&j| self.item(j).public)
    }

    /// Whether `tenant` (or the operator, `None`) browses listing `i`.
    fn browsable(&self, i: u32, tenant: Option<&str>) -> bool {
        let it = self.item(i);
        it.live()
            && (it.public
                || (tenant.is_some() && it.owner.as_deref() == tenant && !self.shadowed(it)))
    }

    /// The caller's private listings in browse order (none for the operator).
    fn own(&self, tenant: Option<&str>) -> &[u32] {
        tenant
            .and_then(|t| self.private.get(t))
            .map_or(&[], Vec::as_slice)
    }

    /// One page of the catalog for `tenant`, rendered (`Page` with `total`).
    pub fn page(&self, q: &CatalogQuery, tenant: Option<&str>) -> Result<Vec<u8>, Error> {
        if q.words.is_empty() {
            self.browse(q, tenant)
        } else {
            self.search(q, tenant)
        }
    }

    fn browse(&self, q: &CatalogQuery, tenant: Option<&str>) -> Result<Vec<u8>, Error> {
        let after = q
            .page
            .after
            .as_deref()
            .map(|s| serde_json::from_str::<(u8, String, String)>(s).map_err(|_| bad_cursor()))
            .transpose()?;
        let after = after.as_ref().map(|(f, n, s)| (*f, n.as_str(), s.as_str()));
        let Some(wanted) = self.wanted(q) else {
            return Ok(self.render(Page::from_overfetch(vec![], 1, |_| String::new()), 0));
        };
        let matches = |i: u32| self.item(i).has(&wanted);
        // The shortest list of a wanted filter value, else every public one.
        let source: &[u32] = wanted
            .iter()
            .map(|&f| self.facets.all[f as usize].list.as_slice())
            .min_by_key(|l| l.len())
            .unwrap_or(&self.public);
        let start = |list: &[u32]| match after {
            None => 0,
            Some(a) => list.partition_point(|&i| self.item(i).browse_key() <= a),
        };
        let public = source[start(source)..]
            .iter()
            .copied()
            .filter(|&i| self.item(i).live() && matches(i));
        let own = self.own(tenant);
        let private = own[start(own)..]
            .iter()
            .copied()
            .filter(|&i| self.browsable(i, tenant) && matches(i));
        let ids = merge(public, private, |a, b| {
            self.item(a).browse_key().cmp(&self.item(b).browse_key())
        })
        .take(q.page.limit + 1)
        .collect();
        let public_total = match wanted.as_slice() {
            [] => self.live,
            [f] => self.facets.all[*f as usize].live,
            _ => source
                .iter()
                .filter(|&&i| self.item(i).live() && matches(i))
                .count(),
        };
        let private_total = own
            .iter()
            .filter(|&&i| self.browsable(i, tenant) && matches(i))
            .count();
        let page = Page::from_overfetch(ids, q.page.limit, |&i| {
            serde_json::to_string(&self.item(i).browse_key())
                .expect("a tuple of strings serialises")
        });
        Ok(self.render(page, public_total + private_total))
    }

    /// Every listing `tenant` browses that all of `q`'s words match, with
    /// its score and its place in the browse order (`Hit`).
    fn matches(&self, q: &CatalogQuery, tenant: Option<&str>) -> Vec<Hit> {
        // Per word: each listing's best grade (dense, reset after the word).
        let mut grade = vec![0u8; self.items.len()];
        let mut touched: Vec<u32> = vec![];
        let mut hits: Option<Vec<(u32, Score)>> = None;
        for w in &q.words {
            let vocabulary = self
                .words
                .range::<str, _>((
                    std::ops::Bound::Included(w.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(word, _)| word.starts_with(w.as_str()));
            for (word, posts) in vocabulary {
                let exact = **word == **w;
                for &p in posts {
                    let (i, fields) = unpack(p);
                    let g = text::grade(fields, exact);
                    let slot = &mut grade[i as usize];
                    if *slot == 0 {
                        touched.push(i);
                    }
                    *slot = (*slot).max(g);
                }
            }
            let next = match hits.take() {
                None => touched
                    .iter()
                    .map(|&i| (i, Score::default().with(grade[i as usize])))
                    .collect(),
                Some(mut h) => {
                    h.retain_mut(|(i, s)| {
                        let g = grade[*i as usize];
                        *s = s.with(g);
                        g > 0
                    });
                    h
                }
            };
            for i in touched.drain(..) {
                grade[i as usize] = 0;
            }
            let done = next.is_empty();
            hits = Some(next);
            if done {
                break;
            }
        }
        let Some(wanted) = self.wanted(q) else {
            return vec![];
        };
        // Live public listings are told apart and placed by the dense ranks
        // alone; the caller's private ones (few) by their browse key.
        hits.unwrap_or_default()
            .into_iter()
            .filter(|&(i, _)| {
                (self.open[i as usize] || self.browsable(i, tenant))
                    && (wanted.is_empty() || self.item(i).has(&wanted))
            })
            .map(|(i, score)| {
                let place = match self.rank[i as usize] {
                    u32::MAX => {
                        let key = self.item(i).browse_key();
                        2 * self
                            .public
                            .partition_point(|&j| self.item(j).browse_key() < key)
                            as u64
                    }
                    r => 2 * u64::from(r) + 1,
                };
                Hit {
                    order: (u64::from(!score.0) << 32) | place,
                    id: i,
                    score,
                }
            })
            .collect()
    }

    /// Best score first; equal scores in browse order (two private listings
    /// at one place: by their browse keys).
    fn rank_hits(&self, a: &Hit, b: &Hit) -> Ordering {
        a.order.cmp(&b.order).then_with(|| {
            self.item(a.id)
                .browse_key()
                .cmp(&self.item(b.id).browse_key())
        })
    }

    fn search(&self, q: &CatalogQuery, tenant: Option<&str>) -> Result<Vec<u8>, Error> {
        let after = q
            .page
            .after
            .as_deref()
            .map(|s| serde_json::from_str::<(u32, u8, String, String)>(s).map_err(|_| bad_cursor()))
            .transpose()?;
        let mut hits = self.matches(q, tenant);
        let total = hits.len();
        if let Some((score, f, name, slug)) = &after {
            let (score, key): (Score, BrowseKey) = (Score(*score), (*f, name, slug));
            // Public listings after the cursor's key: ranks from `first` on.
            let first =
                self.public
                    .partition_point(|&j| self.item(j).browse_key() <= key) as u32;
            hits.retain(|h| {
                h.score < score
                    || (h.score == score
                        && match self.rank[h.id as usize] {
                            u32::MAX => self.item(h.id).browse_key() > key,
                            r => r >= first,
                        })
            });
        }
        let keep = q.page.limit + 1;
        if hits.len() > keep {
            hits.select_nth_unstable_by(keep - 1, |a, b| self.rank_hits(a, b));
            hits.truncate(keep);
        }
        hits.sort_unstable_by(|a, b| self.rank_hits(a, b));
        let page = Page::from_overfetch(hits, q.page.limit, |h| {
            let (f, name, slug) = self.item(h.id).browse_key();
            serde_json::to_string(&(h.score.0, f, name, slug))
                .expect("a tuple of strings serialises")
        });
        let page = Page {
            object: page.object,
            data: page.data.into_iter().map(|h| h.id).collect(),
            has_more: page.has_more,
            next_cursor: page.next_cursor,
            total: None,
        };
        Ok(self.render(page, total))
    }

    /// The page as `Page` serialises: the summaries are rendered already.
    fn render(&self, page: Page<u32>, total: usize) -> Vec<u8> {
        let size: usize = page.data.iter().map(|&i| self.item(i).json.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 160);
        out.extend_from_slice(br#"{"object":"list","data":["#);
        for (n, &i) in page.data.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.item(i).json.as_bytes());
        }
        out.extend_from_slice(br#"],"has_more":"#);
        out.extend_from_slice(if page.has_more { b"true" } else { b"false" });
        out.extend_from_slice(br#","next_cursor":"#);
        out.extend_from_slice(
            serde_json::to_string(&page.next_cursor)
                .expect("a string serialises")
                .as_bytes(),
        );
        out.extend_from_slice(format!(r#","total":{total}}}"#).as_bytes());
        out
    }

    /// Categories with how many listings `tenant` browses in each, by name.
    pub fn categories(&self, tenant: Option<&str>) -> Vec<CategoryCount> {
        let mut own: BTreeMap<u32, usize> = BTreeMap::new();
        for &i in self.own(tenant) {
            if self.browsable(i, tenant) {
                *own.entry(self.item(i).category).or_default() += 1;
            }
        }
        self.facets
            .categories
            .iter()
            .map(|(name, &f)| CategoryCount {
                id: name.to_string(),
                object: "category",
                count: self.facets.all[f as usize].live + own.get(&f).copied().unwrap_or(0),
            })
            .filter(|c| c.count > 0)
            .collect()
    }
}

/// A search match: its score, and its order key (the score's complement,
/// then twice its rank among the public listings, plus one: a private
/// listing sorts between the public ones around it).
struct Hit {
    order: u64,
    id: u32,
    score: Score,
}

/// Two streams each in order, merged in order.
fn merge<I: Iterator<Item = u32>, J: Iterator<Item = u32>>(
    a: I,
    b: J,
    cmp: impl Fn(u32, u32) -> Ordering,
) -> impl Iterator<Item = u32> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(&x), Some(&y)) => {
            if cmp(x, y) == Ordering::Greater {
                b.next()
            } else {
                a.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
    })
}
