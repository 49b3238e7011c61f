use session_runtime::Session;

#[derive(Session)]
#[session(cookie_name = "my app")]
struct Visit {
    counter: u32,
}

fn main() {}
