//! From the `locator` config map to an ordered construction plan.
//!
//! The map's forms:
//!
//! ```toml
//! [locator]
//! "http" = true                     # construct the service registered as "http"
//! "debug" = false                   # never construct it (a later layer may disable)
//! "audit" = ["store"]               # construct it after "store" (extra `uses`)
//! "mirror" = "store"                # a second instance of the "store" registration
//! "reports" = { uses = ["store"], implementation = "report-writer" }
//! "ping-pong/*" = true              # every registered name matching the pattern
//! ```
//!
//! The map may also be a list of names, or one name. A wildcard `*` matches any
//! run of characters except `/`; an explicit entry for a name wins over a
//! pattern. A registered service that an enabled one `uses` is constructed even
//! when the map does not name it; one the map disables is an error, as is an
//! unregistered name or a cycle (the error names the whole cycle).

use indexmap::IndexMap;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::registry::Registry;

/// One service to construct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    /// The name it is located by.
    pub(crate) name: String,
    /// The registration that builds it.
    pub(crate) implementation: String,
    /// What must be constructed before it.
    pub(crate) uses: Vec<String>,
}

#[derive(Debug, Clone)]
enum Entry {
    Disabled,
    Enabled {
        implementation: Option<String>,
        uses: Vec<String>,
    },
}

/// The services to construct, dependencies before dependents, otherwise in map
/// order.
pub(crate) fn plan(registry: &Registry, map: Option<&Value>) -> Result<Vec<Planned>> {
    let entries = expand_wildcards(registry, normalize(map)?)?;

    let mut nodes: IndexMap<String, Planned> = IndexMap::new();
    let mut pending: Vec<(String, Option<String>, Vec<String>)> = entries
        .iter()
        .filter_map(|(name, entry)| match entry {
            Entry::Enabled {
                implementation,
                uses,
            } => Some((name.clone(), implementation.clone(), uses.clone())),
            Entry::Disabled => None,
        })
        .collect();
    let mut required_by: IndexMap<String, String> = IndexMap::new();

    while !pending.is_empty() {
        for (name, implementation, extra_uses) in std::mem::take(&mut pending) {
            if nodes.contains_key(&name) {
                continue;
            }
            let implementation = implementation.unwrap_or_else(|| name.clone());
            let registration =
                registry
                    .get(&implementation)
                    .ok_or_else(|| Error::LocatorUnknownService {
                        name: implementation.clone(),
                        required_by: required_by.get(&name).cloned(),
                    })?;
            let mut uses = registration.uses.clone();
            for extra in extra_uses {
                if !uses.contains(&extra) {
                    uses.push(extra);
                }
            }
            for dependency in &uses {
                match entries.get(dependency) {
                    Some(Entry::Disabled) => {
                        return Err(Error::LocatorDependencyDisabled {
                            name: name.clone(),
                            dependency: dependency.clone(),
                        });
                    }
                    Some(Entry::Enabled { .. }) => {}
                    None => {
                        required_by
                            .entry(dependency.clone())
                            .or_insert_with(|| name.clone());
                        pending.push((dependency.clone(), None, Vec::new()));
                    }
                }
            }
            nodes.insert(
                name.clone(),
                Planned {
                    name,
                    implementation,
                    uses,
                },
            );
        }
    }

    order(&nodes)
}

