//! Rules checked once every attribute is parsed.
//!
//! The rules that relate several settings are the specification's
//! (`session_settings::check`): this module hands it the parsed values and turns each
//! problem into an error on the attribute it names. Rules about fields, which the runtime
//! never sees, are written here. A rule only fires on values that were accepted: if one of
//! its inputs was rejected, the user already has an error for it, and a second one would be
//! noise.

use std::collections::HashMap;

use proc_macro2::Span;
use session_settings::{Problem, Setting, Values, rules};

use crate::attr::Container;
use crate::ctxt::Ctxt;
use crate::input::{Field, Input};

/// Runs every rule that is not about a single value on an input.
pub fn check(cx: &Ctxt, input: &Input<'_>) {
    for problem in settings_problems(&input.attrs) {
        report(cx, &input.attrs, &problem);
    }
    check_fields(cx, &input.fields);
    check_default_cookie_name(cx, input);
}

/// The specification's verdict on the struct's attributes.
pub fn settings_problems(attrs: &Container) -> Vec<Problem> {
    session_settings::check(&values(attrs))
}

/// The attributes as the specification's rules see them: an absent setting has its default,
/// a rejected one is unknown (`None`), and `written` holds the settings given with an
/// accepted value. The cookie name derived from the struct name is checked on its own
/// ([`check_default_cookie_name`]), with a message that says where it came from.
fn values(attrs: &Container) -> Values<'_> {
    let d = Values::defaults();
    macro_rules! value {
        ($field:ident, $setting:ident) => {
            given_or_default(
                attrs,
                Setting::$setting,
                attrs.$field.as_ref().map(|v| v.value.clone()),
                d.$field,
            )
        };
        ($field:ident, $setting:ident, text) => {
            given_or_default(
                attrs,
                Setting::$setting,
                attrs.$field.as_ref().map(|v| v.value.as_str()),
                d.$field,
            )
        };
    }
    Values {
        cookie_name: value!(cookie_name, CookieName, text),
        expire: value!(expire, Expire),
        expire_is_default: attrs.expire.is_none() && !attrs.was_rejected(Setting::Expire),
        max_lifetime: value!(max_lifetime, MaxLifetime),
        max_lifetime_is_default: attrs.max_lifetime.is_none()
            && !attrs.was_rejected(Setting::MaxLifetime),
        // Without `store` the store is chosen at run time: unknown here.
        store: attrs.store.as_ref().map(|s| s.value.rule_value()),
        encryption_mode: value!(encryption_mode, EncryptionMode),
        compression_level: value!(compression_level, CompressionLevel),
        compression_dictionary: attrs.compression_dictionary.is_some(),
        secure: value!(secure, Secure),
        same_site: value!(same_site, SameSite),
        domain: value!(domain, Domain, text),
        path: value!(path, Path, text),
        prefix: value!(prefix, Prefix, text),
        filename_template: value!(filename_template, FilenameTemplate, text),
        max_cookie_size: value!(max_cookie_size, MaxCookieSize),
        oversize: value!(oversize, Oversize),
        max_chunks: d.max_chunks,
        written: attrs.written(),
    }
}

/// The value given, else unknown if it was rejected, else the default.
fn given_or_default<T>(
    attrs: &Container,
    setting: Setting,
    given: Option<T>,
    default: Option<T>,
) -> Option<T> {
    match given {
        Some(value) => Some(value),
        None if attrs.was_rejected(setting) => None,
        None => default,
    }
}

/// A problem as a compile error, on the key of its setting when the setting is wrong to have
/// at all, else on its value.
fn report(cx: &Ctxt, attrs: &Container, problem: &Problem) {
    let span = attrs
        .span_of(problem.setting, problem.rule.points_at_key())
        .unwrap_or_else(Span::call_site);
    cx.error_at(span, &problem.message);
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
            Some(first) => duplicate_stored_name(cx, &name, first, field),
            None => {
                seen.insert(name, field);
            }
        }
    }
}

/// Two fields stored under one name: the error points at a `rename`, the likelier culprit
/// (this field's, else the first's).
fn duplicate_stored_name(cx: &Ctxt, name: &str, first: &Field<'_>, field: &Field<'_>) {
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

/// The cookie name derived from the struct name must be a valid token too (a non-ASCII
/// struct name is not).
fn check_default_cookie_name(cx: &Ctxt, input: &Input<'_>) {
    if input.attrs.cookie_name.is_some() || input.attrs.was_rejected(Setting::CookieName) {
        return;
    }
    let name = input.default_cookie_name();
    if rules::cookie_name(&name).is_err() {
        cx.error_at(
            input.ident.span(),
            format!(
                "the default cookie name `{name}`, made from the struct name, is not a valid cookie name; set one with `#[session(cookie_name = \"...\")]`"
            ),
        );
    }
}
