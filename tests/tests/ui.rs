//! Compile-time behaviour of `#[derive(Session)]`: every mistake in the attributes gives
//! exactly one clear error on the offending token, and every valid form compiles.
//!
//! Regenerate the expected output after an intended change with
//! `TRYBUILD=overwrite cargo test -p integration-tests --test ui`, then review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
