//! Helpers shared by the black-box tests: in-process requests and cookie handling.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A secret long enough for every mode.
pub const SECRET: &str = "test secret: 0123456789abcdef0123456789abcdef";
/// Another one, for rotation tests.
pub const OTHER_SECRET: &str = "another secret: fedcba9876543210fedcba9876543210";

/// What a response says, in the terms the tests need.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub set_cookies: Vec<String>,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The `name=value` pair of the first `Set-Cookie` for `name` that is not a removal.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies
            .iter()
            .filter(|c| !is_removal(c))
            .map(|c| pair(c))
            .find(|p| p.split_once('=').is_some_and(|(n, _)| n == name))
    }

    /// Whether a `Set-Cookie` deletes `name`.
    pub fn removes(&self, name: &str) -> bool {
        self.set_cookies
            .iter()
            .any(|c| is_removal(c) && pair(c).split_once('=').is_some_and(|(n, _)| n == name))
    }

    /// The full `Set-Cookie` line for `name`.
    pub fn set_cookie_line(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| pair(c).split_once('=').is_some_and(|(n, _)| n == name))
            .map(String::as_str)
    }
}

/// The `name=value` part of a `Set-Cookie` line.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or("").trim().to_owned()
}

/// The value part of a `name=value` pair.
pub fn value(pair: &str) -> &str {
    pair.split_once('=').map_or("", |(_, v)| v)
}

fn is_removal(set_cookie: &str) -> bool {
    set_cookie.contains("Max-Age=0")
}

/// Sends `GET uri` with an optional `Cookie` header through the app, in process.
pub async fn request(app: &Router, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(
            header::COOKIE,
            http::HeaderValue::from_bytes(cookie.as_bytes()).unwrap(),
        );
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// Sends any request through the app, in process.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let set_cookies = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        set_cookies,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Seconds since the unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An example binary, built (or found up to date) by `cargo build` once per test binary, so a
/// test never runs a stale example.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir.join("examples").join(name);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "examples", "--example", name])
            .status()
            .unwrap();
        assert!(status.success(), "building the {name} example failed");
        built.push(name.to_owned());
    }
    binary
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
