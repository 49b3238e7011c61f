//! The JSON document of one session, as the files and memcached stores keep it.
//!
//! ```text
//! {"v":1,"created_at":1700000000,"expires_at":1700086400,"idle_timeout":null,
//!  "fields":{"user":{"id":7},"theme":"dark"}}
//! ```
//!
//! Field encodings are kept verbatim as JSON values; an encoding that is not exactly one JSON
//! value (only a custom caller could hand one) goes under `"bin"`, base64-encoded, so every
//! encoding round-trips byte for byte.
//!
//! ```
//! use session_runtime::store::{Record, document};
//!
//! let record = Record {
//!     fields: vec![("theme".into(), b"\"dark\"".to_vec())],
//!     created_at: 1,
//!     expires_at: 2,
//!     idle_timeout: None,
//! };
//! let bytes = document::encode(&record);
//! assert_eq!(document::decode(&bytes).unwrap(), record);
//! assert!(document::decode(b"not json").is_err());
//! ```

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::Record;

/// The version in every document.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct DocumentOut<'a> {
    v: u32,
    created_at: u64,
    expires_at: u64,
    idle_timeout: Option<u64>,
    fields: Entries<&'a str, &'a RawValue>,
    #[serde(skip_serializing_if = "Entries::is_empty")]
    bin: Entries<&'a str, String>,
}

#[derive(Deserialize)]
struct DocumentIn<'a> {
    v: u32,
    created_at: u64,
    expires_at: u64,
    #[serde(default)]
    idle_timeout: Option<u64>,
    #[serde(borrow)]
    fields: Entries<String, &'a RawValue>,
    #[serde(default)]
    bin: Entries<String, String>,
}

/// A JSON object kept as its entries, in order.
struct Entries<K, V>(Vec<(K, V)>);

impl<K, V> Entries<K, V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<K: Serialize, V: Serialize> Serialize for Entries<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
            type Value = Entries<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of field names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// The encoding of a field as one JSON value, if it is exactly one (no surrounding space).
fn as_exact_json(value: &[u8]) -> Option<&RawValue> {
    serde_json::from_slice::<&RawValue>(value)
        .ok()
        .filter(|raw| raw.get().as_bytes() == value)
}

/// The document of a record.
pub fn encode(record: &Record) -> Vec<u8> {
    let mut fields = Vec::with_capacity(record.fields.len());
    let mut bin = Vec::new();
    for (name, value) in &record.fields {
        match as_exact_json(value) {
            Some(raw) => fields.push((name.as_str(), raw)),
            None => bin.push((name.as_str(), STANDARD.encode(value))),
        }
    }
    let document = DocumentOut {
        v: FORMAT_VERSION,
        created_at: record.created_at,
        expires_at: record.expires_at,
        idle_timeout: record.idle_timeout,
        fields: Entries(fields),
        bin: Entries(bin),
    };
    // Serializing plain numbers, strings and already-valid JSON into a Vec cannot fail.
    serde_json::to_vec(&document).unwrap_or_default()
}

/// The record of a document; an error says what is wrong with it.
pub fn decode(bytes: &[u8]) -> Result<Record, String> {
    let document: DocumentIn<'_> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if document.v != FORMAT_VERSION {
        return Err(format!("unknown format version {}", document.v));
    }
    let mut record = Record {
        fields: Vec::with_capacity(document.fields.0.len() + document.bin.0.len()),
        created_at: document.created_at,
        expires_at: document.expires_at,
        idle_timeout: document.idle_timeout,
    };
    for (name, raw) in &document.fields.0 {
        record.set_field(name, raw.get().as_bytes());
    }
    for (name, encoded) in &document.bin.0 {
        let value = STANDARD
            .decode(encoded)
            .map_err(|e| format!("field `{name}`: {e}"))?;
        record.set_field(name, &value);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_json_and_other_bytes() {
        let record = Record {
            fields: vec![
                ("a".into(), br#"{"x":[1,2]}"#.to_vec()),
                ("b".into(), b" 1 ".to_vec()),
                ("c".into(), vec![0xff, 0x00]),
                ("d".into(), b"\"text\"".to_vec()),
            ],
            created_at: 10,
            expires_at: 20,
            idle_timeout: Some(5),
        };
        let bytes = encode(&record);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(r#""a":{"x":[1,2]}"#), "{text}");
        let mut decoded = decode(&bytes).unwrap();
        decoded.fields.sort();
        assert_eq!(decoded, record);
        assert!(decode(b"{}").is_err());
        assert!(decode(br#"{"v":2,"created_at":1,"expires_at":2,"fields":{}}"#).is_err());
    }
}
