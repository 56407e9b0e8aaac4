//! Stream tickets: `EventSource` cannot sign its requests nor set headers, so a page asks
//! for a ticket with a signed request and passes it as `?ticket=`. A ticket is 256 random
//! bits (hex), valid once and for `ticket_ttl_ms`; the store keeps only its SHA-256 and
//! the user it was issued to, so every node of a cluster accepts it and only one
//! redemption anywhere succeeds (one conditional `DELETE`). Expired tickets are pruned
//! when new ones are issued.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;
use superhero_core::{Registry, Service};
use superhero_eventflow::service::{STORE, StoreService};
use superhero_eventflow::tables::{Migration, MigrationSet, Tables};
use superhero_eventflow::{Error, Result};

/// The service name.
pub const TICKETS: &str = "eventlog-stream/eventlog/tickets";

const SQL: &[Migration] = &[Migration {
    version: 1,
    description: "stream tickets",
    sql: include_str!("../../migrations/tickets.sql"),
}];

/// The tickets' table (the same SQL on every backend).
pub const MIGRATIONS: MigrationSet = MigrationSet {
    name: "eventlog_stream_tickets",
    sqlite: SQL,
    postgres: SQL,
    mysql: SQL,
};

/// Issues and redeems tickets in the store's database.
pub struct Tickets {
    tables: Tables,
}

impl Service for Tickets {}

impl Tickets {
    /// Tickets in `tables` (creating the table).
    pub async fn open(tables: Tables) -> Result<Self> {
        tables.migrate(&MIGRATIONS).await?;
        Ok(Tickets { tables })
    }

    /// A new ticket for `user_id`, valid for `ttl`.
    pub async fn issue(&self, user_id: &str, ttl: Duration) -> Result<String> {
        const OP: &str = "issue a stream ticket";
        let ticket = hex(&rand::random::<[u8; 32]>());
        let now = self.tables.now().as_millis();
        let expires_at = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let mut write = self.tables.write(OP).await?;
        self.tables
            .query("DELETE FROM eventlog_stream_ticket WHERE expires_at <= ?")
            .bind(now)
            .execute(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        self.tables
            .query(
                "INSERT INTO eventlog_stream_ticket (ticket_hash, user_id, expires_at) VALUES (?, ?, ?)",
            )
            .bind(hash(&ticket))
            .bind(user_id.to_owned())
            .bind(expires_at)
            .execute(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        write.commit().await?;
        Ok(ticket)
    }

    /// The user of `ticket` if it is valid, using it up; `None` for a ticket that is
    /// unknown, used or expired.
    pub async fn redeem(&self, ticket: &str) -> Result<Option<String>> {
        const OP: &str = "redeem a stream ticket";
        if ticket.len() != 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let key = hash(ticket);
        let now = self.tables.now().as_millis();
        let mut write = self.tables.write(OP).await?;
        let row = self
            .tables
            .query("SELECT user_id FROM eventlog_stream_ticket WHERE ticket_hash = ? AND expires_at > ?")
            .bind(key.clone())
            .bind(now)
            .fetch_optional(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user: String = row.try_get(0).map_err(|e| Error::from_sqlx(OP, e))?;
        // Of two redemptions racing, exactly one deletes the row.
        let deleted = self
            .tables
            .query("DELETE FROM eventlog_stream_ticket WHERE ticket_hash = ? AND expires_at > ?")
            .bind(key)
            .bind(now)
            .execute(write.connection())
            .await
            .map_err(|e| Error::from_sqlx(OP, e))?
            .rows_affected();
        write.commit().await?;
        Ok((deleted == 1).then_some(user))
    }
}

/// The stored form of a ticket.
fn hash(ticket: &str) -> String {
    hex(&Sha256::digest(ticket.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers the service.
pub fn register(registry: &mut Registry) {
    registry
        .register(TICKETS, |ctx| async move {
            let store = ctx.locate::<StoreService>(STORE)?;
            Ok(Tickets::open(store.sql_store().tables()).await?)
        })
        .uses([STORE]);
}
