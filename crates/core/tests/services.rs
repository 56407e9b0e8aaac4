//! The locator, bootstrap and shutdown driven by config, with journaling probes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Dir, Journal, Probe, probe, probes};
use serde_json::{Value, json};
use superhero_core::config::Config;
use superhero_core::{BoxError, Core, Registry, Service, async_trait};

fn config(value: Value) -> Config {
    Config::builder()
        .add_value("test", value)
        .env_vars([])
        .build()
        .expect("config")
}

#[tokio::test]
async fn services_are_constructed_after_what_they_use_and_destroyed_in_reverse() {
    let journal = Journal::default();
    let registry = probes(
        &journal,
        vec![
            probe("http").uses(&["store"]),
            probe("store").uses(&["pool"]),
            probe("pool"),
            probe("metrics"),
        ],
    );
    let running = Core::new(
        config(json!({"locator": {"http": true, "metrics": true, "store": true, "pool": true}})),
        registry,
    )
    .start()
    .await
    .unwrap();
    assert_eq!(
        journal.names("construct"),
        ["pool", "store", "http", "metrics"]
    );
    running.shutdown().await.unwrap();
    assert_eq!(
        journal.names("destroy"),
        ["metrics", "http", "store", "pool"]
    );
}

#[tokio::test]
async fn uses_from_config_add_to_the_registered_ones() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("a"), probe("b")]);
    let running = Core::new(
        config(json!({"locator": {"a": {"uses": ["b"]}, "b": true}})),
        registry,
    )
    .start()
    .await
    .unwrap();
    assert_eq!(journal.names("construct"), ["b", "a"]);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_registered_dependency_is_constructed_even_when_the_map_omits_it() {
    let journal = Journal::default();
    let registry = probes(
        &journal,
        vec![probe("app").uses(&["store"]), probe("store")],
    );
    let running = Core::new(config(json!({"locator": ["app"]})), registry)
        .start()
        .await
        .unwrap();
    assert_eq!(journal.names("construct"), ["store", "app"]);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_cycle_is_an_error_naming_every_service_in_it() {
    let journal = Journal::default();
    let registry = probes(
        &journal,
        vec![
            probe("a").uses(&["b"]),
            probe("b").uses(&["c"]),
            probe("c").uses(&["a"]),
        ],
    );
    let err = Core::new(config(json!({"locator": {"a": true}})), registry)
        .start()
        .await
        .err()
        .expect("cycle");
    assert_eq!(err.code(), "E_LOCATOR_CYCLE");
    assert!(err.to_string().contains("a → b → c → a"), "{err}");
    assert!(
        journal.entries().is_empty(),
        "nothing may be constructed: {:?}",
        journal.entries()
    );
}

#[tokio::test]
async fn a_disabled_service_is_never_constructed() {
    let journal = Journal::default();
    let dir = Dir::new();
    let base = dir.write("config.json", r#"{"locator": {"a": true, "b": true}}"#);
    let over = dir.write("override.json", r#"{"locator": {"b": false}}"#);
    let registry = probes(&journal, vec![probe("a"), probe("b")]);
    let config = Config::builder()
        .add(base)
        .add(over)
        .env_vars([])
        .build()
        .unwrap();
    let running = Core::new(config, registry).start().await.unwrap();
    assert_eq!(journal.names("construct"), ["a"]);
    assert!(running.locator().locate::<Probe>("b").is_err());
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn using_a_disabled_service_is_an_error() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("a").uses(&["b"]), probe("b")]);
    let err = Core::new(
        config(json!({"locator": {"a": true, "b": false}})),
        registry,
    )
    .start()
    .await
    .err()
    .expect("disabled dependency");
    assert_eq!(err.code(), "E_LOCATOR_DEPENDENCY_DISABLED");
}

#[tokio::test]
async fn an_unregistered_name_is_an_error_naming_it() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("a")]);
    let err = Core::new(
        config(json!({"locator": {"a": true, "ghost": true}})),
        registry,
    )
    .start()
    .await
    .err()
    .expect("unknown");
    assert_eq!(err.code(), "E_LOCATOR_UNKNOWN_SERVICE");
    assert!(err.to_string().contains("ghost"), "{err}");
}

#[tokio::test]
async fn invalid_locator_maps_are_refused() {
    for bad in [json!(123), json!(true), json!({"a": 5})] {
        let journal = Journal::default();
        let registry = probes(&journal, vec![probe("a")]);
        let err = Core::new(config(json!({ "locator": bad })), registry)
            .start()
            .await
            .err()
            .expect("invalid map");
        assert!(
            matches!(
                err.code(),
                "E_LOCATOR_INVALID_SERVICE_MAP" | "E_LOCATOR_INVALID_SERVICE_CONFIG"
            ),
            "{err}"
        );
    }
}

