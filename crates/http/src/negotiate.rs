//! Content negotiation by RFC 9110 media ranges: 415 when the request's `Content-Type` is
//! not one a route consumes, 406 when its `Accept` (with q-values, the most specific
//! matching range deciding) accepts none of the types a route produces.

/// A media type or range, lower-cased, parameters dropped (`application/*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaRange {
    kind: String,
    subtype: String,
    text: String,
}

impl MediaRange {
    /// Parses `type/subtype[; params]`; `None` when malformed.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let essence = text.split(';').next()?.trim().to_ascii_lowercase();
        let (kind, subtype) = essence.split_once('/')?;
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+*".contains(&b))
        };
        if !token(kind) || !token(subtype) || (kind == "*" && subtype != "*") {
            return None;
        }
        Some(Self {
            kind: kind.to_owned(),
            subtype: subtype.to_owned(),
            text: essence.clone(),
        })
    }

    /// The text form (`application/json`).
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this range includes `other` (a concrete type).
    fn includes(&self, kind: &str, subtype: &str) -> bool {
        (self.kind == "*" || self.kind == kind) && (self.subtype == "*" || self.subtype == subtype)
    }

    /// 3 for `type/sub`, 2 for `type/*`, 1 for `*/*`.
    fn specificity(&self) -> u8 {
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", _) => 1,
            (_, "*") => 2,
            _ => 3,
        }
    }

    /// Whether this is JSON (`application/json` or `*/*+json`).
    pub(crate) fn is_json(&self) -> bool {
        (self.kind == "application" && self.subtype == "json") || self.subtype.ends_with("+json")
    }
}

/// Whether the request `Content-Type` is among `consumes` (which may hold ranges).
/// Returns the matching entry.
pub(crate) fn consumed<'c>(
    content_type: &str,
    consumes: &'c [MediaRange],
) -> Option<&'c MediaRange> {
    let actual = MediaRange::parse(content_type)?;
    if actual.kind == "*" || actual.subtype == "*" {
        return None;
    }
    consumes
        .iter()
        .filter(|range| range.includes(&actual.kind, &actual.subtype))
        .max_by_key(|range| range.specificity())
}

/// Whether an `Accept` header value accepts at least one of `produces`.
/// An absent or empty header accepts everything; malformed entries are ignored.
pub(crate) fn acceptable(accept: Option<&str>, produces: &[MediaRange]) -> bool {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    if produces.is_empty() || accept == "*/*" {
        return true;
    }
    let ranges: Vec<(MediaRange, f32)> = accept
        .split(',')
        .filter_map(|entry| {
            let range = MediaRange::parse(entry)?;
            let q = entry
                .split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, v)| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((range, q))
        })
        .collect();
    if ranges.is_empty() {
        return true;
    }
    produces.iter().any(|produced| {
        ranges
            .iter()
            .filter(|(range, _)| {
                range.includes(&produced.kind, &produced.subtype)
                    || produced.includes(&range.kind, &range.subtype)
            })
            .max_by_key(|(range, _)| range.specificity())
            .is_some_and(|(_, q)| *q > 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(list: &[&str]) -> Vec<MediaRange> {
        list.iter().filter_map(|t| MediaRange::parse(t)).collect()
    }

    #[test]
    fn content_type_matches_exact_types_and_ranges_ignoring_parameters() {
        let json = ranges(&["application/json"]);
        assert!(consumed("application/json; charset=utf-8", &json).is_some());
        assert!(consumed("Application/JSON", &json).is_some());
        assert!(consumed("text/plain", &json).is_none());
        assert!(consumed("nonsense", &json).is_none());
        assert!(consumed("text/html", &ranges(&["text/*"])).is_some());
    }

    #[test]
    fn accept_honours_q_values_and_specificity() {
        let json = ranges(&["application/json"]);
        assert!(acceptable(None, &json));
        assert!(acceptable(Some("*/*"), &json));
        assert!(acceptable(Some("text/html, application/*;q=0.5"), &json));
        assert!(!acceptable(Some("text/html"), &json));
        assert!(!acceptable(Some("application/json;q=0, */*"), &json));
        assert!(acceptable(Some("application/json;q=0.1, text/*"), &json));
        assert!(!acceptable(Some("*/*;q=0"), &json));
    }
}
