//! No attributes at all: the runtime's defaults, and the struct name in snake_case as the
//! cookie name. Also: visibility, raw identifiers, and user items named like generated locals.

use session_runtime::{EncryptionMode, Session, SessionSchema, StoreChoice};

#[derive(Session)]
pub(crate) struct MyAppSession {
    r#type: String,
    #[session(default = "fields")]
    encoder: u32,
    value: bool,
}

// Named like the generated code's locals: the generated code must still call this one.
fn fields() -> u32 {
    42
}

mod inner {
    #[derive(session_runtime::Session)]
    pub struct HTTPState {
        pub hits: u32,
    }
}

#[derive(Session)]
struct Empty {}

fn main() {
    let a = MyAppSession::attributes();
    assert_eq!(a.type_name, "MyAppSession");
    assert_eq!(a.cookie_name, "my_app_session");
    assert_eq!(a.expire, 3600);
    assert_eq!(a.max_lifetime, None);
    assert!(matches!(a.store, StoreChoice::Cookie));
    assert_eq!(a.encryption_mode, EncryptionMode::Modern);
    assert_eq!(MyAppSession::FIELDS, &["type", "encoder", "value"]);
    let fresh = MyAppSession::fresh().unwrap();
    assert_eq!((fresh.r#type.as_str(), fresh.encoder, fresh.value), ("", 42, false));

    assert_eq!(inner::HTTPState::attributes().cookie_name, "http_state");
    assert_eq!(inner::HTTPState::fresh().unwrap().hits, 0);
    let _ = inner::HTTPState::layer();

    assert!(Empty::FIELDS.is_empty());
    let _ = Empty::fresh().unwrap();
}
