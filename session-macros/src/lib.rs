//! `#[derive(Session)]`: turns a plain struct into a typed session for `session-runtime`.
//!
//! Use it through `session_runtime::Session`; the generated code names only
//! `::session_runtime::__private`, so this crate is never a direct dependency.
//!
//! The pipeline is parse (`attr`, `input`), check (`check`, with `validate` for single values
//! and `suggest` for typos), then generate (`expand`). Every stage records its errors in a
//! `ctxt::Ctxt` instead of stopping at the first; when there are errors, only a minimal impl is
//! emitted beside them, so that one mistake gives one error and not a cascade.

mod attr;
mod check;
mod ctxt;
mod expand;
mod input;
mod suggest;
mod validate;

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
