//! Key paths: `a/b/c` addresses nested config values.
//!
//! A `/` separates segments; `\/` is a literal slash inside a segment, so
//! `routes/api\/v1` reads the key `api/v1` under `routes`. The empty path
//! addresses the whole configuration.

use serde_json::Value;

/// Splits a key path into its segments, honouring `\/` escapes.
pub fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    if path.is_empty() {
        return out;
    }
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    out.push(current);
    out
}

/// Joins segments back into a key path, escaping slashes inside segments.
pub fn join<S: AsRef<str>>(segments: &[S]) -> String {
    segments
        .iter()
        .map(|s| s.as_ref().replace('/', "\\/"))
        .collect::<Vec<_>>()
        .join("/")
}

/// Appends `child` (itself a key path) to `parent`.
pub fn child(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (_, true) => parent.to_owned(),
        _ => format!("{parent}/{child}"),
    }
}

/// Walks `value` along `segments`. A segment that is not a key of an object
/// (including any non-object on the way) means the path is missing.
pub fn walk<'v, S: AsRef<str>>(value: &'v Value, segments: &[S]) -> Option<&'v Value> {
    let mut current = value;
    for segment in segments {
        current = current.as_object()?.get(segment.as_ref())?;
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_slash_stays_inside_a_segment() {
        assert_eq!(segments(r"foo/bar\/baz"), vec!["foo", "bar/baz"]);
        assert_eq!(join(&["foo", "bar/baz"]), r"foo/bar\/baz");
    }

    #[test]
    fn empty_path_has_no_segments() {
        assert!(segments("").is_empty());
    }

    #[test]
    fn a_backslash_before_anything_else_is_kept() {
        assert_eq!(segments(r"a\b/c"), vec![r"a\b", "c"]);
    }
}
