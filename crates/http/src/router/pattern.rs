//! Route conditions (path patterns), compiled once and matched without allocating.
//!
//! Syntax, segment by segment (segments are separated by `/`; runs of `/` and trailing
//! slashes are ignored, so `/a//b/` is the path `/a/b` and `//` is the root):
//!
//! | segment | matches |
//! |---|---|
//! | `users` | exactly that segment (compared percent-decoded) |
//! | `{id}` or `:id` | one segment, captured as `id` and percent-decoded |
//! | `*` | one segment, not captured |
//! | `{*rest}` (last) | the rest of the path, zero or more segments, captured as `rest` |
//! | `**` (last) | the rest of the path, not captured |

use std::borrow::Cow;
use std::sync::Arc;

use percent_encoding::percent_decode_str;

use crate::error::HttpError;

#[derive(Debug)]
enum Segment {
    Literal(Box<str>),
    Param(Arc<str>),
    Wildcard,
}

#[derive(Debug)]
enum Tail {
    Named(Arc<str>),
    Anonymous,
}

/// A compiled condition.
#[derive(Debug)]
pub(crate) struct Pattern {
    segments: Vec<Segment>,
    tail: Option<Tail>,
}

/// A raw (not yet decoded) capture.
pub(crate) type Capture<'p> = (&'p Arc<str>, &'p str);

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Pattern {
    /// Compiles `condition`; `route` names the route in errors.
    pub(crate) fn compile(route: &str, condition: &str) -> Result<Self, HttpError> {
        let fail = |reason: &str| HttpError::InvalidCondition {
            route: route.to_owned(),
            condition: condition.to_owned(),
            reason: reason.to_owned(),
        };
        if !condition.is_empty() && !condition.starts_with('/') {
            return Err(fail("a condition starts with '/'"));
        }
        let mut segments = Vec::new();
        let mut tail = None;
        for raw in condition.split('/').filter(|s| !s.is_empty()) {
            if tail.is_some() {
                return Err(fail("a catch-all must be the last segment"));
            }
            let segment = if raw == "*" {
                Segment::Wildcard
            } else if raw == "**" {
                tail = Some(Tail::Anonymous);
                continue;
            } else if let Some(name) = raw.strip_prefix("{*").and_then(|r| r.strip_suffix('}')) {
                if !valid_name(name) {
                    return Err(fail("invalid catch-all name"));
                }
                tail = Some(Tail::Named(Arc::from(name)));
                continue;
            } else if let Some(name) = raw
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .or_else(|| raw.strip_prefix(':'))
            {
                if !valid_name(name) {
                    return Err(fail("invalid parameter name"));
                }
                Segment::Param(Arc::from(name))
            } else if raw.contains(['{', '}', '*']) {
                return Err(fail(
                    "a parameter or wildcard must be a whole segment ({name}, :name, *, {*name}, **)",
                ));
            } else {
                let decoded = percent_decode_str(raw)
                    .decode_utf8()
                    .map_err(|_| fail("a literal segment is not valid UTF-8 when decoded"))?;
                Segment::Literal(decoded.into_owned().into_boxed_str())
            };
            segments.push(segment);
        }
        let mut names: Vec<&str> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(name) => Some(&**name),
                _ => None,
            })
            .collect();
        if let Some(Tail::Named(name)) = &tail {
            names.push(name);
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        if names.len() != count {
            return Err(fail("a parameter name is used twice"));
        }
        Ok(Self { segments, tail })
    }

    /// Whether the pattern has captures.
    pub(crate) fn has_captures(&self) -> bool {
        matches!(self.tail, Some(Tail::Named(_)))
            || self.segments.iter().any(|s| matches!(s, Segment::Param(_)))
    }

    /// Matches `path`; pushes raw captures to `captures` when given.
    pub(crate) fn matches<'p>(
        &'p self,
        path: &'p str,
        mut captures: Option<&mut Vec<Capture<'p>>>,
    ) -> bool {
        let mut pos = 0;
        for segment in &self.segments {
            let Some(raw) = next_segment(path, &mut pos) else {
                return false;
            };
            match segment {
                Segment::Literal(literal) => {
                    let equal = **literal == *raw
                        || (raw.contains('%')
                            && percent_decode_str(raw)
                                .decode_utf8()
                                .is_ok_and(|d| d == **literal));
                    if !equal {
                        return false;
                    }
                }
                Segment::Param(name) => {
                    if let Some(captures) = captures.as_deref_mut() {
                        captures.push((name, raw));
                    }
                }
                Segment::Wildcard => {}
            }
        }
        match &self.tail {
            None => next_segment(path, &mut pos).is_none(),
            Some(tail) => {
                if let (Tail::Named(name), Some(captures)) = (tail, captures) {
                    let rest = path[pos..].trim_matches('/');
                    captures.push((name, rest));
                }
                true
            }
        }
    }
}

