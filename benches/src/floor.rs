//! The floor: bare axum carrying the same bytes as this library's cookie contender.
//!
//! Bare axum answers without any cookie, so a ratio to it mixes what a session library costs
//! with what moving a few hundred more bytes of headers costs. The floor moves those bytes and
//! nothing else: it finds its cookie in the `Cookie` header the client sends (the library's
//! cookie, as large), and answers a `Set-Cookie` line of exactly the length the library's cookie
//! contender answers on the same route, on exactly the routes where it answers one.
//!
//! The lengths are not written down here: [`router`] measures them by driving the cookie
//! contender once in process (log in, read, write), so the floor follows the library when its
//! cookie grows or shrinks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::HeaderMap;
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::get;
use http::{HeaderValue, header};

use crate::client::Jar;
use crate::{COOKIE_NAME, ProfileData, line};

/// The `Set-Cookie` lines the library's cookie contender answers on each route, with every
/// cookie value replaced by filler of the same length.
#[derive(Clone, Debug, Default)]
pub struct CookieBytes {
    /// The `Cookie` header a logged-in client sends.
    pub cookie: String,
    /// `Set-Cookie` lines of `/login`.
    pub login: Vec<String>,
    /// `Set-Cookie` lines of `/read` (empty where the library does not refresh on a read).
    pub read: Vec<String>,
    /// `Set-Cookie` lines of `/write`.
    pub write: Vec<String>,
}

impl CookieBytes {
    /// Drives the library's cookie contender through `/login`, `/read` and `/write`.
    pub async fn measure() -> Result<CookieBytes, String> {
        let app = crate::cookie().await?;
        let mut jar = Jar::default();
        let login = filled(&jar.get(&app, "/login").await?.set_cookie);
        let cookie = jar
            .header()
            .and_then(|h| h.to_str().ok())
            .map(|h| fill(h, usize::MAX))
            .unwrap_or_default();
        let read = filled(&jar.get(&app, "/read").await?.set_cookie);
        let write = filled(&jar.get(&app, "/write").await?.set_cookie);
        Ok(CookieBytes {
            cookie,
            login,
            read,
            write,
        })
    }
}

fn filled(lines: &[HeaderValue]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.to_str().ok())
        .map(|l| fill(l, 1))
        .collect()
}

/// `line` with the values of its first `pairs` `name=value` parts (separated by `; `) replaced
/// by `x`s of the same length: a `Set-Cookie` line keeps its attributes (`pairs` = 1), a
/// `Cookie` header has only pairs (`usize::MAX`).
fn fill(line: &str, pairs: usize) -> String {
    let parts: Vec<String> = line
        .split("; ")
        .enumerate()
        .map(|(i, part)| match part.split_once('=') {
            Some((name, value)) if i < pairs => format!("{name}={}", "x".repeat(value.len())),
            _ => part.to_owned(),
        })
        .collect();
    parts.join("; ")
}

/// The floor's router, answering `Set-Cookie` lines of the lengths in `bytes`.
pub fn router(bytes: CookieBytes) -> Router {
    let counter = Arc::new(AtomicU64::new(0));
    let profile = Arc::new(ProfileData::sample());
    Router::new()
        .route("/login", get(answer(bytes.login, || "ok".to_owned())))
        .route(
            "/read",
            get(answer(bytes.read, {
                let profile = profile.clone();
                move || profile.line()
            })),
        )
        .route(
            "/write",
            get(answer(bytes.write, move || {
                let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
                line(profile.user_id, &profile.name, profile.roles.len(), n)
            })),
        )
}

/// A handler that finds its cookie's value in the request, answers `body()`, and sets `lines`
/// (made into header values on every request, as a session layer makes its cookie).
fn answer<F>(
    lines: Vec<String>,
    body: F,
) -> impl Fn(HeaderMap) -> std::future::Ready<axum::response::Response> + Clone + Send + 'static
where
    F: Fn() -> String + Clone + Send + Sync + 'static,
{
    let lines = Arc::new(lines);
    move |headers: HeaderMap| {
        // What the library does with its cookie is its own cost; finding it is the floor's.
        std::hint::black_box(own_cookie(&headers).map_or(0, str::len));
        let set: Vec<(header::HeaderName, HeaderValue)> = lines
            .iter()
            .filter_map(|l| HeaderValue::from_str(l).ok())
            .map(|v| (header::SET_COOKIE, v))
            .collect();
        std::future::ready((AppendHeaders(set), body()).into_response())
    }
}

/// The value of the floor's cookie in the request's `Cookie` headers.
fn own_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(COOKIE_NAME)
                .and_then(|rest| rest.strip_prefix('='))
        })
}
