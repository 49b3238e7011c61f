//! In-process requests through an axum app (`tower::ServiceExt::oneshot`), and the cookies
//! and headers of what it answers.

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// What a response says, in the terms the tests need.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// Every `Set-Cookie` line, in order.
    pub set_cookies: Vec<String>,
    /// All the headers.
    pub headers: http::HeaderMap,
    /// The body, as (lossy) UTF-8 text.
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