/// The next non-empty segment of `path` from byte `pos`, advancing `pos` past it.
fn next_segment<'p>(path: &'p str, pos: &mut usize) -> Option<&'p str> {
    let bytes = path.as_bytes();
    let mut start = *pos;
    while start < bytes.len() && bytes[start] == b'/' {
        start += 1;
    }
    if start >= bytes.len() {
        *pos = start;
        return None;
    }
    let end = path[start..].find('/').map_or(bytes.len(), |i| start + i);
    *pos = end;
    Some(&path[start..end])
}

/// Percent-decodes a captured value; invalid UTF-8 is a 400.
pub(crate) fn decode(raw: &str) -> Result<String, HttpError> {
    match percent_decode_str(raw).decode_utf8() {
        Ok(Cow::Borrowed(s)) => Ok(s.to_owned()),
        Ok(Cow::Owned(s)) => Ok(s),
        Err(_) => Err(HttpError::InvalidTarget {
            reason: format!("the path segment {raw:?} is not valid UTF-8 when percent-decoded"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
        let pattern = Pattern::compile("t", pattern).expect("pattern compiles");
        let mut caps = Vec::new();
        pattern.matches(path, Some(&mut caps)).then(|| {
            caps.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
    }

    #[test]
    fn literal_paths_ignore_repeated_and_trailing_slashes() {
        assert!(captures("/a/b", "/a//b/").is_some());
        assert!(captures("/a/b", "/a/b/c").is_none());
        assert!(captures("/a/b", "/a").is_none());
        assert!(captures("", "//").is_some());
        assert!(captures("/", "/").is_some());
    }

    #[test]
    fn params_capture_one_segment_in_both_syntaxes() {
        let caps = captures("/test/{id}/:x", "/test/123/y").expect("matches");
        assert_eq!(
            caps,
            vec![("id".into(), "123".into()), ("x".into(), "y".into())]
        );
    }

    #[test]
    fn catch_all_captures_the_rest_including_nothing() {
        let caps = captures("/files/{*rest}", "/files/a/b%20c/").expect("matches");
        assert_eq!(caps, vec![("rest".into(), "a/b%20c".into())]);
        let caps = captures("/files/{*rest}", "/files").expect("matches");
        assert_eq!(caps, vec![("rest".into(), String::new())]);
        assert!(captures("/x/**", "/x/1/2/3").is_some());
        assert!(captures("/*/*", "/a/b").is_some());
        assert!(captures("/*/*", "/a").is_none());
    }

    #[test]
    fn literals_match_percent_encoded_segments() {
        assert!(captures("/café", "/caf%C3%A9").is_some());
    }

    #[test]
    fn invalid_conditions_are_refused() {
        for bad in ["x", "/a/{*r}/b", "/file.*", "/{}", "/{a}/{a}", "/a{b}"] {
            assert!(Pattern::compile("t", bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn decoding_rejects_invalid_utf8() {
        assert_eq!(decode("a%20b").expect("decodes"), "a b");
        assert!(decode("%FF").is_err());
    }
}
