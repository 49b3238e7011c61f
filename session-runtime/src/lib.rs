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
#![warn(missing_docs)]

mod builder;
pub mod codec;
pub mod config;
mod cookies;
mod engine;
mod envelope;
mod error;
mod extract;
mod id;
mod layer;
pub mod metrics;
pub mod schema;
mod slot;
pub mod store;
mod time;
mod validate;

pub use builder::SessionLayerBuilder;
pub use config::{Attributes, EncryptionMode, Oversize, SameSite, StoreChoice, StoreKind};
pub use error::{ConfigError, SessionRejection};
pub use extract::Session;
pub use id::{SessionId, StoreKey};
pub use layer::{SessionLayer, SessionService};
pub use metrics::{MetricsSnapshot, SessionMetrics};
pub use schema::{FieldEncoder, FieldError, SessionSchema, StoredFields};
pub use session_macros::Session;

/// What the derive's generated code names. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::builder::SessionLayerBuilder;
    pub use crate::config::{Attributes, EncryptionMode, Oversize, SameSite, StoreChoice};
    pub use crate::schema::{FieldEncoder, FieldError, SessionSchema, StoredFields};
    pub use serde;
}
