//! How a parsed attribute value is written into the generated `attributes()`: the Rust
//! expression of the runtime's `Attributes` field it sets.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens as _, quote, quote_spanned};
use session_settings::{EncryptionMode, Oversize, SameSite};

use crate::attr::{DictionaryFile, Store};
use crate::spelling::Spelling;

/// A value the generated code can write into the runtime's `Attributes`.
pub trait ToRuntime {
    /// The expression, given where the value was written and the private path.
    fn to_runtime(&self, span: Span, private: &TokenStream) -> TokenStream;
}

/// The value itself, for a field of the value's type.
pub fn plain<T: ToRuntime>(value: &T, span: Span, private: &TokenStream) -> TokenStream {
    value.to_runtime(span, private)
}

/// `Some(value)`, for an `Option` field.
pub fn some<T: ToRuntime>(value: &T, span: Span, private: &TokenStream) -> TokenStream {
    let value = value.to_runtime(span, private);
    quote_spanned!(span=> ::core::option::Option::Some(#value))
}

impl ToRuntime for String {
    fn to_runtime(&self, _: Span, _: &TokenStream) -> TokenStream {
        Literal::string(self).into_token_stream()
    }
}

impl ToRuntime for bool {
    fn to_runtime(&self, _: Span, _: &TokenStream) -> TokenStream {
        self.into_token_stream()
    }
}

macro_rules! suffixed_integers {
    ($($ty:ty => $literal:ident),+) => {$(
        impl ToRuntime for $ty {
            fn to_runtime(&self, _: Span, _: &TokenStream) -> TokenStream {
                Literal::$literal(*self).into_token_stream()
            }
        }
    )+};
}

suffixed_integers!(u64 => u64_suffixed, i32 => i32_suffixed, usize => usize_suffixed);

/// A variant of the runtime's enum of the same spellings.
fn variant<E: Spelling>(value: E, private: &TokenStream) -> TokenStream {
    let ty = Ident::new(E::RUNTIME_TYPE, Span::call_site());
    let variant = Ident::new(value.variant(), Span::call_site());
    quote!(#private::#ty::#variant)
}

macro_rules! spelled {
    ($($ty:ty),+) => {$(
        impl ToRuntime for $ty {
            fn to_runtime(&self, _: Span, private: &TokenStream) -> TokenStream {
                variant(*self, private)
            }
        }
    )+};
}

spelled!(EncryptionMode, SameSite, Oversize);

impl ToRuntime for Store {
    fn to_runtime(&self, span: Span, private: &TokenStream) -> TokenStream {
        match self {
            Store::Builtin(kind) => variant(*kind, private),
            // Spanned on the string so a type that is missing, or lacks `SessionStore` or
            // `Default`, is reported there.
            Store::Custom(path) => {
                quote_spanned!(span=> #private::StoreChoice::custom::<#path>())
            }
        }
    }
}

impl ToRuntime for DictionaryFile {
    /// The file's bytes, included at compile time. Spanned on the string, so a file that
    /// cannot be read is reported there; the path is relative to the deriving crate's
    /// directory, like a build script's inputs.
    fn to_runtime(&self, span: Span, _: &TokenStream) -> TokenStream {
        let mut path = Literal::string(&self.0);
        path.set_span(span);
        quote_spanned!(span=>
            ::core::include_bytes!(
                ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #path)
            )
        )
    }
}
