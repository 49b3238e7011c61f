//! The example of the documentation: every field kind, with a round trip through the runtime.

use session_runtime::{FieldEncoder, SessionSchema, StoreChoice, StoredFields};
use session_runtime::Session;

fn default_theme() -> String {
    "dark".to_owned()
}

#[derive(Session)]
#[session(cookie_name = "myapp", expire = 3600, store = "redis", compression_level = 3)]
struct Visit {
    counter: u32,
    #[session(rename = "u")]
    user: Option<String>,
    #[session(default = "default_theme")]
    theme: String,
    #[session(skip)]
    scratch: Vec<u8>,
}

fn main() {
    assert_eq!(Visit::FIELDS, &["counter", "u", "theme"]);

    let attributes = Visit::attributes();
    assert_eq!(attributes.type_name, "Visit");
    assert_eq!(attributes.cookie_name, "myapp");
    assert_eq!(attributes.expire, 3600);
    assert!(matches!(attributes.store, StoreChoice::Redis));
    assert_eq!(attributes.compression_level, 3);

    // Absent fields take their defaults.
    let fresh = Visit::fresh().unwrap();
    assert_eq!(fresh.counter, 0);
    assert_eq!(fresh.user, None);
    assert_eq!(fresh.theme, "dark");
    assert!(fresh.scratch.is_empty());

    // Stored fields round-trip under their stored names; skipped ones are never written.
    let visit = Visit {
        counter: 7,
        user: Some("ada".to_owned()),
        theme: "light".to_owned(),
        scratch: vec![1, 2, 3],
    };
    let mut encoder = FieldEncoder::default();
    visit.encode_fields(&mut encoder).unwrap();
    assert_eq!(encoder.len(), 3);
    let mut json = Vec::new();
    encoder.write_object(Visit::FIELDS, &mut json);
    assert_eq!(json, br#"{"counter":7,"u":"ada","theme":"light"}"#);

    let fields = StoredFields::parse(&json).unwrap();
    let back = Visit::decode_fields(&fields).unwrap();
    assert_eq!(back.counter, 7);
    assert_eq!(back.user.as_deref(), Some("ada"));
    assert_eq!(back.theme, "light");
    assert!(back.scratch.is_empty());

    // A wrong stored type is an error naming the stored field.
    let bad = StoredFields::parse(br#"{"u":3}"#).unwrap();
    let error = Visit::decode_fields(&bad).err().unwrap();
    assert_eq!(error.field(), "u");

    let _builder = Visit::layer();
}
