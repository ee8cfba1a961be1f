//! The routes without parameters, found by a table lookup instead of a tree walk.
//!
//! A pattern of another length is passed over after one comparison of lengths, and one
//! of the same length is compared eight bytes at a time: a path of 5 to 16 bytes is two
//! word comparisons, with no call to `memcmp`. (A hash of the path would read every
//! byte before the first comparison; an application has few literal routes.)

/// Literal patterns and their route numbers.
#[derive(Default)]
pub(crate) struct LiteralTable {
    entries: Vec<(Box<[u8]>, usize)>,
}

impl LiteralTable {
    /// Files `pattern` for route number `route` (each pattern once).
    pub(crate) fn insert(&mut self, pattern: &str, route: usize) {
        self.entries.push((pattern.as_bytes().into(), route));
    }

    /// The route number of the pattern equal to `path`.
    pub(crate) fn find(&self, path: &str) -> Option<usize> {
        let path = path.as_bytes();
        self.entries
            .iter()
            .find(|(pattern, _)| same_bytes(pattern, path))
            .map(|&(_, route)| route)
    }
}

/// Whether two byte strings of the same length are equal, compared a word at a time:
/// full words from the front, then one last word that may overlap the one before it
/// (so no byte-by-byte tail). Under eight bytes, two overlapping half-words.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len >= 8 {
        let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap());
        let mut at = 0;
        while at + 8 < len {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        return word(a, len - 8) == word(b, len - 8);
    }
    if len >= 4 {
        let half = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap());
        return half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_pattern_by_its_exact_bytes() {
        let patterns = [
            "/",
            "/a",
            "/abc",
            "/json",
            "/plaintext",
            "/items/me",
            "/a/very/long/literal/path",
        ];
        let mut table = LiteralTable::default();
        for (route, pattern) in patterns.iter().enumerate() {
            table.insert(pattern, route);
        }
        for (route, pattern) in patterns.iter().enumerate() {
            assert_eq!(table.find(pattern), Some(route), "{pattern}");
        }
        for path in [
            "",
            "/b",
            "/abd",
            "/jsom",
            "/plaintexu",
            "/items/mf",
            "/a/very/long/literal/patg",
            "/plaintext/",
        ] {
            assert_eq!(table.find(path), None, "{path}");
        }
    }

    #[test]
    fn word_comparison_agrees_with_byte_comparison() {
        let text = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for len in 0..text.len() {
            let a = &text[..len];
            assert!(same_bytes(a, a));
            for flip in 0..len {
                let mut b = a.to_vec();
                b[flip] ^= 1;
                assert!(!same_bytes(a, &b), "len {len}, byte {flip}");
            }
        }
        assert!(!same_bytes(b"ab", b"abc"));
    }
}
