//! Reading the request's `Cookie` headers and writing `Set-Cookie` headers.
//!
//! Parsing is done by hand on bytes rather than through a cookie jar: a request may carry
//! thousands of cookies and only one (or its chunks) matters, so the scan looks at names only
//! and never allocates for the others.

use http::header::{COOKIE, HeaderMap, HeaderValue};

/// At most this many cookies of the same name are tried, by every backend: each costs a
/// decryption (cookie store) or a store call (server stores), so a client cannot make a
/// request do more. Four leaves room for the app's own cookie behind ones of the same name
/// that a sibling subdomain or a more specific `Path` put first in the header.
pub(crate) const MAX_CANDIDATES: usize = 4;

/// Calls `visit` with the value of every cookie of the request, in order, until it returns
/// `false`. Values that are not UTF-8 are skipped.
fn for_each_cookie<'h>(headers: &'h HeaderMap, mut visit: impl FnMut(&'h str, &'h str) -> bool) {
    for header in headers.get_all(COOKIE) {
        let Ok(text) = std::str::from_utf8(header.as_bytes()) else {
            continue;
        };
        for pair in text.split(';') {
            let pair = pair.trim_matches(|c| c == ' ' || c == '\t');
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim_matches(' ');
            // RFC 6265 allows the value in double quotes.
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if !visit(name.trim_end_matches(' '), value) {
                return;
            }
        }
    }
}

/// The values of the cookies named `name`, at most [`MAX_CANDIDATES`].
pub(crate) fn find<'h>(headers: &'h HeaderMap, name: &str) -> Vec<&'h str> {
    let mut found = Vec::new();
    for_each_cookie(headers, |n, v| {
        if n == name {
            found.push(v);
        }
        found.len() < MAX_CANDIDATES
    });
    found
}

/// The chunks `name.0`, `name.1`, ... of a value split across cookies, joined; `None` unless
/// chunk 0 is present and chunks run without a gap. Also returns how many chunk cookies the
/// request carried, so stale ones can be deleted. At most `max_chunks` are read.
pub(crate) fn find_chunks(
    headers: &HeaderMap,
    name: &str,
    max_chunks: usize,
) -> (Option<String>, usize) {
    let mut parts: Vec<Option<&str>> = vec![None; max_chunks];
    let mut seen = 0;
    for_each_cookie(headers, |n, v| {
        if let Some(index) = n
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(chunk_index)
        {
            if let Some(slot) = parts.get_mut(index) {
                if slot.is_none() {
                    *slot = Some(v);
                    seen = seen.max(index + 1);
                }
            }
        }
        true
    });
    if seen == 0 {
        return (None, 0);
    }
    let mut joined = String::new();
    for part in &parts[..seen] {
        match part {
            Some(p) => joined.push_str(p),
            None => return (None, seen),
        }
    }
    (Some(joined), seen)
}