#[tokio::test]
async fn wildcards_enable_every_matching_registered_name() {
    let journal = Journal::default();
    let registry = probes(
        &journal,
        vec![
            probe("app/ping"),
            probe("app/pong"),
            probe("app/deep/x"),
            probe("other"),
        ],
    );
    let running = Core::new(
        config(json!({"locator": {"app/*": true, "app/pong": false}})),
        registry,
    )
    .start()
    .await
    .unwrap();
    assert_eq!(journal.names("construct"), ["app/ping"]);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_alias_constructs_a_second_instance_of_a_registration() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("store")]);
    let running = Core::new(
        config(json!({"locator": {"store": true, "mirror": "store"}})),
        registry,
    )
    .start()
    .await
    .unwrap();
    let a = running.locator().locate::<Probe>("store").unwrap();
    let b = running.locator().locate::<Probe>("mirror").unwrap();
    assert!(!Arc::ptr_eq(&a, &b));
    assert_eq!(b.name, "mirror");
    running.shutdown().await.unwrap();
}

trait Greeter: Send + Sync {
    fn greet(&self) -> String;
}

struct English;
impl Service for English {}
impl Greeter for English {
    fn greet(&self) -> String {
        "hello".into()
    }
}

#[tokio::test]
async fn services_are_located_by_their_type_or_an_exposed_trait() {
    let mut registry = Registry::new();
    registry
        .register("greeter", |_ctx| async { Ok(English) })
        .expose::<dyn Greeter>(|s| s);
    let running = Core::new(config(json!({"locator": ["greeter"]})), registry)
        .start()
        .await
        .unwrap();
    let locator = running.locator();
    assert_eq!(
        locator.locate::<dyn Greeter>("greeter").unwrap().greet(),
        "hello"
    );
    assert!(locator.locate::<English>("greeter").is_ok());
    assert_eq!(
        locator.locate::<Probe>("greeter").err().unwrap().code(),
        "E_LOCATOR_TYPE"
    );
    assert_eq!(
        locator.locate::<English>("nobody").err().unwrap().code(),
        "E_LOCATOR_LOCATE"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_service_exposing_a_trait_is_found_in_construction_order() {
    let mut registry = Registry::new();
    registry
        .register("second", |_ctx| async { Ok(English) })
        .expose::<dyn Greeter>(|s| s)
        .uses(["first"]);
    registry
        .register("first", |_ctx| async { Ok(English) })
        .expose::<dyn Greeter>(|s| s);
    registry.register("plain", |_ctx| async { Ok(English) });
    let running = Core::new(config(json!({"locator": ["second", "plain"]})), registry)
        .start()
        .await
        .unwrap();
    let found: Vec<String> = running
        .locator()
        .exposing::<dyn Greeter>()
        .into_iter()
        .map(|(name, greeter)| format!("{name}: {}", greeter.greet()))
        .collect();
    assert_eq!(
        found,
        ["first: hello", "second: hello"],
        "not the one that does not expose it"
    );
    running.shutdown().await.unwrap();
}

struct Needy {
    greeting: String,
}
impl Service for Needy {}

#[tokio::test]
async fn a_factory_locates_what_it_uses() {
    let mut registry = Registry::new();
    registry
        .register("greeter", |_ctx| async { Ok(English) })
        .expose::<dyn Greeter>(|s| s);
    registry
        .register("needy", |ctx| async move {
            let greeter = ctx.locate::<dyn Greeter>("greeter")?;
            Ok(Needy {
                greeting: greeter.greet(),
            })
        })
        .uses(["greeter"]);
    let running = Core::new(config(json!({"locator": ["needy"]})), registry)
        .start()
        .await
        .unwrap();
    assert_eq!(
        running.locator().locate::<Needy>("needy").unwrap().greeting,
        "hello"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn bootstrap_runs_in_map_order_with_each_services_config() {
    let journal = Journal::default();
    let dir = Dir::new();
    let file = dir.write(
        "config.toml",
        r#"
[locator]
a = true
b = true
c = true

[bootstrap]
c = true
a = "settings/for-a"
b = false

[c]
port = 7

[settings.for-a]
name = "A"
"#,
    );
    let registry = probes(&journal, vec![probe("a"), probe("b"), probe("c")]);
    let config = Config::builder().add(file).env_vars([]).build().unwrap();
    let running = Core::new(config, registry).start().await.unwrap();
    assert_eq!(journal.names("bootstrap"), ["c", "a"]);
    let locator = running.locator();
    let config_of = |name: &str| {
        locator
            .locate::<Probe>(name)
            .unwrap()
            .config
            .lock()
            .unwrap()
            .clone()
    };
    assert_eq!(config_of("c"), Some(json!({"port": 7})));
    assert_eq!(config_of("a"), Some(json!({"name": "A"})));
    assert_eq!(config_of("b"), None);
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_bootstrap_names_the_service_and_destroys_what_was_constructed() {
    let journal = Journal::default();
    let registry = probes(
        &journal,
        vec![
            probe("store"),
            probe("http").uses(&["store"]).failing_bootstrap(),
            probe("late"),
        ],
    );
    let err = Core::new(
        config(json!({
            "locator": ["store", "http", "late"],
            "bootstrap": {"store": true, "http": true, "late": true}
        })),
        registry,
    )
    .start()
    .await
    .err()
    .expect("bootstrap failure");
    assert_eq!(err.code(), "E_BOOTSTRAP");
    assert!(err.to_string().contains("\"http\""), "{err}");
    assert_eq!(
        journal.names("bootstrap"),
        ["store", "http"],
        "late must not start"
    );
    assert_eq!(journal.names("destroy"), ["late", "http", "store"]);
}

#[tokio::test]
async fn bootstrapping_a_service_that_is_not_constructed_is_an_error() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("a")]);
    let err = Core::new(
        config(json!({"locator": ["a"], "bootstrap": {"b": true}})),
        registry,
    )
    .start()
    .await
    .err()
    .expect("missing service");
    assert_eq!(err.code(), "E_BOOTSTRAP");
    assert_eq!(journal.names("destroy"), ["a"]);
}

#[tokio::test]
async fn an_invalid_bootstrap_map_is_refused() {
    let journal = Journal::default();
    let registry = probes(&journal, vec![probe("a")]);
    let err = Core::new(
        config(json!({"locator": ["a"], "bootstrap": ["a"]})),
        registry,
    )
    .start()
    .await
    .err()
    .expect("invalid map");
    assert_eq!(err.code(), "E_BOOTSTRAP_INVALID_MAP");
}

#[tokio::test]
async fn a_failed_factory_destroys_the_services_built_before_it() {
    let journal = Journal::default();
    let mut registry = probes(&journal, vec![probe("first")]);
    registry
        .register("broken", |_ctx| async {
            Err::<English, BoxError>("no database".into())
        })
        .uses(["first"]);
    let err = Core::new(config(json!({"locator": ["broken"]})), registry)
        .start()
        .await
        .err()
        .expect("factory failure");
    assert_eq!(err.code(), "E_LOCATOR_CONSTRUCT");
    assert!(superhero_core::report(&err).contains("no database"));
    assert_eq!(journal.names("destroy"), ["first"]);
}

/// A service whose destroy fails or hangs, and which watches its token.
struct Stubborn {
    hang: bool,
    token: tokio_util::sync::CancellationToken,
}

#[async_trait]
impl Service for Stubborn {
    async fn destroy(&self) -> Result<(), BoxError> {
        assert!(
            self.token.is_cancelled(),
            "the token is cancelled before destroy"
        );
        if self.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Err("disk on fire".into())
    }
}

fn stubborn(hang: bool) -> Registry {
    let mut registry = Registry::new();
    registry.register("stubborn", move |ctx| async move {
        Ok(Stubborn {
            hang,
            token: ctx.shutdown_token(),
        })
    });
    registry
}

#[tokio::test]
async fn a_failed_destroy_is_reported_with_the_service_name() {
    let running = Core::new(config(json!({"locator": ["stubborn"]})), stubborn(false))
        .start()
        .await
        .unwrap();
    let err = running.shutdown().await.unwrap_err();
    assert_eq!(err.code(), "E_CORE_DESTROY");
    assert!(
        err.to_string().contains("stubborn") && err.to_string().contains("disk on fire"),
        "{err}"
    );
}

#[tokio::test]
async fn shutdown_gives_up_at_the_deadline_naming_what_is_still_running() {
    let running = Core::new(
        config(json!({"locator": ["stubborn"], "core": {"shutdown": {"timeout_ms": 50}}})),
        stubborn(true),
    )
    .start()
    .await
    .unwrap();
    assert_eq!(running.deadline(), Duration::from_millis(50));
    let err = running.shutdown().await.unwrap_err();
    assert_eq!(err.code(), "E_CORE_DESTROY_TIMEOUT");
    assert!(err.to_string().contains("stubborn"), "{err}");
}

#[tokio::test]
async fn a_plain_core_without_config_starts_and_stops() {
    let running = Core::new(Config::default(), Registry::new())
        .start()
        .await
        .unwrap();
    assert!(running.locator().names().is_empty());
    running.shutdown().await.unwrap();
}
