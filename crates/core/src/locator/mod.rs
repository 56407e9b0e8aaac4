//! The service locator: the services this process constructed, by name.
//!
//! The config's `locator` map picks which registered services to construct
//! ([`plan`] explains the map); they are built in dependency order (`uses`
//! first) and destroyed in the reverse order. Lookups are typed:
//! [`Locator::locate`] returns `Arc<T>` for the service's own type or for any
//! trait object it [exposes](crate::registry::Registering::expose).

pub mod plan;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::service::Service;

/// A constructed service with its typed views.
pub(crate) struct Instance {
    pub(crate) service: Arc<dyn Service>,
    pub(crate) type_name: &'static str,
    pub(crate) views: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    pub(crate) token: CancellationToken,
}

/// The constructed services, shared by everything that needs to look one up.
/// Cloning is cheap and every clone sees the same services.
#[derive(Clone, Default)]
pub struct Locator {
    services: Arc<RwLock<IndexMap<String, Arc<Instance>>>>,
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator")
            .field("services", &self.names())
            .finish()
    }
}

impl Locator {
    /// The service `name` as `T`: its own type, or a trait object it exposes.
    ///
    /// `E_LOCATOR_LOCATE` when no such service was constructed,
    /// `E_LOCATOR_TYPE` when it neither is nor exposes `T`.
    pub fn locate<T: ?Sized + Send + Sync + 'static>(&self, name: &str) -> Result<Arc<T>> {
        let instance = self.instance(name)?;
        instance
            .views
            .get(&TypeId::of::<T>())
            .and_then(|view| view.downcast_ref::<Arc<T>>())
            .cloned()
            .ok_or_else(|| Error::LocatorType {
                name: name.to_owned(),
                actual: instance.type_name,
                requested: std::any::type_name::<T>(),
            })
    }

    /// Every constructed service that is or exposes `T`, with its name, in construction
    /// order: e.g. all the [`crate::health::Readiness`] checks of a node.
    pub fn exposing<T: ?Sized + Send + Sync + 'static>(&self) -> Vec<(String, Arc<T>)> {
        self.read()
            .iter()
            .filter_map(|(name, instance)| {
                instance
                    .views
                    .get(&TypeId::of::<T>())
                    .and_then(|view| view.downcast_ref::<Arc<T>>())
                    .map(|view| (name.clone(), view.clone()))
            })
            .collect()
    }

    /// Whether `name` was constructed.
    pub fn contains(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    /// Constructed service names, in construction order.
    pub fn names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    pub(crate) fn instance(&self, name: &str) -> Result<Arc<Instance>> {
        self.read()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::LocatorLocate {
                name: name.to_owned(),
            })
    }

    pub(crate) fn insert(&self, name: String, instance: Instance) {
        self.services
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, Arc::new(instance));
    }

    pub(crate) fn remove(&self, name: &str) {
        self.services
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .shift_remove(name);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, IndexMap<String, Arc<Instance>>> {
        self.services.read().unwrap_or_else(PoisonError::into_inner)
    }
}
