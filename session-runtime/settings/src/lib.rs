//! The one specification of every setting of a session type, shared by `#[derive(Session)]`
//! (which checks attributes at compile time) and the runtime's layer builder (which checks the
//! same values again after code and the environment may have changed them).
//!
//! - [`Setting`]: a typed key per setting, with its attribute name and environment variable.
//! - [`StoreKind`], [`EncryptionMode`], [`SameSite`], [`Oversize`]: the accepted spellings.
//! - [`defaults`]: the value of every setting nobody set.
//! - [`rules`]: checks of one value, and [`check`] for the rules that relate several values,
//!   each returning [`Problem`]s (`{ setting, rule, message }`).
//!
//! A rule lives here once. The derive turns a [`Problem`] into a compile error on the
//! attribute its [`Setting`] names; the builder turns it into a `ConfigError` naming the
//! setting, or the environment variable it came from.
//!
//! ```
//! use session_settings::{Setting, Values, check};
//!
//! let values = Values {
//!     cookie_name: Some("__HOST-id"),
//!     secure: Some(false),
//!     ..Values::defaults()
//! };
//! let problems = check(&values);
//! assert_eq!(problems[0].setting, Setting::CookieName);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod defaults;
mod names;
mod problem;
pub mod rules;
mod setting;
mod values;

pub use names::{EncryptionMode, Oversize, SameSite, StoreKind, UnknownName};
pub use problem::{Problem, Rule};
pub use rules::check;
pub use setting::{Setting, SettingSet};
pub use values::{StoreValue, Values};
