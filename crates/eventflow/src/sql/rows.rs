//! Rows as the database returns them (plain tuples every backend can decode) and their
//! conversion into the crate's types.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::event::{Event, EventRef};

use super::{from_db, parse_id};

/// The event columns, aliased `e`, in [`EventRow`] order.
macro_rules! event_columns {
    () => {
        "e.position, e.id, e.timestamp, e.domain, e.pid, e.name, e.version, e.data, e.rid"
    };
}
pub(crate) use event_columns;

/// The event reference columns, aliased `e`, in [`RefRow`] order.
macro_rules! ref_columns {
    () => {
        "e.position, e.id, e.domain, e.pid, e.name"
    };
}
pub(crate) use ref_columns;

/// position, id, timestamp, domain, pid, name, version, data, rid
pub(crate) type EventRow = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
);

/// position, id, domain, pid, name
pub(crate) type RefRow = (i64, String, String, String, String);

pub(crate) fn event(row: EventRow, operation: &'static str) -> Result<Event> {
    let (position, id, timestamp, domain, pid, name, version, data, rid) = row;
    let data = serde_json::from_str(&data).map_err(|e| {
        Error::decode(
            operation,
            format!("event {id} has data that is not JSON: {e}"),
        )
    })?;
    Ok(Event {
        id: parse_id(&id, operation)?,
        position: from_db(position, operation, "position")?,
        version: from_db(version, operation, "version")?,
        timestamp: Timestamp::from_millis(timestamp),
        domain,
        pid,
        name,
        data,
        rid: rid
            .as_deref()
            .map(|rid| parse_id(rid, operation))
            .transpose()?,
    })
}

pub(crate) fn events(rows: Vec<EventRow>, operation: &'static str) -> Result<Vec<Event>> {
    rows.into_iter().map(|row| event(row, operation)).collect()
}

pub(crate) fn event_ref(row: RefRow, operation: &'static str) -> Result<EventRef> {
    let (position, id, domain, pid, name) = row;
    Ok(EventRef {
        id: parse_id(&id, operation)?,
        position: from_db(position, operation, "position")?,
        domain,
        pid,
        name,
    })
}

pub(crate) fn event_refs(rows: Vec<RefRow>, operation: &'static str) -> Result<Vec<EventRef>> {
    rows.into_iter()
        .map(|row| event_ref(row, operation))
        .collect()
}

/// An optional millisecond column.
pub(crate) fn time(millis: Option<i64>) -> Option<Timestamp> {
    millis.map(Timestamp::from_millis)
}

/// A non-negative count column as `u32`.
pub(crate) fn count(value: i64, operation: &'static str) -> Result<u32> {
    u32::try_from(value)
        .map_err(|_| Error::decode(operation, format!("count {value} is out of range")))
}
