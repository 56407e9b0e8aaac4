//! Hub and spoke ids: `<name>-<base36 milliseconds>-<6 random base36 characters>`, new at
//! every start, lower-case, one DNS label (so the id is also the certificate's DNS name).

use rand::Rng;

use crate::error::{Error, Result};

/// The longest configured name.
pub const MAX_NAME_LEN: usize = 40;

const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Checks a configured hub or spoke name (`eventflow.hub.name`, `eventflow.spoke.name`):
/// 1 to 40 ASCII letters, digits or `-`, not starting or ending with `-`.
pub fn check_name(key: &str, name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(Error::settings(
            key,
            format!(
                "{name:?} must be 1 to {MAX_NAME_LEN} ASCII letters, digits or '-', not starting or ending with '-'"
            ),
        ))
    }
}

/// A new id for a hub or spoke called `name` (checked with [`check_name`]).
///
/// ```
/// let id = superhero_eventflow::ids::node_id("eventflow-hub").unwrap();
/// assert!(id.starts_with("eventflow-hub-"));
/// ```
pub fn node_id(name: &str) -> Result<String> {
    check_name("name", name)?;
    let millis = u64::try_from(crate::clock::Timestamp::now().as_millis()).unwrap_or(0);
    let mut rng = rand::rng();
    let suffix: String = (0..6)
        .map(|_| char::from(BASE36[rng.random_range(0..BASE36.len())]))
        .collect();
    Ok(format!(
        "{}-{}-{suffix}",
        name.to_ascii_lowercase(),
        base36(millis)
    ))
}

fn base36(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(BASE36[usize::try_from(n % 36).unwrap_or(0)]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_lower_case_dns_labels() {
        let a = node_id("Eventflow-HUB").unwrap();
        let b = node_id("Eventflow-HUB").unwrap();
        assert_ne!(a, b);
        assert!(a.len() <= 63);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }

    #[test]
    fn names_are_validated() {
        assert!(check_name("k", "spoke-1").is_ok());
        for bad in ["", "-x", "x-", "a.b", "a b", &"x".repeat(41)] {
            assert_eq!(
                check_name("k", bad).map_err(|e| e.code()),
                Err("E_EVENTFLOW_CONFIG"),
                "{bad:?}"
            );
        }
    }
}
