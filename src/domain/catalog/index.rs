//! The catalog index an isolate keeps: every listing's browse summary
//! rendered once, the public listings in browse order with one ordered list
//! per filter value and live counts, each tenant's private listings apart,
//! and a word index (sorted vocabulary → listings) for search. It is built
//! once from the store and then updated in place, listing by listing, from
//! the store's change sequence (`Change::seq`), so a page costs what the
//! page holds (and a search what its words match), not the catalog's size.

use super::text;
use crate::domain::ids::slug_of;
use crate::domain::manifest::ListingSummary;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// One listing as the store last wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The store's change sequence number of this write: a later write of
    /// any listing has a higher one.
    pub seq: i64,
    /// The manifest's summary; `id` is the stored key (`ten_…/slug` for a
    /// private listing).
    pub summary: ListingSummary,
    pub status: String,
    pub visibility: String,
    /// The owning tenant: of a private listing, or the creator of a public one.
    pub owner: Option<String>,
}

/// A listing in the index (strings boxed: no spare capacity is kept).
#[derive(Debug)]
pub(super) struct Item {
    pub key: Box<str>,
    seq: i64,
    pub status: Box<str>,
    pub public: bool,
    pub featured: bool,
    pub owner: Option<Box<str>>,
    /// The lower-cased name: the browse order's second key.
    pub name: Box<str>,
    /// The filter values it has (`Facets` ids), sorted.
    pub facets: Box<[u32]>,
    /// Its category's filter value.
    pub category: u32,
    /// The summary as browsed: the slug as `id`, visibility and owner set.
    pub json: Box<str>,
}

/// The browse order's key: featured first, then name, then slug.
pub(super) type BrowseKey<'a> = (u8, &'a str, &'a str);

impl Item {
    fn new(c: &Change, facets: &mut Facets) -> Item {
        let s = &c.summary;
        let mut shown = s.clone();
        shown.id = slug_of(&s.id).to_string();
        shown.visibility = c.visibility.clone();
        shown.owner = c.owner.clone().unwrap_or_else(|| "platform".into());
        let category = facets.intern(format!("category={}", s.category));
        let mut ids = vec![
            category,
            facets.intern(format!("kind={}", s.kind)),
            facets.intern(format!("auth_mode={}", s.auth_mode)),
            facets.intern(format!("featured={}", s.featured)),
        ];
        ids.extend(s.tags.iter().map(|t| facets.intern(format!("tag={t}"))));
        ids.extend(
            s.capabilities
                .iter()
                .map(|c| facets.intern(format!("capability={c}"))),
        );
        ids.sort_unstable();
        ids.dedup();
        Item {
            key: s.id.as_str().into(),
            seq: c.seq,
            status: c.status.as_str().into(),
            public: c.visibility == "public",
            featured: s.featured,
            owner: c.owner.as_deref().map(Into::into),
            name: s.name.to_lowercase().into(),
            facets: ids.into(),
            category,
            json: serde_json::to_string(&shown)
                .expect("a summary serialises")
                .into(),
        }
    }

    pub fn live(&self) -> bool {
        &*self.status == "live"
    }

    pub fn slug(&self) -> &str {
        slug_of(&self.key)
    }

    pub fn browse_key(&self) -> BrowseKey<'_> {
        (u8::from(!self.featured), &self.name, self.slug())
    }

    /// Whether it has every filter value of `wanted`.
    pub fn has(&self, wanted: &[u32]) -> bool {
        wanted.iter().all(|f| self.facets.binary_search(f).is_ok())
    }

    /// The browse order, made total by the stored key.
    fn order(&self, other: &Item) -> Ordering {
        self.browse_key()
            .cmp(&other.browse_key())
            .then_with(|| self.key.cmp(&other.key))
    }

    /// The words search found it by (read back from its summary).
    fn words(&self) -> Vec<(String, u8)> {
        let s: ListingSummary =
            serde_json::from_str(&self.json).expect("the index renders summaries it can read");
        words_of(&s)
    }
}

/// The words search finds a listing by, each with where it appears.
fn words_of(s: &ListingSummary) -> Vec<(String, u8)> {
    let mut out: BTreeMap<String, u8> = BTreeMap::new();
    let mut add = |text: &str, field: u8| {
        for w in text::words(text) {
            *out.entry(w).or_default() |= field;
        }
    };
    add(&s.name, text::NAME);
    add(slug_of(&s.id), text::NAME);
    for t in &s.tags {
        add(t, text::TAG);
    }
    add(&s.description, text::DESCRIPTION);
    out.into_iter().collect()
}

/// One filter value (`category=crm`, `tag=git`, …).
#[derive(Debug, Default)]
pub(super) struct Facet {
    /// The public listings (any status) that have it, in browse order.
    pub list: Vec<u32>,
    /// How many of those are live.
    pub live: usize,
}

/// Every filter value any listing had, interned (never dropped: there are
/// as many as distinct categories, kinds, tags and capabilities).
#[derive(Debug, Default)]
pub(super) struct Facets {
    ids: HashMap<Box<str>, u32>,
    pub all: Vec<Facet>,
    /// Category name → its filter value.
    pub categories: BTreeMap<Box<str>, u32>,
}

