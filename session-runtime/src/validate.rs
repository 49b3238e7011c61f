//! Run-time checks of settings: the same rules the derive enforces at compile time, applied
//! again because the builder and the environment can change every value.

use crate::config::{EncryptionMode, Oversize};
use crate::engine::Settings;

type Problem = (&'static str, String);

/// Whether `name` is an RFC 6265 cookie-name token.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

fn is_attribute_text(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_graphic() && b != b';')
}

pub(crate) fn settings(s: &Settings, mode: EncryptionMode, level: i32) -> Result<(), Problem> {
    let name = s.cookie_name.as_str();
    if !is_token(name) {
        return Err((
            "cookie_name",
            format!(
                "`{}` is not a valid cookie name (RFC 6265 token: visible ASCII without separators)",
                name.escape_debug()
            ),
        ));
    }
    if name.len() > 200 {
        return Err(("cookie_name", "longer than 200 bytes".into()));
    }
    if !s.cookie.path.starts_with('/') || !is_attribute_text(&s.cookie.path) {
        return Err((
            "path",
            format!(
                "`{}` must start with `/` and hold no `;`, space or control character",
                s.cookie.path.escape_debug()
            ),
        ));
    }
    if let Some(domain) = &s.cookie.domain {
        if domain.is_empty() || !is_attribute_text(domain) {
            return Err((
                "domain",
                format!("`{}` is not a valid domain", domain.escape_debug()),
            ));
        }
    }
    if s.cookie.same_site == cookie::SameSite::None && !s.cookie.secure {
        return Err(("same_site", "`none` requires `secure = true` (browsers reject SameSite=None cookies without Secure)".into()));
    }
    if name.starts_with("__Host-") {
        if !s.cookie.secure || s.cookie.domain.is_some() || s.cookie.path != "/" {
            return Err((
                "cookie_name",
                "a `__Host-` cookie needs `secure = true`, no `domain` and `path = \"/\"`".into(),
            ));
        }
    } else if name.starts_with("__Secure-") && !s.cookie.secure {
        return Err((
            "cookie_name",
            "a `__Secure-` cookie needs `secure = true`".into(),
        ));
    }
    if s.expire == 0 {
        return Err(("expire", "must be at least 1 second".into()));
    }
    if let Some(max) = s.max_lifetime {
        if max < s.expire {
            return Err((
                "max_lifetime",
                format!("{max} s is shorter than expire ({} s)", s.expire),
            ));
        }
    }
    if !(0..=22).contains(&level) {
        return Err(("compression_level", format!("{level} is outside 0..=22")));
    }
    if level > 0 && mode == EncryptionMode::Legacy {
        return Err((
            "compression_level",
            "the legacy format has no room for compression; use 0 or encryption_mode = modern"
                .into(),
        ));
    }
    if !(64..=4096).contains(&s.max_cookie_size) {
        return Err((
            "max_cookie_size",
            format!("{} is outside 64..=4096", s.max_cookie_size),
        ));
    }
    if s.oversize == Oversize::Chunk && !(2..=64).contains(&s.max_chunks) {
        return Err(("max_chunks", format!("{} is outside 2..=64", s.max_chunks)));
    }
    if let Some(prefix) = &s.prefix {
        if !prefix.bytes().all(|b| b.is_ascii_graphic()) || prefix.len() > 128 {
            return Err((
                "prefix",
                "must be at most 128 visible ASCII characters".into(),
            ));
        }
    }
    let t = &s.filename_template;
    if t.matches("%s").count() != 1
        || t.replace("%s", "").contains('%')
        || t.contains(['/', '\\', '\0'])
        || t.starts_with('.')
    {
        return Err((
            "filename_template",
            format!(
                "`{}` needs exactly one `%s`, no other `%`, no path separator and no leading dot",
                t.escape_debug()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("myapp"));
        assert!(is_token("__Host-id"));
        for bad in ["", "a b", "a;b", "a=b", "é", "a\"b", "a,b"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }
}
