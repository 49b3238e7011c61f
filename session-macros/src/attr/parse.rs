//! The parsers the attribute table names: each reads one value of its type, applies the
//! specification's rule of one value, and reports on the value's span.

use proc_macro2::Span;
use session_settings::{Problem, Setting, StoreKind, StoreValue, rules};
use syn::LitStr;

use super::value::{Key, Value, boolean, string, wrong_type};
use crate::ctxt::Ctxt;
use crate::spelling::{Spelling, quoted_list};
use crate::suggest;

/// Where the session data lives, as written in `store = "..."`.
#[derive(Clone, Debug)]
pub enum Store {
    /// A store built into the runtime.
    Builtin(StoreKind),
    /// A user type implementing `SessionStore + Default`.
    Custom(syn::Path),
}

impl Store {
    /// The store as the settings rules see it.
    pub fn rule_value(&self) -> StoreValue {
        match self {
            Store::Builtin(kind) => StoreValue::Builtin(*kind),
            Store::Custom(_) => StoreValue::Custom,
        }
    }
}

/// The path of a zstd dictionary file, relative to the deriving crate's directory.
#[derive(Clone, Debug)]
pub struct DictionaryFile(pub String);

/// A string held to a rule of the specification.
pub fn text(
    cx: &Ctxt,
    key: &Key<'_>,
    value: Value,
    rule: fn(&str) -> Result<(), Problem>,
) -> Option<(String, Span)> {
    let s = string(cx, key, value)?;
    match rule(&s.value()) {
        Ok(()) => Some((s.value(), s.span())),
        Err(problem) => {
            cx.error_at(s.span(), problem.message);
            None
        }
    }
}

/// An integer held to its setting's range, then narrowed to the setting's type.
pub fn integer<T: TryFrom<i128>>(
    cx: &Ctxt,
    key: &Key<'_>,
    value: Value,
    setting: Setting,
) -> Option<(T, Span)> {
    let (n, span) = match value {
        Value::Int(n, span) => (n, span),
        other => {
            wrong_type(cx, key, &other);
            return None;
        }
    };
    let Some(n) = n else {
        cx.error_at(span, format!("`{}` is far too large a number", key.name));
        return None;
    };
    if let Some(Err(problem)) = rules::integer(setting, n) {
        cx.error_at(span, problem.message);
        return None;
    }
    // Within the setting's range, so within its type.
    T::try_from(n).ok().map(|n| (n, span))
}

/// `true`, `false`, or the key alone.
pub fn flag(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(bool, Span)> {
    boolean(cx, key, value)
}

/// One of a closed set of names (`same_site = "lax"`), suggesting the closest on a typo.
pub fn named<E: Spelling>(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(E, Span)> {
    let s = string(cx, key, value)?;
    if let Some(v) = E::from_name(&s.value()) {
        return Some((v, s.span()));
    }
    cx.error_at(
        s.span(),
        format!(
            "unknown {} `{}`{} (expected {})",
            E::WHAT,
            s.value().escape_debug(),
            suggest::hint(&s.value(), E::NAMES),
            quoted_list(E::NAMES)
        ),
    );
    None
}

/// `store = "..."`: a built-in name, or a path with `::` to a custom store type.
pub fn store(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(Store, Span)> {
    let s = string(cx, key, value)?;
    let text = s.value();
    if let Some(kind) = StoreKind::from_name(&text) {
        return Some((Store::Builtin(kind), s.span()));
    }
    if text.contains("::") {
        return custom_store(cx, &s).map(|path| (Store::Custom(path), s.span()));
    }
    cx.error_at(
        s.span(),
        format!(
            "unknown store `{}`{} (expected {}, or the path of a custom store type, such as `crate::MyStore`)",
            text.escape_debug(),
            suggest::hint(&text, StoreKind::NAMES),
            quoted_list(StoreKind::NAMES)
        ),
    );
    None
}

/// The path of a custom store type. Parsing through the literal gives the path's tokens the
/// literal's span, so a type that does not exist or lacks the trait is reported on the string.
fn custom_store(cx: &Ctxt, s: &LitStr) -> Option<syn::Path> {
    match s.parse::<syn::Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_at(
                s.span(),
                format!(
                    "`{}` is not a Rust path; a custom store is named by its type's path, like `crate::MyStore`",
                    s.value().escape_debug()
                ),
            );
            None
        }
    }
}

/// `compression_dictionary = "..."`: a non-empty path (whether the file exists is checked by
/// the compiler when it includes it).
pub fn dictionary(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(DictionaryFile, Span)> {
    let s = string(cx, key, value)?;
    if s.value().is_empty() {
        cx.error_at(
            s.span(),
            "`compression_dictionary` is empty: it takes the path of a zstd dictionary file, relative to the crate's directory (where its Cargo.toml is), e.g. `compression_dictionary = \"session.dict\"`",
        );
        return None;
    }
    Some((DictionaryFile(s.value()), s.span()))
}
