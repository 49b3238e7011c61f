//! Code generation: the `SessionSchema` impl, the `layer()` constructor, and the fallback
//! emitted beside errors.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned as _;

use crate::attr::{FieldDefault, Store};
use crate::check;
use crate::ctxt::Ctxt;
use crate::input::{Field, Input};

/// Parses, checks and expands one derive input.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let model = Input::from_ast(&cx, input);
    check::check(&cx, &model);
    match cx.into_compile_errors() {
        Some(errors) => fallback(input, errors),
        None => expand(&model),
    }
}

/// The errors, plus impls with the right signatures and no content.
///
/// Without them, every use of the type as a session elsewhere in the crate (`Visit::layer()`,
/// a `Session<Visit>` extractor) would add its own error to the real one. The bodies never
/// run: the crate does not compile.
fn fallback(input: &DeriveInput, errors: TokenStream) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    let private = private();
    quote! {
        #errors

        #[automatically_derived]
        impl #impl_generics #private::SessionSchema for #ident #ty_generics
        where
            // The binder keeps the bound from being a "trivial bound" that is checked (and
            // reported) on its own when it fails; the shape error is the one to see.
            for<'__session_fallback> #ident #ty_generics: ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
        {
            const FIELDS: &'static [&'static str] = &[];
            fn attributes() -> #private::Attributes {
                ::core::unreachable!()
            }
            fn encode_fields(
                &self,
                _: &mut #private::FieldEncoder,
            ) -> ::core::result::Result<(), #private::FieldError> {
                ::core::unreachable!()
            }
            fn decode_fields(
                _: &#private::StoredFields<'_>,
            ) -> ::core::result::Result<Self, #private::FieldError> {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl #impl_generics #ident #ty_generics
        where
            for<'__session_fallback> #ident #ty_generics: ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
        {
            #[allow(dead_code)]
            #vis fn layer() -> #private::SessionLayerBuilder<Self> {
                ::core::unreachable!()
            }
        }
    }
}

/// `::session_runtime::__private`, the only path generated code names.
fn private() -> TokenStream {
    quote!(::session_runtime::__private)
}

/// The full expansion for a valid input.
fn expand(input: &Input<'_>) -> TokenStream {
    let ident = input.ident;
    let vis = input.vis;
    let private = private();
    let stored: Vec<&Field<'_>> = input.fields.iter().filter(|f| f.is_stored()).collect();
    let names: Vec<String> = stored.iter().map(|f| f.stored_name()).collect();

    // Locals get mixed-site hygiene so a user function named `encoder` or `fields` (say, in
    // `default = "fields"`) is still reachable from the generated code.
    let encoder = Ident::new("encoder", Span::mixed_site());
    let fields = Ident::new("fields", Span::mixed_site());
    let value = Ident::new("value", Span::mixed_site());

    let attributes = attributes(input);
    let (assert_serialize, assert_deserialize) = stored_type_assertions(&stored);

    // Each call is spanned on the field type, like the assertions before it, so a type that
    // cannot be stored gets one error there: rustc reports an unmet bound once per span.
    let encode = stored.iter().zip(&names).map(|(field, name)| {
        let ty = field.ty;
        // The argument too: rustc reports an unmet bound of a call on its argument.
        let mut member = field.ident.clone();
        member.set_span(ty.span());
        quote_spanned!(ty.span()=> #encoder.field(#name, &self.#member)?;)
    });

    let decode = input.fields.iter().map(|field| {
        let member = field.ident;
        let default = default_value(field);
        if field.is_stored() {
            let name = field.stored_name();
            let decoded = quote_spanned!(field.ty.span()=> #fields.decode(#name)?);
            quote! {
                #member: match #decoded {
                    ::core::option::Option::Some(#value) => #value,
                    ::core::option::Option::None => #default,
                }
            }
        } else {
            quote!(#member: #default)
        }
    });

    let layer_doc = format!(
        " Starts configuring the session layer for [`{ident}`], from the defaults its `#[session(...)]` attributes set."
    );

    quote! {

        #[automatically_derived]
        impl #private::SessionSchema for #ident {
            const FIELDS: &'static [&'static str] = &[#(#names),*];

            fn attributes() -> #private::Attributes {
                #attributes
            }

            fn encode_fields(
                &self,
                #encoder: &mut #private::FieldEncoder,
            ) -> ::core::result::Result<(), #private::FieldError> {
                #assert_serialize
                #(#encode)*
                ::core::result::Result::Ok(())
            }

            fn decode_fields(
                #fields: &#private::StoredFields<'_>,
            ) -> ::core::result::Result<Self, #private::FieldError> {
                #assert_deserialize
                ::core::result::Result::Ok(Self {
                    #(#decode,)*
                })
            }
        }

        #[automatically_derived]
        impl #ident {
            #[doc = #layer_doc]
            #[allow(dead_code)]
            #vis fn layer() -> #private::SessionLayerBuilder<Self> {
                #private::SessionLayerBuilder::new()
            }
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

