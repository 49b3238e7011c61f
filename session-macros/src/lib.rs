//! `#[derive(Session)]`: turns a plain struct into a typed session for `session-runtime`.
//!
//! Use it through `session_runtime::Session`; the generated code names only the runtime's
//! versioned private module (see `private_path`), so this crate is never a direct dependency.
//!
//! The pipeline is parse (`attr`, whose struct attributes are one table, and `input`), check
//! (`check`, which applies the rules of the `session_settings` specification, and `suggest`
//! for typos), then generate (`expand`, with `emit` for attribute values). Every stage records
//! its errors in a `ctxt::Ctxt` instead of stopping at the first; when there are errors, only
//! the minimal impl of `fallback` is emitted beside them, so that one mistake gives one error
//! and not a cascade.

mod attr;
mod check;
mod ctxt;
mod emit;
mod expand;
mod fallback;
mod input;
mod private_path;
mod spelling;
mod suggest;

#[cfg(test)]
mod agreement;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `SessionSchema` and a `layer()` constructor for a struct with named fields.
///
/// See the `session-runtime` documentation for every `#[session(...)]` attribute.
#[proc_macro_derive(Session, attributes(session))]
pub fn derive_session(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
