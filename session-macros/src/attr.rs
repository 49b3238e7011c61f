//! Parsing of `#[session(...)]` attributes into typed values that remember their spans.
//!
//! This module checks what one attribute can check on its own: the key is known, given once,
//! and its value has the right type and keeps the specification's rule of one value
//! (`session_settings::rules`). Rules that relate several attributes are applied in
//! [`crate::check`]. The struct's attributes are declared in one table ([`container`]).

mod container;
mod field;
mod parse;
mod value;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;

pub use container::{Container, STRUCT_KEYS};
pub use field::{FIELD_KEYS, Field, FieldDefault};
pub use parse::{DictionaryFile, Store};

use crate::ctxt::Ctxt;
use crate::suggest;
use value::Value;

/// The name of our attribute: `#[session(...)]`.
const SESSION: &str = "session";

/// A value from an attribute with the spans errors point at.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The parsed value.
    pub value: T,
    /// The key, as in `expire` of `expire = 10`.
    pub key: Span,
    /// The value, as in `10` of `expire = 10` (the key itself for a bare flag).
    pub span: Span,
}

/// One attribute key: whether it was given, and its value if that value was valid.
///
/// Remembering that a key was seen even when its value was rejected still catches a second
/// occurrence, and leaving the value out keeps cross-attribute rules from piling a second
/// error on the same mistake.
struct Slot<T> {
    name: &'static str,
    seen: bool,
    value: Option<Spanned<T>>,
}

impl<T> Slot<T> {
    fn new(name: &'static str) -> Self {
        Slot {
            name,
            seen: false,
            value: None,
        }
    }

    /// Reads the key's value with `parse` the first time the key is given; a second time is
    /// an error and its value is not read.
    fn read(&mut self, cx: &Ctxt, key: Span, parse: impl FnOnce() -> Option<(T, Span)>) {
        if self.seen {
            cx.error_at(key, format!("duplicate session attribute `{}`", self.name));
            return;
        }
        self.seen = true;
        if let Some((value, span)) = parse() {
            self.value = Some(Spanned { value, key, span });
        }
    }

    /// The accepted value, and whether the key was given but its value rejected.
    fn finish(self) -> (Option<Spanned<T>>, bool) {
        let rejected = self.seen && self.value.is_none();
        (self.value, rejected)
    }
}

/// Calls `accept` with every `key = value` of every `#[session(...)]` in `attrs`, recording
/// syntax errors; other attributes are left alone.
fn read_keys(cx: &Ctxt, attrs: &[syn::Attribute], mut accept: impl FnMut(&str, Span, Value)) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(SESSION)) {
        let parsed = attr.parse_nested_meta(|meta| {
            let name = key_name(&meta);
            let span = meta.path.span();
            let value = Value::parse(&meta)?;
            accept(&name, span, value);
            Ok(())
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
}

/// The key of a `key = value` pair as text (a multi-segment path is shown whole).
fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    match meta.path.get_ident() {
        Some(ident) => ident.to_string(),
        None => {
            let segments: Vec<String> = meta
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segments.join("::")
        }
    }
}

/// Reports a key that is not one of `known`, with a hint when it belongs on the other level.
fn unknown_key(
    cx: &Ctxt,
    key: &str,
    key_span: Span,
    known: &[&str],
    other_level: &[&str],
    other_place: &str,
) {
    let message = if other_level.contains(&key) {
        format!("`{key}` is not allowed here: it goes on {other_place}")
    } else {
        format!(
            "unknown session attribute `{key}`{}",
            suggest::hint(key, known)
        )
    };
    cx.error_at(key_span, message);
}
