//! A real browser for tests: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, started on a free port for each [`Browser`], through `fantoccini`).
//! Mark such tests with [`needs_browser!`](crate::needs_browser): they are reported as
//! ignored, with the reason, where chromedriver was not on `PATH` when the kit was built
//! (`.ci/run` installs `chromium` and `chromium-driver`).
//!
//! ```no_run
//! # async fn demo() {
//! use superhero_testkit::Browser;
//! let browser = Browser::start().await;
//! browser.client.goto("http://127.0.0.1:8080/").await.unwrap();
//! browser.screenshot("front-door").await;
//! browser.close().await;
//! # }
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::process::free_port;

/// A headless Chromium session; chromedriver is killed when dropped.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1280 × 1000, no sandbox: CI runs as
    /// root) with the browser log kept.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (apt-get install -y chromium chromium-driver)");
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000",
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Browser { client, driver },
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from chromedriver on {url}: {last:?}");
    }

    /// Writes a PNG of the page to `target/screenshots/<name>.png`; the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The workspace's `target` folder (`CARGO_TARGET_DIR` when set).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // Test binaries live in target/<profile>/deps.
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Marks the test item it wraps as needing a browser: `#[ignore]`d with the reason when
/// chromedriver was not found.
#[cfg(superhero_no_browser)]
#[macro_export]
macro_rules! needs_browser {
    ($item:item) => {
        #[ignore = "skipped: chromedriver not on PATH when superhero-testkit was built (apt-get install -y chromium chromium-driver, then cargo clean -p superhero-testkit)"]
        $item
    };
}

/// Marks the test item it wraps as needing a browser: `#[ignore]`d with the reason when
/// chromedriver was not found.
#[cfg(not(superhero_no_browser))]
#[macro_export]
macro_rules! needs_browser {
    ($item:item) => {
        $item
    };
}
