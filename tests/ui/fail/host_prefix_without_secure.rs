use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "__Host-id")]
struct Visit {
    counter: u32,
}

fn main() {}
