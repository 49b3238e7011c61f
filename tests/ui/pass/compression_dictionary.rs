//! `compression_dictionary` includes the file in the binary at compile time, from a path
//! relative to the crate's directory. Here the crate is the one the UI tests are compiled in,
//! whose directory holds little but its `Cargo.toml`: that file stands in for a dictionary
//! (a real one is checked when the layer is built, not here).

use session_runtime::{Session, SessionSchema};

#[derive(Session)]
#[session(compression_level = 3, compression_dictionary = "Cargo.toml")]
struct Visit {
    counter: u32,
}

fn main() {
    let included = Visit::attributes()
        .compression_dictionary
        .expect("set by the attribute");
    let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert_eq!(included, &on_disk[..]);
    assert!(
        <Counterless as SessionSchema>::attributes()
            .compression_dictionary
            .is_none()
    );
}

#[derive(Session)]
struct Counterless {
    counter: u32,
}
