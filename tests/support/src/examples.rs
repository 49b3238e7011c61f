//! The example programs of the `examples` package, as binaries the tests can run.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// An example binary, built (or found up to date) by `cargo build` once per test binary, so a
/// test never runs a stale example.
///
/// The binary is looked up beside the running test binary (`target/<profile>/examples/`), so it
/// is built with the same target directory and profile as the test.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("the path of the test binary");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/<profile>/deps");
    let binary = profile_dir.join("examples").join(name);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "examples", "--example", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the {name} example failed");
        built.push(name.to_owned());
    }
    binary
}
