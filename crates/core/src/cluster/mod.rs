//! Clustering over worker processes.
//!
//! A [`Supervisor`] re-executes the current binary (same arguments) as N worker
//! processes. Each worker learns its [`WorkerId`] and a control channel from its
//! environment ([`WorkerControl`]), runs the node as usual and reports `ready` or
//! its start-up error over the channel. The supervisor restarts a crashed worker
//! with backoff ([`RestartPolicy`]), gives up with `E_CORE_CLUSTER_START_FAILED`
//! when a worker keeps failing before it becomes ready, forwards SIGTERM/SIGINT to
//! every worker and never restarts one during shutdown. Workers share listening
//! ports through `SO_REUSEPORT` ([`bind_service`] in a worker, [`bind_reuseport`]).

mod listener;
mod restart;
mod supervisor;
mod worker;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

pub use listener::{bind_reuseport, bind_service};
pub use restart::RestartPolicy;
pub use supervisor::Supervisor;
pub use worker::{CONTROL_FD_ENV, WORKER_ID_ENV, WorkerControl};

use crate::error::Error;

/// A worker's identity: its slot (1..=N) and how many processes have held that
/// slot so far. Printed like the original as `<slot in base 36>.<version>`,
/// e.g. `1.01`, `A.02`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkerId {
    /// The slot, from 1.
    pub slot: u32,
    /// The process generation in that slot, from 1.
    pub version: u32,
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", base36(self.slot), self.version)
    }
}

impl FromStr for WorkerId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::ClusterControl {
            message: format!("malformed worker id \"{text}\""),
        };
        let (slot, version) = text.split_once('.').ok_or_else(invalid)?;
        Ok(WorkerId {
            slot: u32::from_str_radix(slot, 36).map_err(|_| invalid())?,
            version: version.parse().map_err(|_| invalid())?,
        })
    }
}

fn base36(mut n: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How many workers to run: a number, or `auto` for one per CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// One per available CPU.
    Auto,
    /// Exactly this many (at least 1).
    Count(u32),
}

impl Workers {
    /// The concrete count.
    pub fn count(self) -> u32 {
        match self {
            Workers::Count(n) => n,
            Workers::Auto => std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1),
        }
    }
}

impl FromStr for Workers {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.trim() {
            "auto" => Ok(Workers::Auto),
            n => match n.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Workers::Count(n)),
                _ => Err(Error::ClusterInvalidWorkers {
                    found: text.to_owned(),
                }),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Workers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_print_like_the_original() {
        assert_eq!(
            WorkerId {
                slot: 1,
                version: 1
            }
            .to_string(),
            "1.01"
        );
        assert_eq!(
            WorkerId {
                slot: 10,
                version: 2
            }
            .to_string(),
            "A.02"
        );
        assert_eq!(
            WorkerId {
                slot: 36,
                version: 123
            }
            .to_string(),
            "10.123"
        );
        assert_eq!(
            "A.02".parse::<WorkerId>().unwrap(),
            WorkerId {
                slot: 10,
                version: 2
            }
        );
    }

    #[test]
    fn worker_counts_parse() {
        assert_eq!("3".parse::<Workers>().unwrap(), Workers::Count(3));
        assert_eq!("auto".parse::<Workers>().unwrap(), Workers::Auto);
        assert!("0".parse::<Workers>().is_err());
        assert!("many".parse::<Workers>().is_err());
        assert!(Workers::Auto.count() >= 1);
    }
}