impl Facets {
    fn intern(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(name.as_str()) {
            return id;
        }
        let id = u32::try_from(self.all.len()).expect("fewer than 4 billion filter values");
        if let Some(c) = name.strip_prefix("category=") {
            self.categories.insert(c.into(), id);
        }
        self.ids.insert(name.into(), id);
        self.all.push(Facet::default());
        id
    }

    /// The filter value `name`, if any listing ever had it.
    pub fn find(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }
}

/// A word index entry: the listing (high bits) and where the word appears
/// (`text::NAME | TAG | DESCRIPTION`, the low three bits).
fn posting(i: u32, fields: u8) -> u32 {
    assert!(i < 1 << 29, "fewer than 2^29 listings");
    (i << 3) | u32::from(fields)
}

/// The listing of a word index entry, and where the word appears.
pub(super) fn unpack(p: u32) -> (u32, u8) {
    (p >> 3, (p & 7) as u8)
}

/// Where an ordered list holds `id` (or would).
fn position(list: &[u32], items: &[Item], id: u32) -> usize {
    let it = &items[id as usize];
    list.partition_point(|&j| items[j as usize].order(it) == Ordering::Less)
}

fn insert_ordered(list: &mut Vec<u32>, items: &[Item], id: u32) {
    let at = position(list, items, id);
    list.insert(at, id);
}

fn remove_ordered(list: &mut Vec<u32>, items: &[Item], id: u32) {
    let at = position(list, items, id);
    if list.get(at) == Some(&id) {
        list.remove(at);
    }
}

#[derive(Debug, Default)]
pub struct CatalogIndex {
    pub(super) items: Vec<Item>,
    pub(super) by_key: HashMap<Box<str>, u32>,
    /// Public listings (any status) in browse order.
    pub(super) public: Vec<u32>,
    /// How many of those are live.
    pub(super) live: usize,
    /// Private listings by owning tenant, in browse order.
    pub(super) private: HashMap<Box<str>, Vec<u32>>,
    pub(super) facets: Facets,
    /// Word → its entries (`posting`), by listing.
    pub(super) words: BTreeMap<Box<str>, Vec<u32>>,
    /// Each public listing's place in `public` (search ties go by it);
    /// `u32::MAX` for private ones.
    pub(super) rank: Vec<u32>,
    /// Per listing: live and public, so everyone browses it (dense, for
    /// search's hot loop).
    pub(super) open: Vec<bool>,
    /// The last change read: `(seq, key)`; the next read starts after it.
    after: (i64, String),
    /// `apply` left the ordered lists (or only the ranks) to `settle`.
    stale_lists: bool,
    stale_ranks: bool,
}

impl CatalogIndex {
    /// An empty index whose next read starts at the first change.
    pub fn new() -> Self {
        CatalogIndex {
            after: (-1, String::new()),
            ..Default::default()
        }
    }

