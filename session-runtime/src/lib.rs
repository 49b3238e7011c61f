//! Declarative, typed, encrypted sessions for axum.
//!
//! Declare a struct, derive [`Session`](macro@Session), add its layer, and take
//! [`Session<T>`](struct@Session) in handlers: the fields are typed properties, the cookie is
//! sealed with XChaCha20-Poly1305 by default, and only real changes are written.
//!
//! ```
//! use axum::{Router, routing::get};
//! use session_runtime::Session;
//!
//! #[derive(Session)]
//! #[session(cookie_name = "myapp", expire = 3600)]
//! struct Visit {
//!     counter: u32,
//! }
//!
//! async fn count(mut visit: Session<Visit>) -> String {
//!     visit.counter += 1;
//!     format!("This is your {} visit", visit.counter)
//! }
//!
//! # async fn app() -> Result<Router, session_runtime::ConfigError> {
//! let app = Router::new()
//!     .route("/counter", get(count))
//!     .layer(Visit::layer().from_env()?.build().await?);
//! # Ok(app) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
pub mod codec;
mod config;
mod cookies;
mod engine;
mod envelope;
mod error;
mod extract;
mod id;
mod layer;
pub mod metrics;
mod schema;
mod slot;
pub mod store;
mod time;
mod validate;

pub use builder::SessionLayerBuilder;
pub use config::{
    Attributes, EncryptionMode, Oversize, SameSite, StoreChoice, StoreFactory, StoreKind,
    UnknownName,
};
pub use error::{ConfigError, SessionRejection};
pub use extract::Session;
pub use id::{SessionId, StoreKey};
pub use layer::{SessionLayer, SessionService};
pub use schema::{FieldEncoder, FieldError, FieldErrorKind, SessionSchema, StoredFields};
pub use session_macros::Session;

/// What the derive's generated code names. Not a public API.
///
/// The name carries the version (`_vMAJOR_MINOR`), as the derive's does: a derive and a
/// runtime of different versions fail to compile on this path instead of deeper inside it.
#[doc(hidden)]
pub mod __private_v0_1 {
    pub use crate::builder::SessionLayerBuilder;
    pub use crate::config::{Attributes, EncryptionMode, Oversize, SameSite, StoreChoice};
    pub use crate::schema::{FieldEncoder, FieldError, SessionSchema, StoredFields};
    pub use serde;

    /// The module's path, for the test that it follows the crate version.
    #[cfg(test)]
    pub(crate) const PATH: &str = module_path!();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_private_module_follows_the_version() {
        let expected = format!(
            "session_runtime::__private_v{}_{}",
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(super::__private_v0_1::PATH, expected);
    }
}
