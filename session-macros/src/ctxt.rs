//! Error collection.
//!
//! Every check records its error here instead of returning early, so that one compile shows
//! every mistake in the attributes at once, each pointing at its own token.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// Collects spanned errors while the input is parsed and checked.
///
/// Interior mutability lets parsers and checks share one `&Ctxt` without threading `&mut`
/// through every helper. The errors must be taken with
/// [`into_compile_errors`](Self::into_compile_errors): a context dropped without it panics,
/// so a code path that forgets to report errors fails loudly instead of losing them.
pub struct Ctxt {
    /// `None` once the errors were taken.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// A collector with no errors yet.
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("an error recorded after the errors were taken")
            .push(error);
    }

    /// Records an error pointing at `span`.
    pub fn error_at(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error covering every token of `tokens` (a whole path, type or expression).
    pub fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error that syn already built (a parse error).
    pub fn syn_error(&self, error: syn::Error) {
        self.push(error);
    }

    /// Every recorded error as `compile_error!` invocations, or `None` if there were none.
    pub fn into_compile_errors(self) -> Option<TokenStream> {
        let errors = self.take();
        if errors.is_empty() {
            return None;
        }
        Some(errors.into_iter().map(|e| e.to_compile_error()).collect())
    }

    /// Takes the recorded errors; the context is then checked.
    pub fn take(self) -> Vec<syn::Error> {
        self.errors
            .borrow_mut()
            .take()
            .expect("the errors are taken once, by value")
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_come_out_in_order() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        cx.error_at(Span::call_site(), "second");
        let messages: Vec<String> = cx.take().iter().map(ToString::to_string).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(Ctxt::new().into_compile_errors().is_none());
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn an_unchecked_context_panics() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "lost");
    }
}
