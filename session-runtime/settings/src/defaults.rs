//! The value of every setting that nobody set, and the limits the rules hold values to.
//!
//! ```
//! assert_eq!(session_settings::defaults::EXPIRE, 3600);
//! ```

use crate::names::{EncryptionMode, Oversize, SameSite, StoreKind};

/// Idle timeout in seconds: an hour, the common choice of session frameworks for
/// ordinary-risk apps (OWASP suggests 15 to 30 minutes for high-value ones).
pub const EXPIRE: u64 = 3600;
/// Absolute timeout in seconds when `max_lifetime` is not set: 24 hours, after which a session
/// must log in again however active it has been, so that a stolen cookie cannot be kept alive
/// by use forever.
///
/// OWASP suggests 4 to 8 hours for an application used through a working day; a day lets a
/// consumer app keep a visitor logged in from morning to night, and apps with more at stake set
/// less. Never shorter than the idle timeout in effect: when `expire` (or a session's own
/// `set_expiry`) is longer and `max_lifetime` is not set, that idle timeout is the absolute
/// timeout too.
pub const MAX_LIFETIME: u64 = 24 * 3600;
/// Whether activity extends the idle timeout.
pub const ROLLING: bool = true;
/// A browser-session cookie (no `Max-Age`)?
pub const SESSIONCOOKIE: bool = false;
/// Where the data lives: in the sealed cookie, so nothing is needed on the server.
pub const STORE: StoreKind = StoreKind::Cookie;
/// How values are protected.
pub const ENCRYPTION_MODE: EncryptionMode = EncryptionMode::Modern;
/// zstd level; 0 is off.
pub const COMPRESSION_LEVEL: i32 = 0;
/// The cookie's `Secure` attribute: off, so that plain-HTTP development works out of the box.
pub const SECURE: bool = false;
/// The cookie's `HttpOnly` attribute: scripts cannot read the session cookie.
pub const HTTP_ONLY: bool = true;
/// The cookie's `SameSite` attribute.
pub const SAME_SITE: SameSite = SameSite::Lax;
/// The cookie's `Path` attribute.
pub const PATH: &str = "/";
/// The cookie's `Partitioned` attribute.
pub const PARTITIONED: bool = false;
/// File name of a session in the files store.
pub const FILENAME_TEMPLATE: &str = "sess_%s";
/// Largest cookie, name plus value: browsers ignore larger ones (RFC 6265bis).
pub const MAX_COOKIE_SIZE: usize = 4096;
/// What happens when a cookie would be larger than `max_cookie_size`.
pub const OVERSIZE: Oversize = Oversize::Error;
/// Most cookies one session may be split across with `oversize = "chunk"`.
pub const MAX_CHUNKS: usize = 8;
/// Sessions the memory store holds before it evicts.
pub const MEMORY_CAPACITY: usize = 100_000;

/// Smallest and largest zstd level.
pub const COMPRESSION_LEVELS: std::ops::RangeInclusive<i32> = 0..=22;
/// Accepted `max_cookie_size`: below 64 bytes no sealed value fits.
pub const MAX_COOKIE_SIZES: std::ops::RangeInclusive<usize> = 64..=4096;
/// Accepted `max_chunks` when chunking.
pub const CHUNK_COUNTS: std::ops::RangeInclusive<usize> = 2..=64;
/// Longest cookie name: it is sent with every request and bound into every sealed value.
pub const MAX_COOKIE_NAME_LEN: usize = 200;
/// Longest store key prefix.
pub const MAX_PREFIX_LEN: usize = 128;
