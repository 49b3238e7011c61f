//! One session as it travels between the engine and where it is kept: its fields and metadata.
//!
//! The sealed cookie and the store [`Record`] each keep a session in their own shape; both
//! convert to and from an [`Envelope`] here, so the engine reads and writes one shape whatever
//! the backend.
//!
//! Loading borrows: an envelope read from a cookie or a record holds [`StoredFields`] that point
//! into the opened bytes, and decoding a session copies nothing until the fields themselves are
//! built. Saving borrows too: the envelope holds the schema's names and the fields' encoding.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::codec::Timestamps;
use crate::schema::{FieldEncoder, FieldError, FieldErrorKind, StoredFields};
use crate::store::Record;

/// Why stored fields could not be read back. It names the part and the kind of error only:
/// serde's messages quote the offending value, which is session content and must not reach a
/// log.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// A cookie's body is not a JSON object of fields.
    Object(FieldErrorKind),
    /// A store's field is not JSON.
    RecordField(FieldErrorKind),
    /// A field, or a metadata entry of the object, has the wrong type.
    Field(FieldError),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Object(kind) => write!(f, "the session object: {kind}"),
            Unreadable::RecordField(kind) => write!(f, "a stored field: {kind}"),
            Unreadable::Field(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Unreadable {}

/// What a session carries besides its fields. Times are unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Metadata {
    /// The start of the absolute lifetime (`max_lifetime`).
    pub(crate) created_at: u64,
    /// When the session stops being valid; 0 when unknown (a `legacy` cookie, which carries no
    /// sealed timestamps: only the cookie's own Max-Age limits it).
    pub(crate) expires_at: u64,
    /// The session's own idle timeout (`set_expiry`), if it has one.
    pub(crate) idle_timeout: Option<u64>,
    /// When the idle timeout last started counting (the session's creation or its last
    /// rolling refresh), so that the idle timeout in effect now applies to it, even one
    /// shortened since. `None` for values written before it was kept, and for `legacy` cookies.
    pub(crate) refreshed_at: Option<u64>,
}

/// A session's fields and metadata. `F` is [`StoredFields`] when loading and [`EncodedFields`]
/// when saving.
#[derive(Debug)]
pub(crate) struct Envelope<F> {
    /// The fields, by stored name.
    pub(crate) fields: F,
    /// Everything else the session carries.
    pub(crate) meta: Metadata,
}

/// The fields of a session being saved: the schema's stored names with their encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EncodedFields<'a> {
    /// The schema's stored names (`SessionSchema::FIELDS`).
    pub(crate) names: &'static [&'static str],
    /// The encoding of each field, in the order of `names`.
    pub(crate) values: &'a FieldEncoder,
}

impl EncodedFields<'_> {
    /// The stored name and encoding of each field at `indices`, as a store takes them.
    pub(crate) fn owned_entries(
        &self,
        indices: impl IntoIterator<Item = usize>,
    ) -> Vec<(String, Vec<u8>)> {
        indices
            .into_iter()
            .filter_map(|index| {
                let name = self.names.get(index)?;
                Some(((*name).to_owned(), self.values.get(index)?.to_vec()))
            })
            .collect()
    }
}

/// The key under which a sealed cookie's JSON object carries the session's own idle timeout.
///
/// The cookie format has room for two timestamps only (issue and expiry), so the idle timeout
/// rides in the object as a pseudo-field. Cookies already issued carry it so, which is why it
/// stays: field names cannot start with `$`, so it never collides with a field.
pub const IDLE_TIMEOUT_KEY: &str = "$ttl";

/// The key under which a sealed cookie's object, and a store's record, carry the time the
/// session's idle timeout last started counting (unix seconds).
///
/// A pseudo-field like [`IDLE_TIMEOUT_KEY`], for the same reasons: the sealed header has no
/// room for a third time, and every store keeps fields as they are, so records carry it with no
/// change to any store. A value without it is one written before it existed, and opens as
/// before. Only this module reads or writes either key; the codec re-exports them for tools
/// that read sealed values (the wire format documents them).
pub const REFRESHED_KEY: &str = "$refreshed";

impl<'a> Envelope<StoredFields<'a>> {
    /// Reads an opened cookie: its JSON object and sealed timestamps. A `legacy` value has no
    /// timestamps; it counts as created `now`, with no known expiry.
    pub(crate) fn from_cookie_payload(
        body: &'a [u8],
        timestamps: Option<Timestamps>,
        now: u64,
    ) -> Result<Self, Unreadable> {
        let times = timestamps.unwrap_or(Timestamps {
            issued_at: now,
            expires_at: 0,
        });
        let mut fields =
            StoredFields::parse(body).map_err(|e| Unreadable::Object(FieldErrorKind::of(&e)))?;
        let mut take = |key| {
            let value = fields.decode::<u64>(key).map_err(Unreadable::Field);
            fields.remove(key);
            value
        };
        let idle_timeout = take(IDLE_TIMEOUT_KEY)?;
        // Without sealed times (`legacy`) the refresh time could only be compared with an
        // expiry nobody knows; only the cookie's own Max-Age limits such a value.
        let refreshed_at = take(REFRESHED_KEY)?.filter(|_| timestamps.is_some());
        Ok(Envelope {
            fields,
            meta: Metadata {
                created_at: times.issued_at,
                expires_at: times.expires_at,
                idle_timeout,
                refreshed_at,
            },
        })
    }

