//! Code generation: the `SessionSchema` impl and the `layer()` constructor.
//!
//! [`derive`] parses and checks; on errors it hands over to [`crate::fallback`]. Otherwise each
//! part of the impl comes from its own small function, all sharing one [`Params`].

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned as _;

use crate::attr::FieldDefault;
use crate::check;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::input::{Field, Input};
use crate::private_path::private;

/// Parses, checks and expands one derive input.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = Input::from_ast(&cx, input);
    check::check(&cx, &model);
    match cx.into_compile_errors() {
        Some(errors) => fallback::expand(input, errors),
        None => expand(&model),
    }
}

/// What every part of the expansion needs.
struct Params<'a> {
    input: &'a Input<'a>,
    /// The runtime's private path.
    private: TokenStream,
    /// The stored fields (not skipped), in declaration order.
    stored: Vec<&'a Field<'a>>,
    /// Locals get mixed-site hygiene so a user function named `encoder` or `fields` (say, in
    /// `default = "fields"`) is still reachable from the generated code.
    encoder: Ident,
    fields: Ident,
}

impl<'a> Params<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        Params {
            input,
            private: private(),
            stored: input.fields.iter().filter(|f| f.is_stored()).collect(),
            encoder: Ident::new("encoder", Span::mixed_site()),
            fields: Ident::new("fields", Span::mixed_site()),
        }
    }
}

/// The full expansion for a valid input.
fn expand(input: &Input<'_>) -> TokenStream {
    let params = Params::new(input);
    let schema = schema_impl(&params);
    let layer = layer_constructor(&params);
    quote! {
        #schema
        #layer
    }
}

/// `impl SessionSchema`: the stored names, the attributes, and the field codecs.
fn schema_impl(p: &Params<'_>) -> TokenStream {
    let ident = p.input.ident;
    let private = &p.private;
    let names = p.stored.iter().map(|f| f.stored_name());
    let attributes = attributes(p);
    let encode = encode_fields(p);
    let decode = decode_fields(p);
    quote! {
        #[automatically_derived]
        impl #private::SessionSchema for #ident {
            const FIELDS: &'static [&'static str] = &[#(#names),*];

            fn attributes() -> #private::Attributes {
                #attributes
            }

            #encode

            #decode
        }
    }
}

/// `Type::layer()`, the entry point users call.
fn layer_constructor(p: &Params<'_>) -> TokenStream {
    let ident = p.input.ident;
    let vis = p.input.vis;
    let private = &p.private;
    let doc = format!(
        " Starts configuring the session layer for [`{ident}`], from the defaults its `#[session(...)]` attributes set."
    );
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis fn layer() -> #private::SessionLayerBuilder<Self> {
                #private::SessionLayerBuilder::new()
            }
        }
    }
}

/// The body of `attributes()`: the runtime's defaults, then each attribute that was given.
fn attributes(p: &Params<'_>) -> TokenStream {
    let private = &p.private;
    let a = Ident::new("attributes", Span::mixed_site());
    let type_name = p.input.ident.to_string();
    let cookie_name = p.input.default_cookie_name();
    let sets = p.input.attrs.assignments(&a, private);
    let binding = if sets.is_empty() {
        quote!(let #a)
    } else {
        quote!(let mut #a)
    };
    quote! {
        #binding = #private::Attributes::new(#type_name, #cookie_name);
        #(#sets)*
        #a
    }
}

/// `encode_fields`: each stored field under its stored name.
fn encode_fields(p: &Params<'_>) -> TokenStream {
    let private = &p.private;
    let encoder = &p.encoder;
    let assert_serialize = type_assertions(
        p,
        "assert_serialize",
        quote!(?::core::marker::Sized + #private::serde::Serialize),
    );
    // Each call is spanned on the field type, like the assertions before it, so a type that
    // cannot be stored gets one error there: rustc reports an unmet bound once per span.
    let encode = p.stored.iter().map(|field| {
        let ty = field.ty;
        let name = field.stored_name();
        // The argument too: rustc reports an unmet bound of a call on its argument.
        let mut member = field.ident.clone();
        member.set_span(ty.span());
        quote_spanned!(ty.span()=> #encoder.field(#name, &self.#member)?;)
    });
    quote! {
        fn encode_fields(
            &self,
            #encoder: &mut #private::FieldEncoder,
        ) -> ::core::result::Result<(), #private::FieldError> {
            #assert_serialize
            #(#encode)*
            ::core::result::Result::Ok(())
        }
    }
}

/// `decode_fields`: each field from its stored value, or its default.
fn decode_fields(p: &Params<'_>) -> TokenStream {
    let private = &p.private;
    let fields = &p.fields;
    let assert_deserialize = type_assertions(
        p,
        "assert_deserialize",
        quote!(#private::serde::de::DeserializeOwned),
    );
    let decode = p.input.fields.iter().map(|field| decode_field(p, field));
    quote! {
        fn decode_fields(
            #fields: &#private::StoredFields<'_>,
        ) -> ::core::result::Result<Self, #private::FieldError> {
            #assert_deserialize
            ::core::result::Result::Ok(Self {
                #(#decode,)*
            })
        }
    }
}

/// `member: value` of one field in `decode_fields`.
fn decode_field(p: &Params<'_>, field: &Field<'_>) -> TokenStream {
    let member = field.ident;
    let default = default_value(field);
    if !field.is_stored() {
        return quote!(#member: #default);
    }
    let fields = &p.fields;
    let value = Ident::new("value", Span::mixed_site());
    let name = field.stored_name();
    let decoded = quote_spanned!(field.ty.span()=> #fields.decode(#name)?);
    quote! {
        #member: match #decoded {
            ::core::option::Option::Some(#value) => #value,
            ::core::option::Option::None => #default,
        }
    }
}

/// The value a field takes when it is not stored (or skipped).
///
/// Spanned on the field type (or on the `default` function path) so that a missing
/// `Default` impl or a function of the wrong type is reported there.
fn default_value(field: &Field<'_>) -> TokenStream {
    match field.attrs.default.as_ref().map(|d| (&d.value, d.span)) {
        Some((FieldDefault::Function(path), span)) => quote_spanned!(span=> #path()),
        Some((FieldDefault::Trait, _)) | None => {
            let ty = field.ty;
            quote_spanned!(ty.span()=> <#ty as ::core::default::Default>::default())
        }
    }
}

/// A compile-time check that each stored field type meets `bound` (`Serialize` in
/// `encode_fields`, `DeserializeOwned` in `decode_fields`), reported on the type.
///
/// It sits in the same body as the calls that need the bound, at the same span, so a missing
/// impl is reported once, on the field type.
fn type_assertions(p: &Params<'_>, name: &str, bound: TokenStream) -> TokenStream {
    if p.stored.is_empty() {
        return TokenStream::new();
    }
    let assert = Ident::new(name, Span::call_site());
    let calls = p.stored.iter().map(|field| {
        let ty = field.ty;
        quote_spanned!(ty.span()=> #assert::<#ty>();)
    });
    quote! {
        fn #assert<T: #bound>() {}
        #(#calls)*
    }
}
