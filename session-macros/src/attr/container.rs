//! The struct-level attributes, declared once in a table.
//!
//! Each row names the field, its type, the [`Setting`] it sets (whose name is the key), the
//! kind of value with an example for messages, the parser (which applies the specification's
//! rule of one value), and how the value reaches the runtime's `Attributes` (`plain`, or
//! `some` for an `Option` field). From the table follow the typed [`Container`], the parsing
//! of every key with its duplicate check, the known keys behind did-you-mean, the spans rules
//! point at, and the assignments [`crate::expand`] emits. Adding an attribute is one row here
//! (plus, if a rule relates it to others, its rule in `session_settings` and its value in
//! `check::values`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use session_settings::{EncryptionMode, Oversize, SameSite, Setting, SettingSet, rules};

use super::parse::{self, DictionaryFile, Store};
use super::value::{Key, Kind, Value};
use super::{Slot, Spanned};
use crate::ctxt::Ctxt;
use crate::emit;

macro_rules! struct_attributes {
    ($(
        $field:ident: $ty:ty = $setting:ident, $kind:expr,
            $parser:ident $(::<$parsed:ty>)? $(($($arg:expr),*))?, $emit:ident;
    )+) => {
        /// The struct-level attributes, each `None` when absent (or rejected).
        #[derive(Default)]
        pub struct Container {
            $(
                #[doc = concat!("`", stringify!($field), "`.")]
                pub $field: Option<Spanned<$ty>>,
            )+
            /// Keys that were given with a value already reported as wrong. Rules about them
            /// stay silent, so one mistake gives one error.
            rejected: SettingSet,
        }

        /// The slots being filled while the struct's attributes are read.
        struct Slots {
            $($field: Slot<$ty>,)+
        }

        /// Every struct-level key, for unknown-key suggestions.
        pub const STRUCT_KEYS: &[&str] = &[$(Setting::$setting.name()),+];

        /// The field of each key, which the emitted assignments name.
        #[cfg(test)]
        const FIELDS: &[&str] = &[$(stringify!($field)),+];

        impl Slots {
            fn new() -> Self {
                Slots { $($field: Slot::new(Setting::$setting.name()),)+ }
            }

            /// Reads `key = value` if `key` is a struct attribute; false if it is not one.
            fn accept(&mut self, cx: &Ctxt, name: &str, span: Span, value: Value) -> bool {
                $(
                    if name == Setting::$setting.name() {
                        let key = Key { name, span, kind: $kind };
                        self.$field.read(cx, span, || {
                            parse::$parser $(::<$parsed>)? (cx, &key, value $(, $($arg),*)?)
                        });
                        return true;
                    }
                )+
                false
            }

            fn finish(self) -> Container {
                let mut rejected = SettingSet::EMPTY;
                $(
                    let (value, was_rejected) = self.$field.finish();
                    if was_rejected {
                        rejected.insert(Setting::$setting);
                    }
                    let $field = value;
                )+
                Container { $($field,)+ rejected }
            }
        }

        impl Container {
            /// The key and value spans of `setting`, if it was given and accepted.
            fn spans(&self, setting: Setting) -> Option<(Span, Span)> {
                match setting {
                    $(Setting::$setting => self.$field.as_ref().map(|v| (v.key, v.span)),)+
                    _ => None,
                }
            }

            /// The settings given with an accepted value.
            pub fn written(&self) -> SettingSet {
                let mut written = SettingSet::EMPTY;
                $(
                    if self.$field.is_some() {
                        written.insert(Setting::$setting);
                    }
                )+
                written
            }

            /// `target.field = value;` for every attribute given, in table order.
            pub fn assignments(&self, target: &Ident, private: &TokenStream) -> Vec<TokenStream> {
                let mut out = Vec::new();
                $(
                    if let Some(v) = &self.$field {
                        let value = emit::$emit(&v.value, v.span, private);
                        out.push(quote!(#target.$field = #value;));
                    }
                )+
                out
            }
        }
    };
}

struct_attributes! {
    cookie_name: String = CookieName, Kind::Str("\"myapp\""), text(rules::cookie_name), plain;
    expire: u64 = Expire, Kind::Int("3600"), integer(Setting::Expire), plain;
    max_lifetime: u64 = MaxLifetime, Kind::Int("3600"), integer(Setting::MaxLifetime), some;
    rolling: bool = Rolling, Kind::Bool, flag, plain;
    sessioncookie: bool = Sessioncookie, Kind::Bool, flag, plain;
    store: Store = Store, Kind::Str("\"redis\""), store, plain;
    encryption_mode: EncryptionMode = EncryptionMode, Kind::Str("\"modern\""), named, plain;
    compression_level: i32 = CompressionLevel, Kind::Int("3"),
        integer(Setting::CompressionLevel), plain;
    compression_dictionary: DictionaryFile = CompressionDictionary,
        Kind::Str("\"session.dict\""), dictionary, some;
    secure: bool = Secure, Kind::Bool, flag, plain;
    http_only: bool = HttpOnly, Kind::Bool, flag, plain;
    same_site: SameSite = SameSite, Kind::Str("\"strict\""), named, plain;
    domain: String = Domain, Kind::Str("\"example.com\""), text(rules::domain), some;
    path: String = Path, Kind::Str("\"/\""), text(rules::cookie_path), plain;
    partitioned: bool = Partitioned, Kind::Bool, flag, plain;
    prefix: String = Prefix, Kind::Str("\"myapp:\""), text(rules::prefix), some;
    filename_template: String = FilenameTemplate, Kind::Str("\"sess_%s\""),
        text(rules::filename_template), plain;
    max_cookie_size: usize = MaxCookieSize, Kind::Int("4096"),
        integer(Setting::MaxCookieSize), plain;
    oversize: Oversize = Oversize, Kind::Str("\"chunk\""), named, plain;
}

impl Container {
    /// Reads every `#[session(...)]` on the struct; other attributes are left alone.
    pub fn from_attrs(cx: &Ctxt, attrs: &[syn::Attribute]) -> Container {
        let mut slots = Slots::new();
        super::read_keys(cx, attrs, |name, span, value| {
            if !slots.accept(cx, name, span, value) {
                super::unknown_key(cx, name, span, STRUCT_KEYS, super::FIELD_KEYS, "a field");
            }
        });
        slots.finish()
    }

    /// Whether `setting` was given but its value rejected.
    pub fn was_rejected(&self, setting: Setting) -> bool {
        self.rejected.contains(setting)
    }

    /// Where an error about `setting` points: its key when the setting is wrong to have at
    /// all, else its value. `None` when it was not given.
    pub fn span_of(&self, setting: Setting, at_key: bool) -> Option<Span> {
        self.spans(setting)
            .map(|(key, value)| if at_key { key } else { value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table covers exactly the settings the specification says `#[session(...)]` takes,
    /// and each field is named like its key (the emitted `Attributes` fields follow).
    #[test]
    fn table_matches_the_specification() {
        let spec: Vec<&str> = Setting::attribute_names().collect();
        assert_eq!(STRUCT_KEYS, spec.as_slice());
        assert_eq!(FIELDS, STRUCT_KEYS);
    }
}
