//! A value as written after a key, before the key's type is known, and the messages for a
//! value of the wrong type.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Token, UnOp};

use crate::ctxt::Ctxt;

/// The key of a `key = value` pair being read: its name, where it is, and how a correct use
/// looks (for messages).
pub struct Key<'a> {
    /// The name as written.
    pub name: &'a str,
    /// The key token.
    pub span: Span,
    /// What the key takes.
    pub kind: Kind,
}

/// What kind of value a key takes, with an example value for messages.
#[derive(Clone, Copy)]
pub enum Kind {
    /// A string, e.g. `"myapp"`.
    Str(&'static str),
    /// An integer, e.g. `3600`.
    Int(&'static str),
    /// `true`, `false`, or the key alone.
    Bool,
}

/// A value as written, before its key's type is known.
pub enum Value {
    /// `key` alone.
    Flag,
    /// A string literal.
    Str(LitStr),
    /// An integer literal, possibly negated; `None` when it does not even fit an `i128`.
    Int(Option<i128>, Span),
    /// `true` or `false`.
    Bool(bool, Span),
    /// Anything else: a float, a path, a list...
    Other(Span, &'static str),
}

impl Value {
    /// Reads the value after a key: `= expr`, a parenthesized list, or nothing (a flag).
    pub fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Value> {
        if meta.input.peek(Token![=]) {
            let expr: Expr = meta.value()?.parse()?;
            return Ok(Value::from_expr(&expr));
        }
        if meta.input.peek(syn::token::Paren) {
            let content;
            let parens = syn::parenthesized!(content in meta.input);
            // The contents are not ours to interpret; consume them so parsing goes on.
            let _: proc_macro2::TokenStream = content.parse()?;
            return Ok(Value::Other(parens.span.join(), "a parenthesized list"));
        }
        Ok(Value::Flag)
    }

    fn from_expr(expr: &Expr) -> Value {
        match expr {
            // `macro_rules!` callers may hand us an invisible group around the literal.
            Expr::Group(group) => Value::from_expr(&group.expr),
            Expr::Lit(ExprLit { lit, .. }) => match lit {
                Lit::Str(s) => Value::Str(s.clone()),
                Lit::Int(i) => Value::Int(i.base10_parse::<i128>().ok(), i.span()),
                Lit::Bool(b) => Value::Bool(b.value, b.span),
                Lit::Float(f) => Value::Other(f.span(), "a float"),
                other => Value::Other(other.span(), "a literal of another type"),
            },
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr: inner,
                ..
            }) => match Value::from_expr(inner) {
                Value::Int(n, _) => Value::Int(n.and_then(i128::checked_neg), expr.span()),
                _ => Value::Other(expr.span(), "an expression"),
            },
            Expr::Path(_) => Value::Other(expr.span(), "a path (strings need quotes)"),
            other => Value::Other(other.span(), "an expression"),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Value::Flag => "no value",
            Value::Str(_) => "a string",
            Value::Int(..) => "an integer",
            Value::Bool(..) => "a boolean",
            Value::Other(_, what) => what,
        }
    }

    /// Where an error about this value points (the key itself for a bare flag).
    fn span(&self, key: Span) -> Span {
        match self {
            Value::Flag => key,
            Value::Str(s) => s.span(),
            Value::Int(_, span) | Value::Bool(_, span) | Value::Other(span, _) => *span,
        }
    }
}

/// Reports that `value` does not have the type `key` takes.
pub fn wrong_type(cx: &Ctxt, key: &Key<'_>, value: &Value) {
    let name = key.name;
    let expected = match key.kind {
        Kind::Str(example) => format!("a string, e.g. `{name} = {example}`"),
        Kind::Int(example) => format!("an integer, e.g. `{name} = {example}`"),
        Kind::Bool => format!("`true` or `false`, e.g. `{name} = true` or just `{name}`"),
    };
    cx.error_at(
        value.span(key.span),
        format!("`{name}` expects {expected}; found {}", value.describe()),
    );
}

/// Reads a string value, or reports the wrong type.
pub fn string(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<LitStr> {
    match value {
        Value::Str(s) => Some(s),
        other => {
            wrong_type(cx, key, &other);
            None
        }
    }
}

/// Reads a boolean value; a bare key means `true`.
pub fn boolean(cx: &Ctxt, key: &Key<'_>, value: Value) -> Option<(bool, Span)> {
    match value {
        Value::Flag => Some((true, key.span)),
        Value::Bool(b, span) => Some((b, span)),
        other => {
            wrong_type(cx, key, &other);
            None
        }
    }
}
