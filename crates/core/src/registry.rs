//! The compile-time service registry: name → factory.
//!
//! Rust has no run-time module loading, so every service a binary can run is
//! registered here when the binary starts; the config's `locator` map then picks
//! which of them to construct (see [`crate::locator`]).

use std::any::{Any, TypeId};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::BoxError;
use crate::service::{Service, ServiceContext};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub(crate) type AnyArc = Arc<dyn Any + Send + Sync>;
type Factory =
    Arc<dyn Fn(ServiceContext) -> BoxFuture<Result<Constructed, BoxError>> + Send + Sync>;
type Exposure = Arc<dyn Fn(&AnyArc) -> Option<(TypeId, Box<dyn Any + Send + Sync>)> + Send + Sync>;

/// A freshly built service before it is placed in the locator.
pub(crate) struct Constructed {
    pub(crate) service: Arc<dyn Service>,
    /// The service as `Arc<dyn Any>`, for exposures to downcast.
    pub(crate) concrete: AnyArc,
    /// The service as a boxed `Arc<S>`, the view `locate::<S>` finds.
    pub(crate) own_view: Box<dyn Any + Send + Sync>,
}

impl Constructed {
    fn of<S: Service>(service: Arc<S>) -> Self {
        Constructed {
            service: service.clone(),
            concrete: service.clone(),
            own_view: Box::new(service),
        }
    }
}

/// One registered service kind.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) factory: Factory,
    pub(crate) uses: Vec<String>,
    pub(crate) exposures: Vec<Exposure>,
    pub(crate) type_name: &'static str,
    pub(crate) type_id: TypeId,
}

/// Name → factory, filled by the binary (each crate or app offers a
/// `register(&mut Registry)` function).
///
/// ```
/// use std::sync::Arc;
/// use superhero_core::{Registry, Service};
///
/// trait Greeter: Send + Sync { fn greet(&self) -> String; }
/// struct English;
/// impl Service for English {}
/// impl Greeter for English { fn greet(&self) -> String { "hello".into() } }
///
/// let mut registry = Registry::new();
/// registry
///     .register("greeter", |_ctx| async { Ok(English) })
///     .expose::<dyn Greeter>(|s| s);
/// assert!(registry.contains("greeter"));
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) entries: IndexMap<String, Registration>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a factory under `name`, replacing an earlier registration.
    /// The returned handle declares dependencies and exposed interfaces.
    pub fn register<S, F, Fut>(&mut self, name: impl Into<String>, factory: F) -> Registering<'_, S>
    where
        S: Service,
        F: Fn(ServiceContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, BoxError>> + Send + 'static,
    {
        let factory = Arc::new(factory);
        let erased: Factory = Arc::new(move |ctx| {
            let built = factory(ctx);
            Box::pin(async move { Ok(Constructed::of(Arc::new(built.await?))) })
        });
        self.insert::<S>(name.into(), erased)
    }

    /// Registers an already-built service under `name`.
    pub fn register_instance<S: Service>(
        &mut self,
        name: impl Into<String>,
        instance: Arc<S>,
    ) -> Registering<'_, S> {
        let erased: Factory = Arc::new(move |_ctx| {
            let instance = instance.clone();
            Box::pin(async move { Ok(Constructed::of(instance)) })
        });
        self.insert::<S>(name.into(), erased)
    }

    fn insert<S: Service>(&mut self, name: String, factory: Factory) -> Registering<'_, S> {
        let registration = Registration {
            factory,
            uses: Vec::new(),
            exposures: Vec::new(),
            type_name: std::any::type_name::<S>(),
            type_id: TypeId::of::<S>(),
        };
        Registering {
            registration: self
                .entries
                .entry(name)
                .insert_entry(registration)
                .into_mut(),
            _service: PhantomData,
        }
    }

    /// Adds every registration of `other` (later registrations win).
    pub fn extend(&mut self, other: Registry) {
        self.entries.extend(other.entries);
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Registered names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Registration> {
        self.entries.get(name)
    }
}

/// Declares what a registered service needs and offers.
pub struct Registering<'r, S> {
    registration: &'r mut Registration,
    _service: PhantomData<fn() -> S>,
}

impl<S: Service> Registering<'_, S> {
    /// Services this one locates in its factory; they are constructed first
    /// (and destroyed after it). The config can add more (`locator.<name>.uses`).
    pub fn uses<I, N>(self, names: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let uses = &mut self.registration.uses;
        for name in names {
            if !uses.contains(&name) {
                uses.push(name);
            }
        }
        self
    }

    /// Makes the service locatable as the trait object `I` too, e.g.
    /// `.expose::<dyn Dispatcher>(|s| s)`.
    pub fn expose<I>(self, cast: fn(Arc<S>) -> Arc<I>) -> Self
    where
        I: ?Sized + Send + Sync + 'static,
    {
        let exposure: Exposure = Arc::new(move |concrete: &AnyArc| {
            let typed = concrete.clone().downcast::<S>().ok()?;
            let view: Box<dyn Any + Send + Sync> = Box::new(cast(typed));
            Some((TypeId::of::<I>(), view))
        });
        self.registration.exposures.push(exposure);
        self
    }
}
