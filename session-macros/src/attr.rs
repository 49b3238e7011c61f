//! Parsing of `#[session(...)]` attributes into typed values that remember their spans.
//!
//! This module checks what one attribute can check on its own: the key is known, given once,
//! and its value has the right type and a valid form. Rules that relate several attributes
//! live in [`crate::check`], so that each rule is written once, against typed values.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Token, UnOp};

use crate::ctxt::Ctxt;
use crate::suggest;
use crate::validate;

/// The name of our attribute: `#[session(...)]`.
const SESSION: &str = "session";

/// A value from an attribute with the spans errors point at.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The parsed value.
    pub value: T,
    /// The key, as in `expire` of `expire = 10`.
    pub key: Span,
    /// The value, as in `10` of `expire = 10` (the key itself for a bare flag).
    pub span: Span,
}

/// One attribute key: whether it was given, and its value if that value was valid.
///
/// Remembering that a key was seen even when its value was rejected still catches a second
/// occurrence, and leaving the value out keeps cross-attribute rules from piling a second
/// error on the same mistake.
struct Slot<T> {
    name: &'static str,
    seen: bool,
    value: Option<Spanned<T>>,
}

impl<T> Slot<T> {
    fn new(name: &'static str) -> Self {
        Slot {
            name,
            seen: false,
            value: None,
        }
    }

    /// Marks the key as seen; false (with an error) if it was already given.
    fn first_time(&mut self, cx: &Ctxt, key: Span) -> bool {
        if self.seen {
            cx.error_at(key, format!("duplicate session attribute `{}`", self.name));
            return false;
        }
        self.seen = true;
        true
    }

    fn set(&mut self, value: T, key: Span, span: Span) {
        self.value = Some(Spanned { value, key, span });
    }

    /// The accepted value; a key that was given but rejected is noted in `rejected`.
    fn get(self, rejected: &mut Vec<&'static str>) -> Option<Spanned<T>> {
        if self.seen && self.value.is_none() {
            rejected.push(self.name);
        }
        self.value
    }
}

