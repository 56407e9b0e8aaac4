//! Layered configuration read from real files.

mod common;

use std::path::PathBuf;

use common::Dir;
use serde::Deserialize;
use serde_json::json;
use superhero_core::config::{Config, Source};

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn later_files_merge_over_earlier_ones_with_array_union() {
    let dir = Dir::new();
    let a = dir.write(
        "a/config.json",
        r#"{"app": {"name": "A", "port": 1, "tags": ["x", "y"], "keep": true}}"#,
    );
    let b = dir.write(
        "b/config.toml",
        "[app]\nname = \"B\"\ntags = [\"y\", \"z\"]\n",
    );
    let config = Config::builder()
        .add(a)
        .add(b)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(
        config.find("app").unwrap(),
        &json!({"name": "B", "port": 1, "tags": ["x", "y", "z"], "keep": true})
    );
}

#[test]
fn replace_marker_replaces_an_array_instead_of_merging() {
    let dir = Dir::new();
    let a = dir.write(
        "a.json",
        r#"{"hosts": ["a", "b"], "db": {"user": "x", "pass": "y"}}"#,
    );
    let b = dir.write(
        "b.toml",
        "hosts = { \"$replace\" = [\"c\"] }\n[db]\n\"$replace\" = { user = \"z\" }\n",
    );
    let config = Config::builder()
        .add(a)
        .add(b)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(config.find("hosts").unwrap(), &json!(["c"]));
    assert_eq!(config.find("db").unwrap(), &json!({"user": "z"}));
}

