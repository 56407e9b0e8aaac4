//! Polling until something holds, with a generous deadline: tests must pass on a loaded
//! 2-core machine, so they wait for a state instead of sleeping a guessed time.

use std::future::Future;
use std::time::Duration;

/// How often [`eventually`] checks.
pub const POLL: Duration = Duration::from_millis(20);

/// Checks `check` every 20 ms until it is true; panics naming `what` after `within`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// let calls = AtomicU32::new(0);
/// superhero_testkit::eventually(Duration::from_secs(5), "three calls", || async {
///     calls.fetch_add(1, Ordering::SeqCst) >= 2
/// })
/// .await;
/// # }
/// ```
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting until {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for synchronous tests: checks `check` every 20 ms until it is true;
/// panics naming `what` after `within`.
pub fn eventually_blocking(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !check() {
        if std::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting until {what}");
        }
        std::thread::sleep(POLL);
    }
}