/// What kind of value a key takes, and how to show a correct use of it.
#[derive(Clone, Copy)]
enum Kind {
    Str(&'static str),
    Int(&'static str),
    Bool,
}

/// A value as written, before its key's type is known.
enum Value {
    /// `key` alone.
    Flag,
    Str(LitStr),
    /// An integer literal, possibly negated; `None` when it does not even fit an `i128`.
    Int(Option<i128>, Span),
    Bool(bool, Span),
    /// Anything else: a float, a path, a list...
    Other(Span, &'static str),
}

impl Value {
    /// Reads the value after a key: `= expr`, a parenthesized list, or nothing (a flag).
    fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Value> {
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
}

/// Reports that `value` does not have the type `kind` needs.
fn wrong_type(cx: &Ctxt, key: &str, key_span: Span, kind: Kind, value: &Value) {
    let expected = match kind {
        Kind::Str(example) => format!("a string, e.g. `{key} = {example}`"),
        Kind::Int(example) => format!("an integer, e.g. `{key} = {example}`"),
        Kind::Bool => format!("`true` or `false`, e.g. `{key} = true` or just `{key}`"),
    };
    let span = match value {
        Value::Flag => key_span,
        Value::Str(s) => s.span(),
        Value::Int(_, span) | Value::Bool(_, span) | Value::Other(span, _) => *span,
    };
    cx.error_at(
        span,
        format!("`{key}` expects {expected}; found {}", value.describe()),
    );
}

/// Reads a string value, or reports the wrong type.
fn string(cx: &Ctxt, key: &str, key_span: Span, kind: Kind, value: Value) -> Option<LitStr> {
    match value {
        Value::Str(s) => Some(s),
        other => {
            wrong_type(cx, key, key_span, kind, &other);
            None
        }
    }
}

/// Reads an integer value within `range`, or reports why not; `expected` says what the key
/// takes, in words, as in "between 0 and 22".
fn integer(
    cx: &Ctxt,
    key: &str,
    key_span: Span,
    kind: Kind,
    value: Value,
    range: std::ops::RangeInclusive<i128>,
    expected: &str,
) -> Option<(i128, Span)> {
    match value {
        Value::Int(Some(n), span) if range.contains(&n) => Some((n, span)),
        Value::Int(n, span) => {
            let found = n.map_or_else(|| "a larger number".to_owned(), |n| n.to_string());
            cx.error_at(span, format!("`{key}` must be {expected}; found {found}"));
            None
        }
        other => {
            wrong_type(cx, key, key_span, kind, &other);
            None
        }
    }
}

/// Reads a boolean value; a bare key means `true`.
fn boolean(cx: &Ctxt, key: &str, key_span: Span, value: Value) -> Option<(bool, Span)> {
    match value {
        Value::Flag => Some((true, key_span)),
        Value::Bool(b, span) => Some((b, span)),
        other => {
            wrong_type(cx, key, key_span, Kind::Bool, &other);
            None
        }
    }
}

/// Where the session data lives, as written in `store = "..."`.
#[derive(Clone, Debug)]
pub enum Store {
    Cookie,
    Memory,
    Files,
    Redis,
    Postgres,
    Memcached,
    /// A user type implementing `SessionStore + Default`.
    Custom(syn::Path),
}

impl Store {
    /// The built-in store names, as spelled in the attribute.
    pub const NAMES: &'static [&'static str] = &[
        "cookie",
        "memory",
        "files",
        "redis",
        "postgres",
        "memcached",
    ];

    /// Whether the data lives on the server (everything but the cookie store).
    pub fn is_server_side(&self) -> bool {
        !matches!(self, Store::Cookie)
    }

    /// How to name the store in a message.
    pub fn describe(&self) -> String {
        match self {
            Store::Cookie => "`store = \"cookie\"`".to_owned(),
            Store::Memory => "`store = \"memory\"`".to_owned(),
            Store::Files => "`store = \"files\"`".to_owned(),
            Store::Redis => "`store = \"redis\"`".to_owned(),
            Store::Postgres => "`store = \"postgres\"`".to_owned(),
            Store::Memcached => "`store = \"memcached\"`".to_owned(),
            Store::Custom(_) => "a custom store".to_owned(),
        }
    }
}

/// Declares a closed set of names written as strings, mapped to a Rust enum.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every accepted spelling.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// What these names are, for messages.
            pub const WHAT: &'static str = $what;

            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The variant's identifier, shared with the runtime's enum of the same name.
            pub fn variant(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                }
            }
        }
    };
}

named_enum!(
    /// `encryption_mode = "..."`.
    EncryptionMode, "encryption mode", { Modern = "modern", Legacy = "legacy", None = "none" }
);
named_enum!(
    /// `same_site = "..."`.
    SameSite, "same_site value", { Strict = "strict", Lax = "lax", None = "none" }
);
named_enum!(
    /// `oversize = "..."`.
    Oversize, "oversize policy", { Error = "error", Chunk = "chunk" }
);

/// A check of a string value, giving the message on failure (see [`crate::validate`]).
type Validator = fn(&str) -> Result<(), String>;

/// Every struct-level key, for unknown-key suggestions.
pub const STRUCT_KEYS: &[&str] = &[
    "cookie_name",
    "expire",
    "max_lifetime",
    "rolling",
    "sessioncookie",
    "store",
    "encryption_mode",
    "compression_level",
    "compression_dictionary",
    "secure",
    "http_only",
    "partitioned",
    "same_site",
    "domain",
    "path",
    "prefix",
    "filename_template",
    "max_cookie_size",
    "oversize",
];

/// Every field-level key.
pub const FIELD_KEYS: &[&str] = &["rename", "default", "skip"];

