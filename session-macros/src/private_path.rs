//! The one path generated code names in the runtime.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `::session_runtime::__private_vMAJOR_MINOR`, from this crate's version (the workspace
/// gives the runtime the same one). A derive and a runtime of different versions then fail
/// to compile with an unresolved path naming both versions' module, not with baffling type
/// errors from a changed private API.
pub fn private() -> TokenStream {
    let module = Ident::new(&module_name(), Span::call_site());
    quote!(::session_runtime::#module)
}

fn module_name() -> String {
    format!(
        "__private_v{}_{}",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    )
}