#[test]
fn a_folder_stands_for_its_config_file() {
    let dir = Dir::new();
    dir.write("app/config.json", r#"{"app": {"name": "TestApp"}}"#);
    let config = Config::builder()
        .add(dir.path().join("app"))
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(
        config.get::<String>("app/name").unwrap().as_deref(),
        Some("TestApp")
    );
}

#[test]
fn the_branch_file_overrides_its_base_file_and_only_with_that_branch() {
    let dir = Dir::new();
    let base = dir.write("config.json", r#"{"foo": {"bar": "baz", "only_base": 1}}"#);
    dir.write("config-dev.json", r#"{"foo": {"bar": "qux"}}"#);
    dir.write("config-prod.toml", "[foo]\nbar = \"prod\"\n");

    let plain = Config::builder()
        .add(&base)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(plain.find("foo/bar").unwrap(), "baz");

    let dev = Config::builder()
        .branch("dev")
        .add(&base)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(dev.find("foo/bar").unwrap(), "qux");
    assert_eq!(dev.find("foo/only_base").unwrap(), 1);

    let prod = Config::builder()
        .branch("prod")
        .add(&base)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(prod.find("foo/bar").unwrap(), "prod");

    let missing = Config::builder()
        .branch("test")
        .add(&base)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(missing.find("foo/bar").unwrap(), "baz");
}

#[test]
fn the_branch_file_sits_between_its_base_and_the_next_file() {
    let dir = Dir::new();
    let first = dir.write("one/config.json", r#"{"v": "one", "w": "one"}"#);
    dir.write("one/config-dev.json", r#"{"v": "one-dev", "w": "one-dev"}"#);
    let second = dir.write("two/config.json", r#"{"w": "two"}"#);
    let config = Config::builder()
        .branch("dev")
        .add(first)
        .add(second)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(config.find("v").unwrap(), "one-dev");
    assert_eq!(config.find("w").unwrap(), "two");
}

#[test]
fn environment_overrides_files_with_the_type_of_the_file_value() {
    let dir = Dir::new();
    let file = dir.write(
        "config.toml",
        "[http-server]\nport = 80\ntls = false\nhost = \"a\"\n",
    );
    let config = Config::builder()
        .add(file)
        .env_vars([
            (
                "SUPERHERO__HTTP_SERVER__PORT".to_string(),
                "8080".to_string(),
            ),
            (
                "SUPERHERO__HTTP_SERVER__TLS".to_string(),
                "true".to_string(),
            ),
            (
                "SUPERHERO__HTTP_SERVER__HOST".to_string(),
                "123".to_string(),
            ),
            ("UNRELATED".to_string(), "1".to_string()),
        ])
        .build()
        .unwrap();
    assert_eq!(
        config.find("http-server").unwrap(),
        &json!({"port": 8080, "tls": true, "host": "123"})
    );
    assert_eq!(
        config.origin("http-server/port"),
        Some(&Source::Env("SUPERHERO__HTTP_SERVER__PORT".into()))
    );
}

#[test]
fn an_environment_value_that_cannot_take_the_file_type_is_an_error() {
    let dir = Dir::new();
    let file = dir.write("config.json", r#"{"http": {"port": 80}}"#);
    let err = Config::builder()
        .add(file)
        .env_vars([("SUPERHERO__HTTP__PORT".to_string(), "eighty".to_string())])
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_ENV");
    assert!(err.to_string().contains("http/port"), "{err}");
}

#[test]
fn set_overrides_environment_and_files() {
    let dir = Dir::new();
    let file = dir.write("config.json", r#"{"http": {"listen": "a", "tags": [1]}}"#);
    let config = Config::builder()
        .add(file)
        .env_vars([("SUPERHERO__HTTP__LISTEN".to_string(), "b".to_string())])
        .set("http/listen", json!("c"))
        .set("http/tags", json!([2]))
        .build()
        .unwrap();
    assert_eq!(
        config.find("http").unwrap(),
        &json!({"listen": "c", "tags": [2]})
    );
}

#[test]
fn relative_paths_resolve_against_the_folder_of_the_declaring_file() {
    let dir = Dir::new();
    let base = dir.write(
        "base/config.json",
        r#"{"tls": {"cert": "certs/a.pem", "key": "/abs/key.pem"}}"#,
    );
    let over = dir.write(
        "deploy/site/config.toml",
        "[tls]\ncert = \"../certs/b.pem\"\n",
    );
    let config = Config::builder()
        .add(&base)
        .add(&over)
        .env_vars(no_env())
        .build()
        .unwrap();

    assert_eq!(
        config.resolve_path("tls/cert").unwrap().unwrap(),
        dir.path().join("deploy/site").join("../certs/b.pem")
    );
    assert_eq!(
        config.resolve_path("tls/key").unwrap().unwrap(),
        PathBuf::from("/abs/key.pem")
    );
    assert_eq!(config.origin("tls/key"), Some(&Source::File(base.clone())));
    assert_eq!(config.resolve_path("tls/missing").unwrap(), None);
    assert_eq!(
        config.resolve_path("tls").unwrap_err().code(),
        "E_CONFIG_PATH"
    );
}

#[test]
fn origins_list_every_defining_layer_newest_first() {
    let dir = Dir::new();
    let a = dir.write("a.json", r#"{"app": {"name": "TestApp"}}"#);
    let b = dir.write("b.json", r#"{"app": {"name": "TestApp"}}"#);
    let config = Config::builder()
        .add(&a)
        .add(&b)
        .env_vars(no_env())
        .build()
        .unwrap();
    let origins: Vec<_> = config
        .origins("app/name")
        .into_iter()
        .map(|(s, v)| (s.clone(), v.clone()))
        .collect();
    assert_eq!(
        origins,
        vec![
            (Source::File(b), json!("TestApp")),
            (Source::File(a), json!("TestApp"))
        ]
    );
}

#[test]
fn find_returns_the_fallback_when_the_path_is_missing_or_cut_by_a_falsy_value() {
    let config = Config::builder()
        .add_value(
            "inline",
            json!({"a": false, "n": null, "z": 0, "s": {"t": 1}}),
        )
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(config.find_or("missing/x", json!("fb")), json!("fb"));
    assert_eq!(config.find_or("a/b", json!("fb")), json!("fb"));
    assert_eq!(config.find_or("n/b", json!("fb")), json!("fb"));
    assert_eq!(config.find_or("z/b", json!("fb")), json!("fb"));
    assert_eq!(config.find_or("s/t", json!("fb")), json!(1));
    assert_eq!(config.find_or("a", json!("fb")), json!(false));
    assert_eq!(config.find("s/t/u"), None);
}

#[test]
fn escaped_slashes_address_keys_containing_slashes() {
    let config = Config::builder()
        .add_value("inline", json!({"foo": {"bar/baz": "qux"}}))
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(config.find(r"foo/bar\/baz").unwrap(), "qux");
}

#[test]
fn typed_extraction_names_the_exact_key_of_a_mismatch() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Server {
        port: u16,
        hosts: Vec<String>,
    }
    let config = Config::builder()
        .add_value(
            "inline",
            json!({"http": {"server": {"port": 80, "hosts": ["a", 7]}}}),
        )
        .env_vars(no_env())
        .build()
        .unwrap();
    let err = config.get::<Server>("http/server").unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_TYPE");
    assert!(err.to_string().contains("http/server/hosts"), "{err}");

    let missing = config.require::<u16>("http/server/tls").unwrap_err();
    assert_eq!(missing.code(), "E_CONFIG_MISSING");
    assert_eq!(config.get_or::<u16>("http/server/port", 1).unwrap(), 80);
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let dir = Dir::new();
    let err = Config::builder()
        .add(dir.path().join("nope.toml"))
        .env_vars(no_env())
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_NOT_FOUND");
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn a_parse_error_names_the_file_and_line() {
    let dir = Dir::new();
    let json = dir.write("broken.json", "{\n  \"a\": 1,\n  \"b\": ,\n}\n");
    let err = Config::builder()
        .add(&json)
        .env_vars(no_env())
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_PARSE");
    let text = err.to_string();
    assert!(
        text.contains("broken.json") && text.contains("line 3"),
        "{text}"
    );

    let toml = dir.write("broken.toml", "a = 1\n\n[b\nc = 2\n");
    let err = Config::builder()
        .add(&toml)
        .env_vars(no_env())
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("broken.toml") && text.contains("line 3"),
        "{text}"
    );
}

#[test]
fn an_unknown_extension_is_refused() {
    let dir = Dir::new();
    let file = dir.write("config.yaml", "a: 1");
    let err = Config::builder()
        .add(file)
        .env_vars(no_env())
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_FORMAT");
}

#[test]
fn dependencies_load_first_relative_to_the_declaring_folder() {
    let dir = Dir::new();
    dir.write(
        "shared/config.json",
        r#"{"name": "shared", "list": [1], "only_shared": true}"#,
    );
    let app = dir.write(
        "app/config.json",
        r#"{"dependency": ["../shared"], "name": "app", "list": [2]}"#,
    );
    let config = Config::builder()
        .add(app)
        .env_vars(no_env())
        .build()
        .unwrap();
    assert_eq!(config.find("name").unwrap(), "app");
    assert_eq!(config.find("list").unwrap(), &json!([1, 2]));
    assert_eq!(config.find("only_shared").unwrap(), true);
}

#[test]
fn a_dependency_cycle_is_an_error_naming_the_files() {
    let dir = Dir::new();
    let a = dir.write("a/config.json", r#"{"dependency": ["../b"]}"#);
    dir.write("b/config.json", r#"{"dependency": ["../a"]}"#);
    let err = Config::builder()
        .add(a)
        .env_vars(no_env())
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "E_CONFIG_DEPENDENCY_CYCLE");
    let text = err.to_string();
    assert!(
        text.contains("a/config.json") && text.contains("b/config.json"),
        "{text}"
    );
}

#[test]
fn sections_read_relative_to_their_path() {
    let dir = Dir::new();
    let file = dir.write("svc/config.toml", "[svc]\nport = 7\nfile = \"data.txt\"\n");
    let config = std::sync::Arc::new(
        Config::builder()
            .add(file)
            .env_vars(no_env())
            .build()
            .unwrap(),
    );
    let section = config.section("svc");
    assert_eq!(section.get::<u16>("port").unwrap(), Some(7));
    assert_eq!(
        section.resolve_path("file").unwrap().unwrap(),
        dir.path().join("svc/data.txt")
    );
    assert!(!config.section("other").is_present());
}
