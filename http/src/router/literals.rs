//! The routes without parameters, found by a table lookup instead of a tree walk.
//!
//! A pattern of another length is passed over after one comparison of lengths, and one
//! of the same length is compared eight bytes at a time: a path of 5 to 16 bytes is two
//! word comparisons, with no call to `memcmp`. (A hash of the path would read every
//! byte before the first comparison; an application has few literal routes.)

use crate::words::same_bytes;

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

    /// The route number of the pattern equal to `path`. Inlined into the router's
    /// fast path (as a call it cost about 10 instructions per request more, callgrind).
    #[inline]
    pub(crate) fn find(&self, path: &str) -> Option<usize> {
        let path = path.as_bytes();
        self.entries
            .iter()
            .find(|(pattern, _)| same_bytes(pattern, path))
            .map(|&(_, route)| route)
    }
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
}
