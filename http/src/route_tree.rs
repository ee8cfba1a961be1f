//! The route tree: one node per path segment, so a request walks its own path once
//! instead of being tried against every route.
//!
//! ```text
//! /items/{id}   /items/me   /files/{*rest}   /
//!
//! root ─┬─ "items" ─┬─ "me"      → /items/me
//!       │           └─ {param}   → /items/{id}
//!       ├─ "files" ── {*rest}    → /files/{*rest}
//!       └─ ""                    → /
//! ```
//!
//! At each segment a literal child is tried before the parameter child, and the
//! parameter before a wildcard; the first route found in that order that has a handler
//! for the method wins. So `/items/me` beats `/items/{id}`, both beat `/items/{*rest}`,
//! and the leftmost segment decides first.

use std::borrow::Cow;
use std::rc::Rc;

use crate::percent;

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Must equal the path segment (after percent-decoding).
    Literal(String),
    /// `{name}`: any non-empty segment.
    Param(Rc<str>),
    /// `{*name}`: the rest of the path, slashes included (possibly empty).
    Rest(Rc<str>),
}

/// Parses `/a/{b}/{*c}` into segments, or says what is wrong with it.
pub(crate) fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
    let rest = pattern
        .strip_prefix('/')
        .ok_or("a pattern must start with '/'")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len() - 1;
    let mut segments = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if name.starts_with('*') => {
                let name = &name[1..];
                if i != last {
                    return Err(format!("wildcard {{*{name}}} must be the last segment"));
                }
                if name.is_empty() {
                    return Err("wildcard needs a name: {*rest}".into());
                }
                Segment::Rest(name.into())
            }
            Some("") => return Err("parameter needs a name: {id}".into()),
            Some(name) => Segment::Param(name.into()),
            None => Segment::Literal(part.to_string()),
        };
        segments.push(segment);
    }
    Ok(segments)
}

/// A node of the tree: what may follow the segments that lead here.
#[derive(Default)]
pub(crate) struct Node {
    /// Children for literal segments.
    literals: Vec<(String, Node)>,
    /// The child for a `{param}` segment.
    param: Option<Box<Node>>,
    /// The route whose pattern ends with `{*rest}` here.
    rest: Option<usize>,
    /// The route whose pattern ends here.
    end: Option<usize>,
}

/// Values captured by `{param}` and `{*rest}`, in pattern order.
pub(crate) type Captures<'p> = Vec<Cow<'p, str>>;

impl Node {
    /// Files route number `id` under `segments`. If a route of the same shape is already
    /// there (same segments, whatever its parameter names), returns its number instead.
    pub(crate) fn insert(&mut self, segments: &[Segment], id: usize) -> usize {
        let mut node = self;
        for segment in segments {
            node = match segment {
                Segment::Literal(text) => {
                    let at = match node.literals.iter().position(|(t, _)| t == text) {
                        Some(at) => at,
                        None => {
                            node.literals.push((text.clone(), Node::default()));
                            node.literals.len() - 1
                        }
                    };
                    &mut node.literals[at].1
                }
                Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                Segment::Rest(_) => return *node.rest.get_or_insert(id),
            };
        }
        *node.end.get_or_insert(id)
    }

    /// Walks `path` (without its leading `/`; `None` once every segment is consumed),
    /// offering each route that matches, best first, to `accept` with its captures
    /// until `accept` takes one. Segments are percent-decoded as they are reached.
    pub(crate) fn find<'p>(
        &self,
        path: Option<&'p str>,
        captures: &mut Captures<'p>,
        accept: &mut dyn FnMut(usize, &Captures<'p>) -> bool,
    ) -> bool {
        let Some(path) = path else {
            if self.end.is_some_and(|id| accept(id, captures)) {
                return true;
            }
            return self
                .rest
                .is_some_and(|id| offer(id, "".into(), captures, accept));
        };
        let (here, after) = first_segment(path);
        if let Some((_, child)) = self.literals.iter().find(|(text, _)| *text == *here) {
            if child.find(after, captures, accept) {
                return true;
            }
        }
        if let Some(child) = self.param.as_deref().filter(|_| !here.is_empty()) {
            captures.push(here);
            if child.find(after, captures, accept) {
                return true;
            }
            captures.pop();
        }
        let Some(id) = self.rest else {
            return false;
        };
        offer(id, percent::decode(path, false), captures, accept)
    }
}

/// Splits off the first segment, decoded, and what follows its `/` (if there is one),
/// in one pass over the segment's bytes.
fn first_segment(path: &str) -> (Cow<'_, str>, Option<&str>) {
    let bytes = path.as_bytes();
    let mut escaped = false;
    let mut end = 0;
    while end < bytes.len() && bytes[end] != b'/' {
        escaped |= bytes[end] == b'%';
        end += 1;
    }
    let here = &path[..end];
    let after = path.get(end + 1..);
    if escaped {
        (percent::decode(here, false), after)
    } else {
        (Cow::Borrowed(here), after)
    }
}

