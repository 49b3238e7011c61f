//! The attributes of one field: `rename`, `default` and `skip`.

use proc_macro2::Span;
use session_settings::rules;

use super::value::{Key, Kind, Value, boolean, string, wrong_type};
use super::{Slot, Spanned};
use crate::ctxt::Ctxt;

/// Every field-level key.
pub const FIELD_KEYS: &[&str] = &["rename", "default", "skip"];

/// Where a field's value comes from when it is not stored.
#[derive(Clone, Debug)]
pub enum FieldDefault {
    /// `Default::default()` of the field type (also what an absent attribute means).
    Trait,
    /// `default = "path::to::fn"`.
    Function(syn::ExprPath),
}

/// The attributes of one field.
#[derive(Default)]
pub struct Field {
    /// `rename = "..."`: the stored name.
    pub rename: Option<Spanned<String>>,
    /// `default` or `default = "path"`.
    pub default: Option<Spanned<FieldDefault>>,
    /// `skip`: never stored.
    pub skip: Option<Spanned<()>>,
}

/// The slots being filled while a field's attributes are read.
struct FieldSlots {
    rename: Slot<String>,
    default: Slot<FieldDefault>,
    skip: Slot<()>,
}

impl Field {
    /// Reads every `#[session(...)]` on a field.
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Field {
        let mut slots = FieldSlots {
            rename: Slot::new("rename"),
            default: Slot::new("default"),
            skip: Slot::new("skip"),
        };
        super::read_keys(cx, attrs, |name, span, value| match name {
            "rename" => slots.rename.read(cx, span, || {
                let key = Key {
                    name,
                    span,
                    kind: Kind::Str("\"u\""),
                };
                rename(cx, &key, value)
            }),
            "default" => slots.default.read(cx, span, || {
                let key = Key {
                    name,
                    span,
                    kind: Kind::Str("\"path::to::function\""),
                };
                default(cx, &key, value)
            }),
            "skip" => slots.skip.read(cx, span, || {
                let key = Key {
                    name,
                    span,
                    kind: Kind::Bool,
                };
                // `skip = false` says nothing: the field is stored as usual.
                match boolean(cx, &key, value) {
                    Some((true, span)) => Some(((), span)),
                    _ => None,
                }
            }),
            _ => super::unknown_key(cx, name, span, FIELD_KEYS, super::STRUCT_KEYS, "the struct"),
        });
        Field {
            rename: slots.rename.finish().0,
            default: slots.default.finish().0,
            skip: slots.skip.finish().0,
        }
    }
}

/// `rename = "..."`, held to the specification's rule of stored names.
fn rename(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(String, Span)> {
    let s = string(cx, key, value)?;
    match rules::stored_name(&s.value()) {
        Ok(()) => Some((s.value(), s.span())),
        Err(why) => {
            cx.error_at(s.span(), why);
            None
        }
    }
}

/// `default` alone, or `default = "path::to::fn"`.
fn default(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(FieldDefault, Span)> {
    match value {
        Value::Flag => Some((FieldDefault::Trait, key.span)),
        Value::Str(s) => match s.parse::<syn::ExprPath>() {
            Ok(path) => Some((FieldDefault::Function(path), s.span())),
            Err(_) => {
                cx.error_at(
                    s.span(),
                    format!(
                        "`default` expects the path of a function, like `default = \"default_theme\"`; `{}` is not a path",
                        s.value().escape_debug()
                    ),
                );
                None
            }
        },
        other => {
            wrong_type(cx, key, &other);
            None
        }
    }
}
