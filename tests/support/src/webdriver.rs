//! A small W3C WebDriver client: one chromedriver per test binary, one headless Chromium per
//! test, with bounded polling for page text.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long the tests wait for a page to show what they expect.
pub const WAIT: Duration = Duration::from_secs(20);

/// At most this many browsers run at once, so a small machine is not swamped.
static BROWSERS: Semaphore = Semaphore::const_new(2);
/// The chromedriver the tests of this binary share; it stops when the last test drops it.
static DRIVER: Mutex<Weak<Driver>> = Mutex::new(Weak::new());

fn require_browser() {
    for binary in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(binary).exists(),
            "{binary} is missing: the browser tests need Chromium and its WebDriver \
             (Debian: `apt-get install chromium chromium-driver`; `.ci/run` installs them)"
        );
    }
}

/// A running chromedriver on a loopback port.
pub struct Driver {
    child: Mutex<Child>,
    port: u16,
}

impl Driver {
    /// The shared chromedriver, started if no test holds it.
    pub fn shared() -> Arc<Driver> {
        require_browser();
        let mut slot = DRIVER.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(driver) = slot.upgrade() {
            return driver;
        }
        let driver = Arc::new(Driver::start());
        *slot = Arc::downgrade(&driver);
        driver
    }

    fn start() -> Driver {
        let port = crate::ports::free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let driver = Driver {
            child: Mutex::new(child),
            port,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = raw_request(port, "GET", "/status") {
                if status.contains("\"ready\":true") {
                    return driver;
                }
            }
            if let Ok(Some(exit)) = driver.child.lock().unwrap().try_wait() {
                panic!("chromedriver exited at startup: {exit}");
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A minimal blocking HTTP/1.1 exchange with chromedriver, for `Drop` (which cannot await)
/// and the readiness check. Returns the body, or `None` if chromedriver does not answer.
fn raw_request(port: u16, method: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // chromedriver keeps the connection open whatever the request says: read the head, then
    // exactly `Content-Length` bytes.
    let mut reply = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        reply.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&reply[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse().ok())?;
    while reply.len() < head_end + length {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        reply.extend_from_slice(&buffer[..read]);
    }
    Some(String::from_utf8_lossy(&reply[head_end..head_end + length]).into_owned())
}

/// One headless Chromium, driven through a WebDriver session; closed on drop.
pub struct Browser {
    driver: Arc<Driver>,
    http: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

impl Browser {
    /// Starts a headless Chromium with a fresh profile, waiting while two others run.
    pub async fn start() -> Browser {
        let permit = BROWSERS.acquire().await.unwrap();
        let driver = Driver::shared();
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let value = call(&http, "POST", &driver.url("/session"), Some(capabilities)).await;
        let session = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {value}"))
            .to_owned();
        Browser {
            driver,
            http,
            session,
            _profile: profile,
            _permit: permit,
        }
    }

    async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = self.driver.url(&format!("/session/{}{path}", self.session));
        call(&self.http, method, &url, body).await
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub async fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        let value = self
            .execute("return document.body ? document.body.innerText : '';")
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Waits (bounded) until the page text contains `needle`; returns the text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the page never showed {needle:?}; it shows {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The HTTP status of the current page's main document.
    pub async fn status(&self) -> u64 {
        let value = self
            .execute("return performance.getEntriesByType('navigation')[0].responseStatus;")
            .await;
        value
            .as_u64()
            .unwrap_or_else(|| panic!("no response status: {value}"))
    }

    /// The element matching a CSS selector, waiting (bounded) for it to appear.
    pub async fn find(&self, selector: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self
                .driver
                .url(&format!("/session/{}/element", self.session));
            let body = json!({ "using": "css selector", "value": selector });
            let (ok, value) = try_call(&self.http, "POST", &url, Some(body)).await;
            if ok {
                return value[ELEMENT_KEY]
                    .as_str()
                    .unwrap_or_else(|| panic!("no element reference in {value}"))
                    .to_owned();
            }
            assert!(
                value["error"] == "no such element",
                "finding {selector}: {value}"
            );
            assert!(
                Instant::now() < deadline,
                "no element {selector} appeared; the page shows {:?}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the first element matching the CSS `selector`.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks the first element matching the CSS `selector`.
    pub async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Every cookie the browser would send to the current page, as WebDriver reports them.
    pub async fn cookies(&self) -> Vec<Value> {
        match self.command("GET", "/cookie", None).await {
            Value::Array(cookies) => cookies,
            other => panic!("the cookie list is not an array: {other}"),
        }
    }

    /// The cookie named `name`, if the browser holds it for the current page.
    pub async fn cookie(&self, name: &str) -> Option<Value> {
        self.cookies().await.into_iter().find(|c| c["name"] == name)
    }

    /// Puts a cookie into the browser for the current page's origin.
    pub async fn add_cookie(&self, cookie: Value) {
        self.command("POST", "/cookie", Some(json!({ "cookie": cookie })))
            .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session quits Chromium; chromedriver itself goes with the last browser.
        let _ = raw_request(
            self.driver.port,
            "DELETE",
            &format!("/session/{}", self.session),
        );
    }
}

/// A WebDriver command that must succeed; returns its `value`.
async fn call(http: &reqwest::Client, method: &str, url: &str, body: Option<Value>) -> Value {
    let (ok, value) = try_call(http, method, url, body).await;
    assert!(ok, "WebDriver {method} {url} failed: {value}");
    value
}

/// A WebDriver command; returns whether it succeeded and its `value` (the error on failure).
async fn try_call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> (bool, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap());
    }
    let reply = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
    let ok = reply.status().is_success();
    let bytes = reply.bytes().await.unwrap();
    let mut answer: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "WebDriver {method} {url} answered no JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (ok, answer["value"].take())
}
