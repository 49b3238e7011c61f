use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "__Host-id", secure, domain = "example.com")]
struct Visit {
    counter: u32,
}

fn main() {}
