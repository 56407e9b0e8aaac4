//! Reading the `eventflow.*` settings from a [`Config`].

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;
use superhero_core::Config;

use crate::certs::CertificatesConfig;
use crate::config::StoreConfig;
use crate::error::{Error, Result};

/// The config key of the store settings.
pub const STORE_KEY: &str = "eventflow/store";
/// The config key of the certificate settings.
pub const CERTIFICATES_KEY: &str = "eventflow/certificates";
/// The config key of the hub settings.
pub const HUB_KEY: &str = "eventflow/hub";
/// The config key of the spoke settings.
pub const SPOKE_KEY: &str = "eventflow/spoke";

/// A typed section; a missing section gives the defaults.
pub fn section<T: DeserializeOwned + Default>(config: &Config, key: &str) -> Result<T> {
    config
        .get::<T>(key)
        .map(Option::unwrap_or_default)
        .map_err(|e| Error::settings(key, e.to_string()))
}

/// `eventflow.store`, with a relative SQLite path resolved against the folder of the
/// config file that set it (the working directory when no file did).
pub fn store(config: &Config) -> Result<StoreConfig> {
    let mut store: StoreConfig = section(config, STORE_KEY)?;
    let url_key = format!("{STORE_KEY}/url");
    if let Some(path) = store.url.strip_prefix("sqlite://")
        && !path.is_empty()
        && !path.starts_with(':')
        && Path::new(path).is_relative()
        && config.find(&url_key).is_some()
    {
        let base = config.base_dir(&url_key);
        store.url = format!("sqlite://{}", base.join(path).display());
    }
    Ok(store)
}

/// `eventflow.certificates` with `<component>.certificates` (`eventflow/hub` or
/// `eventflow/spoke`) laid over it, key by key.
pub fn certificates(config: &Config, component: &str) -> Result<CertificatesConfig> {
    let mut merged = config
        .find(CERTIFICATES_KEY)
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    if let Some(own) = config.find(&format!("{component}/certificates")) {
        superhero_core::config::merge::merge(&mut merged, own.clone());
    }
    let merged = superhero_core::config::merge::strip_markers(merged);
    // The error text names the key and the expected type, never the secret's value.
    serde_json::from_value::<CertificatesConfig>(merged)
        .map_err(|e| Error::settings(CERTIFICATES_KEY, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value, env: &[(&str, &str)]) -> Config {
        Config::builder()
            .add_value("test", value)
            .env_vars(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .build()
            .unwrap()
    }

    #[test]
    fn the_secret_can_come_from_the_environment() {
        let config = config(
            json!({"eventflow": {"certificates": {"algorithm": "ecdsa-p256"}}}),
            &[(
                "SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET",
                "from-the-environment-123",
            )],
        );
        let certificates = certificates(&config, HUB_KEY).unwrap();
        assert_eq!(certificates.secret.expose(), "from-the-environment-123");
        assert_eq!(
            certificates.algorithm,
            crate::certs::KeyAlgorithm::EcdsaP256
        );
    }

    #[test]
    fn a_component_overrides_the_shared_certificate_settings() {
        let config = config(
            json!({"eventflow": {
                "certificates": {"secret": "shared-secret-0123456789", "leaf_validity_secs": 3600},
                "hub": {"certificates": {"leaf_validity_secs": 7200}}
            }}),
            &[],
        );
        let hub = certificates(&config, HUB_KEY).unwrap();
        assert_eq!(hub.leaf_validity_secs, 7200);
        assert_eq!(hub.secret.expose(), "shared-secret-0123456789");
        let spoke = certificates(&config, SPOKE_KEY).unwrap();
        assert_eq!(spoke.leaf_validity_secs, 3600);
    }

    #[test]
    fn store_defaults_to_sqlite_under_data() {
        let config = config(json!({}), &[]);
        assert_eq!(store(&config).unwrap().url, "sqlite://data/eventflow.db");
        let bad = self::config(json!({"eventflow": {"store": {"url": 5}}}), &[]);
        assert_eq!(store(&bad).unwrap_err().code(), "E_EVENTFLOW_CONFIG");
    }
}
