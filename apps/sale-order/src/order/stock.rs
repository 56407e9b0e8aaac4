//! Stock as a reserved resource, in the store's database. Placing an order reserves all
//! of its lines or none, in one transaction: each line is a conditional decrement
//! (`available >= quantity`), so of two orders racing for the last unit exactly one gets
//! it, on any number of workers. Each order's decision is recorded
//! (`so_order_stock`), so a redelivered `order-placed` returns the first decision and a
//! repeated cancellation releases once.

use std::collections::BTreeMap;

use sqlx::Row;
use superhero_core::{Registry, Service};
use superhero_eventflow::service::{STORE, StoreService};
use superhero_eventflow::tables::{Migration, MigrationSet, Tables};
use superhero_eventflow::{Backend, Error, Result};

use crate::order::Item;
use crate::settings::{Product, Settings};

/// The service name.
pub const STOCK: &str = "sale-order/order/stock";

const SQL: &[Migration] = &[
    Migration {
        version: 1,
        description: "stock",
        sql: include_str!("../../migrations/stock.sql"),
    },
    Migration {
        version: 2,
        description: "order closing",
        sql: include_str!("../../migrations/closing.sql"),
    },
];

/// The stock tables (the same SQL on every backend).
pub const MIGRATIONS: MigrationSet = MigrationSet {
    name: "sale_order_stock",
    sqlite: SQL,
    postgres: SQL,
    mysql: SQL,
};

const RESERVED: &str = "reserved";
const UNAVAILABLE: &str = "unavailable";
const RELEASED: &str = "released";

/// Closing outcome: a payment was confirmed.
pub const PAID: &str = "paid";
/// Closing outcome: the order was canceled unpaid.
pub const CANCELED: &str = "canceled";

/// The catalogue's stock.
pub struct Stock {
    tables: Tables,
}

impl Service for Stock {}

impl Stock {
    /// The stock in `tables`, creating the tables and seeding each SKU of `catalogue`
    /// the store has not seen yet.
    pub async fn open(tables: Tables, catalogue: &BTreeMap<String, Product>) -> Result<Self> {
        const OP: &str = "seed the stock";
        tables.migrate(&MIGRATIONS).await?;
        let insert = match tables.backend() {
            Backend::MySql => "INSERT IGNORE INTO so_stock (sku, available) VALUES (?, ?)",
            _ => "INSERT INTO so_stock (sku, available) VALUES (?, ?) ON CONFLICT (sku) DO NOTHING",
        };
        let mut write = tables.write(OP).await?;
        for (sku, product) in catalogue {
            tables
                .query(insert)
                .bind(sku.clone())
                .bind(i64::try_from(product.stock).unwrap_or(i64::MAX))
                .execute(write.connection())
                .await
                .map_err(|e| Error::from_sqlx(OP, e))?;
        }
        write.commit().await?;
        Ok(Stock { tables })
    }