    /// Reads a store's record; every field must be JSON.
    pub(crate) fn from_record(record: &'a Record) -> Result<Self, Unreadable> {
        let mut entries = Vec::with_capacity(record.fields.len());
        for (name, value) in &record.fields {
            let raw: &RawValue = serde_json::from_slice(value)
                .map_err(|e| Unreadable::RecordField(FieldErrorKind::of(&e)))?;
            entries.push((Cow::Borrowed(name.as_str()), raw));
        }
        let mut fields = StoredFields::from_entries(entries);
        let refreshed_at = fields
            .decode::<u64>(REFRESHED_KEY)
            .map_err(Unreadable::Field)?;
        fields.remove(REFRESHED_KEY);
        Ok(Envelope {
            fields,
            meta: Metadata {
                created_at: record.created_at,
                expires_at: record.expires_at,
                idle_timeout: record.idle_timeout,
                refreshed_at,
            },
        })
    }
}

impl Envelope<EncodedFields<'_>> {
    /// The JSON object a cookie seals, and the timestamps sealed with it.
    pub(crate) fn to_cookie_payload(&self) -> (Vec<u8>, Timestamps) {
        let mut body = Vec::with_capacity(64 + self.fields.values.len() * 16);
        let idle = self.meta.idle_timeout.map(|t| t.to_string());
        let refreshed = self.meta.refreshed_at.map(|t| t.to_string());
        let extra = [(IDLE_TIMEOUT_KEY, idle), (REFRESHED_KEY, refreshed)];
        self.fields.values.write_object_with(
            self.fields.names,
            extra
                .iter()
                .filter_map(|(key, value)| Some((*key, value.as_deref()?.as_bytes()))),
            &mut body,
        );
        let times = Timestamps {
            issued_at: self.meta.created_at,
            expires_at: self.meta.expires_at,
        };
        (body, times)
    }

    /// A new record holding every field.
    pub(crate) fn to_record(&self) -> Record {
        let mut fields = self.fields.owned_entries(0..self.fields.names.len());
        fields.extend(self.meta.refreshed_entry());
        Record {
            fields,
            created_at: self.meta.created_at,
            expires_at: self.meta.expires_at,
            idle_timeout: self.meta.idle_timeout,
        }
    }
}

impl Metadata {
    /// The record field that carries [`refreshed_at`](Self::refreshed_at), if known: written
    /// with a record, and with an update whenever it moves.
    pub(crate) fn refreshed_entry(&self) -> Option<(String, Vec<u8>)> {
        let at = self.refreshed_at?;
        Some((REFRESHED_KEY.to_owned(), at.to_string().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded() -> FieldEncoder {
        let mut values = FieldEncoder::default();
        values.field("counter", &3u32).unwrap();
        values.field("user", &"ada").unwrap();
        values
    }

    const NAMES: &[&str] = &["counter", "user"];

    fn meta(idle_timeout: Option<u64>) -> Metadata {
        Metadata {
            created_at: 100,
            expires_at: 200,
            idle_timeout,
            refreshed_at: Some(150),
        }
    }

    #[test]
    fn cookie_payload_keeps_the_idle_timeout_in_the_object() {
        let values = encoded();
        let out = Envelope {
            fields: EncodedFields {
                names: NAMES,
                values: &values,
            },
            meta: meta(Some(60)),
        };
        let (body, times) = out.to_cookie_payload();
        assert_eq!(
            body,
            br#"{"counter":3,"user":"ada","$ttl":60,"$refreshed":150}"#
        );
        assert_eq!(
            times,
            Timestamps {
                issued_at: 100,
                expires_at: 200
            }
        );
        let back = Envelope::from_cookie_payload(&body, Some(times), 0).unwrap();
        assert_eq!(back.meta, meta(Some(60)));
        assert_eq!(back.fields.decode::<u32>("counter").unwrap(), Some(3));
        assert!(back.fields.raw(IDLE_TIMEOUT_KEY).is_none());
        assert!(back.fields.raw(REFRESHED_KEY).is_none());
        // Written before the refresh time was kept: it opens, with none.
        let old = Envelope::from_cookie_payload(br#"{"counter":3}"#, Some(times), 0).unwrap();
        assert_eq!(old.meta.refreshed_at, None);
    }

    #[test]
    fn legacy_payload_counts_as_created_now() {
        let back = Envelope::from_cookie_payload(br#"{"counter":1}"#, None, 42).unwrap();
        assert_eq!(
            back.meta,
            Metadata {
                created_at: 42,
                expires_at: 0,
                idle_timeout: None,
                refreshed_at: None,
            }
        );
        // Without sealed times a refresh time means nothing.
        let back = Envelope::from_cookie_payload(br#"{"$refreshed":1}"#, None, 42).unwrap();
        assert_eq!(back.meta.refreshed_at, None);
        assert!(back.fields.raw(REFRESHED_KEY).is_none());
    }

    #[test]
    fn a_malformed_idle_timeout_is_unreadable() {
        assert!(Envelope::from_cookie_payload(br#"{"$ttl":"x"}"#, None, 0).is_err());
        assert!(Envelope::from_cookie_payload(br#"{"$refreshed":-1}"#, None, 0).is_err());
    }

    #[test]
    fn record_round_trip() {
        let values = encoded();
        let out = Envelope {
            fields: EncodedFields {
                names: NAMES,
                values: &values,
            },
            meta: meta(None),
        };
        let record = out.to_record();
        assert_eq!(record.field("user"), Some(&b"\"ada\""[..]));
        assert_eq!(record.field(REFRESHED_KEY), Some(&b"150"[..]));
        let back = Envelope::from_record(&record).unwrap();
        assert_eq!(back.meta, meta(None));
        assert!(back.fields.raw(REFRESHED_KEY).is_none());
        assert_eq!(
            back.fields.decode::<String>("user").unwrap().as_deref(),
            Some("ada")
        );
        let broken = Record {
            fields: vec![("counter".into(), b"{".to_vec())],
            ..record
        };
        assert!(Envelope::from_record(&broken).is_err());
    }
}
