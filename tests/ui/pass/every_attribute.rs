//! Every struct attribute, split across several `#[session(...)]`, and every field attribute.

use session_runtime::{EncryptionMode, Oversize, SameSite, Session, SessionSchema, StoreChoice};

#[derive(Session)]
#[session(cookie_name = "__Host-app", expire = 600, max_lifetime = 86400)]
#[session(rolling = false, sessioncookie, store = "cookie", encryption_mode = "none")]
#[session(compression_level = 22, secure = true, http_only = false, partitioned)]
#[session(same_site = "none", path = "/", max_cookie_size = 2048, oversize = "chunk")]
struct CookieSession {
    counter: u64,
}

#[derive(Session)]
#[session(store = "files", filename_template = "visit-%s.json", prefix = "app:")]
#[session(domain = "example.com", path = "/app", same_site = "strict", encryption_mode = "legacy")]
#[session(compression_level = 0, secure = false, sessioncookie = false, rolling)]
struct FileSession {
    counter: u64,
}

// Without `store`, options of every store may be set: the store can be chosen at run time.
#[derive(Session)]
#[session(prefix = "p:", filename_template = "%s", max_cookie_size = 64, oversize = "error")]
#[session(same_site = "lax", encryption_mode = "modern")]
struct Undecided {
    counter: u64,
}

fn one() -> u8 {
    1
}

#[derive(Session)]
#[session(store = "memory")]
struct Fields {
    #[session(default)]
    plain: u8,
    #[session(default = "one")]
    from_function: u8,
    #[session(rename = "r", default = "crate::one")]
    renamed: u8,
    #[session(skip, default = "one")]
    skipped: u8,
    #[session(skip = false)]
    not_skipped: u8,
    #[session(rename = "with space and ünïcode")]
    unusual: u8,
}

fn main() {
    let a = CookieSession::attributes();
    assert_eq!(a.cookie_name, "__Host-app");
    assert_eq!(a.expire, 600);
    assert_eq!(a.max_lifetime, Some(86400));
    assert!(!a.rolling);
    assert!(a.sessioncookie);
    assert!(matches!(a.store, StoreChoice::Cookie));
    assert_eq!(a.encryption_mode, EncryptionMode::None);
    assert_eq!(a.compression_level, 22);
    assert!(a.secure);
    assert!(!a.http_only);
    assert!(a.partitioned);
    assert_eq!(a.same_site, SameSite::None);
    assert_eq!(a.path, "/");
    assert_eq!(a.max_cookie_size, 2048);
    assert_eq!(a.oversize, Oversize::Chunk);

    let a = FileSession::attributes();
    assert!(matches!(a.store, StoreChoice::Files));
    assert_eq!(a.filename_template, "visit-%s.json");
    assert_eq!(a.prefix, Some("app:"));
    assert_eq!(a.domain, Some("example.com"));
    assert_eq!(a.path, "/app");
    assert_eq!(a.same_site, SameSite::Strict);
    assert_eq!(a.encryption_mode, EncryptionMode::Legacy);
    assert_eq!(a.compression_level, 0);
    assert!(!a.secure);
    assert!(!a.sessioncookie);
    assert!(a.rolling);

    let a = Undecided::attributes();
    assert!(matches!(a.store, StoreChoice::Cookie));
    assert_eq!(a.prefix, Some("p:"));
    assert_eq!(a.filename_template, "%s");
    assert_eq!(a.max_cookie_size, 64);
    assert_eq!(a.oversize, Oversize::Error);

    assert_eq!(
        Fields::FIELDS,
        &["plain", "from_function", "r", "not_skipped", "with space and ünïcode"]
    );
    let fresh = Fields::fresh().unwrap();
    assert_eq!(
        (fresh.plain, fresh.from_function, fresh.renamed, fresh.skipped, fresh.not_skipped, fresh.unusual),
        (0, 1, 1, 1, 0, 0)
    );
}
