//! An in-process client: drives a contender's router with `tower::ServiceExt::oneshot`, keeping
//! the cookies it is given like a browser would. The floor contender measures the library's
//! cookie sizes with it, and the instruction-count benchmark drives its request loop with it.

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The cookies a client holds, and the `Cookie` header it sends with them.
#[derive(Debug, Default)]
pub struct Jar {
    pairs: Vec<(String, String)>,
    header: Option<HeaderValue>,
}

/// What one request answered.
#[derive(Debug)]
pub struct Answer {
    /// The body, collected.
    pub body: Bytes,
    /// Every `Set-Cookie` line, in order.
    pub set_cookie: Vec<HeaderValue>,
}

impl Jar {
    /// The `Cookie` header this jar sends, if it holds any cookie.
    pub fn header(&self) -> Option<&HeaderValue> {
        self.header.as_ref()
    }

    /// One `GET` of `path` through `app`; the answer must be 200. Keeps the cookies it sets.
    pub async fn get(&mut self, app: &Router, path: &str) -> Result<Answer, String> {
        let mut request = Request::get(path);
        if let Some(cookie) = &self.header {
            request = request.header(header::COOKIE, cookie.clone());
        }
        let request = request
            .body(Body::empty())
            .map_err(|e| format!("{path}: {e}"))?;
        let response = app
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let (parts, body) = response.into_parts();
        let set_cookie: Vec<HeaderValue> = parts
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        if !set_cookie.is_empty() {
            self.keep(&set_cookie);
        }
        let body = body
            .collect()
            .await
            .map_err(|e| format!("{path} body: {e}"))?
            .to_bytes();
        if parts.status != StatusCode::OK {
            return Err(format!("{path}: status {}", parts.status));
        }
        Ok(Answer { body, set_cookie })
    }

    /// Applies `Set-Cookie` lines and rebuilds the `Cookie` header.
    fn keep(&mut self, lines: &[HeaderValue]) {
        for line in lines {
            let line = line.to_str().unwrap_or("");
            let pair = line.split(';').next().unwrap_or("").trim();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let removal = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
            self.pairs.retain(|(n, _)| n != name);
            if !removal {
                self.pairs.push((name.to_owned(), value.to_owned()));
            }
        }
        let joined = self
            .pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.header = if joined.is_empty() {
            None
        } else {
            HeaderValue::from_str(&joined).ok()
        };
    }
}
