//! Covered components (RFC 9421 §2): the derived components a request signature uses
//! (`@method`, `@authority`, `@path`, `@query`, §2.2) and HTTP fields (§2.1), and their
//! values in a request.

use http::HeaderMap;

use super::SignatureError;

/// The parts of a request a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// `host[:port]` as the request named it (the `Host` field, or the HTTP/2
    /// `:authority`).
    pub authority: &'a str,
    /// The target's path, as sent (still percent-encoded).
    pub path: &'a str,
    /// The target's query without its `?`, if it has one.
    pub query: Option<&'a str>,
    /// The header fields.
    pub headers: &'a HeaderMap,
}

impl<'a> RequestParts<'a> {
    /// The parts of `request` as the server received it.
    pub fn of(request: &'a superhero_http::Request) -> Self {
        let authority = request
            .uri()
            .authority()
            .map(http::uri::Authority::as_str)
            .or_else(|| request.header("host"))
            .unwrap_or("");
        RequestParts {
            method: request.method().as_str(),
            authority,
            path: request.uri().path(),
            query: request.uri().query(),
            headers: request.headers(),
        }
    }
}

/// A component identifier without parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Component {
    /// `@method` (§2.2.1).
    Method,
    /// `@authority` (§2.2.3).
    Authority,
    /// `@path` (§2.2.6).
    Path,
    /// `@query` (§2.2.7).
    Query,
    /// An HTTP field, by its lowercase name (§2.1).
    Field(String),
}

impl Component {
    /// The component named `name`; derived components other than the four above, and
    /// field names that are not lowercase tokens, are refused.
    pub fn parse(name: &str) -> Result<Component, SignatureError> {
        match name {
            "@method" => Ok(Component::Method),
            "@authority" => Ok(Component::Authority),
            "@path" => Ok(Component::Path),
            "@query" => Ok(Component::Query),
            other if other.starts_with('@') => Err(SignatureError::invalid(format!(
                "the derived component {other} is not supported"
            ))),
            other
                if !other.is_empty()
                    && other.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || b"-_.!#$%&'*+^`|~".contains(&b)
                    }) =>
            {
                Ok(Component::Field(other.to_owned()))
            }
            other => Err(SignatureError::invalid(format!(
                "{other:?} is not a component name (lowercase field names or @method, @authority, @path, @query)"
            ))),
        }
    }

    /// The identifier's name (`@method`, `content-digest`).
    pub fn name(&self) -> &str {
        match self {
            Component::Method => "@method",
            Component::Authority => "@authority",
            Component::Path => "@path",
            Component::Query => "@query",
            Component::Field(name) => name,
        }
    }

    /// The component's value in `parts` (§2.1, §2.2); a field the request does not have
    /// is `E_AUTH_SIGNATURE_COMPONENT_MISSING`.
    pub fn value(&self, parts: &RequestParts<'_>) -> Result<String, SignatureError> {
        match self {
            Component::Method => Ok(parts.method.to_owned()),
            Component::Authority => Ok(parts.authority.to_ascii_lowercase()),
            Component::Path if parts.path.is_empty() => Ok("/".to_owned()),
            Component::Path => Ok(parts.path.to_owned()),
            Component::Query => Ok(format!("?{}", parts.query.unwrap_or(""))),
            Component::Field(name) => {
                let mut values = parts.headers.get_all(name.as_str()).iter().peekable();
                if values.peek().is_none() {
                    return Err(SignatureError::ComponentMissing {
                        component: name.clone(),
                    });
                }
                let mut joined = String::new();
                for (i, value) in values.enumerate() {
                    let text = value.to_str().map_err(|_| {
                        SignatureError::invalid(format!("the {name} field is not visible ASCII"))
                    })?;
                    if i > 0 {
                        joined.push_str(", ");
                    }
                    joined.push_str(text.trim_matches(|c| c == ' ' || c == '\t'));
                }
                Ok(joined)
            }
        }
    }
}