/// Depth-first topological order; a back edge is a cycle.
fn order(nodes: &IndexMap<String, Planned>) -> Result<Vec<Planned>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        name: &str,
        nodes: &IndexMap<String, Planned>,
        marks: &mut IndexMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<Planned>,
    ) -> Result<()> {
        match marks.get(name) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let start = stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(name.to_owned());
                return Err(Error::LocatorCycle { cycle });
            }
            None => {}
        }
        let Some(node) = nodes.get(name) else {
            return Ok(());
        };
        marks.insert(name.to_owned(), Mark::Visiting);
        stack.push(name.to_owned());
        for dependency in &node.uses {
            visit(dependency, nodes, marks, stack, out)?;
        }
        stack.pop();
        marks.insert(name.to_owned(), Mark::Done);
        out.push(node.clone());
        Ok(())
    }

    let mut marks = IndexMap::new();
    let mut out = Vec::with_capacity(nodes.len());
    for name in nodes.keys() {
        visit(name, nodes, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

fn normalize(map: Option<&Value>) -> Result<IndexMap<String, Entry>> {
    let enabled = || Entry::Enabled {
        implementation: None,
        uses: Vec::new(),
    };
    let mut out = IndexMap::new();
    match map {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => {
            out.insert(name.clone(), enabled());
        }
        Some(Value::Array(names)) => {
            for name in names {
                let name = name.as_str().ok_or_else(|| Error::LocatorInvalidMap {
                    found: format!("a list holding {name}"),
                })?;
                out.insert(name.to_owned(), enabled());
            }
        }
        Some(Value::Object(map)) => {
            for (name, value) in map {
                out.insert(name.clone(), entry(name, value)?);
            }
        }
        Some(other) => {
            return Err(Error::LocatorInvalidMap {
                found: other.to_string(),
            });
        }
    }
    Ok(out)
}

fn entry(name: &str, value: &Value) -> Result<Entry> {
    let invalid = |message: String| Error::LocatorInvalidEntry {
        name: name.to_owned(),
        message,
    };
    let names = |value: &Value| -> Result<Vec<String>> {
        value
            .as_array()
            .ok_or_else(|| invalid(format!("`uses` must be a list of names, found {value}")))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("`uses` must hold names, found {v}")))
            })
            .collect()
    };
    Ok(match value {
        Value::Bool(false) | Value::Null => Entry::Disabled,
        Value::Bool(true) => Entry::Enabled {
            implementation: None,
            uses: Vec::new(),
        },
        Value::String(implementation) => Entry::Enabled {
            implementation: Some(implementation.clone()),
            uses: Vec::new(),
        },
        Value::Array(_) => Entry::Enabled {
            implementation: None,
            uses: names(value)?,
        },
        Value::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "uses" | "implementation" | "enabled"))
            {
                return Err(invalid(format!(
                    "unknown key `{unknown}` (expected `uses`, `implementation`, `enabled`)"
                )));
            }
            if map.get("enabled") == Some(&Value::Bool(false)) {
                return Ok(Entry::Disabled);
            }
            let implementation = match map.get("implementation") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(invalid(format!(
                        "`implementation` must be a registered name, found {other}"
                    )));
                }
            };
            let uses = map.get("uses").map(names).transpose()?.unwrap_or_default();
            Entry::Enabled {
                implementation,
                uses,
            }
        }
        other => {
            return Err(invalid(format!(
                "expected true, false, a name, a list of `uses` or a table, found {other}"
            )));
        }
    })
}

fn expand_wildcards(
    registry: &Registry,
    entries: IndexMap<String, Entry>,
) -> Result<IndexMap<String, Entry>> {
    let mut out = IndexMap::new();
    for (name, entry) in &entries {
        if !name.contains('*') {
            out.insert(name.clone(), entry.clone());
            continue;
        }
        let mut matched = false;
        for candidate in registry.names() {
            if matches(name, candidate) {
                matched = true;
                if !entries.contains_key(candidate) && !out.contains_key(candidate) {
                    out.insert(candidate.to_owned(), entry.clone());
                }
            }
        }
        if !matched && matches!(entry, Entry::Enabled { .. }) {
            return Err(Error::LocatorUnknownService {
                name: name.clone(),
                required_by: None,
            });
        }
    }
    Ok(out)
}

/// Glob match where `*` matches any run of characters except `/`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            let segment_end = rest.find('/').unwrap_or(rest.len());
            (0..=segment_end).any(|i| matches(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matches_within_one_segment() {
        assert!(matches("app/*", "app/x"));
        assert!(!matches("app/*", "app/x/y"));
        assert!(matches("*/*/*", "a/b/c"));
        assert!(matches("app/*-http", "app/ping-http"));
        assert!(!matches("app/*-http", "app/ping-grpc"));
    }
}
