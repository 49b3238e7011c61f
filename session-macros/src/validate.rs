//! Checks of single string values, kept free of spans and tokens so they are unit-tested
//! directly. Each returns the sentence the user will read.

/// The separators RFC 6265 (through RFC 2616's `token`) forbids in a cookie name.
const SEPARATORS: &str = "()<>@,;:\\\"/[]?={} \t";

/// A cookie name must be an RFC 6265 token: visible ASCII, no separators.
pub fn cookie_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the cookie name is empty; give it at least one character".to_owned());
    }
    match name
        .chars()
        .find(|c| !c.is_ascii_graphic() || SEPARATORS.contains(*c))
    {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid cookie name `{}`: {} is not allowed; a cookie name takes visible ASCII characters except separators `()<>@,;:\\\"/[]?={{}}`",
            name.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// The cookie's `Path`: absolute, and without what would end or corrupt the attribute.
pub fn cookie_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "invalid cookie path `{}`: it must start with `/`",
            path.escape_debug()
        ));
    }
    match path.chars().find(|c| *c == ';' || c.is_control()) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid cookie path `{}`: {} is not allowed",
            path.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// The cookie's `Domain`: a host name, without what would end or corrupt the attribute.
pub fn domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err(
            "the cookie domain is empty; leave `domain` out for a host-only cookie".to_owned(),
        );
    }
    match domain
        .chars()
        .find(|c| *c == ';' || c.is_whitespace() || c.is_control())
    {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid cookie domain `{}`: {} is not allowed",
            domain.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// A key prefix for server-side stores: anything printable without spaces.
pub fn prefix(prefix: &str) -> Result<(), String> {
    match prefix.chars().find(|c| c.is_whitespace() || c.is_control()) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid store key prefix `{}`: {} is not allowed",
            prefix.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// A file name template: exactly one `%s` (where the hashed id goes), and nothing that could
/// leave the sessions directory or be read as another placeholder.
pub fn filename_template(template: &str) -> Result<(), String> {
    let shown = template.escape_debug();
    if let Some(bad) = template.chars().find(|c| matches!(c, '/' | '\\' | '\0')) {
        return Err(format!(
            "invalid filename template `{shown}`: {} is not allowed; the template names a file inside the sessions directory",
            describe_char(bad)
        ));
    }
    let placeholders = template.matches("%s").count();
    // Every `%` must belong to the single `%s`.
    let percents = template.matches('%').count();
    if placeholders != 1 {
        return Err(format!(
            "invalid filename template `{shown}`: it must contain `%s` exactly once, where the session id goes (found {placeholders})"
        ));
    }
    if percents != 1 {
        return Err(format!(
            "invalid filename template `{shown}`: `%` may only appear as the one `%s`"
        ));
    }
    Ok(())
}

/// A stored field name (after `rename`).
pub fn stored_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`rename` cannot be empty".to_owned());
    }
    if name.starts_with('$') {
        return Err(format!(
            "invalid stored name `{}`: names starting with `$` are reserved for the session's own data",
            name.escape_debug()
        ));
    }
    match name.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid stored name `{}`: {} is not allowed",
            name.escape_debug(),
            describe_char(bad)
        )),
    }
}

/// `MyAppSession` -> `my_app_session`, `HTTPState` -> `http_state`: the default cookie name.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // A word starts at a capital after a lowercase letter or digit ("appSession"), or
            // at the last capital of an acronym followed by lowercase ("HTTPState").
            let starts_word = prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower);
            if starts_word && prev != '_' {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A character as a message shows it: quoted, or named when invisible.
fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\0' => "a NUL character".to_owned(),
        c if c.is_control() || c.is_whitespace() => {
            format!("the control character U+{:04X}", u32::from(c))
        }
        c if !c.is_ascii() => format!("the non-ASCII character `{c}`"),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_name_tokens() {
        for ok in ["myapp", "my_app", "__Host-id", "a.b-c!#$%&'*+^`|~", "X"] {
            assert_eq!(cookie_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "my app", "a;b", "a=b", "a,b", "a\"b", "a/b", "a\tb", "café", "a\u{7f}", "(x)",
            "a{b}", "a@b", "a:b", "a?b", "a[b]", "a\\b",
        ] {
            assert!(cookie_name(bad).is_err(), "{bad:?}");
        }
        let message = cookie_name("my app").unwrap_err();
        assert!(message.contains("a space"), "{message}");
    }

    #[test]
    fn filename_templates() {
        for ok in ["sess_%s", "%s", "%s.json", "a-%s-b"] {
            assert_eq!(filename_template(ok), Ok(()), "{ok}");
        }
        for bad in [
            "sess", "%s%s", "a/%s", "a\\%s", "%s\0", "%d_%s", "100%_%s", "%", "%s%", "",
        ] {
            assert!(filename_template(bad).is_err(), "{bad:?}");
        }
        assert!(
            filename_template("sess")
                .unwrap_err()
                .contains("exactly once")
        );
        assert!(
            filename_template("%d_%s")
                .unwrap_err()
                .contains("only appear")
        );
    }

    #[test]
    fn paths_prefixes_domains() {
        assert_eq!(cookie_path("/"), Ok(()));
        assert_eq!(cookie_path("/app/x"), Ok(()));
        assert!(cookie_path("app").is_err());
        assert!(cookie_path("/a;b").is_err());
        assert!(cookie_path("/a\nb").is_err());
        assert_eq!(prefix(""), Ok(()));
        assert_eq!(prefix("app:sess:"), Ok(()));
        assert!(prefix("a b").is_err());
        assert!(prefix("a\u{1}").is_err());
        assert_eq!(domain("example.com"), Ok(()));
        assert!(domain("").is_err());
        assert!(domain("a;b").is_err());
    }

    #[test]
    fn stored_names() {
        assert_eq!(stored_name("u"), Ok(()));
        assert_eq!(stored_name("a b"), Ok(()));
        assert!(stored_name("").is_err());
        assert!(stored_name("$id").is_err());
        assert!(stored_name("a\nb").is_err());
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("Visit"), "visit");
        assert_eq!(snake_case("MyAppSession"), "my_app_session");
        assert_eq!(snake_case("HTTPState"), "http_state");
        assert_eq!(snake_case("Visit2"), "visit2");
        assert_eq!(snake_case("V2Session"), "v2_session");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Cart_Items"), "cart_items");
        assert_eq!(snake_case("A"), "a");
        assert_eq!(snake_case("ID"), "id");
    }
}
