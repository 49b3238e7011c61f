//! Rules that relate several attributes, checked once every attribute is parsed.
//!
//! A rule only fires on values that were accepted: if one of its inputs was rejected, the
//! user already has an error for it, and a second one would be noise.

use std::collections::HashMap;

use crate::attr::{Container, EncryptionMode, SameSite, Store};
use crate::ctxt::Ctxt;
use crate::input::{Field, Input};

/// The idle timeout the runtime uses when `expire` is not given.
pub const DEFAULT_EXPIRE: u64 = 3600;

/// Runs every cross-attribute rule on an input.
pub fn check(cx: &Ctxt, input: &Input<'_>) {
    check_secure_requirements(cx, &input.attrs);
    check_cookie_prefixes(cx, &input.attrs);
    check_compression(cx, &input.attrs);
    check_dictionary(cx, &input.attrs);
    check_store_options(cx, &input.attrs);
    check_lifetimes(cx, &input.attrs);
    check_fields(cx, &input.fields);
    check_default_cookie_name(cx, input);
}

/// Whether the cookie is `Secure`, or `None` when `secure` was given but rejected (unknown).
fn is_secure(attrs: &Container) -> Option<bool> {
    if attrs.was_rejected("secure") {
        return None;
    }
    Some(attrs.secure.as_ref().is_some_and(|s| s.value))
}

/// Browsers drop `SameSite=None` cookies that are not `Secure`.
fn check_secure_requirements(cx: &Ctxt, attrs: &Container) {
    if let Some(same_site) = &attrs.same_site {
        if same_site.value == SameSite::None && is_secure(attrs) == Some(false) {
            cx.error_at(
                same_site.span,
                "`same_site = \"none\"` requires `secure`: browsers reject SameSite=None cookies that are not Secure",
            );
        }
    }
}

