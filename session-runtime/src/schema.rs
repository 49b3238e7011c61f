//! The contract between `#[derive(Session)]` and the runtime.
//!
//! The derive implements [`SessionSchema`] for a struct: it lists the stored field names, encodes
//! each field on its own and rebuilds the struct from stored fields. Encoding field by field (and
//! not the struct as a whole) is what lets the runtime see which fields a request changed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::config::Attributes;

/// A session type: implemented by `#[derive(Session)]`, rarely by hand.
///
/// # Example
///
/// ```
/// use session_runtime::Session;
///
/// #[derive(Session)]
/// #[session(cookie_name = "visit")]
/// struct Visit {
///     counter: u32,
/// }
///
/// use session_runtime::SessionSchema;
/// assert_eq!(Visit::FIELDS, &["counter"]);
/// assert_eq!(Visit::attributes().cookie_name, "visit");
/// ```
pub trait SessionSchema: Sized + Send + Sync + 'static {
    /// Stored names of the persisted fields, in declaration order (skipped fields excluded).
    const FIELDS: &'static [&'static str];

    /// The values of the `#[session(...)]` attributes: the defaults the builder starts from.
    fn attributes() -> Attributes;

    /// Encodes every persisted field, in the order of [`FIELDS`](Self::FIELDS).
    fn encode_fields(&self, encoder: &mut FieldEncoder) -> Result<(), FieldError>;

    /// Rebuilds a value from stored fields; a field that is absent takes its default.
    fn decode_fields(fields: &StoredFields<'_>) -> Result<Self, FieldError>;

    /// A session with every field at its default.
    fn fresh() -> Result<Self, FieldError> {
        Self::decode_fields(&StoredFields::empty())
    }
}

/// A field that could not be encoded or decoded: its name, the direction and the kind of error.
///
/// serde's own message is not kept: for a value of the wrong type it quotes the value
/// (`invalid type: string "...", expected u32`), and a session's content must not reach logs or
/// error pages. The name and the [`FieldErrorKind`] say which field to look at and why.
///
/// ```
/// use session_runtime::{FieldErrorKind, StoredFields};
///
/// let fields = StoredFields::parse(br#"{"counter":"a secret"}"#).unwrap();
/// let error = fields.decode::<u32>("counter").unwrap_err();
/// assert_eq!(error.field(), "counter");
/// assert_eq!(error.kind(), FieldErrorKind::Data);
/// assert!(!error.to_string().contains("a secret"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    field: &'static str,
    decoding: bool,
    kind: FieldErrorKind,
}

/// What went wrong with a field, without its value: serde_json's error category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldErrorKind {
    /// The stored bytes are not valid JSON.
    Syntax,
    /// Valid JSON of the wrong type or out of range for the field (or, when encoding, a value
    /// JSON cannot represent, such as a map with non-string keys).
    Data,
    /// The stored JSON ends too early.
    Eof,
    /// Writing or reading the bytes failed.
    Io,
}

impl FieldErrorKind {
    /// The kind of a serde_json error, read from its category and never from its message.
    pub(crate) fn of(error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match error.classify() {
            Category::Syntax => FieldErrorKind::Syntax,
            Category::Data => FieldErrorKind::Data,
            Category::Eof => FieldErrorKind::Eof,
            Category::Io => FieldErrorKind::Io,
        }
    }
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldErrorKind::Syntax => "not valid JSON",
            FieldErrorKind::Data => "wrong type or value",
            FieldErrorKind::Eof => "JSON ends early",
            FieldErrorKind::Io => "I/O error",
        })
    }
}

impl FieldError {
    fn new(field: &'static str, decoding: bool, source: &serde_json::Error) -> Self {
        FieldError {
            field,
            decoding,
            kind: FieldErrorKind::of(source),
        }
    }

    /// The stored name of the field.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What went wrong, without the value.
    pub fn kind(&self) -> FieldErrorKind {
        self.kind
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = if self.decoding { "decode" } else { "encode" };
        write!(
            f,
            "session field `{}` does not {action}: {}",
            self.field, self.kind
        )
    }
}

impl std::error::Error for FieldError {}

