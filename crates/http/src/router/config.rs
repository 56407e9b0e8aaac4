//! Routes as configuration data (`http.routes`): route name → route, or `false` to disable
//! a route an earlier config layer defined.
//!
//! ```
//! use superhero_http::{RouteEntry, RoutesConfig};
//! let routes: RoutesConfig = toml::from_str(r#"
//!     legacy = false
//!     [ping]
//!     condition = "/ping"
//!     method = "GET"
//!     dispatcher = "ping-pong/ping"
//!     [api]
//!     condition = "/api/**"
//!     middleware = ["auth"]
//! "#).unwrap();
//! assert!(matches!(routes["legacy"], RouteEntry::Disabled));
//! assert!(matches!(&routes["ping"], RouteEntry::Route(r) if r.dispatcher.is_some()));
//! ```

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// `http.routes`, in declaration order.
pub type RoutesConfig = IndexMap<String, RouteEntry>;

/// A route, or `false` (disabled).
#[derive(Debug, Clone, PartialEq)]
pub enum RouteEntry {
    /// `false`: the route is removed if an earlier layer or call defined it.
    Disabled,
    /// An enabled route.
    Route(Box<RouteSpec>),
}

/// One route. Without a `dispatcher` it is a *middleware route*: its middleware wraps
/// every request whose path and method it matches, in front of the selected route's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The path pattern (see [`crate::router`]): `/users/{id}`, `/static/{*path}`, `/api/**`.
    pub condition: String,
    /// `"GET"`, `["GET", "POST"]` or `"*"` (the default): methods this route answers.
    #[serde(default)]
    pub method: MethodSpec,
    /// Middleware names, outermost first.
    #[serde(default, alias = "middlewares", deserialize_with = "one_or_many")]
    pub middleware: Vec<String>,
    /// The dispatcher's name.
    #[serde(default)]
    pub dispatcher: Option<String>,
    /// Media ranges the request body may have (415 otherwise); empty: anything.
    #[serde(default)]
    pub consumes: Vec<String>,
    /// Media types the route answers with (406 when `Accept` allows none); empty: anything.
    #[serde(default)]
    pub produces: Vec<String>,
    /// Free data for dispatchers and middleware, see [`crate::RouteInfo::meta`].
    #[serde(default)]
    pub meta: Map<String, Value>,
}

impl RouteSpec {
    /// A route for `condition` with no dispatcher, any method, nothing else.
    pub fn new(condition: impl Into<String>) -> Self {
        Self {
            condition: condition.into(),
            method: MethodSpec::Any,
            middleware: Vec::new(),
            dispatcher: None,
            consumes: Vec::new(),
            produces: Vec::new(),
            meta: Map::new(),
        }
    }

    /// Sets the dispatcher.
    #[must_use]
    pub fn dispatcher(mut self, name: impl Into<String>) -> Self {
        self.dispatcher = Some(name.into());
        self
    }

    /// Sets the methods.
    #[must_use]
    pub fn methods<I: IntoIterator<Item = S>, S: Into<String>>(mut self, methods: I) -> Self {
        self.method = MethodSpec::List(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Appends middleware names.
    #[must_use]
    pub fn middleware<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.middleware.extend(names.into_iter().map(Into::into));
        self
    }
}

/// Which methods a route answers: `"*"` or a list (one string is a list of one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MethodSpec {
    /// Any method.
    #[default]
    Any,
    /// These methods (HEAD is implied by GET).
    List(Vec<String>),
}

impl Serialize for MethodSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Any => serializer.serialize_str("*"),
            Self::List(list) => list.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for MethodSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = one_or_many(deserializer)?;
        if list.iter().any(|m| m == "*") {
            Ok(Self::Any)
        } else {
            Ok(Self::List(list))
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

impl Serialize for RouteEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Disabled => serializer.serialize_bool(false),
            Self::Route(route) => route.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RouteEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RouteEntry;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a route table or `false`")
            }

            fn visit_bool<E: de::Error>(self, value: bool) -> Result<RouteEntry, E> {
                if value {
                    Err(E::custom(
                        "`true` is not a route: give a table, or `false` to disable",
                    ))
                } else {
                    Ok(RouteEntry::Disabled)
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RouteEntry, A::Error> {
                RouteSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|route| RouteEntry::Route(Box::new(route)))
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}
