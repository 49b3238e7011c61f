use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "__Secure-id")]
struct Visit {
    counter: u32,
}

fn main() {}