/// The `__Host-` and `__Secure-` cookie name prefixes carry rules browsers enforce by
/// silently dropping the cookie; catching them here turns a baffling bug into an error.
fn check_cookie_prefixes(cx: &Ctxt, attrs: &Container) {
    let Some(name) = &attrs.cookie_name else {
        return;
    };
    // Browsers match these prefixes without regard to case.
    let starts_with = |prefix: &str| {
        name.value
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts_with("__Host-") {
        if is_secure(attrs) == Some(false) {
            cx.error_at(
                name.span,
                "a cookie name starting with `__Host-` requires `secure`: browsers reject such cookies without the Secure attribute",
            );
        }
        if let Some(domain) = &attrs.domain {
            cx.error_at(
                domain.key,
                "a cookie name starting with `__Host-` cannot have a `domain`: browsers only accept such cookies host-only",
            );
        }
        if let Some(path) = attrs.path.as_ref().filter(|p| p.value != "/") {
            cx.error_at(
                path.span,
                "a cookie name starting with `__Host-` requires `path = \"/\"`: browsers reject such cookies with another path",
            );
        }
    } else if starts_with("__Secure-") && is_secure(attrs) == Some(false) {
        cx.error_at(
            name.span,
            "a cookie name starting with `__Secure-` requires `secure`: browsers reject such cookies without the Secure attribute",
        );
    }
}

/// The legacy format is the `cookie` crate's private cookie: it has no header byte where a
/// compression flag could go.
fn check_compression(cx: &Ctxt, attrs: &Container) {
    let (Some(level), Some(mode)) = (&attrs.compression_level, &attrs.encryption_mode) else {
        return;
    };
    if level.value > 0 && mode.value == EncryptionMode::Legacy {
        cx.error_at(
            level.span,
            "`compression_level` cannot be used with `encryption_mode = \"legacy\"`: the legacy format has no room to mark compressed values; use level 0 or the modern mode",
        );
    }
}

/// A dictionary is only used to compress cookie values: it needs a compression level, a mode
/// with a flags byte, and the cookie store. One error per mistake: legacy first (the level
/// rule already speaks when a level is given), then a server-side store, then the level.
fn check_dictionary(cx: &Ctxt, attrs: &Container) {
    let Some(dictionary) = &attrs.compression_dictionary else {
        return;
    };
    let level = attrs.compression_level.as_ref().map_or(0, |l| l.value);
    let legacy = attrs
        .encryption_mode
        .as_ref()
        .is_some_and(|m| m.value == EncryptionMode::Legacy);
    if legacy {
        if level == 0 {
            cx.error_at(
                dictionary.key,
                "`compression_dictionary` cannot be used with `encryption_mode = \"legacy\"`: the legacy format has no room to mark compressed values; use the modern mode",
            );
        }
        return;
    }
    if let Some(store) = attrs.store.as_ref().filter(|s| s.value.is_server_side()) {
        cx.error_at(
            dictionary.key,
            format!(
                "`compression_dictionary` only applies to `store = \"cookie\"`: with {} the values are not compressed",
                store.value.describe()
            ),
        );
        return;
    }
    if level == 0 && !attrs.was_rejected("compression_level") {
        cx.error_at(
            dictionary.key,
            "`compression_dictionary` needs compression: set `compression_level` to a zstd level from 1 to 22, e.g. `compression_level = 3`",
        );
    }
}

/// Options that only one kind of store reads. Only checked when `store` is written: without
/// it the store may still be chosen at run time.
fn check_store_options(cx: &Ctxt, attrs: &Container) {
    let Some(store) = &attrs.store else {
        return;
    };
    let store_name = store.value.describe();
    if let Some(template) = &attrs.filename_template {
        if !matches!(store.value, Store::Files) {
            cx.error_at(
                template.key,
                format!(
                    "`filename_template` only applies to `store = \"files\"`, not to {store_name}"
                ),
            );
        }
    }
    if let Some(prefix) = &attrs.prefix {
        if matches!(store.value, Store::Cookie) {
            cx.error_at(
                prefix.key,
                "`prefix` only applies to server-side stores: `store = \"cookie\"` keeps no keys",
            );
        }
    }
    if store.value.is_server_side() {
        let cookie_only = [
            attrs
                .max_cookie_size
                .as_ref()
                .map(|s| ("max_cookie_size", s.key)),
            attrs.oversize.as_ref().map(|s| ("oversize", s.key)),
        ];
        for (key, span) in cookie_only.into_iter().flatten() {
            cx.error_at(
                span,
                format!("`{key}` only applies to `store = \"cookie\"`: with {store_name} the cookie holds only the session id"),
            );
        }
    }
}

/// The absolute lifetime caps the idle timeout, so it cannot be the shorter one.
fn check_lifetimes(cx: &Ctxt, attrs: &Container) {
    let Some(max_lifetime) = &attrs.max_lifetime else {
        return;
    };
    if attrs.was_rejected("expire") {
        return;
    }
    let (expire, whence) = match &attrs.expire {
        Some(expire) => (expire.value, ""),
        None => (DEFAULT_EXPIRE, ", the default"),
    };
    if max_lifetime.value < expire {
        cx.error_at(
            max_lifetime.span,
            format!(
                "`max_lifetime` ({} s) is shorter than `expire` ({expire} s{whence}); it must be at least as long",
                max_lifetime.value
            ),
        );
    }
}

/// Per-field rules, and stored names that collide after renaming.
fn check_fields(cx: &Ctxt, fields: &[Field<'_>]) {
    let mut seen: HashMap<String, &Field<'_>> = HashMap::new();
    for field in fields {
        if let (Some(rename), Some(_)) = (&field.attrs.rename, &field.attrs.skip) {
            cx.error_at(
                rename.key,
                "`rename` has no effect on a skipped field: it is never stored",
            );
            continue;
        }
        if !field.is_stored() {
            continue;
        }
        let name = field.stored_name();
        match seen.get(&name) {
            Some(first) => {
                // Point at a `rename`, the likelier culprit: this field's, else the first's.
                let at = if field.attrs.rename.is_some() || first.attrs.rename.is_none() {
                    field.stored_name_span()
                } else {
                    first.stored_name_span()
                };
                cx.error_at(
                    at,
                    format!(
                        "stored field name `{}` is used twice, by fields `{}` and `{}`",
                        name.escape_debug(),
                        first.ident,
                        field.ident
                    ),
                );
            }
            None => {
                seen.insert(name, field);
            }
        }
    }
}

/// The cookie name derived from the struct name must be a valid token too (a non-ASCII
/// struct name is not).
pub fn check_default_cookie_name(cx: &Ctxt, input: &Input<'_>) {
    if input.attrs.cookie_name.is_some() || input.attrs.was_rejected("cookie_name") {
        return;
    }
    let name = input.default_cookie_name();
    if crate::validate::cookie_name(&name).is_err() {
        cx.error_at(
            input.ident.span(),
            format!(
                "the default cookie name `{name}`, made from the struct name, is not a valid cookie name; set one with `#[session(cookie_name = \"...\")]`"
            ),
        );
    }
}
