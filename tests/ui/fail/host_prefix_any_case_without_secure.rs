use session_runtime::Session;

// The `__Host-` rules hold whatever the letter case of the prefix.
#[derive(Session)]
#[session(cookie_name = "__HOST-id")]
struct Visit {
    counter: u32,
}

fn main() {}
