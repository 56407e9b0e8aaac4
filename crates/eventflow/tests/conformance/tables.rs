//! Companion tables: migrations of their own, writes under the store's write gate,
//! reads on its pool, next to the events.

use sqlx::Row;
use superhero_eventflow::tables::{Migration, MigrationSet};
use superhero_eventflow::{Error, EventLog, NewEvent};

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    companion_tables_migrate_once_and_are_written_beside_the_events,
);

const NOTES: &[Migration] = &[
    Migration {
        version: 1,
        description: "notes",
        sql: "CREATE TABLE test_note (id VARCHAR(64) PRIMARY KEY, body TEXT NOT NULL)",
    },
    Migration {
        version: 2,
        description: "note counts",
        sql: "ALTER TABLE test_note ADD COLUMN likes BIGINT NOT NULL DEFAULT 0",
    },
];

const SET: MigrationSet = MigrationSet {
    name: "test_notes",
    sqlite: NOTES,
    postgres: NOTES,
    mysql: NOTES,
};

async fn companion_tables_migrate_once_and_are_written_beside_the_events(h: &Harness) {
    let tables = h.store.tables();
    tables.migrate(&SET).await.unwrap();
    tables.migrate(&SET).await.unwrap();
    h.reopen().await.tables().migrate(&SET).await.unwrap();

    let mut write = tables.write("add a note").await.unwrap();
    tables
        .query("INSERT INTO test_note (id, body, likes) VALUES (?, ?, ?)")
        .bind("n-1")
        .bind("hello")
        .bind(3_i64)
        .execute(write.connection())
        .await
        .unwrap();
    write.commit().await.unwrap();
    // The events are untouched and still writable while the tables are used.
    h.store
        .append_one(NewEvent::new("note", "n-1", "noted"))
        .await
        .unwrap();

    let row = tables
        .query("SELECT body, likes FROM test_note WHERE id = ?")
        .bind("n-1")
        .fetch_one(tables.pool())
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), "hello");
    assert_eq!(row.get::<i64, _>(1), 3);

    let duplicate = tables
        .query("INSERT INTO test_note (id, body) VALUES (?, ?)")
        .bind("n-1")
        .bind("again")
        .execute(tables.pool())
        .await
        .map_err(|e| Error::from_sqlx("add a note", e))
        .unwrap_err();
    assert_eq!(duplicate.code(), "E_EVENTFLOW_STORE_QUERY");

    let bad = MigrationSet {
        name: "no spaces",
        ..SET
    };
    assert_eq!(
        tables.migrate(&bad).await.unwrap_err().code(),
        "E_EVENTFLOW_INVALID"
    );
}
