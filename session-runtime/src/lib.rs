//! Declarative, typed, encrypted sessions for axum.
#![forbid(unsafe_code)]

pub mod config;
pub mod schema;

pub use config::{Attributes, EncryptionMode, Oversize, SameSite, StoreChoice};
pub use schema::{FieldEncoder, FieldError, SessionSchema, StoredFields};
pub use session_macros::Session;
