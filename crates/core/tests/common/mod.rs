//! Test scaffolding shared by the core integration tests: temporary config
//! folders and probe services that journal what happens to them.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use serde_json::Value;
use superhero_core::{BoxError, ConfigSection, Registry, Service, async_trait};

/// A temporary folder to write config files into.
pub use superhero_testkit::TempDir as Dir;

/// What happened, in order: `construct x`, `bootstrap x`, `destroy x`.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn record(&self, entry: String) {
        self.0.lock().expect("journal").push(entry);
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.lock().expect("journal").clone()
    }

    /// The names of entries starting with `verb `, in order.
    pub fn names(&self, verb: &str) -> Vec<String> {
        let prefix = format!("{verb} ");
        self.entries()
            .into_iter()
            .filter_map(|e| e.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }
}

/// A service that journals its lifecycle and keeps the config it was given.
pub struct Probe {
    pub name: String,
    journal: Journal,
    fail_bootstrap: bool,
    pub config: Mutex<Option<Value>>,
}

#[async_trait]
impl Service for Probe {
    async fn bootstrap(&self, config: ConfigSection) -> Result<(), BoxError> {
        self.journal.record(format!("bootstrap {}", self.name));
        *self.config.lock().expect("config") = config.value().cloned();
        if self.fail_bootstrap {
            return Err(format!("{} refuses to start", self.name).into());
        }
        Ok(())
    }

    async fn destroy(&self) -> Result<(), BoxError> {
        self.journal.record(format!("destroy {}", self.name));
        Ok(())
    }
}

/// How to register one probe.
pub struct ProbeSpec<'a> {
    pub name: &'a str,
    pub uses: &'a [&'a str],
    pub fail_bootstrap: bool,
}

pub fn probe(name: &str) -> ProbeSpec<'_> {
    ProbeSpec {
        name,
        uses: &[],
        fail_bootstrap: false,
    }
}

impl<'a> ProbeSpec<'a> {
    pub fn uses(mut self, uses: &'a [&'a str]) -> Self {
        self.uses = uses;
        self
    }

    pub fn failing_bootstrap(mut self) -> Self {
        self.fail_bootstrap = true;
        self
    }
}

/// A registry of probes journaling into `journal`.
pub fn probes(journal: &Journal, specs: Vec<ProbeSpec<'_>>) -> Registry {
    let mut registry = Registry::new();
    for spec in specs {
        let journal = journal.clone();
        let fail_bootstrap = spec.fail_bootstrap;
        registry
            .register(spec.name, move |ctx| {
                let journal = journal.clone();
                async move {
                    journal.record(format!("construct {}", ctx.name()));
                    Ok(Probe {
                        name: ctx.name().to_owned(),
                        journal,
                        fail_bootstrap,
                        config: Mutex::new(None),
                    })
                }
            })
            .uses(spec.uses.iter().copied());
    }
    registry
}