/// Offers a `{*rest}` route with its tail captured.
fn offer<'p>(
    id: usize,
    tail: Cow<'p, str>,
    captures: &mut Captures<'p>,
    accept: &mut dyn FnMut(usize, &Captures<'p>) -> bool,
) -> bool {
    captures.push(tail);
    let taken = accept(id, captures);
    captures.pop();
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(patterns: &[&str]) -> Node {
        let mut root = Node::default();
        for (id, pattern) in patterns.iter().enumerate() {
            root.insert(&parse_pattern(pattern).unwrap(), id);
        }
        root
    }

    /// Every route matching `path`, best first, with its captures.
    fn matches(root: &Node, path: &str) -> Vec<(usize, Vec<String>)> {
        let mut seen = Vec::new();
        let path = path.strip_prefix('/').unwrap();
        root.find(Some(path), &mut Vec::new(), &mut |id, c| {
            seen.push((id, c.iter().map(|v| v.to_string()).collect()));
            false
        });
        seen
    }

    #[test]
    fn literals_beat_params_beat_wildcards() {
        let root = tree(&["/items/{id}", "/items/me", "/items/{*rest}", "/"]);
        assert_eq!(
            matches(&root, "/items/me"),
            vec![
                (1, vec![]),
                (0, vec!["me".to_string()]),
                (2, vec!["me".to_string()])
            ]
        );
        assert_eq!(matches(&root, "/items/42")[0], (0, vec!["42".to_string()]));
        assert_eq!(matches(&root, "/"), vec![(3, vec![])]);
        assert_eq!(matches(&root, "/nothing"), vec![]);
    }

    #[test]
    fn the_leftmost_segment_decides_first() {
        let root = tree(&["/{a}/x", "/b/{c}"]);
        assert_eq!(matches(&root, "/b/x")[0].0, 1);
    }

    #[test]
    fn params_need_a_segment_and_wildcards_take_the_rest() {
        let root = tree(&["/items/{id}", "/files/{*rest}"]);
        assert_eq!(matches(&root, "/items/"), vec![]);
        assert_eq!(matches(&root, "/items/1/2"), vec![]);
        assert_eq!(
            matches(&root, "/files/a/b/c.txt"),
            vec![(1, vec!["a/b/c.txt".to_string()])]
        );
        assert_eq!(matches(&root, "/files"), vec![(1, vec![String::new()])]);
    }

    #[test]
    fn escapes_are_decoded_before_comparing_and_capturing() {
        let root = tree(&["/a b/{name}", "/files/{*rest}"]);
        assert_eq!(
            matches(&root, "/a%20b/x%2Fy"),
            vec![(0, vec!["x/y".to_string()])]
        );
        assert_eq!(
            matches(&root, "/files/%C3%A9/z"),
            vec![(1, vec!["é/z".to_string()])]
        );
    }

    #[test]
    fn the_same_shape_is_filed_once() {
        let mut root = Node::default();
        assert_eq!(root.insert(&parse_pattern("/items/{id}").unwrap(), 0), 0);
        assert_eq!(root.insert(&parse_pattern("/items/{key}").unwrap(), 1), 0);
        assert_eq!(root.insert(&parse_pattern("/items").unwrap(), 2), 2);
    }

    /// The rule the tree implements, by brute force: a pattern matching the whole path
    /// gets one weight per segment (literal 3, parameter 2, wildcard 1) and, if it ends
    /// where the path ends, a final 4; the larger weight sequence is the better match.
    fn by_brute_force(patterns: &[String], path: &str) -> Vec<(usize, Vec<String>)> {
        let parts: Vec<&str> = path[1..].split('/').collect();
        let mut found = Vec::new();
        for (id, pattern) in patterns.iter().enumerate() {
            let (mut weights, mut captures) = (Vec::new(), Vec::new());
            let mut matched = true;
            for (i, segment) in parse_pattern(pattern).unwrap().iter().enumerate() {
                match segment {
                    Segment::Rest(_) => {
                        weights.push(1);
                        captures.push(parts.get(i..).map_or(String::new(), |p| p.join("/")));
                        break;
                    }
                    _ if i >= parts.len() => matched = false,
                    Segment::Literal(text) if *text == parts[i] => weights.push(3),
                    Segment::Param(_) if !parts[i].is_empty() => {
                        weights.push(2);
                        captures.push(parts[i].to_string());
                    }
                    _ => matched = false,
                }
                if !matched {
                    break;
                }
            }
            let is_rest = weights.last() == Some(&1);
            if !is_rest {
                matched &= weights.len() == parts.len();
                weights.push(4);
            }
            if matched {
                found.push((weights, id, captures));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        found.into_iter().map(|(_, id, c)| (id, c)).collect()
    }

    #[test]
    fn the_tree_agrees_with_brute_force_on_random_routes() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as usize
        };
        let kinds = ["a", "b", "{p}", "{*r}"];
        let names = ["a", "b", "c", ""];
        for _ in 0..300 {
            let mut patterns: Vec<String> = Vec::new();
            for _ in 0..1 + next(8) {
                let len = 1 + next(3);
                let mut pattern = String::new();
                for i in 0..len {
                    let kind = kinds[next(if i + 1 == len { 4 } else { 3 })];
                    pattern.push('/');
                    pattern.push_str(kind);
                }
                let shape = parse_pattern(&pattern).unwrap();
                if !patterns.iter().any(|p| parse_pattern(p).unwrap() == shape) {
                    patterns.push(pattern);
                }
            }
            let root = tree(&patterns.iter().map(String::as_str).collect::<Vec<_>>());
            for _ in 0..20 {
                let path: String = (0..1 + next(4))
                    .map(|_| format!("/{}", names[next(4)]))
                    .collect();
                assert_eq!(
                    matches(&root, &path),
                    by_brute_force(&patterns, &path),
                    "routes {patterns:?}, path {path}"
                );
            }
        }
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(parse_pattern("items").is_err());
        assert!(parse_pattern("/{*rest}/x").is_err());
        assert!(parse_pattern("/{}").is_err());
        assert!(parse_pattern("/{*}").is_err());
    }
}
