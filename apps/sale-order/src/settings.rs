//! The app's settings: the `sale-order` section of the node's config. Every window is
//! configuration, so the tests run the reference orders in seconds.
//!
//! ```toml
//! [sale-order]
//! areas = ["north", "south"]        # delivery areas served
//! payment_window_ms = 60000         # time to pay before each reminder
//! reminders = 3                     # reminders before an unpaid order is canceled
//! repayment_backoff_ms = 5000       # first retry of a failed repayment; doubles
//! repayment_failures = 0            # the simulated gateway fails each order's first N repayments
//! carriers = []                     # users who may report shipment status besides the
//!                                   # carrier's key, auth.keys.carrier ("*": anyone)
//! [sale-order.catalogue.sku-1]
//! price = 1250                      # cents
//! stock = 10                        # units, seeded once into the store
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use superhero_core::{BoxError, ServiceContext};

/// The config key of the settings.
pub const CONFIG_KEY: &str = "sale-order";

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Unit price in cents.
    pub price: u64,
    /// Units in stock when the store first sees this SKU.
    pub stock: u64,
}

/// Every `sale-order` setting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Products by SKU.
    pub catalogue: BTreeMap<String, Product>,
    /// Delivery areas served.
    pub areas: Vec<String>,
    /// Time to pay before each reminder, milliseconds (10 to 86,400,000; default 60,000).
    pub payment_window_ms: u64,
    /// Reminders before an unpaid order is canceled (0 to 10; default 3).
    pub reminders: u32,
    /// The first retry of a failed repayment, milliseconds; each next retry waits twice
    /// as long (10 to 3,600,000; default 5,000).
    pub repayment_backoff_ms: u64,
    /// The simulated repayment gateway fails the first N attempts of each order
    /// (default 0).
    pub repayment_failures: u32,
    /// User names that may report shipment status besides the carrier's key
    /// (`auth.keys.carrier`); `*`: any signed-in user (the demo, where a person plays
    /// the carrier). Default: none.
    pub carriers: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        let product = |price, stock| Product { price, stock };
        Settings {
            catalogue: BTreeMap::from([
                ("cape".to_owned(), product(4_900, 25)),
                ("mask".to_owned(), product(1_250, 100)),
                ("boots".to_owned(), product(8_900, 5)),
            ]),
            areas: vec!["north".into(), "south".into(), "east".into()],
            payment_window_ms: 60_000,
            reminders: 3,
            repayment_backoff_ms: 5_000,
            repayment_failures: 0,
            carriers: Vec::new(),
        }
    }
}

/// A setting out of range (`E_SALE_ORDER_CONFIG`).
#[derive(Debug, thiserror::Error)]
#[error("E_SALE_ORDER_CONFIG: {key}: {reason}")]
pub struct ConfigError {
    /// The config key.
    pub key: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl Settings {
    /// The settings in the node's config, checked (`E_SALE_ORDER_CONFIG`).
    pub fn from_context(ctx: &ServiceContext) -> Result<Self, BoxError> {
        let settings: Settings = ctx
            .config()
            .get(CONFIG_KEY)
            .map_err(|e| ConfigError {
                key: CONFIG_KEY.into(),
                reason: e.to_string(),
            })?
            .unwrap_or_default();
        settings.check()?;
        Ok(settings)
    }

    /// Checks every range.
    pub fn check(&self) -> Result<(), ConfigError> {
        let within = |key: &str, value: u64, low: u64, high: u64| {
            if (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError {
                    key: format!("{CONFIG_KEY}.{key}"),
                    reason: format!("{value}; use {low} to {high}"),
                })
            }
        };
        within("payment_window_ms", self.payment_window_ms, 10, 86_400_000)?;
        within("reminders", u64::from(self.reminders), 0, 10)?;
        within(
            "repayment_backoff_ms",
            self.repayment_backoff_ms,
            10,
            3_600_000,
        )?;
        Ok(())
    }

    /// The payment window.
    pub fn payment_window(&self) -> Duration {
        Duration::from_millis(self.payment_window_ms)
    }

    /// How long after the sales area is confirmed an unpaid order is canceled: one
    /// window per reminder, and one more after the last.
    pub fn payment_deadline(&self) -> Duration {
        self.payment_window() * (self.reminders + 1)
    }

    /// The wait before repayment attempt `attempt` (2, 3, …).
    pub fn repayment_backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(20);
        Duration::from_millis(self.repayment_backoff_ms) * 2u32.pow(doublings)
    }

    /// Whether the user called `name` may report shipment status.
    pub fn is_carrier(&self, name: &str) -> bool {
        self.carriers.iter().any(|c| c == "*" || c == name)
    }

    /// The total of `items` in cents, and whether every SKU is in the catalogue.
    pub fn total(&self, items: &[crate::order::Item]) -> (u64, bool) {
        let mut known = true;
        let mut total = 0u64;
        for item in items {
            match self.catalogue.get(&item.sku) {
                Some(product) => {
                    total = total.saturating_add(product.price.saturating_mul(item.quantity))
                }
                None => known = false,
            }
        }
        (total, known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_follows_the_last_reminder_and_backoff_doubles() {
        let settings = Settings {
            payment_window_ms: 100,
            reminders: 3,
            repayment_backoff_ms: 50,
            ..Settings::default()
        };
        assert_eq!(settings.payment_deadline(), Duration::from_millis(400));
        assert_eq!(settings.repayment_backoff(2), Duration::from_millis(50));
        assert_eq!(settings.repayment_backoff(4), Duration::from_millis(200));
        assert!(
            Settings {
                reminders: 11,
                ..Settings::default()
            }
            .check()
            .is_err()
        );
    }
}
