//! Secrets for the layers the tests build: long enough for every encryption mode.

/// A secret long enough for every mode.
pub const SECRET: &str = "test secret: 0123456789abcdef0123456789abcdef";
/// Another one, for rotation tests.
pub const OTHER_SECRET: &str = "another secret: fedcba9876543210fedcba9876543210";
