use session_runtime::Session;
use session_runtime::SessionSchema;

#[derive(Session)]
#[session(expires = 10)]
struct Visit {
    counter: u32,
}

fn main() {
    // The type is still usable as a session: only the attribute mistake is reported.
    let _ = Visit::layer();
    let _ = Visit::FIELDS;
    let _ = Visit::attributes();
}