/// Collects the JSON encoding of each field, one after the other, in one buffer.
///
/// ```
/// use session_runtime::FieldEncoder;
///
/// let mut encoder = FieldEncoder::default();
/// encoder.field("counter", &3u32).unwrap();
/// encoder.field("user", &Some("ada")).unwrap();
/// assert_eq!(encoder.get(0), Some(&b"3"[..]));
/// assert_eq!(encoder.get(1), Some(&b"\"ada\""[..]));
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldEncoder {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl FieldEncoder {
    /// Appends the encoding of one field.
    pub fn field<V: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &V,
    ) -> Result<(), FieldError> {
        let start = self.bytes.len();
        if let Err(source) = serde_json::to_writer(&mut self.bytes, value) {
            self.bytes.truncate(start);
            return Err(FieldError::new(name, false, &source));
        }
        self.ends.push(self.bytes.len());
        Ok(())
    }

    /// The encoding of field `index`, if that many fields were encoded.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.bytes[start..end])
    }

    /// How many fields were encoded.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no field was encoded.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Writes the fields as one JSON object keyed by `names` (the schema's stored names).
    pub fn write_object(&self, names: &[&str], out: &mut Vec<u8>) {
        self.write_object_with(names, None, out);
    }

    /// Like [`write_object`](Self::write_object), followed by more entries whose values are
    /// raw JSON (an `Option` for one entry or none, a slice or array for several).
    pub fn write_object_with<'e>(
        &self,
        names: &[&str],
        extra: impl IntoIterator<Item = (&'e str, &'e [u8])>,
        out: &mut Vec<u8>,
    ) {
        out.push(b'{');
        let mut first = true;
        let fields = names
            .iter()
            .enumerate()
            .map_while(|(index, name)| Some((*name, self.get(index)?)));
        for (name, value) in fields {
            write_entry(&mut first, name, value, out);
        }
        for (name, value) in extra {
            write_entry(&mut first, name, value, out);
        }
        out.push(b'}');
    }
}

/// Writes `"name":value` into an object, after a comma unless it is the `first` entry.
fn write_entry(first: &mut bool, name: &str, value: &[u8], out: &mut Vec<u8>) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    write_json_string(name, out);
    out.push(b':');
    out.extend_from_slice(value);
}

fn write_json_string(s: &str, out: &mut Vec<u8>) {
    // Stored names are checked by the derive to be plain, but escaping keeps this total.
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Stored fields of one session: each stored name with its raw JSON value.
///
/// ```
/// use session_runtime::StoredFields;
///
/// let fields = StoredFields::parse(br#"{"counter":3}"#).unwrap();
/// assert_eq!(fields.decode::<u32>("counter").unwrap(), Some(3));
/// assert_eq!(fields.decode::<u32>("missing").unwrap(), None);
/// ```
#[derive(Debug, Default)]
pub struct StoredFields<'a> {
    entries: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> StoredFields<'a> {
    /// No fields at all: every field takes its default.
    pub fn empty() -> Self {
        StoredFields {
            entries: Vec::new(),
        }
    }

    /// Parses a JSON object. Anything else (an array, trailing bytes, duplicate keys) is an error.
    pub fn parse(json: &'a [u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// Builds fields from raw values already split by name (server-side stores keep them so).
    pub fn from_entries(entries: Vec<(Cow<'a, str>, &'a RawValue)>) -> Self {
        StoredFields { entries }
    }

    /// Drops the entry `name`, if stored (metadata that travels among the fields of a sealed
    /// cookie, see `envelope`).
    pub(crate) fn remove(&mut self, name: &str) {
        self.entries.retain(|(key, _)| key != name);
    }

    /// The raw JSON of a field, if stored.
    pub fn raw(&self, name: &str) -> Option<&'a RawValue> {
        self.entries
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    }

    /// Decodes a field; `Ok(None)` when it is not stored.
    pub fn decode<V: DeserializeOwned>(&self, name: &'static str) -> Result<Option<V>, FieldError> {
        match self.raw(name) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|source| FieldError::new(name, true, &source)),
        }
    }

    /// Every stored name with its raw JSON.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_ref(), *v))
    }
}

impl<'de> Deserialize<'de> for StoredFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StoredFields<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of session fields")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(Cow<'de, str>, &'de RawValue)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate session field `{key}`"
                        )));
                    }
                    let value: &'de RawValue = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(StoredFields { entries })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_round_trip() {
        let mut encoder = FieldEncoder::default();
        encoder.field("a", &1u8).unwrap();
        encoder.field("b\"q", &"x").unwrap();
        let mut out = Vec::new();
        encoder.write_object(&["a", "b\"q"], &mut out);
        assert_eq!(out, br#"{"a":1,"b\"q":"x"}"#);
        let fields = StoredFields::parse(&out).unwrap();
        assert_eq!(
            fields.decode::<String>("b\"q").unwrap().as_deref(),
            Some("x")
        );
    }

    #[test]
    fn rejects_non_objects_and_duplicates() {
        assert!(StoredFields::parse(b"[1]").is_err());
        assert!(StoredFields::parse(br#"{"a":1,"a":2}"#).is_err());
        assert!(StoredFields::parse(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn wrong_type_names_the_field() {
        let fields = StoredFields::parse(br#"{"n":"x"}"#).unwrap();
        let err = fields.decode::<u32>("n").unwrap_err();
        assert_eq!(err.field(), "n");
        assert!(err.to_string().contains("session field `n`"));
        assert_eq!(err.kind(), FieldErrorKind::Data);
        assert!(!format!("{err} {err:?}").contains("\"x\""), "{err:?}");
    }
}
