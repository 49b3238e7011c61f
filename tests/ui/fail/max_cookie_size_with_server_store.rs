use session_runtime::Session;

#[derive(Session)]
#[session(store = "memory", max_cookie_size = 2048)]
struct Visit {
    counter: u32,
}

fn main() {}