/// The index of the chunk cookie `name.<digits>`, written the one way we write it: decimal
/// digits without a sign or a leading zero. Otherwise `name.00` or `name.+0` would also be
/// chunk 0, and one chunk would have several names to plant or shadow it under.
fn chunk_index(digits: &str) -> Option<usize> {
    let canonical =
        digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

/// The attributes every `Set-Cookie` of one session type carries.
#[derive(Clone, Debug)]
pub(crate) struct CookieAttributes {
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: cookie::SameSite,
    pub(crate) partitioned: bool,
}

impl CookieAttributes {
    /// A `Set-Cookie` value; `max_age` `None` makes a browser-session cookie.
    ///
    /// Written straight into one buffer that becomes the header without a copy: this runs on
    /// every response that sets a cookie.
    pub(crate) fn set_cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        use std::fmt::Write as _;
        let mut line = String::with_capacity(name.len() + value.len() + 96);
        line.push_str(name);
        line.push('=');
        line.push_str(value);
        if let Some(seconds) = max_age {
            // Writing to a String cannot fail.
            let _ = write!(line, "; Max-Age={seconds}");
        }
        line.push_str("; Path=");
        line.push_str(&self.path);
        if let Some(domain) = &self.domain {
            line.push_str("; Domain=");
            line.push_str(domain);
        }
        if self.secure {
            line.push_str("; Secure");
        }
        if self.http_only {
            line.push_str("; HttpOnly");
        }
        line.push_str(match self.same_site {
            cookie::SameSite::Strict => "; SameSite=Strict",
            cookie::SameSite::Lax => "; SameSite=Lax",
            cookie::SameSite::None => "; SameSite=None",
        });
        if self.partitioned {
            line.push_str("; Partitioned");
        }
        // Names, values and attributes are validated when the layer is built (tokens, base64
        // values, checked paths and domains), so this is always a valid header value.
        HeaderValue::from_maybe_shared(bytes::Bytes::from(line))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// A `Set-Cookie` that deletes the cookie (same path and domain, so the browser matches it).
    pub(crate) fn removal(&self, name: &str) -> HeaderValue {
        let mut c = self.base(name, "");
        c.make_removal();
        header_value(&c)
    }

    fn base<'c>(&self, name: &'c str, value: &'c str) -> cookie::Cookie<'c> {
        let mut c = cookie::Cookie::new(name, value);
        c.set_path(self.path.clone());
        if let Some(domain) = &self.domain {
            c.set_domain(domain.clone());
        }
        c.set_secure(self.secure);
        c.set_http_only(self.http_only);
        c.set_same_site(self.same_site);
        c.set_partitioned(self.partitioned);
        c
    }
}

fn header_value(c: &cookie::Cookie<'_>) -> HeaderValue {
    // Names, values and attributes are validated when the layer is built (tokens, base64
    // values, checked paths and domains), so the text is always a valid header value.
    HeaderValue::try_from(c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(COOKIE, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn finds_named_cookie_among_others() {
        let h = headers(&["a=1; app=xyz; b=2", "app=second"]);
        assert_eq!(find(&h, "app"), vec!["xyz", "second"]);
        assert!(find(&h, "ap").is_empty());
    }

    #[test]
    fn candidates_are_bounded() {
        let many = vec!["app=x"; 100].join("; ");
        assert_eq!(find(&headers(&[&many]), "app").len(), MAX_CANDIDATES);
    }

    #[test]
    fn set_cookie_matches_the_cookie_crate() {
        let attrs = CookieAttributes {
            path: "/app".into(),
            domain: Some("example.com".into()),
            secure: true,
            http_only: true,
            same_site: cookie::SameSite::Strict,
            partitioned: true,
        };
        let ours = attrs.set_cookie("sid", "abc-_09", Some(60));
        let parsed = cookie::Cookie::parse(ours.to_str().unwrap()).unwrap();
        assert_eq!((parsed.name(), parsed.value()), ("sid", "abc-_09"));
        assert_eq!(parsed.max_age(), Some(cookie::time::Duration::seconds(60)));
        assert_eq!(parsed.path(), Some("/app"));
        assert_eq!(parsed.domain(), Some("example.com"));
        assert_eq!(parsed.secure(), Some(true));
        assert_eq!(parsed.http_only(), Some(true));
        assert_eq!(parsed.same_site(), Some(cookie::SameSite::Strict));
        assert_eq!(parsed.partitioned(), Some(true));
        let session = attrs.set_cookie("sid", "x", None);
        assert!(!session.to_str().unwrap().contains("Max-Age"));
    }

    #[test]
    fn joins_chunks_in_order() {
        let h = headers(&["app.1=def; app.0=abc; other=1"]);
        assert_eq!(find_chunks(&h, "app", 8), (Some("abcdef".into()), 2));
        let gap = headers(&["app.0=abc; app.2=x"]);
        assert_eq!(find_chunks(&gap, "app", 8), (None, 3));
    }

    #[test]
    fn only_canonical_chunk_names_count() {
        for name in [
            "app.00", "app.+0", "app.-0", "app. 0", "app.0x0", "app.", "app.01",
        ] {
            let h = headers(&[&format!("{name}=abc")]);
            assert_eq!(find_chunks(&h, "app", 8), (None, 0), "{name}");
        }
        assert_eq!(chunk_index("10"), Some(10));
        assert_eq!(chunk_index("0"), Some(0));
    }
}
