//! What the commands that work on a store directly (`eventlog`, `rebuild`, `parked`,
//! `replay`, `status`) share: the `--store` option, opening the store, and the parked-event
//! filters.

use clap::Args;
use serde_json::json;
use superhero_eventflow::service::settings as eventflow_settings;
use superhero_eventflow::{ParkedQuery, SqlStore, Timestamp};

use crate::cli::GlobalArgs;
use crate::error::CliResult;
use crate::settings;

/// The `--store` option.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Store URL (default: config `eventflow.store.url`, else sqlite://data/eventflow.db,
    /// relative to the current folder). The store must exist: these commands never create
    /// one nor migrate its schema (a read-only account is enough to read).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

/// Opens the existing store `--store` (or the config) names, changing nothing:
/// `E_EVENTFLOW_STORE_CONFIG` when a SQLite file is missing, `E_EVENTFLOW_STORE_SCHEMA`
/// when the database holds no (or an older) eventflow schema.
pub async fn open(global: &GlobalArgs, args: &StoreArgs) -> CliResult<SqlStore> {
    let config = settings::load(global, |builder| match &args.store {
        Some(url) => builder.set("eventflow/store/url", json!(url)),
        None => builder,
    })?;
    Ok(SqlStore::open_existing(&eventflow_settings::store(&config)?).await?)
}

/// Which parked events: `superhero parked` and `superhero replay` take the same filters.
#[derive(Debug, Args)]
pub struct ParkedFilter {
    /// Only events of this domain.
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Only events with this name.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Only events parked since T: an RFC 3339 time (`2026-11-30T12:00:00Z`,
    /// `2026-11-30T14:00:00+02:00`) or a duration ago (`90s`, `15m`, `2h`, `1d`, `1w`).
    #[arg(long, value_name = "T", value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Start after this global position (0: from the first parked event).
    #[arg(long, value_name = "POSITION", default_value_t = 0)]
    pub after: u64,
}

impl ParkedFilter {
    /// The query for pages of `limit` events.
    pub fn query(&self, limit: u32) -> ParkedQuery {
        ParkedQuery {
            after: self.after,
            until: None,
            domain: self.domain.clone(),
            name: self.name.clone(),
            since: self.since,
            limit,
        }
    }
}

fn parse_since(text: &str) -> Result<Timestamp, String> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(Timestamp::now() - ago);
    }
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            format!(
                "{text:?} is neither an RFC 3339 time (2026-11-30T12:00:00Z) nor a duration (15m, 2h)"
            )
        })?;
    let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| format!("{text:?} is out of range"))?;
    Ok(Timestamp::from_millis(millis))
}

/// `text` with control characters escaped (`\n`, `\u{1b}`), for one line of a table
/// on a terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// `1.2s`, `3m`, `2h`, `4d`: an age, short, for tables.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let age = now.since(since);
    let secs = age.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3_600.0 {
        format!("{}m", age.as_secs() / 60)
    } else if secs < 86_400.0 {
        format!("{}h", age.as_secs() / 3_600)
    } else {
        format!("{}d", age.as_secs() / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn since_takes_a_duration_ago_or_an_rfc3339_time() {
        let before = Timestamp::now();
        let ago = parse_since("15m").unwrap();
        assert!(before.since(ago) >= Duration::from_secs(15 * 60));
        assert_eq!(
            parse_since("2026-11-30T12:00:00Z").unwrap().to_rfc3339(),
            "2026-11-30T12:00:00.000Z"
        );
        assert_eq!(
            parse_since("2026-11-30T14:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T12:00:00.000Z",
            "an offset is RFC 3339 too"
        );
        assert!(parse_since("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\nb\u{1b}[31mc"), "a\\nb\\u{1b}[31mc");
        assert_eq!(printable("plain – text"), "plain – text");
    }

    #[test]
    fn ages_are_short() {
        let now = Timestamp::from_millis(10_000_000);
        assert_eq!(age(now - Duration::from_millis(1_240), now), "1.2s");
        assert_eq!(age(now - Duration::from_secs(125), now), "2m");
        assert_eq!(age(now - Duration::from_secs(7_300), now), "2h");
    }
}