/// The struct-level attributes, each `None` when absent (or rejected).
#[derive(Default)]
pub struct Container {
    pub cookie_name: Option<Spanned<String>>,
    pub expire: Option<Spanned<u64>>,
    pub max_lifetime: Option<Spanned<u64>>,
    pub rolling: Option<Spanned<bool>>,
    pub sessioncookie: Option<Spanned<bool>>,
    pub store: Option<Spanned<Store>>,
    pub encryption_mode: Option<Spanned<EncryptionMode>>,
    pub compression_level: Option<Spanned<i32>>,
    pub compression_dictionary: Option<Spanned<String>>,
    pub secure: Option<Spanned<bool>>,
    pub http_only: Option<Spanned<bool>>,
    pub partitioned: Option<Spanned<bool>>,
    pub same_site: Option<Spanned<SameSite>>,
    pub domain: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub prefix: Option<Spanned<String>>,
    pub filename_template: Option<Spanned<String>>,
    pub max_cookie_size: Option<Spanned<usize>>,
    pub oversize: Option<Spanned<Oversize>>,
    /// Keys that were given with a value already reported as wrong. Rules about them stay
    /// silent, so one mistake gives one error.
    pub rejected: Vec<&'static str>,
}

impl Container {
    /// Whether `key` was given but its value rejected.
    pub fn was_rejected(&self, key: &str) -> bool {
        self.rejected.contains(&key)
    }
}

/// The slots being filled while the struct's attributes are read.
struct ContainerSlots {
    cookie_name: Slot<String>,
    expire: Slot<u64>,
    max_lifetime: Slot<u64>,
    rolling: Slot<bool>,
    sessioncookie: Slot<bool>,
    store: Slot<Store>,
    encryption_mode: Slot<EncryptionMode>,
    compression_level: Slot<i32>,
    compression_dictionary: Slot<String>,
    secure: Slot<bool>,
    http_only: Slot<bool>,
    partitioned: Slot<bool>,
    same_site: Slot<SameSite>,
    domain: Slot<String>,
    path: Slot<String>,
    prefix: Slot<String>,
    filename_template: Slot<String>,
    max_cookie_size: Slot<usize>,
    oversize: Slot<Oversize>,
}

