//! What is emitted beside the errors: impls with the right signatures and no content.
//!
//! Without them, every use of the type as a session elsewhere in the crate (`Visit::layer()`,
//! a `Session<Visit>` extractor) would add its own error to the real one. The bodies never
//! run: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::private_path::private;

/// The errors, plus the minimal impls.
pub fn expand(input: &DeriveInput, errors: TokenStream) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let (impl_generics, ty_generics, _) = input.generics.split_for_impl();
    let private = private();
    // The binder keeps the bound from being a "trivial bound" that is checked (and reported)
    // on its own when it fails; the shape error is the one to see.
    let bound = quote! {
        for<'__session_fallback> #ident #ty_generics: ::core::marker::Send
            + ::core::marker::Sync
            + 'static
    };
    quote! {
        #errors

        #[automatically_derived]
        impl #impl_generics #private::SessionSchema for #ident #ty_generics
        where
            #bound,
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
            #bound,
        {
            #[allow(dead_code)]
            #vis fn layer() -> #private::SessionLayerBuilder<Self> {
                ::core::unreachable!()
            }
        }
    }
}