/// Compile-time checks that each stored field type can be stored, reported on the type:
/// `Serialize` (placed in `encode_fields`) and `DeserializeOwned` (in `decode_fields`).
///
/// They sit in the same bodies as the calls that need the bounds, at the same span, so a
/// missing impl is reported once, on the field type.
fn stored_type_assertions(stored: &[&Field<'_>]) -> (TokenStream, TokenStream) {
    if stored.is_empty() {
        return (TokenStream::new(), TokenStream::new());
    }
    let private = private();
    let serialize = stored.iter().map(|field| {
        let ty = field.ty;
        quote_spanned!(ty.span()=> assert_serialize::<#ty>();)
    });
    let deserialize = stored.iter().map(|field| {
        let ty = field.ty;
        quote_spanned!(ty.span()=> assert_deserialize::<#ty>();)
    });
    (
        quote! {
            fn assert_serialize<T: ?::core::marker::Sized + #private::serde::Serialize>() {}
            #(#serialize)*
        },
        quote! {
            fn assert_deserialize<T: #private::serde::de::DeserializeOwned>() {}
            #(#deserialize)*
        },
    )
}

/// The body of `attributes()`: the runtime's defaults, then each attribute that was given.
fn attributes(input: &Input<'_>) -> TokenStream {
    let private = private();
    let a = Ident::new("attributes", Span::mixed_site());
    let type_name = input.ident.to_string();
    let cookie_name = input.default_cookie_name();
    let attrs = &input.attrs;
    let mut sets: Vec<TokenStream> = Vec::new();

    if let Some(v) = &attrs.expire {
        let n = Literal::u64_suffixed(v.value);
        sets.push(quote!(#a.expire = #n;));
    }
    if let Some(v) = &attrs.max_lifetime {
        let n = Literal::u64_suffixed(v.value);
        sets.push(quote!(#a.max_lifetime = ::core::option::Option::Some(#n);));
    }
    let flags = [
        ("rolling", &attrs.rolling),
        ("sessioncookie", &attrs.sessioncookie),
        ("secure", &attrs.secure),
        ("http_only", &attrs.http_only),
        ("partitioned", &attrs.partitioned),
    ];
    for (name, flag) in flags {
        if let Some(v) = flag {
            let field = Ident::new(name, Span::call_site());
            let b = v.value;
            sets.push(quote!(#a.#field = #b;));
        }
    }
    if let Some(v) = &attrs.store {
        let choice = match &v.value {
            Store::Cookie => quote!(#private::StoreChoice::Cookie),
            Store::Memory => quote!(#private::StoreChoice::Memory),
            Store::Files => quote!(#private::StoreChoice::Files),
            Store::Redis => quote!(#private::StoreChoice::Redis),
            Store::Postgres => quote!(#private::StoreChoice::Postgres),
            Store::Memcached => quote!(#private::StoreChoice::Memcached),
            // Spanned on the string so a type that is missing, or lacks `SessionStore` or
            // `Default`, is reported there.
            Store::Custom(path) => {
                quote_spanned!(v.span=> #private::StoreChoice::custom::<#path>())
            }
        };
        sets.push(quote!(#a.store = #choice;));
    }
    if let Some(v) = &attrs.encryption_mode {
        let variant = Ident::new(v.value.variant(), Span::call_site());
        sets.push(quote!(#a.encryption_mode = #private::EncryptionMode::#variant;));
    }
    if let Some(v) = &attrs.compression_level {
        let n = Literal::i32_suffixed(v.value);
        sets.push(quote!(#a.compression_level = #n;));
    }
    if let Some(v) = &attrs.compression_dictionary {
        // Spanned on the string, so a file that cannot be read is reported there. The path
        // is relative to the deriving crate's directory, like a build script's inputs.
        let mut path = Literal::string(&v.value);
        path.set_span(v.span);
        sets.push(quote_spanned!(v.span=>
            #a.compression_dictionary = ::core::option::Option::Some(::core::include_bytes!(
                ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path)
            ));
        ));
    }
    if let Some(v) = &attrs.same_site {
        let variant = Ident::new(v.value.variant(), Span::call_site());
        sets.push(quote!(#a.same_site = #private::SameSite::#variant;));
    }
    if let Some(v) = &attrs.domain {
        let s = &v.value;
        sets.push(quote!(#a.domain = ::core::option::Option::Some(#s);));
    }
    if let Some(v) = &attrs.path {
        let s = &v.value;
        sets.push(quote!(#a.path = #s;));
    }
    if let Some(v) = &attrs.prefix {
        let s = &v.value;
        sets.push(quote!(#a.prefix = ::core::option::Option::Some(#s);));
    }
    if let Some(v) = &attrs.filename_template {
        let s = &v.value;
        sets.push(quote!(#a.filename_template = #s;));
    }
    if let Some(v) = &attrs.max_cookie_size {
        let n = Literal::usize_suffixed(v.value);
        sets.push(quote!(#a.max_cookie_size = #n;));
    }
    if let Some(v) = &attrs.oversize {
        let variant = Ident::new(v.value.variant(), Span::call_site());
        sets.push(quote!(#a.oversize = #private::Oversize::#variant;));
    }

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