impl Container {
    /// Reads every `#[session(...)]` on the struct; other attributes are left alone.
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Container {
        let mut slots = ContainerSlots {
            cookie_name: Slot::new("cookie_name"),
            expire: Slot::new("expire"),
            max_lifetime: Slot::new("max_lifetime"),
            rolling: Slot::new("rolling"),
            sessioncookie: Slot::new("sessioncookie"),
            store: Slot::new("store"),
            encryption_mode: Slot::new("encryption_mode"),
            compression_level: Slot::new("compression_level"),
            compression_dictionary: Slot::new("compression_dictionary"),
            secure: Slot::new("secure"),
            http_only: Slot::new("http_only"),
            partitioned: Slot::new("partitioned"),
            same_site: Slot::new("same_site"),
            domain: Slot::new("domain"),
            path: Slot::new("path"),
            prefix: Slot::new("prefix"),
            filename_template: Slot::new("filename_template"),
            max_cookie_size: Slot::new("max_cookie_size"),
            oversize: Slot::new("oversize"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident(SESSION)) {
            let parsed = attr.parse_nested_meta(|meta| {
                let key = key_name(&meta);
                let key_span = meta.path.span();
                let value = Value::parse(&meta)?;
                slots.accept(cx, &key, key_span, value);
                Ok(())
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
        slots.finish()
    }
}

impl ContainerSlots {
    /// Handles one `key = value` of the struct.
    fn accept(&mut self, cx: &Ctxt, key: &str, key_span: Span, value: Value) {
        match key {
            "cookie_name" => {
                let kind = Kind::Str("\"myapp\"");
                if !self.cookie_name.first_time(cx, key_span) {
                    return;
                }
                if let Some(s) = string(cx, key, key_span, kind, value) {
                    match validate::cookie_name(&s.value()) {
                        Ok(()) => self.cookie_name.set(s.value(), key_span, s.span()),
                        Err(why) => cx.error_at(s.span(), why),
                    }
                }
            }
            "expire" | "max_lifetime" => {
                let kind = Kind::Int("3600");
                let slot = if key == "expire" {
                    &mut self.expire
                } else {
                    &mut self.max_lifetime
                };
                if !slot.first_time(cx, key_span) {
                    return;
                }
                let range = 1..=i128::from(u64::MAX);
                let why = "at least 1 (it is a number of seconds)";
                if let Some((n, span)) = integer(cx, key, key_span, kind, value, range, why) {
                    // In range of u64 by the check just made.
                    slot.set(u64::try_from(n).unwrap_or(u64::MAX), key_span, span);
                }
            }
            "compression_level" => {
                let kind = Kind::Int("3");
                if !self.compression_level.first_time(cx, key_span) {
                    return;
                }
                let why = "between 0 (no compression) and 22, the range of zstd levels";
                if let Some((n, span)) = integer(cx, key, key_span, kind, value, 0..=22, why) {
                    let level = i32::try_from(n).unwrap_or(0);
                    self.compression_level.set(level, key_span, span);
                }
            }
            "compression_dictionary" => {
                let kind = Kind::Str("\"session.dict\"");
                if !self.compression_dictionary.first_time(cx, key_span) {
                    return;
                }
                if let Some(s) = string(cx, key, key_span, kind, value) {
                    if s.value().is_empty() {
                        cx.error_at(
                            s.span(),
                            "`compression_dictionary` is empty: it takes the path of a zstd dictionary file, relative to the crate's directory (where its Cargo.toml is), e.g. `compression_dictionary = \"session.dict\"`",
                        );
                    } else {
                        self.compression_dictionary
                            .set(s.value(), key_span, s.span());
                    }
                }
            }
            "max_cookie_size" => {
                let kind = Kind::Int("4096");
                if !self.max_cookie_size.first_time(cx, key_span) {
                    return;
                }
                let why = "between 64 and 4096 (bytes; browsers refuse larger cookies)";
                if let Some((n, span)) = integer(cx, key, key_span, kind, value, 64..=4096, why) {
                    let size = usize::try_from(n).unwrap_or(4096);
                    self.max_cookie_size.set(size, key_span, span);
                }
            }
            "rolling" | "sessioncookie" | "secure" | "http_only" | "partitioned" => {
                let slot = match key {
                    "rolling" => &mut self.rolling,
                    "sessioncookie" => &mut self.sessioncookie,
                    "secure" => &mut self.secure,
                    "http_only" => &mut self.http_only,
                    _ => &mut self.partitioned,
                };
                if !slot.first_time(cx, key_span) {
                    return;
                }
                if let Some((b, span)) = boolean(cx, key, key_span, value) {
                    slot.set(b, key_span, span);
                }
            }
            "store" => {
                let kind = Kind::Str("\"redis\"");
                if !self.store.first_time(cx, key_span) {
                    return;
                }
                if let Some(s) = string(cx, key, key_span, kind, value) {
                    if let Some(store) = parse_store(cx, &s) {
                        self.store.set(store, key_span, s.span());
                    }
                }
            }
            "encryption_mode" => {
                let kind = Kind::Str("\"modern\"");
                named(
                    cx,
                    &mut self.encryption_mode,
                    key,
                    key_span,
                    kind,
                    value,
                    EncryptionMode::from_name,
                    EncryptionMode::NAMES,
                    EncryptionMode::WHAT,
                );
            }
            "same_site" => {
                let kind = Kind::Str("\"strict\"");
                named(
                    cx,
                    &mut self.same_site,
                    key,
                    key_span,
                    kind,
                    value,
                    SameSite::from_name,
                    SameSite::NAMES,
                    SameSite::WHAT,
                );
            }
            "oversize" => {
                let kind = Kind::Str("\"chunk\"");
                named(
                    cx,
                    &mut self.oversize,
                    key,
                    key_span,
                    kind,
                    value,
                    Oversize::from_name,
                    Oversize::NAMES,
                    Oversize::WHAT,
                );
            }
            "domain" | "path" | "prefix" | "filename_template" => {
                let (slot, kind, check): (_, _, Validator) = match key {
                    "domain" => (
                        &mut self.domain,
                        Kind::Str("\"example.com\""),
                        validate::domain,
                    ),
                    "path" => (&mut self.path, Kind::Str("\"/\""), validate::cookie_path),
                    "prefix" => (&mut self.prefix, Kind::Str("\"myapp:\""), validate::prefix),
                    _ => (
                        &mut self.filename_template,
                        Kind::Str("\"sess_%s\""),
                        validate::filename_template,
                    ),
                };
                if !slot.first_time(cx, key_span) {
                    return;
                }
                if let Some(s) = string(cx, key, key_span, kind, value) {
                    match check(&s.value()) {
                        Ok(()) => slot.set(s.value(), key_span, s.span()),
                        Err(why) => cx.error_at(s.span(), why),
                    }
                }
            }
            _ => unknown_key(cx, key, key_span, STRUCT_KEYS, FIELD_KEYS, "a field"),
        }
    }

    fn finish(self) -> Container {
        let mut rejected = Vec::new();
        Container {
            cookie_name: self.cookie_name.get(&mut rejected),
            expire: self.expire.get(&mut rejected),
            max_lifetime: self.max_lifetime.get(&mut rejected),
            rolling: self.rolling.get(&mut rejected),
            sessioncookie: self.sessioncookie.get(&mut rejected),
            store: self.store.get(&mut rejected),
            encryption_mode: self.encryption_mode.get(&mut rejected),
            compression_level: self.compression_level.get(&mut rejected),
            compression_dictionary: self.compression_dictionary.get(&mut rejected),
            secure: self.secure.get(&mut rejected),
            http_only: self.http_only.get(&mut rejected),
            partitioned: self.partitioned.get(&mut rejected),
            same_site: self.same_site.get(&mut rejected),
            domain: self.domain.get(&mut rejected),
            path: self.path.get(&mut rejected),
            prefix: self.prefix.get(&mut rejected),
            filename_template: self.filename_template.get(&mut rejected),
            max_cookie_size: self.max_cookie_size.get(&mut rejected),
            oversize: self.oversize.get(&mut rejected),
            rejected,
        }
    }
}

/// Reads one of a closed set of names (`same_site = "lax"`), suggesting the closest on a typo.
#[allow(clippy::too_many_arguments)]
fn named<T>(
    cx: &Ctxt,
    slot: &mut Slot<T>,
    key: &str,
    key_span: Span,
    kind: Kind,
    value: Value,
    from_name: fn(&str) -> Option<T>,
    names: &[&str],
    what: &str,
) {
    if !slot.first_time(cx, key_span) {
        return;
    }
    let Some(s) = string(cx, key, key_span, kind, value) else {
        return;
    };
    match from_name(&s.value()) {
        Some(v) => slot.set(v, key_span, s.span()),
        None => cx.error_at(
            s.span(),
            format!(
                "unknown {what} `{}`{} (expected {})",
                s.value().escape_debug(),
                suggest::hint(&s.value(), names),
                quoted_list(names)
            ),
        ),
    }
}

/// `"a", "b" or "c"`.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// Reads `store = "..."`: a built-in name, or a path with `::` to a custom store type.
fn parse_store(cx: &Ctxt, s: &LitStr) -> Option<Store> {
    let text = s.value();
    match text.as_str() {
        "cookie" => return Some(Store::Cookie),
        "memory" => return Some(Store::Memory),
        "files" => return Some(Store::Files),
        "redis" => return Some(Store::Redis),
        "postgres" => return Some(Store::Postgres),
        "memcached" => return Some(Store::Memcached),
        _ => {}
    }
    if text.contains("::") {
        // Parsing through the literal gives the path's tokens the literal's span, so a type
        // that does not exist or lacks the trait is reported on the string.
        return match s.parse::<syn::Path>() {
            Ok(path) => Some(Store::Custom(path)),
            Err(_) => {
                cx.error_at(
                    s.span(),
                    format!(
                        "`{}` is not a Rust path; a custom store is named by its type's path, like `crate::MyStore`",
                        text.escape_debug()
                    ),
                );
                None
            }
        };
    }
    cx.error_at(
        s.span(),
        format!(
            "unknown store `{}`{} (expected {}, or the path of a custom store type, such as `crate::MyStore`)",
            text.escape_debug(),
            suggest::hint(&text, Store::NAMES),
            quoted_list(Store::NAMES)
        ),
    );
    None
}

/// The key of a `key = value` pair as text (a multi-segment path is shown whole).
fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    match meta.path.get_ident() {
        Some(ident) => ident.to_string(),
        None => {
            let segments: Vec<String> = meta
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segments.join("::")
        }
    }
}

/// Reports a key that is not one of `known`, with a hint when it belongs on the other level.
fn unknown_key(
    cx: &Ctxt,
    key: &str,
    key_span: Span,
    known: &[&str],
    other_level: &[&str],
    other_place: &str,
) {
    let message = if other_level.contains(&key) {
        format!("`{key}` is not allowed here: it goes on {other_place}")
    } else {
        format!(
            "unknown session attribute `{key}`{}",
            suggest::hint(key, known)
        )
    };
    cx.error_at(key_span, message);
}

/// Where a field's value comes from when it is not stored.
#[derive(Clone, Debug)]
pub enum FieldDefault {
    /// `Default::default()` of the field type (also what an absent attribute means).
    Trait,
    /// `default = "path::to::fn"`.
    Function(syn::ExprPath),
}

/// The attributes of one field.
#[derive(Default)]
pub struct Field {
    pub rename: Option<Spanned<String>>,
    pub default: Option<Spanned<FieldDefault>>,
    pub skip: Option<Spanned<()>>,
}

impl Field {
    /// Reads every `#[session(...)]` on a field.
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Field {
        let mut rename = Slot::new("rename");
        let mut default = Slot::new("default");
        let mut skip = Slot::new("skip");
        for attr in attrs.iter().filter(|a| a.path().is_ident(SESSION)) {
            let parsed = attr.parse_nested_meta(|meta| {
                let key = key_name(&meta);
                let key_span = meta.path.span();
                let value = Value::parse(&meta)?;
                match key.as_str() {
                    "rename" => {
                        if !rename.first_time(cx, key_span) {
                            return Ok(());
                        }
                        let kind = Kind::Str("\"u\"");
                        if let Some(s) = string(cx, &key, key_span, kind, value) {
                            match validate::stored_name(&s.value()) {
                                Ok(()) => rename.set(s.value(), key_span, s.span()),
                                Err(why) => cx.error_at(s.span(), why),
                            }
                        }
                    }
                    "default" => {
                        if !default.first_time(cx, key_span) {
                            return Ok(());
                        }
                        match value {
                            Value::Flag => default.set(FieldDefault::Trait, key_span, key_span),
                            Value::Str(s) => match s.parse::<syn::ExprPath>() {
                                Ok(path) => {
                                    default.set(FieldDefault::Function(path), key_span, s.span());
                                }
                                Err(_) => cx.error_at(
                                    s.span(),
                                    format!(
                                        "`default` expects the path of a function, like `default = \"default_theme\"`; `{}` is not a path",
                                        s.value().escape_debug()
                                    ),
                                ),
                            },
                            other => wrong_type(
                                cx,
                                &key,
                                key_span,
                                Kind::Str("\"path::to::function\""),
                                &other,
                            ),
                        }
                    }
                    "skip" => {
                        if !skip.first_time(cx, key_span) {
                            return Ok(());
                        }
                        // `skip = false` says nothing: the field is stored as usual.
                        if let Some((true, span)) = boolean(cx, &key, key_span, value) {
                            skip.set((), key_span, span);
                        }
                    }
                    _ => unknown_key(cx, &key, key_span, FIELD_KEYS, STRUCT_KEYS, "the struct"),
                }
                Ok(())
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
        Field {
            rename: rename.get(&mut Vec::new()),
            default: default.get(&mut Vec::new()),
            skip: skip.get(&mut Vec::new()),
        }
    }
}
