//! Sessions in a real browser: headless Chromium driven over the W3C WebDriver protocol.
//!
//! The browser decides what a cookie attribute means in practice: whether scripts can read the
//! cookie, whether it outlives the browser session, whether oversized or stale chunks are kept.
//! These tests need `chromium` and `chromedriver` in `/usr/bin` (Debian: `apt-get install
//! chromium chromium-driver`; `.ci/run` installs them) and fail with that message without them.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Path;
use axum::{Router, routing::get};
use serde_json::{Value, json};
use session_runtime::Session;
use session_test_support::examples::example_binary;
use session_test_support::ports::free_port;
use session_test_support::webdriver::{Browser, WAIT};
use sha2::{Digest, Sha256};

/// A running example; killed on drop.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts an example on a free loopback port; returns it and its base URL.
async fn start_example(name: &str) -> (Example, String) {
    let port = free_port();
    let child = Command::new(example_binary(name))
        .env("PORT", port.to_string())
        .env_remove("SESSION_SECRET")
        .env_remove("SESSION_STORE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let example = Example(child);
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the {name} example did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (example, format!("http://127.0.0.1:{port}"))
}

/// Serves `app` in process on a free loopback port; returns its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn string(cookie: &Value, key: &str) -> String {
    cookie[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {cookie}"))
        .to_owned()
}

#[tokio::test]
async fn the_counter_counts_across_navigations() {
    let (_example, base) = start_example("counter").await;
    let browser = Browser::start().await;
    for n in 1..=3 {
        browser.goto(&format!("{base}/counter")).await;
        let text = browser
            .wait_for_text(&format!("This is your {n} visit"))
            .await;
        assert_eq!(text.trim(), format!("This is your {n} visit"));
    }
}

#[tokio::test]
async fn scripts_cannot_read_the_session_cookie() {
    let (_example, base) = start_example("counter").await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/counter")).await;
    browser.wait_for_text("This is your 1 visit").await;

    let cookie = browser
        .cookie("myapp")
        .await
        .expect("the browser keeps the session cookie");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Lax", "{cookie}");
    assert_eq!(cookie["path"], "/", "{cookie}");
    assert_eq!(cookie["secure"], false, "{cookie}");
    assert!(!string(&cookie, "value").is_empty());

    let visible = browser.execute("return document.cookie;").await;
    let visible = visible.as_str().expect("document.cookie is a string");
    assert!(
        !visible.contains("myapp="),
        "a script can read the session cookie: {visible:?}"
    );
    // The cookie is still sent: the counter goes on.
    browser.goto(&format!("{base}/counter")).await;
    browser.wait_for_text("This is your 2 visit").await;
}

/// Logs in through a form the page script builds, as a second tab or a bookmarklet would.
async fn post_login_form(browser: &Browser, user: &str) {
    let script = format!(
        "const form = document.createElement('form');
         form.method = 'post';
         form.action = '/login';
         for (const [name, value] of [['user', {user:?}], ['password', 'secret']]) {{
             const input = document.createElement('input');
             input.name = name;
             input.value = value;
             form.appendChild(input);
         }}
         document.body.appendChild(form);
         form.submit();
         return true;"
    );
    browser.execute(&script).await;
}

#[tokio::test]
async fn logging_in_and_out_in_the_browser() {
    let (_example, base) = start_example("login").await;
    let browser = Browser::start().await;
    let private = format!("{base}/private");

    browser.goto(&private).await;
    browser.wait_for_text("Log in first.").await;
    assert_eq!(browser.status().await, 401);
    assert!(browser.cookie("auth").await.is_none(), "no session yet");

    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("Not logged in.").await;
    browser.type_into("#name", "ada").await;
    browser.type_into("#password", "secret").await;
    browser.click("#submit").await;
    let text = browser.wait_for_text("Only ada can read this.").await;
    assert!(!text.contains("Log in first."), "{text}");
    assert_eq!(browser.status().await, 200);
    let first = browser.cookie("auth").await.expect("a session cookie");
    assert_eq!(first["httpOnly"], true, "{first}");
    let first_value = string(&first, "value");

    // Logging in again regenerates the id: the browser gets a new value, and the old one is
    // dead on the server.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("Logged in as ada.").await;
    post_login_form(&browser, "ada").await;
    browser.wait_for_text("Only ada can read this.").await;
    let second = browser.cookie("auth").await.expect("a session cookie");
    let second_value = string(&second, "value");
    assert_ne!(
        second_value, first_value,
        "the session id did not change at log in"
    );

    let planted = |value: &str| {
        json!({
            "name": "auth",
            "value": value,
            "path": "/",
            "httpOnly": true,
            "sameSite": "Lax",
        })
    };
    browser.add_cookie(planted(&first_value)).await;
    browser.goto(&private).await;
    browser.wait_for_text("Log in first.").await;
    assert_eq!(
        browser.status().await,
        401,
        "the id from before the log in still works"
    );
    browser.add_cookie(planted(&second_value)).await;
    browser.goto(&private).await;
    browser.wait_for_text("Only ada can read this.").await;

    browser.click("#logout").await;
    browser.wait_for_text("Not logged in.").await;
    browser.goto(&private).await;
    browser.wait_for_text("Log in first.").await;
    assert_eq!(browser.status().await, 401);
    let left = browser.cookie("auth").await;
    assert!(left.is_none(), "log out left the cookie: {left:?}");
}

#[derive(Session)]
#[session(cookie_name = "tab", sessioncookie, expire = 600)]
struct Tab {
    visits: u32,
}

#[derive(Session)]
#[session(cookie_name = "kept", expire = 600)]
struct Kept {
    visits: u32,
}

async fn both(mut tab: Session<Tab>, mut kept: Session<Kept>) -> String {
    tab.visits += 1;
    kept.visits += 1;
    format!("tab={} kept={}", tab.visits, kept.visits)
}

#[tokio::test]
async fn a_sessioncookie_has_no_expiry_in_the_browser() {
    let tab = Tab::layer().ephemeral_secret().build().await.unwrap();
    let kept = Kept::layer().ephemeral_secret().build().await.unwrap();
    let base = serve(Router::new().route("/", get(both)).layer(tab).layer(kept)).await;
    let browser = Browser::start().await;

    let before = unix_now();
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("tab=1 kept=1").await;
    let after = unix_now();

    let tab = browser.cookie("tab").await.expect("the tab cookie");
    assert!(
        tab.get("expiry").is_none(),
        "a sessioncookie must end with the browser session: {tab}"
    );
    let kept = browser.cookie("kept").await.expect("the kept cookie");
    let expiry = kept["expiry"]
        .as_u64()
        .unwrap_or_else(|| panic!("a normal session cookie has an expiry: {kept}"));
    assert!(
        (before + 600 - 2..=after + 600 + 2).contains(&expiry),
        "expiry {expiry} is not `expire` (600 s) after {before}..={after}"
    );

    // Both still count on the next visit.
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("tab=2 kept=2").await;
    let tab = browser.cookie("tab").await.expect("the tab cookie");
    assert!(tab.get("expiry").is_none(), "{tab}");
}

#[derive(Session)]
#[session(cookie_name = "big", oversize = "chunk", expire = 3600)]
struct Big {
    data: String,
}

/// `len` hex characters that do not compress: a SHA-256 chain from a fresh seed.
fn random_hex(len: usize) -> String {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut block = Sha256::digest(seed.to_le_bytes());
    let mut out = String::with_capacity(len + 64);
    while out.len() < len {
        for byte in block {
            out.push_str(&format!("{byte:02x}"));
        }
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

fn describe(data: &str) -> String {
    let digest: String = Sha256::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("length={} sha256={digest}", data.len())
}

async fn fill(mut big: Session<Big>, Path(len): Path<usize>) -> String {
    big.data = random_hex(len);
    describe(&big.data)
}

async fn read(big: Session<Big>) -> String {
    describe(&big.data)
}

/// The names of the browser's cookies for the current page, sorted.
async fn cookie_names(browser: &Browser) -> Vec<String> {
    let mut names: Vec<String> = browser
        .cookies()
        .await
        .iter()
        .map(|c| string(c, "name"))
        .collect();
    names.sort();
    names
}

/// Fills the session with `len` random characters and checks that the next page reads them
/// back intact; returns the browser's cookie names.
async fn fill_and_read(browser: &Browser, base: &str, len: usize) -> Vec<String> {
    browser.goto(&format!("{base}/fill/{len}")).await;
    let written = browser
        .wait_for_text(&format!("length={len} "))
        .await
        .trim()
        .to_owned();
    browser.goto(&format!("{base}/read")).await;
    let read = browser.wait_for_text("length=").await.trim().to_owned();
    assert_eq!(read, written, "the session did not survive the round trip");
    cookie_names(browser).await
}

#[tokio::test]
async fn a_chunked_session_round_trips_and_shrinks() {
    let layer = Big::layer().ephemeral_secret().build().await.unwrap();
    let base = serve(
        Router::new()
            .route("/fill/{len}", get(fill))
            .route("/read", get(read))
            .layer(layer),
    )
    .await;
    let browser = Browser::start().await;

    // 10 KB of hex seals to about 13.7 KB: four chunks of at most 4096 bytes each.
    let names = fill_and_read(&browser, &base, 10_240).await;
    assert_eq!(names, ["big.0", "big.1", "big.2", "big.3"], "{names:?}");
    for cookie in browser.cookies().await {
        let size = string(&cookie, "name").len() + 1 + string(&cookie, "value").len();
        assert!(size <= 4096, "a chunk of {size} bytes: {cookie}");
        assert_eq!(cookie["httpOnly"], true, "{cookie}");
    }

    // Shrinking to two chunks deletes the last two.
    let names = fill_and_read(&browser, &base, 4_000).await;
    assert_eq!(names, ["big.0", "big.1"], "{names:?}");

    // Small enough for one cookie: every chunk goes.
    let names = fill_and_read(&browser, &base, 100).await;
    assert_eq!(names, ["big"], "{names:?}");

    // And growing again replaces the single cookie with chunks.
    let names = fill_and_read(&browser, &base, 10_240).await;
    assert_eq!(names, ["big.0", "big.1", "big.2", "big.3"], "{names:?}");
}
