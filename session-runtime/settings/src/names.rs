//! The closed sets of names a setting takes as a string (`store = "redis"`,
//! `SESSION_ENCRYPTION_MODE=legacy`), each declared once with its spellings.

use std::fmt;

/// Declares an enum of names: its variants, their spellings, and lookups both ways.
macro_rules! named_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every accepted spelling, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// What these names are, for messages.
            pub const WHAT: &'static str = $what;

            /// The spelling of this value.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The spelling of this value: [`name`](Self::name), under the name the runtime's
            /// API has always given it.
            pub const fn as_str(self) -> &'static str {
                self.name()
            }

            /// The Rust identifier of the variant, shared by the runtime's enum of the same
            /// name (the derive emits `EncryptionMode::Legacy` from it).
            pub const fn variant(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                }
            }

            /// The value spelled `name`, exactly (spellings are lowercase).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Like [`from_name`](Self::from_name), with an error that lists the spellings.
            pub fn parse(name: &str) -> Result<Self, UnknownName> {
                Self::from_name(name).ok_or_else(|| UnknownName::new(Self::WHAT, name, Self::NAMES))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(name: &str) -> Result<Self, UnknownName> {
                Self::parse(name)
            }
        }
    };
}

named_enum!(
    /// The stores built into the runtime, by the name `store = "..."` and `SESSION_STORE` take.
    ///
    /// ```
    /// use session_settings::StoreKind;
    ///
    /// assert_eq!(StoreKind::from_name("redis"), Some(StoreKind::Redis));
    /// assert!(!StoreKind::Cookie.is_server_side());
    /// assert_eq!(StoreKind::Postgres.feature(), Some("postgres"));
    /// ```
    StoreKind, "store", {
        /// Everything in the sealed cookie: no server state.
        Cookie = "cookie",
        /// The process's memory.
        Memory = "memory",
        /// One file per session in a directory.
        Files = "files",
        /// Redis, one server or a cluster.
        Redis = "redis",
        /// PostgreSQL.
        Postgres = "postgres",
        /// memcached.
        Memcached = "memcached",
    }
);

impl StoreKind {
    /// Whether the data lives on the server (everything but the cookie store).
    pub const fn is_server_side(self) -> bool {
        !matches!(self, StoreKind::Cookie)
    }

    /// The runtime's cargo feature that compiles this store in, if it needs one.
    pub const fn feature(self) -> Option<&'static str> {
        match self {
            StoreKind::Cookie | StoreKind::Memory | StoreKind::Files => None,
            StoreKind::Redis => Some("redis"),
            StoreKind::Postgres => Some("postgres"),
            StoreKind::Memcached => Some("memcached"),
        }
    }
}

named_enum!(
    /// How a value is protected when it leaves the server.
    ///
    /// ```
    /// use session_settings::EncryptionMode;
    ///
    /// assert_eq!(EncryptionMode::parse("legacy"), Ok(EncryptionMode::Legacy));
    /// assert!(EncryptionMode::parse("aes").is_err());
    /// ```
    EncryptionMode, "encryption mode", {
        /// XChaCha20-Poly1305 with HKDF-derived keys, key ids and sealed timestamps.
        Modern = "modern",
        /// The `cookie` crate's private cookies (AES-256-GCM), for migrating existing apps.
        Legacy = "legacy",
        /// Readable but tamper-proof: HMAC-SHA256, with sealed timestamps.
        None = "none",
    }
);

named_enum!(
    /// The cookie's `SameSite` attribute.
    ///
    /// ```
    /// assert_eq!(session_settings::SameSite::Lax.name(), "lax");
    /// ```
    SameSite, "same_site value", {
        /// Sent only with requests from the same site.
        Strict = "strict",
        /// Also sent with top-level navigations from other sites.
        Lax = "lax",
        /// Sent with every request; browsers require `Secure`.
        None = "none",
    }
);

named_enum!(
    /// What the cookie store does with a session too large for one cookie.
    ///
    /// ```
    /// assert_eq!(session_settings::Oversize::NAMES, ["error", "chunk"]);
    /// ```
    Oversize, "oversize policy", {
        /// Fail the response with a clear error naming the type and the size.
        Error = "error",
        /// Split the value across several cookies.
        Chunk = "chunk",
    }
);

/// A name that is not one of the accepted spellings.
///
/// ```
/// let error = session_settings::StoreKind::parse("redix").unwrap_err();
/// assert!(error.to_string().contains("expected one of: cookie, memory"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    what: &'static str,
    given: String,
    accepted: &'static [&'static str],
}

impl UnknownName {
    /// What was given, cut to 64 characters: an error message must not repeat a long value.
    fn new(what: &'static str, given: &str, accepted: &'static [&'static str]) -> Self {
        UnknownName {
            what,
            given: given.chars().take(64).collect(),
            accepted,
        }
    }

    /// The accepted spellings.
    pub fn accepted(&self) -> &'static [&'static str] {
        self.accepted
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`; expected one of: {}",
            self.what,
            self.given.escape_debug(),
            self.accepted.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}