    /// Where the next read of the store's changes starts (exclusive).
    pub fn after(&self) -> (i64, &str) {
        (self.after.0, &self.after.1)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A listing's status (`live`, `delisted`) by stored key.
    pub fn status(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(key)
            .map(|&i| &*self.items[i as usize].status)
    }

    /// Applies changes read from the store, in `(seq, key)` order; call
    /// [`settle`](Self::settle) after the last of them, before answering. A
    /// change older than what the index holds for that listing is ignored, so
    /// reads that overlap or finish out of order cannot move a listing back.
    /// Many changes at once (a first load, read page by page) leave the
    /// ordered lists to `settle`, which rebuilds them in one pass.
    pub fn apply(&mut self, changes: Vec<Change>) {
        if let Some(last) = changes.last() {
            let mark = (last.seq, last.summary.id.clone());
            if mark > self.after {
                self.after = mark;
            }
        }
        let bulk = self.stale_lists || (changes.len() > 64 && changes.len() * 8 > self.items.len());
        self.stale_lists = bulk;
        for c in &changes {
            let current = self.by_key.get(c.summary.id.as_str()).copied();
            if current.is_some_and(|i| self.items[i as usize].seq >= c.seq) {
                continue;
            }
            let item = Item::new(c, &mut self.facets);
            self.stale_ranks = true;
            let i = match current {
                Some(i) => {
                    self.unlink_words(i);
                    if !bulk {
                        self.unlink_lists(i);
                    }
                    self.items[i as usize] = item;
                    i
                }
                None => {
                    let i = u32::try_from(self.items.len()).expect("fewer than 4 billion listings");
                    self.by_key.insert(item.key.clone(), i);
                    self.items.push(item);
                    i
                }
            };
            self.link_words(i, words_of(&c.summary));
            if !bulk {
                self.link_lists(i);
            }
        }
    }

    /// Brings the ordered lists and ranks up to date after `apply`.
    pub fn settle(&mut self) {
        if self.stale_lists {
            self.relink_all();
        } else if self.stale_ranks {
            self.rerank();
        }
        (self.stale_lists, self.stale_ranks) = (false, false);
    }

    fn link_words(&mut self, i: u32, words: Vec<(String, u8)>) {
        for (w, fields) in words {
            let posts = match self.words.get_mut(w.as_str()) {
                Some(posts) => posts,
                None => self.words.entry(w.into()).or_default(),
            };
            let at = posts.partition_point(|&p| unpack(p).0 < i);
            posts.insert(at, posting(i, fields));
        }
    }

    fn unlink_words(&mut self, i: u32) {
        for (w, _) in self.items[i as usize].words() {
            if let Some(posts) = self.words.get_mut(w.as_str()) {
                let at = posts.partition_point(|&p| unpack(p).0 < i);
                if posts.get(at).is_some_and(|&p| unpack(p).0 == i) {
                    posts.remove(at);
                }
                if posts.is_empty() {
                    self.words.remove(w.as_str());
                }
            }
        }
    }

    /// Puts listing `i` into the ordered lists and counts it.
    fn link_lists(&mut self, i: u32) {
        let items = &self.items;
        let it = &items[i as usize];
        if !it.public {
            let owner = it.owner.clone().unwrap_or_default();
            insert_ordered(self.private.entry(owner).or_default(), items, i);
            return;
        }
        insert_ordered(&mut self.public, items, i);
        let live = usize::from(it.live());
        self.live += live;
        for &f in it.facets.iter() {
            let facet = &mut self.facets.all[f as usize];
            facet.live += live;
            insert_ordered(&mut facet.list, items, i);
        }
    }

    /// Takes listing `i` out of the ordered lists and the counts (before it
    /// changes).
    fn unlink_lists(&mut self, i: u32) {
        let items = &self.items;
        let it = &items[i as usize];
        if !it.public {
            if let Some(list) = self
                .private
                .get_mut(it.owner.as_deref().unwrap_or_default())
            {
                remove_ordered(list, items, i);
            }
            return;
        }
        remove_ordered(&mut self.public, items, i);
        let live = usize::from(it.live());
        self.live -= live;
        for &f in it.facets.iter() {
            let facet = &mut self.facets.all[f as usize];
            facet.live -= live;
            remove_ordered(&mut facet.list, items, i);
        }
    }

    /// Every ordered list and count from the listings, in one pass (a first
    /// load, or a large read of changes; the word index is kept up to date
    /// listing by listing).
    fn relink_all(&mut self) {
        let items = &self.items;
        let order = |a: &u32, b: &u32| items[*a as usize].order(&items[*b as usize]);
        let mut public: Vec<u32> = (0..items.len() as u32)
            .filter(|&i| items[i as usize].public)
            .collect();
        public.sort_unstable_by(order);
        let mut private: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            if !it.public {
                let owner = it.owner.clone().unwrap_or_default();
                private.entry(owner).or_default().push(i as u32);
            }
        }
        for list in private.values_mut() {
            list.sort_unstable_by(order);
            list.shrink_to_fit();
        }
        for f in &mut self.facets.all {
            (f.list, f.live) = (vec![], 0);
        }
        self.live = 0;
        for &i in &public {
            let it = &items[i as usize];
            let live = usize::from(it.live());
            self.live += live;
            for &f in it.facets.iter() {
                let facet = &mut self.facets.all[f as usize];
                facet.live += live;
                facet.list.push(i);
            }
        }
        for f in &mut self.facets.all {
            f.list.shrink_to_fit();
        }
        for posts in self.words.values_mut() {
            posts.shrink_to_fit();
        }
        (self.public, self.private) = (public, private);
        self.rerank();
    }

    fn rerank(&mut self) {
        self.rank.clear();
        self.rank.resize(self.items.len(), u32::MAX);
        for (at, &i) in self.public.iter().enumerate() {
            self.rank[i as usize] = at as u32;
        }
        self.open.clear();
        self.open
            .extend(self.items.iter().map(|i| i.public && i.live()));
    }

    /// Roughly what the index holds, in bytes (strings, lists, the word
    /// index, the maps' entries), for the log.
    pub fn approx_bytes(&self) -> usize {
        let s = |v: &str| v.len() + 16;
        let items: usize = self
            .items
            .iter()
            .map(|i| {
                s(&i.key)
                    + s(&i.status)
                    + s(&i.name)
                    + s(&i.json)
                    + i.owner.as_deref().map_or(0, s)
                    + i.facets.len() * 4
                    + 40
                    // by_key: the key again, the id, the table's slot
                    + s(&i.key)
                    + 12
            })
            .sum();
        let facets: usize = self
            .facets
            .all
            .iter()
            .map(|f| f.list.capacity() * 4 + 48 + 40)
            .sum();
        let lists = self.public.capacity() * 4
            + self.rank.capacity() * 4
            + self.open.capacity()
            + self
                .private
                .values()
                .map(|v| v.capacity() * 4 + 48)
                .sum::<usize>();
        let words: usize = self
            .words
            .iter()
            .map(|(k, v)| s(k) + v.capacity() * 4 + 24 + 8)
            .sum();
        items + facets + lists + words
    }
}
