//! The demo's browser page, used as a person would, in headless Chromium: register,
//! sign in (requests signed in the page with WebCrypto), post, watch the post's events
//! grow the live timeline, drop the stream and see it resume with nothing missed, reply,
//! place an order, pay it and deliver it as the carrier while its saga's timeline grows,
//! and see one's own activity. Screenshots go to `target/screenshots/`; a script error
//! on the page fails the test.

mod common;

use std::time::Duration;

use common::superhero_in;
use fantoccini::Locator;
use serde_json::Value;
use superhero_testkit::{Browser, TempDir, free_port};

/// Long enough for a loaded CI machine; the page answers in milliseconds.
const WITHIN: Duration = Duration::from_secs(20);

superhero_testkit::needs_browser! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_person_signs_up_posts_and_watches_the_board_live() {
        let dir = TempDir::new();
        let port = free_port();
        let node = superhero_in(dir.path(), &["demo", "--http", &format!("127.0.0.1:{port}")], &[]);
        node.wait_for("started", 1, Duration::from_secs(60));
        let browser = Browser::start().await;
        let page = &browser.client;
        page.goto(&format!("http://127.0.0.1:{port}/")).await.unwrap();
        browser.screenshot("page-1-signed-out").await;

        // Register (which signs in).
        page.find(Locator::Css("#auth-name")).await.unwrap().send_keys("alice").await.unwrap();
        page.find(Locator::Css("#auth-password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
        page.find(Locator::Css("#auth-register")).await.unwrap().click().await.unwrap();
        wait_for_text(page, "#who", "alice").await;

        // A post: created through a signed request; its two events reach the timeline.
        page.find(Locator::Css("#mb-title")).await.unwrap().send_keys("Hello from the page").await.unwrap();
        page.find(Locator::Css("#mb-body")).await.unwrap().send_keys("Typed in Chromium").await.unwrap();
        page.find(Locator::Css("#mb-post")).await.unwrap().click().await.unwrap();
        wait_for_text(page, "#mb-status", "post created").await;
        wait_for_count(page, "#mb-timeline li[data-name='post-created']", 1).await;
        wait_for_count(page, "#mb-timeline li[data-name='post-create-requested']", 1).await;
        wait_for_text(page, "#mb-posts", "Hello from the page").await;
        wait_for_text(page, "#mb-state", "live").await;
        browser.screenshot("page-2-posted").await;

        // Drop the stream, post while it reconnects: the timeline shows the resume and
        // the second post's events, each once.
        page.find(Locator::Css("#mb-drop")).await.unwrap().click().await.unwrap();
        page.find(Locator::Css("#mb-title")).await.unwrap().send_keys("Second post").await.unwrap();
        page.find(Locator::Css("#mb-body")).await.unwrap().send_keys("While the stream was down").await.unwrap();
        page.find(Locator::Css("#mb-post")).await.unwrap().click().await.unwrap();
        wait_for_count(page, "#mb-timeline li[data-name='post-created']", 2).await;
        wait_for_text(page, "#mb-timeline", "reconnected: resumed after #").await;
        wait_for_text(page, "#mb-state", "live again").await;
        let positions = script(page, "return [...document.querySelectorAll('#mb-timeline li[data-position]')].map(li => li.dataset.position)").await;
        let positions: Vec<&str> = positions.as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let mut unique = positions.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), positions.len(), "no event twice: {positions:?}");
        assert_eq!(positions.len(), 4, "two posts, two events each: {positions:?}");

        // A reply, from the post's own form.
        page.find(Locator::Css("#mb-posts li[data-post] a")).await.unwrap().click().await.unwrap();
        let reply = page.wait().at_most(WITHIN).for_element(Locator::Css(".mb-replies input")).await.unwrap();
        reply.send_keys("A reply").await.unwrap();
        page.find(Locator::Css(".mb-replies button")).await.unwrap().click().await.unwrap();
        wait_for_count(page, "#mb-timeline li[data-name='reply-created']", 1).await;
        wait_for_text(page, "#mb-posts", "1 reply").await;
        wait_for_text(page, "#mb-posts", "alice: A reply").await;

        // An order: placed, paid, delivered by the carrier (she plays it in the demo);
        // its timeline grows with the saga's events of all four contexts.
        page.find(Locator::Css("#so-place")).await.unwrap().click().await.unwrap();
        wait_for_count(page, "#so-orders li[data-order]", 1).await;
        let order = "#so-orders li[data-order] ol li";
        wait_for_count(page, &format!("{order}[data-name='notified-customer-of-payment-requested']"), 1).await;
        page.find(Locator::Css("#so-orders .so-pay")).await.unwrap().click().await.unwrap();
        wait_for_count(page, &format!("{order}[data-name='shipment-scheduled']"), 1).await;
        page.find(Locator::Css("#so-orders .so-carrier[data-status='delivered']")).await.unwrap().click().await.unwrap();
        wait_for_count(page, &format!("{order}[data-name='notified-customer-of-shipment-delivered']"), 1).await;
        wait_for_text(page, "#so-orders .so-state", "delivered").await;
        let saga = script(page, "return [...document.querySelectorAll('#so-orders li[data-order] ol li[data-name]')].map(li => li.dataset.name)").await;
        assert_eq!(saga.as_array().unwrap().len(), 10, "the ten events of a delivered order: {saga}");
        browser.screenshot("page-3-order").await;

        // More orders: the page keeps working (it shares one stream between them; a
        // stream per order once ran into the browser's six connections per site).
        for n in 2..=5 {
            page.find(Locator::Css("#so-place")).await.unwrap().click().await.unwrap();
            wait_for_count(page, "#so-orders li[data-order]", n).await;
        }
        wait_for_count(page, "#so-orders li[data-order] ol li[data-name='notified-customer-of-payment-requested']", 5).await;
        page.find(Locator::Css("#mb-title")).await.unwrap().send_keys("After five orders").await.unwrap();
        page.find(Locator::Css("#mb-body")).await.unwrap().send_keys("Still responsive").await.unwrap();
        page.find(Locator::Css("#mb-post")).await.unwrap().click().await.unwrap();
        wait_for_text(page, "#mb-posts", "After five orders").await;

        // Her own activity: the signed requests she made.
        wait_for_count(page, "#auth-activity li[data-name='user-activity']", 3).await;
        browser.screenshot("page-4-live").await;

        let errors = script(page, "return window.pageErrors").await;
        assert_eq!(errors, Value::Array(Vec::new()), "script errors on the page");
        browser.close().await;
    }
}

async fn script(page: &fantoccini::Client, code: &str) -> Value {
    page.execute(code, Vec::new()).await.unwrap()
}

/// Waits until the element's text contains `text`.
async fn wait_for_text(page: &fantoccini::Client, css: &str, text: &str) {
    let code =
        format!("const el = document.querySelector({css:?}); return el ? el.textContent : null;");
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let now = script(page, &code).await;
        if now.as_str().is_some_and(|t| t.contains(text)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} never contained {text:?}; it holds {now}; page errors: {}",
            script(page, "return window.pageErrors").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until at least `count` elements match.
async fn wait_for_count(page: &fantoccini::Client, css: &str, count: usize) {
    let code = format!("return document.querySelectorAll({css:?}).length;");
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let now = script(page, &code).await.as_u64().unwrap_or(0) as usize;
        if now >= count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css}: {now} of {count}; page errors: {}",
            script(page, "return window.pageErrors").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
