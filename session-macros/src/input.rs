//! The derive input as the macro sees it: a struct with named fields and their attributes.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::{Data, DeriveInput, Fields, Ident, Type, Visibility};

use crate::attr;
use crate::ctxt::Ctxt;

/// A struct accepted by `#[derive(Session)]`.
pub struct Input<'a> {
    /// The struct's name.
    pub ident: &'a Ident,
    /// The struct's visibility, which `layer()` gets.
    pub vis: &'a Visibility,
    /// The struct's `#[session(...)]` attributes.
    pub attrs: attr::Container,
    /// Every named field, skipped ones included.
    pub fields: Vec<Field<'a>>,
}

/// One named field with its attributes.
pub struct Field<'a> {
    /// The field's name.
    pub ident: &'a Ident,
    /// The field's type.
    pub ty: &'a Type,
    /// The field's `#[session(...)]` attributes.
    pub attrs: attr::Field,
}

impl Field<'_> {
    /// The name the field is stored under: its `rename`, or its Rust name without `r#`.
    pub fn stored_name(&self) -> String {
        match &self.attrs.rename {
            Some(rename) => rename.value.clone(),
            None => self.ident.unraw().to_string(),
        }
    }

    /// Where to point an error about the stored name: the `rename` value, or the field.
    pub fn stored_name_span(&self) -> Span {
        match &self.attrs.rename {
            Some(rename) => rename.span,
            None => self.ident.span(),
        }
    }

    /// Whether the field is persisted at all.
    pub fn is_stored(&self) -> bool {
        self.attrs.skip.is_none()
    }
}

impl Input<'_> {
    /// The cookie name: the `cookie_name` attribute, or the struct name in `snake_case`.
    pub fn default_cookie_name(&self) -> String {
        match &self.attrs.cookie_name {
            Some(name) => name.value.clone(),
            None => snake_case(&self.ident.unraw().to_string()),
        }
    }
}

impl<'a> Input<'a> {
    /// Reads the input, recording every problem in `cx`. Attributes are read even when the
    /// shape is wrong, so that their mistakes show up in the same compile.
    pub fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Input<'a> {
        let attrs = attr::Container::from_attrs(cx, &input.attrs);
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "a session type cannot have generic parameters or lifetimes: sessions hold owned, 'static data",
            );
        }
        let named = named_fields(cx, input);
        let fields = named
            .into_iter()
            .flat_map(|named| named.named.iter())
            .filter_map(|field| {
                // Named fields always have an ident; `filter_map` keeps this total anyway.
                let ident = field.ident.as_ref()?;
                Some(Field {
                    ident,
                    ty: &field.ty,
                    attrs: attr::Field::from_attrs(cx, &field.attrs),
                })
            })
            .collect();
        Input {
            ident: &input.ident,
            vis: &input.vis,
            attrs,
            fields,
        }
    }
}

/// The named fields of a struct, or an error saying why the input has none.
fn named_fields<'a>(cx: &Ctxt, input: &'a DeriveInput) -> Option<&'a syn::FieldsNamed> {
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(named),
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(
                    unnamed,
                    "`#[derive(Session)]` needs named fields; a tuple struct has no names to store its fields under",
                );
                None
            }
            Fields::Unit => {
                cx.error_at(
                    input.ident.span(),
                    "`#[derive(Session)]` needs a struct with named fields; a unit struct has nothing to store",
                );
                None
            }
        },
        Data::Enum(data) => {
            cx.error_at(
                data.enum_token.span,
                "`#[derive(Session)]` only supports structs with named fields, not enums",
            );
            None
        }
        Data::Union(data) => {
            cx.error_at(
                data.union_token.span,
                "`#[derive(Session)]` only supports structs with named fields, not unions",
            );
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
