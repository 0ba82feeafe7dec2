//! Search text: how listings and queries are cut into words, and how a
//! query's words score in a listing.
//!
//! A word is a run of letters and digits, lower-cased (`GitHub's API` →
//! `github`, `s`, `api`; `google-drive` → `google`, `drive`). A query word
//! matches a listing word it is a prefix of (`sales` → `salesforce`). Each
//! query word is graded by the best place it matches: the name (or the id),
//! then a tag, then the description; an exact word beats a prefix there.

use std::cmp::Ordering;

/// Where a listing word appears (bit set).
pub const NAME: u8 = 1;
pub const TAG: u8 = 2;
pub const DESCRIPTION: u8 = 4;

/// The distinct lower-cased words of `s`, in order of appearance.
pub fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = w.to_lowercase();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// The grade of one query word in one listing word: 0 (no match) to 6.
/// Name 5–6, tag 3–4, description 1–2; the higher of each pair is exact.
pub fn grade(fields: u8, exact: bool) -> u8 {
    let place = if fields & NAME != 0 {
        3
    } else if fields & TAG != 0 {
        2
    } else if fields & DESCRIPTION != 0 {
        1
    } else {
        return 0;
    };
    place * 2 - u8::from(!exact)
}

/// A listing's score for a query, from the grade of each query word (each
/// word matched somewhere): first how many words match in the name, then how
/// many in a tag, then how many exactly. Higher is better; compared whole,
/// so a name match outranks any number of tag or description matches of
/// another listing with fewer name matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(pub u32);

impl Score {
    /// Adds one query word's grade (queries hold at most 100 words, so each
    /// count stays within its byte).
    pub fn with(self, grade: u8) -> Score {
        let place = match grade {
            5 | 6 => 1 << 16,
            3 | 4 => 1 << 8,
            _ => 0,
        };
        Score(self.0 + place + u32::from(grade % 2 == 0 && grade > 0))
    }

    /// Best first.
    pub fn rank(a: Score, b: Score) -> Ordering {
        b.cmp(&a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_alphanumeric_runs() {
        assert_eq!(
            words("GitHub's API: GitHub, google-drive  Ünïcode 2fa"),
            ["github", "s", "api", "google", "drive", "ünïcode", "2fa"]
        );
        assert!(words(" -- ").is_empty());
    }

    #[test]
    fn grades_order_places_then_exactness() {
        let g = |f, e| grade(f, e);
        assert_eq!(g(NAME, true), 6);
        assert_eq!(g(NAME | DESCRIPTION, false), 5);
        assert_eq!(g(TAG, true), 4);
        assert_eq!(g(TAG | DESCRIPTION, false), 3);
        assert_eq!(g(DESCRIPTION, true), 2);
        assert_eq!(g(DESCRIPTION, false), 1);
        assert_eq!(g(0, true), 0);
    }

    #[test]
    fn scores_put_name_matches_first() {
        let s = |grades: &[u8]| grades.iter().fold(Score::default(), |s, g| s.with(*g));
        // One name prefix beats two exact tag matches and any description.
        assert!(s(&[5, 1]) > s(&[4, 4]));
        assert!(s(&[4, 1]) > s(&[2, 2]));
        // Same places: exact words first.
        assert!(s(&[6, 3]) > s(&[5, 3]));
        assert!(s(&[5, 4]) > s(&[5, 3]));
        assert_eq!(Score::rank(s(&[6]), s(&[5])), Ordering::Less);
    }
}