    /// Reserves every line of order `order_id`: `true` when all were available (now
    /// held), `false` when one was not (nothing held). The same answer every time.
    pub async fn reserve(&self, order_id: &str, items: &[Item]) -> Result<bool> {
        const OP: &str = "reserve stock";
        if let Some(outcome) = self.decision(order_id).await? {
            return Ok(outcome != UNAVAILABLE);
        }
        let mut lines: BTreeMap<&str, u64> = BTreeMap::new();
        for item in items {
            *lines.entry(item.sku.as_str()).or_default() += item.quantity;
        }
        let mut write = self.tables.write(OP).await?;
        let mut available = true;
        for (sku, quantity) in &lines {
            let quantity = i64::try_from(*quantity).unwrap_or(i64::MAX);
            let taken = self
                .tables
                .query("UPDATE so_stock SET available = available - ? WHERE sku = ? AND available >= ?")
                .bind(quantity)
                .bind((*sku).to_owned())
                .bind(quantity)
                .execute(write.connection())
                .await
                .map_err(|e| Error::from_sqlx(OP, e))?
                .rows_affected();
            if taken == 0 {
                available = false;
                break;
            }
            self.tables
                .query("INSERT INTO so_reservation (order_id, sku, quantity) VALUES (?, ?, ?)")
                .bind(order_id.to_owned())
                .bind((*sku).to_owned())
                .bind(quantity)
                .execute(write.connection())
                .await
                .map_err(|e| Error::from_sqlx(OP, e))?;
        }
        if !available {
            // Nothing of this order is held: undo the lines taken so far.
            drop(write);
            write = self.tables.write(OP).await?;
        }
        let outcome = if available { RESERVED } else { UNAVAILABLE };
        self.tables
            .query("INSERT INTO so_order_stock (order_id, outcome) VALUES (?, ?)")
            .bind(order_id.to_owned())
            .bind(outcome)
            .execute(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        match write.commit().await {
            Ok(()) => Ok(available),
            // Another delivery of the same order decided first: its decision stands.
            Err(error) => match self.decision(order_id).await? {
                Some(outcome) => Ok(outcome != UNAVAILABLE),
                None => Err(error),
            },
        }
    }

    /// Gives back what order `order_id` holds (once; nothing when it holds nothing).
    pub async fn release(&self, order_id: &str) -> Result<()> {
        const OP: &str = "release stock";
        let mut write = self.tables.write(OP).await?;
        let released = self
            .tables
            .query("UPDATE so_order_stock SET outcome = ? WHERE order_id = ? AND outcome = ?")
            .bind(RELEASED)
            .bind(order_id.to_owned())
            .bind(RESERVED)
            .execute(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?
            .rows_affected();
        if released == 1 {
            let lines = self
                .tables
                .query("SELECT sku, quantity FROM so_reservation WHERE order_id = ?")
                .bind(order_id.to_owned())
                .fetch_all(write.connection())
                .await
                .map_err(|e| Error::from_sqlx(OP, e))?;
            for line in lines {
                let sku: String = line.try_get(0).map_err(|e| Error::from_sqlx(OP, e))?;
                let quantity: i64 = line.try_get(1).map_err(|e| Error::from_sqlx(OP, e))?;
                self.tables
                    .query("UPDATE so_stock SET available = available + ? WHERE sku = ?")
                    .bind(quantity)
                    .bind(sku)
                    .execute(write.connection())
                    .await
                    .map_err(|e| Error::from_sqlx(OP, e))?;
            }
        }
        write.commit().await
    }

    /// Closes order `order_id`'s payment phase as `outcome` (`paid` or `canceled`) on
    /// behalf of the event `decided_by`: `Ok(true)` when this is the decision (first, or
    /// the same event again), `Ok(false)` when the other outcome came first. The one
    /// place where a payment verdict and the payment deadline, decided on two streams,
    /// are serialised.
    pub async fn close(&self, order_id: &str, outcome: &str, decided_by: &str) -> Result<bool> {
        const OP: &str = "close an order's payment phase";
        let insert = match self.tables.backend() {
            Backend::MySql => {
                "INSERT IGNORE INTO so_order_closing (order_id, outcome, decided_by) VALUES (?, ?, ?)"
            }
            _ => {
                "INSERT INTO so_order_closing (order_id, outcome, decided_by) VALUES (?, ?, ?) ON CONFLICT (order_id) DO NOTHING"
            }
        };
        {
            let _gate = self.tables.lock().await;
            self.tables
                .query(insert)
                .bind(order_id.to_owned())
                .bind(outcome.to_owned())
                .bind(decided_by.to_owned())
                .execute(self.tables.pool())
                .await
                .map_err(|e| Error::from_sqlx(OP, e))?;
        }
        let row = self
            .tables
            .query("SELECT outcome, decided_by FROM so_order_closing WHERE order_id = ?")
            .bind(order_id.to_owned())
            .fetch_one(self.tables.pool())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        let decided: String = row.try_get(0).map_err(|e| Error::from_sqlx(OP, e))?;
        let by: String = row.try_get(1).map_err(|e| Error::from_sqlx(OP, e))?;
        Ok(decided == outcome && by == decided_by)
    }

    /// Units of `sku` that orders may still reserve (`None`: not in the store).
    pub async fn available(&self, sku: &str) -> Result<Option<u64>> {
        const OP: &str = "read the stock";
        let row = self
            .tables
            .query("SELECT available FROM so_stock WHERE sku = ?")
            .bind(sku.to_owned())
            .fetch_optional(self.tables.pool())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        match row {
            Some(row) => {
                let available: i64 = row.try_get(0).map_err(|e| Error::from_sqlx(OP, e))?;
                Ok(Some(u64::try_from(available).unwrap_or(0)))
            }
            None => Ok(None),
        }
    }

    async fn decision(&self, order_id: &str) -> Result<Option<String>> {
        const OP: &str = "read a stock decision";
        let row = self
            .tables
            .query("SELECT outcome FROM so_order_stock WHERE order_id = ?")
            .bind(order_id.to_owned())
            .fetch_optional(self.tables.pool())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        row.map(|row| row.try_get(0).map_err(|e| Error::from_sqlx(OP, e)))
            .transpose()
    }
}

/// Registers the service.
pub fn register(registry: &mut Registry) {
    registry
        .register(STOCK, |ctx| async move {
            let store = ctx.locate::<StoreService>(STORE)?;
            let settings = Settings::from_context(&ctx)?;
            Ok(Stock::open(store.sql_store().tables(), &settings.catalogue).await?)
        })
        .uses([STORE]);
}
