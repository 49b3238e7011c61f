use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "__Host-id", secure, path = "/app")]
struct Visit {
    counter: u32,
}

fn main() {}
