//! Errors: at startup ([`ConfigError`]), while extracting ([`SessionRejection`]) and while saving.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::schema::FieldError;
use crate::store::StoreError;

/// A mistake in the session configuration, found when the layer is built. Its message says
/// what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret was configured for a store that seals cookies.
    MissingSecret {
        /// The session type.
        type_name: &'static str,
        /// The environment variable that would have provided it.
        variable: String,
    },
    /// A secret is too short.
    ShortSecret {
        /// The session type.
        type_name: &'static str,
        /// Where it came from (a variable name or `builder`).
        origin: String,
        /// Its length in bytes.
        len: usize,
    },
    /// A setting has a value that cannot work.
    Invalid {
        /// The session type.
        type_name: &'static str,
        /// The setting (attribute or environment variable name).
        setting: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The store could not be set up.
    Store {
        /// The session type.
        type_name: &'static str,
        /// Why.
        source: StoreError,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingSecret {
                type_name,
                variable,
            } => write!(
                f,
                "session `{type_name}`: no secret configured; set the environment variable \
                 {variable} to at least {min} random bytes (for example the output of \
                 `openssl rand -base64 48`) or pass one with `.secret(...)`",
                min = crate::codec::MIN_SECRET_LEN
            ),
            ConfigError::ShortSecret {
                type_name,
                origin,
                len,
            } => write!(
                f,
                "session `{type_name}`: the secret from {origin} is {len} bytes; it must be at \
                 least {min} (for example the output of `openssl rand -base64 48`)",
                min = crate::codec::MIN_SECRET_LEN
            ),
            ConfigError::Invalid {
                type_name,
                setting,
                message,
            } => write!(f, "session `{type_name}`: {setting}: {message}"),
            ConfigError::Store { type_name, source } => {
                write!(f, "session `{type_name}`: store: {source}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Store { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why `Session<T>` could not be extracted. As a response: 500 for a programming mistake,
/// 503 when the store is unavailable.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// The handler asks for a session type whose layer is not installed.
    MissingLayer {
        /// The session type.
        type_name: &'static str,
    },
    /// The session is already held by another extractor in this request.
    AlreadyExtracted {
        /// The session type.
        type_name: &'static str,
    },
    /// The store failed or could not be reached.
    StoreUnavailable {
        /// The session type.
        type_name: &'static str,
        /// Why.
        source: StoreError,
    },
    /// A fresh session could not be built: [`SessionSchema::fresh`](crate::SessionSchema::fresh)
    /// failed. Types from `#[derive(Session)]` never fail there (every absent field takes its
    /// default); only a hand-written `SessionSchema` can.
    Field {
        /// The session type.
        type_name: &'static str,
        /// Why.
        source: FieldError,
    },
}

impl SessionRejection {
    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            SessionRejection::StoreUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionRejection::MissingLayer { type_name } => write!(
                f,
                "Session<{type_name}> was extracted, but the session layer for `{type_name}` is \
                 not installed: add `.layer({type_name}::layer().from_env()?.build().await?)` to \
                 the router"
            ),
            SessionRejection::AlreadyExtracted { type_name } => write!(
                f,
                "Session<{type_name}> is extracted twice in one request; extract it once and \
                 pass it along"
            ),
            SessionRejection::StoreUnavailable { type_name, source } => write!(
                f,
                "session `{type_name}`: the store is unavailable: {source}"
            ),
            SessionRejection::Field { type_name, source } => {
                write!(f, "session `{type_name}`: {source}")
            }
        }
    }
}

impl std::error::Error for SessionRejection {}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        match &self {
            SessionRejection::StoreUnavailable { .. } => {
                tracing::error!(error = %self, "session store unavailable");
                (self.status(), "Service unavailable").into_response()
            }
            _ => {
                tracing::error!(error = %self, "session extraction failed");
                (self.status(), self.to_string()).into_response()
            }
        }
    }
}

/// Why a session could not be saved at the end of a request.
#[derive(Debug)]
pub(crate) enum SaveError {
    Store(StoreError),
    Field(FieldError),
    Seal(crate::codec::SealError),
    Oversize { size: usize, limit: usize },
    Rng(getrandom::Error),
}

impl SaveError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            SaveError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::Store(e) => write!(f, "the store failed: {e}"),
            SaveError::Field(e) => write!(f, "{e}"),
            SaveError::Seal(e) => write!(f, "sealing failed: {e}"),
            SaveError::Oversize { size, limit } => write!(
                f,
                "the sealed session cookie is {size} bytes (name and value), over max_cookie_size \
                 {limit}: browsers drop such cookies; store less in the session, enable \
                 compression, set `oversize = \"chunk\"`, or move it to a server-side store"
            ),
            SaveError::Rng(e) => write!(f, "the OS random number generator failed: {e}"),
        }
    }
}
